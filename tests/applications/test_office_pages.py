"""The staff pages: an agency's inbox and applications, their action forms, assignment,
and a centre's counter (submitting on a citizen's behalf, issuing results anywhere).

Time is frozen (and moved on by hand) at Monday 17 November 2025, 10:00 in Almaty, so
the mini pack's 2024 standard of the birth registration applies: two working days, a
form with the child's name and IIN, and the ID card brought by the applicant.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from onestop.accounts.models import User
from onestop.applications import services, timeleft
from onestop.applications.models import Application
from onestop.catalogue.models import Country, Service
from onestop.centres.models import Centre
from tests.applications.pages import ALMATY, BIRTH, PDF, pdf, signed_in, text, upload

MONDAY = datetime(2025, 11, 17, 10, tzinfo=ALMATY)
FORM = {"child_name": "Aruzhan", "iin": "250101300011"}


class FrozenTime:
    """timezone.now() for the pages and the services alike, moved on by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **amount: float) -> datetime:
        self.at += timedelta(**amount)
        return self.at


@pytest.fixture(autouse=True)
def now(settings: Any, mini_country: Country, monkeypatch: pytest.MonkeyPatch) -> FrozenTime:
    settings.ONESTOP_COUNTRY = "zz"
    frozen = FrozenTime(MONDAY)
    monkeypatch.setattr(timezone, "now", frozen)
    return frozen


@pytest.fixture
def interagency(birth: Service) -> Service:
    """A second service of the civil registry, on the workflow with an inter-agency step."""
    versions = list(birth.versions.all())
    twin = Service.objects.create(country=birth.country, code="01010002",
                                  provider=birth.provider, workflow="interagency_approval")
    for version in versions:
        version.pk = None
        version.service = twin
        version.save()
    return twin


@pytest.fixture
def supervisor(make_user: Callable[..., User]) -> User:
    """The head of the ministry, whose agency includes the civil registry department."""
    return make_user("supervisor", agency_code="MJ", country_code="zz")


@pytest.fixture
def stranger(make_user: Callable[..., User]) -> User:
    """An officer of another agency (the Ministry of Labour)."""
    return make_user("officer", agency_code="MLSP", country_code="zz")


@pytest.fixture
def operator(make_user: Callable[..., User]) -> User:
    return make_user("operator", centre_code="AST-01", country_code="zz")


@pytest.fixture
def almaty_operator(make_user: Callable[..., User], mini_country: Country) -> User:
    """An operator of another centre, in another region."""
    Centre.objects.create(country=mini_country, code="ALA-01", name={"en": "Almaty Centre"},
                          region=mini_country.regions.get(code="ALA"))
    return make_user("operator", centre_code="ALA-01", country_code="zz")


def submit(service: Service, citizen: User, **extra: Any) -> Application:
    return services.submit(
        service=service, form_data=FORM, channel="portal", national_id="900101300011",
        applicant=citizen, submitted_by=citizen, applicant_name="Aigerim Nurlanovna",
        phone="+77011234567", documents=[upload("id_card")], **extra,
    ).application


def numbers_listed(response: Any) -> list[str]:
    return re.findall(r'href="/office/([A-Z0-9-]+)/"', response.content.decode())


def action_forms(response: Any) -> dict[str, set[str]]:
    """Each action form on the page with the names of its inputs (prefix removed)."""
    html = response.content.decode()
    found = {}
    for code, body in re.findall(r'<form[^>]*id="action-([a-z_]+)"[^>]*>(.*?)</form>', html,
                                 flags=re.S):
        names = set(re.findall(rf'name="{code}-([a-z_]+)"', body))
        found[code] = names
    return found


# --- who may come in ----------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    response = client.get("/office/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/office/"
    assert client.get("/counter/").status_code == 302


def test_a_citizen_gets_403_on_the_office_and_the_counter(citizen: User) -> None:
    page = signed_in(citizen)
    office = page.get("/office/")
    assert office.status_code == 403
    assert "open to an agency's officers and supervisors only" in text(office)
    assert page.get("/counter/").status_code == 403


def test_staff_keep_to_their_desk(officer: User, operator: User) -> None:
    assert signed_in(operator).get("/office/").status_code == 403
    counter = signed_in(officer).get("/counter/")
    assert counter.status_code == 403
    assert "operators of a one-stop-shop centre only" in text(counter)


