"""The GovStack Registration Building Block API (paths, shapes and status codes of its
OpenAPI document), as plain views over onestop's services, applications and tasks.

Who calls: a bearer token of a onestop account (`POST /api/v1/auth/token`), whose role
rules apply as everywhere in onestop; or, only when the façade is served behind the
information mediator's security server (`onestop serve --govstack`, setting
ONESTOP_GOVSTACK_GATEWAY), the member system named by the Information-Mediator-Client
header, acting as the account registered for it. The register, e-forms and statistics
are public; application files, tasks and documents are not.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from onestop.accounts.models import User
from onestop.accounts.services import authenticate_token
from onestop.applications.errors import (
    ApplicationError,
    Conflict,
    Forbidden,
    NotFound,
    SubmissionInvalid,
)
from onestop.core import views as core_views
from onestop.govstack import selectors, services
from onestop.govstack.models import Member

JSON = "application/json; charset=utf-8"
MEDIATOR_HEADER = "Information-Mediator-Client"
# INSTANCE/CLASS/MEMBER/SUBSYSTEM, none of them empty
MEDIATOR_FORMAT = re.compile(r"^[^/\s]+/[^/\s]+/[^/\s]+/[^/\s]+$")
STATUS_OF_ERROR = {SubmissionInvalid: 400, NotFound: 404, Forbidden: 403, Conflict: 409}


class Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(detail)


def _json(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, content_type=JSON)


def _error(status: int, detail: str) -> JsonResponse:
    return _json({"detail": detail}, status=status)


def endpoint(methods: tuple[str, ...]) -> Callable[[Callable[..., HttpResponse]],
                                                   Callable[..., HttpResponse]]:
    """A façade view: only these methods, errors as {"detail": ...} with their status."""

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt  # no cookies are read: callers are identified by token or mediator
        def handle(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = _error(405, _("method not allowed"))
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except Refused as exc:
                return _error(exc.status, exc.detail)
            except ApplicationError as exc:
                return _error(STATUS_OF_ERROR.get(type(exc), 400), str(exc))

        handle.__name__ = view.__name__
        handle.__doc__ = view.__doc__
        return handle

    return wrap


def _language(request: HttpRequest) -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def caller(request: HttpRequest) -> User:
    """The account a call acts as (see the module's docstring), or 401/403."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        user = authenticate_token(header.removeprefix("Bearer ").strip())
        if user is None:
            raise Refused(401, _("a valid bearer token is required"))
        return user
    if settings.ONESTOP_GOVSTACK_GATEWAY:
        client = request.headers.get(MEDIATOR_HEADER)
        if client is not None:
            if not MEDIATOR_FORMAT.match(client):
                raise Refused(400, _("Information-Mediator-Client must read "
                                     "INSTANCE/CLASS/MEMBER/SUBSYSTEM"))
            member = Member.objects.select_related("user").filter(client=client).first()
        else:
            member = Member.objects.select_related("user").filter(is_default=True).first()
        if member is None:
            raise Refused(403, _("this member system is not registered with onestop"))
        if not member.user.is_active:
            raise Refused(403, _("the account of this member system is disabled"))
        return member.user
    raise Refused(401, _("a valid bearer token is required"))


def _body(request: HttpRequest) -> dict[str, Any]:
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        # the flat fields of a form post (applicantId, applicationName, created)
        return {key: request.POST.get(key) for key in request.POST}
    try:
        payload = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, _("the body must be JSON")) from None
    if not isinstance(payload, dict):
        raise Refused(400, _("the body must be a JSON object"))
    return payload


def _file_payload(request: HttpRequest) -> dict[str, Any]:
    payload = _body(request)
    if not isinstance(payload.get("applicantId"), str) or not payload["applicantId"].strip():
        raise Refused(400, _("applicantId is required"))
    form = payload.get("formData")
    if form is not None and (
        not isinstance(form, dict)
        or not isinstance(form.get("data", {}), dict | None)
    ):
        raise Refused(400, _("formData must be an object whose data is an object"))
    urls = payload.get("documentUrls")
    if urls is not None and not isinstance(urls, list):
        raise Refused(400, _("documentUrls must be an array"))
    return payload


