"""The citizen's pages, rendered by the server: apply (with drafts), my applications, the
actions a citizen takes, documents, the receipt and the public status check."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone, translation

from onestop.accounts.models import User
from onestop.applications import receipts, services
from onestop.applications.models import Application, Draft, Payment
from onestop.applications.timeleft import for_citizen as time_left
from onestop.catalogue.models import Country, Service
from tests.applications.pages import ALMATY, BIRTH, PDF, pdf, signed_in, text, upload

ID_CARD = upload("id_card", "id.pdf")
EFORM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["child_name", "child_birth_date", "relation"],
    "properties": {
        "child_name": {"type": "string", "maxLength": 200, "title": "Child's name",
                       "x-title": {"kk": "Баланың аты", "ru": "Имя ребенка",
                                   "en": "Child's name"}},
        "child_birth_date": {"type": "string", "format": "date", "title": "Date of birth"},
        "relation": {"type": "string", "enum": ["mother", "father"], "title": "Relation"},
        # the form does not check multipleOf: services.submit does, against the schema
        "copies": {"type": "integer", "minimum": 1, "multipleOf": 2, "title": "Copies"},
    },
}
DOCUMENTS = [
    {"code": "id_card", "name": {"en": "ID card", "ru": "Удостоверение личности"},
     "source": "applicant"},
    {"code": "medical_birth", "name": {"en": "Medical birth record"},
     "source": "state_database"},
]
FORM = {"child_name": "Aruzhan", "child_birth_date": "2026-11-20", "relation": "mother"}


@pytest.fixture
def birth(birth: Service, db: None) -> Service:
    """The birth registration, whichever version is in force, with an e-form of several
    kinds of field, an upload and a fee. (It names `db` itself: pytest-django decides
    which tests need the database from the fixtures a test asks for, and the fixtures an
    overridden fixture asks for are not counted, so a test of this file run alone would
    find no test database.)"""
    birth.versions.update(eform=EFORM, documents=DOCUMENTS, fee_amount=Decimal("1725"))
    return birth


@pytest.fixture
def citizen(citizen: User) -> User:
    """The citizen, with a name and an email address."""
    citizen.first_name, citizen.last_name, citizen.email = (
        "Aigerim", "Nurlanova", "aigerim@example.kz")
    citizen.save()
    return citizen


@pytest.fixture
def me(citizen: User) -> Client:
    return signed_in(citizen)


def token(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found, "the form has no submission token"
    return found.group(1)


def application_form(client: Client, **extra: Any) -> dict[str, Any]:
    page = client.get(f"/apply/{BIRTH}/").content.decode()
    return {"token": token(page), "intent": "submit",
            **{f"eform-{name}": value for name, value in FORM.items()},
            "eform-document-id_card": pdf("id.pdf"),
            **extra}


def submit(citizen: User, service: Service, **extra: Any) -> Application:
    return services.submit(service=service, form_data=FORM, channel="portal",
                           national_id=citizen.national_id, applicant=citizen,
                           submitted_by=citizen, documents=[ID_CARD], **extra).application


# --- who may open the pages ---------------------------------------------------------------


def test_personal_pages_send_the_anonymous_to_sign_in(birth: Service, client: Client) -> None:
    for path in (f"/apply/{BIRTH}/", "/drafts/", "/cabinet/", "/cabinet/ZZ-1/",
                 "/cabinet/ZZ-1/receipt.pdf"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={path}"


def test_staff_are_told_the_cabinet_is_for_citizens(
    birth: Service, client: Client, officer: User
) -> None:
    client.force_login(officer)
    response = client.get("/cabinet/")
    assert response.status_code == 403
    assert "This page is for citizens" in response.content.decode()


# --- apply --------------------------------------------------------------------------------


def test_the_form_shows_fields_uploads_deadline_and_fee(birth: Service, me: Client) -> None:
    page = me.get(f"/apply/{BIRTH}/").content.decode()
    assert 'name="eform-child_name"' in page
    assert "Child&#x27;s name" in page
    assert 'type="date" name="eform-child_birth_date"' in page
    assert 'type="radio" name="eform-relation" value="mother"' in page
    assert 'type="file" name="eform-document-id_card"' in page
    assert "ID card" in page
    assert "Medical birth record" not in page  # the state has it: no upload
    assert "This service costs 1725.00 KZT; it is paid when you submit." in page
    assert "working day" in page  # the deadline
    assert 'enctype="multipart/form-data"' in page
    # what may be left empty says so; the rest is required
    shown = text(me.get(f"/apply/{BIRTH}/", HTTP_ACCEPT_LANGUAGE="ru"))
    assert "Copies (необязательно)" in shown
    assert "Имя ребенка (необязательно)" not in shown
    assert "Relation (необязательно)" not in shown  # a radio group's legend


def test_a_new_form_starts_with_the_applicants_own_national_id(
    birth: Service, me: Client, citizen: User
) -> None:
    eform = {**EFORM, "properties": {**EFORM["properties"], "iin": {
        "type": "string", "title": "Applicant's IIN", "x-applicant-id": True}}}
    birth.versions.update(eform=eform)

    page = me.get(f"/apply/{BIRTH}/").content.decode()
    assert re.search(r'<input type="text" name="eform-iin" value="900101300011"', page)
    # not required (left empty it is filled in), and not offered as optional either
    assert "Applicant's IIN (optional)" not in text(me.get(f"/apply/{BIRTH}/"))

    # the field is the applicant's own: another person's number is refused next to it
    other = me.post(f"/apply/{BIRTH}/", application_form(me, **{"eform-iin": "850505400022"}))
    assert other.status_code == 422
    assert "Applicant's IIN must be the applicant's own national ID number" in text(other)
    assert Application.objects.count() == 0

    # a resumed draft shows what was saved, whatever it was
    saved = me.post(f"/apply/{BIRTH}/", {**application_form(me, intent="save"),
                                         "eform-iin": ""}, follow=True).content.decode()
    assert 'name="eform-iin" value="900101300011"' not in saved
    assert Draft.objects.get().form_data == FORM


def test_a_new_form_starts_with_the_applicants_own_email_and_takes_a_phone_as_contact(
    birth: Service, me: Client, citizen: User
) -> None:
    """Fields marked as the applicant's own e-mail and phone: the account's e-mail is
    filled in (and in again when cleared); a phone typed into the e-form is the
    application's contact; the account's phone, once given, is filled in as well."""
    citizen.email = "aigerim@example.kz"
    citizen.save(update_fields=["email"])
    eform = {**EFORM, "properties": {
        **EFORM["properties"],
        "email": {"type": "string", "title": "E-mail", "format": "email",
                  "x-applicant-email": True},
        "mobile": {"type": "string", "title": "Mobile phone number",
                   "pattern": "^\\+7[0-9]{10}$", "x-applicant-phone": True}}}
    birth.versions.update(eform=eform)

    page = me.get(f"/apply/{BIRTH}/")
    assert re.search(r'name="eform-email" value="aigerim@example.kz"', page.content.decode())
    assert "E-mail (optional)" not in text(page)
    assert "Mobile phone number (optional)" in text(page)  # nothing known: the citizen's
    # a phone's dialling pad for it, and the browser may offer its own number
    assert re.search(r'<input type="tel" name="eform-mobile"[^>]*autocomplete="tel"',
                     page.content.decode())

    sent = me.post(f"/apply/{BIRTH}/", application_form(
        me, **{"eform-email": "", "eform-mobile": "+77015550101"}))

    assert sent.status_code == 302, text(sent)
    application = Application.objects.get()
    assert (application.form_data["email"], application.applicant_email) == (
        "aigerim@example.kz", "aigerim@example.kz")
    assert (application.form_data["mobile"], application.applicant_phone) == (
        "+77015550101", "+77015550101")

    # with a phone in "My account", the phone field starts with it too
    citizen.phone = "+77015550202"
    citizen.save(update_fields=["phone"])
    page = me.get(f"/apply/{BIRTH}/")
    assert re.search(r'<input type="tel" name="eform-mobile" value="\+77015550202"',
                     page.content.decode())
    assert "Mobile phone number (optional)" not in text(page)


def test_the_form_in_russian(birth: Service, me: Client) -> None:
    page = me.get(f"/apply/{BIRTH}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Имя ребенка" in page
    assert "Удостоверение личности" in page


def test_mistakes_show_next_to_their_fields_and_nothing_typed_is_lost(
    birth: Service, me: Client
) -> None:
    response = me.post(f"/apply/{BIRTH}/", application_form(
        me, **{"eform-child_birth_date": "2026-02-30", "eform-copies": "3"},
        **{"eform-document-id_card": SimpleUploadedFile("a.exe", b"MZ", "application/pdf")}))
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_eform-child_birth_date_error"' in page
    assert 'aria-describedby="id_eform-child_birth_date_error"' in page
    assert 'id="id_eform-document-id_card_error"' in page
    assert "The file must be a PDF, JPEG or PNG file." in page
    assert "Please correct the fields marked below." in page
    assert "Attach your files again" in page
    assert 'value="Aruzhan"' in page
    assert 'value="2026-02-30"' in page
    assert re.search(r'value="mother"[^>]*checked', page)
    assert Application.objects.count() == 0


def test_problems_found_on_submission_show_next_to_their_fields(
    birth: Service, me: Client
) -> None:
    response = me.post(f"/apply/{BIRTH}/", application_form(me, **{"eform-copies": "3"}))
    assert response.status_code == 422
    page = response.content.decode()
    assert re.search(r'id="id_eform-copies_error"><li>must be a multiple of 2', page)
    assert 'value="3"' in page
    assert Application.objects.count() == 0
    in_russian = me.post(f"/apply/{BIRTH}/", application_form(me, **{"eform-copies": "3"}),
                         HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert re.search(r'id="id_eform-copies_error"><li>должно быть кратно 2', in_russian)


def test_a_citizen_without_a_national_id_is_told_why(
    birth: Service, client: Client, make_user: Callable[..., User]
) -> None:
    client.force_login(make_user("citizen"))
    page = client.get(f"/apply/{BIRTH}/").content.decode()
    assert "Your account has no national ID on record" in page
    response = client.post(f"/apply/{BIRTH}/", application_form(client))
    assert response.status_code == 422
    assert "Visit a public service centre with your identity document" in (
        response.content.decode())
    assert Application.objects.count() == 0


def test_submit_redirects_with_the_number_and_the_access_code(
    birth: Service, me: Client, citizen: User
) -> None:
    response = me.post(f"/apply/{BIRTH}/", application_form(me), follow=True)
    application = Application.objects.get()
    assert response.redirect_chain == [(f"/cabinet/{application.number}/", 302)]
    page = response.content.decode()
    code = services.access_code(application)
    assert f"Your application {application.number} is submitted" in page
    assert code in page
    assert application.form_data == FORM
    assert (application.channel, application.applicant, application.applicant_national_id) == (
        "portal", citizen, "900101300011")
    assert application.applicant_email == "aigerim@example.kz"
    assert [d.code for d in application.documents.all()] == ["id_card"]
    assert Payment.objects.get(application=application).amount == Decimal("1725")


def test_the_same_form_sent_twice_makes_one_application(birth: Service, me: Client) -> None:
    form = application_form(me)
    first = me.post(f"/apply/{BIRTH}/", form)
    form["eform-document-id_card"].seek(0)
    second = me.post(f"/apply/{BIRTH}/", form)
    application = Application.objects.get()
    assert first["Location"] == second["Location"] == f"/cabinet/{application.number}/"
    assert application.documents.count() == 1


def test_a_service_not_offered_online(birth: Service, me: Client) -> None:
    birth.versions.update(channels=["centre"])
    page = me.get(f"/apply/{BIRTH}/")
    assert "This service is not offered online" in page.content.decode()
    assert me.post(f"/apply/{BIRTH}/", {"intent": "submit"}).status_code == 422
    assert me.get("/apply/99999999/").status_code == 404


# --- drafts -------------------------------------------------------------------------------


def test_a_draft_is_saved_resumed_and_gone_once_submitted(
    birth: Service, me: Client, citizen: User
) -> None:
    form = application_form(me, intent="save", **{"eform-child_birth_date": "2026-02-30"})
    del form["eform-relation"]
    response = me.post(f"/apply/{BIRTH}/", form, follow=True)
    draft = Draft.objects.get()
    assert (draft.owner, draft.service) == (citizen, birth)
    assert draft.form_data == {"child_name": "Aruzhan", "child_birth_date": "2026-02-30"}
    assert response.redirect_chain == [(f"/apply/{BIRTH}/?draft={draft.pk}", 302)]
    page = response.content.decode()
    assert "Your draft is saved" in page
    assert "attach them again" in page
    assert 'value="Aruzhan"' in page
    assert 'value="2026-02-30"' in page
    assert f'name="draft" value="{draft.pk}"' in page

    drafts = me.get("/drafts/").content.decode()
    assert f"/apply/{BIRTH}/?draft={draft.pk}" in drafts
    assert "Registration of a child&#x27;s birth" in drafts

    response = me.post(f"/apply/{BIRTH}/", application_form(me, draft=str(draft.pk)))
    assert response.status_code == 302
    assert not Draft.objects.exists()
    assert Application.objects.count() == 1


def test_a_draft_is_its_owners_only(
    birth: Service, me: Client, citizen: User, make_user: Callable[..., User]
) -> None:
    draft = Draft.objects.create(owner=citizen, service=birth, form_data={"child_name": "A"})
    other = signed_in(make_user("citizen", national_id="900101300022"))
    assert other.get(f"/apply/{BIRTH}/?draft={draft.pk}").status_code == 404
    assert other.post(f"/drafts/{draft.pk}/delete/").status_code == 404
    assert other.post(f"/apply/{BIRTH}/", {"draft": draft.pk, "intent": "save"}).status_code == 404
    assert Draft.objects.get().form_data == {"child_name": "A"}

    response = me.post(f"/drafts/{draft.pk}/delete/", follow=True)
    assert "The draft is deleted." in response.content.decode()
    assert not Draft.objects.exists()


# --- my applications ----------------------------------------------------------------------


def test_the_cabinet_lists_only_my_applications_newest_first(
    birth: Service, me: Client, citizen: User, make_user: Callable[..., User]
) -> None:
    older = submit(citizen, birth, now=timezone.now() - timedelta(days=1))
    newer = submit(citizen, birth)
    stranger = make_user("citizen", national_id="900101300022")
    theirs = submit(stranger, birth)

    page = me.get("/cabinet/").content.decode()
    assert page.index(newer.number) < page.index(older.number)
    assert theirs.number not in page
    assert "Submitted" in page  # the state's name from the workflow
    assert re.search(r"\d+ (working days?|hours?|minutes?)( \d+ hours?)? left", page)
    assert me.get(f"/cabinet/{theirs.number}/").status_code == 404
    document = theirs.documents.get()
    assert me.get(f"/cabinet/{theirs.number}/documents/{document.pk}/").status_code == 404
    assert me.get(f"/cabinet/{older.number}/documents/{document.pk}/").status_code == 404
    assert me.get(f"/cabinet/{theirs.number}/receipt.pdf").status_code == 404


def test_time_left_reads_in_working_days_and_hours(
    birth: Service, citizen: User, officer: User
) -> None:
    # Mon 16 Nov 2026 10:00, 1 working day (09:00-18:00): the deadline is Tue 17 Nov 18:00.
    application = submit(citizen, birth, now=datetime(2026, 11, 16, 10, tzinfo=ALMATY))
    with translation.override("en"):
        assert time_left(application, datetime(2026, 11, 16, 12, tzinfo=ALMATY)).text == (
            "1 working day 6 hours left")
        overdue = time_left(application, datetime(2026, 11, 18, 11, tzinfo=ALMATY))
        assert (overdue.state, overdue.text) == ("overdue", "Overdue by 2 hours")

        services.act(application=application, user=officer, action="accept",
                     now=datetime(2026, 11, 16, 11, tzinfo=ALMATY))
        services.act(application=application, user=officer, action="request_documents",
                     comment="ID card, please", requested_documents=["id_card"],
                     now=datetime(2026, 11, 17, 15, tzinfo=ALMATY))
        application.refresh_from_db()
        stopped = time_left(application, datetime(2026, 11, 20, 10, tzinfo=ALMATY))
        assert (stopped.state, stopped.text) == (
            "stopped", "Clock stopped: waiting for you (3 hours left when it runs again)")

        services.act(application=application, user=citizen, action="withdraw",
                     now=datetime(2026, 11, 20, 11, tzinfo=ALMATY))
        application.refresh_from_db()
        assert time_left(application, timezone.now()).text == (
            "No deadline: the application is withdrawn")

        jobs = Service.objects.get(country=birth.country, code="02020001")  # instant
        issued = services.submit(service=jobs, form_data={}, channel="portal",
                                 national_id=citizen.national_id, applicant=citizen,
                                 submitted_by=citizen).application
        assert time_left(issued, timezone.now()).text == "Completed on time"


def test_an_application_page_shows_its_history_documents_and_actions(
    birth: Service, me: Client, citizen: User
) -> None:
    application = submit(citizen, birth)
    page = me.get(f"/cabinet/{application.number}/").content.decode()
    for expected in ("Application submitted", "Submitted", "ID card",
                     services.access_code(application), "Download receipt",
                     "Withdraw the application", 'name="withdraw-confirm"',
                     "1725.00 KZT, paid"):
        assert expected in page, expected
    document = application.documents.get()
    download = me.get(f"/cabinet/{application.number}/documents/{document.pk}/")
    assert b"".join(download.streaming_content) == PDF  # type: ignore[attr-defined]
    assert download["Content-Disposition"] == (
        f'attachment; filename="{application.number}-id_card.pdf"')


def test_providing_documents_runs_the_clock_again(
    birth: Service, me: Client, citizen: User, officer: User
) -> None:
    application = submit(citizen, birth)
    services.act(application=application, user=officer, action="accept")
    services.act(application=application, user=officer, action="request_documents",
                 comment="Please upload the medical birth record",
                 requested_documents=["medical_birth"])

    page = me.get(f"/cabinet/{application.number}/").content.decode()
    assert "<strong>Please upload the medical birth record</strong>" in page
    assert "Medical birth record" in page
    assert 'name="provide_documents-document-medical_birth"' in page
    assert "Clock stopped: waiting for you" in page

    nothing = me.post(f"/cabinet/{application.number}/", {"action": "provide_documents"})
    assert nothing.status_code == 422
    assert "Attach at least one document." in nothing.content.decode()

    response = me.post(f"/cabinet/{application.number}/", {
        "action": "provide_documents",
        "provide_documents-document-medical_birth": pdf("record.pdf"),
        "provide_documents-comment": "Here it is",
    }, follow=True)
    assert "Done: Provide the documents." in response.content.decode()
    application.refresh_from_db()
    assert application.state == "in_review"
    assert application.clock_stopped_at is None
    assert list(application.events.values_list("action", "clock"))[-2:] == [
        ("request_documents", "stop"), ("provide_documents", "resume")]
    assert "medical_birth" in application.documents.values_list("code", flat=True)
    assert "(clock runs again)" in response.content.decode()


def test_withdrawing_needs_a_confirmation(birth: Service, me: Client, citizen: User) -> None:
    application = submit(citizen, birth)
    unconfirmed = me.post(f"/cabinet/{application.number}/", {"action": "withdraw"})
    assert unconfirmed.status_code == 422
    application.refresh_from_db()
    assert application.state == "submitted"

    me.post(f"/cabinet/{application.number}/", {"action": "withdraw", "withdraw-confirm": "on",
                                               "withdraw-comment": "Applied twice"})
    application.refresh_from_db()
    assert (application.state, application.outcome) == ("withdrawn", "withdrawn")
    page = me.get(f"/cabinet/{application.number}/").content.decode()
    assert "Applied twice" in page
    assert 'name="action"' not in page  # nothing more to do

    again = me.post(f"/cabinet/{application.number}/", {"action": "withdraw",
                                                       "withdraw-confirm": "on"}, follow=True)
    assert "This action cannot be taken on the application now." in again.content.decode()


# --- receipt ------------------------------------------------------------------------------


def test_the_receipt_is_a_pdf_with_the_number_and_a_qr_code_of_the_status_page(
    birth: Service, me: Client, citizen: User
) -> None:
    application = submit(citizen, birth)
    code = services.access_code(application)
    url = f"http://localhost/status/{application.number}/?code={code}"

    response = me.get(f"/cabinet/{application.number}/receipt.pdf",
                      HTTP_ACCEPT_LANGUAGE="ru")
    content = response.content
    assert response["Content-Type"] == "application/pdf"
    assert content.startswith(b"%PDF")
    assert application.number.encode() in content  # title and subject
    assert f"(URI) /URI ({url})".encode() in content or url.encode() in content

    receipt = receipts.receipt_for(application, access_code=code, status_url=url,
                                   language="ru")
    assert receipt.status_url == url  # the QR code's payload
    assert receipt.service == "Регистрация рождения ребенка"
    assert receipt.fee.startswith("1725.00 KZT")
    assert me.get(url).status_code == 200  # the code opens the status page


# --- the public status check --------------------------------------------------------------


def test_the_status_page_shows_no_personal_data(
    birth: Service, client: Client, citizen: User
) -> None:
    application = submit(citizen, birth)
    code = services.access_code(application)
    lookup = client.get("/status/", {"number": application.number.lower(), "code": code})
    assert lookup["Location"] == f"/status/{application.number}/?code={code}"

    page = client.get(lookup["Location"]).content.decode()
    assert application.number in page
    assert "Submitted" in page
    assert "Civil Registry Department" in page
    for personal in ("900101300011", "Aigerim", "Nurlanova", "aigerim@example.kz",
                     "Aruzhan", "id.pdf", "/documents/"):
        assert personal not in page, personal


def test_a_wrong_code_reads_like_an_unknown_number(birth: Service, client: Client,
                                                    citizen: User) -> None:
    application = submit(citizen, birth)

    def body(number: str, code: str) -> str:
        response = client.get(f"/status/{number}/", {"code": code})
        assert response.status_code == 404
        text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
        return text.replace(number, "NUMBER")

    assert body(application.number, "WRONGCOD") == body("ZZ-000000-000000", "WRONGCOD")
    assert "No application with this number and access code." in body("ZZ-0", "")


def test_the_status_form(client: Client, mini_country: Country) -> None:
    page = client.get("/status/").content.decode()
    assert 'name="number"' in page
    assert 'name="code"' in page
    assert client.get("/status/", {"number": "ZZ-1"}).status_code == 200
