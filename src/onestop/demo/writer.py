"""Writing a demo history: the register read once, accounts created, rows written in bulk.

`generate` reads what the plan needs from the register (services and the standards of
every version, the unit each provider has in each region as `routing.route` picks it, the
centres and their hours, the workflows, the calendar) in a handful of queries, creates the
demo accounts the history acts as (officers and a supervisor per unit, operators per
centre, citizens with portal accounts), and writes each planned chunk in one transaction:
applications, events, payments, proactive offers and one audit entry per event, chained
onto the audit head with `onestop.audit.chain` as `audit.services.record` would. Rows go
in with `executemany` on SQLite and `COPY` on PostgreSQL, with their primary keys reserved
first (the audit entries name the events' keys); no query per row.

Demo applications carry their run's batch in `Application.demo_batch` (empty for real
applications; a partial index covers the others). `delete_demo` removes them with
their events, payments, offers and documents, and never touches another application;
the audit entries of deleted rows stay, and the deletion gets an entry of its own.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from queue import Empty
from typing import Any

from django.db import connection, models, transaction
from django.db.models import OuterRef, ProtectedError, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from onestop.accounts.models import User
from onestop.accounts.roles import Role
from onestop.applications import routing, services
from onestop.applications.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    Payment,
    ProactiveOffer,
)
from onestop.applications.workflow import Workflow
from onestop.audit import chain
from onestop.audit import services as audit_services
from onestop.audit.models import AuditEntry
from onestop.audit.services import record as audit_record
from onestop.catalogue.models import Agency, Country, Region, Service, WorkflowDefinition
from onestop.catalogue.selectors import agency_subtree_ids, calendar_for
from onestop.centres.models import (
    Appointment,
    Centre,
    Counter,
    CounterSession,
    PriorityCategory,
    QueueSettings,
    ServiceGroup,
    Ticket,
    TicketSequence,
    TicketSlice,
)
from onestop.control import services as control_services
from onestop.control.models import Violation, ViolationKind
from onestop.core.text import localize
from onestop.demo.feedback import FeedbackInfo, PlannedComplaint
from onestop.demo.generator import (
    SYSTEM,
    Actor,
    CentreInfo,
    Chunk,
    Context,
    CounterInfo,
    HistoryPlan,
    Params,
    PlanError,
    PlannedAppointment,
    QueueInfo,
    ServiceInfo,
    Staff,
    StandardInfo,
    Summary,
    _utc,
)
from onestop.demo.people import Person
from onestop.feedback.models import Complaint, ComplaintEvent, FeedbackRules, Rating

UNUSABLE_PASSWORD = "!demo-account"  # noqa: S105 ("!": Django's mark of an unusable password)
"""Demo accounts cannot sign in; the `demo-accounts` ones (kz-officer...) take part too."""


CONTROLLERS = 3
"""Demo accounts of the control body, who handle the complaints escalated to it."""


class DemoError(Exception):
    """The demo cannot run as asked; the message says why and what to do."""


def demo_applications(country: Country) -> models.QuerySet[Application]:
    """The demo applications of `country`: a non-empty `demo_batch`, the condition of the
    partial index `demo_batch_idx` as written there, so that a planner may read the demo
    rows alone (PostgreSQL does; SQLite, without statistics, takes the country's index)."""
    return Application.objects.filter(country=country).exclude(demo_batch="")


# --- reading the register ------------------------------------------------------------------


def _text(value: Any, languages: Sequence[str]) -> str:
    if isinstance(value, dict):
        return localize(value, "ru", list(languages)) or ""
    return str(value or "")


def _hours(raw: Any) -> dict[str, tuple[tuple[int, int], ...]]:
    hours: dict[str, tuple[tuple[int, int], ...]] = {}
    for day, spans in (raw or {}).items():
        parsed = []
        for span in spans or ():
            start, _, end = str(span).partition("-")
            h1, m1 = (int(x) for x in start.split(":"))
            h2, m2 = (int(x) for x in end.split(":"))
            if (h2, m2) > (h1, m1):
                parsed.append((h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60))
        if parsed:
            hours[str(day).lower()] = tuple(parsed)
    return hours


def load_context(country: Country) -> Context:
    """Everything the plan needs from the register, read once."""
    languages = tuple(country.languages or ())
    regions = {r.code: r.pk for r in Region.objects.filter(country=country)}
    region_objects = {r.code: r for r in Region.objects.filter(country=country)}
    services_qs = (
        Service.objects.filter(country=country)
        .select_related("provider", "proactive_after")
        .prefetch_related("versions")
        .order_by("code")
    )
    routes_by_provider: dict[int, dict[str | None, tuple[int, str]]] = {}
    infos: list[ServiceInfo] = []
    for service in services_qs:
        provider = service.provider
        routes = routes_by_provider.get(provider.pk)
        if routes is None:
            routes = {None: (provider.pk, provider.code)}
            for code, region in sorted(region_objects.items()):
                agency = routing.route(service, region)
                routes[code] = (agency.pk, agency.code)
            routes_by_provider[provider.pk] = routes
        standards = []
        for version in sorted(service.versions.all(), key=lambda v: v.valid_from):
            documents = [d for d in version.documents or [] if isinstance(d, dict)]
            applicant = tuple(str(d["code"]) for d in documents if d.get("source") == "applicant")
            required = tuple(
                str(d["code"]) for d in documents
                if d.get("source") == "applicant" and d.get("required", True)
            )
            standards.append(StandardInfo(
                pk=version.pk,
                valid_from=version.valid_from,
                channels=frozenset(version.channels or ()),
                deadline_value=version.deadline_value,
                deadline_unit=version.deadline_unit,
                fee=version.fee_amount,
                grounds=tuple(
                    (str(g["code"]), _text(g.get("text"), languages))
                    for g in version.refusal_grounds or [] if isinstance(g, dict)
                ),
                applicant_documents=applicant,
                required_documents=required,
                eform=version.eform or {},
                max_wait_minutes=version.max_wait_minutes,
                max_service_minutes=version.max_service_minutes,
            ))
        after = getattr(service, "proactive_after", None)
        infos.append(ServiceInfo(
            pk=service.pk, code=service.code, workflow=service.workflow, provider=provider.pk,
            standards=tuple(standards), routes=routes,
            proactive_after=after.code if after is not None else None,
        ))
    centres = tuple(
        CentreInfo(pk=c.pk, code=c.code, region=c.region.code, kind=c.kind,
                   counters=max(1, c.counters), hours=_hours(c.opening_hours),
                   breaks=_hours(c.breaks))
        for c in Centre.objects.filter(country=country).select_related("region").order_by("code")
    )
    workflows = {}
    for definition in WorkflowDefinition.objects.filter(country=country).order_by("code"):
        workflows[definition.code] = Workflow.from_mapping(definition.definition)
    agencies = tuple(
        Agency.objects.filter(country=country).order_by("code").values_list("pk", "code")
    )
    return Context(
        country=country.code,
        languages=languages,
        currency=country.currency,
        calendar=calendar_for(country),
        regions=regions,
        agencies=agencies,
        services=tuple(infos),
        centres=centres,
        workflows=workflows,
        offered_as={k: frozenset(v) for k, v in services.CHANNEL_OFFERED_AS.items()},
        queue=load_queue(country, [s.code for s in infos]),
        feedback=load_feedback(country),
    )


def load_feedback(country: Country) -> FeedbackInfo | None:
    """The pack's feedback rules as plain data (None when the pack has none)."""
    rules = FeedbackRules.objects.filter(country=country).first()
    if rules is None:
        return None
    deadlines: dict[str, tuple[int, str]] = {}
    for level, spec in (rules.deadlines or {}).items():
        if isinstance(spec, dict) and int(spec.get("value", 0)) >= 1:
            deadlines[str(level)] = (int(spec["value"]), str(spec.get("unit", "working_days")))
    return FeedbackInfo(
        criteria=tuple(str(c["code"]) for c in rules.criteria or [] if isinstance(c, dict)),
        alert_at_or_below=rules.alert_at_or_below,
        grounds={str(g["code"]): frozenset(str(x) for x in g.get("subjects") or ())
                 for g in rules.grounds or [] if isinstance(g, dict) and g.get("code")},
        deadlines=deadlines,
        max_extension_days=rules.max_extension_days,
    )


def load_queue(country: Country, service_codes: Sequence[str]) -> QueueInfo | None:
    """The centres' queue, as plain data: groups (and the group of every service, as
    `centres.services.group_for_service` picks it), counters, priorities, rules."""
    groups = list(ServiceGroup.objects.filter(country=country).order_by("position", "code"))
    if not groups:
        return None
    default = next((g for g in groups if g.is_default), None)
    apply_groups = [g for g in groups if g.purpose == ServiceGroup.Purpose.APPLY]
    fallback = default or (apply_groups[0] if apply_groups else None)
    service_groups: dict[str, int] = {}
    for code in service_codes:
        best, length = None, -1
        for group in groups:
            for prefix in group.service_prefixes or ():
                if code.startswith(str(prefix)) and len(str(prefix)) > length:
                    best, length = group, len(str(prefix))
        found = best or fallback
        if found is not None:
            service_groups[code] = found.pk

    def first(purpose: str) -> int | None:
        found = next((g for g in groups if g.purpose == purpose), None)
        return found.pk if found is not None else (fallback.pk if fallback else None)

    counters: dict[int, list[CounterInfo]] = {}
    for counter in Counter.objects.filter(centre__country=country, active=True).prefetch_related(
        "groups"
    ).order_by("centre", "number"):
        counters.setdefault(counter.centre_id, []).append(CounterInfo(
            counter.pk, counter.number, frozenset(g.pk for g in counter.groups.all())
        ))
    rules = QueueSettings.objects.filter(country=country).first() or QueueSettings()
    return QueueInfo(
        group_codes={g.pk: g.code for g in groups},
        service_groups=service_groups,
        pickup=first(ServiceGroup.Purpose.PICKUP),
        consult=first(ServiceGroup.Purpose.CONSULT),
        priorities=tuple(PriorityCategory.objects.filter(country=country).order_by(
            "-rank", "code").values_list("pk", "rank")),
        counters={pk: tuple(items) for pk, items in counters.items()},
        no_show_after_minutes=rules.no_show_after_minutes,
        default_max_wait_minutes=rules.default_max_wait_minutes,
        slot_minutes=max(1, rules.appointment_slot_minutes),
        early_minutes=rules.appointment_early_minutes,
        days_ahead=max(1, rules.appointment_days_ahead),
    )


# --- accounts --------------------------------------------------------------------------


def _actor(user: User) -> Actor:
    return Actor(user.pk, user.username, str(user.role))


def _bulk_users(users: list[User]) -> int:
    if users:
        User.objects.bulk_create(users, batch_size=2000)
    return len(users)


def ensure_staff(plan: HistoryPlan, country: Country) -> tuple[Staff, int]:
    """The accounts the history acts as, created where missing; (staff, accounts created).

    Officers and a supervisor for every unit that gets work, operators for every centre,
    a portal account for every citizen of the population who has one. The accounts of
    `onestop demo-accounts` (kz-officer, kz-operator, kz-supervisor, kz-citizen) join in,
    so that signing in as them shows an inbox and a cabinet full of history.
    """
    cc = country.code
    wanted: dict[str, User] = {}
    officers: dict[int, list[str]] = {}
    supervisors: dict[int, str] = {}
    for agency_pk, (code, count) in plan.officer_needs().items():
        names = [f"{cc}-demo-{code}-officer-{k:02d}".lower() for k in range(1, count + 1)]
        officers[agency_pk] = names
        for name in names:
            wanted[name] = User(username=name, role=Role.OFFICER, agency_id=agency_pk,
                                is_staff=True, password=UNUSABLE_PASSWORD)
        supervisor = f"{cc}-demo-{code}-supervisor".lower()
        supervisors[agency_pk] = supervisor
        wanted[supervisor] = User(username=supervisor, role=Role.SUPERVISOR,
                                  agency_id=agency_pk, is_staff=True,
                                  password=UNUSABLE_PASSWORD)
    operators: dict[int, list[str]] = {}
    for centre_pk, (code, count) in plan.operator_needs().items():
        names = [f"{cc}-demo-{code}-operator-{k:02d}".lower() for k in range(1, count + 1)]
        operators[centre_pk] = names
        for name in names:
            wanted[name] = User(username=name, role=Role.OPERATOR, centre_id=centre_pk,
                                is_staff=True, password=UNUSABLE_PASSWORD)
    controllers = [f"{cc}-demo-controller-{k:02d}".lower() for k in range(1, CONTROLLERS + 1)]
    for name in controllers:
        wanted[name] = User(username=name, role=Role.CONTROLLER, is_staff=True,
                            password=UNUSABLE_PASSWORD)
    existing = dict(User.objects.filter(username__in=list(wanted)).values_list("username", "pk"))
    created = _bulk_users([user for name, user in wanted.items() if name not in existing])
    pks = dict(User.objects.filter(username__in=list(wanted)).values_list("username", "pk"))

    def actor(name: str, role: str) -> Actor:
        return Actor(pks[name], name, role)

    officer_pools = {pk: [actor(n, "officer") for n in names] for pk, names in officers.items()}
    supervisor_of = {pk: actor(name, "supervisor") for pk, name in supervisors.items()}
    operator_pools = {pk: [actor(n, "operator") for n in names] for pk, names in operators.items()}

    # the demo-accounts users, where they exist
    featured: list[tuple[Person, Actor]] = []
    for user in User.objects.filter(username__in=[f"{cc}-{r}" for r in (
        "officer", "supervisor", "operator", "citizen")]).order_by("username"):
        if user.role == Role.OFFICER and user.agency_id:
            subtree = agency_subtree_ids([user.agency_id])
            for pk, pool in officer_pools.items():
                if pk in subtree:
                    pool.append(_actor(user))
        elif user.role == Role.SUPERVISOR and user.agency_id:
            subtree = agency_subtree_ids([user.agency_id])
            for pk in supervisor_of:
                if pk in subtree:
                    supervisor_of[pk] = _actor(user)
        elif user.role == Role.OPERATOR and user.centre_id in operator_pools:
            operator_pools[user.centre_id].append(_actor(user))
        elif user.role == Role.CITIZEN and user.national_id:
            name = " ".join(p for p in (user.last_name, user.first_name) if p) or user.username
            person = Person(-1 - len(featured), user.national_id, name, False,
                            plan.first, "", user.email, True)
            featured.append((person, _actor(user)))

    # citizens with portal accounts
    prefix = f"{cc}-demo-citizen-"
    known = dict(User.objects.filter(username__startswith=prefix).values_list("username", "pk"))
    batch: list[User] = []
    for person in plan.account_holders():
        username = plan.population.username(person.number)
        if username in known:
            continue
        surname, _, rest = person.name.partition(" ")
        batch.append(User(
            username=username, role=Role.CITIZEN, national_id=person.national_id,
            first_name=rest[:150], last_name=surname[:150], email=person.email,
            password=UNUSABLE_PASSWORD,
        ))
        if len(batch) >= 5000:
            created += _bulk_users(batch)
            batch = []
    created += _bulk_users(batch)
    citizens: dict[int, Actor] = {}
    for username, pk in User.objects.filter(username__startswith=prefix).values_list(
        "username", "pk"
    ):
        index = int(username.removeprefix(prefix))
        if index < plan.population.size:
            citizens[index] = Actor(pk, username, "citizen")
    staff = Staff(
        officers={pk: tuple(pool) for pk, pool in officer_pools.items()},
        supervisors=supervisor_of,
        operators={pk: tuple(pool) for pk, pool in operator_pools.items()},
        citizens=citizens,
        featured=tuple(featured),
        controllers=tuple(actor(name, "controller") for name in controllers),
    )
    return staff, created


# --- bulk writes --------------------------------------------------------------------------


def _columns(model: type[models.Model], given: Sequence[str]) -> tuple[list[str], list[Any]]:
    """The table columns for `given` attribute names, then every other column with its
    (constant) default; a column that has none is an error worth a clear message."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    unknown = [name for name in given if name not in fields]
    if unknown:
        raise DemoError(f"{model.__name__} has no field {', '.join(unknown)}")
    columns = [fields[name].column for name in given]
    defaults: list[Any] = []
    for name, f in fields.items():
        if name in given or (f.primary_key and isinstance(f, models.AutoField)):
            continue  # BigAutoField is an AutoField: the database numbers the row
        if not f.has_default() and not f.null:
            raise DemoError(f"{model.__name__}.{name} has no default: the demo writer must "
                            "be taught what to put in it")
        value = f.get_default() if f.has_default() else None
        columns.append(f.column)
        defaults.append(f.get_db_prep_save(value, connection))
    return columns, defaults


class _Table:
    def __init__(self, model: type[models.Model], given: Sequence[str]) -> None:
        self.model = model
        self.name = model._meta.db_table
        self.columns, self.defaults = _columns(model, given)
        quoted = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        placeholders = ", ".join(["%s"] * len(self.columns))
        # names are the models' own, every value a parameter
        self.insert = (f"INSERT INTO {connection.ops.quote_name(self.name)} ({quoted}) "  # noqa: S608
                       f"VALUES ({placeholders})")
        self.copy = f"COPY {connection.ops.quote_name(self.name)} ({quoted}) FROM STDIN"

    def write(self, rows: Iterable[tuple[Any, ...]], timings: dict[str, float]) -> int:
        """Insert `rows` (COPY on PostgreSQL, executemany on SQLite); adds the seconds spent
        building rows and in the database to `timings`."""
        extra = tuple(self.defaults)
        started = time.perf_counter()
        batch = [row + extra for row in rows]
        built = time.perf_counter()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(self.copy) as copy:
                    write_row = copy.write_row
                    for row in batch:
                        write_row(row)
            else:
                cursor.executemany(self.insert, batch)
        done = time.perf_counter()
        key = self.model._meta.model_name or self.name
        timings[f"{key} rows"] = timings.get(f"{key} rows", 0.0) + built - started
        timings[f"{key} insert"] = timings.get(f"{key} insert", 0.0) + done - built
        return len(batch)


def _reserve(model: type[models.Model], count: int, floor: int) -> list[int]:
    """`count` primary keys no row has had: PostgreSQL's sequence, or on SQLite (whose
    writer holds the database) the keys after the highest ever used."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return sorted(row[0] for row in cursor.fetchall())
        cursor.execute(f"SELECT max(id) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        highest = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        first = max(highest, row[0] if row else 0, floor) + 1
    return list(range(first, first + count))


_APPLICATION_FIELDS = (
    "id", "number", "country_id", "service_id", "standard_id", "workflow", "state", "channel",
    "applicant_id", "applicant_national_id", "applicant_name", "applicant_phone",
    "applicant_email", "form_data", "submitted_by_id", "centre_id", "region_id", "agency_id",
    "assigned_to_id", "submitted_at", "deadline_at", "clock_stopped_at", "stopped_seconds",
    "completed_at", "outcome", "refusal_ground", "refusal_reason", "fee_amount", "bundle_id",
    "started_by_id", "idempotency_key", "request_hash", "demo_batch", "planted_flag",
)
_EVENT_FIELDS = ("id", "application_id", "at", "action", "from_state", "to_state", "actor_id",
                 "actor_role", "clock", "comment", "data")
_PAYMENT_FIELDS = ("application_id", "provider", "reference", "amount", "currency", "status",
                   "paid_at", "refunded_at")
_OFFER_FIELDS = ("id", "source_id", "service_id", "applicant_id", "form_data", "status",
                 "application_id", "created_at", "decided_at")
_AUDIT_FIELDS = chain.FIELDS
_TICKET_FIELDS = (
    "id", "centre_id", "group_id", "day", "sequence", "number", "source", "priority_id",
    "priority_rank", "state", "issued_at", "place_at", "due_at", "counter_id", "operator_id",
    "target_counter_id", "called_at", "recalls", "finished_at", "citizen_id", "national_id",
    "wait_seconds", "service_seconds",
)
_SLICE_FIELDS = ("ticket_id", "kind", "started_at", "ended_at", "counter_id", "operator_id",
                 "note", "reason", "out_of_order")
_LINK_FIELDS = ("ticket_id", "application_id")
_APPOINTMENT_FIELDS = ("centre_id", "group_id", "citizen_id", "slot_start", "slot_end", "state",
                       "code", "booked_at", "cancelled_at", "reminder_sent_at", "ticket_id")
_SESSION_FIELDS = ("counter_id", "operator_id", "opened_at", "closed_at")
_RATING_FIELDS = ("id", "country_id", "application_id", "ticket_id", "agency_id", "centre_id",
                  "citizen_id", "channel", "scores", "mean", "lowest", "comment", "alert",
                  "created_at", "updated_at")
_COMPLAINT_FIELDS = (
    "id", "number", "country_id", "level", "subject", "ground", "text", "application_id",
    "agency_id", "centre_id", "citizen_id", "state", "registered_at", "deadline_at",
    "extended_to", "extension_reason", "handler_id", "decision", "decision_reason",
    "decided_at", "escalated_from_id",
)
_COMPLAINT_EVENT_FIELDS = ("id", "complaint_id", "at", "action", "actor_id", "note")
_VIOLATION_FIELDS = ("country_id", "kind", "key", "found_at", "found_by", "application_id",
                     "complaint_id", "agency_id", "centre_id", "person_id", "detail")
# the state of a complaint after each action (the audit entry records it)
_STATE_AFTER = {"registered": "registered", "assigned": "in_review", "extended": "in_review",
                "decided": "decided", "withdrawn": "withdrawn", "escalated": "escalated"}
_SEQUENCE_FIELDS = ("centre_id", "group_id", "day", "last")


@dataclass
class WriteStats:
    applications: int = 0
    events: int = 0
    payments: int = 0
    offers: int = 0
    audit: int = 0
    renumbered: int = 0
    tickets: int = 0
    slices: int = 0
    appointments: int = 0
    sessions: int = 0
    ratings: int = 0
    complaints: int = 0
    complaint_events: int = 0
    violations: int = 0
    head: chain.Head = chain.GENESIS
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


class ChunkWriter:
    """Writes planned chunks of one country, each in one transaction."""

    def __init__(self, country: Country) -> None:
        self.country = country
        self.postgres = connection.vendor == "postgresql"
        self.apps = _Table(Application, _APPLICATION_FIELDS)
        self.events = _Table(ApplicationEvent, _EVENT_FIELDS)
        self.payments = _Table(Payment, _PAYMENT_FIELDS)
        self.offers = _Table(ProactiveOffer, _OFFER_FIELDS)
        self.audit = _Table(AuditEntry, _AUDIT_FIELDS)
        self.tickets = _Table(Ticket, _TICKET_FIELDS)
        self.slices = _Table(TicketSlice, _SLICE_FIELDS)
        self.links = _Table(Ticket.applications.through, _LINK_FIELDS)
        self.appointments = _Table(Appointment, _APPOINTMENT_FIELDS)
        self.sessions = _Table(CounterSession, _SESSION_FIELDS)
        self.sequences = _Table(TicketSequence, _SEQUENCE_FIELDS)
        self.ratings = _Table(Rating, _RATING_FIELDS)
        self.complaints = _Table(Complaint, _COMPLAINT_FIELDS)
        self.complaint_events = _Table(ComplaintEvent, _COMPLAINT_EVENT_FIELDS)
        self.violations = _Table(Violation, _VIOLATION_FIELDS)
        self._ticket_ids: list[int] = []
        self._complaint_offsets: dict[int, int] = {}
        self._feedback_audit: list[tuple[str, str, str, str, str, dict[str, Any]]] = []
        self.stats = WriteStats()
        self._floors: dict[str, int] = {}
        self._last: chain.Record | None = None
        # JSON as compact canonical text (the C encoder: a third of json.dumps' time); it
        # reads back as the same value, which is all a JSON column keeps
        self._json: Callable[[Any], Any] = chain.to_json
        self._sequences_updated: set[tuple[int, int, Any]] = set()
        self._analysed_at = 0  # how many applications were written at the last ANALYZE
        if self.postgres:
            self._time: Callable[[datetime | None], Any] = lambda d: d
            self._day: Callable[[date], Any] = lambda d: d
        else:
            self._time = _sqlite_time
            self._day = date.isoformat
            with connection.cursor() as cursor:  # room for the indexes of a big history
                cursor.execute("PRAGMA cache_size = -262144")

    def _ids(self, model: type[models.Model], count: int) -> list[int]:
        table = model._meta.db_table
        ids = _reserve(model, count, self._floors.get(table, 0))
        if ids:
            self._floors[table] = ids[-1]
        return ids

    def write(self, chunk: Chunk) -> None:
        started = time.perf_counter()
        with transaction.atomic():
            if self.postgres:
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            self._renumber(chunk)
            app_ids = self._ids(Application, len(chunk.apps))
            event_ids = self._ids(ApplicationEvent, len(chunk.events))
            offer_ids = self._ids(ProactiveOffer, len(chunk.offers))
            timings = self.stats.timings
            self.stats.applications += self.apps.write(self._app_rows(chunk, app_ids), timings)
            self.stats.events += self.events.write(
                self._event_rows(chunk, app_ids, event_ids, offer_ids), timings
            )
            self.stats.payments += self.payments.write(self._payment_rows(chunk, app_ids),
                                                       timings)
            self.stats.offers += self.offers.write(self._offer_rows(chunk, app_ids, offer_ids),
                                                   timings)
            self._ticket_ids = []
            if chunk.tickets or chunk.appointments:
                self._write_queue(chunk, app_ids, timings)
            self._feedback_audit = []
            if chunk.ratings or chunk.complaints or chunk.violations:
                self._write_feedback(chunk, app_ids, timings)
            # the audit entries last: the chain's head stays locked until the commit
            head = audit_services.lock_head(connection.alias)
            self.stats.audit += self.audit.write(self._audit_rows(chunk, event_ids, head),
                                                 timings)
            if self._last is not None:
                audit_services.move_head(connection.alias, self._last)
                self._last = None
            committing = time.perf_counter()
        timings["commit"] = timings.get("commit", 0.0) + time.perf_counter() - committing
        if self.postgres and self.stats.applications >= 2 * self._analysed_at:
            # PostgreSQL plans each query by the table sizes it last measured, and keeps
            # the plan of a prepared statement: measured on the empty table, the lookups
            # of `_renumber` read the whole table, ever longer as it grows. Measured
            # again each time it has doubled (autovacuum may be off, or not keep up).
            self._analyse([Application])
            self._analysed_at = self.stats.applications
        self.stats.seconds += time.perf_counter() - started

    def _analyse(self, written: Sequence[type[models.Model]]) -> None:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for model in written:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        timings = self.stats.timings
        timings["statistics"] = timings.get("statistics", 0.0) + time.perf_counter() - started

    def finish(self) -> None:
        """After the last chunk: the planner's statistics of every table written, so that
        the violation scans and the first pages read it by plans fit for its size."""
        if self.postgres:
            self._analyse([table.model for table in (
                self.apps, self.events, self.payments, self.offers, self.audit, self.tickets,
                self.slices, self.links, self.appointments, self.sessions, self.sequences,
                self.ratings, self.complaints, self.complaint_events, self.violations,
            )])

    def _write_queue(self, chunk: Chunk, app_ids: list[int], timings: dict[str, float]) -> None:
        """The centres' history of the chunk: tickets (numbered after any the days already
        have), their slices and applications, appointments, sessions, sequences."""
        self._continue_numbering(chunk)
        ticket_ids = self._ids(Ticket, len(chunk.tickets))
        self._ticket_ids = ticket_ids
        t = self._time
        d = self._day
        stats = self.stats

        def ticket_rows() -> Iterator[tuple[Any, ...]]:
            for ticket, pk in zip(chunk.tickets, ticket_ids, strict=True):
                issued = t(_utc(ticket.issued_at))
                yield (pk, ticket.centre, ticket.group, d(ticket.day), ticket.sequence,
                       ticket.number, ticket.source, ticket.priority, ticket.priority_rank,
                       ticket.state, issued, issued,
                       t(_utc(ticket.due_at)) if ticket.due_at is not None else None,
                       ticket.counter, ticket.operator, ticket.target_counter,
                       t(_utc(ticket.called_at)), ticket.recalls, t(_utc(ticket.finished_at)),
                       ticket.citizen, ticket.national_id, ticket.wait_seconds,
                       ticket.service_seconds)

        def slice_rows() -> Iterator[tuple[Any, ...]]:
            for ticket, pk in zip(chunk.tickets, ticket_ids, strict=True):
                for kind, started, ended, counter, operator, note, reason in ticket.slices:
                    yield (pk, kind, t(_utc(started)), t(_utc(ended)), counter, operator, note,
                           reason, False)

        def link_rows() -> Iterator[tuple[Any, ...]]:
            for ticket, pk in zip(chunk.tickets, ticket_ids, strict=True):
                if ticket.app is not None:
                    yield (pk, app_ids[ticket.app])

        def appointment_rows() -> Iterator[tuple[Any, ...]]:
            def row(a: PlannedAppointment, ticket: int | None) -> tuple[Any, ...]:
                return (a.centre, a.group, a.citizen, t(_utc(a.slot_start)),
                        t(_utc(a.slot_end)), a.state, a.code, t(_utc(a.booked_at)),
                        t(_utc(a.cancelled_at)) if a.cancelled_at is not None else None,
                        t(_utc(a.reminder_sent_at)) if a.reminder_sent_at is not None
                        else None, ticket)

            for ticket, pk in zip(chunk.tickets, ticket_ids, strict=True):
                if ticket.appointment is not None:
                    yield row(ticket.appointment, pk)
            for appointment in chunk.appointments:
                yield row(appointment, None)

        stats.tickets += self.tickets.write(ticket_rows(), timings)
        stats.slices += self.slices.write(slice_rows(), timings)
        self.links.write(link_rows(), timings)
        stats.appointments += self.appointments.write(appointment_rows(), timings)
        stats.sessions += self.sessions.write(
            ((s.counter, s.operator, t(_utc(s.opened_at)), t(_utc(s.closed_at)))
             for s in chunk.sessions), timings)
        self.sequences.write(((c, g, d(day), last) for c, g, day, last in chunk.sequences
                              if (c, g, day) not in self._sequences_updated), timings)

    def _complaint_number(self, complaint: PlannedComplaint) -> str:
        """`feedback.services._new_number`: C-<year>-<six digits>, after the highest number
        of that year already given (read once per year, before the run writes any)."""
        offset = self._complaint_offsets.get(complaint.year)
        if offset is None:
            prefix = f"C-{complaint.year}-"
            last = (Complaint.objects.filter(number__startswith=prefix).order_by("-number")
                    .values_list("number", flat=True).first())
            offset = self._complaint_offsets[complaint.year] = (
                int(last[len(prefix):]) if last else 0)
        return f"C-{complaint.year}-{offset + complaint.serial:06d}"

    def _write_feedback(self, chunk: Chunk, app_ids: list[int],
                        timings: dict[str, float]) -> None:
        """Ratings, complaints with their events, and the violations of the chunk (keys as
        the live code gives them); their audit entries are chained after the events'."""
        t, js = self._time, self._json
        country = self.country.pk
        decimal = connection.ops.adapt_decimalfield_value
        stats = self.stats
        audit = self._feedback_audit
        apps = chunk.apps
        rating_ids = self._ids(Rating, len(chunk.ratings))
        complaint_ids = self._ids(Complaint, len(chunk.complaints))
        event_ids = self._ids(ComplaintEvent, sum(len(c.events) for c in chunk.complaints))
        numbers = [self._complaint_number(c) for c in chunk.complaints]

        def rating_rows() -> Iterator[tuple[Any, ...]]:
            for rating, pk in zip(chunk.ratings, rating_ids, strict=True):
                at = t(rating.created_at)
                app = apps[rating.app] if rating.app is not None else None
                ticket = self._ticket_ids[rating.ticket] if rating.ticket is not None else None
                yield (pk, country, app_ids[rating.app] if app is not None else None, ticket,
                       rating.agency, rating.centre, rating.citizen, rating.channel,
                       js(rating.scores), decimal(rating.mean, 3, 2), rating.lowest,
                       rating.comment, rating.alert, at, at)
                name = app.account.username if app is not None and app.account else "anonymous"
                audit.append((name, "citizen", "rating.given", "rating", str(pk), {
                    "application": app.number if app is not None else None, "ticket": ticket,
                    "channel": rating.channel, "scores": rating.scores, "mean": str(rating.mean),
                    "alert": rating.alert, "at": rating.created_at.isoformat()}))

        def complaint_rows() -> Iterator[tuple[Any, ...]]:
            for complaint, pk, number in zip(chunk.complaints, complaint_ids, numbers,
                                             strict=True):
                upper = complaint.escalated_from
                yield (pk, number, country, complaint.level, complaint.subject,
                       complaint.ground, complaint.text, app_ids[complaint.app],
                       complaint.agency, complaint.centre, complaint.citizen, complaint.state,
                       t(complaint.registered_at), t(complaint.deadline_at),
                       t(complaint.extended_to), complaint.extension_reason, complaint.handler,
                       complaint.decision, complaint.decision_reason, t(complaint.decided_at),
                       complaint_ids[upper] if upper is not None else None)

        def event_rows() -> Iterator[tuple[Any, ...]]:
            ids = iter(event_ids)
            for complaint, cpk, number in zip(chunk.complaints, complaint_ids, numbers,
                                              strict=True):
                for event in complaint.events:
                    pk = next(ids)
                    yield (pk, cpk, t(event.at), event.action, event.actor, event.note)
                    data = dict(event.data)
                    for key in ("to", "from"):
                        if key in data:
                            data[key] = numbers[data[key]]
                    audit.append((event.actor_name, event.actor_role,
                                  f"complaint.{event.action}", "complaint", number, {
                                      "event": pk, "level": complaint.level,
                                      "state": _STATE_AFTER.get(event.action, complaint.state),
                                      "at": event.at.isoformat(), **data}))

        def violation_rows() -> Iterator[tuple[Any, ...]]:
            for v in chunk.violations:
                detail = dict(v.detail)
                for key, index in v.numbers.items():
                    detail[key] = numbers[index]
                if v.complaint is not None and v.kind == ViolationKind.COMPLAINT_OVERDUE:
                    key = f"{v.kind}:{numbers[v.complaint]}"
                    detail.setdefault("complaint", numbers[v.complaint])
                else:
                    key = f"{v.kind}:app:{app_ids[v.app]}"
                yield (country, v.kind, key, t(v.found_at), v.found_by,
                       app_ids[v.app] if v.app is not None else None,
                       complaint_ids[v.complaint] if v.complaint is not None else None,
                       v.agency, v.centre, v.person, js(detail))

        stats.ratings += self.ratings.write(rating_rows(), timings)
        stats.complaints += self.complaints.write(complaint_rows(), timings)
        stats.complaint_events += self.complaint_events.write(event_rows(), timings)
        stats.violations += self.violations.write(violation_rows(), timings)

    def _continue_numbering(self, chunk: Chunk) -> None:
        """Where a day already has tickets of a group (issued live, or kept from before),
        the demo's numbers of that day follow them and the day's sequence row moves on."""
        self._sequences_updated = set()
        if not chunk.sequences:
            return
        days = [day for _, _, day, _ in chunk.sequences]
        existing = {
            (row.centre_id, row.group_id, row.day): row
            for row in TicketSequence.objects.filter(
                centre__country=self.country, day__gte=min(days), day__lte=max(days)
            )
        }
        if not existing:
            return
        offsets: dict[tuple[int, int, Any], int] = {}
        for centre, group, day, last in chunk.sequences:
            row = existing.get((centre, group, day))
            if row is None:
                continue
            offsets[(centre, group, day)] = row.last
            TicketSequence.objects.filter(pk=row.pk).update(last=row.last + last)
            self._sequences_updated.add((centre, group, day))
        for ticket in chunk.tickets:
            offset = offsets.get((ticket.centre, ticket.group, ticket.day))
            if offset:
                ticket.sequence += offset
                code = ticket.number.rsplit("-", 1)[0]
                ticket.number = f"{code}-{ticket.sequence:03d}"

    def _renumber(self, chunk: Chunk) -> None:
        """Give a new number to a planned one that an existing application already has."""
        planned = [app.number for app in chunk.apps]
        taken: set[str] = set()
        for start in range(0, len(planned), 500):  # lookups on the unique index
            taken.update(Application.objects.filter(
                number__in=planned[start:start + 500]).values_list("number", flat=True))
        if not taken:
            return
        planned_set = set(planned)
        for app in chunk.apps:
            attempt = 0
            while app.number in taken:
                attempt += 1
                digest = hashlib.sha256(f"{app.number}:{attempt}".encode()).digest()
                token = "".join(services.NUMBER_ALPHABET[b % 32] for b in digest[:6])
                number = app.number[: -6] + token
                if number not in planned_set:
                    app.number = number
                    self.stats.renumbered += 1
            planned_set.add(app.number)

    def _app_rows(self, chunk: Chunk, ids: list[int]) -> Iterable[tuple[Any, ...]]:
        country = self.country.pk
        t, js = self._time, self._json
        fee = connection.ops.adapt_decimalfield_value
        for app, pk in zip(chunk.apps, ids, strict=True):
            yield (
                pk, app.number, country, app.service.pk, app.standard.pk, app.service.workflow,
                app.state, app.channel, app.applicant, app.national_id, app.name[:200],
                app.phone[:32], app.email, js(app.form_data), app.submitted_by, app.centre,
                app.region, app.agency, app.assigned, t(app.submitted_at), t(app.deadline_at),
                t(app.clock_stopped_at), app.stopped_seconds, t(app.completed_at), app.outcome,
                app.refusal_ground, app.refusal_reason, fee(app.fee, 14, 2), None,
                ids[app.started_by] if app.started_by is not None else None, None, "",
                app.demo_batch, "",
            )

    def _event_rows(self, chunk: Chunk, app_ids: list[int], ids: list[int],
                    offer_ids: list[int]) -> Iterable[tuple[Any, ...]]:
        t, js = self._time, self._json
        for event, pk in zip(chunk.events, ids, strict=True):
            if event.offer is not None:
                event.data["offer"] = offer_ids[event.offer]
            yield (pk, app_ids[event.app], t(event.at), event.action, event.from_state,
                   event.to_state, event.actor.pk, event.actor.role, event.clock, event.comment,
                   js(event.data))

    def _payment_rows(self, chunk: Chunk, app_ids: list[int]) -> Iterable[tuple[Any, ...]]:
        t = self._time
        amount = connection.ops.adapt_decimalfield_value
        for payment in chunk.payments:
            yield (app_ids[payment.app], "simulated", payment.reference,
                   amount(payment.amount, 14, 2), payment.currency, payment.status,
                   t(payment.paid_at), None)

    def _offer_rows(self, chunk: Chunk, app_ids: list[int],
                    ids: list[int]) -> Iterable[tuple[Any, ...]]:
        t, js = self._time, self._json
        for offer, pk in zip(chunk.offers, ids, strict=True):
            yield (pk, app_ids[offer.source], offer.service, offer.applicant,
                   js(offer.form_data), offer.status,
                   app_ids[offer.application] if offer.application is not None else None,
                   t(offer.created_at), t(offer.decided_at))

    def _audit_rows(self, chunk: Chunk, event_ids: list[int],
                    head: chain.Head) -> Iterable[tuple[Any, ...]]:
        """One entry per event, as `services._record_event` writes it, chained in order
        onto `head` (locked) with the chain module's own hashing."""
        recorded = timezone.now()
        sequence, previous = head.sequence, head.hash
        apps = chunk.apps
        t, js = self._time, self._json
        stored_time = t(recorded)
        compute = chain.compute_hash
        record = None
        for event, pk in zip(chunk.events, event_ids, strict=True):
            data: dict[str, Any] = {
                "event": pk, "from": event.from_state, "to": event.to_state,
                "at": event.at.isoformat(), "clock": event.clock,
            }
            if event.data:
                data["details"] = event.data
            sequence += 1
            record = chain.Record(sequence, recorded, event.actor.username, event.actor.role,
                                  f"application.{event.action}", "application",
                                  apps[event.app].number, data, previous, "")
            digest = compute(record)
            yield (sequence, stored_time, record.actor_username, record.actor_role,
                   record.action, "application", record.subject_id, js(data),
                   previous, digest)
            previous = digest
        for username, role, action, subject_type, subject_id, data in self._feedback_audit:
            sequence += 1
            record = chain.Record(sequence, recorded, username, role, action, subject_type,
                                  subject_id, data, previous, "")
            digest = compute(record)
            yield (sequence, stored_time, username, role, action, subject_type, subject_id,
                   js(data), previous, digest)
            previous = digest
        if record is not None:
            self._last = record._replace(hash=previous)
        self.stats.head = chain.Head(sequence, previous)


def _sqlite_time(moment: datetime | None) -> str | None:
    """A datetime as Django stores it on SQLite: `str()` of the naive UTC time."""
    if moment is None:
        return None
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(" ")[:-6]  # str(naive) is isoformat(" "); drop "+00:00"


# --- deleting a previous demo ---------------------------------------------------------------

_HANDLED = {
    (ApplicationEvent, "application"), (Payment, "application"),
    (ApplicationDocument, "application"), (ProactiveOffer, "source"),
    (ProactiveOffer, "application"), (Application, "started_by"), (Ticket, "applications"),
}


def _delete_feedback(country: Country, applications: models.QuerySet[Application]) -> None:
    """Delete the ratings, complaints (with their events) and violations about demo
    applications and demo tickets (those the demo operators called)."""
    quote = connection.ops.quote_name
    tickets = Ticket.objects.filter(
        centre__country=country, operator__username__startswith=f"{country.code}-demo-",
        operator__role=Role.OPERATOR,
    ).values("pk")
    complaints = Complaint.objects.filter(application__in=applications).values("pk")
    with connection.cursor() as cursor:
        def delete(model: type[models.Model], column: str,
                   subquery: models.QuerySet[Any]) -> None:
            sql, params = subquery.query.sql_with_params()
            cursor.execute(
                f"DELETE FROM {quote(model._meta.db_table)} "  # noqa: S608
                f"WHERE {quote(column)} IN ({sql})", params,
            )

        for column, subquery in (("application_id", applications.values("pk")),
                                 ("ticket_id", tickets), ("complaint_id", complaints)):
            delete(Violation, column, subquery)
        delete(Rating, "application_id", applications.values("pk"))
        delete(Rating, "ticket_id", tickets)
        delete(ComplaintEvent, "complaint_id", complaints)
        # both levels at once: the escalation's reference is checked at the commit
        ids = list(complaints.values_list("pk", flat=True))
        for start in range(0, len(ids), 2000):
            cursor.execute(
                f"DELETE FROM {quote(Complaint._meta.db_table)} WHERE id IN "  # noqa: S608
                f"({', '.join(['%s'] * len(ids[start:start + 2000]))})",
                ids[start:start + 2000],
            )


def _delete_queue(country: Country, applications: models.QuerySet[Application]) -> int:
    """Delete the centres' history of a demo: the tickets its operators called (demo
    accounts cannot sign in, so no live ticket has one), their slices, links and
    appointments, the appointments of demo citizens, the demo operators' counter sessions,
    and the sequence rows of days left without tickets. Returns the tickets deleted."""
    operators = User.objects.filter(username__startswith=f"{country.code}-demo-",
                                    role=Role.OPERATOR).values("pk")
    tickets = Ticket.objects.filter(centre__country=country, operator__in=operators)
    ticket_sql, ticket_params = tickets.values("pk").query.sql_with_params()
    count = tickets.count()
    quote = connection.ops.quote_name
    links = Ticket.applications.through
    with connection.cursor() as cursor:
        def delete(model: type[models.Model], column: str, sql: str, params: Any) -> None:
            cursor.execute(
                f"DELETE FROM {quote(model._meta.db_table)} "  # noqa: S608
                f"WHERE {quote(column)} IN ({sql})", params,
            )

        cursor.execute(
            f"UPDATE {quote(Appointment._meta.db_table)} SET ticket_id = NULL "  # noqa: S608
            f"WHERE ticket_id IN ({ticket_sql})", ticket_params,
        )
        booked = Appointment.objects.filter(
            centre__country=country,
            citizen__username__startswith=f"{country.code}-demo-citizen-",
        ).values("pk").query.sql_with_params()
        delete(Appointment, "id", *booked)
        delete(TicketSlice, "ticket_id", ticket_sql, ticket_params)
        delete(links, "ticket_id", ticket_sql, ticket_params)
        delete(links, "application_id", *applications.values("pk").query.sql_with_params())
        delete(Ticket, "id", ticket_sql, ticket_params)
        sessions = CounterSession.objects.filter(
            counter__centre__country=country, operator__in=operators
        ).values("pk").query.sql_with_params()
        delete(CounterSession, "id", *sessions)
        ticket_table, sequence_table = quote(Ticket._meta.db_table), quote(
            TicketSequence._meta.db_table)
        centres = Centre.objects.filter(country=country).values("pk").query.sql_with_params()
        cursor.execute(
            f"DELETE FROM {sequence_table} WHERE centre_id IN ({centres[0]}) "  # noqa: S608
            f"AND NOT EXISTS (SELECT 1 FROM {ticket_table} t WHERE "
            f"t.centre_id = {sequence_table}.centre_id AND t.group_id = "
            f"{sequence_table}.group_id AND t.day = {sequence_table}.day)",
            centres[1],
        )
    return count


def delete_demo(country: Country) -> int:
    """Delete the demo applications of `country` and what hangs off them; the number deleted.

    Other applications are never touched: if one refers to a demo application (started by
    its result), nothing is deleted and DemoError names it. Rows of other tables that refer
    to demo applications (ratings, complaints...) are deleted with them through the ORM,
    which refuses (DemoError) where their own rows are protected.
    """
    demo = demo_applications(country)
    with transaction.atomic():
        outside = Application.objects.filter(started_by__in=demo.values("pk"), demo_batch="")
        numbers = list(outside.values_list("number", flat=True)[:5])
        if numbers:
            raise DemoError(
                "applications that are not demo data were started by demo applications "
                f"({', '.join(numbers)}): delete them first, or keep this demo"
            )
        count = demo.count()
        if not count:
            return 0
        _delete_feedback(country, demo)
        _delete_queue(country, demo)
        ids_sql, ids_params = demo.values("pk").query.sql_with_params()
        for relation in Application._meta.related_objects:
            related = relation.related_model
            if isinstance(related, str) or (related, relation.field.name) in _HANDLED:
                continue
            try:
                related._default_manager.filter(
                    **{f"{relation.field.name}__in": demo.values("pk")}
                ).delete()
            except ProtectedError as exc:
                raise DemoError(
                    f"{related._meta.label} rows refer to demo applications and cannot be "
                    f"deleted: {exc.args[0]}"
                ) from None
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            def delete(model: type[models.Model], column: str) -> None:
                cursor.execute(
                    f"DELETE FROM {quote(model._meta.db_table)} "  # noqa: S608
                    f"WHERE {quote(column)} IN ({ids_sql})",
                    ids_params,
                )

            delete(ProactiveOffer, "source_id")
            delete(ProactiveOffer, "application_id")
            delete(Payment, "application_id")
            delete(ApplicationDocument, "application_id")
            table = ApplicationEvent._meta.db_table
            guards: list[str] = []
            if connection.vendor == "postgresql":
                # The event log is append-only: a trigger refuses DELETE. It is lifted for
                # this transaction only, visibly, as onestop.audit.sql prescribes, and the
                # deletion is recorded in the audit chain below. Pending deferred checks
                # must run first (PostgreSQL refuses ALTER TABLE while any are queued).
                cursor.execute(
                    "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass "
                    "AND NOT tgisinternal AND tgname LIKE %s",
                    [table, "%append_only"],
                )
                guards = [row[0] for row in cursor.fetchall()]
                if guards:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for guard in guards:
                    cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER {quote(guard)}")
            delete(ApplicationEvent, "application_id")
            for guard in guards:
                cursor.execute(f"ALTER TABLE {quote(table)} ENABLE TRIGGER {quote(guard)}")
            if guards:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            delete(Application, "id")
        audit_record(
            actor_username=SYSTEM, actor_role=SYSTEM, action="demo.deleted",
            subject_type="country", subject_id=country.code,
            data={"applications": count},
        )
    return count


# --- the whole run ------------------------------------------------------------------------


@dataclass
class Result:
    summary: Summary
    stats: WriteStats
    deleted: int = 0
    accounts: int = 0
    seconds: float = 0.0
    plan_seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    scanned: dict[str, int] = field(default_factory=dict)  # violations the scans found


def generate(
    country_code: str,
    params: Params,
    *,
    replace: bool = False,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    pipeline: bool | None = None,
) -> Result:
    """Generate a demo history for a loaded country (see the module's docstring).

    With `pipeline` (the default for more than one chunk, where the platform forks), a
    second process plans the next chunks while this one writes: the two halves of the
    work run on two cores. The history is the same either way.
    """
    started = time.perf_counter()
    country = Country.objects.filter(code=country_code).first()
    if country is None:
        raise DemoError(f"country {country_code!r} is not loaded: run `onestop load-pack "
                        f"{country_code}` first")
    existing = demo_applications(country).exists()
    if existing and not replace and not dry_run:
        raise DemoError(
            f"{country.code} already has demo data: run again with --replace to delete it "
            "and generate a new history (other applications are kept)"
        )
    try:
        plan = HistoryPlan(load_context(country), params)
    except PlanError as exc:
        raise DemoError(str(exc)) from None
    deleted = 0
    if existing and replace and not dry_run:
        deleted = delete_demo(country)
    if dry_run:
        staff, accounts = _dry_staff(plan), 0
    else:
        with transaction.atomic():
            staff, accounts = ensure_staff(plan, country)
    plan.use(staff)
    writer = None if dry_run else ChunkWriter(country)
    if pipeline is None:
        pipeline = params.applications > params.chunk_size and _can_fork()
    waited: dict[str, float] = {}
    chunks = _planned_elsewhere(plan, waited) if pipeline else plan.chunks()
    for chunk in chunks:
        plan.summary.add(chunk)
        if writer is not None:
            writer.write(chunk)
        if progress is not None:
            progress(len(chunk.apps))
    if writer is not None:
        writer.finish()
    stats = writer.stats if writer is not None else WriteStats()
    if "plan" in waited:
        stats.timings["waiting for the plan"] = waited["plan"]
    scanned: dict[str, int] = {}
    if writer is not None and params.feedback:
        started_scan = time.perf_counter()
        scanned = scan_history(country, params.now)
        stats.timings["violation scans"] = time.perf_counter() - started_scan
        stats.violations += sum(scanned.values())
    if writer is not None:
        audit_record(
            actor_username=SYSTEM, actor_role=SYSTEM, action="demo.generated",
            subject_type="country", subject_id=country.code,
            data={"batch": params.batch, "seed": params.seed, "year": params.year,
                  "applications": stats.applications, "events": stats.events,
                  "first_entry": stats.head.sequence - stats.audit + 1 if stats.audit else 0,
                  "last_entry": stats.head.sequence},
        )
    elapsed = time.perf_counter() - started
    return Result(plan.summary, stats, deleted, accounts, elapsed,
                  elapsed - stats.seconds, plan.summary.warnings, scanned)


def scan_history(country: Country, now: datetime) -> dict[str, int]:
    """Run the control body's scans over the written history at `now`, as the periodic
    job does (`onestop.control.services.SCANS`, the same queries and keys), then date
    each violation found in the demo's rows when a scan running every few minutes would
    have found it: a missed deadline at the deadline, a refusal at the refusal, a wait or
    a counter time at the end of the visit, a late answer at the complaint's deadline.
    The rest (the open applications' warnings) stays found `now`. No digest is sent (a
    history is not news); one audit entry records the scan. Returns the new rows by kind.
    """
    found: dict[str, int] = {}
    with transaction.atomic():
        for kind, run in control_services.SCANS.items():
            found[str(kind)] = len(run(country, now))
        _date_found(country, now)
        audit_record(
            actor_username=SYSTEM, actor_role=SYSTEM, action="violations.scanned",
            subject_type="country", subject_id=country.code,
            data={"at": now.isoformat(), "new": found, "notified": 0, "demo": True},
        )
    return found


def _date_found(country: Country, now: datetime) -> None:
    demo = demo_applications(country).values("pk")
    tickets = Ticket.objects.filter(
        centre__country=country, operator__username__startswith=f"{country.code}-demo-"
    ).values("pk")
    fresh = Violation.objects.filter(country=country, found_at=now)
    app = Application.objects.filter(pk=OuterRef("application_id"))
    ticket = Ticket.objects.filter(pk=OuterRef("ticket_id"))
    complaint = Complaint.objects.filter(pk=OuterRef("complaint_id")).annotate(
        due=Coalesce("extended_to", "deadline_at"))
    fresh.filter(kind=ViolationKind.DEADLINE_MISSED, application__in=demo).update(
        found_at=Subquery(app.values("deadline_at")[:1]))
    fresh.filter(kind=ViolationKind.REFUSAL_GROUND, application__in=demo).update(
        found_at=Subquery(app.values("completed_at")[:1]))
    fresh.filter(kind__in=[ViolationKind.WAIT_OVER, ViolationKind.COUNTER_TIME_OVER],
                 ticket__in=tickets).update(found_at=Subquery(ticket.values("finished_at")[:1]))
    fresh.filter(kind=ViolationKind.COMPLAINT_OVERDUE, application__in=demo).update(
        found_at=Subquery(complaint.values("due")[:1]))


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _plan_into(plan: HistoryPlan, queue: Any) -> None:
    """The planning process: pure Python, it never touches the database it inherited."""
    try:
        for chunk in plan.chunks():
            queue.put(chunk)
        queue.put(None)
    except BaseException as exc:  # report it to the writer, whatever it is
        queue.put(_Failure("".join(traceback.format_exception(exc))))


@dataclass(frozen=True)
class _Failure:
    text: str


def _planned_elsewhere(plan: HistoryPlan, waited: dict[str, float]) -> Iterator[Chunk]:
    """`plan.chunks()`, computed by a forked process two chunks ahead of the writer; the
    seconds spent waiting for it add up in `waited["plan"]`."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=2)
    process = context.Process(target=_plan_into, args=(plan, queue), daemon=True,
                              name="onestop-demo-plan")
    process.start()
    try:
        while True:
            started = time.perf_counter()
            try:
                item = queue.get(timeout=5)
            except Empty:
                if not process.is_alive():
                    raise DemoError(
                        f"the planning process stopped (exit code {process.exitcode})"
                    ) from None
                continue
            waited["plan"] = waited.get("plan", 0.0) + time.perf_counter() - started
            if item is None:
                break
            if isinstance(item, _Failure):
                raise DemoError(f"planning failed:\n{item.text}")
            yield item
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=10)


def _dry_staff(plan: HistoryPlan) -> Staff:
    """Accounts that do not exist, for a plan that is not written (--dry-run)."""
    officers = {pk: tuple(Actor(-1, f"{code}-officer-{k}", "officer") for k in range(count))
                for pk, (code, count) in plan.officer_needs().items()}
    supervisors = {pk: Actor(-1, f"{code}-supervisor", "supervisor")
                   for pk, (code, _) in plan.officer_needs().items()}
    operators = {pk: tuple(Actor(-1, f"{code}-operator-{k}", "operator") for k in range(count))
                 for pk, (code, count) in plan.operator_needs().items()}
    citizens = {i: Actor(-1, plan.population.username(i), "citizen")
                for i in range(plan.population.size)}
    controllers = tuple(Actor(-1, f"controller-{k}", "controller") for k in range(CONTROLLERS))
    return Staff(officers, supervisors, operators, citizens, controllers=controllers)


# --- a digest of the history, for determinism checks ---------------------------------------


def history_digest(country: Country) -> str:
    """SHA-256 over the demo rows of `country` by content (no keys, no audit times): two
    runs with the same seed give the same digest."""
    digest = hashlib.sha256()
    apps = (
        demo_applications(country)
        .select_related("service", "standard", "applicant", "submitted_by", "centre", "region",
                        "agency", "assigned_to", "started_by")
        .prefetch_related("events__actor", "payments", "offers__service",
                          "offers__application")
        .order_by("number")
    )

    def name(user: User | None) -> str:
        return user.username if user is not None else ""

    for app in apps.iterator(chunk_size=2000):
        row = [
            app.number, app.service.code, app.standard.valid_from.isoformat(), app.workflow,
            app.state, app.channel, name(app.applicant), app.applicant_national_id,
            app.applicant_name, app.applicant_phone, app.applicant_email, app.form_data,
            name(app.submitted_by), app.centre.code if app.centre else "",
            app.region.code if app.region else "", app.agency.code, name(app.assigned_to),
            app.submitted_at.isoformat(), app.deadline_at.isoformat(),
            app.clock_stopped_at.isoformat() if app.clock_stopped_at else "",
            app.stopped_seconds, app.completed_at.isoformat() if app.completed_at else "",
            app.outcome, app.refusal_ground, app.refusal_reason, str(app.fee_amount),
            app.started_by.number if app.started_by else "", app.demo_batch, app.planted_flag,
        ]
        for event in sorted(app.events.all(), key=lambda e: (e.at, e.pk)):
            data = {k: v for k, v in event.data.items() if k != "offer"}
            row.append([event.at.isoformat(), event.action, event.from_state, event.to_state,
                        name(event.actor), event.actor_role, event.clock, event.comment, data])
        for payment in sorted(app.payments.all(), key=lambda p: p.reference):
            row.append([payment.reference, str(payment.amount), payment.paid_at.isoformat()])
        for offer in sorted(app.offers.all(), key=lambda o: o.pk):
            row.append([offer.service.code, offer.status, offer.form_data,
                        offer.application.number if offer.application else ""])
        digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
    tickets = (
        Ticket.objects.filter(centre__country=country,
                              operator__username__startswith=f"{country.code}-demo-")
        .select_related("centre", "group", "priority", "counter", "operator", "citizen",
                        "target_counter")
        .prefetch_related("slices__counter", "slices__operator", "applications")
        .order_by("centre__code", "day", "group__code", "sequence")
    )
    for ticket in tickets.iterator(chunk_size=2000):
        row = [
            ticket.centre.code, ticket.day.isoformat(), ticket.number, ticket.source,
            ticket.priority.code if ticket.priority else "", ticket.state,
            ticket.issued_at.isoformat(), ticket.due_at.isoformat() if ticket.due_at else "",
            ticket.called_at.isoformat() if ticket.called_at else "",
            ticket.finished_at.isoformat() if ticket.finished_at else "",
            ticket.counter.number if ticket.counter else 0, name(ticket.operator),
            name(ticket.citizen), ticket.national_id, ticket.wait_seconds,
            ticket.service_seconds, ticket.recalls,
            ticket.target_counter.number if ticket.target_counter else 0,
            sorted(a.number for a in ticket.applications.all()),
        ]
        for piece in sorted(ticket.slices.all(), key=lambda s: (s.started_at, s.pk)):
            row.append([piece.kind, piece.started_at.isoformat(),
                        piece.ended_at.isoformat() if piece.ended_at else "",
                        piece.counter.number if piece.counter else 0, name(piece.operator),
                        piece.note, piece.reason])
        digest.update(json.dumps(row, ensure_ascii=False).encode())
    for appointment in Appointment.objects.filter(
        centre__country=country, citizen__username__startswith=f"{country.code}-demo-citizen-"
    ).select_related("centre", "group", "citizen", "ticket").order_by("code"):
        digest.update(json.dumps([
            appointment.code, appointment.centre.code, appointment.group.code,
            name(appointment.citizen), appointment.slot_start.isoformat(), appointment.state,
            appointment.booked_at.isoformat(),
            appointment.ticket.number if appointment.ticket else "",
        ]).encode())
    for session in CounterSession.objects.filter(
        counter__centre__country=country, operator__username__startswith=f"{country.code}-demo-"
    ).select_related("counter__centre", "operator").order_by("opened_at", "counter__number"):
        digest.update(json.dumps([
            session.counter.centre.code, session.counter.number, name(session.operator),
            session.opened_at.isoformat(),
            session.closed_at.isoformat() if session.closed_at else "",
        ]).encode())
    demo = demo_applications(country).values("pk")
    for rating in Rating.objects.filter(country=country).filter(
        models.Q(application__in=demo)
        | models.Q(ticket__operator__username__startswith=f"{country.code}-demo-")
    ).select_related("application", "ticket__centre", "agency", "centre", "citizen").order_by(
        "created_at", "pk"
    ):
        rated = rating.ticket
        digest.update(json.dumps([
            rating.application.number if rating.application else "",
            [rated.centre.code, rated.day.isoformat(), rated.number] if rated else [],
            rating.agency.code if rating.agency else "",
            rating.centre.code if rating.centre else "", name(rating.citizen), rating.channel,
            rating.scores, str(rating.mean), rating.lowest, rating.comment, rating.alert,
            rating.created_at.isoformat(),
        ], sort_keys=True, ensure_ascii=False).encode())
    for complaint in Complaint.objects.filter(application__in=demo).select_related(
        "application", "handler", "citizen", "escalated_from"
    ).prefetch_related("events__actor").order_by("number"):
        lines: list[Any] = [
            complaint.number, complaint.level, complaint.subject, complaint.ground,
            complaint.application.number if complaint.application else "",
            name(complaint.citizen), name(complaint.handler), complaint.state,
            complaint.registered_at.isoformat(), complaint.deadline_at.isoformat(),
            complaint.extended_to.isoformat() if complaint.extended_to else "",
            complaint.decision, complaint.decided_at.isoformat() if complaint.decided_at else "",
            complaint.escalated_from.number if complaint.escalated_from else "",
        ]
        for step in sorted(complaint.events.all(), key=lambda e: (e.at, e.pk)):
            lines.append([step.at.isoformat(), step.action, name(step.actor), step.note])
        digest.update(json.dumps(lines, ensure_ascii=False).encode())
    for violation in Violation.objects.filter(application__in=demo).select_related(
        "application", "person"
    ).order_by("application__number", "kind", "found_at"):
        digest.update(json.dumps([
            violation.kind, violation.application.number if violation.application else "",
            violation.found_by, violation.found_at.isoformat(), name(violation.person),
        ]).encode())
    return digest.hexdigest()
