"""Reads of Open311: the jurisdiction, the services clients may request, their
definitions, and the public view of the requests filed through Open311.

Every request record here is public (Open311 has no reader authentication), so it is
built only from the register (service, agency, centre, deadlines, state names) and the
case's state: never a name, national ID, phone, email, form field or free text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from onestop.applications.errors import NotFound as ApplicationNotFound
from onestop.applications.models import Application, ApplicationEvent
from onestop.applications.services import workflow_of
from onestop.applications.workflow import Workflow
from onestop.catalogue.models import Agency, Country, Service, ServiceStandard
from onestop.catalogue.selectors import current_standard, local_today, service_to_apply_for
from onestop.centres.models import Centre
from onestop.core.text import localize
from onestop.feedback.models import (
    Complaint,
    ComplaintDecision,
    ComplaintEvent,
    ComplaintLevel,
    ComplaintState,
    ComplaintSubject,
    FeedbackRules,
)
from onestop.open311 import eform
from onestop.open311.errors import Open311Error, bad_request, not_found
from onestop.open311.models import ApiKey, ServiceRequest

# Open311 clients file online: a service is offered to them when one of these is among
# its standard's channels (the `open311` submission channel counts as the portal).
ONLINE_CHANNELS = frozenset({"portal", "mobile"})
COMPLAINT_PREFIX = "complaint-"
# Complaint subjects an Open311 client can name (a complaint about an operator needs the
# ticket of one's own visit, which only the portal knows).
COMPLAINT_SUBJECTS = (ComplaintSubject.APPLICATION, ComplaintSubject.AGENCY,
                      ComplaintSubject.CENTRE)
NATIONAL_ID = "applicant_national_id"
SUBJECT = "subject"
APPLICATION_NUMBER = "application_number"
AGENCY = "agency"
CENTRE = "centre"
MAX_REQUESTS = 1000
DEFAULT_DAYS = 90
OPEN, CLOSED = "open", "closed"
OPEN_COMPLAINT_STATES = (ComplaintState.REGISTERED, ComplaintState.IN_REVIEW)
CLOSED_COMPLAINT_STATES = (ComplaintState.DECIDED, ComplaintState.WITHDRAWN)


@dataclass(frozen=True)
class Language:
    code: str
    fallbacks: tuple[str, ...]

    def text(self, value: Any) -> str:
        return localize(value, self.code, self.fallbacks) if isinstance(value, dict) else ""


def language_for(country: Country, language: str) -> Language:
    return Language(language, tuple(country.languages))


# --- jurisdiction ----------------------------------------------------------------------


def jurisdiction(jurisdiction_id: str | None) -> Country:
    """The country a call is about: `jurisdiction_id` is its pack code, needed only when
    more than one country is loaded."""
    countries = list(Country.objects.order_by("code"))
    if jurisdiction_id:
        for country in countries:
            if country.code == jurisdiction_id.strip().lower():
                return country
        raise not_found(_("jurisdiction_id: no jurisdiction %(code)s here")
                        % {"code": jurisdiction_id[:20]})
    if len(countries) == 1:
        return countries[0]
    if not countries:
        raise not_found(_("no jurisdiction is served here yet"))
    raise bad_request(_("jurisdiction_id: required here; one of %(codes)s")
                      % {"codes": ", ".join(c.code for c in countries)})


def changeset(countries: Iterable[Country]) -> dt.datetime:
    """When the register last changed: the latest pack load."""
    moments = [c.loaded_at for c in countries]
    return max(moments) if moments else timezone.now()


# --- services --------------------------------------------------------------------------


def why_not_offered(standard: ServiceStandard | None) -> str | None:
    """Why a service cannot be requested through Open311 now, or None when it can."""
    if standard is None:
        return _("this service has no standard in force today")
    if not ONLINE_CHANNELS & set(standard.channels):
        return _("this service is not offered online; apply at a centre or the agency")
    if standard.fee_amount > 0:
        return _("this service has a fee, paid on the portal; Open311 cannot take payments")
    if any(doc.get("source") == "applicant" and doc.get("code") != "application"
           and doc.get("required", True) for doc in standard.documents):
        return _("this service asks for documents, uploaded on the portal; "
                 "Open311 cannot take them")
    return None


def offered_services(country: Country, now: dt.datetime | None = None
                     ) -> list[tuple[Service, ServiceStandard]]:
    """The register's services an Open311 client can request now, with the standard
    in force."""
    today = local_today(country, now)
    services = (Service.objects.filter(country=country).select_related("provider")
                .prefetch_related("versions", "life_situations").order_by("code"))
    found = []
    for service in services:
        standard = current_standard(service, today)
        if standard is not None and why_not_offered(standard) is None:
            found.append((service, standard))
    return found


def grounds(country: Country) -> tuple[FeedbackRules | None, list[dict[str, Any]]]:
    """The pack's complaint grounds an Open311 client can use, each with the subjects
    it covers among those Open311 can name."""
    rules = FeedbackRules.objects.filter(country=country).first()
    if rules is None:
        return None, []
    found = []
    for ground in rules.grounds:
        subjects = [s for s in COMPLAINT_SUBJECTS if s in (ground.get("subjects") or [])]
        if ground.get("code") and subjects:
            found.append({**ground, "subjects": subjects})
    return rules, found


def _subject_words(subject: str) -> str:
    words: dict[str, str] = {
        ComplaintSubject.APPLICATION: _("an application"),
        ComplaintSubject.AGENCY: _("an agency"),
        ComplaintSubject.CENTRE: _("a centre"),
    }
    return words.get(subject, subject)


def _complaint_service_name(ground: dict[str, Any], lang: Language) -> str:
    return _("Complaint: %(ground)s") % {"ground": lang.text(ground.get("name"))
                                         or ground["code"]}


def service_list(country: Country, lang: Language) -> list[dict[str, Any]]:
    """GET services: the register's services, then one service per complaint ground."""
    listed: list[dict[str, Any]] = []
    for service, standard in offered_services(country):
        situations = [lang.text(s.name) for s in service.life_situations.all()]
        listed.append({
            "service_code": service.code,
            "service_name": lang.text(standard.name) or service.code,
            "description": lang.text(standard.description),
            "metadata": True,
            "type": "realtime",
            "keywords": ", ".join(k for k in [*situations, lang.text(service.provider.name)]
                                  if k),
            "group": situations[0] if situations else lang.text(service.provider.name),
        })
    _rules, usable = grounds(country)
    for ground in usable:
        listed.append({
            "service_code": COMPLAINT_PREFIX + ground["code"],
            "service_name": _complaint_service_name(ground, lang),
            "description": _("A complaint about %(subjects)s.") % {
                "subjects": _(" or ").join(_subject_words(s) for s in ground["subjects"])
            },
            "metadata": True,
            "type": "realtime",
            "keywords": _("complaint"),
            "group": _("Complaints"),
        })
    return listed


