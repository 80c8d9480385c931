"""Write use cases of Open311: API keys (create, revoke, check) and filing a service
request, which becomes a onestop application (`applications.services.submit`) or a
complaint (`feedback.services.file_complaint`) in the same transaction as its Open311
record.

Who the request is from: the `applicant_national_id` attribute. An application always
carries it (as one filed at a counter does) and is linked to the citizen account that
holds it, when there is one, so the citizen sees it in their cabinet. A complaint is
filed from that account; without one it is anonymous, which the pack may refuse (as
the portal does). The key holder vouches for the person's identity, as an operator at
a counter does: keys are issued to trusted clients only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onestop.accounts.models import User
from onestop.accounts.roles import Role
from onestop.applications import services as applications
from onestop.applications.errors import (
    ApplicationError,
    Conflict,
    NotFound,
    SubmissionInvalid,
)
from onestop.applications.models import Application, Channel
from onestop.catalogue.models import Agency, Country
from onestop.centres.models import Centre
from onestop.feedback import errors as feedback_errors
from onestop.feedback import services as feedback
from onestop.feedback.models import Complaint
from onestop.open311 import eform, selectors
from onestop.open311.errors import Open311Error, bad_request, forbidden
from onestop.open311.models import ApiKey, ServiceRequest

KEY_PREFIX = "osk_"  # marks onestop keys, e.g. for secret scanners
ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
LAST_USED_EVERY = dt.timedelta(minutes=1)
MAX_NAME = 200
MAX_PHONE = 32
MAX_DESCRIPTION = feedback.MAX_TEXT


class ApiKeyError(Exception):
    """A request about API keys that cannot be carried out; the message says why."""


# --- API keys --------------------------------------------------------------------------


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(*, name: str, now: dt.datetime | None = None) -> tuple[ApiKey, str]:
    """A new key named `name`. The key is returned once; only its hash is stored."""
    name = name.strip()
    if not name:
        raise ApiKeyError("the name may not be empty")
    if len(name) > 100:
        raise ApiKeyError("the name is at most 100 characters")
    if name.isdigit():
        raise ApiKeyError("the name may not be a number (numbers name keys by id)")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            api_key = ApiKey.objects.create(
                name=name, prefix=key[: len(KEY_PREFIX) + 8], key_hash=hash_key(key),
                created_at=now or timezone.now(),
            )
    except IntegrityError:
        raise ApiKeyError(f"an API key named {name!r} exists already") from None
    return api_key, key


def revoke_api_key(name_or_id: str, now: dt.datetime | None = None) -> ApiKey:
    """Revoke a key by its name or id; revoking a revoked key changes nothing."""
    name_or_id = name_or_id.strip()
    found = ApiKey.objects.filter(name=name_or_id).first()
    if found is None and name_or_id.isdigit():
        found = ApiKey.objects.filter(pk=int(name_or_id)).first()
    if found is None:
        raise ApiKeyError(f"no API key named {name_or_id!r}")
    if found.revoked_at is None:
        found.revoked_at = now or timezone.now()
        found.save(update_fields=["revoked_at"])
    return found


def check_api_key(key: str | None, now: dt.datetime | None = None) -> ApiKey:
    """The active key presented, or a 403: missing, unknown and revoked keys alike."""
    if not key:
        raise forbidden(_("api_key: required to create a request"))
    found = ApiKey.objects.filter(key_hash=hash_key(key.strip())).first()
    if found is None:
        raise forbidden(_("api_key: not a valid key"))
    if found.revoked_at is not None:
        raise forbidden(_("api_key: this key has been revoked"))
    now = now or timezone.now()
    # at most one write a minute for a busy key
    if found.last_used_at is None or now - found.last_used_at > LAST_USED_EVERY:
        ApiKey.objects.filter(pk=found.pk).update(last_used_at=now)
        found.last_used_at = now
    return found


# --- requests --------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """The spec's identity fields of a POST."""

    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Created:
    request: ServiceRequest
    # what the client is told once (not part of the public feed)
    notice: str


