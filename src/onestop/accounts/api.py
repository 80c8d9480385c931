"""API: bearer tokens and the signed-in user."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import HttpBearer

from onestop.accounts import services
from onestop.accounts.models import User
from onestop.accounts.roles import STAFF_ROLES
from onestop.core.api_errors import ErrorOut

router = Router(tags=["auth"])


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` with a token from POST /api/v1/auth/token."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = services.authenticate_token(token)
        if user is not None:
            request.user = user
        return user


class StaffBearerToken(BearerToken):
    """A bearer token of a staff member; citizens' tokens are refused."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = super().authenticate(request, token)
        if user is None:
            return None
        if user.role not in STAFF_ROLES:
            raise HttpError(403, "this endpoint is for staff; a citizen's token cannot use it")
        return user


bearer = BearerToken()
staff_bearer = StaffBearerToken()


class TokenIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field(default="api", min_length=1, max_length=100)


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"  # noqa: S105 (the scheme name, not a secret)
    expires_at: dt.datetime


class PendingOut(Schema):
    field: str = Field(description="email or phone")
    address: str
    expires_at: dt.datetime


class MeOut(Schema):
    username: str
    role: str
    agency: str | None
    centre: str | None
    country: str | None
    email: str = Field(description="where messages go first ('' when none)")
    phone: str = Field(description="mobile phone for SMS, without an e-mail ('' when none)")
    pending: list[PendingOut] = Field(
        description="new addresses waiting for the code sent to each")


class ContactIn(Schema):
    email: str | None = Field(default=None, max_length=254,
                              description="a new e-mail address; '' removes it")
    phone: str | None = Field(default=None, max_length=40,
                              description="a new mobile phone in international form, "
                                          "e.g. +77011234567; '' removes it")
    language: str | None = Field(default=None, pattern="^(kk|ru|uz|en)$",
                                 description="the language of the message carrying the "
                                             "code (default: the site's)")


class CodeIn(Schema):
    code: str = Field(min_length=1, max_length=12, description="the six digits sent")


@router.post(
    "/token",
    response={
        201: TokenOut, 400: ErrorOut, 401: ErrorOut, 415: ErrorOut, 422: ErrorOut, 429: ErrorOut
    },
    summary="Issue a bearer token",
)
def issue_token(request: HttpRequest, payload: TokenIn) -> Status[object]:
    """Exchange a username and password for a bearer token. Repeated failures for one
    username from one address are locked out for a while (429)."""
    if request.content_type != "application/json":
        # The failed-login tracker reads the form body; only JSON is accepted here.
        return Status(415, {"detail": "send the credentials as application/json"})
    user = authenticate(request, username=payload.username, password=payload.password)
    if getattr(request, "axes_locked_out", False):
        # AxesMiddleware turns this into the 429 lockout answer.
        return Status(429, {"detail": "too many failed sign-in attempts"})
    if user is None or not user.is_active:
        return Status(401, {"detail": "wrong username or password"})
    token, key = services.issue_token(user=user, name=payload.name)
    return Status(201, {"token": key, "expires_at": token.expires_at})


@router.delete(
    "/token", auth=bearer, response={204: None, 401: ErrorOut}, summary="Revoke this token"
)
def revoke_token(request: HttpRequest) -> Status[None]:
    """Revoke the token this request presents."""
    header = request.headers.get("Authorization", "")
    user: User = request.auth  # type: ignore[attr-defined]
    services.revoke_token(user=user, key=header.partition(" ")[2].strip())
    return Status(204, None)


@router.get("/me", auth=bearer, response={200: MeOut, 401: ErrorOut}, summary="Who am I")
def me(request: HttpRequest) -> MeOut:
    user: User = request.auth  # type: ignore[attr-defined]
    return _me(user)


@router.patch("/me", auth=bearer,
              response={200: MeOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
              summary="Change my contact details")
def change_contact(request: HttpRequest, payload: ContactIn) -> MeOut:
    """The e-mail address and mobile phone where messages about the user's applications
    (or, for staff, their alerts) go: e-mail first, else SMS. A field left out stays as
    it is, "" removes it at once; a new address is used once its code, sent to it, is
    given to POST /auth/me/confirm (`pending`). Every problem is named at once (422) and
    nothing is changed then; too many codes in an hour: 429."""
    user: User = request.auth  # type: ignore[attr-defined]
    try:
        services.request_contact_change(user, email=payload.email, phone=payload.phone,
                                        language=payload.language or settings.LANGUAGE_CODE)
    except services.ContactInvalid as exc:
        raise HttpError(422, str(exc)) from exc
    except services.ContactThrottled as exc:
        raise HttpError(429, str(exc)) from exc
    return _me(user)


@router.post("/me/confirm", auth=bearer, response={200: MeOut, 401: ErrorOut, 422: ErrorOut},
             summary="Confirm a new address with its code")
def confirm_contact(request: HttpRequest, payload: CodeIn) -> MeOut:
    """The code sent to a new e-mail address or phone: the address becomes the user's. A
    wrong, expired or used-up code is a 422 saying which."""
    user: User = request.auth  # type: ignore[attr-defined]
    try:
        services.confirm_contact(user, payload.code)
    except services.ContactCodeWrong as exc:
        raise HttpError(422, str(exc)) from exc
    return _me(user)


def _me(user: User) -> MeOut:
    country = user.agency.country.code if user.agency else (
        user.centre.country.code if user.centre else None
    )
    return MeOut(
        username=user.username,
        role=user.role,
        agency=user.agency.code if user.agency else None,
        centre=user.centre.code if user.centre else None,
        country=country,
        email=user.email,
        phone=user.phone,
        pending=[PendingOut(field=c.field, address=c.address, expires_at=c.expires_at)
                 for c in services.pending_confirmations(user)],
    )
