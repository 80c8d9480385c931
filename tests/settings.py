"""Settings for the test suite: onestop's own settings with a fixed test key.

The database comes from ONESTOP_DATABASE_URL as in production (CI runs the suite once on
SQLite and once on PostgreSQL); by default an SQLite database under a temporary folder.
"""

import os
import tempfile

os.environ.setdefault("ONESTOP_SECRET_KEY", "tests-only-secret-key-not-for-production")
os.environ.setdefault("ONESTOP_DATA_DIR", os.path.join(tempfile.gettempdir(), "onestop-tests"))

from onestop.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast hashing in tests
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
# Serve static files straight from the apps in tests: no collectstatic step.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