def _national_id_attribute(order: int, required: bool, what: str) -> dict[str, Any]:
    return {
        "variable": True, "code": NATIONAL_ID, "datatype": "string", "required": required,
        "datatype_description": _("6-32 letters or digits"), "order": order,
        "description": what, "values": [],
    }


def register_service(country: Country, code: str) -> tuple[Service, ServiceStandard]:
    """A service of the register an Open311 client may request, or a 404/400."""
    found = service_to_apply_for(country.code, code)
    if found is None:
        raise not_found(_("service_code: no service %(code)s") % {"code": code[:80]})
    service, standard = found
    problem = why_not_offered(standard)
    if problem is not None or standard is None:
        raise bad_request(f"service_code: {problem}")
    return service, standard


def complaint_ground(country: Country, code: str) -> tuple[FeedbackRules, dict[str, Any]]:
    rules, usable = grounds(country)
    for ground in usable:
        if COMPLAINT_PREFIX + ground["code"] == code:
            assert rules is not None
            return rules, ground
    raise not_found(_("service_code: no service %(code)s") % {"code": code[:80]})


def service_definition(country: Country, code: str, lang: Language) -> dict[str, Any]:
    """GET services/{code}: the attributes a request for this service carries."""
    if code.startswith(COMPLAINT_PREFIX):
        return {"service_code": code, "attributes": _complaint_attributes(country, code, lang)}
    _service, standard = register_service(country, code)
    found = [_national_id_attribute(
        1, True, _("The applicant's national identification number"))]
    found += eform.attributes(standard.eform or {}, lang.code, lang.fallbacks, first_order=2)
    return {"service_code": code, "attributes": found}


