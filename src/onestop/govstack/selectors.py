"""Reads of the GovStack façade: identifiers, and onestop records in GovStack's shapes."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek, TruncYear
from django.utils import timezone
from django.utils.translation import gettext_lazy

from onestop.accounts.models import User
from onestop.applications import selectors as application_selectors
from onestop.applications.models import Application, ApplicationEvent
from onestop.applications.services import workflow_of
from onestop.catalogue.models import Service, ServiceStandard
from onestop.catalogue.selectors import current_standard, local_today
from onestop.core.text import localize
from onestop.govstack.models import ExternalId, Kind

# Identifiers of records that carry no GovStack identifier are derived from their codes.
NAMESPACE = uuid.UUID("8d3c6a0e-5b0e-4f55-9d0e-2f6c3f0b7a11")
STATUS_TITLES = {
    "PENDING": gettext_lazy("Pending"),
    "APPROVED": gettext_lazy("Approved"),
    "SENDBACK": gettext_lazy("Sent back"),
    "REJECTED": gettext_lazy("Rejected"),
}


def _derived(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def iso(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- services and e-forms --------------------------------------------------------------


def _mapped(kind: str, field: str, pks: Iterable[int]) -> dict[int, ExternalId]:
    rows = ExternalId.objects.filter(kind=kind, **{f"{field}__in": list(pks)})
    return {getattr(row, f"{field}_id"): row for row in rows}


def service_ids(services: Iterable[Service]) -> dict[int, str]:
    services = list(services)
    mapped = _mapped(Kind.SERVICE, "service", (s.pk for s in services))
    return {
        s.pk: mapped[s.pk].external_id if s.pk in mapped
        else _derived("service", s.country.code, s.code)
        for s in services
    }


def services_queryset() -> QuerySet[Service]:
    return Service.objects.select_related("country").prefetch_related("versions")


def service_by_id(service_id: str) -> Service | None:
    row = ExternalId.objects.filter(kind=Kind.SERVICE, external_id=service_id).first()
    if row is not None:
        return services_queryset().filter(pk=row.service_id or 0).first()
    try:
        uuid.UUID(service_id)
    except ValueError:
        return None
    mapped = set(ExternalId.objects.filter(kind=Kind.SERVICE).values_list("service_id", flat=True))
    for service in services_queryset():
        if service.pk not in mapped and _derived(
            "service", service.country.code, service.code
        ) == service_id:
            return service
    return None


def _standard(service: Service, now: dt.datetime) -> ServiceStandard | None:
    return current_standard(service, local_today(service.country, now))


def service_name(service: Service, language: str, now: dt.datetime | None = None) -> str:
    standard = _standard(service, now or timezone.now())
    if standard is None:
        return service.code
    return localize(standard.name, language, service.country.languages) or service.code


def service_out(service: Service, service_id: str, language: str) -> dict[str, Any]:
    standard = _standard(service, timezone.now())
    languages = service.country.languages
    out: dict[str, Any] = {
        "id": service_id,
        "name": service_name(service, language),
        "version": standard.valid_from.isoformat() if standard else "",
        # "Public": a public service anyone may apply for.
        "type": "Public",
        "isExecutable": standard is not None,
        "isClosed": True,
        "description": localize(standard.description, language, languages) if standard else "",
    }
    return out


def service_list(name: str | None, language: str) -> list[dict[str, Any]]:
    services = list(services_queryset())
    ids = service_ids(services)
    out = [service_out(s, ids[s.pk], language) for s in services]
    if name is not None:
        out = [row for row in out if row["name"] == name]
    return out


def eform_ids(standards: Iterable[ServiceStandard]) -> dict[int, str]:
    standards = list(standards)
    mapped = _mapped(Kind.EFORM, "standard", (s.pk for s in standards))
    return {
        s.pk: mapped[s.pk].external_id if s.pk in mapped
        else _derived("eform", s.service.country.code, s.service.code, s.valid_from.isoformat())
        for s in standards
    }


def _eform_out(standard: ServiceStandard, eform_id: str, latest: bool,
               language: str) -> dict[str, Any]:
    languages = standard.service.country.languages
    return {
        "eFormId": eform_id,
        "name": localize(standard.name, language, languages) or standard.service.code,
        "description": localize(standard.description, language, languages),
        "version": standard.valid_from.isoformat(),
        "latest": latest,
    }


def service_eforms(service: Service, language: str) -> list[dict[str, Any]]:
    standards = [s for s in service.versions.all() if s.eform]
    for standard in standards:
        standard.service = service
    current = _standard(service, timezone.now())
    ids = eform_ids(standards)
    return [
        _eform_out(s, ids[s.pk], current is not None and s.pk == current.pk, language)
        for s in standards
    ]


def eform_by_id(eform_id: str, language: str) -> dict[str, Any] | None:
    row = (
        ExternalId.objects.filter(kind=Kind.EFORM, external_id=eform_id)
        .select_related("standard__service__country").first()
    )
    standard: ServiceStandard | None = row.standard if row is not None else None
    if standard is None:
        try:
            uuid.UUID(eform_id)
        except ValueError:
            return None
        mapped = set(
            ExternalId.objects.filter(kind=Kind.EFORM).values_list("standard_id", flat=True)
        )
        candidates = ServiceStandard.objects.select_related("service__country").exclude(
            pk__in=mapped
        ).exclude(eform={})
        standard = next(
            (s for s in candidates if eform_ids([s])[s.pk] == eform_id), None
        )
    if standard is None:
        return None
    current = _standard(standard.service, timezone.now())
    out = _eform_out(standard, eform_id, current is not None and current.pk == standard.pk,
                     language)
    out["schema"] = standard.eform
    return out


# --- application files and tasks ------------------------------------------------------


def status_of(application: Application) -> dict[str, str]:
    if application.outcome == "issued" or application.state == "approved":
        code = "APPROVED"
    elif application.outcome:
        code = "REJECTED"
    elif application.clock_stopped_at is not None:
        code = "SENDBACK"
    else:
        code = "PENDING"
    return {"code": code, "title": str(STATUS_TITLES[code])}


def file_records(applications: Iterable[Application]) -> dict[int, ExternalId]:
    return _mapped(Kind.FILE, "application", (a.pk for a in applications))


def file_id(application: Application, record: ExternalId | None) -> str:
    return record.external_id if record is not None else application.number


def application_by_file_id(user: User, file_id: str) -> Application | None:
    """The application a fileId names, if `user` may see it (onestop's role rules)."""
    visible = application_selectors.visible(user)
    row = ExternalId.objects.filter(kind=Kind.FILE, external_id=file_id).first()
    if row is not None:
        return visible.filter(pk=row.application_id or 0).first()
    return visible.filter(number=file_id).first()


def application_data(application: Application, record: ExternalId | None,
                     language: str) -> dict[str, Any]:
    data = record.data if record is not None else {}
    eform = eform_ids([application.standard])[application.standard_id]
    return {
        "applicationName": data.get("applicationName")
        or service_name(application.service, language),
        "applicantId": data.get("applicantId") or application.applicant_national_id,
        "created": data.get("created") or iso(application.submitted_at),
        "formData": {"data": application.form_data, "eFormId": eform},
        "documentUrls": list(data.get("documentUrls", [])),
    }


def file_out(application: Application, record: ExternalId | None,
             language: str) -> dict[str, Any]:
    data = application_data(application, record, language)
    return {
        "fileId": file_id(application, record),
        # required at the top by the spec's applicationFileResponse
        "applicantId": data["applicantId"],
        "registered": iso(application.submitted_at),
        "serviceId": service_ids([application.service])[application.service_id],
        "serviceName": service_name(application.service, language),
        "status": status_of(application),
        "ended": not application.is_open,
        "applicationData": data,
    }


def _user_id(user: User | None) -> str:
    return str(user.pk) if user is not None else ""


def file_list(
    user: User, *, service_id: str | None, applicant_id: str | None, first: int,
    limit: int | None, sort_by: str, descending: bool, language: str,
) -> list[dict[str, Any]]:
    applications = application_selectors.visible(user)
    if service_id is not None:
        service = service_by_id(service_id)
        if service is None:
            return []
        applications = applications.filter(service=service)
    if applicant_id is not None:
        by_record = ExternalId.objects.filter(
            kind=Kind.FILE, data__applicantId=applicant_id
        ).values_list("application_id", flat=True)
        applications = applications.filter(
            Q(pk__in=list(by_record)) | Q(applicant_national_id=applicant_id.replace("-", ""))
        )
    order = SORT_FIELDS.get(sort_by, "submitted_at")
    applications = applications.order_by(f"-{order}" if descending else order, "pk")
    page = list(applications[first: first + limit] if limit is not None else applications[first:])
    records = file_records(page)
    ids = service_ids({a.service_id: a.service for a in page}.values())
    out = []
    for application in page:
        record = records.get(application.pk)
        data = application_data(application, record, language)
        assigned = application.assigned_to
        this_file = file_id(application, record)
        out.append({
            "fileId": this_file,
            "mainTaskId": this_file,
            "taskTitle": service_name(application.service, language),
            "roleId": "officer",
            "roleName": "officer",
            "assigneeId": _user_id(assigned),
            "operatorName": assigned.get_full_name() or assigned.username if assigned else "",
            "status": status_of(application),
            "applicantId": data["applicantId"],
            "created": data["created"],
            "registered": iso(application.submitted_at),
            "description": application.number,
            "serviceName": service_name(application.service, language),
            "serviceId": ids[application.service_id],
            "eformId": data["formData"]["eFormId"],
            "documentUrls": data["documentUrls"],
            "additionalMeta": {"data": {}},
        })
    return out


SORT_FIELDS = {
    "created": "submitted_at",
    "dueDate": "deadline_at",
    "id": "number",
    "assignee": "assigned_to__username",
    "name": "service__code",
}


def task_by_id(user: User, task_id: str) -> tuple[Application, str, str] | None:
    """The application, the step (its state when the task was opened) and the task id;
    a task without its own identifier is the current step of the file of that id."""
    row = ExternalId.objects.filter(kind=Kind.TASK, external_id=task_id).first()
    if row is not None:
        application = (
            application_selectors.visible(user).filter(pk=row.application_id or 0).first()
        )
        if application is None:
            return None
        return application, str(row.data.get("state", application.state)), task_id
    application = application_by_file_id(user, task_id)
    if application is None:
        return None
    return application, application.state, task_id


def task_status(application: Application, step: str) -> dict[str, str]:
    if application.state == step and application.is_open:
        return {"code": "PENDING", "title": str(STATUS_TITLES["PENDING"])}
    return status_of(application)


def step_name(application: Application, step: str, language: str) -> str:
    workflow = workflow_of(application)
    state = workflow.states.get(step)
    if state is None:
        return step
    return localize(state.name, language, application.country.languages) or step


def task_out(application: Application, step: str, task_id: str, record: ExternalId | None,
             language: str) -> dict[str, Any]:
    return {
        "taskId": task_id,
        "taskName": step_name(application, step, language),
        "assigneeId": _user_id(application.assigned_to),
        "roleId": "officer",
        "created": iso(application.submitted_at),
        "description": application.number,
        "fileId": file_id(application, record),
        "serviceId": service_ids([application.service])[application.service_id],
        "serviceName": service_name(application.service, language),
        "eFormId": eform_ids([application.standard])[application.standard_id],
        "formVariables": {},
        "status": task_status(application, step),
        "data": {},
    }


def task_list(
    user: User, *, file_id_filter: str | None, main_task_id: str | None,
    assignee_id: str | None, first: int, limit: int | None, sort_by: str, descending: bool,
    language: str,
) -> list[dict[str, Any]]:
    """The open steps of the applications `user` may see: one task per open application,
    its current step."""
    applications = application_selectors.visible(user).filter(outcome="")
    for wanted in (file_id_filter, main_task_id):
        if wanted is not None:
            application = application_by_file_id(user, wanted)
            if application is None:
                return []
            applications = applications.filter(pk=application.pk)
    if assignee_id is not None:
        if not assignee_id.isdigit():
            return []
        applications = applications.filter(assigned_to_id=int(assignee_id))
    order = SORT_FIELDS.get(sort_by, "submitted_at")
    applications = applications.order_by(f"-{order}" if descending else order, "pk")
    page = list(applications[first: first + limit] if limit is not None else applications[first:])
    records = file_records(page)
    tasks = {
        (row.application_id, row.data.get("state")): row.external_id
        for row in ExternalId.objects.filter(kind=Kind.TASK, application__in=page)
    }
    out = []
    for application in page:
        record = records.get(application.pk)
        task_id = tasks.get((application.pk, application.state)) or file_id(application, record)
        row = task_out(application, application.state, task_id, record, language)
        row["mainTaskId"] = file_id(application, record)
        row["name"] = row.pop("taskName")
        for key in ("formVariables", "data"):
            row.pop(key)
        out.append(row)
    return out


# --- statistics -----------------------------------------------------------------------

TIMEFRAMES = ("day", "week", "month", "year")
TRUNCATE = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth, "year": TruncYear}


