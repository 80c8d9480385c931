"""Write use cases of the centres' queue: taking tickets and the work at the counters.

Every function is one transaction and raises `QueueError` (or a subclass: `NotAllowed`,
`NotFound`, `Conflict`) with a message for the person at the kiosk or the counter. A
ticket's life is kept as slices (docs/centres.md, "Queue and counters"): each state
change closes the open slice and opens the next one.

Calling the next ticket is safe under concurrency: on PostgreSQL the ordered candidate
query takes `FOR UPDATE SKIP LOCKED`, so two counters calling at the same moment never
get the same ticket, and a ticket another counter is taking is skipped, not waited on. On
SQLite every write transaction starts with BEGIN IMMEDIATE, which serialises them.

Audit: the actions that depart from the queue's order or end a ticket without service
(calls out of order, redirects, no-shows), counters opened and closed, and identifying
the citizen are appended to the audit chain. The routine actions (taking a ticket,
calling the next one, recall, serving, hold, finish) are recorded by the ticket's slices
only: appending each to the chain would serialise every counter of the country on the
chain's head.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Field, Model, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from psycopg import Pipeline
from psycopg.pq import TransactionStatus

from onestop.accounts.models import User
from onestop.accounts.roles import Role
from onestop.applications.models import Application
from onestop.audit.services import record
from onestop.catalogue.models import Country
from onestop.catalogue.selectors import local_today
from onestop.centres import selectors
from onestop.centres.models import (
    Appointment,
    AppointmentState,
    Centre,
    Counter,
    CounterSession,
    PriorityCategory,
    QueueSettings,
    ServiceGroup,
    SliceKind,
    Ticket,
    TicketSequence,
    TicketSlice,
    TicketSource,
    TicketState,
)


class QueueError(Exception):
    """A queue action that cannot be done, with a message saying why."""


class NotAllowed(QueueError):
    """The user may not do this (HTTP 403)."""


class NotFound(QueueError):
    """No such counter, ticket or group (HTTP 404)."""


class Conflict(QueueError):
    """The queue's state does not allow it now (HTTP 409)."""


MAX_REASON = 300
# The states as a refusal names them, in the reader's language (as the models label them).
TICKET_STATE_WORDS: dict[str, Promise] = {
    TicketState.WAITING: gettext_lazy("waiting"),
    TicketState.CALLED: gettext_lazy("called"),
    TicketState.SERVING: gettext_lazy("being served"),
    TicketState.ON_HOLD: gettext_lazy("on hold"),
    TicketState.SERVED: gettext_lazy("served"),
    TicketState.NO_SHOW: gettext_lazy("no-show"),
    TicketState.CANCELLED: gettext_lazy("cancelled"),
}
APPOINTMENT_STATE_WORDS: dict[str, Promise] = {
    AppointmentState.BOOKED: gettext_lazy("booked"),
    AppointmentState.CANCELLED: gettext_lazy("cancelled"),
    AppointmentState.ARRIVED: gettext_lazy("arrived"),
    AppointmentState.NO_SHOW: gettext_lazy("no-show"),
}
NUMBER = re.compile(r"^\s*([A-Za-z]{1,4})\s*-?\s*(\d{1,6})\s*$")


def ticket_number(group: ServiceGroup, sequence: int) -> str:
    """`B-042`: the group's letter and the day's sequence, at least three digits."""
    return ticket_number_text(group.code, sequence)


def ticket_number_text(code: str, sequence: int) -> str:
    return f"{code}-{sequence:03d}"


def _lock(queryset: QuerySet[Any], **options: Any) -> QuerySet[Any]:
    """`select_for_update` locking only the queried table's rows on PostgreSQL (SQLite
    takes no row locks: its write transactions are serialised)."""
    if connection.vendor == "postgresql":
        return queryset.select_for_update(of=("self",), **options)
    return queryset.select_for_update(**options)


def _subject(ticket: Ticket) -> str:
    return f"{ticket.centre_id}/{ticket.day.isoformat()}/{ticket.number}"


def _audit(user: User, action: str, ticket: Ticket | None, data: dict[str, Any],
           subject: tuple[str, str] | None = None) -> None:
    """Append an audit entry; call it as the last write of the use case."""
    subject_type, subject_id = subject or ("ticket", _subject(ticket) if ticket else "")
    record(
        actor_username=user.username, actor_role=user.role, action=f"centres.{action}",
        subject_type=subject_type, subject_id=subject_id, data=data,
    )


