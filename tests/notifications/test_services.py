"""Queueing: a message exists if and only if the change it announces committed."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.db import transaction

from onestop.accounts.models import User
from onestop.notifications.models import Message, Status
from onestop.notifications.services import NotificationError, enqueue_for_user
from tests.notifications.conftest import CONTEXT


class Rollback(Exception):
    pass


def queue_then_roll_back(queue: Callable[..., Message], **fields: str) -> None:
    with transaction.atomic():
        queue(**fields)
        raise Rollback


def test_enqueue_inserts_a_queued_message_with_a_fresh_key(
    queue: Callable[..., Message],
) -> None:
    first, second = queue(), queue()
    assert first.status == Status.QUEUED
    assert first.attempts == 0
    assert first.idempotency_key != second.idempotency_key
    stored = Message.objects.get(pk=first.pk)
    assert stored.context == CONTEXT
    assert (stored.subject_type, stored.subject_id) == ("application", "KZ-2026-000123")


def test_enqueue_in_a_rolled_back_transaction_leaves_no_message(
    queue: Callable[..., Message],
) -> None:
    with pytest.raises(Rollback):
        queue_then_roll_back(queue)
    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_enqueue_commits_and_rolls_back_with_the_callers_transaction(
    queue: Callable[..., Message],
) -> None:
    with transaction.atomic():
        kept = queue()
    with pytest.raises(Rollback):
        queue_then_roll_back(queue, subject_id="KZ-2026-000124")
    assert list(Message.objects.values_list("pk", flat=True)) == [kept.pk]


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"channel": "pigeon"}, "unknown channel 'pigeon'"),
        ({"recipient": "  "}, "needs a recipient"),
        ({"channel": "webhook", "recipient": "ftp://agency.example"}, "http(s) URL"),
        ({"template": "no_such_template"}, "unknown template"),
        ({"template": "../settings"}, "unknown template"),
        ({"language": "Russian!"}, "not a language code"),
        ({"context": {"when": object()}}, "is not JSON"),
    ],
)
def test_enqueue_refuses_what_cannot_be_sent(
    queue: Callable[..., Message], overrides: dict[str, object], problem: str
) -> None:
    with pytest.raises(NotificationError, match=re.escape(problem)) as error:
        queue(**overrides)
    assert "example.kz" not in str(error.value)
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("email", "phone", "expected"),
    [
        ("aigerim@example.kz", "+77010000000", ("email", "aigerim@example.kz")),
        ("", "+77010000000", ("sms", "+77010000000")),
        ("", "", None),
    ],
)
def test_enqueue_for_user_picks_the_channel_the_user_has(
    make_user: Callable[..., User], email: str, phone: str, expected: tuple[str, str] | None
) -> None:
    user = make_user("citizen")
    user.email = email
    user.phone = phone  # type: ignore[attr-defined]  # accounts may add a phone field later
    message = enqueue_for_user(
        user=user,
        template="result_issued",
        language="kk",
        context=CONTEXT,
        subject_type="application",
        subject_id="KZ-2026-000123",
    )
    if expected is None:
        assert message is None
        assert not Message.objects.exists()
    else:
        assert message is not None
        assert (message.channel, message.recipient) == expected
