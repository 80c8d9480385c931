"""Use cases of the GovStack façade: submitting and updating application files,
completing tasks, uploading documents, and loading the conformance suite's records."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from onestop.accounts.models import User
from onestop.accounts.roles import AGENCY_ROLES, Role
from onestop.applications import services as application_services
from onestop.applications.errors import Conflict, Forbidden, NotFound, SubmissionInvalid
from onestop.applications.models import Application, Channel
from onestop.catalogue.models import Agency, Country, Service, ServiceStandard, WorkflowDefinition
from onestop.govstack.models import ExternalId, Kind, Member, Upload

SUBMITTING_ROLES = frozenset({Role.CITIZEN, Role.OPERATOR, Role.OFFICER, Role.SUPERVISOR})


def national_id_of(applicant_id: str) -> str:
    """The applicant's identification number onestop records for a GovStack applicantId:
    the identifier with its hyphens dropped (6-32 letters or digits, else refused)."""
    value = applicant_id.replace("-", "").strip()
    if not value.isalnum() or not 6 <= len(value) <= 32:
        raise SubmissionInvalid(
            {"applicantId": ["6-32 letters or digits (hyphens are ignored)"]}
        )
    return value


def submit_file(
    *, user: User, service: Service, payload: dict[str, Any], now: dt.datetime | None = None,
) -> tuple[Application, ExternalId]:
    """Submit an application through the GovStack channel and give it a fileId."""
    if user.role not in SUBMITTING_ROLES:
        raise Forbidden(f"a {user.role} does not submit applications")
    applicant_id = payload["applicantId"]
    if user.role == Role.CITIZEN:
        national_id = user.national_id
        if national_id_of(applicant_id) != national_id:
            raise Forbidden("a citizen applies only for themselves")
    else:
        national_id = national_id_of(applicant_id)
    form = payload.get("formData") or {}
    submission = application_services.submit(
        service=service,
        form_data=form.get("data") or {},
        channel=Channel.GOVSTACK,
        national_id=national_id,
        applicant=user if user.role == Role.CITIZEN else None,
        submitted_by=user,
        now=now,
    )
    record = ExternalId.objects.create(
        kind=Kind.FILE, external_id=str(uuid.uuid4()), application=submission.application,
        data=_file_data(payload),
    )
    return submission.application, record


def _file_data(payload: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"applicantId": payload["applicantId"]}
    for key in ("applicationName", "created"):
        if isinstance(payload.get(key), str):
            data[key] = payload[key][:200]
    urls = payload.get("documentUrls")
    if isinstance(urls, list):
        data["documentUrls"] = [str(url)[:500] for url in urls[:50]]
    return data


def update_file(*, user: User, application: Application, payload: dict[str, Any],
                now: dt.datetime | None = None) -> ExternalId:
    """Record an operator's form data on an application file (kept beside the
    applicant's form, which stays as submitted)."""
    role = application_services.role_on(user, application)
    if role not in AGENCY_ROLES:
        raise Forbidden("only the agency's officers and supervisors update a file")
    now = now or timezone.now()
    with transaction.atomic():
        record = ExternalId.objects.select_for_update().filter(
            kind=Kind.FILE, application=application
        ).first()
        if record is None:
            record = ExternalId(kind=Kind.FILE, external_id=application.number,
                                application=application,
                                data={"applicantId": application.applicant_national_id})
        form = payload.get("formData") or {}
        record.data = {
            **record.data,
            "operatorData": form.get("data") or {},
            "operatorEFormId": str(form.get("eFormId") or ""),
            "operatorUpdatedAt": now.isoformat(),
            "operatorUpdatedBy": user.pk,
        }
        if isinstance(payload.get("documentUrls"), list):
            record.data["documentUrls"] = _file_data(payload).get("documentUrls", [])
        record.save()
    return record


@dataclass(frozen=True)
class Completion:
    application: Application
    action: str  # "" when the task had already been completed


def complete_task(*, user: User, application: Application, step: str,
                  now: dt.datetime | None = None) -> Completion:
    """Complete the task of `application` at `step`: take the one action this user's
    role may take there that needs no further input (accepting an application for
    review, issuing an approved result). A task already completed (the application has
    moved on) is answered as it is, unchanged."""
    if application.state != step or not application.is_open:
        return Completion(application=application, action="")
    role = application_services.role_on(user, application)
    workflow = application_services.workflow_of(application)
    actions = [a for a in workflow.actions_for(step, role) if not a.requires]
    if not actions:
        needing = [a.code for a in workflow.actions_for(step, role)]
        raise Conflict(
            "this step needs input to complete (" + ", ".join(needing) + ")"
            if needing else f"a {role} has no step to take here"
        )
    updated = application_services.act(
        application=application, user=user, action=actions[0].code, now=now
    )
    return Completion(application=updated, action=actions[0].code)