# --- groups and tickets --------------------------------------------------------------


def group_for_service(country: Country, service_code: str) -> ServiceGroup:
    """The service group whose ticket a citizen takes for this service: the group with the
    longest service-code prefix matching it, else the country's default group."""
    best: ServiceGroup | None = None
    best_length = -1
    default: ServiceGroup | None = None
    for group in ServiceGroup.objects.filter(country=country):
        if group.is_default and default is None:
            default = group
        for prefix in group.service_prefixes:
            if service_code.startswith(str(prefix)) and len(str(prefix)) > best_length:
                best, best_length = group, len(str(prefix))
    found = best or default
    if found is None:
        raise NotFound(_("no service group of %(country)s covers service %(service)s")
                       % {"country": country.code, "service": service_code})
    return found


def may_issue_tickets(user: User, centre: Centre) -> bool:
    """Staff who may take tickets for citizens at this centre: its operators, a supervisor
    managing it (reception, kiosk devices), and admins."""
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.OPERATOR:
        return user.centre_id == centre.pk
    if user.role == Role.SUPERVISOR:
        return user.centre_id == centre.pk and user.agency_id is None
    return False


def take_ticket(
    *,
    centre: Centre,
    group: ServiceGroup,
    source: str,
    priority: PriorityCategory | None = None,
    citizen: User | None = None,
    appointment: Appointment | None = None,
    now: dt.datetime | None = None,
    by: User | None = None,
) -> Ticket:
    """Issue the next number of `group` at `centre` today (the centre's local date) and put
    the ticket in the queue. With `appointment` (booked at this centre for this group,
    not yet arrived) the ticket is due from the slot's start less the country's
    `appointment_early_minutes`, and the appointment is marked arrived. `by`, when given,
    is the staff member issuing it (checked with `may_issue_tickets`)."""
    now = now or timezone.now()
    if by is not None and not may_issue_tickets(by, centre):
        raise NotAllowed(_("only staff of this centre may issue its tickets"))
    if source not in TicketSource.values:
        raise QueueError(_("unknown ticket source %(source)s") % {"source": repr(source)})
    if group.country_id != centre.country_id:
        raise QueueError(_("group %(group)s is not a group of %(country)s's centres")
                         % {"group": group.code, "country": centre.country_id})
    if priority is not None and priority.country_id != centre.country_id:
        raise QueueError(_("priority category %(code)s is not one of this country")
                         % {"code": priority.code})
    if not Counter.objects.filter(centre=centre, active=True, groups=group).exists():
        raise QueueError(_("no counter of this centre serves group %(group)s")
                         % {"group": group.code})
    day = local_today(centre.country, now)
    with transaction.atomic():
        due_at = None
        if appointment is not None:
            appointment = _lock(Appointment.objects.filter(pk=appointment.pk)).get()
            if appointment.centre_id != centre.pk:
                raise QueueError(_("this appointment is booked at another centre"))
            if appointment.group_id != group.pk:
                raise QueueError(_("this appointment is for group %(group)s")
                                 % {"group": appointment.group.code})
            if appointment.state != AppointmentState.BOOKED or appointment.ticket_id:
                raise Conflict(_("this appointment is %(state)s")
                               % {"state": APPOINTMENT_STATE_WORDS[appointment.state]}
                               if appointment.state != AppointmentState.BOOKED
                               else _("this appointment already has a ticket"))
            early = QueueSettings.objects.filter(country_id=centre.country_id).values_list(
                "appointment_early_minutes", flat=True
            ).first()
            due_at = appointment.slot_start - dt.timedelta(minutes=early or 0)
        sequence = _next_sequence(centre, group, day)
        ticket = Ticket.objects.create(
            centre=centre, group=group, day=day, sequence=sequence,
            number=ticket_number(group, sequence), source=source, priority=priority,
            priority_rank=priority.rank if priority else 0, state=TicketState.WAITING,
            issued_at=now, place_at=now, due_at=due_at, citizen=citizen,
            national_id=citizen.national_id if citizen is not None else "",
        )
        TicketSlice.objects.create(ticket=ticket, kind=SliceKind.WAITING, started_at=now)
        if appointment is not None:
            appointment.state = AppointmentState.ARRIVED
            appointment.ticket = ticket
            appointment.save(update_fields=["state", "ticket"])
    return ticket


