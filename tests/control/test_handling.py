"""Who sees and handles which violations, the handling itself, and the digest notices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from onestop.accounts.models import User
from onestop.applications.models import Application
from onestop.audit.models import AuditEntry
from onestop.catalogue.models import Agency, Country
from onestop.centres.models import Ticket
from onestop.control import selectors, services
from onestop.control.errors import Conflict, Forbidden, Invalid
from onestop.control.models import Violation, ViolationState
from onestop.notifications.models import Message
from tests.control.conftest import MONDAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def found(mini_country: Country, make_app: Callable[..., Application],
          make_ticket: Callable[..., Ticket]) -> dict[str, Violation]:
    """A missed deadline of the civil registry (MJ-ZAGS, under MJ), one of MLSP, and a
    long wait at centre AST-01."""
    registry = make_app(deadline_at=MONDAY + timedelta(days=1))
    social = make_app(deadline_at=MONDAY + timedelta(days=1),
                      agency=Agency.objects.get(country=mini_country, code="MLSP"))
    ticket = make_ticket(wait_seconds=3 * 3600)
    services.scan(mini_country, MONDAY + timedelta(days=2))
    return {
        "registry": Violation.objects.get(application=registry),
        "social": Violation.objects.get(application=social),
        "wait": Violation.objects.get(ticket=ticket),
    }


def visible(user: User) -> set[int]:
    return set(selectors.visible_violations(user).values_list("pk", flat=True))


def test_who_sees_which(
    found: dict[str, Violation], supervisor: User, other_supervisor: User, manager: User,
    controller: User, analyst: User, officer: User, operator: User,
    make_user: Callable[..., User],
) -> None:
    everything = {v.pk for v in found.values()}
    assert visible(controller) == everything
    assert visible(analyst) == everything
    assert visible(supervisor) == {found["registry"].pk}  # MJ oversees MJ-ZAGS
    assert visible(other_supervisor) == {found["social"].pk}
    assert visible(manager) == {found["wait"].pk}
    for user in (officer, operator, make_user("citizen")):
        with pytest.raises(Forbidden):
            selectors.visible_violations(user)


def test_the_person_is_listed_to_controllers_and_analysts_only(
    supervisor: User, controller: User, analyst: User
) -> None:
    assert selectors.shows_person(controller, one=False)
    assert selectors.shows_person(analyst, one=False)
    assert not selectors.shows_person(supervisor, one=False)
    assert selectors.shows_person(supervisor, one=True)


def test_handling_by_the_responsible_supervisor(
    found: dict[str, Violation], supervisor: User
) -> None:
    violation = found["registry"]
    at = MONDAY + timedelta(days=3)
    services.handle(violation=violation, user=supervisor, action="acknowledge", now=at)
    services.handle(violation=violation, user=supervisor, action="explain",
                    note="The officer was ill.", now=at + timedelta(hours=1))
    services.handle(violation=violation, user=supervisor, action="penalise",
                    note="A reprimand.", now=at + timedelta(hours=2))
    handled = services.handle(violation=violation, user=supervisor, action="close",
                              now=at + timedelta(hours=3))
    assert handled.state == ViolationState.CLOSED
    assert handled.handled_by == supervisor
    assert handled.handled_at == at + timedelta(hours=3)
    assert handled.note == "A reprimand."
    assert [step["action"] for step in handled.detail["handling"]] == [
        "acknowledge", "explain", "penalise", "close"]
    assert list(AuditEntry.objects.filter(subject_type="violation", subject_id=violation.key)
                .order_by("sequence").values_list("action", flat=True)) == [
        "violation.acknowledge", "violation.explain", "violation.penalise", "violation.close"]
    with pytest.raises(Conflict):
        services.handle(violation=violation, user=supervisor, action="acknowledge")


def test_handling_rules(
    found: dict[str, Violation], supervisor: User, other_supervisor: User, manager: User,
    controller: User, analyst: User,
) -> None:
    with pytest.raises(Invalid):
        services.handle(violation=found["registry"], user=supervisor, action="explain")
    with pytest.raises(Invalid):
        services.handle(violation=found["registry"], user=supervisor, action="penalise",
                        note="   ")
    with pytest.raises(Invalid):
        services.handle(violation=found["registry"], user=supervisor, action="forget")
    for outsider in (other_supervisor, manager, analyst):
        with pytest.raises(Forbidden):
            services.handle(violation=found["registry"], user=outsider, action="acknowledge")
    services.handle(violation=found["social"], user=controller, action="close")
    wait = services.handle(violation=found["wait"], user=manager, action="acknowledge")
    assert services.actions_for(manager, wait) == ["explain", "penalise", "close"]
    assert services.actions_for(analyst, found["wait"]) == []


def test_one_digest_per_recipient_per_scan(
    mini_country: Country, make_app: Callable[..., Application],
    make_ticket: Callable[..., Ticket], supervisor: User, other_supervisor: User,
    manager: User, controller: User, officer: User,
) -> None:
    for _ in range(3):
        make_app(deadline_at=MONDAY + timedelta(days=1))
    make_ticket(wait_seconds=3 * 3600)
    result = services.scan(mini_country, MONDAY + timedelta(days=2))
    assert result.total == 4
    digests = Message.objects.filter(template="violations_digest")
    by_recipient = {m.recipient: m for m in digests}
    assert digests.count() == len(by_recipient) == 3 == result.notified
    assert set(by_recipient) == {supervisor.email, manager.email, controller.email}
    assert by_recipient[controller.email].context["count"] == 4
    assert by_recipient[supervisor.email].context["count"] == 3
    labels = services.kind_labels(mini_country.languages[0])
    assert labels["deadline_missed"] not in ("", "deadline_missed")
    assert by_recipient[supervisor.email].context["kinds"] == [
        {"kind": "deadline_missed", "label": labels["deadline_missed"], "count": 3}]
    assert by_recipient[manager.email].context["kinds"] == [
        {"kind": "wait_over", "label": labels["wait_over"], "count": 1}]
    # nothing new: no notice
    assert services.scan(mini_country, MONDAY + timedelta(days=2, hours=1)).notified == 0
    assert Message.objects.filter(template="violations_digest").count() == 3
    # one more late application: one more digest for its supervisor and the controller
    make_app(deadline_at=MONDAY + timedelta(days=2))
    services.scan(mini_country, MONDAY + timedelta(days=3))
    assert Message.objects.filter(template="violations_digest").count() == 5


def test_the_digest_renders_in_every_language(
    mini_country: Country, make_app: Callable[..., Application], controller: User
) -> None:
    from django.template.loader import render_to_string

    make_app(deadline_at=MONDAY + timedelta(days=1))
    services.scan(mini_country, MONDAY + timedelta(days=2))
    message = Message.objects.get(template="violations_digest", recipient=controller.email)
    for language in ("kk", "ru", "uz", "en"):
        text = render_to_string(f"notifications/violations_digest.{language}.txt",
                                message.context)
        # the kind by its human label (in the message's language), not its code
        label = services.kind_labels(message.language)["deadline_missed"]
        assert f"- {label}: 1" in text
        assert "deadline_missed" not in text
        assert "/control/violations/" in text


def test_the_digest_names_kinds_in_the_message_language(
    mini_country: Country, make_app: Callable[..., Application],
    make_ticket: Callable[..., Ticket], controller: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.utils import translation
    from django.utils.translation import trans_real

    from onestop.notifications.rendering import render

    real = trans_real.gettext

    def gettext(message: str) -> str:  # a catalogue of the test's own: "ru" in capitals
        text = real(message)
        return text.upper() if translation.get_language() == "ru" else text

    monkeypatch.setattr("django.utils.translation._trans.gettext", gettext,
                        raising=False)
    with translation.override("ru"):
        ru = {"deadline_missed": real("deadline missed").upper(),
              "wait_over": real("wait over the standard").upper()}
    assert ru["wait_over"] != "WAIT OVER THE STANDARD"  # the Russian catalogue, patched
    assert services.kind_labels("ru")["wait_over"] == ru["wait_over"]
    assert services.kind_labels("en")["wait_over"] == "wait over the standard"
    mini_country.languages = ["ru", "en"]  # messages go out in the pack's first language
    mini_country.save(update_fields=["languages"])
    make_app(deadline_at=MONDAY + timedelta(days=1))
    make_ticket(wait_seconds=3 * 3600)
    with translation.override("en"):  # whatever the language of the scan's caller
        services.scan(mini_country, MONDAY + timedelta(days=2))
    message = Message.objects.get(template="violations_digest", recipient=controller.email)
    assert message.language == "ru"
    assert message.context["kinds"] == [
        {"kind": "deadline_missed", "label": ru["deadline_missed"], "count": 1},
        {"kind": "wait_over", "label": ru["wait_over"], "count": 1},
    ]
    body = render(template="violations_digest", language="ru", context=message.context).body
    assert f"- {ru['deadline_missed']}: 1" in body
    assert f"- {ru['wait_over']}: 1" in body
