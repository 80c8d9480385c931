"""The outbox in the admin: read-only, for admins, recipients masked."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from onestop.accounts.models import User
from onestop.notifications.admin import mask
from onestop.notifications.models import Message


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