def _next_sequence(centre: Centre, group: ServiceGroup, day: dt.date) -> int:
    """The next number of the group's sequence for the day, the row locked until commit
    so that concurrent kiosks get consecutive numbers."""
    row = _lock(
        TicketSequence.objects.filter(centre=centre, group=group, day=day)
    ).order_by("pk").first()
    if row is None:
        try:
            with transaction.atomic():
                row = TicketSequence.objects.create(centre=centre, group=group, day=day)
        except IntegrityError:  # another kiosk created it first: wait for its lock
            row = _lock(TicketSequence.objects.filter(centre=centre, group=group, day=day)).get()
    TicketSequence.objects.filter(pk=row.pk).update(last=F("last") + 1)
    row.refresh_from_db(fields=["last"])
    return row.last


# --- counters ------------------------------------------------------------------------


def _check_operator(operator: User) -> None:
    if operator.role != Role.OPERATOR or operator.centre_id is None:
        raise NotAllowed(_("only an operator of a centre works at its counters"))


def _session(operator: User) -> CounterSession:
    """The operator's open session, locked (one action of an operator at a time)."""
    _check_operator(operator)
    session = (
        _lock(CounterSession.objects.filter(operator=operator, closed_at__isnull=True))
        .select_related("counter")
        .order_by()
        .first()
    )
    if session is None:
        raise Conflict(_("open a counter first"))
    if session.counter.centre_id != operator.centre_id:
        raise NotAllowed(_("this counter is not at your centre"))
    return session


def _at_counter(operator: User) -> tuple[CounterSession, Ticket]:
    """The operator's session and the ticket at their counter (locked)."""
    session = _session(operator)
    ticket = (
        _lock(Ticket.objects.filter(operator=operator, state__in=selectors.AT_COUNTER_STATES))
        .select_related("centre", "group")
        .order_by("pk")
        .first()
    )
    if ticket is None:
        raise Conflict(_("there is no ticket at your counter"))
    return session, ticket


def open_counter(
    *, operator: User, counter_number: int, now: dt.datetime | None = None
) -> CounterSession:
    """Start working at a counter of the operator's centre. Opening the counter one is
    already at returns that session."""
    now = now or timezone.now()
    _check_operator(operator)
    counter = Counter.objects.filter(
        centre=operator.centre, number=counter_number, active=True
    ).first()
    if counter is None:
        raise NotFound(_("your centre has no open counter number %(number)s")
                       % {"number": counter_number})
    with transaction.atomic():
        current = selectors.open_session(operator)
        if current is not None:
            if current.counter_id == counter.pk:
                return current
            raise Conflict(_("close counter %(number)s first")
                           % {"number": current.counter.number})
        try:
            with transaction.atomic():
                session = CounterSession.objects.create(
                    counter=counter, operator=operator, opened_at=now
                )
        except IntegrityError as exc:
            raise Conflict(_("counter %(number)s is already open")
                           % {"number": counter_number}) from exc
        _audit(operator, "counter.open", None, {"counter": counter.number, "at": now},
               subject=("counter", f"{counter.centre_id}/{counter.number}"))
    return session


def close_counter(*, operator: User, now: dt.datetime | None = None) -> CounterSession:
    """Stop working at the counter; refused while a ticket is still at it."""
    now = now or timezone.now()
    with transaction.atomic():
        session = _session(operator)
        ticket = selectors.current_ticket(operator)
        if ticket is not None:
            raise Conflict(_("finish, redirect or put on hold ticket %(number)s first")
                           % {"number": ticket.number})
        session.closed_at = now
        session.save(update_fields=["closed_at"])
        counter = session.counter
        _audit(operator, "counter.close", None, {"counter": counter.number, "at": now},
               subject=("counter", f"{counter.centre_id}/{counter.number}"))
    return session


# --- slices --------------------------------------------------------------------------


def _close_slice(ticket: Ticket, now: dt.datetime, note: str = "") -> None:
    changes: dict[str, Any] = {"ended_at": now}
    if note:
        changes["note"] = note
    TicketSlice.objects.filter(ticket=ticket, ended_at__isnull=True).update(**changes)


def _move(ticket: Ticket, kind: str, now: dt.datetime, *, counter: Counter | None = None,
          operator: User | None = None, end_note: str = "", **extra: Any) -> None:
    """Close the ticket's open slice and open one of `kind`."""
    _close_slice(ticket, now, end_note)
    TicketSlice.objects.create(
        ticket=ticket, kind=kind, started_at=now, counter=counter, operator=operator, **extra
    )