# --- the inbox ------------------------------------------------------------------------------


def test_inbox_lists_the_least_time_left_first(
    birth: Service, citizen: User, officer: User, now: FrozenTime,
) -> None:
    first = submit(birth, citizen)
    now.advance(hours=2)
    second = submit(birth, citizen)
    now.at = MONDAY - timedelta(days=7)  # a week earlier: overdue by now
    late = submit(birth, citizen)
    now.at = MONDAY + timedelta(hours=3)

    response = signed_in(officer).get("/office/")

    assert response.status_code == 200
    assert numbers_listed(response) == [late.number, first.number, second.number]
    page = text(response)
    assert "3 open applications" in page
    # Mon 10:00 + 2 working days: Wed 19 Nov 18:00; at Mon 13:00 that is 2 days 5 hours away
    assert f"{first.number} {BIRTH} Registration of a child's birth Submitted " \
           "2025-11-17 10:00 2025-11-19 18:00 2 working days 5 hours left nobody" in page
    # overdue says so in words (and in red): due Wed 12 Nov 18:00, late by Thu, Fri and
    # Mon 9:00-13:00, 22 working hours of 9 a day
    assert '<strong style="color:#a4161a">Overdue by 2 working days 4 hours</strong>' in \
        response.content.decode()


def test_applications_waiting_on_the_applicant_come_after_those_the_office_must_act_on(
    birth: Service, citizen: User, officer: User, now: FrozenTime,
    api_client: Callable[[User], Client],
) -> None:
    now.at = MONDAY - timedelta(days=7)  # Mon 10 Nov 10:00: due Wed 12 Nov 18:00
    waiting = submit(birth, citizen)
    late = submit(birth, citizen)
    services.act(application=waiting, user=officer, action="accept")
    now.at = MONDAY - timedelta(days=6)  # Tue 10:00, 1 working day 8 hours left: it stops
    services.act(application=waiting, user=officer, action="request_documents",
                 comment="Bring a clearer scan", requested_documents=["id_card"])
    now.at = MONDAY - timedelta(days=6, hours=-6)  # Tue 16:00: due Thu 13 Nov 18:00
    waiting_less = submit(birth, citizen)
    now.at = MONDAY - timedelta(days=4, hours=-6)  # Thu 16:00: 2 hours left, it stops
    services.act(application=waiting_less, user=officer, action="accept")
    services.act(application=waiting_less, user=officer, action="request_documents",
                 comment="Bring a clearer scan", requested_documents=["id_card"])
    now.at = MONDAY
    fresh = submit(birth, citizen)  # due Wed 19 Nov 18:00
    now.at = MONDAY + timedelta(hours=3)

    response = signed_in(officer).get("/office/")

    # the stopped ones' deadlines of last week are long past, but nothing is for the office
    # to do until the applicant answers: they come last, the one with less time left first
    expected = [late.number, fresh.number, waiting_less.number, waiting.number]
    assert numbers_listed(response) == expected
    page = text(response)
    assert "4 open applications, the least time left first, those waiting on the " \
           "applicant last." in page
    assert (f"{waiting.number} {BIRTH} Registration of a child's birth Awaiting the "
            "applicant 2025-11-10 10:00 2025-11-12 18:00 (provisional: it moves on while "
            "the clock is stopped) Clock stopped (waiting for the applicant), 1 working day "
            "8 hours left") in page
    assert "Clock stopped (waiting for the applicant), 2 hours left" in page
    api = [item["number"] for item in
           api_client(officer).get("/api/v1/inbox").json()["items"]]
    assert api == expected


def test_staff_read_minutes_next_to_hours_where_the_citizen_reads_hours(
    birth: Service, citizen: User,
) -> None:
    application = submit(birth, citizen)  # Mon 10:00, due Wed 19 Nov 18:00
    wednesday = MONDAY + timedelta(days=2, hours=6, minutes=30)  # 16:30
    thursday = MONDAY + timedelta(days=3, minutes=30)  # 10:30: 1 working hour 30 late
    with translation.override("en"):
        staff, mine = (timeleft.for_staff(application, wednesday),
                       timeleft.for_citizen(application, wednesday))
        assert (staff.text, staff.overdue, mine.text) == (
            "1 hour 30 minutes left", False, "1 hour left")
        staff, mine = (timeleft.for_staff(application, thursday),
                       timeleft.for_citizen(application, thursday))
        assert (staff.text, staff.overdue, mine.text) == (
            "Overdue by 1 hour 30 minutes", True, "Overdue by 1 hour")