def store_upload(*, user: User, content: bytes, content_type: str, metadata: str) -> Upload:
    limit = settings.ONESTOP_MAX_UPLOAD_BYTES
    if not content:
        raise SubmissionInvalid({"file": ["is empty"]})
    if len(content) > limit:
        raise SubmissionInvalid({"file": [f"is larger than {limit // 1_000_000} MB"]})
    upload = Upload(
        content_type=content_type[:100] or "application/octet-stream",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        metadata=metadata[:500],
        uploaded_by=user,
    )
    upload.file.save(str(upload.pk), ContentFile(content), save=False)
    upload.save()
    return upload


# --- the conformance suite's records -----------------------------------------------------

FIXTURE_AGENCY = "GOVSTACK-CONFORMANCE"
FIXTURE_MEMBER = "eGovStack/GOV/90000009/eregistrations-dev"
FIXTURE_USER = "govstack-conformance"
# (GovStack id, onestop code, name, registration name, version, e-form id)
FIXTURE_SERVICES = (
    ("f7d33db0-2809-484e-a780-76b7ccd4ecbf", "GS000001", "Mother and Child Registration",
     "MCTS", "d98a205a-679b-485b-823d-7a32a391e744"),
    ("P2c9280957e579ad7017e58a3399f0068", "GS000002", "Good Health and Well-Being", "",
     "w12a205a-679b-xx34-823d-7a32a391e744"),
    ("WWc9280957e579ad0007e58a3399f0068", "GS000003", "Industry and Infrastructure", "",
     "w12a89q9-679b-xx34-823d-7a32a391e744"),
    ("DEc9280007e579ad7017e58a3399k5528", "GS000004", "Zero Hunger", "",
     "k02a20pa-679b-34xx-823d-7a32a391e744"),
    ("c37b650a-24a9-4151-95d0-4d9c7437fe81", "GS000005", "Registration", "", ""),
    ("8b410187-e137-4487-b627-09b2b909e630", "GS000006", "Post partum registration service",
     "", "3f7d1b2e-6c51-473a-a583-814f868cf172"),
)
# (fileId, GovStack service id, applicantId)
FIXTURE_FILES = (
    ("81c4445c-bff6-11ed-afa1-0242ac120002", "f7d33db0-2809-484e-a780-76b7ccd4ecbf",
     "42962de0-bdb2-11ed-9397-0242ac120004"),
    ("33c4445c-bff3-13ed-afa1-0332ac120033", "f7d33db0-2809-484e-a780-76b7ccd4ecbf",
     "42933de0-bdb2-33ed-0033-3342ac120004"),
    ("77c4775c-b7f3-17ed-afa1-0772ac120077", "f7d33db0-2809-484e-a780-76b7ccd4ecbf",
     "11962de0-11b2-11cc-9390-0242ac121114"),
    ("11c4115c-b7f3-17ed-afa1-0112ac120011", "f7d33db0-2809-484e-a780-76b7ccd4ecbf",
     "99b62de0-11b2-11cc-9390-0242ac121555"),
    ("b8508d35-c2f3-442b-88a1-267ca25e85c0", "8b410187-e137-4487-b627-09b2b909e630",
     "622fcd1a-8070-4efc-9d26-29461f83a15b"),
    ("99be529c-fe1a-11ed-be56-0242ac120555", "f7d33db0-2809-484e-a780-76b7ccd4ecbf",
     "42962de0-bdb2-11ed-9397-0242ac120004"),
    ("P2c9280957e579ad7017e58a3399f1234", "P2c9280957e579ad7017e58a3399f0068",
     "42962de0-bdb2-11ed-9397-0242ac120004"),
    ("40f8df24-60a1-4558-9576-9a2264570e86", "f7d33db0-2809-484e-a780-76b7ccd4ecbf",
     "622fcd1a-8070-4efc-9d26-29461f83a15b"),
)
# (taskId, fileId): each the first step of its file
FIXTURE_TASKS = (
    ("42962de0-bdb2-11ed-9397-0242ac120033", "99be529c-fe1a-11ed-be56-0242ac120555"),
    ("d1e33d56-c5c7-4272-aeb6-bc2732cce1f2", "40f8df24-60a1-4558-9576-9a2264570e86"),
)


@dataclass(frozen=True)
class FixtureResult:
    created: int
    existing: int


