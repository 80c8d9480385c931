"""Settings for onestop, read from ``ONESTOP_*`` environment variables.

Every setting is documented in docs/settings.md; a test fails when one is not.
Defaults are safe for a single machine: an SQLite database in the data folder,
debug off, and a refusal to start in production with the placeholder secret key.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import cast

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from onestop.notifications.conf import notify_settings

BASE_DIR = Path(__file__).resolve().parent
PLACEHOLDER_SECRET_KEY = "onestop-placeholder-secret-key-change-me"  # noqa: S105 (the guard refuses it)


def env(name: str, default: str = "") -> str:
    return os.environ.get(f"ONESTOP_{name}", default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = env(name, "1" if default else "0").strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"ONESTOP_{name} must be true or false, not {raw!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DATA_DIR = Path(env("DATA_DIR", str(Path.cwd() / "var"))).resolve()
DEBUG = env_bool("DEBUG", default=False)


def _secret_key() -> str:
    if env("SECRET_KEY"):
        return env("SECRET_KEY")
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    return PLACEHOLDER_SECRET_KEY


SECRET_KEY = _secret_key()
if not DEBUG and SECRET_KEY == PLACEHOLDER_SECRET_KEY:
    raise ImproperlyConfigured(
        "Refusing to run with the placeholder secret key while debug is off: set "
        "ONESTOP_SECRET_KEY, or write a random key to "
        f"{DATA_DIR / 'secret_key'} (`make run` does this for you)."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "onestop.core",
    "onestop.accounts",
    "onestop.catalogue",
    "onestop.centres",
    "onestop.audit",
    "onestop.notifications",
    "onestop.applications",
    "onestop.feedback",
    "onestop.control",
    "onestop.quality",
    "onestop.integrity",
    "onestop.public",
    "onestop.opendata",
    "onestop.open311",
    "onestop.govstack",
    "onestop.interop",
    "onestop.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "onestop.core.revisions.ReadOnce",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "onestop.core.middleware.MachineInterfacesInEnglish",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

# The GovStack Registration façade served alone at the root, behind an information
# mediator's security server that authenticates member systems (`onestop serve --govstack`).
ONESTOP_GOVSTACK_GATEWAY = env_bool("GOVSTACK_GATEWAY", default=False)
ROOT_URLCONF = "onestop.govstack.urls" if ONESTOP_GOVSTACK_GATEWAY else "onestop.urls"
WSGI_APPLICATION = "onestop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "onestop.core.context.onestop",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    url = env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'onestop.sqlite3'}")
    try:
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
    except ValueError as exc:
        raise ImproperlyConfigured(f"ONESTOP_DATABASE_URL is not a database URL: {exc}") from exc
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers work while one writer commits; IMMEDIATE takes the write lock
        # at BEGIN so two writers queue on the busy timeout instead of failing mid-way.
        # Django's SQLite backend already turns foreign keys on for every connection.
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    if config["ENGINE"] == "django.db.backends.postgresql":
        # Parameters travel apart from the statement (psycopg quotes nothing in Python),
        # and a statement a connection has run a few times is prepared once and then only
        # executed: PostgreSQL skips parsing and planning it again. A transaction-mode
        # pooler older than PgBouncer 1.21 cannot keep prepared statements: turn them off.
        config["OPTIONS"] = {
            **cast("dict[str, object]", config.get("OPTIONS") or {}),
            "server_side_binding": True,
            "prepare_threshold": 5 if env_bool("DATABASE_PREPARED_STATEMENTS", True) else None,
        }
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "catalogue:home"
LOGOUT_REDIRECT_URL = "catalogue:home"

# Failed logins: after AXES_FAILURE_LIMIT failures for one username from one address,
# further attempts are refused for AXES_COOLOFF_TIME hours.
AXES_FAILURE_LIMIT = int(env("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(env("LOGIN_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "onestop.accounts.lockout.lockout_response"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = env("LANGUAGE", "ru")
LANGUAGES = [
    ("kk", _("Kazakh")),
    ("ru", _("Russian")),
    ("uz", _("Uzbek")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"

# Open data (docs/opendata.md): where `onestop opendata build` writes and /open-data/ serves
# from, and the licence of every file (an SPDX id; the URL only for one onestop does not know).
OPENDATA_DIR = Path(env("OPENDATA_DIR", str(DATA_DIR / "opendata"))).resolve()
OPENDATA_LICENCE = env("OPENDATA_LICENCE", "CC-BY-4.0")
OPENDATA_LICENCE_URL = env("OPENDATA_LICENCE_URL", "")

# The country whose pack the pages show by default when several are loaded.
ONESTOP_COUNTRY = env("COUNTRY", "kz")
ONESTOP_API_TOKEN_DAYS = int(env("API_TOKEN_DAYS", "30"))

# The site's public address (scheme and host, no path), for links in messages to citizens
# and staff: "https://onestop.example.gov". Unset, messages carry the links' paths only.
ONESTOP_SITE_URL = env("SITE_URL", "").rstrip("/")
if ONESTOP_SITE_URL and (
    not re.fullmatch(r"https?://[^/?#\s]+", ONESTOP_SITE_URL)
):
    raise ImproperlyConfigured(
        "ONESTOP_SITE_URL must be the site's address, such as https://onestop.example.gov "
        "(scheme and host, no path)"
    )
# Notifications: channels, retries and the outbox folder (ONESTOP_NOTIFY_*, docs/settings.md).
ONESTOP_NOTIFY = notify_settings(DATA_DIR)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # axes logs usernames and addresses at INFO and WARNING: keep them out of the log.
    "loggers": {"axes": {"level": "ERROR"}},
}

# Uploaded documents: the largest file accepted, in bytes.
ONESTOP_MAX_UPLOAD_BYTES = int(env("MAX_UPLOAD_BYTES", str(10 * 1_000_000)))
DATA_UPLOAD_MAX_MEMORY_SIZE = ONESTOP_MAX_UPLOAD_BYTES * 2
# Control of violations: an open application that has used this share of its time
# raises a "deadline near" alert (docs/control.md).
try:
    ONESTOP_DEADLINE_ALERT_SHARE = float(env("DEADLINE_ALERT_SHARE", "0.8"))
except ValueError:
    ONESTOP_DEADLINE_ALERT_SHARE = -1.0
if not 0 < ONESTOP_DEADLINE_ALERT_SHARE < 1:
    raise ImproperlyConfigured(
        "ONESTOP_DEADLINE_ALERT_SHARE must be a number between 0 and 1 (e.g. 0.8)"
    )
# Where fees are charged: a dotted path to a class with charge() and refund().
ONESTOP_PAYMENT_PROVIDER = env(
    "PAYMENT_PROVIDER", "onestop.applications.payments.SimulatedProvider"
)