def test_inbox_filters_by_service_state_overdue_and_assignee(
    birth: Service, interagency: Service, citizen: User, officer: User, now: FrozenTime,
) -> None:
    now.at = MONDAY - timedelta(days=7)
    late = submit(birth, citizen)
    now.at = MONDAY
    accepted = submit(birth, citizen)
    services.act(application=accepted, user=officer, action="accept")
    other = submit(interagency, citizen)
    mine = submit(birth, citizen)
    services.assign(application=mine, user=officer, assignee=officer)
    page = signed_in(officer)

    assert set(numbers_listed(page.get("/office/"))) == {
        late.number, accepted.number, other.number, mine.number}
    assert numbers_listed(page.get("/office/", {"service": "01010002"})) == [other.number]
    assert numbers_listed(page.get("/office/", {"state": "in_review"})) == [accepted.number]
    assert numbers_listed(page.get("/office/", {"overdue": "yes"})) == [late.number]
    assert late.number not in numbers_listed(page.get("/office/", {"overdue": "no"}))
    assert numbers_listed(page.get("/office/", {"mine": "on"})) == [mine.number]
    assert numbers_listed(page.get("/office/", {"service": BIRTH, "state": "in_review"})) == [
        accepted.number]

    wrong = page.get("/office/", {"service": "99999999"})
    assert wrong.status_code == 200
    assert numbers_listed(wrong) == []
    assert "Select a valid choice." in text(wrong)
    assert "The filters are not valid" in text(wrong)
    # the filter form offers the agency's services and the open states, by name
    html = page.get("/office/").content.decode()
    assert '<option value="01010002">01010002 Registration of a child&#x27;s birth</option>' \
        in html
    assert '<option value="awaiting_agency">Awaiting another agency</option>' in html
    assert 'value="issued"' not in html


def test_inbox_shows_fifty_a_page_and_keeps_the_filters(
    birth: Service, citizen: User, officer: User, now: FrozenTime,
) -> None:
    numbers = []
    for _ in range(51):
        numbers.append(submit(birth, citizen).number)
        now.advance(minutes=1)
    page = signed_in(officer)

    first = page.get("/office/", {"state": "submitted"})
    assert numbers_listed(first) == numbers[:50]
    assert "Page 1 of 2" in text(first)
    assert 'href="?state=submitted&amp;page=2"' in first.content.decode()
    second = page.get("/office/", {"state": "submitted", "page": "2"})
    assert numbers_listed(second) == numbers[50:]


# --- one application --------------------------------------------------------------------------


def test_an_officer_of_another_agency_gets_404(
    birth: Service, citizen: User, stranger: User,
) -> None:
    application = submit(birth, citizen)
    page = signed_in(stranger)
    response = page.get(f"/office/{application.number}/")
    assert response.status_code == 404
    assert "No application with this number is open to you." in text(response)
    document = application.documents.get()
    assert page.get(f"/office/{application.number}/documents/{document.pk}/").status_code == 404
    assert page.post(f"/office/{application.number}/act/",
                     {"action": "accept"}).status_code == 404
    assert page.post(f"/office/{application.number}/assign/",
                     {"assignee": stranger.pk}).status_code == 404
    application.refresh_from_db()
    assert application.state == "submitted"


def test_the_application_page_shows_everything_staff_need(
    birth: Service, citizen: User, officer: User,
) -> None:
    application = submit(birth, citizen)
    response = signed_in(officer).get(f"/office/{application.number}/")

    assert response.status_code == 200
    page = text(response)
    assert f"Application {application.number}" in page
    assert "Name Aigerim Nurlanovna" in page
    assert "National ID ••••••••0011" in page
    assert "900101300011" not in response.content.decode()
    assert "Phone +77011234567" in page
    # the form's answers under the e-form's titles
    assert "Child's name Aruzhan" in page
    assert "IIN 250101300011" in page
    # the standard: its documents and the grounds for refusal
    assert "ID card (the applicant brings it)" in page
    assert "Medical birth record (from state databases)" in page
    assert "Grounds for refusal Unreliable documents" in page
    assert "Deadline 2025-11-19 18:00" in page
    assert "Clock Running" in page
    assert "2025-11-17 10:00 Submitted Submitted" in page


