"""Reads of applications, always through what the user may see."""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Case,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from onestop.accounts.models import User
from onestop.accounts.roles import AGENCY_ROLES, Role
from onestop.applications.errors import NotFound
from onestop.applications.models import Application, ApplicationDocument, ApplicationEvent
from onestop.catalogue.selectors import agency_subtree_ids

READ_ALL_ROLES = frozenset({Role.CONTROLLER, Role.ANALYST, Role.ADMIN})


def visible(user: User) -> QuerySet[Application]:
    """The applications `user` may see: a citizen their own; agency staff their agency's
    (with its units); an operator or a centre's manager those taken at their centre;
    control, analysis and admins all."""
    applications = Application.objects.select_related(
        "service", "standard", "agency", "country", "assigned_to", "centre"
    )
    if user.role == Role.CITIZEN:
        return applications.filter(applicant=user)
    if user.role in AGENCY_ROLES and user.agency_id is not None:
        return applications.filter(agency_id__in=agency_subtree_ids([user.agency_id]))
    # operators, and a supervisor who manages a centre: the applications taken there
    if user.role in (Role.OPERATOR, Role.SUPERVISOR) and user.centre_id is not None:
        return applications.filter(centre_id=user.centre_id)
    if user.role in READ_ALL_ROLES:
        return applications
    return applications.none()


def with_clock_events(applications: QuerySet[Application]) -> QuerySet[Application]:
    """The applications with their clock's stop and restart events fetched in one query,
    so that a list computes every row's time left without a query per row."""
    return applications.prefetch_related(
        Prefetch(
            "events",
            queryset=ApplicationEvent.objects.filter(clock__in=["stop", "resume"]).order_by(
                "at", "pk"
            ),
            to_attr="clock_events",
        )
    )


def get_visible(user: User, number: str) -> Application:
    """One application by number, or NotFound: also when it exists but is not the user's
    (an operator may open any by number: results are collected at any centre)."""
    queryset = visible(user)
    if user.role == Role.OPERATOR:
        queryset = Application.objects.select_related(
            "service", "standard", "agency", "country", "assigned_to", "centre"
        )
    application = queryset.filter(number=number).first()
    if application is None:
        raise NotFound(_("no application %(number)s") % {"number": number})
    return application


def get_public(number: str) -> Application | None:
    return (
        Application.objects.select_related("service", "standard", "agency", "country")
        .filter(number=number)
        .first()
    )


def inbox(
    user: User,
    *,
    service: str | None = None,
    state: str | None = None,
    overdue: bool | None = None,
    mine: bool = False,
    now: dt.datetime | None = None,
) -> QuerySet[Application]:
    """The open applications of the user's agency, the least time left first, and those
    whose clock stands (waiting on the applicant, nothing for the office to do until they
    answer) after them. Their `deadline_at` is provisional, ever further behind while the
    clock stands: among themselves they go by the time that was left when the clock
    stopped (in calendar time, an approximation of the working time)."""
    now = now or timezone.now()
    applications = visible(user).filter(outcome="")
    if service:
        applications = applications.filter(service__code=service)
    if state:
        applications = applications.filter(state=state)
    if overdue is True:
        applications = applications.filter(deadline_at__lt=now, clock_stopped_at__isnull=True)
    elif overdue is False:
        applications = applications.filter(
            Q(deadline_at__gte=now) | Q(clock_stopped_at__isnull=False)
        )
    if mine:
        applications = applications.filter(assigned_to=user)
    waiting = Case(When(clock_stopped_at__isnull=False, then=Value(1)), default=Value(0),
                   output_field=IntegerField())
    left_when_stopped = ExpressionWrapper(F("deadline_at") - F("clock_stopped_at"),
                                          output_field=DurationField())
    return with_clock_events(
        applications.order_by(waiting, left_when_stopped, "deadline_at", "pk"))


def result_drawn_up_by_system(application: Application) -> bool:
    """Whether the application's result is the electronic document onestop draws up on
    request (receipts.result_for): issued by the system's own step (an instant service)
    with no result document of an agency's. Such a result has no file of its own."""
    return (application.outcome == "issued"
            and application.events.filter(to_state=application.state,
                                          actor_role="system").exists()
            and not application.documents.filter(
                kind=ApplicationDocument.Kind.RESULT).exists())


def document(application: Application, document_id: int) -> ApplicationDocument:
    found = application.documents.filter(pk=document_id).first()
    if found is None:
        raise NotFound(_("no such document"))
    return found
