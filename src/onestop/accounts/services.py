"""Write use cases for accounts: creating users, issuing and revoking API tokens."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import secrets
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from onestop.accounts.models import ApiToken, User
from onestop.accounts.roles import STAFF_ROLES, Role, scope_problem
from onestop.catalogue.models import Agency
from onestop.centres.models import Centre
from onestop.core.revisions import RevisionCache

T = TypeVar("T")
TOKEN_PREFIX = "ost_"  # noqa: S105 (marks onestop tokens, e.g. for secret scanners)


class AccountError(Exception):
    """A request about accounts that cannot be carried out; the message says why."""


def _one(queryset_name: str, matches: list[T], code: str) -> T:
    if not matches:
        raise AccountError(f"no {queryset_name} with code {code!r}")
    if len(matches) > 1:
        raise AccountError(
            f"{len(matches)} {queryset_name} have code {code!r}: give --country as well"
        )
    return matches[0]


@transaction.atomic
def create_user(
    *,
    username: str,
    password: str,
    role: str,
    agency_code: str | None = None,
    centre_code: str | None = None,
    country_code: str | None = None,
    national_id: str = "",
    validate: bool = True,
) -> User:
    """Create a user with a role and, for staff, the agency or centre they belong to."""
    try:
        role_value = Role(role)
    except ValueError:
        raise AccountError(
            f"unknown role {role!r}; roles: {', '.join(r.value for r in Role)}"
        ) from None
    if problem := scope_problem(
        role_value, has_agency=bool(agency_code), has_centre=bool(centre_code)
    ):
        raise AccountError(problem)
    if not username.strip():
        raise AccountError("the username may not be empty")
    if User.objects.filter(username=username).exists():
        raise AccountError(f"a user {username!r} already exists")
    agency: Agency | None = None
    centre: Centre | None = None
    if agency_code:
        agencies = Agency.objects.filter(code=agency_code)
        if country_code:
            agencies = agencies.filter(country__code=country_code)
        agency = _one("agency", list(agencies), agency_code)
    if centre_code:
        centres = Centre.objects.filter(code=centre_code)
        if country_code:
            centres = centres.filter(country__code=country_code)
        centre = _one("centre", list(centres), centre_code)
    user = User(
        username=username,
        role=role_value.value,
        agency=agency,
        centre=centre,
        national_id=national_id,
        # Staff may open the admin: they read the register there; what they may change
        # is decided per role and agency by the admin classes.
        is_staff=role_value in STAFF_ROLES,
        is_superuser=role_value == Role.ADMIN,
    )
    if validate:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise AccountError("password rejected: " + " ".join(exc.messages)) from exc
    user.set_password(password)
    user.save()
    return user


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_token(*, user: User, name: str = "api") -> tuple[ApiToken, str]:
    """A new bearer token for `user`. The key is returned once; only its hash is stored."""
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[: len(TOKEN_PREFIX) + 8],
        key_hash=hash_token(key),
        expires_at=timezone.now() + dt.timedelta(days=settings.ONESTOP_API_TOKEN_DAYS),
    )
    return token, key


# Tokens read per process, kept until a user or a token changes (onestop.core.revisions):
# a revoked token, a deactivated user or a changed role is seen by every process at its
# next request.
_tokens: RevisionCache[str, ApiToken] = RevisionCache("accounts", max_entries=10_000)


def authenticate_token(key: str) -> User | None:
    """The active user holding this token key, or None."""
    if not key.startswith(TOKEN_PREFIX):
        return None
    key_hash = hash_token(key)
    token = _tokens.get(key_hash, lambda: (
        ApiToken.objects.select_related("user")
        .filter(key_hash=key_hash, revoked_at__isnull=True).order_by().first()
    ))
    now = timezone.now()
    if token is None or token.expires_at <= now or not token.user.is_active:
        return None
    # Touch last_used_at at most once a minute: a hot token should not write on every call.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    # A copy: what a request sets on its user stays with that request.
    return copy.copy(token.user)


def revoke_token(*, user: User, key: str | None = None, token_id: int | None = None) -> int:
    """Revoke one of the user's tokens (by key or id), or all of them; returns how many."""
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    if key is not None:
        tokens = tokens.filter(key_hash=hash_token(key))
    if token_id is not None:
        tokens = tokens.filter(pk=token_id)
    return tokens.update(revoked_at=timezone.now())