def _durations(ticket: Ticket) -> tuple[int, int]:
    """Seconds in WAITING slices and in SERVING slices (all closed by now)."""
    wait = service = 0.0
    for kind, started, ended in TicketSlice.objects.filter(
        ticket=ticket, kind__in=(SliceKind.WAITING, SliceKind.SERVING), ended_at__isnull=False
    ).order_by().values_list("kind", "started_at", "ended_at"):
        seconds = (ended - started).total_seconds() if ended else 0.0
        if kind == SliceKind.WAITING:
            wait += seconds
        else:
            service += seconds
    return round(wait), round(service)


def _call(ticket: Ticket, session: CounterSession, operator: User, now: dt.datetime,
          *, out_of_order: bool = False, reason: str = "", note: str = "") -> Ticket:
    _move(ticket, SliceKind.CALLED, now, counter=session.counter, operator=operator,
          out_of_order=out_of_order, reason=reason, note=note)
    ticket.state = TicketState.CALLED
    ticket.counter = session.counter
    ticket.operator = operator
    ticket.called_at = now
    ticket.save(update_fields=["state", "counter", "operator", "called_at"])
    return ticket


# --- calling -------------------------------------------------------------------------


def _free_session(operator: User) -> CounterSession:
    session = _session(operator)
    busy = (
        Ticket.objects.filter(operator=operator, state__in=selectors.AT_COUNTER_STATES)
        .order_by("pk").values_list("number", flat=True).first()
    )
    if busy is not None:
        raise Conflict(_("ticket %(number)s is still at your counter: finish it first")
                       % {"number": busy})
    return session


def call_next(*, operator: User, now: dt.datetime | None = None) -> Ticket | None:
    """Call the first waiting ticket this counter may take (see `selectors.call_order`),
    or None when there is none. Tickets being taken by other counters are skipped.

    On PostgreSQL this is two statements (`CallNextSQL`); elsewhere the ORM path
    (`_call_next_orm`), which is the reference the SQL follows."""
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        return _call_next_postgresql(operator, now)
    return _call_next_orm(operator, now)


def _call_next_orm(operator: User, now: dt.datetime) -> Ticket | None:
    """`call_next` through the ORM: eight statements (works on PostgreSQL too, where
    `benchmarks/queue.py` measures it against the SQL path)."""
    with transaction.atomic():
        session = _free_session(operator)
        candidates = selectors.callable_by(session.counter).order_by(*selectors.call_order(now))
        ticket = _lock(candidates, skip_locked=True).first()
        if ticket is None:
            return None
        return _call(ticket, session, operator, now)


# --- calling the next ticket on PostgreSQL -----------------------------------------------