def test_documents_download_for_staff(birth: Service, citizen: User, officer: User) -> None:
    application = submit(birth, citizen)
    document = application.documents.get()
    page = signed_in(officer)

    response = page.get(f"/office/{application.number}/documents/{document.pk}/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
    assert response["Content-Disposition"] == (
        f'attachment; filename="{application.number}-id_card.pdf"')
    assert page.get(f"/office/{application.number}/documents/999999/").status_code == 404


def test_each_role_sees_the_forms_its_workflow_allows_now(
    birth: Service, citizen: User, officer: User, supervisor: User,
) -> None:
    application = submit(birth, citizen)
    url = f"/office/{application.number}/"
    as_officer, as_supervisor = signed_in(officer), signed_in(supervisor)

    assert action_forms(as_officer.get(url)) == {"accept": set()}
    assert action_forms(as_supervisor.get(url)) == {}
    assert "Your role takes no action" in text(as_supervisor.get(url))

    response = as_officer.post(f"{url}act/", {"action": "accept"})
    assert response.status_code == 302
    assert response["Location"] == url
    after = as_officer.get(url)
    assert "Done: Accept for review." in text(after)
    assert action_forms(after) == {
        "request_documents": {"comment", "requested_documents", "other_documents"},
        "approve": {"result_document"},
        "refuse": {"ground", "comment"},
    }
    assert action_forms(as_supervisor.get(url)) == {
        "approve": {"result_document"}, "refuse": {"ground", "comment"}}


def test_an_action_the_state_does_not_allow_is_refused_with_the_reason(
    birth: Service, citizen: User, officer: User,
) -> None:
    application = submit(birth, citizen)
    response = signed_in(officer).post(f"/office/{application.number}/act/",
                                       {"action": "approve"})
    assert response.status_code == 403
    assert "approve cannot be taken while the application is submitted" in text(response)
    application.refresh_from_db()
    assert application.state == "submitted"


def test_refusal_needs_a_ground_from_the_standard(
    birth: Service, citizen: User, officer: User,
) -> None:
    application = submit(birth, citizen)
    services.act(application=application, user=officer, action="accept")
    page = signed_in(officer)
    url = f"/office/{application.number}/act/"

    made_up = page.post(url, {"action": "refuse", "refuse-ground": "looked_wrong",
                              "refuse-comment": "The birth record does not match"})
    assert made_up.status_code == 422
    shown = text(made_up)
    assert "“Refuse” was not done" in shown
    assert "not a ground for refusal in this service's standard (grounds: unreliable)" in shown
    assert "The birth record does not match</textarea>" in made_up.content.decode()
    assert 'aria-invalid="true"' in made_up.content.decode()

    missing = page.post(url, {"action": "refuse", "refuse-comment": "No ground"})
    assert missing.status_code == 422
    assert "This field is required." in text(missing)
    application.refresh_from_db()
    assert application.state == "in_review"

    done = page.post(url, {"action": "refuse", "refuse-ground": "unreliable",
                           "refuse-comment": "The birth record does not match"})
    assert done.status_code == 302
    application.refresh_from_db()
    assert (application.state, application.refusal_ground) == ("refused", "unreliable")
    final = text(page.get(f"/office/{application.number}/"))
    assert "Refusal Unreliable documents: The birth record does not match" in final
    assert "Ground: Unreliable documents" in final


def test_requesting_documents_stops_the_clock_and_the_page_says_so(
    birth: Service, citizen: User, officer: User, operator: User, now: FrozenTime,
) -> None:
    application = submit(birth, citizen)
    services.act(application=application, user=officer, action="accept")
    page = signed_in(officer)
    now.advance(hours=2)

    nothing_chosen = page.post(f"/office/{application.number}/act/", {
        "action": "request_documents", "request_documents-comment": "Bring it"})
    assert nothing_chosen.status_code == 422
    assert "Choose at least one document." in text(nothing_chosen)

    response = page.post(f"/office/{application.number}/act/", {
        "action": "request_documents", "request_documents-comment": "Bring a clearer scan",
        "request_documents-requested_documents": ["id_card"],
        "request_documents-other_documents": "marriage_certificate",
    })
    assert response.status_code == 302
    now.advance(days=1)  # Tue 12:00: the clock stood still since Mon 12:00 ...
    shown = text(page.get(f"/office/{application.number}/"))
    assert "Awaiting the applicant" in shown
    assert "Clock Stopped since 2025-11-17 12:00: waiting for the applicant" in shown
    # ... with 24 of its 26 working hours left, as when it stopped
    assert "Clock stopped (waiting for the applicant), 2 working days 6 hours left" in shown
    assert "Requested: ID card, marriage_certificate" in shown
    assert "The clock stopped." in shown
    assert "Clock stopped (waiting for the applicant)" in text(page.get("/office/"))

    # the citizen brings the marriage certificate to a centre: the clock runs again
    counter = signed_in(operator)
    answered = counter.post(f"/counter/applications/{application.number}/act/", {
        "action": "provide_documents",
        "provide_documents-document_marriage_certificate": pdf(),
    })
    assert answered.status_code == 302
    application.refresh_from_db()
    assert application.clock_stopped_at is None
    # stopped Mon 12:00 - Tue 12:00, 9 working hours: the deadline moves from Wed 18:00
    assert application.deadline_at == datetime(2025, 11, 20, 18, tzinfo=ALMATY)
    shown = text(page.get(f"/office/{application.number}/"))
    assert "Clock Running" in shown
    assert "Deadline 2025-11-20 18:00" in shown


def test_approval_takes_a_result_document_and_the_result_is_issued(
    birth: Service, citizen: User, officer: User,
) -> None:
    application = submit(birth, citizen)
    services.act(application=application, user=officer, action="accept")
    page = signed_in(officer)
    url = f"/office/{application.number}/act/"

    without_file = page.post(url, {"action": "approve"})
    assert without_file.status_code == 422
    assert "This field is required." in text(without_file)

    approved = page.post(url, {"action": "approve",
                               "approve-result_document": pdf("certificate.pdf")})
    assert approved.status_code == 302
    with application.documents.get(kind="result").file.open("rb") as result:
        assert result.read() == PDF
    assert action_forms(page.get(f"/office/{application.number}/")) == {"issue": set()}
    assert page.post(url, {"action": "issue"}).status_code == 302
    application.refresh_from_db()
    assert application.outcome == "issued"
    shown = text(page.get(f"/office/{application.number}/"))
    assert "Result issued" in shown
    assert "Completed on time" in shown
    assert "result of the service" in shown


def test_an_inter_agency_request_chooses_another_agency(
    interagency: Service, citizen: User, officer: User,
) -> None:
    application = submit(interagency, citizen)
    services.act(application=application, user=officer, action="accept")
    page = signed_in(officer)
    html = page.get(f"/office/{application.number}/").content.decode()
    options = re.search(r'name="request_agency-agency".*?</select>', html, flags=re.S)
    assert options is not None
    assert 'value="MLSP"' in options.group(0)
    assert 'value="MJ-ZAGS"' not in options.group(0)

    response = page.post(f"/office/{application.number}/act/", {
        "action": "request_agency", "request_agency-agency": "MLSP",
        "request_agency-comment": "Is the father registered as unemployed?"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == "awaiting_agency"
    assert "Agency: MLSP" in text(page.get(f"/office/{application.number}/"))


# --- assignment ---------------------------------------------------------------------------------


def test_a_supervisor_reassigns_within_the_agency_only(
    birth: Service, citizen: User, officer: User, supervisor: User, stranger: User,
    make_user: Callable[..., User],
) -> None:
    colleague = make_user("officer", agency_code="MJ-ZAGS", country_code="zz")
    application = submit(birth, citizen)
    page = signed_in(supervisor)
    url = f"/office/{application.number}/"

    form = page.get(url).content.decode()
    assert f'<option value="{officer.pk}">' in form
    assert f'<option value="{colleague.pk}">' in form
    assert f'value="{stranger.pk}"' not in form

    assert page.post(f"{url}assign/", {"assignee": officer.pk}).status_code == 302
    assert page.post(f"{url}assign/", {"assignee": colleague.pk}).status_code == 302
    application.refresh_from_db()
    assert application.assigned_to == colleague
    assert "Assigned: " + officer.username + " → " + colleague.username in text(page.get(url))

    outside = page.post(f"{url}assign/", {"assignee": stranger.pk})
    assert outside.status_code == 403
    assert "the assignee must be an officer of your agency" in text(outside)
    application.refresh_from_db()
    assert application.assigned_to == colleague


def test_an_officer_takes_an_unassigned_application(
    birth: Service, citizen: User, officer: User, make_user: Callable[..., User],
) -> None:
    colleague = make_user("officer", agency_code="MJ-ZAGS", country_code="zz")
    application = submit(birth, citizen)
    url = f"/office/{application.number}/"
    page = signed_in(officer)

    assert "Take it" in text(page.get(url))
    assert page.post(f"{url}assign/", {"assignee": officer.pk}).status_code == 302
    application.refresh_from_db()
    assert application.assigned_to == officer

    theirs = signed_in(colleague)
    assert "Take it" not in text(theirs.get(url))
    taken = theirs.post(f"{url}assign/", {"assignee": colleague.pk})
    assert taken.status_code == 403
    assert "an officer may only take an unassigned application" in text(taken)


# --- the counter ----------------------------------------------------------------------------------


def test_the_counter_offers_the_services_served_at_centres(operator: User) -> None:
    page = signed_in(operator)
    choose = page.get("/counter/")
    assert choose.status_code == 200
    html = choose.content.decode()
    assert f'<option value="{BIRTH}">' in html
    assert "02020001" not in html  # job seekers register on the portal only
    found = page.get("/counter/", {"q": "рождения"})
    assert f'href="/counter/{BIRTH}/"' in found.content.decode()
    assert page.get("/counter/", {"service": BIRTH})["Location"] == f"/counter/{BIRTH}/"
    assert page.get("/counter/", {"service": "02020001"}).status_code == 422
    not_here = page.get("/counter/02020001/")
    assert not_here.status_code == 404
    assert "not offered at one-stop-shop centres" in text(not_here)


def counter_form(page: Client) -> dict[str, object]:
    html = page.get(f"/counter/{BIRTH}/").content.decode()
    token = re.search(r'name="submission" value="([0-9a-f]{32})"', html)
    assert token is not None
    return {
        "submission": token.group(1), "national_id": "900101300011",
        "applicant_name": "Aigerim Nurlanovna", "phone": "+77011234567", "email": "",
        "eform-child_name": "Aruzhan", "eform-iin": "250101300011",
        "eform-document-id_card": pdf("id.pdf"),
    }


def test_an_operator_submits_at_the_counter(operator: User) -> None:
    page = signed_in(operator)
    html = page.get(f"/counter/{BIRTH}/").content.decode()
    assert "Child&#x27;s name <span class=\"muted\">(required)</span>" in html
    assert "ID card" in html
    data = counter_form(page)

    response = page.post(f"/counter/{BIRTH}/", data)

    assert response.status_code == 302
    application = Application.objects.get()
    assert response["Location"] == f"/counter/submitted/{application.number}/"
    assert application.channel == "centre"
    assert application.centre == operator.centre
    assert application.submitted_by == operator
    assert application.applicant_national_id == "900101300011"
    assert application.form_data == FORM
    assert application.documents.get().code == "id_card"
    shown = text(page.get(response["Location"]))
    assert f"Application number {application.number}" in shown
    assert f"Access code for the status check {services.access_code(application)}" in shown
    assert "Deadline 2025-11-19 18:00" in shown

    # the same form sent twice (a double click, a reload) is one application
    again = page.post(f"/counter/{BIRTH}/", {**data, "eform-document-id_card": pdf("id.pdf")})
    assert again["Location"] == response["Location"]
    assert Application.objects.count() == 1


def test_the_counter_form_shows_every_problem_and_keeps_the_input(operator: User) -> None:
    page = signed_in(operator)
    data = counter_form(page)
    data.update({"national_id": "12", "eform-iin": "25010130", "eform-document-id_card": ""})

    response = page.post(f"/counter/{BIRTH}/", data)

    assert response.status_code == 422
    shown = text(response)
    assert "The application was not submitted" in shown
    assert "A national ID number is 6 to 32 letters or digits." in shown
    assert "IIN (required) Enter a valid value." in shown
    assert "ID card (required) PDF, JPEG or PNG This field is required." in shown
    html = response.content.decode()
    assert 'value="Aruzhan"' in html
    assert 'value="Aigerim Nurlanovna"' in html
    assert Application.objects.count() == 0


def test_the_counter_asks_for_the_applicants_own_national_id_once(
    operator: User, birth: Service
) -> None:
    """An e-form field marked as the applicant's own national ID is the citizen's number
    the operator types above the e-form: not asked again, filled in when submitted."""
    for version in birth.versions.all():
        properties = {**version.eform["properties"], "iin": {
            "type": "string", "title": "Applicant's IIN", "pattern": "^[0-9]{12}$",
            "x-applicant-id": True}}
        version.eform = {**version.eform, "properties": properties}
        version.save()
    page = signed_in(operator)
    html = page.get(f"/counter/{BIRTH}/").content.decode()
    assert 'name="eform-iin"' not in html
    assert re.search(r'<label for="id_national_id">Applicant&#x27;s IIN', html)
    data = counter_form(page)
    del data["eform-iin"]

    response = page.post(f"/counter/{BIRTH}/", data)

    assert response.status_code == 302, text(response)
    assert Application.objects.get().form_data == {**FORM, "iin": "900101300011"}

    # a number the e-form's pattern refuses is told next to the one field that holds it
    data = counter_form(page)
    del data["eform-iin"]
    refused = page.post(f"/counter/{BIRTH}/", {**data, "national_id": "AB1234567",
                                               "eform-document-id_card": pdf("id.pdf")})
    assert refused.status_code == 422
    assert "Applicant's IIN (required) is not in the expected format" in text(refused)
    assert Application.objects.count() == 1


def test_the_counter_asks_for_the_applicants_own_phone_once_in_the_eforms_format(
    operator: User, birth: Service
) -> None:
    """An e-form field marked as the applicant's own phone is the citizen's phone the
    operator types above the e-form: named and required as the e-form has it, checked
    against its format there, and filled into the e-form when submitted."""
    for version in birth.versions.all():
        properties = {**version.eform["properties"], "mobile": {
            "type": "string", "title": "Mobile phone number", "pattern": "^\\+7[0-9]{10}$",
            "x-description": {"en": "+7 and 10 digits"}, "x-applicant-phone": True}}
        version.eform = {**version.eform, "properties": properties,
                         "required": [*version.eform.get("required", []), "mobile"]}
        version.save()
    page = signed_in(operator)
    html = page.get(f"/counter/{BIRTH}/").content.decode()
    assert 'name="eform-mobile"' not in html
    assert re.search(r'<label for="id_phone">Mobile phone number <span class="muted">'
                     r'\(required\)', html)

    missing = page.post(f"/counter/{BIRTH}/", {**counter_form(page), "phone": ""})
    assert missing.status_code == 422
    assert ("Mobile phone number (required) +7 and 10 digits This field is required."
            in text(missing))
    written_otherwise = page.post(f"/counter/{BIRTH}/",
                                  {**counter_form(page), "phone": "8 701 123 45 67"})
    assert written_otherwise.status_code == 422
    assert ("Mobile phone number (required) +7 and 10 digits is not in the expected format"
            in text(written_otherwise))
    assert Application.objects.count() == 0

    response = page.post(f"/counter/{BIRTH}/", counter_form(page))

    assert response.status_code == 302, text(response)
    application = Application.objects.get()
    assert application.form_data == {**FORM, "mobile": "+77011234567"}
    assert application.applicant_phone == "+77011234567"


def test_an_operator_issues_a_result_at_another_centre(
    birth: Service, citizen: User, officer: User, operator: User, almaty_operator: User,
) -> None:
    page = signed_in(operator)
    submitted = page.post(f"/counter/{BIRTH}/", counter_form(page))
    application = Application.objects.get()
    assert submitted.status_code == 302
    services.act(application=application, user=officer, action="accept")
    services.act(application=application, user=officer, action="approve",
                 result_document=upload("birth_certificate"))

    almaty = signed_in(almaty_operator)
    assert almaty.get(f"/counter/submitted/{application.number}/").status_code == 404
    unknown = almaty.get("/counter/find/", {"number": "ZZ-000000-AAAAAA"})
    assert unknown.status_code == 404
    assert "No application has this number." in text(unknown)
    found = almaty.get("/counter/find/", {"number": application.number.lower()})
    assert found["Location"] == f"/counter/applications/{application.number}/"
    shown = almaty.get(found["Location"])
    assert action_forms(shown) == {"issue": set()}
    result = application.documents.get(kind="result")
    download = almaty.get(f"/counter/applications/{application.number}/documents/{result.pk}/")
    assert b"".join(download.streaming_content) == PDF  # type: ignore[attr-defined]

    issued = almaty.post(f"/counter/applications/{application.number}/act/", {"action": "issue"})

    assert issued.status_code == 302
    application.refresh_from_db()
    assert application.outcome == "issued"
    last = application.events.last()
    assert last is not None
    assert (last.action, last.actor) == ("issue", almaty_operator)
    assert "Done: Issue the result." in text(almaty.get(issued["Location"]))


def test_the_counter_prints_the_receipt_of_what_it_took(
    operator: User, almaty_operator: User,
) -> None:
    page = signed_in(operator)
    submitted = page.post(f"/counter/{BIRTH}/", counter_form(page))
    number = Application.objects.get().number
    assert f'href="/counter/receipt/{number}.pdf"' in page.get(
        submitted["Location"]).content.decode()

    receipt = page.get(f"/counter/receipt/{number}.pdf")

    assert receipt.status_code == 200
    assert receipt["Content-Type"] == "application/pdf"
    assert receipt.content.startswith(b"%PDF-")
    assert signed_in(almaty_operator).get(f"/counter/receipt/{number}.pdf").status_code == 404


def test_a_form_sent_again_with_other_answers_is_refused_and_can_be_sent_anew(
    operator: User,
) -> None:
    page = signed_in(operator)
    data = counter_form(page)
    assert page.post(f"/counter/{BIRTH}/", data).status_code == 302

    changed = page.post(f"/counter/{BIRTH}/", {**data, "eform-child_name": "Aisultan",
                                               "eform-document-id_card": pdf()})

    assert changed.status_code == 409
    assert "already used for a different submission" in text(changed)
    assert 'value="Aisultan"' in changed.content.decode()
    fresh = re.search(r'name="submission" value="([0-9a-f]{32})"', changed.content.decode())
    assert fresh is not None
    assert fresh.group(1) != data["submission"]
    again = page.post(f"/counter/{BIRTH}/", {**data, "eform-child_name": "Aisultan",
                                             "eform-document-id_card": pdf(),
                                             "submission": fresh.group(1)})
    assert again.status_code == 302
    assert Application.objects.count() == 2


def test_an_enum_answer_shows_in_the_officers_language(
    birth: Service, citizen: User, officer: User,
) -> None:
    for standard in birth.versions.all():  # whichever is in force on the test's day
        eform = dict(standard.eform)
        eform["properties"] = {**eform["properties"], "applicant_role": {
            "type": "string", "title": "Relation", "enum": ["mother", "father"],
            "x-enum-titles": {"mother": {"ru": "Мать", "en": "Mother"},
                              "father": {"ru": "Отец", "en": "Father"}},
        }}
        standard.eform = eform
        standard.save(update_fields=["eform"])
    application = services.submit(
        service=birth, form_data={**FORM, "applicant_role": "mother"}, channel="portal",
        national_id="900101300011", applicant=citizen, submitted_by=citizen,
        documents=[upload("id_card")],
    ).application
    client = signed_in(officer)
    english = text(client.get(f"/office/{application.number}/", HTTP_ACCEPT_LANGUAGE="en"))
    russian = text(client.get(f"/office/{application.number}/", HTTP_ACCEPT_LANGUAGE="ru"))
    assert "Relation Mother" in english
    assert "Мать" in russian
    assert "mother" not in russian
