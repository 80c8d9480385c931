"""Reads of the centres' queue: an operator's counter and ticket, and the calling order.

The order in which waiting tickets are called (docs/centres.md, "Queue and counters"):
appointment tickets already due (earliest due first), then higher priority rank, then
the earlier place in the queue (`place_at`, kept on redirect), then the ticket's id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.db.models import Case, DateTimeField, F, OrderBy, Q, QuerySet, When

from onestop.accounts.models import User
from onestop.catalogue.selectors import local_today
from onestop.centres.models import (
    Centre,
    Counter,
    CounterSession,
    Ticket,
    TicketState,
)

AT_COUNTER_STATES = (TicketState.CALLED, TicketState.SERVING)


def open_session(operator: User) -> CounterSession | None:
    """The operator's open counter session (with its counter and centre), or None."""
    return (
        CounterSession.objects.select_related("counter__centre")
        .filter(operator=operator, closed_at__isnull=True)
        .order_by("pk")
        .first()
    )


def current_ticket(operator: User) -> Ticket | None:
    """The ticket the operator has called or is serving, or None."""
    return (
        Ticket.objects.select_related("group", "centre", "counter", "priority")
        .filter(operator=operator, state__in=AT_COUNTER_STATES)
        .order_by("pk")
        .first()
    )


def call_order(now: dt.datetime) -> list[OrderBy]:
    """ORDER BY of waiting tickets at `now`: due appointments (earliest first), then
    priority rank, then place in the queue, then id."""
    due = Case(When(due_at__lte=now, then=F("due_at")), default=None,
               output_field=DateTimeField())
    return [
        due.asc(nulls_last=True),
        F("priority_rank").desc(),
        F("place_at").asc(),
        F("pk").asc(),
    ]


def callable_by(counter: Counter) -> QuerySet[Ticket]:
    """Waiting tickets that this counter may call: of its centre, of a group it serves, and
    not redirected to another counter (unordered; see `call_order`)."""
    served = Counter.groups.through.objects.filter(counter_id=counter.pk).values(
        "servicegroup_id"
    )
    return Ticket.objects.filter(
        Q(target_counter__isnull=True) | Q(target_counter_id=counter.pk),
        centre_id=counter.centre_id,
        state=TicketState.WAITING,
        group_id__in=served,
    )


def position(ticket: Ticket, now: dt.datetime) -> int:
    """How many waiting tickets of the same centre and group are called before this one
    (0: it is next in its group). Tickets of other groups sharing counters are not
    counted, so this is a lower bound where counters serve several groups."""
    ahead = Q(priority_rank__gt=ticket.priority_rank) | (
        Q(priority_rank=ticket.priority_rank)
        & (Q(place_at__lt=ticket.place_at) | Q(place_at=ticket.place_at, pk__lt=ticket.pk))
    )
    if ticket.due_at is not None and ticket.due_at <= now:
        # a due appointment is passed only by appointments due earlier
        ahead = Q(due_at__lte=now) & (
            Q(due_at__lt=ticket.due_at) | (Q(due_at=ticket.due_at) & ahead)
        )
    else:
        ahead = Q(due_at__lte=now) | ahead
    return (
        Ticket.objects.filter(
            centre_id=ticket.centre_id, group_id=ticket.group_id, state=TicketState.WAITING
        )
        .exclude(pk=ticket.pk)
        .filter(ahead)
        .count()
    )


BOARD_ROWS = 8  # calls shown on a centre's display board


def board_calls(centre: Centre, now: dt.datetime) -> list[dict[str, Any]]:
    """Today's tickets at a counter, the latest call first, for the display board: numbers
    and times only, never who holds them."""
    tickets = (Ticket.objects.select_related("counter", "group")
               .filter(centre=centre, day=local_today(centre.country, now),
                       state__in=AT_COUNTER_STATES, counter__isnull=False,
                       called_at__isnull=False)
               .order_by("-called_at", "-pk")[:BOARD_ROWS])
    return [{
        "number": ticket.number,
        "counter": cast(Counter, ticket.counter).number,
        "called_at": cast(dt.datetime, ticket.called_at).isoformat(),
        "recalls": ticket.recalls,
        "serving": ticket.state == TicketState.SERVING,
        # what the voice says: the letter and the number without its leading zeros
        "spoken": f"{ticket.group.code} {ticket.sequence}",
    } for ticket in tickets]
