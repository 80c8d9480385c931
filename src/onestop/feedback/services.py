"""Write use cases of ratings and complaints: rate, file, assign, extend, decide, withdraw,
disagree, and the job that escalates overdue complaints.

Each runs in one transaction that writes the rating or the complaint, its event, the
audit entry and the notifications together. The rules (criteria, threshold, grounds,
deadlines, extension limits) are the country's, from its pack (FeedbackRules).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onestop.accounts.models import User
from onestop.accounts.roles import AGENCY_ROLES, STAFF_ROLES, Role
from onestop.applications import payments
from onestop.applications.models import Application
from onestop.audit.services import NewEntry, record_many
from onestop.catalogue.models import Agency, Country
from onestop.catalogue.selectors import agency_subtree_ids, calendar_for, local_today
from onestop.centres.models import Centre, Ticket, TicketState
from onestop.control.models import FoundBy, Violation, ViolationKind
from onestop.feedback.errors import Conflict, Forbidden, Invalid, NotFound, RatingChangeClosed
from onestop.feedback.models import (
    Complaint,
    ComplaintDecision,
    ComplaintEvent,
    ComplaintLevel,
    ComplaintState,
    ComplaintSubject,
    FeedbackRules,
    Rating,
    RatingChannel,
)
from onestop.feedback.selectors import (
    OPEN_STATES,
    RATED_OUTCOMES,
    agency_and_parents,
    overdue_provider_complaints,
    rules_for,
)
from onestop.notifications.services import NotificationError, enqueue_for_user

logger = logging.getLogger(__name__)

SYSTEM = "system"
ANONYMOUS = "anonymous"
MAX_COMMENT = 2000
MAX_TEXT = 5000
MAX_REASON = 2000
# The ground whose upheld complaint makes a refusal unjustified: the fee is flagged for
# refund and a violation recorded. Packs use this code for it.
UNJUSTIFIED_REFUSAL = "unjustified_refusal"
# The QR code on a ticket's receipt carries a signed token naming the ticket: whoever holds
# it may rate that ticket, without an account, for this many days.
TICKET_TOKEN_SALT = "onestop.feedback.rate-ticket"  # noqa: S105 (a salt, not a secret)
TICKET_TOKEN_DAYS = 30
ALERTS_URL = "/office/feedback/alerts/"


# --- helpers ---------------------------------------------------------------------------


def _actor(user: User | None) -> tuple[str, str]:
    if user is None:
        return ANONYMOUS, Role.CITIZEN.value
    return user.username, str(user.role)


def _notify(user: User | None, template: str, country: Country, context: Mapping[str, Any],
            subject_type: str, subject_id: str) -> None:
    """Queue a message to `user` (their email, else phone) in the country's first
    language; a user without an address, or an address the outbox refuses, is skipped:
    the pages still show every change."""
    if user is None:
        return
    try:
        enqueue_for_user(
            user=user, template=template, language=country.languages[0],
            context={"languages": country.languages, **context},
            subject_type=subject_type, subject_id=subject_id,
        )
    except NotificationError as exc:
        logger.warning("notification %s for %s %s not queued: %s", template, subject_type,
                       subject_id, exc)


def _local(moment: dt.datetime, country: Country) -> str:
    return f"{moment.astimezone(calendar_for(country).zone):%d.%m.%Y %H:%M}"


# --- ratings -------------------------------------------------------------------------


def rating_token(ticket: Ticket) -> str:
    """The token printed as a QR code on a served ticket's receipt: the ticket's id signed
    with the server's key, so it cannot be guessed or altered."""
    return signing.dumps(ticket.pk, salt=TICKET_TOKEN_SALT)


def ticket_for_token(token: str) -> Ticket:
    """The ticket a rating token names, or NotFound when it is forged, malformed or older
    than TICKET_TOKEN_DAYS."""
    try:
        ticket_id = signing.loads(
            token, salt=TICKET_TOKEN_SALT, max_age=dt.timedelta(days=TICKET_TOKEN_DAYS)
        )
    except signing.BadSignature:
        raise NotFound(_("this rating link is not valid or has expired")) from None
    ticket = (
        Ticket.objects.select_related("centre__country").filter(pk=ticket_id).first()
        if isinstance(ticket_id, int) else None
    )
    if ticket is None:
        raise NotFound(_("this rating link is not valid or has expired"))
    return ticket