def _new_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(12))


def _record(*, country: Country, service_code: str, api_key: ApiKey, now: dt.datetime,
            application: Application | None = None, complaint: Complaint | None = None
            ) -> ServiceRequest:
    for attempt in range(3):
        try:
            with transaction.atomic():
                return ServiceRequest.objects.create(
                    public_id=_new_id(), token=secrets.token_urlsafe(16), country=country,
                    service_code=service_code, api_key=api_key, application=application,
                    complaint=complaint, requested_at=now,
                )
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _citizen(national_id: str) -> User | None:
    if not national_id:
        return None
    return (User.objects.filter(role=Role.CITIZEN, national_id=national_id, is_active=True)
            .order_by("pk").first())


def _checked_contact(contact: Contact) -> list[str]:
    problems = []
    if contact.email:
        try:
            validate_email(contact.email)
        except ValidationError:
            problems.append(_("email: not an email address"))
    if len(contact.phone) > MAX_PHONE:
        problems.append(_("phone: at most %(n)s characters") % {"n": MAX_PHONE})
    if len(f"{contact.first_name} {contact.last_name}") > MAX_NAME:
        problems.append(_("first_name, last_name: at most %(n)s characters together")
                        % {"n": MAX_NAME})
    return problems


def _single(attributes: Mapping[str, Sequence[str]], code: str) -> str:
    values = [v.strip() for v in attributes.get(code, ()) if v.strip()]
    if len(values) > 1:
        raise bad_request(_("attribute[%(code)s]: give one value") % {"code": code})
    return values[0] if values else ""


