"""Write use cases of the application lifecycle: submit, act, assign.

`submit` is the only way an application comes in, whatever the channel (portal, counter,
API, proactive, Open311, GovStack); `act` is the only way it moves. Each runs in one
transaction that writes the application, its event, the audit entry and the citizen's
notification together, so none of them exists without the others.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from onestop.accounts.models import User
from onestop.accounts.roles import AGENCY_ROLES, Role
from onestop.applications import payments
from onestop.applications.errors import Conflict, Forbidden, NotFound, SubmissionInvalid
from onestop.applications.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    Bundle,
    Payment,
    ProactiveOffer,
)
from onestop.applications.routing import route
from onestop.applications.schema_messages import constraint_message
from onestop.applications.workflow import (
    ClockEffect,
    MissingInput,
    NotPermitted,
    Transition,
    Workflow,
)
from onestop.audit.services import NewEntry, record_many
from onestop.catalogue.models import (
    Agency,
    Country,
    LifeSituation,
    Region,
    Service,
    ServiceStandard,
    WorkflowDefinition,
)
from onestop.catalogue.packs import (
    APPLICANT_EMAIL,
    APPLICANT_FACTS,
    APPLICANT_PHONE,
    applicant_id_properties,
    marked_properties,
)
from onestop.catalogue.selectors import (
    agency_subtree_ids,
    calendar_for,
    local_today,
    standard_in_force,
)
from onestop.centres.models import Centre
from onestop.core.clock import Clock, Pause
from onestop.core.inserts import insert_new
from onestop.core.revisions import RevisionCache
from onestop.notifications.models import Message
from onestop.notifications.services import (
    NotificationError,
    account_address,
    enqueue,
    enqueue_many,
    prepare,
)

logger = logging.getLogger(__name__)
SYSTEM = "system"
# Which of a standard's channels a submission channel counts as.
CHANNEL_OFFERED_AS = {
    "portal": {"portal", "mobile"},
    "api": {"portal", "mobile"},
    "open311": {"portal", "mobile"},
    "govstack": {"portal", "mobile"},
    "centre": {"centre", "provider_office"},
    "proactive": {"proactive", "portal"},
}
ALLOWED_CONTENT_TYPES = {"application/pdf", "image/jpeg", "image/png"}
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
# In a standard's documents list, the application itself: the e-form is that document.
FORM_DOCUMENT = "application"


@dataclass(frozen=True)
class UploadedDocument:
    code: str
    name: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Submission:
    application: Application
    access_code: str
    created: bool
    # What a new application was written with, for an answer that reads nothing back
    # (None for a retried one): its documents, and its clock's stop and restart events.
    documents: tuple[ApplicationDocument, ...] | None = None
    clock_events: tuple[ApplicationEvent, ...] | None = None


# --- reading the pieces --------------------------------------------------------------

# Validated workflows per (country id, code), kept per process until the register
# changes (onestop.core.revisions): a reloaded pack is seen at the next request.
_workflows: RevisionCache[tuple[int, str], Workflow] = RevisionCache("catalogue")


def workflow_of(application_or_service: Application | Service) -> Workflow:
    """The validated workflow an application (or a service) runs on."""
    country_id, code = application_or_service.country_id, application_or_service.workflow
    workflow = _workflows.get((country_id, code), lambda: _read_workflow(country_id, code))
    if workflow is None:
        raise NotFound(_("workflow %(code)s is not loaded for this country")
                       % {"code": repr(code)})
    return workflow


def _read_workflow(country_id: int, code: str) -> Workflow | None:
    definition = WorkflowDefinition.objects.filter(country_id=country_id, code=code).first()
    return None if definition is None else Workflow.from_mapping(definition.definition)


def access_code(application: Application) -> str:
    """The secret for the public status check. Derived from the number with the server's
    key, so a retried submission gets the same code and nothing secret is stored."""
    digest = salted_hmac("onestop.access-code", application.number).hexdigest()
    return "".join(NUMBER_ALPHABET[int(digest[i : i + 2], 16) % 32] for i in range(0, 16, 2))


def access_code_matches(application: Application, code: str) -> bool:
    return constant_time_compare(access_code(application), code.strip().upper())


def clock_of(application: Application) -> Clock:
    """The application's clock: its standard's deadline from submission on the country's
    calendar, with every stop and restart recorded in its events."""
    pauses: list[Pause] = []
    stopped_at: dt.datetime | None = None
    # A list page prefetches them (selectors.with_clock_events): no query per row then.
    events = getattr(application, "clock_events", None)
    if events is None:
        events = application.events.filter(clock__in=["stop", "resume"]).order_by("at", "pk")
    for event in events:
        if event.clock == "stop":
            stopped_at = event.at
        elif stopped_at is not None:
            pauses.append(Pause(stopped_at, event.at))
            stopped_at = None
    if stopped_at is not None:
        pauses.append(Pause(stopped_at, None))
    return Clock(
        calendar=calendar_for(application.country),
        started_at=application.submitted_at,
        value=application.standard.deadline_value,
        unit=application.standard.deadline_unit,  # type: ignore[arg-type]
        pauses=tuple(pauses),
    )


# --- validation ----------------------------------------------------------------------


def _with_applicant_id(
    schema: dict[str, Any], form: Any, national_id: str
) -> tuple[Any, dict[str, list[str]]]:
    """`form` with the e-form's applicant's-national-ID field (`x-applicant-id`) filled
    with `national_id` where it was left out, and a problem where another number was given:
    the field is the applicant's own, so it is the one the application is made for."""
    names = applicant_id_properties(schema)
    if not names or not isinstance(form, dict):
        return form, {}
    filled, problems = dict(form), {}
    for name in names:
        given = form.get(name)
        if given is None or given == "":
            if national_id:
                filled[name] = national_id
        elif national_id and given != national_id:
            problems[f"form.{name}"] = [_(
                "must be the applicant's own national ID number, the one the application "
                "is made for (leave it out to have it filled in)"
            )]
    return filled, problems


