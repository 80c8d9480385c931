"""Ratings: one per application or ticket, every criterion 1-5, changeable for the pack's
change_days, and low ones sent to supervisors and the control body."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from onestop.accounts.models import User
from onestop.applications.models import Application
from onestop.audit.models import AuditEntry
from onestop.catalogue.models import Country
from onestop.centres.models import Ticket
from onestop.feedback import selectors, services
from onestop.feedback.errors import Conflict, Forbidden, Invalid, NotFound
from onestop.feedback.models import Rating
from onestop.notifications.models import Message

from .conftest import BEFORE_NAURYZ

GOOD = {"legality": 5, "timeliness": 4}
LATER = BEFORE_NAURYZ + timedelta(days=1)


def test_a_citizen_rates_their_issued_application(
    citizen: User, make_application: Callable[..., Application]
) -> None:
    application = make_application(citizen)
    rating = services.rate(citizen=citizen, application=application, scores=GOOD,
                           channel="portal", now=LATER)
    assert (rating.mean, rating.lowest, rating.alert) == (Decimal("4.50"), 4, False)
    assert rating.agency == application.agency
    assert rating.country.code == "zz"
    assert AuditEntry.objects.filter(action="rating.given", subject_id=str(rating.pk)).exists()
    assert not Message.objects.filter(template="rating_alert").exists()


@pytest.mark.parametrize(("scores", "message"), [
    ({"legality": 5}, "missing: timeliness"),
    ({"legality": 5, "timeliness": 4, "speed": 3}, "not criteria of this country: speed"),
    ({"legality": 0, "timeliness": 4}, "legality: a score is a whole number from 1 to 5"),
    ({"legality": 6, "timeliness": 4}, "legality: a score is a whole number from 1 to 5"),
    ({"legality": True, "timeliness": 4}, "legality: a score is a whole number from 1 to 5"),
    ({"legality": "5", "timeliness": 4}, "legality: a score is a whole number from 1 to 5"),
])
def test_scores_are_the_packs_criteria_each_1_to_5(
    citizen: User, make_application: Callable[..., Application], scores: dict[str, object],
    message: str,
) -> None:
    application = make_application(citizen)
    with pytest.raises(Invalid, match=message):
        services.rate(citizen=citizen, application=application, scores=scores,
                      channel="portal", now=LATER)
    assert not Rating.objects.exists()


def test_only_ones_own_finished_application_is_rated(
    citizen: User, other_citizen: User, officer: User,
    make_application: Callable[..., Application],
) -> None:
    with pytest.raises(Conflict, match="once its result is issued"):
        services.rate(citizen=citizen, application=make_application(citizen, "open"),
                      scores=GOOD, channel="portal", now=LATER)
    issued = make_application(citizen)
    with pytest.raises(NotFound):
        services.rate(citizen=other_citizen, application=issued, scores=GOOD,
                      channel="portal", now=LATER)
    with pytest.raises(Forbidden):
        services.rate(citizen=officer, application=issued, scores=GOOD, channel="portal",
                      now=LATER)
    refused = make_application(citizen, "refused")
    assert services.rate(citizen=citizen, application=refused, scores=GOOD,
                         channel="notification", now=LATER).pk


def test_one_rating_changeable_within_the_window_then_409(
    citizen: User, make_application: Callable[..., Application]
) -> None:
    application = make_application(citizen)
    first = services.rate(citizen=citizen, application=application, scores=GOOD,
                          channel="portal", now=LATER)
    changed = services.rate(citizen=citizen, application=application,
                            scores={"legality": 5, "timeliness": 5}, channel="portal",
                            now=LATER + timedelta(days=7))
    assert changed.pk == first.pk
    assert Rating.objects.count() == 1
    assert changed.mean == Decimal("5.00")
    assert AuditEntry.objects.filter(action="rating.changed").count() == 1
    with pytest.raises(Conflict, match="changed for 7 days"):
        services.rate(citizen=citizen, application=application, scores=GOOD,
                      channel="portal", now=LATER + timedelta(days=7, minutes=1))


def test_a_low_rating_alerts_the_agencys_supervisors_and_control_once(
    citizen: User, supervisor: User, officer: User, other_officer: User, controller: User,
    make_user: Callable[..., User], make_application: Callable[..., Application],
) -> None:
    unrelated_supervisor = make_user("supervisor", agency_code="MLSP", country_code="zz")
    unrelated_supervisor.email = "mlsp@gov.example"
    unrelated_supervisor.save()
    application = make_application(citizen)
    rating = services.rate(citizen=citizen, application=application,
                           scores={"legality": 5, "timeliness": 3}, channel="portal", now=LATER)
    assert rating.alert
    recipients = set(Message.objects.filter(template="rating_alert")
                     .values_list("recipient", flat=True))
    assert recipients == {supervisor.email, controller.email}
    # changing it to another low score does not alert again
    services.rate(citizen=citizen, application=application,
                  scores={"legality": 2, "timeliness": 3}, channel="portal", now=LATER)
    assert Message.objects.filter(template="rating_alert").count() == 2
    assert list(selectors.alerts(supervisor)) == [rating]
    assert list(selectors.alerts(controller)) == [rating]
    assert list(selectors.alerts(unrelated_supervisor)) == []
    assert list(selectors.alerts(officer)) == []


def test_a_comment_on_a_middling_rating_is_a_signal(
    citizen: User, make_application: Callable[..., Application], mini_country: Country
) -> None:
    rules = selectors.rules_for(mini_country)
    assert services.is_signal(rules, 4, "the officer was rude")
    assert not services.is_signal(rules, 4, "  ")
    assert not services.is_signal(rules, 5, "very good")
    assert services.is_signal(rules, 3, "")
    rating = services.rate(citizen=citizen, application=make_application(citizen),
                           scores={"legality": 4, "timeliness": 5}, comment="waited long",
                           channel="portal", now=LATER)
    assert rating.alert


def test_a_ticket_is_rated_by_its_citizen_or_by_the_receipt_token(
    citizen: User, other_citizen: User, manager: User, controller: User,
    make_ticket: Callable[..., Ticket],
) -> None:
    mine = make_ticket(citizen)
    rating = services.rate(citizen=citizen, ticket=mine, scores=GOOD, channel="kiosk",
                           now=LATER)
    assert (rating.centre, rating.agency) == (mine.centre, None)
    with pytest.raises(NotFound):
        services.rate(citizen=other_citizen, ticket=make_ticket(citizen), scores=GOOD,
                      channel="kiosk", now=LATER)
    anonymous = make_ticket()
    token = services.rating_token(anonymous)
    low = services.rate(citizen=None, ticket_token=token, scores={"legality": 1,
                        "timeliness": 1}, channel="receipt", now=LATER)
    assert low.ticket == anonymous
    assert low.citizen is None
    assert low.alert
    assert set(Message.objects.filter(template="rating_alert")
               .values_list("recipient", flat=True)) == {manager.email, controller.email}
    assert list(selectors.alerts(manager)) == [low]
    with pytest.raises(NotFound, match="not valid"):
        services.rate(citizen=None, ticket_token=token[:-2] + "xx", scores=GOOD,
                      channel="receipt", now=LATER)
    with pytest.raises(Conflict, match="once it has been served"):
        services.rate(citizen=None, ticket_token=services.rating_token(
            make_ticket(state="waiting")), scores=GOOD, channel="receipt", now=LATER)


def test_response_rate_per_service_and_channel(
    citizen: User, make_application: Callable[..., Application], mini_country: Country
) -> None:
    rated = make_application(citizen)
    make_application(citizen)
    make_application(citizen, "open")
    services.rate(citizen=citizen, application=rated, scores=GOOD, channel="portal",
                  now=LATER)
    rows = selectors.response_rates(mini_country, start=BEFORE_NAURYZ - timedelta(days=1),
                                    end=BEFORE_NAURYZ + timedelta(days=2))
    assert rows == [{"service": "01010001", "channel": "portal", "finished": 2, "rated": 1,
                     "rate": 0.5}]
    assert selectors.ratings_by_channel(
        mini_country, start=BEFORE_NAURYZ, end=BEFORE_NAURYZ + timedelta(days=2)
    ) == {"portal": 1}