def load_fixtures(country: Country, *, workflow: str = "simple_approval",
                  now: dt.datetime | None = None) -> FixtureResult:
    """Load onestop records carrying the fixed identifiers the GovStack conformance
    suite uses: a test agency with its officer (acting for the suite's member system),
    its services with their e-forms, application files and tasks. Loading again creates
    nothing new. The applicants are test identifiers, not people."""
    if not WorkflowDefinition.objects.filter(country=country, code=workflow).exists():
        raise NotFound(f"workflow {workflow!r} is not loaded for {country.code}")
    now = now or timezone.now()
    created = existing = 0
    with transaction.atomic():
        agency, made = Agency.objects.get_or_create(
            country=country, code=FIXTURE_AGENCY,
            defaults={"name": dict.fromkeys(country.languages, "GovStack conformance test agency")},
        )
        created, existing = created + made, existing + (not made)
        user = User.objects.filter(username=FIXTURE_USER).first()
        if user is None:
            user = User.objects.create_user(
                username=FIXTURE_USER, password=secrets.token_urlsafe(32),
                role=Role.OFFICER, agency=agency,
            )
            created += 1
        else:
            existing += 1
        _member, made = Member.objects.get_or_create(
            client=FIXTURE_MEMBER, defaults={"user": user, "is_default": True}
        )
        created, existing = created + made, existing + (not made)
        for service_id, code, name, registration_name, eform_id in FIXTURE_SERVICES:
            made = _fixture_service(country, agency, workflow, service_id, code, name,
                                    registration_name, eform_id)
            created, existing = created + made, existing + (not made)
    by_id = {row.external_id: row.service for row in ExternalId.objects.filter(
        kind=Kind.SERVICE, external_id__in=[s[0] for s in FIXTURE_SERVICES]
    ).select_related("service__country") if row.service is not None}
    for file_id, service_id, applicant_id in FIXTURE_FILES:
        if ExternalId.objects.filter(kind=Kind.FILE, external_id=file_id).exists():
            existing += 1
            continue
        with transaction.atomic():
            submission = application_services.submit(
                service=by_id[service_id], form_data={}, channel=Channel.GOVSTACK,
                national_id=national_id_of(applicant_id), submitted_by=user, now=now,
            )
            ExternalId.objects.create(
                kind=Kind.FILE, external_id=file_id, application=submission.application,
                data={"applicantId": applicant_id, "applicationName": "Conformance test file"},
            )
        created += 1
    for task_id, file_id in FIXTURE_TASKS:
        application = ExternalId.objects.select_related("application").get(
            kind=Kind.FILE, external_id=file_id
        ).application
        if application is None:  # fixture files always name their application
            raise NotFound(f"the fixture file {file_id} has no application")
        _, made = ExternalId.objects.get_or_create(
            kind=Kind.TASK, external_id=task_id,
            defaults={"application": application,
                      "data": {"state": application_services.workflow_of(application).initial}},
        )
        created, existing = created + made, existing + (not made)
    return FixtureResult(created=created, existing=existing)


def _fixture_service(country: Country, agency: Agency, workflow: str, service_id: str,
                     code: str, name: str, registration_name: str, eform_id: str) -> bool:
    if ExternalId.objects.filter(kind=Kind.SERVICE, external_id=service_id).exists():
        return False
    service, _ = Service.objects.get_or_create(
        country=country, code=code,
        defaults={"provider": agency, "workflow": workflow,
                  "search_text": name.casefold()},
    )
    names = dict.fromkeys(country.languages, name)
    standard, _ = ServiceStandard.objects.get_or_create(
        service=service, valid_from=dt.date(2020, 1, 1),
        defaults={
            "name": names,
            "description": dict.fromkeys(
                country.languages, "A service of the GovStack conformance suite."
            ),
            "channels": ["portal"],
            "deadline_value": 5,
            "deadline_unit": "working_days",
            "form": "electronic",
            "result": names,
            "fee_amount": Decimal("0"),
            "documents": [{"code": "application", "name": names, "source": "applicant",
                           "required": True}],
            "eform": {"type": "object", "properties": {}, "additionalProperties": True},
        },
    )
    ExternalId.objects.create(
        kind=Kind.SERVICE, external_id=service_id, service=service,
        data={"registrationName": registration_name} if registration_name else {},
    )
    if eform_id and not ExternalId.objects.filter(kind=Kind.EFORM,
                                                  external_id=eform_id).exists():
        ExternalId.objects.create(kind=Kind.EFORM, external_id=eform_id, standard=standard)
    return True