def _with_applicant_contact(
    schema: dict[str, Any], form: Any, phone: str, email: str
) -> tuple[Any, str, str]:
    """The e-form's fields for the applicant's own phone and e-mail (`x-applicant-phone`,
    `x-applicant-email`) and the application's contact are one: each is filled in from the
    other where it was left out (the counter asks once; the portal's citizen who types a
    phone into the e-form is told by SMS). A contact is filled into an optional field only
    where it fits the field's format (a proactive service's form does not fail on a phone
    written another way at a counter years ago); a required field takes it as it is, so
    that its format is what the answer points at. Where both are given they are kept."""
    if not isinstance(form, dict):
        return form, phone, email
    contact = {APPLICANT_PHONE: phone, APPLICANT_EMAIL: email}
    required = set(schema.get("required") or [])
    filled = dict(form)
    for mark in contact:
        for name in marked_properties(schema, mark):
            given = form.get(name)
            if given is None or given == "":
                if contact[mark] and (name in required
                                      or not field_problems(schema, name, contact[mark])):
                    filled[name] = contact[mark]
            elif not contact[mark] and isinstance(given, str):
                contact[mark] = given
    return filled, contact[APPLICANT_PHONE], contact[APPLICANT_EMAIL]


def field_problems(schema: dict[str, Any] | None, name: str, value: Any) -> list[str]:
    """What is wrong with `value` for the e-form's field `name`, as `submit` would say it
    (nothing for a field the e-form does not have)."""
    spec = ((schema or {}).get("properties") or {}).get(name)
    if not isinstance(spec, dict):
        return []
    one = {"type": "object", "properties": {name: spec}}
    return _form_problems(one, {name: value}).get(f"form.{name}", [])


def _form_problems(schema: dict[str, Any], form: Any) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not isinstance(form, dict):
        return {"form": [_("must be an object of fields")]}
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    for error in validator.iter_errors(form):
        path = [str(p) for p in error.absolute_path]
        if error.validator == "required":
            missing = [name for name in error.validator_value if name not in error.instance]
            for name in missing:
                problems.setdefault(".".join(["form", *path, name]), []).append(
                    _("this field is required")
                )
            continue
        if error.validator == "additionalProperties":
            extra = sorted(set(error.instance) - set(schema.get("properties", {})))
            for name in extra:
                problems.setdefault(".".join(["form", *path, name]), []).append(
                    _("is not a field of this service's form")
                )
            continue
        problems.setdefault(".".join(["form", *path]), []).append(constraint_message(error))
    return problems


def _document_problems(
    standard: ServiceStandard,
    documents: Sequence[UploadedDocument],
    *,
    required: bool,
    also_accepted: Sequence[str] = (),
) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    expected = {
        d["code"]: d
        for d in standard.documents
        if d.get("source") == "applicant" and d["code"] != FORM_DOCUMENT
    }
    accepted = set(expected) | set(also_accepted)
    for document in documents:
        key = f"documents.{document.code}"
        if document.code not in accepted:
            problems.setdefault(key, []).append(
                _("is not a document this service asks the applicant for")
            )
        for messages in _file_problems(document).values():
            problems.setdefault(key, []).extend(messages)
    if required:
        given = {d.code for d in documents}
        for code, spec in expected.items():
            if spec.get("required", True) and code not in given:
                problems.setdefault(f"documents.{code}", []).append(
                    _("this document is required")
                )
    return problems


