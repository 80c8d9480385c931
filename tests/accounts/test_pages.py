"""Sign-in, sign-out and password change pages, and the lock-out after failures."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from onestop.accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "a long test password"


def test_sign_in_and_out(make_user: Callable[..., User], client: Client) -> None:
    user = make_user("analyst")
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert b'<label for="id_username">' in page.content
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    home = client.get("/")
    assert f"Sign out ({user.username})".encode() in home.content
    assert client.post("/accounts/logout/").status_code == 302
    assert b"Sign in" in client.get("/").content


def test_wrong_password_then_lockout_page(
    make_user: Callable[..., User], client: Client, settings  # type: ignore[no-untyped-def]
) -> None:
    user = make_user("citizen")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        wrong = client.post("/accounts/login/", {"username": user.username, "password": "x"})
        assert wrong.status_code == 200
        assert b"errorlist" in wrong.content
    locked = client.post("/accounts/login/", {"username": user.username, "password": "x"})
    assert locked.status_code == 429
    assert b"Too many failed sign-in attempts" in locked.content
    right = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert right.status_code == 429


def test_password_change(make_user: Callable[..., User], client: Client) -> None:
    user = make_user("citizen")
    client.force_login(user)
    mismatch = client.post("/accounts/password/", {
        "old_password": PASSWORD, "new_password1": "new secret words 2026",
        "new_password2": "different",
    })
    assert mismatch.status_code == 200
    assert b"errorlist" in mismatch.content
    done = client.post("/accounts/password/", {
        "old_password": PASSWORD, "new_password1": "new secret words 2026",
        "new_password2": "new secret words 2026",
    })
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("new secret words 2026")


def test_password_change_needs_sign_in(client: Client) -> None:
    response = client.get("/accounts/password/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
