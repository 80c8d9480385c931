"""Bearer tokens: issued for a password, stored hashed, revocable, throttled on failure."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from onestop.accounts.models import ApiToken, User

pytestmark = pytest.mark.django_db


def _token(client: Client, username: str, password: str) -> object:
    return client.post(
        "/api/v1/auth/token", {"username": username, "password": password},
        content_type="application/json", REMOTE_ADDR="10.1.2.3",
    )


def test_token_is_issued_stored_hashed_and_works(
    make_user: Callable[..., User], client: Client
) -> None:
    user = make_user("citizen")
    response = _token(client, user.username, "a long test password")
    assert response.status_code == 201
    key = response.json()["token"]
    stored = ApiToken.objects.get(user=user)
    assert key not in (stored.key_hash, stored.prefix)
    assert key.startswith(stored.prefix)
    me = client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert me.json() == {"username": user.username, "role": "citizen", "agency": None,
                         "centre": None, "country": None, "email": "", "phone": "",
                         "pending": []}


def test_revoked_token_stops_working(make_user: Callable[..., User], client: Client) -> None:
    user = make_user("analyst")
    key = _token(client, user.username, "a long test password").json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert client.delete("/api/v1/auth/token", **auth).status_code == 204
    answer = client.get("/api/v1/auth/me", **auth)
    assert answer.status_code == 401
    assert answer.json() == {"detail": "a valid bearer token is required"}


def test_wrong_password_and_lockout(make_user: Callable[..., User], client: Client,
                                    settings) -> None:  # type: ignore[no-untyped-def]
    user = make_user("analyst")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        wrong = _token(client, user.username, "wrong")
        assert wrong.status_code == 401
        assert wrong.json() == {"detail": "wrong username or password"}
    locked = _token(client, user.username, "wrong")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.json()["detail"]
    # even the right password is refused while locked out
    assert _token(client, user.username, "a long test password").status_code == 429


@pytest.mark.parametrize(
    "body", [{}, {"username": "x"}, {"username": "", "password": "p"}, "[]"],
)
def test_malformed_token_requests_get_422(client: Client, body: object) -> None:
    response = client.post("/api/v1/auth/token", body, content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.json()["detail"]


def test_garbage_bearer_is_401(client: Client) -> None:
    assert client.get("/api/v1/auth/me", HTTP_AUTHORIZATION="Bearer nonsense").status_code == 401
    assert client.get("/api/v1/auth/me").status_code == 401
