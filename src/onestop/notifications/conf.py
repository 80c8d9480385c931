"""Notification settings, read from ``ONESTOP_NOTIFY_*`` environment variables.

settings.py calls `notify_settings(DATA_DIR)` once and keeps the result as
``ONESTOP_NOTIFY``; the rest of the app reads it through `current()`. Every variable is
documented in docs/settings.md (a test fails when one is not). Defaults send everything
to the file channel, so a demo works offline.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

# Which adapter delivers each kind of message: the file channel, or the real one.
EMAIL_ADAPTERS = ("file", "smtp")
SMS_ADAPTERS = ("file", "http")
WEBHOOK_ADAPTERS = ("file", "http")


@dataclass(frozen=True)
class NotifyConfig:
    email_channel: str = "file"
    sms_channel: str = "file"
    webhook_channel: str = "file"
    outbox_dir: Path = Path("var/outbox")
    max_attempts: int = 8
    backoff_seconds: float = 30.0
    backoff_cap_seconds: float = 3600.0
    lease_seconds: float = 300.0
    timeout_seconds: float = 10.0
    email_from: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    # Secrets stay out of repr(), which Django's debug page and logs may show.
    smtp_password: str = field(default="", repr=False)
    smtp_tls: bool = True
    sms_url: str = ""
    sms_token: str = field(default="", repr=False)
    webhook_secret: str = field(default="", repr=False)
    file_pause_seconds: float = 0.0


def notify_settings(data_dir: Path, environ: Mapping[str, str] = os.environ) -> NotifyConfig:
    """The notification settings from `environ`; ImproperlyConfigured names a bad one."""

    def get(name: str, default: str = "") -> str:
        return environ.get(f"ONESTOP_NOTIFY_{name}", default).strip()

    def choice(name: str, allowed: tuple[str, ...]) -> str:
        value = get(name, "file").lower()
        if value not in allowed:
            raise ImproperlyConfigured(
                f"ONESTOP_NOTIFY_{name} must be one of {', '.join(allowed)}, not {value!r}"
            )
        return value

    def number(name: str, default: str, minimum: float = 0) -> float:
        raw = get(name, default)
        try:
            value = float(raw)
        except ValueError:
            raise ImproperlyConfigured(
                f"ONESTOP_NOTIFY_{name} must be a number, not {raw!r}"
            ) from None
        if value < minimum:
            raise ImproperlyConfigured(f"ONESTOP_NOTIFY_{name} must be at least {minimum:g}")
        return value

    def flag(name: str, default: str) -> bool:
        raw = get(name, default).lower()
        if raw in {"1", "true", "yes", "on"}:
            return True
        if raw in {"0", "false", "no", "off"}:
            return False
        raise ImproperlyConfigured(f"ONESTOP_NOTIFY_{name} must be true or false, not {raw!r}")

    config = NotifyConfig(
        email_channel=choice("EMAIL_CHANNEL", EMAIL_ADAPTERS),
        sms_channel=choice("SMS_CHANNEL", SMS_ADAPTERS),
        webhook_channel=choice("WEBHOOK_CHANNEL", WEBHOOK_ADAPTERS),
        outbox_dir=Path(get("OUTBOX_DIR") or data_dir / "outbox").resolve(),
        max_attempts=int(number("MAX_ATTEMPTS", "8", minimum=1)),
        backoff_seconds=number("BACKOFF_SECONDS", "30"),
        backoff_cap_seconds=number("BACKOFF_CAP_SECONDS", "3600"),
        lease_seconds=number("LEASE_SECONDS", "300"),
        timeout_seconds=number("TIMEOUT_SECONDS", "10", minimum=0.1),
        email_from=get("EMAIL_FROM"),
        smtp_host=get("SMTP_HOST"),
        smtp_port=int(number("SMTP_PORT", "587", minimum=1)),
        smtp_user=get("SMTP_USER"),
        smtp_password=get("SMTP_PASSWORD"),
        smtp_tls=flag("SMTP_TLS", "true"),
        sms_url=get("SMS_URL"),
        sms_token=get("SMS_TOKEN"),
        webhook_secret=get("WEBHOOK_SECRET"),
        file_pause_seconds=number("FILE_PAUSE_SECONDS", "0"),
    )
    if config.sms_channel == "http" and not is_http_url(config.sms_url):
        raise ImproperlyConfigured(
            "ONESTOP_NOTIFY_SMS_CHANNEL=http needs ONESTOP_NOTIFY_SMS_URL, an http(s) URL "
            "of the SMS gateway"
        )
    if config.webhook_channel == "http" and not config.webhook_secret:
        # An unsigned webhook would let anyone who learns an agency's URL forge messages.
        raise ImproperlyConfigured(
            "ONESTOP_NOTIFY_WEBHOOK_CHANNEL=http needs ONESTOP_NOTIFY_WEBHOOK_SECRET to sign "
            "the requests"
        )
    return config


def current() -> NotifyConfig:
    """The configuration in force (settings.ONESTOP_NOTIFY)."""
    from django.conf import settings

    config: NotifyConfig = settings.ONESTOP_NOTIFY
    return config


def is_http_url(url: str) -> bool:
    """True for an absolute http(s) URL: the only kind the HTTP channels will call."""
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)
