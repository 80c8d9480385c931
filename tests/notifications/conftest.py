"""Fixtures of the notification tests: a configuration with the outbox in a temporary
folder, and a helper that queues a message."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from onestop.notifications.conf import NotifyConfig
from onestop.notifications.models import Message
from onestop.notifications.services import enqueue

CONTEXT = {
    "number": "KZ-2026-000123",
    "service": "Регистрация рождения ребенка",
    "agency": "ЗАГС г. Астаны",
    "deadline": "15.03.2026",
    "status_url": "https://onestop.example/status/KZ-2026-000123",
}


@pytest.fixture
def config(tmp_path: Path, settings: Any) -> NotifyConfig:
    """The defaults, with the outbox under tmp_path; installed as the site's settings."""
    notify = dataclasses.replace(
        NotifyConfig(), outbox_dir=tmp_path / "outbox", max_attempts=4, webhook_secret="s3cret"
    )
    settings.ONESTOP_NOTIFY = notify
    return notify


@pytest.fixture
def queue(db: None) -> Callable[..., Message]:
    def make(**overrides: Any) -> Message:
        fields: dict[str, Any] = {
            "channel": "email",
            "recipient": "aigerim@example.kz",
            "template": "application_submitted",
            "language": "ru",
            "context": CONTEXT,
            "subject_type": "application",
            "subject_id": "KZ-2026-000123",
        }
        fields.update(overrides)
        return enqueue(**fields)

    return make