def _int(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise Refused(400, _("%(name)s must be a whole number") % {"name": name}) from None
    if value < 0:
        raise Refused(400, _("%(name)s may not be negative") % {"name": name})
    return value


def _paging(request: HttpRequest) -> dict[str, Any]:
    order = (request.GET.get("sortOrder") or "asc").lower()
    if order not in ("asc", "desc"):
        raise Refused(400, _("sortOrder is asc or desc"))
    limit = _int(request, "maxResult")
    return {
        "first": _int(request, "firstResult") or 0,
        "limit": min(limit, 1000) if limit is not None else 1000,
        "sort_by": request.GET.get("sortBy") or "created",
        "descending": order == "desc",
    }


# --- health ---------------------------------------------------------------------------


def healthcheck(request: HttpRequest) -> HttpResponse:
    return core_views.healthz(request)


# --- services and e-forms (public) ------------------------------------------------------


@endpoint(("GET",))
def service_list(request: HttpRequest) -> HttpResponse:
    return _json(selectors.service_list(request.GET.get("name"), _language(request)))


@endpoint(("GET",))
def service_detail(request: HttpRequest, service_id: str) -> HttpResponse:
    service = selectors.service_by_id(service_id)
    if service is None:
        return _error(404, _("service not found"))
    # A list of one service: what the compliance suite checks (its list schema) and the
    # reference mock answers, although the API document names one `service` object.
    return _json([selectors.service_out(service, service_id, _language(request))])


@endpoint(("GET",))
def service_eforms(request: HttpRequest, service_id: str) -> HttpResponse:
    service = selectors.service_by_id(service_id)
    if service is None:
        return _error(404, _("service not found"))
    return _json(selectors.service_eforms(service, _language(request)))


@endpoint(("GET",))
def eform_detail(request: HttpRequest, eform_id: str) -> HttpResponse:
    eform = selectors.eform_by_id(eform_id, _language(request))
    if eform is None:
        return _error(404, _("e-form not found"))
    return _json(eform)


# --- application files ----------------------------------------------------------------


@endpoint(("POST",))
def submit_application(request: HttpRequest, service_id: str) -> HttpResponse:
    user = caller(request)
    service = selectors.service_by_id(service_id)
    if service is None:
        return _error(404, _("service not found"))
    payload = _file_payload(request)
    application, record = services.submit_file(user=user, service=service, payload=payload)
    return _json(selectors.file_out(application, record, _language(request)))


@endpoint(("GET",))
def application_list(request: HttpRequest) -> HttpResponse:
    user = caller(request)
    return _json(selectors.file_list(
        user, service_id=request.GET.get("serviceId"),
        applicant_id=request.GET.get("applicantId"), language=_language(request),
        **_paging(request),
    ))


@endpoint(("GET", "PUT"))
def application_detail(request: HttpRequest, file_id: str) -> HttpResponse:
    user = caller(request)
    application = selectors.application_by_file_id(user, file_id)
    if application is None:
        return _error(404, _("application file not found"))
    if request.method == "PUT":
        payload = _file_payload(request)
        record = services.update_file(user=user, application=application, payload=payload)
        application.refresh_from_db()
        out = selectors.file_out(application, record, _language(request))
        out["applicationData"]["formData"] = {
            "data": record.data.get("operatorData", {}),
            "eFormId": record.data.get("operatorEFormId") or
            out["applicationData"]["formData"]["eFormId"],
        }
        return _json(out)
    records = selectors.file_records([application])
    return _json(selectors.file_out(application, records.get(application.pk),
                                    _language(request)))


# --- documents ------------------------------------------------------------------------


def _system_error(status: int, message: str) -> JsonResponse:
    return _json({"traceId": uuid.uuid4().hex, "code": str(status), "message": message,
                  "localizedMessage": message}, status=status)


@endpoint(("POST",))
def upload_document(request: HttpRequest) -> HttpResponse:
    user = caller(request)
    files = request.FILES.getlist("file")
    contents: list[tuple[bytes, str]] = [
        (f.read(), f.content_type or "application/octet-stream") for f in files
    ]
    for text in request.POST.getlist("file"):
        try:
            contents.append((base64.b64decode(text, validate=True), "application/octet-stream"))
        except (binascii.Error, ValueError):
            return _system_error(400, _("file must be base64 or a multipart file"))
    if not contents:
        return _system_error(400, _("no file was sent"))
    metadata = request.GET.get("additionalMetadata", "")
    uploads = []
    try:
        for content, content_type in contents:
            uploads.append(services.store_upload(user=user, content=content,
                                                 content_type=content_type, metadata=metadata))
    except SubmissionInvalid as exc:
        return _system_error(400, str(exc))
    urls = [f"{request.path.rstrip('/')}/{upload.pk}" for upload in uploads]
    return _json({"code": 200, "type": "uploaded", "message": _("file uploaded"),
                  "url": ", ".join(urls)})


# --- tasks ----------------------------------------------------------------------------


@endpoint(("GET",))
def task_list(request: HttpRequest) -> HttpResponse:
    user = caller(request)
    return _json(selectors.task_list(
        user, file_id_filter=request.GET.get("fileId"),
        main_task_id=request.GET.get("mainTaskId"),
        assignee_id=request.GET.get("assigneeId"), language=_language(request),
        **_paging(request),
    ))


@endpoint(("GET", "POST", "PUT", "PATCH", "DELETE"))
def task_detail(request: HttpRequest, task_id: str) -> HttpResponse:
    user = caller(request)
    found = selectors.task_by_id(user, task_id)
    if found is None:
        return _error(404, _("task not found"))
    if request.method != "GET":
        # an unknown task is not found whatever the method; a known one is only read here
        response = _error(405, _("method not allowed"))
        response["Allow"] = "GET"
        return response
    application, step, task_id = found
    records = selectors.file_records([application])
    return _json(selectors.task_out(application, step, task_id, records.get(application.pk),
                                    _language(request)))


@endpoint(("POST",))
def task_complete(request: HttpRequest, task_id: str) -> HttpResponse:
    user = caller(request)
    found = selectors.task_by_id(user, task_id)
    if found is None:
        return _error(404, _("task not found"))
    payload = _body(request)
    if not isinstance(payload.get("data", {}), dict):
        raise Refused(400, _("data must be an object"))
    application, step, task_id = found
    completion = services.complete_task(user=user, application=application, step=step)
    application = completion.application
    records = selectors.file_records([application])
    return _json({
        "taskId": task_id,
        "fileId": selectors.file_id(application, records.get(application.pk)),
        "serviceId": selectors.service_ids([application.service])[application.service_id],
        "status": selectors.status_of(application),
        "variables": {"action": {"data": {"code": {"value": completion.action}}}}
        if completion.action else {},
    })


# --- statistics (public aggregates) ---------------------------------------------------------


def _date(request: HttpRequest, name: str) -> dt.date | None:
    raw = request.GET.get(name)
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise Refused(400, _("%(name)s must be a date YYYY-MM-DD") % {"name": name}) from None


@endpoint(("GET",))
def statistics(request: HttpRequest) -> HttpResponse:
    client = request.headers.get(MEDIATOR_HEADER, "")
    if not MEDIATOR_FORMAT.match(client):
        return _error(400, _("the Information-Mediator-Client header must read "
                             "INSTANCE/CLASS/MEMBER/SUBSYSTEM"))
    start, end = _date(request, "startDate"), _date(request, "endDate")
    if start and end and start > end:
        return _error(400, _("startDate is after endDate"))
    timeframe = request.GET.get("timeframe", "")
    if timeframe and timeframe not in selectors.TIMEFRAMES:
        return _error(400, _("timeframe is day, week, month or year"))
    name = request.GET.get("registrationName", "")
    found = None
    if name:
        found = selectors.services_by_registration_name(name)
        if found is None:
            return _error(404, _("no registration of that name"))
    return _json(selectors.statistics(
        start=start, end=end, services=found, registration_name=name,
        operator=request.GET.get("operator", ""), role=request.GET.get("role", ""),
        timeframe=timeframe,
    ))
