"""Write use cases for accounts: creating users, issuing and revoking API tokens."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import re
import secrets
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onestop.accounts.models import ApiToken, User
from onestop.accounts.roles import STAFF_ROLES, Role, scope_problem
from onestop.audit.services import record
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


# A mobile number in international form: "+", the country code and the number, 8 to 15
# digits in all (ITU-T E.164). Spaces, dashes, dots and brackets people write are dropped.
PHONE = re.compile(r"\+[1-9][0-9]{7,14}")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")


class ContactInvalid(AccountError):
    """Contact details that cannot be kept; `problems` maps each field to its message."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems.items()))
        self.problems = problems


def contact_problems(*, email: str, phone: str) -> dict[str, str]:
    """What is wrong with an e-mail address and a mobile phone number (both may be empty),
    each already stripped; the phone as `normalise_phone` leaves it."""
    problems: dict[str, str] = {}
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems["email"] = _("Enter an e-mail address such as name@example.org.")
        if len(email) > User._meta.get_field("email").max_length:  # type: ignore[operator]
            problems["email"] = _("This e-mail address is too long.")
    if phone and not PHONE.fullmatch(phone):
        problems["phone"] = _("Write the number in international form: + and the "
                              "country code, then the number; 8 to 15 digits in all.")
    return problems


def normalise_phone(raw: str) -> str:
    """A phone number as onestop keeps it: what was typed, without spaces, dashes, dots
    and brackets."""
    return _PHONE_SEPARATORS.sub("", raw.strip())


@transaction.atomic
def update_contact(user: User, *, email: str | None = None, phone: str | None = None) -> list[str]:
    """Change the user's own e-mail address and mobile phone (None: leave as it is; "":
    remove), where messages about their applications go. Returns the fields changed.
    Raises ContactInvalid, every problem at once, and changes nothing then. A change is
    recorded in the audit chain by the names of the fields changed, never their values:
    a contact changed by someone else is how messages meant for a citizen are diverted."""
    wanted = {
        "email": user.email if email is None else email.strip(),
        "phone": user.phone if phone is None else normalise_phone(phone),
    }
    if problems := contact_problems(**wanted):
        raise ContactInvalid(problems)
    changed = [name for name, value in wanted.items() if getattr(user, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(user, name, wanted[name])
    user.save(update_fields=changed)
    record(actor_username=user.username, actor_role=user.role, action="account.contact",
           subject_type="user", subject_id=str(user.pk), data={"changed": changed})
    return changed
