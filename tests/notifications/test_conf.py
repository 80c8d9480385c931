"""ONESTOP_NOTIFY_* settings: parsed, checked, and every one documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from onestop.notifications import conf
from onestop.notifications.conf import NotifyConfig, notify_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_send_everything_to_the_outbox_file(tmp_path: Path) -> None:
    config = notify_settings(tmp_path, {})
    assert (config.email_channel, config.sms_channel, config.webhook_channel) == (
        "file", "file", "file"
    )
    assert config.outbox_dir == tmp_path.resolve() / "outbox"
    assert config == NotifyConfig(outbox_dir=tmp_path.resolve() / "outbox")


def test_variables_are_read(tmp_path: Path) -> None:
    config = notify_settings(tmp_path, {
        "ONESTOP_NOTIFY_EMAIL_CHANNEL": "smtp",
        "ONESTOP_NOTIFY_SMS_CHANNEL": "HTTP",
        "ONESTOP_NOTIFY_SMS_URL": "https://sms.example/send",
        "ONESTOP_NOTIFY_WEBHOOK_CHANNEL": "http",
        "ONESTOP_NOTIFY_WEBHOOK_SECRET": "s",
        "ONESTOP_NOTIFY_MAX_ATTEMPTS": "3",
        "ONESTOP_NOTIFY_SMTP_TLS": "off",
        "ONESTOP_NOTIFY_OUTBOX_DIR": str(tmp_path / "mail"),
    })
    assert (config.email_channel, config.sms_channel, config.max_attempts) == ("smtp", "http", 3)
    assert config.smtp_tls is False
    assert config.outbox_dir == (tmp_path / "mail").resolve()
    assert "webhook_secret" not in repr(config)


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({"ONESTOP_NOTIFY_EMAIL_CHANNEL": "fax"}, "EMAIL_CHANNEL must be one of file, smtp"),
        ({"ONESTOP_NOTIFY_MAX_ATTEMPTS": "many"}, "MAX_ATTEMPTS must be a number"),
        ({"ONESTOP_NOTIFY_MAX_ATTEMPTS": "0"}, "MAX_ATTEMPTS must be at least 1"),
        ({"ONESTOP_NOTIFY_SMTP_TLS": "maybe"}, "SMTP_TLS must be true or false"),
        ({"ONESTOP_NOTIFY_SMS_CHANNEL": "http"}, "needs ONESTOP_NOTIFY_SMS_URL"),
        ({"ONESTOP_NOTIFY_WEBHOOK_CHANNEL": "http"}, "needs ONESTOP_NOTIFY_WEBHOOK_SECRET"),
    ],
)
def test_bad_values_are_refused_by_name(
    tmp_path: Path, environ: dict[str, str], problem: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=re.escape(problem)):
        notify_settings(tmp_path, environ)


def test_every_notify_setting_is_documented() -> None:
    source = Path(conf.__file__).read_text()
    names = set(re.findall(r'(?:get|choice|number|flag)\("([A-Z_]+)"', source))
    assert {"EMAIL_CHANNEL", "SMS_URL", "WEBHOOK_SECRET", "FILE_PAUSE_SECONDS"} <= names
    documented = (ROOT / "docs" / "settings.md").read_text()
    assert sorted(n for n in names if f"`ONESTOP_NOTIFY_{n}`" not in documented) == []
