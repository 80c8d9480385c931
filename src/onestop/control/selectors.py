"""Reads of violations, always through what the user may see.

- controllers, analysts and admins: every violation;
- a supervisor of an agency: the violations of that agency and of its sub-units;
- a supervisor managing a centre: the violations whose responsible unit is that centre
  (waits and counter times, complaints about the centre); an application's violations
  are its agency's;
- nobody else (officers, operators, citizens): none (403).

Who is responsible (the officer or operator) is shown to controllers, analysts and
admins everywhere, and to a supervisor only on the page of one violation of their own
scope (they act on it); never in lists a supervisor reads, nor in any public output.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from onestop.accounts.models import User
from onestop.accounts.roles import Role
from onestop.catalogue.selectors import agency_subtree_ids
from onestop.control.errors import Forbidden, NotFound
from onestop.control.models import Violation, ViolationState

READ_ALL_ROLES = frozenset({Role.CONTROLLER, Role.ANALYST, Role.ADMIN})
READER_ROLES = READ_ALL_ROLES | {Role.SUPERVISOR}
# who may acknowledge, explain, penalise and close (analysts and admins only read)
HANDLER_ROLES = frozenset({Role.SUPERVISOR, Role.CONTROLLER})
OPEN_STATES = (ViolationState.OPEN, ViolationState.ACKNOWLEDGED, ViolationState.EXPLAINED,
               ViolationState.PENALISED)


def may_read(user: User) -> bool:
    return user.is_authenticated and user.role in READER_ROLES


def visible_violations(user: User) -> QuerySet[Violation]:
    """The violations `user` may see; Forbidden for roles that see none."""
    if not may_read(user):
        raise Forbidden(_("violations are read by supervisors and the control body"))
    found = Violation.objects.select_related(
        "country", "agency", "centre", "application", "ticket", "complaint", "person",
        "handled_by",
    )
    if user.role in READ_ALL_ROLES:
        return found
    scope = Q(pk__in=[])
    if user.agency_id is not None:
        scope |= Q(agency_id__in=agency_subtree_ids([user.agency_id]))
    if user.centre_id is not None:
        scope |= Q(centre_id=user.centre_id, agency__isnull=True)
    return found.filter(scope)


def filtered(
    violations: QuerySet[Violation],
    *,
    kind: str = "",
    state: str = "",
    agency: str = "",
    found_by: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[Violation]:
    """Narrow a list by kind, state ("open" also takes "active": every state but closed),
    agency code, who found it and the period it was found in ([since, until))."""
    if kind:
        violations = violations.filter(kind=kind)
    if state == "active":
        violations = violations.filter(state__in=OPEN_STATES)
    elif state:
        violations = violations.filter(state=state)
    if agency:
        violations = violations.filter(agency__code=agency)
    if found_by:
        violations = violations.filter(found_by=found_by)
    if since is not None:
        violations = violations.filter(found_at__gte=since)
    if until is not None:
        violations = violations.filter(found_at__lt=until)
    return violations.order_by("-found_at", "-pk")


def listed(violations: QuerySet[Violation]) -> QuerySet[Violation]:
    """`violations` as the list pages show them: the country, agency and centre joined,
    the application, ticket, complaint, person and handler fetched for the page's rows
    alone (joining all nine tables cost PostgreSQL 50 ms to plan and 3 ms to run)."""
    return violations.select_related(None).select_related(
        "country", "agency", "centre"
    ).prefetch_related("application", "ticket", "complaint", "person", "handled_by")


def get_violation(user: User, pk: int) -> Violation:
    violation = visible_violations(user).filter(pk=pk).first()
    if violation is None:
        raise NotFound(_("no violation %(pk)s") % {"pk": pk})
    return violation


def may_handle(user: User, violation: Violation) -> bool:
    """A controller handles any violation; a supervisor those of their own scope."""
    if user.role == Role.CONTROLLER:
        return True
    if user.role != Role.SUPERVISOR:
        return False
    return visible_violations(user).filter(pk=violation.pk).exists()


def shows_person(user: User, *, one: bool) -> bool:
    """Whether the responsible person is shown: to the control body and analysts always;
    to a supervisor only on one violation of their scope (`one`), never in lists."""
    if user.role in READ_ALL_ROLES:
        return True
    return one and user.role == Role.SUPERVISOR
