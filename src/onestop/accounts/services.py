"""Write use cases for accounts: creating users, issuing and revoking API tokens, and a
user's own contact details, confirmed by a code sent to each new address."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from onestop.accounts.models import ApiToken, ContactConfirmation, User
from onestop.accounts.roles import STAFF_ROLES, Role, scope_problem
from onestop.audit.services import record
from onestop.catalogue.models import Agency
from onestop.centres.models import Centre
from onestop.core.revisions import RevisionCache
from onestop.notifications.services import enqueue

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
    email: str = "",
    phone: str = "",
    validate: bool = True,
) -> User:
    """Create a user with a role and, for staff, the agency or centre they belong to; the
    contact an administrator gives is taken as it is (checked, not confirmed by a code)."""
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
    email, phone = email.strip(), normalise_phone(phone)
    if problems := contact_problems(email=email, phone=phone):
        raise ContactInvalid(problems)
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
        email=email,
        phone=phone,
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


class ContactThrottled(AccountError):
    """Too many codes sent to a user's new addresses lately: each costs an SMS."""


class ContactCodeWrong(AccountError):
    """A confirmation code that is wrong, expired, used up, or not waiting at all."""


CODE_MINUTES = 15       # a code is accepted for this long
CODE_ATTEMPTS = 5       # wrong codes typed before the waiting codes are void
CODES_PER_HOUR = 5      # codes sent to one user's new addresses in an hour


@dataclass(frozen=True)
class ContactChange:
    """What a change of contact did: the fields changed at once (an address removed) and
    the confirmations waiting for the code sent to each new address."""

    changed: list[str]
    pending: list[ContactConfirmation]


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


def pending_confirmations(user: User, now: dt.datetime | None = None) -> list[ContactConfirmation]:
    """The user's new addresses still waiting for their code, the newest per field."""
    waiting = (user.contact_confirmations
               .filter(confirmed_at__isnull=True, expires_at__gt=now or timezone.now(),
                       attempts__lt=CODE_ATTEMPTS)
               .order_by("-created_at"))
    newest: dict[str, ContactConfirmation] = {}
    for confirmation in waiting:
        newest.setdefault(confirmation.field, confirmation)
    return sorted(newest.values(), key=lambda c: c.field)


def request_contact_change(
    user: User, *, email: str | None = None, phone: str | None = None,
    language: str | None = None, now: dt.datetime | None = None,
) -> ContactChange:
    """Change the user's own e-mail address and mobile phone, where messages about their
    applications go (None: leave as it is; "": remove). A removal takes effect at once;
    a new address only once the user types the code sent to it (`confirm_contact`), so a
    mistyped number never receives what onestop writes about them. Raises ContactInvalid
    (every problem at once) or ContactThrottled, and changes nothing then."""
    now = now or timezone.now()
    wanted = {
        "email": user.email if email is None else email.strip(),
        "phone": user.phone if phone is None else normalise_phone(phone),
    }
    if problems := contact_problems(**wanted):
        raise ContactInvalid(problems)
    removed = [name for name, value in wanted.items() if not value and getattr(user, name)]
    new = {name: value for name, value in wanted.items()
           if value and value != getattr(user, name)}
    if new:
        sent = user.contact_confirmations.filter(created_at__gt=now - dt.timedelta(hours=1))
        if sent.count() + len(new) > CODES_PER_HOUR:
            raise ContactThrottled(_("Too many codes were sent in the last hour: try again "
                                     "later."))
    pending: list[ContactConfirmation] = []
    with transaction.atomic():
        if removed:
            _apply_contact(user, dict.fromkeys(removed, ""), confirmed=False)
        for name, address in new.items():
            # a new code for a field voids the codes sent for it before
            user.contact_confirmations.filter(field=name, confirmed_at__isnull=True).update(
                expires_at=now)
            code = f"{secrets.randbelow(1_000_000):06d}"
            pending.append(ContactConfirmation.objects.create(
                user=user, field=name, address=address,
                code_hash=_code_hash(user, name, address, code), created_at=now,
                expires_at=now + dt.timedelta(minutes=CODE_MINUTES)))
            enqueue(channel="email" if name == "email" else "sms", recipient=address,
                    template="contact_code", language=language or settings.LANGUAGE_CODE,
                    context={"code": code, "minutes": CODE_MINUTES},
                    subject_type="user", subject_id=str(user.pk))
    return ContactChange(changed=removed, pending=pending)


def confirm_contact(user: User, code: str, now: dt.datetime | None = None) -> str:
    """Take the new address whose code this is; returns its field ("email" or "phone").
    A wrong code counts against every waiting code, which are void after CODE_ATTEMPTS
    wrong ones. Raises ContactCodeWrong."""
    now = now or timezone.now()
    waiting = pending_confirmations(user, now)
    if not waiting:
        raise ContactCodeWrong(_("No code is waiting, or it has expired: save the address "
                                 "again to have a new code sent."))
    code = code.strip()
    for confirmation in waiting:
        expected = _code_hash(user, confirmation.field, confirmation.address, code)
        if constant_time_compare(confirmation.code_hash, expected):
            with transaction.atomic():
                confirmation.confirmed_at = now
                confirmation.save(update_fields=["confirmed_at"])
                _apply_contact(user, {confirmation.field: confirmation.address},
                               confirmed=True)
            return confirmation.field
    ContactConfirmation.objects.filter(pk__in=[c.pk for c in waiting]).update(
        attempts=F("attempts") + 1)
    if all(c.attempts + 1 >= CODE_ATTEMPTS for c in waiting):
        raise ContactCodeWrong(_("Too many wrong codes: save the address again to have a "
                                 "new code sent."))
    raise ContactCodeWrong(_("This code is wrong. Check the last message and type its "
                             "six digits."))


def _code_hash(user: User, field: str, address: str, code: str) -> str:
    """The code bound to the user and the address, keyed with the server's secret."""
    return salted_hmac("onestop.accounts.contact-code", f"{user.pk}:{field}:{address}:{code}",
                       algorithm="sha256").hexdigest()


def _apply_contact(user: User, values: dict[str, str], *, confirmed: bool) -> None:
    """Write the fields and record the change in the audit chain by the names of the
    fields, never their values: a contact changed by someone else is how messages meant
    for a citizen are diverted."""
    for name, value in values.items():
        setattr(user, name, value)
    user.save(update_fields=list(values))
    record(actor_username=user.username, actor_role=user.role, action="account.contact",
           subject_type="user", subject_id=str(user.pk),
           data={"changed": sorted(values), "confirmed": confirmed})
