"""The outbox in the admin: read-only, for admins, recipients masked."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from onestop.accounts.models import User
from onestop.audit.models import AuditEntry
from onestop.notifications.admin import mask
from onestop.notifications.models import Message, Status


def signed_in(user: User) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def test_admins_read_the_outbox_with_status_and_no_recipients(
    queue: Callable[..., Message], make_user: Callable[..., User]
) -> None:
    message = queue(recipient="aigerim.sultanova@example.kz")
    admin = signed_in(make_user("admin"))
    listing = admin.get("/admin/notifications/message/")
    assert listing.status_code == 200
    assert b"KZ-2026-000123" in listing.content
    assert b"queued" in listing.content
    assert b"aigerim" not in listing.content
    detail = admin.get(f"/admin/notifications/message/{message.pk}/change/")
    assert detail.status_code == 200
    assert b"a***@example.kz" in detail.content
    assert b"aigerim" not in detail.content
    assert b'name="_save"' not in detail.content
    assert admin.post(f"/admin/notifications/message/{message.pk}/delete/").status_code == 403
    assert admin.get("/admin/notifications/message/add/").status_code == 403


@pytest.mark.parametrize("role", ["officer", "supervisor", "controller"])
def test_other_staff_do_not_see_the_outbox(
    db: None, make_user: Callable[..., User], mini_country: object, role: str
) -> None:
    scope = {"agency_code": "MJ", "country_code": "zz"} if role in {"officer", "supervisor"} else {}
    client = signed_in(make_user(role, **scope))
    assert client.get("/admin/notifications/message/").status_code == 403


@pytest.mark.parametrize(
    ("recipient", "masked"),
    [
        ("aigerim@example.kz", "a***@example.kz"),
        ("+77011234567", "+7***67"),
        ("https://agency.example.kz/hooks/onestop?token=x", "agency.example.kz"),
        ("12345", "***"),
    ],
)
def test_mask(recipient: str, masked: str) -> None:
    assert mask(recipient) == masked


def test_admins_queue_dead_messages_again_from_the_list(
    queue: Callable[..., Message], make_user: Callable[..., User]
) -> None:
    gone, waiting = queue(), queue()
    Message.objects.filter(pk=gone.pk).update(status=Status.DEAD, attempts=8,
                                              last_error="SMTP 421")
    user = make_user("admin")
    admin = signed_in(user)
    listing = admin.get("/admin/notifications/message/")
    assert b"Queue the selected dead messages again" in listing.content
    answer = admin.post("/admin/notifications/message/", {
        "action": "queue_again", "_selected_action": [gone.pk, waiting.pk],
    }, follow=True)
    assert answer.status_code == 200
    assert b"1 dead message queued again." in answer.content
    assert b"1 left: only dead messages are queued again." in answer.content
    stored = Message.objects.get(pk=gone.pk)
    assert (stored.status, stored.attempts) == (Status.QUEUED, 0)
    assert stored.idempotency_key == gone.idempotency_key
    entry = AuditEntry.objects.get(action="outbox.retry")
    assert (entry.actor_username, entry.data["ids"]) == (user.username, [gone.pk])