def _file_problems(document: UploadedDocument) -> dict[str, list[str]]:
    """What is wrong with a file as a file: its type, its size."""
    limit = settings.ONESTOP_MAX_UPLOAD_BYTES
    problems: list[str] = []
    if document.content_type not in ALLOWED_CONTENT_TYPES:
        problems.append(_("must be a PDF, JPEG or PNG file"))
    if len(document.content) > limit:
        problems.append(_("is larger than %(mb)s MB") % {"mb": limit // 1_000_000})
    if not document.content:
        problems.append(_("is empty"))
    return {document.code: problems} if problems else {}


def _request_hash(service: Service, form: Any, national_id: str) -> str:
    raw = json.dumps([service.country.code, service.code, form, national_id], sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_number(country: Country, now: dt.datetime) -> str:
    # 8 random characters: 32**8 numbers a day, so a clash is rare enough that the
    # submission simply retries (see submit), with no lock and no counter row to contend on.
    token = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
    return f"{country.code.upper()}-{now:%y%m%d}-{token}"


def _store_document(
    application: Application, document: UploadedDocument, kind: str, user: User | None
) -> ApplicationDocument:
    record = ApplicationDocument(
        application=application,
        kind=kind,
        code=document.code,
        content_type=document.content_type,
        size=len(document.content),
        sha256=hashlib.sha256(document.content).hexdigest(),
        original_name=document.name[:200],
        uploaded_by=user,
    )
    record.file.save(document.code, ContentFile(document.content), save=False)
    insert_new([record])
    return record


# --- notifications and audit ---------------------------------------------------------


def _notify(application: Application, template: str, extra: dict[str, Any] | None = None) -> None:
    """Tell the citizen, by the address the application gave or else their account's
    (e-mail, then SMS), in the country's first language."""
    recipient, channel = (
        (application.applicant_email, "email")
        if application.applicant_email
        else (application.applicant_phone, "sms")
    )
    if not recipient and application.applicant is not None:
        # no address of its own: the applicant's account, as it is now
        channel, recipient = account_address(application.applicant) or ("", "")
    if not recipient:
        return
    country = application.country
    standard = application.standard
    local_deadline = application.deadline_at.astimezone(calendar_for(country).zone)
    pending = _pending.get()
    try:
        message = (prepare if pending is not None else enqueue)(
            channel=channel,
            recipient=recipient,
            template=template,
            language=country.languages[0],
            context={
                "number": application.number,
                "service": standard.name,
                "agency": application.agency.name,
                "deadline": f"{local_deadline:%d.%m.%Y %H:%M}",
                "state": application.state,
                "status_url": f"/status/{application.number}/",
                "languages": country.languages,
                **(extra or {}),
            },
            subject_type="application",
            subject_id=application.number,
        )
        if pending is not None:
            pending.messages.append(message)
    except NotificationError as exc:
        # An address the outbox cannot take (say, a malformed phone) must not lose the
        # application; the cabinet and the status page still show every change. The
        # message names the problem, never the recipient.
        logger.warning("notification %s for %s not queued: %s", template,
                       application.number, exc)


@dataclass
class _Pending:
    """The rows one use case writes last, together: its events and outbox messages (one
    INSERT each) and the audit entries of its events, appended to the chain just before
    the transaction commits."""

    events: list[tuple[ApplicationEvent, dict[str, Any]]] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    entries: list[NewEntry] = field(default_factory=list)

    def mark(self) -> tuple[int, int, int]:
        return len(self.events), len(self.messages), len(self.entries)

    def reset_to(self, mark: tuple[int, int, int]) -> None:
        """Forget what was added since `mark` (its savepoint was rolled back)."""
        del self.events[mark[0]:]
        del self.messages[mark[1]:]
        del self.entries[mark[2]:]

    def write_events(self) -> None:
        """Insert the events recorded so far, and make their audit entries (which name
        each event's id)."""
        if not self.events:
            return
        insert_new([event for event, _ in self.events])
        for event, entry in self.events:
            if event.pk is None:  # a database that cannot return ids from a bulk insert
                raise RuntimeError("the events were inserted without their ids")
            entry["data"] = {"event": event.pk, **entry["data"]}
            self.entries.append(NewEntry(**entry))
        self.events.clear()

    def write(self) -> None:
        self.write_events()
        if self.messages:
            enqueue_many(self.messages)
            self.messages.clear()
        if self.entries:
            record_many(self.entries)
            self.entries.clear()


_pending: ContextVar[_Pending | None] = ContextVar("pending_writes", default=None)


@contextmanager
def _audited() -> Iterator[None]:
    """Collect the events, outbox messages and audit entries of one use case and write
    them last, in one INSERT per table, just before the transaction commits: every writer
    waits on the audit chain's head, so it is held for one statement instead of the whole
    use case. Nested use cases share the outer one's rows."""
    if _pending.get() is not None:
        yield
        return
    pending = _Pending()
    token = _pending.set(pending)
    try:
        yield
        pending.write()
    finally:
        _pending.reset(token)


def _actor(user: User | None) -> tuple[str, str]:
    return (user.username, user.role) if user is not None else (SYSTEM, SYSTEM)


def _record_event(
    application: Application,
    *,
    action: str,
    from_state: str,
    to_state: str,
    user: User | None,
    role: str,
    now: dt.datetime,
    clock: str = "",
    comment: str = "",
    data: dict[str, Any] | None = None,
) -> ApplicationEvent:
    event = ApplicationEvent(
        application=application,
        at=now,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=user,
        actor_role=role,
        clock=clock,
        comment=comment,
        data=data or {},
    )
    # A new application keeps its clock's events in memory (see _create): its clock and
    # its answer need no query then.
    known = getattr(application, "clock_events", None)
    if clock in ("stop", "resume") and isinstance(known, list):
        known.append(event)
    username, _role = _actor(user)
    entry: dict[str, Any] = {
        "actor_username": username,
        "actor_role": role,
        "action": f"application.{action}",
        "subject_type": "application",
        "subject_id": application.number,
        "data": {
            "from": from_state,
            "to": to_state,
            "at": now.isoformat(),
            "clock": clock,
            **({"details": data} if data else {}),
        },
    }
    pending = _pending.get()
    if pending is None:
        event.save(force_insert=True)
        entry["data"] = {"event": event.pk, **entry["data"]}
        record_many([NewEntry(**entry)])
    else:
        pending.events.append((event, entry))
    return event


# --- submit --------------------------------------------------------------------------


def submit(
    *,
    service: Service,
    form_data: Any,
    channel: str,
    national_id: str,
    applicant: User | None = None,
    submitted_by: User | None = None,
    applicant_name: str = "",
    phone: str = "",
    email: str = "",
    region: Region | None = None,
    centre: Centre | None = None,
    documents: Sequence[UploadedDocument] = (),
    idempotency_key: str | None = None,
    bundle: Bundle | None = None,
    started_by: Application | None = None,
    now: dt.datetime | None = None,
    standard: ServiceStandard | None = None,
) -> Submission:
    """Submit an application for `service` under the standard in force now.

    Validates the form against the standard's e-form and the documents against its list
    (every problem at once: SubmissionInvalid), charges the fee through the payment
    provider (before writing; refunded if the writing fails: applications.payments),
    computes the deadline on the country calendar, routes it to the provider's unit for
    `region`, and writes the application, its payment, its first event, the audit entry
    and the notification in one transaction. With `idempotency_key`, a retry by the same
    submitter returns the first application (created=False); the same key with a
    different request is a Conflict.

    `standard`, when the caller already read it, must be `service`'s standard in force
    on the country's date at `now` (checked without a query).
    """
    now = now or timezone.now()
    # A retry is found by the unique key when the new row is inserted (no query for a
    # first submission); without a submitter there is no such key: look first.
    if idempotency_key is not None and submitted_by is None:
        previous = _previous_submission(service, form_data, national_id, submitted_by,
                                        idempotency_key)
        if previous is not None:
            return previous

    today = local_today(service.country, now)
    if standard is not None and (standard.service_id != service.pk or standard.valid_from > today):
        raise ValueError("`standard` is not a version of this service in force today")
    standard = standard or standard_in_force(service, today)
    if standard is None:
        previous = _retried(service, form_data, national_id, submitted_by, idempotency_key)
        if previous is not None:
            return previous
        raise NotFound(_("service %(code)s has no standard in force today")
                       % {"code": service.code})

    problems: dict[str, list[str]] = {}
    if channel not in CHANNEL_OFFERED_AS:
        problems["channel"] = [_("unknown channel %(channel)s") % {"channel": repr(channel)}]
    elif not CHANNEL_OFFERED_AS[channel] & set(standard.channels):
        problems["channel"] = [_("this service is not offered through the %(channel)s channel")
                               % {"channel": channel}]
    national_id = (national_id or "").strip()
    if not national_id.isalnum() or not 6 <= len(national_id) <= 32:
        problems["national_id"] = [
            _("a national identification number of 6-32 letters or digits")
        ]
    # The request as given is what a retry is compared with; the applicant's own national
    # ID is filled into the e-form from who the application is for (never asked twice).
    requested = form_data
    form_data, own_id_problems = _with_applicant_id(
        standard.eform or {}, form_data, "" if "national_id" in problems else national_id)
    form_data, phone, email = _with_applicant_contact(standard.eform or {}, form_data,
                                                      phone, email)
    problems.update(_form_problems(standard.eform or {}, form_data))
    problems.update(own_id_problems)
    problems.update(
        _document_problems(standard, documents, required=channel != "proactive")
    )
    if problems:
        # a retry of a submission whose standard has changed since is still the retry
        previous = _retried(service, requested, national_id, submitted_by, idempotency_key)
        if previous is not None:
            return previous
        raise SubmissionInvalid(problems)

    workflow = workflow_of(service)
    with payments.refunded_on_failure():
        # Charged before anything is written (see applications.payments): a failure
        # below refunds it; a retry found below gives this charge back unless the
        # provider recognised the key and returned the first one.
        paid = None
        if standard.fee_amount > 0 and channel != "proactive":
            paid = payments.charge(
                amount=standard.fee_amount, currency=service.country.currency,
                description=f"{service.country.code} {service.code}",
                idempotency_key=_payment_key(submitted_by, idempotency_key),
            )
        outer = _pending.get()
        for attempt in range(3):
            mark = outer.mark() if outer is not None else None
            try:
                with transaction.atomic(), _audited():
                    application, stored = _create(
                        service=service, standard=standard, workflow=workflow,
                        form_data=form_data, requested=requested, channel=channel,
                        national_id=national_id,
                        applicant=applicant, submitted_by=submitted_by,
                        applicant_name=applicant_name, phone=phone, email=email,
                        region=region, centre=centre, documents=documents,
                        idempotency_key=idempotency_key, bundle=bundle,
                        started_by=started_by, now=now,
                        charge=paid[1] if paid is not None else None,
                    )
                break
            except IntegrityError:
                # Either this is a retry (its key is taken: the first one committed
                # before), or the random number clashed with an existing one: then try
                # a new number.
                if outer is not None and mark is not None:
                    outer.reset_to(mark)  # what the rolled-back attempt had queued
                if idempotency_key is not None:
                    previous = _previous_submission(service, requested, national_id,
                                                    submitted_by, idempotency_key)
                    if previous is not None:
                        if paid is not None and not Payment.objects.filter(
                            application=previous.application, reference=paid[1].reference
                        ).exists():
                            payments.refund_now(*paid)
                        return previous
                if attempt == 2:
                    raise
    # Kept only while it was being written: a caller that acts on the application later
    # must not see a list that stops here (clock_of reads the events then).
    clock_events = application.__dict__.pop("clock_events")
    return Submission(application=application, access_code=access_code(application),
                      created=True, documents=tuple(stored), clock_events=tuple(clock_events))


def _payment_key(submitted_by: User | None, key: str | None) -> str | None:
    """The key a payment provider sees for a submission's retries: derived from the
    submitter and the submission's own key, never personal data."""
    if key is None:
        return None
    owner = submitted_by.pk if submitted_by is not None else "-"
    return hashlib.sha256(f"onestop-payment:{owner}:{key}".encode()).hexdigest()[:40]


def _retried(
    service: Service, form_data: Any, national_id: str, submitted_by: User | None,
    key: str | None,
) -> Submission | None:
    """Before refusing a submission: the earlier one it retries, which is the answer (a
    Conflict when the key was used for a different request)."""
    if key is None:
        return None
    return _previous_submission(service, form_data, national_id, submitted_by, key)


def _previous_submission(
    service: Service, form_data: Any, national_id: str, submitted_by: User | None, key: str
) -> Submission | None:
    previous = Application.objects.filter(
        submitted_by=submitted_by, idempotency_key=key
    ).first()
    if previous is None:
        return None
    if previous.request_hash != _request_hash(service, form_data, (national_id or "").strip()):
        raise Conflict(_("this Idempotency-Key was already used for a different submission"))
    return Submission(application=previous, access_code=access_code(previous), created=False)


def _create(
    *,
    service: Service,
    standard: ServiceStandard,
    workflow: Workflow,
    form_data: dict[str, Any],
    requested: Any,
    channel: str,
    national_id: str,
    applicant: User | None,
    submitted_by: User | None,
    applicant_name: str,
    phone: str,
    email: str,
    region: Region | None,
    centre: Centre | None,
    documents: Sequence[UploadedDocument],
    idempotency_key: str | None,
    bundle: Bundle | None,
    started_by: Application | None,
    now: dt.datetime,
    charge: payments.Charge | None,
) -> tuple[Application, list[ApplicationDocument]]:
    if region is None and centre is not None:
        region = centre.region
    if applicant is None:
        applicant = User.objects.filter(role=Role.CITIZEN, national_id=national_id).first()
    calendar = calendar_for(service.country)
    application = Application(
        country=service.country,
        service=service,
        standard=standard,
        workflow=workflow.code,
        state=workflow.initial,
        channel=channel,
        applicant=applicant,
        applicant_national_id=national_id,
        applicant_name=applicant_name[:200],
        applicant_phone=phone[:32],
        applicant_email=email[:254],
        form_data=form_data,
        submitted_by=submitted_by,
        centre=centre,
        region=region,
        agency=route(service, region),
        submitted_at=now,
        deadline_at=calendar.deadline(now, standard.deadline_value, standard.deadline_unit),
        fee_amount=standard.fee_amount,
        bundle=bundle,
        started_by=started_by,
        idempotency_key=idempotency_key,
        request_hash=_request_hash(service, requested, national_id) if idempotency_key else "",
    )
    application.number = _new_number(service.country, now)
    # No events yet: the clock's are kept as they are recorded (see _record_event).
    application.clock_events = []  # type: ignore[attr-defined]
    role = submitted_by.role if submitted_by is not None else SYSTEM
    # Recorded before the row is written (events and messages are written last, see
    # _Pending), and so are the steps only the system takes: an instant service's
    # application is inserted already issued, one statement instead of two.
    _record_event(
        application, action="submit", from_state="", to_state=workflow.initial,
        user=submitted_by, role=role, now=now,
        data={"channel": channel, "standard_from": standard.valid_from.isoformat(),
              "documents": sorted(d.code for d in documents)},
    )
    pending = _pending.get()
    if pending is None:  # submit() always collects its rows
        raise RuntimeError("_create runs inside _audited()")
    told_before = len(pending.messages)
    offer_due = _advance_automatically(application, workflow, now, new=True)
    if application.completed_at is None:
        # "Received", ahead of what the system's own steps told. An application decided
        # in the moment it is submitted (an instant service) is not told so: its result's
        # message says it all, where a "received" SMS in the same second is noise the
        # country pays for.
        later = pending.messages[told_before:]
        del pending.messages[told_before:]
        _notify(application, "application_submitted")
        pending.messages.extend(later)
    insert_new([application])
    stored = [
        _store_document(application, document, ApplicationDocument.Kind.SUBMITTED, submitted_by)
        for document in documents
    ]
    if charge is not None:
        Payment.objects.create(
            application=application, provider=charge.provider, reference=charge.reference,
            amount=standard.fee_amount, currency=service.country.currency,
            status=Payment.Status.PAID, paid_at=now,
        )
    if offer_due:
        _offer_proactive(application, now)
    return application, stored


# --- act -----------------------------------------------------------------------------


def role_on(user: User, application: Application) -> str:
    """The workflow role `user` acts in on this application, or Forbidden."""
    if user.role == Role.CITIZEN:
        if application.applicant_id != user.pk:
            raise NotFound(_("no such application"))
        return Role.CITIZEN.value
    if user.role in AGENCY_ROLES:
        if application.agency_id not in agency_subtree_ids([user.agency_id or 0]):
            raise NotFound(_("no such application"))
        return str(user.role)
    if user.role == Role.OPERATOR:
        # any centre serves any citizen: an operator may act where the workflow lets them
        return Role.OPERATOR.value
    raise Forbidden(_("a %(role)s reads applications but does not act on them")
                    % {"role": user.role})


def refusal(exc: NotPermitted) -> str:
    """Why the workflow refused an action, in the reader's language (the engine speaks
    none: it is pure and says what the refusal is)."""
    names = {"state": exc.state, "action": exc.action, "role": exc.role,
             "options": ", ".join(exc.options)}
    if exc.kind == "final":
        return _("the application is %(state)s: no action can be taken on it now") % names
    if exc.kind == "elsewhere":
        if not exc.options:
            return _("%(action)s cannot be taken while the application is %(state)s") % names
        return _("%(action)s cannot be taken while the application is %(state)s; "
                 "possible now: %(options)s") % names
    if exc.kind == "role":
        return _("a %(role)s may not take %(action)s while the application is %(state)s "
                 "(it is for: %(options)s)") % names
    if exc.kind in ("no_state", "no_action"):
        return _("%(action)s is not an action of this service's workflow") % names
    return str(exc)


def act(
    *,
    application: Application,
    user: User | None,
    action: str,
    comment: str = "",
    ground: str = "",
    requested_documents: Sequence[str] = (),
    agency_code: str = "",
    documents: Sequence[UploadedDocument] = (),
    result_document: UploadedDocument | None = None,
    now: dt.datetime | None = None,
) -> Application:
    """Take a workflow action on an application, as `user` (None: the system).

    The workflow decides whether this role may take this action in this state
    (Forbidden with the reason otherwise) and what follows; the clock stops or runs
    again with it; the event, the audit entry and the notification commit together.
    """
    now = now or timezone.now()
    with transaction.atomic(), _audited():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        role = role_on(user, locked) if user is not None else SYSTEM
        workflow = workflow_of(locked)
        provided = {
            name
            for name, value in (
                ("comment", comment.strip()),
                ("ground", ground),
                ("requested_documents", list(requested_documents)),
                ("agency", agency_code),
                ("documents", list(documents)),
                ("result_document", result_document),
            )
            if value
        }
        try:
            transition = workflow.decide(locked.state, action, role, provided)
        except NotPermitted as exc:
            raise Forbidden(refusal(exc)) from None
        except MissingInput as exc:
            raise SubmissionInvalid(
                {name: [_("required for this action")] for name in exc.missing}
            ) from None
        data = _check_inputs(locked, transition, ground, requested_documents, agency_code,
                             documents)
        if result_document is not None:
            file_problems = _file_problems(result_document)
            if file_problems:
                raise SubmissionInvalid({"result_document": file_problems[result_document.code]})
        _apply(locked, workflow, transition, user=user, role=role, now=now, comment=comment,
               ground=ground, data=data, documents=documents, result_document=result_document)
        _advance_automatically(locked, workflow, now)
    application.refresh_from_db()
    return application


def _check_inputs(
    application: Application,
    transition: Transition,
    ground: str,
    requested_documents: Sequence[str],
    agency_code: str,
    documents: Sequence[UploadedDocument],
) -> dict[str, Any]:
    problems: dict[str, list[str]] = {}
    data: dict[str, Any] = {}
    if ground:
        grounds = {g["code"] for g in application.standard.refusal_grounds}
        if ground not in grounds:
            problems["ground"] = [
                _("not a ground for refusal in this service's standard (grounds: %(grounds)s)")
                % {"grounds": ", ".join(sorted(grounds))}
                if grounds else _("not a ground for refusal in this service's standard")
            ]
        data["ground"] = ground
    if requested_documents:
        data["requested_documents"] = list(requested_documents)
    if agency_code:
        other = Agency.objects.filter(country=application.country, code=agency_code).first()
        if other is None:
            problems["agency"] = [_("no agency %(code)s in this country")
                                  % {"code": repr(agency_code)}]
        elif other.pk == application.agency_id:
            problems["agency"] = [_("an inter-agency request goes to another agency")]
        data["agency"] = agency_code
    if documents:
        # what the officer asked for when the clock stopped is accepted too
        last_request = (
            application.events.filter(clock="stop").order_by("-at", "-pk").first()
        )
        asked = last_request.data.get("requested_documents", []) if last_request else []
        problems.update(
            _document_problems(application.standard, documents, required=False,
                               also_accepted=asked)
        )
        data["documents"] = sorted(d.code for d in documents)
    if problems:
        raise SubmissionInvalid(problems)
    return data


def _apply(
    application: Application,
    workflow: Workflow,
    transition: Transition,
    *,
    user: User | None,
    role: str,
    now: dt.datetime,
    comment: str = "",
    ground: str = "",
    data: dict[str, Any] | None = None,
    documents: Sequence[UploadedDocument] = (),
    result_document: UploadedDocument | None = None,
    new: bool = False,
) -> bool:
    """Take `transition` on `application`: its fields, documents, event and messages.
    `new`: the application is not written yet (its caller inserts it as it is then);
    returns whether the proactive services that follow an issued result are due, which
    the caller offers once the row exists. Otherwise the row is updated and they are
    offered here (False)."""
    source = application.state
    clock = {ClockEffect.STOP: "stop", ClockEffect.RESUME: "resume"}.get(transition.clock, "")
    application.state = transition.target.code
    for document in documents:
        _store_document(application, document, ApplicationDocument.Kind.SUBMITTED, user)
    if result_document is not None:
        _store_document(application, result_document, ApplicationDocument.Kind.RESULT, user)
    _record_event(
        application, action=transition.action.code, from_state=source,
        to_state=application.state, user=user, role=role, now=now, clock=clock,
        comment=comment.strip(), data=data,
    )
    update = ["state"]
    if clock:
        pending = _pending.get()
        if pending is not None and not isinstance(getattr(application, "clock_events", None),
                                                  list):
            pending.write_events()  # the clock reads this transition's event back
        running = clock_of(application)
        application.clock_stopped_at = now if clock == "stop" else None
        application.stopped_seconds = int(running.stopped_time(now).total_seconds())
        application.deadline_at = running.deadline_at(now)
        update += ["clock_stopped_at", "stopped_seconds", "deadline_at"]
    if transition.terminal:
        application.completed_at = now
        application.outcome = str(transition.outcome)
        update += ["completed_at", "outcome"]
        if transition.outcome == "refused":
            application.refusal_ground = ground
            application.refusal_reason = comment.strip()
            update += ["refusal_ground", "refusal_reason"]
    if not new:
        application.save(update_fields=update)
    template = {
        "stop": "documents_requested",
    }.get(clock) or {
        "issued": "result_issued",
        "refused": "application_refused",
    }.get(str(transition.outcome or ""))
    if template is None and application.state == "approved":
        template = "application_approved"
    if template:
        _notify(application, template, {"comment": comment.strip()})
    if transition.outcome == "issued":
        _notify(application, "rate_service", {
            "rate_url": f"/feedback/rate/{application.number}/?from=notification"})
        if new:
            return True
        _offer_proactive(application, now)
    return False


def _advance_automatically(
    application: Application, workflow: Workflow, now: dt.datetime, *, new: bool = False
) -> bool:
    """Take the steps only the system takes and that need no input (an instant service
    issues its result at once). `new` as for `_apply`: whether proactive offers are due."""
    offer_due = False
    for _step in range(10):
        automatic = [
            a for a in workflow.actions_from(application.state)
            if a.roles == frozenset({SYSTEM}) and not a.requires
        ]
        if len(automatic) != 1:
            break
        transition = workflow.decide(application.state, automatic[0].code, SYSTEM)
        offer_due |= _apply(application, workflow, transition, user=None, role=SYSTEM,
                            now=now, new=new)
    return offer_due


# --- assignment ----------------------------------------------------------------------


def assign(*, application: Application, user: User, assignee: User | None,
           now: dt.datetime | None = None) -> Application:
    """Assign an open application to an officer of its agency. A supervisor assigns and
    reassigns within their agency; an officer may take an unassigned one for themselves."""
    now = now or timezone.now()
    with transaction.atomic(), _audited():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        role_on(user, locked)
        if not locked.is_open:
            raise Conflict(_("a completed application is not assigned"))
        scope = agency_subtree_ids([user.agency_id or 0])
        if assignee is not None and (
            assignee.role not in AGENCY_ROLES or assignee.agency_id not in scope
        ):
            raise Forbidden(_("the assignee must be an officer of your agency"))
        if user.role == Role.OFFICER and not (
            assignee == user and locked.assigned_to_id in (None, user.pk)
        ):
            raise Forbidden(_("an officer may only take an unassigned application; "
                              "a supervisor reassigns"))
        if user.role not in AGENCY_ROLES:
            raise Forbidden(_("only the agency's officers and supervisors assign"))
        previous = locked.assigned_to.username if locked.assigned_to else ""
        locked.assigned_to = assignee
        locked.save(update_fields=["assigned_to"])
        _record_event(
            locked, action="assign", from_state=locked.state, to_state=locked.state,
            user=user, role=user.role, now=now,
            data={"from": previous, "to": assignee.username if assignee else ""},
        )
    application.refresh_from_db()
    return application


# --- bundles and proactive services -----------------------------------------------------


def submit_bundle(
    *,
    life_situation: LifeSituation,
    applicant: User,
    national_id: str,
    forms: dict[str, Any],
    channel: str,
    submitted_by: User | None = None,
    email: str = "",
    phone: str = "",
    documents: dict[str, Sequence[UploadedDocument]] | None = None,
    now: dt.datetime | None = None,
) -> tuple[Bundle, list[Submission]]:
    """Several services of one life situation from one application: all or none (a
    failure refunds the fees already charged for the others)."""
    with payments.refunded_on_failure(), transaction.atomic(), _audited():
        return _submit_bundle(
            life_situation=life_situation, applicant=applicant, national_id=national_id,
            forms=forms, channel=channel, submitted_by=submitted_by, email=email, phone=phone,
            documents=documents, now=now,
        )


def _submit_bundle(
    *,
    life_situation: LifeSituation,
    applicant: User,
    national_id: str,
    forms: dict[str, Any],
    channel: str,
    submitted_by: User | None,
    email: str,
    phone: str,
    documents: dict[str, Sequence[UploadedDocument]] | None,
    now: dt.datetime | None,
) -> tuple[Bundle, list[Submission]]:
    now = now or timezone.now()
    if not forms:
        raise SubmissionInvalid({"services": [_("choose at least one service")]})
    services = {
        s.code: s for s in Service.objects.filter(
            country=life_situation.country, code__in=list(forms),
            life_situations=life_situation,
        ).select_related("country", "provider")
    }
    unknown = sorted(set(forms) - set(services))
    if unknown:
        raise SubmissionInvalid(
            {f"services.{code}": [_("not a service of this life situation")]
             for code in unknown}
        )
    bundle = Bundle.objects.create(
        number=_new_number(life_situation.country, now).replace("-", "-B", 1),
        country=life_situation.country, life_situation=life_situation, applicant=applicant,
        created_at=now,
    )
    submissions: list[Submission] = []
    problems: dict[str, list[str]] = {}
    for code, form in forms.items():
        try:
            submissions.append(submit(
                service=services[code], form_data=form, channel=channel,
                national_id=national_id, applicant=applicant,
                submitted_by=submitted_by or applicant, email=email, phone=phone,
                documents=(documents or {}).get(code, ()), bundle=bundle, now=now,
            ))
        except SubmissionInvalid as exc:
            for field, messages in exc.problems.items():
                problems[f"{code}.{field}"] = messages
    if problems:
        raise SubmissionInvalid(problems)
    return bundle, submissions


def applicant_fields(standard: ServiceStandard | None, *, national_id: str = "",
                     phone: str = "", email: str = "") -> dict[str, str]:
    """The e-form fields of `standard` marked as the applicant's own national ID, phone and
    e-mail, filled with what is known of them (a field stays out where nothing is), for a
    form shown before it is submitted: the portal's new form, a proactive offer."""
    if standard is None:
        return {}
    given = {"national_id": national_id, "phone": phone, "email": email}
    return {name: given[fact] for fact, mark in APPLICANT_FACTS.items() if given[fact]
            for name in marked_properties(standard.eform, mark)}


def _prefill(standard: ServiceStandard | None, source: Application) -> dict[str, Any]:
    """What the state already knows for the new service's form: the fields the issued
    application shares with it, and the applicant's national ID and contact (once-only
    principle)."""
    properties = (standard.eform or {}).get("properties", {}) if standard else {}
    known = {name: value for name, value in source.form_data.items() if name in properties}
    return {**known, **applicant_fields(standard, national_id=source.applicant_national_id,
                                        phone=source.applicant_phone,
                                        email=source.applicant_email)}


def _offer_proactive(source: Application, now: dt.datetime) -> None:
    if getattr(source.service, "starts_proactive", None) is False:
        return  # read with the service (the submit API): no service follows this one
    on = local_today(source.country, now)
    for service in Service.objects.filter(proactive_after=source.service):
        offered = standard_in_force(service, on)
        offer, created = ProactiveOffer.objects.get_or_create(
            source=source, service=service,
            defaults={"applicant": source.applicant, "form_data": _prefill(offered, source),
                      "created_at": now},
        )
        if created:
            _record_event(
                source, action="offer_proactive", from_state=source.state,
                to_state=source.state, user=None, role=SYSTEM, now=now,
                data={"service": service.code, "offer": offer.pk},
            )
            _notify(source, "proactive_offer",
                    {"offered_service": offered.name if offered else service.code})


def confirm_offer(
    *, offer: ProactiveOffer, user: User, form_data: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Submission:
    """The citizen confirms a proactive service: it is submitted with the prefilled form
    (plus what the citizen adds) on the proactive channel, started by the source."""
    if offer.applicant_id != user.pk:
        raise NotFound(_("no such offer"))
    if offer.status != ProactiveOffer.Status.OFFERED:
        raise Conflict(_already_decided(offer.status))
    with transaction.atomic(), _audited():
        locked = ProactiveOffer.objects.select_for_update().get(pk=offer.pk)
        if locked.status != ProactiveOffer.Status.OFFERED:
            raise Conflict(_already_decided(locked.status))
        source = locked.source
        submission = submit(
            service=locked.service, form_data={**locked.form_data, **(form_data or {})},
            channel="proactive", national_id=source.applicant_national_id, applicant=user,
            submitted_by=user, applicant_name=source.applicant_name,
            phone=source.applicant_phone, email=source.applicant_email,
            region=source.region, started_by=source, now=now,
        )
        locked.status = ProactiveOffer.Status.CONFIRMED
        locked.application = submission.application
        locked.decided_at = submission.application.submitted_at
        locked.save(update_fields=["status", "application", "decided_at"])
    return submission


def _already_decided(status: str) -> str:
    if status == ProactiveOffer.Status.CONFIRMED:
        return _("this offer was already confirmed")
    if status == ProactiveOffer.Status.DECLINED:
        return _("this offer was already declined")
    return _("this offer was already decided")


def decline_offer(*, offer: ProactiveOffer, user: User, now: dt.datetime | None = None) -> None:
    if offer.applicant_id != user.pk:
        raise NotFound(_("no such offer"))
    updated = ProactiveOffer.objects.filter(
        pk=offer.pk, status=ProactiveOffer.Status.OFFERED
    ).update(status=ProactiveOffer.Status.DECLINED, decided_at=now or timezone.now())
    if not updated:
        raise Conflict(_("this offer was already decided"))