def _checked_scores(rules: FeedbackRules, scores: Mapping[str, Any]) -> dict[str, int]:
    criteria = [str(c["code"]) for c in rules.criteria]
    problems = []
    extra = sorted(set(scores) - set(criteria))
    if extra:
        problems.append(_("not criteria of this country: %(codes)s")
                        % {"codes": ", ".join(extra)})
    missing = [c for c in criteria if c not in scores]
    if missing:
        problems.append(_("every criterion is scored; missing: %(codes)s")
                        % {"codes": ", ".join(missing)})
    clean: dict[str, int] = {}
    for code in criteria:
        if code not in scores:
            continue
        value = scores[code]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            problems.append(_("%(code)s: a score is a whole number from 1 to 5")
                            % {"code": code})
        else:
            clean[code] = value
    if problems:
        raise Invalid(_("scores: %(problems)s") % {"problems": "; ".join(problems)})
    return clean


def is_signal(rules: FeedbackRules, lowest: int, comment: str) -> bool:
    """Whether a rating goes to the supervisor and the control body: its lowest score is
    at or below the pack's threshold, or it carries a comment and its lowest score is just
    above it (a comment on a middling rating is almost always a complaint)."""
    threshold = rules.alert_at_or_below
    return lowest <= threshold or (bool(comment.strip()) and lowest <= threshold + 1)


def alert_recipients(agency_id: int | None, centre_id: int | None) -> list[User]:
    """Who hears of a low rating: the supervisors of the agency rated (and of the agencies
    above it), the manager of the centre rated, and the control body."""
    users = User.objects.filter(is_active=True, role=Role.CONTROLLER)
    if agency_id is not None:
        users = users | User.objects.filter(
            is_active=True, role=Role.SUPERVISOR, agency_id__in=agency_and_parents(agency_id)
        )
    if centre_id is not None:
        users = users | User.objects.filter(
            is_active=True, role=Role.SUPERVISOR, centre_id=centre_id
        )
    return list(users.distinct().order_by("pk"))


