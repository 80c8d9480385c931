"""Reads of ratings and complaints, always through what the user may see."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from onestop.accounts.models import User
from onestop.accounts.roles import AGENCY_ROLES, Role
from onestop.applications.models import Application
from onestop.catalogue.models import Agency, Country
from onestop.catalogue.selectors import agency_subtree_ids
from onestop.feedback.errors import NotFound
from onestop.feedback.models import (
    Complaint,
    ComplaintState,
    FeedbackRules,
    Rating,
)

READ_ALL_ROLES = frozenset({Role.CONTROLLER, Role.ANALYST, Role.ADMIN})
OPEN_STATES = (ComplaintState.REGISTERED, ComplaintState.IN_REVIEW)
# the outcomes after which a citizen is asked to rate an application
RATED_OUTCOMES = frozenset({"issued", "refused"})


def rules_for(country: Country) -> FeedbackRules:
    """The country's rules of ratings and complaints, or NotFound when its pack has none."""
    rules = FeedbackRules.objects.filter(country=country).first()
    if rules is None:
        raise NotFound(_("the pack of %(country)s has no feedback rules")
                       % {"country": country.code})
    return rules


def ground_name(rules: FeedbackRules, code: str) -> Any:
    """A ground's localized name (a {language: text} mapping), or its code."""
    for ground in rules.grounds:
        if ground.get("code") == code:
            return ground.get("name") or code
    return code


def agency_and_parents(agency_id: int) -> set[int]:
    """The agency and every agency above it (whose supervisors oversee it)."""
    found: set[int] = set()
    current: int | None = agency_id
    while current is not None and current not in found:
        found.add(current)
        current = Agency.objects.filter(pk=current).values_list("parent_id", flat=True).first()
    return found


# --- ratings ---------------------------------------------------------------------------


def ratings_of(citizen: User) -> QuerySet[Rating]:
    return Rating.objects.filter(citizen=citizen).select_related(
        "application", "ticket", "agency", "centre"
    ).order_by("-created_at", "-pk")


def alerts(user: User, *, since: dt.datetime | None = None) -> QuerySet[Rating]:
    """Low ratings (and low ones with a comment) for the user to look at: an agency's
    supervisors those of their agency and its units, a centre's manager their centre's,
    control, analysis and admins all; nobody else any."""
    ratings = Rating.objects.filter(alert=True).select_related(
        "application", "application__service", "ticket", "agency", "centre"
    )
    if since is not None:
        ratings = ratings.filter(updated_at__gte=since)
    if user.role in READ_ALL_ROLES:
        pass
    elif user.role == Role.SUPERVISOR and user.agency_id is not None:
        ratings = ratings.filter(agency_id__in=agency_subtree_ids([user.agency_id]))
    elif user.role == Role.SUPERVISOR and user.centre_id is not None:
        ratings = ratings.filter(centre_id=user.centre_id)
    else:
        ratings = ratings.none()
    return ratings.order_by("-updated_at", "-pk")


def response_rates(
    country: Country, *, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """For each service and submission channel: the applications completed in
    [start, end) (issued or refused), how many of them were rated, and the share."""
    finished = (
        Application.objects.filter(
            country=country, outcome__in=RATED_OUTCOMES,
            completed_at__gte=start, completed_at__lt=end,
        )
        .values("service__code", "channel")
        .annotate(finished=Count("pk"), rated=Count("ratings", distinct=True))
        .order_by("service__code", "channel")
    )
    rows = []
    for row in finished:
        rows.append({
            "service": row["service__code"],
            "channel": row["channel"],
            "finished": row["finished"],
            "rated": row["rated"],
            "rate": round(row["rated"] / row["finished"], 4) if row["finished"] else 0.0,
        })
    return rows


def ratings_by_channel(
    country: Country, *, start: dt.datetime, end: dt.datetime
) -> dict[str, int]:
    """How ratings given in [start, end) came in: portal, notification link, receipt QR,
    kiosk, API."""
    counts: dict[str, int] = defaultdict(int)
    for row in (
        Rating.objects.filter(country=country, created_at__gte=start, created_at__lt=end)
        .values("channel").annotate(n=Count("pk"))
    ):
        counts[row["channel"]] = row["n"]
    return dict(counts)


# --- complaints ------------------------------------------------------------------------


def visible_complaints(user: User) -> QuerySet[Complaint]:
    """The complaints `user` may see: a citizen their own; an agency's officers and
    supervisors those about their agency (with its units); a centre's manager those about
    their centre; control, analysis and admins all; operators none."""
    complaints = Complaint.objects.select_related(
        "country", "application", "agency", "centre", "handler", "escalated_from"
    )
    if user.role == Role.CITIZEN:
        return complaints.filter(citizen=user)
    if user.role in AGENCY_ROLES and user.agency_id is not None:
        return complaints.filter(agency_id__in=agency_subtree_ids([user.agency_id]))
    if user.role == Role.SUPERVISOR and user.centre_id is not None:
        return complaints.filter(centre_id=user.centre_id)
    if user.role in READ_ALL_ROLES:
        return complaints
    return complaints.none()


def get_complaint(user: User, number: str) -> Complaint:
    """One complaint by number, or NotFound: also when it exists but is not the user's."""
    complaint = visible_complaints(user).filter(number=number).first()
    if complaint is None:
        raise NotFound(_("no complaint %(number)s") % {"number": number})
    return complaint


def with_effective_deadline(complaints: QuerySet[Complaint]) -> QuerySet[Complaint]:
    return complaints.annotate(effective_deadline=Coalesce("extended_to", "deadline_at"))


def complaints_inbox(
    user: User, *, open_only: bool = True, level: str | None = None
) -> QuerySet[Complaint]:
    """The complaints in the user's scope, the nearest deadline first; a controller's
    inbox holds the control level only, staff's the provider level only."""
    complaints = visible_complaints(user)
    if user.role == Role.CONTROLLER:
        complaints = complaints.filter(level="control")
    elif user.role in (Role.OFFICER, Role.SUPERVISOR):
        complaints = complaints.filter(level="provider")
    if level:
        complaints = complaints.filter(level=level)
    if open_only:
        complaints = complaints.filter(state__in=OPEN_STATES)
    return with_effective_deadline(complaints).order_by("effective_deadline", "pk")


def overdue_provider_complaints(now: dt.datetime) -> QuerySet[Complaint]:
    """Open provider-level complaints past their (extended) deadline, not yet escalated."""
    return (
        with_effective_deadline(Complaint.objects.filter(
            level="provider", state__in=OPEN_STATES, escalation__isnull=True,
        ))
        .filter(Q(effective_deadline__lt=now))
        .order_by("effective_deadline", "pk")
    )