def _complaint_attributes(country: Country, code: str, lang: Language) -> list[dict[str, Any]]:
    rules, ground = complaint_ground(country, code)
    subjects = ground["subjects"]
    found = [
        _national_id_attribute(
            1, not rules.anonymous_complaints,
            _("The national identification number of the citizen who complains; their "
              "onestop account must hold it")),
        {"variable": True, "code": SUBJECT, "datatype": "singlevaluelist", "required": True,
         "datatype_description": "", "order": 2, "description": _("What the complaint is about"),
         "values": [{"key": s, "name": _subject_words(s)} for s in subjects]},
    ]
    order = 3
    if ComplaintSubject.APPLICATION in subjects:
        found.append({
            "variable": True, "code": APPLICATION_NUMBER, "datatype": "string",
            "required": subjects == [ComplaintSubject.APPLICATION],
            "datatype_description": _("the number on the application's receipt"),
            "order": order, "description": _("The application complained about (for the "
                                             "subject application)"),
            "values": [],
        })
        order += 1
    if ComplaintSubject.AGENCY in subjects:
        found.append({
            "variable": True, "code": AGENCY, "datatype": "singlevaluelist",
            "required": subjects == [ComplaintSubject.AGENCY], "datatype_description": "",
            "order": order, "description": _("The agency complained about (for the "
                                             "subject agency)"),
            "values": [{"key": a.code, "name": lang.text(a.name) or a.code}
                       for a in Agency.objects.filter(country=country).order_by("code")],
        })
        order += 1
    if ComplaintSubject.CENTRE in subjects:
        found.append({
            "variable": True, "code": CENTRE, "datatype": "singlevaluelist",
            "required": subjects == [ComplaintSubject.CENTRE], "datatype_description": "",
            "order": order, "description": _("The centre complained about (for the "
                                             "subject centre)"),
            "values": [{"key": c.code, "name": lang.text(c.name) or c.code}
                       for c in Centre.objects.filter(country=country).order_by("code")],
        })
    return found


# --- requests --------------------------------------------------------------------------