def create_request(
    *,
    api_key: ApiKey,
    country: Country,
    service_code: str,
    attributes: Mapping[str, Sequence[str]],
    description: str = "",
    contact: Contact | None = None,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Created:
    """POST requests: file the request as a onestop application or complaint."""
    now = now or timezone.now()
    contact = contact or Contact()
    problems = _checked_contact(contact)
    if problems:
        raise bad_request(*problems)
    if not service_code:
        raise bad_request(_("service_code: required"))
    if service_code.startswith(selectors.COMPLAINT_PREFIX):
        return _complain(api_key=api_key, country=country, service_code=service_code,
                         attributes=attributes, description=description, now=now)
    return _apply(api_key=api_key, country=country, service_code=service_code,
                  attributes=attributes, contact=contact, idempotency_key=idempotency_key,
                  now=now)


def _problem_key(key: str) -> str:
    """submit's field names as the client wrote them."""
    head, _dot, rest = key.partition(".")
    if head == "form" and rest:
        return f"attribute[{rest.split('.')[0]}]"
    if head == "national_id":
        return f"attribute[{selectors.NATIONAL_ID}]"
    return key


def _apply(*, api_key: ApiKey, country: Country, service_code: str,
           attributes: Mapping[str, Sequence[str]], contact: Contact,
           idempotency_key: str | None, now: dt.datetime) -> Created:
    service, standard = selectors.register_service(country, service_code)
    national_id = _single(attributes, selectors.NATIONAL_ID)
    form_data, problems = eform.form_data(
        standard.eform or {},
        {k: v for k, v in attributes.items() if k != selectors.NATIONAL_ID},
    )
    if not national_id:
        problems.setdefault(f"attribute[{selectors.NATIONAL_ID}]", []).append(
            _("required: the applicant's national identification number"))
    if problems:
        raise bad_request(*(f"{k}: {' '.join(v)}" for k, v in problems.items()))
    name = f"{contact.first_name.strip()} {contact.last_name.strip()}".strip()
    try:
        with transaction.atomic():
            submission = applications.submit(
                service=service, form_data=form_data, channel=Channel.OPEN311,
                national_id=national_id, applicant=_citizen(national_id),
                applicant_name=name, phone=contact.phone.strip(),
                email=contact.email.strip(),
                idempotency_key=(f"open311:{api_key.pk}:{idempotency_key}"
                                 if idempotency_key else None),
                now=now, standard=standard,
            )
            application = submission.application
            if not submission.created:
                previous = ServiceRequest.objects.filter(application=application).first()
                if previous is not None:
                    return Created(previous, _notice(application))
            record = _record(country=country, service_code=service.code, api_key=api_key,
                             now=application.submitted_at, application=application)
    except SubmissionInvalid as exc:
        raise bad_request(*(f"{_problem_key(k)}: {' '.join(v)}"
                            for k, v in exc.problems.items())) from None
    except NotFound as exc:
        raise Open311Error(404, str(exc)) from None
    except Conflict as exc:
        raise Open311Error(409, str(exc)) from None
    except ApplicationError as exc:
        raise bad_request(str(exc)) from None
    return Created(record, _notice(application))


def _notice(application: Application) -> str:
    return _("Received as application %(number)s; the applicant is told of every step "
             "and can follow it with this number.") % {"number": application.number}


def _complain(*, api_key: ApiKey, country: Country, service_code: str,
              attributes: Mapping[str, Sequence[str]], description: str,
              now: dt.datetime) -> Created:
    rules, ground = selectors.complaint_ground(country, service_code)
    subjects: list[str] = ground["subjects"]
    known = {selectors.NATIONAL_ID, selectors.SUBJECT, selectors.APPLICATION_NUMBER,
             selectors.AGENCY, selectors.CENTRE}
    unknown = sorted(set(attributes) - known)
    if unknown:
        raise bad_request(*(_("attribute[%(code)s]: is not an attribute of this service")
                            % {"code": code} for code in unknown))
    subject = _single(attributes, selectors.SUBJECT) or (subjects[0] if len(subjects) == 1
                                                         else "")
    if subject not in subjects:
        raise bad_request(_("attribute[subject]: one of %(subjects)s")
                          % {"subjects": ", ".join(subjects)})
    text = description.strip()
    if not text:
        raise bad_request(_("description: say what the complaint is about"))
    national_id = _single(attributes, selectors.NATIONAL_ID)
    citizen = _citizen(national_id)
    if national_id and citizen is None and not rules.anonymous_complaints:
        raise bad_request(_("attribute[%(code)s]: no citizen account holds this national "
                            "ID; complaints are filed from an account")
                          % {"code": selectors.NATIONAL_ID})
    application = agency = centre = None
    if subject == "application":
        number = _single(attributes, selectors.APPLICATION_NUMBER)
        if not number:
            raise bad_request(_("attribute[application_number]: required for a complaint "
                                "about an application"))
        application = Application.objects.filter(country=country, number=number).first()
        if application is None or citizen is None or application.applicant_id != citizen.pk:
            raise Open311Error(404, _("attribute[application_number]: no such application "
                                      "of this citizen"))
    elif subject == "agency":
        code = _single(attributes, selectors.AGENCY)
        agency = Agency.objects.filter(country=country, code=code).first() if code else None
        if agency is None:
            raise bad_request(_("attribute[agency]: the code of an agency of this country"))
    else:
        code = _single(attributes, selectors.CENTRE)
        centre = Centre.objects.filter(country=country, code=code).first() if code else None
        if centre is None:
            raise bad_request(_("attribute[centre]: the code of a centre of this country"))
    try:
        with transaction.atomic():
            complaint = feedback.file_complaint(
                citizen=citizen, subject=subject, ground=ground["code"], text=text,
                application=application, agency=agency, centre=centre, country=country,
                now=now,
            )
            record = _record(country=country, service_code=service_code, api_key=api_key,
                             now=complaint.registered_at, complaint=complaint)
    except feedback_errors.Invalid as exc:
        raise bad_request(str(exc)) from None
    except feedback_errors.FeedbackError as exc:
        raise Open311Error(feedback_errors.status_of(exc), str(exc)) from None
    notice = _("Registered as complaint %(number)s.") % {"number": complaint.number}
    return Created(record, notice)
