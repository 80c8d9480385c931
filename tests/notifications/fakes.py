"""Fakes for the notification adapters: one per adapter, speaking the same protocol."""

from __future__ import annotations

import datetime as dt
import smtplib
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend

from onestop.notifications.channels import ChannelError, PermanentChannelError
from onestop.notifications.models import Message
from onestop.notifications.rendering import Rendered


class FakeChannel:
    """Records what it delivers; told to, fails the next `fail_times` sends temporarily,
    or every send permanently."""

    def __init__(self, *, fail_times: int = 0, permanent: bool = False) -> None:
        self.fail_times = fail_times
        self.permanent = permanent
        self.sent: list[tuple[str, Rendered]] = []
        self.attempts = 0

    def send(self, message: Message, rendered: Rendered) -> None:
        self.attempts += 1
        if self.permanent:
            raise PermanentChannelError("the fake refuses this recipient")
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ChannelError("the fake is down")
        self.sent.append((str(message.idempotency_key), rendered))


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


class RefusingEmailBackend(BaseEmailBackend):
    """A mail server that refuses with the SMTP error named by `refusal`."""

    refusal: Exception = smtplib.SMTPRecipientsRefused({"x@example.org": (550, b"no such user")})

    def send_messages(self, email_messages: Any) -> int:
        raise self.refusal