def services_by_registration_name(name: str) -> list[Service] | None:
    """The services a statistics query's registrationName names: a GovStack registration
    name, a service code, or a service's name in any language; None when nothing matches."""
    by_record = list(
        ExternalId.objects.filter(kind=Kind.SERVICE, data__registrationName=name)
        .values_list("service_id", flat=True)
    )
    matched = set(by_record)
    matched |= set(Service.objects.filter(code=name).values_list("pk", flat=True))
    wanted = name.casefold()
    for standard in ServiceStandard.objects.only("service_id", "name"):
        if any(str(text).casefold() == wanted for text in (standard.name or {}).values()):
            matched.add(standard.service_id)
    if not matched:
        return None
    return list(Service.objects.filter(pk__in=matched))


def _bucket_end(start: dt.date, timeframe: str) -> dt.date:
    if timeframe == "week":
        return start + dt.timedelta(days=6)
    if timeframe == "month":
        following = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return following - dt.timedelta(days=1)
    if timeframe == "year":
        return start.replace(month=12, day=31)
    return start


def statistics(
    *, start: dt.date | None, end: dt.date | None, services: list[Service] | None,
    registration_name: str, operator: str, role: str, timeframe: str,
) -> list[dict[str, Any]]:
    """Counts of applications processed (ended), approved (result issued), rejected
    (refused or withdrawn) and sent back to the applicant (the clock stopped), by the day
    each happened, in one row per timeframe bucket that has any (one row for the whole
    period without a timeframe). Counted in the database; aggregates only: nothing in
    them identifies anyone."""
    ended = Q(application__outcome__gt="", to_state=F("application__state")) & ~Q(
        from_state=F("to_state")
    )
    sent_back = Q(clock="stop")
    events = ApplicationEvent.objects.filter(ended | sent_back)
    zone = timezone.get_current_timezone()
    if start is not None:
        events = events.filter(at__gte=dt.datetime.combine(start, dt.time(), zone))
    if end is not None:
        following = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone)
        events = events.filter(at__lt=following)
    if services is not None:
        events = events.filter(application__service__in=services)
    if operator:
        events = events.filter(
            Q(actor__username=operator) | Q(application__assigned_to__username=operator)
        )
    if role:
        events = events.filter(actor_role=role)
    counts = {
        "processed": Count("pk", filter=ended),
        "approved": Count("pk", filter=ended & Q(application__outcome="issued")),
        "sentBack": Count("pk", filter=sent_back),
        "rejected": Count("pk", filter=ended & ~Q(application__outcome="issued")),
    }
    rows: dict[dt.date | None, dict[str, int]] = {}
    if timeframe:
        bucket = TRUNCATE[timeframe]("at", tzinfo=zone)
        for row in events.annotate(bucket=bucket).values("bucket").annotate(**counts).order_by(
            "bucket"
        ):
            day = row.pop("bucket")
            rows[day.date() if isinstance(day, dt.datetime) else day] = row
    else:
        rows[None] = events.aggregate(**counts)
    out = []
    for key in sorted(rows, key=lambda k: k or dt.date.min):
        first = key if key is not None else start
        last = _bucket_end(key, timeframe) if key is not None else end
        references: dict[str, Any] = {
            "startDate": first.isoformat() if first else "",
            "endDate": last.isoformat() if last else "",
            "registrationName": registration_name,
            "operator": operator,
            "role": role,
        }
        for frame in TIMEFRAMES:
            references[f"timeframe{frame.capitalize()}"] = timeframe == frame
        out.append({**rows[key], "references": references})
    return out