def _moment(value: dt.datetime | None, country: Country) -> str | None:
    """ISO 8601 with the offset, in the country's time zone (the spec's form)."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(country.time_zone)).isoformat(timespec="seconds")


def _duration(value: int, unit: str) -> str:
    if unit == "working_days":
        return ngettext("%(n)s working day", "%(n)s working days", value) % {"n": value}
    if unit == "hours":
        return ngettext("%(n)s hour", "%(n)s hours", value) % {"n": value}
    return ngettext("%(n)s minute", "%(n)s minutes", value) % {"n": value}


def requests_queryset() -> QuerySet[ServiceRequest]:
    app_updated = ApplicationEvent.objects.filter(
        application=OuterRef("application")).order_by("-at").values("at")[:1]
    complaint_updated = ComplaintEvent.objects.filter(
        complaint=OuterRef("complaint")).order_by("-at").values("at")[:1]
    escalation_updated = ComplaintEvent.objects.filter(
        complaint__escalated_from=OuterRef("complaint")).order_by("-at").values("at")[:1]
    return ServiceRequest.objects.select_related(
        "country",
        "application__standard", "application__agency", "application__centre",
        "complaint__agency", "complaint__centre", "complaint__escalation",
        "complaint__escalation__agency", "complaint__escalation__centre",
    ).annotate(
        app_updated=Subquery(app_updated),
        complaint_updated=Subquery(complaint_updated),
        escalation_updated=Subquery(escalation_updated),
    )


def status_filter(status: str) -> Q:
    """The requests whose Open311 status is `status` (open or closed)."""
    open_q = (Q(application__isnull=False, application__outcome="")
              | Q(complaint__state__in=OPEN_COMPLAINT_STATES)
              | Q(complaint__state=ComplaintState.ESCALATED,
                  complaint__escalation__state__in=OPEN_COMPLAINT_STATES))
    closed_q = (Q(application__isnull=False) & ~Q(application__outcome="")
                | Q(complaint__state__in=CLOSED_COMPLAINT_STATES)
                | Q(complaint__state=ComplaintState.ESCALATED,
                    complaint__escalation__state__in=CLOSED_COMPLAINT_STATES))
    return open_q if status == OPEN else closed_q


def _application_view(application: Application, country: Country, lang: Language
                      ) -> dict[str, Any]:
    standard = application.standard
    status = OPEN if application.is_open else CLOSED
    notes = application.state
    try:
        workflow: Workflow | None = workflow_of(application)
    except ApplicationNotFound:  # a workflow unloaded since: say the state's code
        workflow = None
    if workflow is not None and application.state in workflow.states:
        notes = lang.text(workflow.states[application.state].name) or application.state
    if application.outcome == "refused" and application.refusal_ground:
        for ground in standard.refusal_grounds:
            if ground.get("code") == application.refusal_ground:
                notes = f"{notes}: {lang.text(ground.get('text')) or ground['code']}"
    centre = application.centre
    return {
        "status": status,
        "status_notes": notes,
        "service_name": lang.text(standard.name),
        "agency_responsible": lang.text(application.agency.name) or application.agency.code,
        "service_notice": _("The service standard's deadline is %(duration)s.") % {
            "duration": _duration(standard.deadline_value, standard.deadline_unit)},
        "expected_datetime": _moment(application.deadline_at, country),
        "address": lang.text(centre.address) or None if centre is not None else None,
    }


def _complaint_notes(complaint: Complaint) -> str:
    if complaint.state == ComplaintState.DECIDED:
        decisions: dict[str, str] = {
            ComplaintDecision.UPHELD: _("upheld"),
            ComplaintDecision.PARTLY_UPHELD: _("partly upheld"),
            ComplaintDecision.REJECTED: _("rejected"),
        }
        decision = decisions.get(complaint.decision, complaint.decision)
        return _("Decided: %(decision)s") % {"decision": decision}
    if complaint.state == ComplaintState.WITHDRAWN:
        return _("Withdrawn by the citizen")
    if complaint.state == ComplaintState.IN_REVIEW:
        return _("In review")
    if complaint.level == ComplaintLevel.CONTROL:
        return _("Taken to the quality-control body, awaiting review")
    return _("Registered, awaiting review")


def _complaint_view(first: Complaint, country: Country, rules: dict[int, FeedbackRules],
                    lang: Language, service_name: str) -> dict[str, Any]:
    # An escalated complaint goes on at the control level: the request follows it.
    complaint = first
    escalation = getattr(first, "escalation", None) if first.state == ComplaintState.ESCALATED \
        else None
    if escalation is not None:
        complaint = escalation
    status = CLOSED if complaint.state in CLOSED_COMPLAINT_STATES else OPEN
    if complaint.level == ComplaintLevel.CONTROL:
        responsible = _("the quality-control body")
    elif complaint.agency is not None:
        responsible = lang.text(complaint.agency.name) or complaint.agency.code
    elif complaint.centre is not None:
        responsible = lang.text(complaint.centre.name) or complaint.centre.code
    else:
        responsible = ""
    deadline = (rules[complaint.country_id].deadlines.get(complaint.level) or {}
                if complaint.country_id in rules else {})
    notice = (_("A complaint is answered within %(duration)s by law.") % {
        "duration": _duration(int(deadline["value"]), str(deadline.get("unit")))}
        if deadline.get("value") else "")
    return {
        "status": status,
        "status_notes": _complaint_notes(complaint),
        "service_name": service_name,
        "agency_responsible": responsible,
        "service_notice": notice,
        "expected_datetime": _moment(complaint.extended_to or complaint.deadline_at, country),
        "address": (lang.text(complaint.centre.address) or None
                    if complaint.centre is not None else None),
    }


def request_views(records: Iterable[ServiceRequest], lang: Language) -> list[dict[str, Any]]:
    """The public records of GET requests, in the spec's order of elements. No
    description: complaint texts and form data are the citizen's words and may name
    people; no contact, no national ID, no onestop number."""
    records = list(records)
    rules = {r.country_id: r for r in FeedbackRules.objects.filter(
        country_id__in={record.country_id for record in records})}
    ground_names: dict[int, dict[str, Any]] = {
        country_id: {g.get("code"): g.get("name") for g in r.grounds}
        for country_id, r in rules.items()
    }
    found = []
    for record in records:
        if record.application is not None:
            view = _application_view(record.application, record.country, lang)
            updated = getattr(record, "app_updated", None) or record.requested_at
        else:
            complaint = record.complaint
            assert complaint is not None
            name = ground_names.get(record.country_id, {}).get(complaint.ground)
            service_name = _("Complaint: %(ground)s") % {
                "ground": lang.text(name) or complaint.ground}
            view = _complaint_view(complaint, record.country, rules, lang, service_name)
            updated = max(m for m in (getattr(record, "complaint_updated", None),
                                      getattr(record, "escalation_updated", None),
                                      record.requested_at) if m is not None)
        found.append({
            "service_request_id": record.public_id,
            "status": view["status"],
            "status_notes": view["status_notes"],
            "service_name": view["service_name"],
            "service_code": record.service_code,
            "description": None,
            "agency_responsible": view["agency_responsible"],
            "service_notice": view["service_notice"],
            "requested_datetime": _moment(record.requested_at, record.country),
            "updated_datetime": _moment(updated, record.country),
            "expected_datetime": view["expected_datetime"],
            "address": view["address"],
            "address_id": None,
            "zipcode": None,
            "lat": None,
            "long": None,
            "media_url": None,
        })
    return found


def _parse_moment(name: str, value: str) -> dt.datetime:
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is not None:
                moment = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    except ValueError:
        moment = None
    if moment is None:
        raise bad_request(_("%(name)s: a date and time in ISO 8601, e.g. "
                            "2026-11-05T08:15:30+05:00") % {"name": name})
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


@dataclass(frozen=True)
class Filters:
    service_request_ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: tuple[str, ...] = ()


def filters_from(params: dict[str, str]) -> Filters:
    """The spec's query parameters, checked: a 400 names every bad one."""
    problems = []
    ids = tuple(p.strip() for p in params.get("service_request_id", "").split(",") if p.strip())
    codes = tuple(p.strip() for p in params.get("service_code", "").split(",") if p.strip())
    statuses = tuple(p.strip().lower() for p in params.get("status", "").split(",")
                     if p.strip())
    if any(s not in (OPEN, CLOSED) for s in statuses):
        problems.append(_("status: open or closed"))
    start = end = None
    for name in ("start_date", "end_date"):
        if params.get(name, "").strip():
            try:
                moment = _parse_moment(name, params[name].strip())
            except Open311Error as exc:
                problems.extend(exc.descriptions)
                continue
            if name == "start_date":
                start = moment
            else:
                end = moment
    if start is not None and end is not None:
        if end < start:
            problems.append(_("end_date: before start_date"))
        elif end - start > dt.timedelta(days=DEFAULT_DAYS):
            problems.append(_("start_date, end_date: at most %(days)s days apart")
                            % {"days": DEFAULT_DAYS})
    if len(ids) > MAX_REQUESTS:
        problems.append(_("service_request_id: at most %(n)s ids") % {"n": MAX_REQUESTS})
    if problems:
        raise bad_request(*problems)
    return Filters(ids, codes, start, end, statuses)