def rate(
    *,
    citizen: User | None,
    application: Application | None = None,
    ticket: Ticket | None = None,
    ticket_token: str = "",
    scores: Mapping[str, Any],
    comment: str = "",
    channel: str,
    device: str = "",
    now: dt.datetime | None = None,
) -> Rating:
    """Rate a completed application of one's own, or a served ticket (one's own, or any
    through the signed token of its receipt's QR code), on every criterion of the pack,
    each 1 to 5. Rating again changes the rating within the pack's change_days (409
    after). A low rating raises an alert to the supervisors and the control body."""
    now = now or timezone.now()
    if ticket_token:
        ticket = ticket_for_token(ticket_token)
    if (application is None) == (ticket is None):
        raise Invalid(_("rate one application or one ticket"))
    if channel not in RatingChannel.values:
        raise Invalid(_("channel: one of %(values)s")
                      % {"values": ", ".join(RatingChannel.values)})
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise Invalid(_("comment: at most %(n)s characters") % {"n": MAX_COMMENT})
    if citizen is not None and citizen.role != Role.CITIZEN:
        raise Forbidden(_("ratings are given by citizens"))
    with transaction.atomic():
        agency: Agency | None = None
        centre: Centre | None = None
        if application is not None:
            application = Application.objects.select_related("country", "agency").get(
                pk=application.pk
            )
            if citizen is None or application.applicant_id != citizen.pk:
                raise NotFound(_("no such application"))
            if application.outcome not in RATED_OUTCOMES:
                raise Conflict(_("an application is rated once its result is issued or it "
                                 "is refused"))
            country, agency, centre = application.country, application.agency, application.centre
            existing = Rating.objects.select_for_update().filter(application=application).first()
        else:
            assert ticket is not None
            ticket = Ticket.objects.select_related("centre__country").get(pk=ticket.pk)
            if not ticket_token and (citizen is None or ticket.citizen_id != citizen.pk):
                raise NotFound(_("no such ticket"))
            if ticket.state != TicketState.SERVED:
                raise Conflict(_("a ticket is rated once it has been served"))
            country, centre = ticket.centre.country, ticket.centre
            linked = ticket.applications.select_related("agency").order_by("pk").first()
            agency = linked.agency if linked is not None else None
            existing = Rating.objects.select_for_update().filter(ticket=ticket).first()
        rules = rules_for(country)
        clean = _checked_scores(rules, scores)
        if existing is not None:
            if existing.citizen_id is not None and (
                citizen is None or existing.citizen_id != citizen.pk
            ):
                raise Conflict(_("this has already been rated"))
            until = existing.created_at + dt.timedelta(days=rules.change_days)
            if now > until:
                raise RatingChangeClosed(
                    _("a rating may be changed for %(days)s days after it is given; this "
                      "one could be changed until %(until)s")
                    % {"days": rules.change_days, "until": _local(until, country)}
                )
        values = list(clean.values())
        mean = (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        lowest = min(values)
        alert = is_signal(rules, lowest, comment)
        was_alert = existing.alert if existing is not None else False
        rating = existing or Rating(
            country=country, application=application, ticket=ticket, agency=agency,
            centre=centre, citizen=citizen, created_at=now,
        )
        if rating.citizen_id is None and citizen is not None:
            rating.citizen = citizen
        rating.channel = channel
        rating.scores = clean
        rating.mean = mean
        rating.lowest = lowest
        rating.comment = comment
        rating.device = device[:64]
        rating.alert = alert
        rating.updated_at = now
        try:
            with transaction.atomic():
                rating.save()
        except IntegrityError:  # rated at the same moment from another device
            raise Conflict(_("this has just been rated; look at the rating and change it "
                             "if need be")) from None
        subject = (application.number if application is not None
                   else f"{ticket.number} ({ticket.day:%d.%m.%Y})" if ticket is not None
                   else "")
        if alert and not was_alert:
            context = {
                "subject": subject,
                "service": application.standard.name if application is not None else "",
                "centre": centre.name if centre is not None else "",
                "mean": str(mean),
                "lowest": lowest,
                "alerts_url": ALERTS_URL,
            }
            for user in alert_recipients(rating.agency_id, rating.centre_id):
                _notify(user, "rating_alert", country, context, "rating", str(rating.pk))
        username, role = _actor(citizen)
        record_many([NewEntry(
            actor_username=username, actor_role=role,
            action="rating.changed" if existing is not None else "rating.given",
            subject_type="rating", subject_id=str(rating.pk),
            data={"application": application.number if application else None,
                  "ticket": ticket.pk if ticket else None, "channel": channel,
                  "scores": clean, "mean": str(mean), "alert": alert,
                  "at": now.isoformat()},
        )])
    return rating


# --- complaints: helpers -----------------------------------------------------------------


def _deadline(country: Country, rules: FeedbackRules, level: str, start: dt.datetime
              ) -> dt.datetime:
    """The legal deadline of a complaint registered at `start` at this level, on the
    country's calendar (working days skip weekends and public holidays)."""
    spec = rules.deadlines.get(level) or {}
    value, unit = int(spec.get("value", 0)), str(spec.get("unit", "working_days"))
    if value < 1:
        raise Invalid(_("the pack of %(country)s sets no %(level)s deadline for complaints")
                      % {"country": country.code, "level": level})
    calendar = calendar_for(country)
    if unit == "calendar_days":
        day = local_today(country, start) + dt.timedelta(days=value)
        return dt.datetime.combine(day, calendar.rules.working_hours[1], tzinfo=calendar.zone)
    return calendar.deadline(start, value, unit)


def _new_number(country: Country, now: dt.datetime) -> str:
    prefix = f"C-{local_today(country, now).year}-"
    last = (
        Complaint.objects.filter(number__startswith=prefix)
        .order_by("-number").values_list("number", flat=True).first()
    )
    sequence = int(last[len(prefix):]) + 1 if last else 1
    return f"{prefix}{sequence:06d}"


def _create_numbered(complaint: Complaint, now: dt.datetime) -> Complaint:
    """Save a new complaint under the next number of the year; two filed at once take
    turns (a clash on the unique number retries with the next one)."""
    for _attempt in range(10):
        complaint.number = _new_number(complaint.country, now)
        try:
            with transaction.atomic():
                complaint.save(force_insert=True)
            return complaint
        except IntegrityError:
            complaint.pk = None
            if not Complaint.objects.filter(number=complaint.number).exists():
                raise
    raise Conflict(_("too many complaints are being registered at once; try again"))


def _event(complaint: Complaint, action: str, actor: User | None, now: dt.datetime,
           note: str = "", data: Mapping[str, Any] | None = None) -> NewEntry:
    """Write the complaint's event; return its audit entry for the caller to record last."""
    event = ComplaintEvent.objects.create(
        complaint=complaint, at=now, action=action, actor=actor, note=note
    )
    username, role = _actor(actor) if actor is not None else (SYSTEM, SYSTEM)
    return NewEntry(
        actor_username=username, actor_role=role, action=f"complaint.{action}",
        subject_type="complaint", subject_id=complaint.number,
        data={"event": event.pk, "level": complaint.level, "state": complaint.state,
              "at": now.isoformat(), **(data or {})},
    )


def _citizen_context(complaint: Complaint) -> dict[str, Any]:
    deadline = complaint.extended_to or complaint.deadline_at
    return {
        "number": complaint.number,
        "level": complaint.level,
        "deadline": _local(deadline, complaint.country),
        "application": complaint.application.number if complaint.application else "",
        "complaint_url": f"/feedback/complaints/{complaint.number}/",
    }


def _locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update(of=("self",)).select_related(
        "country", "application", "agency", "centre", "citizen"
    ).get(pk=complaint.pk)


def handler_problem(user: User, complaint: Complaint) -> str | None:
    """Why `user` may not handle this complaint, or None when they may. The provider
    level: the officers and supervisors of the agency complained about (with the agencies
    above it), and a centre's manager for a complaint about their centre or its
    operators. The control level: the control body. Nobody handles a complaint about
    themselves."""
    if complaint.level == ComplaintLevel.CONTROL:
        if user.role == Role.CONTROLLER:
            return None
        return _("a complaint at the control level is handled by the control body")
    if complaint.staff_id is not None and complaint.staff_id == user.pk:
        return _("nobody handles a complaint about themselves")
    if (user.role in AGENCY_ROLES and user.agency_id is not None
            and complaint.agency_id in agency_subtree_ids([user.agency_id])):
        return None
    if (user.role == Role.SUPERVISOR and user.centre_id is not None
            and complaint.centre_id == user.centre_id
            and complaint.subject in (ComplaintSubject.CENTRE, ComplaintSubject.OPERATOR)):
        return None
    return _("a complaint at the provider level is handled by the officers and supervisors "
             "of the agency complained about, or by the manager of the centre complained "
             "about")


def may_handle(user: User, complaint: Complaint) -> bool:
    return handler_problem(user, complaint) is None


def _require_handler(user: User, complaint: Complaint) -> None:
    problem = handler_problem(user, complaint)
    if problem is not None:
        raise Forbidden(problem)


def _require_open(complaint: Complaint) -> None:
    if complaint.state not in OPEN_STATES:
        raise Conflict({
            str(ComplaintState.DECIDED): _("the complaint is decided"),
            ComplaintState.ESCALATED: _("the complaint is escalated to the control body"),
            ComplaintState.WITHDRAWN: _("the complaint is withdrawn"),
        }.get(complaint.state) or _("the complaint is %(state)s")
            % {"state": complaint.get_state_display()})


# --- complaints: use cases -------------------------------------------------------------


def file_complaint(
    *,
    citizen: User | None,
    subject: str,
    ground: str,
    text: str,
    application: Application | None = None,
    agency: Agency | None = None,
    centre: Centre | None = None,
    staff: User | None = None,
    ticket: Ticket | None = None,
    country: Country | None = None,
    now: dt.datetime | None = None,
) -> Complaint:
    """Register a complaint at the provider level, on a ground of the pack that allows its
    subject: about one's own application (its agency and centre come with it), an agency,
    a centre, or an operator (named by the citizen's own served ticket, or `staff`).
    Its deadline is the pack's provider deadline on the country's calendar. A complaint
    without a citizen (anonymous) is refused unless the pack allows them."""
    now = now or timezone.now()
    text = text.strip()
    if citizen is not None and citizen.role != Role.CITIZEN:
        raise Forbidden(_("complaints are filed by citizens"))
    if subject not in ComplaintSubject.values:
        raise Invalid(_("subject: one of %(values)s")
                      % {"values": ", ".join(ComplaintSubject.values)})
    if not text:
        raise Invalid(_("text: say what the complaint is about"))
    if len(text) > MAX_TEXT:
        raise Invalid(_("text: at most %(n)s characters") % {"n": MAX_TEXT})
    with transaction.atomic():
        if subject == ComplaintSubject.APPLICATION:
            if application is None:
                raise Invalid(_("application: name the application complained about"))
            application = Application.objects.select_related("country", "agency").get(
                pk=application.pk
            )
            if citizen is None or application.applicant_id != citizen.pk:
                raise NotFound(_("no such application"))
            agency, centre, staff = application.agency, application.centre, None
        elif subject == ComplaintSubject.AGENCY:
            if agency is None:
                raise Invalid(_("agency: name the agency complained about"))
            centre, staff, application = None, None, None
        elif subject == ComplaintSubject.CENTRE:
            if centre is None:
                raise Invalid(_("centre: name the centre complained about"))
            agency, staff, application = None, None, None
        else:
            if ticket is not None:
                if citizen is None or ticket.citizen_id != citizen.pk:
                    raise NotFound(_("no such ticket"))
                if ticket.operator_id is None:
                    raise Invalid(_("ticket: no operator served this ticket"))
                staff, centre = ticket.operator, ticket.centre
            if staff is None or staff.role not in STAFF_ROLES:
                raise Invalid(_("ticket: name the ticket of the visit the complaint is about"))
            agency = staff.agency
            centre = centre or staff.centre
            application = None
        country = (
            application.country if application is not None
            else agency.country if agency is not None
            else centre.country if centre is not None
            else country
        )
        if country is None:
            raise Invalid(_("country: which country's services is the complaint about"))
        rules = rules_for(country)
        if citizen is None and not rules.anonymous_complaints:
            raise Forbidden(_("anonymous complaints are not considered: sign in to complain"))
        allowed = {g.get("code"): g.get("subjects", []) for g in rules.grounds}
        if ground not in allowed:
            raise Invalid(_("ground: one of %(values)s")
                          % {"values": ", ".join(sorted(str(g) for g in allowed))})
        if subject not in allowed[ground]:
            raise Invalid(
                _("ground: %(ground)s is a ground for a complaint about %(subjects)s, "
                  "not about %(subject)s")
                % {"ground": ground, "subject": subject,
                   "subjects": _(" or ").join(allowed[ground]) or _("nothing")}
            )
        complaint = _create_numbered(Complaint(
            country=country, level=ComplaintLevel.PROVIDER, subject=subject, ground=ground,
            text=text, application=application, agency=agency, centre=centre, staff=staff,
            citizen=citizen, state=ComplaintState.REGISTERED, registered_at=now,
            deadline_at=_deadline(country, rules, ComplaintLevel.PROVIDER, now),
        ), now)
        entry = _event(complaint, "registered", citizen, now,
                       data={"subject": subject, "ground": ground,
                             "deadline": complaint.deadline_at.isoformat()})
        _notify(citizen, "complaint_registered", country, _citizen_context(complaint),
                "complaint", complaint.number)
        record_many([entry])
    return complaint


def assign(*, complaint: Complaint, user: User, handler: User,
           now: dt.datetime | None = None) -> Complaint:
    """Give the complaint to a handler (who may handle it); it is then in review."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(complaint)
        _require_handler(user, locked)
        _require_open(locked)
        if not may_handle(handler, locked):
            raise Invalid(_("handler: this user may not handle this complaint"))
        locked.handler = handler
        locked.state = ComplaintState.IN_REVIEW
        locked.save(update_fields=["handler", "state"])
        entry = _event(locked, "assigned", user, now, data={"handler": handler.username})
        record_many([entry])
    return locked


def extend(*, complaint: Complaint, user: User, reason: str, days: int,
           now: dt.datetime | None = None) -> Complaint:
    """Extend the deadline by `days` calendar days, with a reason; all extensions of one
    complaint together stay within the pack's max_extension_days. Only before the
    deadline passes. The citizen is told at once (the pack's extension_notice is the
    latest the law allows)."""
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise Invalid(_("reason: an extension needs a reason the citizen is told"))
    if len(reason) > MAX_REASON:
        raise Invalid(_("reason: at most %(n)s characters") % {"n": MAX_REASON})
    with transaction.atomic():
        locked = _locked(complaint)
        _require_handler(user, locked)
        _require_open(locked)
        rules = rules_for(locked.country)
        if days < 1:
            raise Invalid(_("days: at least 1"))
        current = locked.extended_to or locked.deadline_at
        if now > current:
            raise Conflict(_("the deadline has passed: an overdue complaint is not extended"))
        new = current + dt.timedelta(days=days)
        if new - locked.deadline_at > dt.timedelta(days=rules.max_extension_days):
            used = (current - locked.deadline_at).days
            raise Invalid(
                _("days: a complaint's deadline is extended by at most %(days)s days in all "
                  "(%(used)s used)")
                % {"days": rules.max_extension_days, "used": used}
            )
        locked.extended_to = new
        locked.extension_reason = reason
        locked.save(update_fields=["extended_to", "extension_reason"])
        entry = _event(locked, "extended", user, now, note=reason,
                       data={"days": days, "extended_to": new.isoformat()})
        _notify(locked.citizen, "complaint_extended", locked.country,
                {**_citizen_context(locked), "reason": reason}, "complaint", locked.number)
        record_many([entry])
    return locked


def _unjustified_refusal(complaint: Complaint, user: User, now: dt.datetime) -> dict[str, Any]:
    """An upheld complaint against a refusal: the refusal is recorded as unjustified (a
    violation found by the agency itself or by the control body) and the fee is flagged
    for refund. The application's own history is not rewritten."""
    application = complaint.application
    if application is None or application.outcome != "refused":
        return {}
    flagged = payments.flag_refund(application, reason=f"complaint {complaint.number} upheld")
    refusal = application.events.filter(to_state=application.state).order_by("-at", "-pk").first()
    Violation.objects.get_or_create(
        key=f"{ViolationKind.UNJUSTIFIED_REFUSAL}:app:{application.pk}",
        defaults={
            "country": complaint.country,
            "kind": ViolationKind.UNJUSTIFIED_REFUSAL,
            "found_at": now,
            "found_by": FoundBy.CONTROL if complaint.level == ComplaintLevel.CONTROL
            else FoundBy.SELF,
            "application": application,
            "complaint": complaint,
            "agency": application.agency,
            "centre": application.centre,
            "person": refusal.actor if refusal is not None else None,
            "detail": {"complaint": complaint.number, "decided_by": user.username,
                       "refusal_ground": application.refusal_ground,
                       "refund_flagged": flagged},
        },
    )
    return {"refusal_unjustified": True, "refund_flagged": flagged}


def decide(*, complaint: Complaint, user: User, decision: str, reason: str,
           now: dt.datetime | None = None) -> Complaint:
    """Decide: upheld, partly upheld or rejected, with the reasons. Upheld (even in part)
    on the ground of an unjustified refusal of a refused application: the refusal is
    recorded as unjustified and the fee flagged for refund."""
    now = now or timezone.now()
    reason = reason.strip()
    if decision not in ComplaintDecision.values:
        raise Invalid(_("decision: one of %(values)s")
                      % {"values": ", ".join(ComplaintDecision.values)})
    if not reason:
        raise Invalid(_("reason: a decision gives its reasons"))
    if len(reason) > MAX_TEXT:
        raise Invalid(_("reason: at most %(n)s characters") % {"n": MAX_TEXT})
    with transaction.atomic():
        locked = _locked(complaint)
        _require_handler(user, locked)
        _require_open(locked)
        locked.decision = decision
        locked.decision_reason = reason
        locked.decided_at = now
        locked.state = ComplaintState.DECIDED
        if locked.handler_id is None:
            locked.handler = user
        locked.save(update_fields=["decision", "decision_reason", "decided_at", "state",
                                   "handler"])
        data: dict[str, Any] = {"decision": decision,
                                "late": now > (locked.extended_to or locked.deadline_at)}
        if decision != ComplaintDecision.REJECTED and locked.ground == UNJUSTIFIED_REFUSAL:
            data.update(_unjustified_refusal(locked, user, now))
        entry = _event(locked, "decided", user, now, note=reason, data=data)
        _notify(locked.citizen, "complaint_decided", locked.country,
                {**_citizen_context(locked), "decision": decision, "reason": reason},
                "complaint", locked.number)
        record_many([entry])
    return locked


def withdraw(*, complaint: Complaint, citizen: User, now: dt.datetime | None = None
             ) -> Complaint:
    """The citizen withdraws their complaint before it is decided."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(complaint)
        if locked.citizen_id is None or locked.citizen_id != citizen.pk:
            raise NotFound(_("no complaint %(number)s") % {"number": complaint.number})
        _require_open(locked)
        locked.state = ComplaintState.WITHDRAWN
        locked.save(update_fields=["state"])
        record_many([_event(locked, "withdrawn", citizen, now)])
    return locked


def _escalate(complaint: Complaint, actor: User | None, now: dt.datetime, why: str,
              note: str = "") -> tuple[Complaint, list[NewEntry]]:
    """Open the complaint again at the control level, with its own deadline; the provider
    level's complaint is marked escalated and points to it."""
    rules = rules_for(complaint.country)
    complaint.state = ComplaintState.ESCALATED
    complaint.save(update_fields=["state"])
    upper = _create_numbered(Complaint(
        country=complaint.country, level=ComplaintLevel.CONTROL, subject=complaint.subject,
        ground=complaint.ground, text=complaint.text, application=complaint.application,
        agency=complaint.agency, centre=complaint.centre, staff=complaint.staff,
        citizen=complaint.citizen, state=ComplaintState.REGISTERED, registered_at=now,
        deadline_at=_deadline(complaint.country, rules, ComplaintLevel.CONTROL, now),
        escalated_from=complaint,
    ), now)
    entries = [
        _event(complaint, "escalated", actor, now, note=note,
               data={"why": why, "to": upper.number}),
        _event(upper, "registered", actor, now, note=note,
               data={"why": why, "from": complaint.number,
                     "deadline": upper.deadline_at.isoformat()}),
    ]
    _notify(complaint.citizen, "complaint_escalated", complaint.country,
            {**_citizen_context(upper), "previous": complaint.number, "why": why},
            "complaint", upper.number)
    return upper, entries


def disagree(*, complaint: Complaint, citizen: User, reason: str = "",
             now: dt.datetime | None = None) -> Complaint:
    """The citizen disagrees with the provider's decision: the complaint goes to the
    control body (a new complaint at the control level). Returns that new complaint."""
    now = now or timezone.now()
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise Invalid(_("reason: at most %(n)s characters") % {"n": MAX_REASON})
    with transaction.atomic():
        locked = _locked(complaint)
        if locked.citizen_id is None or locked.citizen_id != citizen.pk:
            raise NotFound(_("no complaint %(number)s") % {"number": complaint.number})
        if locked.level != ComplaintLevel.PROVIDER:
            raise Conflict(_("the control body's decision is appealed in court, not here"))
        if locked.state != ComplaintState.DECIDED:
            raise Conflict(_("only a decided complaint can be taken to the control body"))
        upper, entries = _escalate(locked, citizen, now, "disagreed", reason)
        record_many(entries)
    return upper


def escalate_overdue(now: dt.datetime | None = None) -> list[Complaint]:
    """Take every provider-level complaint past its deadline (extended or not) and not
    decided to the control body, and record the late answer as a violation. Idempotent:
    an escalated complaint is not open any more, so a second run finds nothing."""
    now = now or timezone.now()
    escalated: list[Complaint] = []
    for pk in list(overdue_provider_complaints(now).values_list("pk", flat=True)):
        with transaction.atomic():
            locked = Complaint.objects.select_for_update(of=("self",)).select_related(
                "country", "citizen"
            ).get(pk=pk)
            deadline = locked.extended_to or locked.deadline_at
            if locked.state not in OPEN_STATES or deadline >= now or _is_escalated(locked):
                continue
            upper, entries = _escalate(locked, None, now, "overdue")
            Violation.objects.get_or_create(
                key=f"{ViolationKind.COMPLAINT_OVERDUE}:{locked.number}",
                defaults={
                    "country": locked.country, "kind": ViolationKind.COMPLAINT_OVERDUE,
                    "found_at": now, "found_by": FoundBy.CONTROL, "complaint": locked,
                    "application": locked.application, "agency": locked.agency,
                    "centre": locked.centre, "person": locked.handler,
                    "detail": {"deadline": deadline.isoformat(), "escalated_to": upper.number},
                },
            )
            record_many(entries)
            escalated.append(upper)
    return escalated


def _is_escalated(complaint: Complaint) -> bool:
    return Complaint.objects.filter(escalated_from=complaint).exists()