def _columns(model: type[Model]) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def _attnames(model: type[Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


class CallNextSQL:
    """`call_next` on PostgreSQL as two statements in one transaction, table and column
    names taken from the models. Both take the parameters of `parameters`.

    `session`: the operator's open session, locked (`FOR UPDATE`: one action of an
    operator at a time), with its counter's columns (`counter_columns`); no row when the
    operator has no open counter.

    `call`: run after `session` got its lock, so that it reads the queue as it is then. In
    one statement it checks that the operator has no ticket at the counter, picks the
    first waiting ticket in the calling order that the counter may take (`FOR UPDATE SKIP
    LOCKED`: a ticket another counter is taking is skipped, not waited on), calls it,
    closes its open slice and opens the CALLED slice. It returns one row: the number of
    the ticket already at the counter (or NULL), then the called ticket's columns
    (`ticket_columns`; all NULL when nothing was called). The counter is found again from
    the open session of the operator at their centre, so the statement calls nothing when
    `session` found no counter or one of another centre."""

    def __init__(self) -> None:
        ticket, slice_, counter, session = (
            Ticket._meta, TicketSlice._meta, Counter._meta, CounterSession._meta,
        )
        through = Counter.groups.through._meta
        served_group = through.get_field("servicegroup").column
        served_counter = through.get_field("counter").column

        def column(model: type[Model], name: str) -> str:
            field = model._meta.get_field(name)
            assert isinstance(field, Field)
            return connection.ops.quote_name(field.column)

        def t(name: str) -> str:
            return column(Ticket, name)

        def sl(name: str) -> str:
            return column(TicketSlice, name)

        def c(name: str) -> str:
            return column(Counter, name)

        def s(name: str) -> str:
            return column(CounterSession, name)

        q = connection.ops.quote_name
        self.counter_columns = _columns(Counter)
        self.ticket_columns = _columns(Ticket)
        self.counter_fields = _attnames(Counter)  # for `Model.from_db`, in the same order
        self.ticket_fields = _attnames(Ticket)
        # names are the models' own; every value is a parameter
        self.session = (
            f"SELECT {', '.join('c.' + q(col) for col in self.counter_columns)}"  # noqa: S608
            f" FROM {q(session.db_table)} s JOIN {q(counter.db_table)} c"
            f" ON c.{c('id')} = s.{s('counter')}"
            f" WHERE s.{s('operator')} = %(operator)s AND s.{s('closed_at')} IS NULL"
            f" ORDER BY s.{s('id')} LIMIT 1 FOR UPDATE OF s"
        )
        self.call = f"""
WITH desk AS (
  SELECT s.{s('counter')} AS counter_id
    FROM {q(session.db_table)} s JOIN {q(counter.db_table)} c ON c.{c('id')} = s.{s('counter')}
   WHERE s.{s('operator')} = %(operator)s AND s.{s('closed_at')} IS NULL
     AND c.{c('centre')} = %(centre)s
   ORDER BY s.{s('id')} LIMIT 1
), busy AS (
  SELECT {t('number')} AS number FROM {q(ticket.db_table)}
   WHERE {t('operator')} = %(operator)s AND {t('state')} IN (%(called)s, %(serving)s)
   ORDER BY {t('id')} LIMIT 1
), pick AS (
  SELECT t.{t('id')} AS id, desk.counter_id FROM {q(ticket.db_table)} t, desk
   WHERE NOT EXISTS (SELECT 1 FROM busy)
     AND t.{t('centre')} = %(centre)s AND t.{t('state')} = %(waiting)s
     AND (t.{t('target_counter')} IS NULL OR t.{t('target_counter')} = desk.counter_id)
     AND t.{t('group')} IN (SELECT g.{q(served_group)} FROM {q(through.db_table)} g
                             WHERE g.{q(served_counter)} = desk.counter_id)
   ORDER BY CASE WHEN t.{t('due_at')} <= %(now)s THEN t.{t('due_at')} END ASC NULLS LAST,
            t.{t('priority_rank')} DESC, t.{t('place_at')} ASC, t.{t('id')} ASC
   LIMIT 1
   FOR UPDATE OF t SKIP LOCKED
), called AS (
  UPDATE {q(ticket.db_table)} t
     SET {t('state')} = %(called)s, {t('counter')} = pick.counter_id,
         {t('operator')} = %(operator)s, {t('called_at')} = %(now)s
    FROM pick WHERE t.{t('id')} = pick.id
  RETURNING {', '.join('t.' + q(col) for col in self.ticket_columns)}
), closed AS (
  UPDATE {q(slice_.db_table)} sl SET {sl('ended_at')} = %(now)s
    FROM pick WHERE sl.{sl('ticket')} = pick.id AND sl.{sl('ended_at')} IS NULL
), opened AS (
  INSERT INTO {q(slice_.db_table)} ({sl('ticket')}, {sl('kind')}, {sl('started_at')},
      {sl('ended_at')}, {sl('counter')}, {sl('operator')}, {sl('note')}, {sl('reason')},
      {sl('out_of_order')})
  SELECT pick.id, %(slice_called)s, %(now)s, NULL, pick.counter_id, %(operator)s, '', '',
         false
    FROM pick
)
SELECT (SELECT number FROM busy), called.* FROM (SELECT 1) AS one LEFT JOIN called ON true
"""  # noqa: S608 (names are the models' own; every value is a parameter)

    @staticmethod
    def parameters(operator_id: int, centre_id: int, now: dt.datetime) -> dict[str, Any]:
        return {
            "operator": operator_id, "centre": centre_id, "now": now,
            "waiting": TicketState.WAITING.value, "called": TicketState.CALLED.value,
            "serving": TicketState.SERVING.value, "slice_called": SliceKind.CALLED.value,
        }


_call_next_sql: CallNextSQL | None = None


def call_next_sql() -> CallNextSQL:
    """The statements of `call_next` on PostgreSQL (built once)."""
    global _call_next_sql
    if _call_next_sql is None:
        _call_next_sql = CallNextSQL()
    return _call_next_sql


def _call_next_postgresql(operator: User, now: dt.datetime) -> Ticket | None:
    """The two statements of `CallNextSQL` sent at once (psycopg's pipeline mode): one
    round trip to the server instead of one per statement. The server still runs them
    one after the other, so `call` reads the queue after `session` got its lock. On its
    own this is a transaction of its own (BEGIN and COMMIT go in the same round trip);
    inside a caller's transaction it is part of it. When the checks refuse the call,
    `call` has changed nothing, so the transaction may commit before raising."""
    _check_operator(operator)
    sql = call_next_sql()
    parameters = sql.parameters(operator.pk, operator.centre_id, now)  # type: ignore[arg-type]
    own = connection.get_autocommit()  # else part of the caller's transaction
    if not own:
        connection.validate_no_broken_transaction()
    raw = connection.connection
    with connection.wrap_database_errors:
        try:
            # one round trip; without pipeline support in libpq (< 14) the same
            # statements go one by one
            with raw.pipeline() if Pipeline.is_supported() else contextlib.nullcontext():
                if own:
                    raw.cursor().execute("BEGIN")
                session, call = raw.cursor(), raw.cursor()
                session.execute(sql.session, parameters)
                call.execute(sql.call, parameters)
                if own:
                    raw.cursor().execute("COMMIT")
        except Exception:
            if own and raw.info.transaction_status != TransactionStatus.IDLE:
                raw.execute("ROLLBACK")
            raise
        row, result = session.fetchone(), call.fetchone()
    if row is None:
        raise Conflict(_("open a counter first"))
    counter = Counter.from_db(connection.alias, sql.counter_fields, row)
    if counter.centre_id != operator.centre_id:
        raise NotAllowed(_("this counter is not at your centre"))
    busy, *values = result
    if busy is not None:
        raise Conflict(_("ticket %(number)s is still at your counter: finish it first")
                       % {"number": busy})
    if values[0] is None:
        return None
    ticket = Ticket.from_db(connection.alias, sql.ticket_fields, values)
    ticket.counter = counter
    ticket.operator = operator
    return ticket

def call_by_number(
    *, operator: User, number: str, reason: str = "", now: dt.datetime | None = None
) -> Ticket:
    """Call a given ticket of today (waiting, or on hold: called back). Calling a waiting
    ticket while older ones of the same group and priority wait is out of order: it needs
    a reason and is recorded on the slice and in the audit trail."""
    now = now or timezone.now()
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise QueueError(_("the reason is longer than %(n)s characters") % {"n": MAX_REASON})
    match = NUMBER.match(number or "")
    if match is None:
        raise QueueError(_("%(number)s is not a ticket number (like B-042)")
                         % {"number": repr(number)})
    code, sequence = match.group(1).upper(), int(match.group(2))
    with transaction.atomic():
        session = _free_session(operator)
        counter = session.counter
        country = Country.objects.get(centres__pk=counter.centre_id)
        day = local_today(country, now)
        ticket = _lock(
            Ticket.objects.filter(
                centre_id=counter.centre_id, day=day, group__code=code, sequence=sequence
            )
        ).select_related("group").order_by("pk").first()
        if ticket is None:
            raise NotFound(_("no ticket %(number)s today")
                           % {"number": ticket_number_text(code, sequence)})
        if ticket.state not in (TicketState.WAITING, TicketState.ON_HOLD):
            raise Conflict(_("ticket %(number)s is %(state)s")
                           % {"number": ticket.number,
                              "state": TICKET_STATE_WORDS[ticket.state]})
        if not counter.groups.filter(pk=ticket.group_id).exists():
            raise QueueError(_("counter %(number)s does not serve group %(group)s")
                             % {"number": counter.number, "group": ticket.group.code})
        if ticket.target_counter_id not in (None, counter.pk):
            raise QueueError(_("ticket %(number)s was sent to another counter")
                             % {"number": ticket.number})
        if ticket.state == TicketState.ON_HOLD:
            return _call(ticket, session, operator, now, note="from_hold")
        out_of_order = (
            selectors.callable_by(counter)
            .filter(group_id=ticket.group_id, priority_rank=ticket.priority_rank)
            .filter(Q(place_at__lt=ticket.place_at) | Q(place_at=ticket.place_at,
                                                         pk__lt=ticket.pk))
            .exists()
        )
        if not out_of_order:
            return _call(ticket, session, operator, now)
        if not reason:
            raise QueueError(
                _("older tickets of group %(group)s are waiting: give a reason to call "
                  "%(number)s out of order")
                % {"group": ticket.group.code, "number": ticket.number}
            )
        _call(ticket, session, operator, now, out_of_order=True, reason=reason,
              note="out_of_order")
        _audit(operator, "ticket.call_out_of_order", ticket,
               {"counter": counter.number, "reason": reason, "at": now})
    return ticket


def recall(*, operator: User, now: dt.datetime | None = None) -> Ticket:
    """Call the ticket at the counter again (the citizen did not come yet)."""
    now = now or timezone.now()
    with transaction.atomic():
        _session, ticket = _at_counter(operator)
        if ticket.state != TicketState.CALLED:
            raise Conflict(_("ticket %(number)s is already being served")
                           % {"number": ticket.number})
        Ticket.objects.filter(pk=ticket.pk).update(recalls=F("recalls") + 1)
        TicketSlice.objects.filter(ticket=ticket, ended_at__isnull=True).update(note="recall")
        ticket.refresh_from_db(fields=["recalls"])
    return ticket


def start_serving(*, operator: User, now: dt.datetime | None = None) -> Ticket:
    """The citizen has come to the counter."""
    now = now or timezone.now()
    with transaction.atomic():
        session, ticket = _at_counter(operator)
        if ticket.state != TicketState.CALLED:
            raise Conflict(_("ticket %(number)s is already being served")
                           % {"number": ticket.number})
        _move(ticket, SliceKind.SERVING, now, counter=session.counter, operator=operator)
        ticket.state = TicketState.SERVING
        ticket.save(update_fields=["state"])
    return ticket


def hold(*, operator: User, now: dt.datetime | None = None) -> Ticket:
    """The citizen steps away (to make copies, pay a fee): the ticket waits on hold and is
    called back by its number, without counting as out of order."""
    now = now or timezone.now()
    with transaction.atomic():
        session, ticket = _at_counter(operator)
        if ticket.state != TicketState.SERVING:
            raise Conflict(_("ticket %(number)s is not being served yet: start serving "
                             "it first") % {"number": ticket.number})
        _move(ticket, SliceKind.ON_HOLD, now, counter=session.counter, operator=operator)
        ticket.state = TicketState.ON_HOLD
        ticket.save(update_fields=["state"])
    return ticket


def redirect(
    *,
    operator: User,
    to_counter: Counter | int | None = None,
    to_group: ServiceGroup | str | None = None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Ticket:
    """Send the ticket at the counter back to the queue, keeping its place: for another
    counter of the centre (only that counter may call it) and/or another group (the
    ticket then takes the next number of that group: numbers are unique per group and
    day)."""
    now = now or timezone.now()
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise QueueError(_("the reason is longer than %(n)s characters") % {"n": MAX_REASON})
    if to_counter is None and to_group is None:
        raise QueueError(_("give the counter or the group to redirect the ticket to"))
    with transaction.atomic():
        session, ticket = _at_counter(operator)
        centre_id = session.counter.centre_id
        group = ticket.group
        if to_group is not None:
            code = to_group.code if isinstance(to_group, ServiceGroup) else str(to_group)
            found = ServiceGroup.objects.filter(
                country_id=ticket.centre.country_id, code=code
            ).first()
            if found is None or (isinstance(to_group, ServiceGroup) and found.pk != to_group.pk):
                raise NotFound(_("no service group %(group)s") % {"group": code})
            group = found
        counter: Counter | None = None
        if to_counter is not None:
            number = to_counter.number if isinstance(to_counter, Counter) else int(to_counter)
            counter = Counter.objects.filter(centre_id=centre_id, number=number,
                                             active=True).first()
            if counter is None or (isinstance(to_counter, Counter) and counter.pk != to_counter.pk):
                raise NotFound(_("your centre has no open counter number %(number)s")
                               % {"number": number})
            if counter.pk == session.counter_id:
                raise QueueError(_("the ticket is already at this counter"))
            if not counter.groups.filter(pk=group.pk).exists():
                raise QueueError(_("counter %(number)s does not serve group %(group)s")
                                 % {"number": counter.number, "group": group.code})
        elif not Counter.objects.filter(centre_id=centre_id, active=True, groups=group).exists():
            raise QueueError(_("no counter of this centre serves group %(group)s")
                             % {"group": group.code})
        if counter is None and group.pk == ticket.group_id:
            raise QueueError(_("the ticket is already in group %(group)s")
                             % {"group": group.code})
        _move(ticket, SliceKind.WAITING, now, note="redirect", reason=reason)
        from_number, from_counter = ticket.number, session.counter.number
        if group.pk != ticket.group_id:
            # a number is unique in its group and day: the ticket takes the next number
            # of its new group (the operator tells the citizen), and keeps its place
            ticket.sequence = _next_sequence(ticket.centre, group, ticket.day)
            ticket.number = ticket_number(group, ticket.sequence)
            ticket.group = group
        ticket.state = TicketState.WAITING
        ticket.target_counter = counter
        ticket.counter = None
        ticket.operator = None
        ticket.called_at = None
        ticket.save(update_fields=["state", "group", "sequence", "number", "target_counter",
                                   "counter", "operator", "called_at"])
        _audit(operator, "ticket.redirect", ticket, {
            "from_number": from_number, "from_counter": from_counter,
            "to_counter": counter.number if counter else None, "to_group": group.code,
            "reason": reason, "at": now,
        })
    return ticket


def no_show(*, operator: User, now: dt.datetime | None = None) -> Ticket:
    """The called citizen did not come: allowed once the country's
    `no_show_after_minutes` have passed since the call."""
    now = now or timezone.now()
    with transaction.atomic():
        _session, ticket = _at_counter(operator)
        if ticket.state != TicketState.CALLED:
            raise Conflict(_("ticket %(number)s is being served") % {"number": ticket.number})
        minutes = QueueSettings.objects.filter(country_id=ticket.centre.country_id).values_list(
            "no_show_after_minutes", flat=True
        ).first() or 0
        assert ticket.called_at is not None  # a called ticket has its call time
        allowed_at = ticket.called_at + dt.timedelta(minutes=minutes)
        if now < allowed_at:
            left = int((allowed_at - now).total_seconds())
            raise Conflict(
                _("wait %(minutes)s minutes after the call before marking a no-show "
                  "(%(left)s left)")
                % {"minutes": minutes, "left": f"{left // 60}:{left % 60:02d}"}
            )
        _close_slice(ticket, now, "no_show")
        _finished(ticket, TicketState.NO_SHOW, now)
        _audit(operator, "ticket.no_show", ticket,
               {"counter": ticket.counter.number if ticket.counter else None,
                "called_at": ticket.called_at, "recalls": ticket.recalls, "at": now})
    return ticket


def _finished(ticket: Ticket, state: str, now: dt.datetime) -> None:
    ticket.wait_seconds, ticket.service_seconds = _durations(ticket)
    ticket.state = state
    ticket.finished_at = now
    ticket.save(update_fields=["state", "finished_at", "wait_seconds", "service_seconds"])


def finish(*, operator: User, now: dt.datetime | None = None) -> Ticket:
    """The citizen has been served: the ticket's wait and service seconds are stored."""
    now = now or timezone.now()
    with transaction.atomic():
        _session, ticket = _at_counter(operator)
        if ticket.state != TicketState.SERVING:
            raise Conflict(_("ticket %(number)s is not being served: start serving it "
                             "or mark a no-show") % {"number": ticket.number})
        _close_slice(ticket, now, "served")
        _finished(ticket, TicketState.SERVED, now)
    return ticket


def identify(*, operator: User, national_id: str) -> Ticket:
    """Record who holds the ticket at the counter (and their account, if they have one)."""
    national_id = (national_id or "").strip()
    if not national_id:
        raise QueueError(_("national_id: give the citizen's national ID"))
    if len(national_id) > 32 or not national_id.isalnum():
        raise QueueError(_("national_id: letters and digits, at most 32"))
    with transaction.atomic():
        _session, ticket = _at_counter(operator)
        ticket.national_id = national_id
        ticket.citizen = User.objects.filter(
            role=Role.CITIZEN, national_id=national_id
        ).order_by("pk").first()
        ticket.save(update_fields=["national_id", "citizen"])
        _audit(operator, "ticket.identify", ticket,
               {"has_account": ticket.citizen_id is not None})
    return ticket


def link_application(*, operator: User, application: Application) -> Ticket:
    """Link an application submitted at the operator's centre to the ticket at the counter."""
    with transaction.atomic():
        _session, ticket = _at_counter(operator)
        if application.centre_id != ticket.centre_id:
            raise NotAllowed(_("application %(number)s was not submitted at this centre")
                             % {"number": application.number})
        ticket.applications.add(application)
        if not ticket.national_id and application.applicant_national_id:
            ticket.national_id = application.applicant_national_id
            ticket.save(update_fields=["national_id"])
    return ticket