def service_requests(country: Country, filters: Filters, now: dt.datetime | None = None
                     ) -> QuerySet[ServiceRequest]:
    """GET requests: the requests filed through Open311 in this jurisdiction, newest
    first, at most MAX_REQUESTS. Given ids, those requests (the spec: ids override every
    other filter); else within the dates, by default the last DEFAULT_DAYS days."""
    now = now or timezone.now()
    found = requests_queryset().filter(country=country)
    if filters.service_request_ids:
        found = found.filter(public_id__in=filters.service_request_ids)
        return found.order_by("-requested_at", "-pk")[:MAX_REQUESTS]
    end = filters.end or now
    start = filters.start or end - dt.timedelta(days=DEFAULT_DAYS)
    found = found.filter(requested_at__gte=start, requested_at__lte=end)
    if filters.service_codes:
        found = found.filter(service_code__in=filters.service_codes)
    if len(set(filters.statuses)) == 1:
        found = found.filter(status_filter(filters.statuses[0]))
    return found.order_by("-requested_at", "-pk")[:MAX_REQUESTS]


def service_request(country: Country, public_id: str) -> ServiceRequest:
    found = requests_queryset().filter(country=country, public_id=public_id).first()
    if found is None:
        raise not_found(_("service_request_id: no request %(id)s") % {"id": public_id[:40]})
    return found


def by_token(country: Country, token: str) -> ServiceRequest:
    found = ServiceRequest.objects.filter(country=country, token=token).first()
    if found is None:
        raise not_found(_("token: no such token"))
    return found


# --- API keys --------------------------------------------------------------------------


def api_keys() -> QuerySet[ApiKey]:
    return ApiKey.objects.order_by("name")
