"""The portal and the counter with the shipped packs' own services, whose standards list
the application itself among the documents and mark the applicant's national ID, phone and
e-mail (`x-applicant-id`, `x-applicant-phone`, `x-applicant-email`), as the mini pack of
the other page tests does not: every service a pack offers online can be applied for
through the portal's page, and every one offered at centres through the counter's."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from onestop.accounts.models import User
from onestop.applications.forms import ApplicationForm
from onestop.applications.models import Application
from onestop.catalogue.models import Country, Service
from onestop.catalogue.packs import read_pack, resolve_pack_path
from onestop.catalogue.selectors import current_standard, local_today
from onestop.catalogue.services import load_pack
from tests.applications.pages import pdf, post_data, signed_in, text
from tests.applications.samples import sample_form

NAME_CHANGE = "01020002"  # the IIN, the reason; the application, an ID document


@pytest.fixture(autouse=True)
def country(kz: Country, settings: Any) -> Country:
    settings.ONESTOP_COUNTRY = "kz"
    return kz


def problems(answer: Any) -> list[str]:
    """The page's error messages, each with the field it is marked on."""
    html = answer.content.decode()
    return [" ".join(re.sub(r"<[^>]+>", " ", found).split())
            for found in re.findall(r'<label[^>]*>.{0,300}?</label>(?:(?!<label).){0,600}?'
                                    r'class="errorlist.*?</ul>', html, flags=re.S)
            ] + re.findall(r'role="alert"[^>]*>(.*?)<', html, flags=re.S)


def token(page: Client, path: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', page.get(path).content.decode())
    assert found is not None
    return found.group(1)


def test_the_counter_takes_a_service_whose_standard_lists_the_application_itself(
    make_user: Callable[..., User],
) -> None:
    operator = make_user("operator", centre_code="AST-01", country_code="kz")
    page = signed_in(operator)
    path = f"/counter/{NAME_CHANGE}/"
    html = page.get(path).content.decode()
    # the e-form is the application: no upload asks for it, and the IIN is asked once
    assert 'name="eform-document-application"' not in html
    assert 'name="eform-document-id_document"' in html
    assert 'name="eform-iin"' not in html

    response = page.post(path, {
        "submission": token(page, path, "submission"), "national_id": "850505400022",
        "applicant_name": "Aigerim Nurlanovna", "phone": "", "email": "",
        "eform-reason": "marriage", "eform-document-id_document": pdf("id.pdf"),
    })

    assert response.status_code == 302, text(response)
    application = Application.objects.get()
    assert (application.channel, application.applicant_national_id) == ("centre", "850505400022")
    assert application.form_data == {"iin": "850505400022", "reason": "marriage"}
    assert list(application.documents.values_list("code", flat=True)) == ["id_document"]


def test_a_citizen_applies_online_for_such_a_service(make_user: Callable[..., User]) -> None:
    citizen = make_user("citizen", national_id="850505400022")
    page = signed_in(citizen)
    path = f"/apply/{NAME_CHANGE}/"
    html = page.get(path).content.decode()
    assert 'name="eform-document-application"' not in html
    assert re.search(r'name="eform-iin" value="850505400022"', html)  # known: filled in

    response = page.post(path, {
        "token": token(page, path, "token"), "intent": "submit", "eform-iin": "850505400022",
        "eform-reason": "marriage", "eform-document-id_document": pdf("id.pdf"),
    })

    assert response.status_code == 302, text(response)
    application = Application.objects.get()
    assert (application.channel, application.applicant) == ("portal", citizen)
    assert application.form_data == {"iin": "850505400022", "reason": "marriage"}


# A national ID and a mobile phone of each country's format (IIN: 12 digits; PINFL: 14).
NATIONAL_IDS = {"kz": "850505400022", "uz": "30505850220011"}
PHONES = {"kz": "+77015550101", "uz": "+998905550101"}


@pytest.mark.parametrize("code", ["kz", "uz"])
def test_every_service_offered_online_or_at_centres_can_be_applied_for(
    code: str, make_user: Callable[..., User], settings: Any,
) -> None:
    if code != "kz":
        load_pack(read_pack(resolve_pack_path(code)))
    settings.ONESTOP_COUNTRY = code
    country = Country.objects.get(code=code)
    national_id = NATIONAL_IDS[code]
    citizen = make_user("citizen", national_id=national_id)
    centre = country.centres.order_by("code").first()
    assert centre is not None
    operator = make_user("operator", centre_code=centre.code, country_code=code)
    portal, counter = signed_in(citizen), signed_in(operator)
    today = local_today(country)
    taken = {"portal": 0, "centre": 0}
    for service in Service.objects.filter(country=country).order_by("code"):
        standard = current_standard(service, today)
        if standard is None:
            continue
        form = ApplicationForm(standard=standard, language="en")
        data: dict[str, Any] = dict(post_data(form, sample_form(standard.eform)).lists())
        uploads = {name: pdf(f"{name}.pdf") for name in form.fields
                   if name.startswith("document-") and form.fields[name].required}
        for channel, page, path, extra in (
            ("portal", portal, f"/apply/{service.code}/", {"intent": "submit"}),
            ("centre", counter, f"/counter/{service.code}/", {
                "national_id": national_id, "applicant_name": "Aigerim Nurlanovna",
                "phone": PHONES[code], "email": "aigerim@example.org"}),
        ):
            offered = {"portal": {"portal"}, "centre": {"centre", "provider_office"}}[channel]
            if not offered & set(standard.channels):
                continue
            name = "token" if channel == "portal" else "submission"
            answer = page.post(path, {
                **data, **extra, name: token(page, path, name),
                **{f"eform-{n}": pdf(f"{n}.pdf") for n in uploads},
            })
            assert answer.status_code == 302, (channel, service.code, problems(answer))
            taken[channel] += 1
    assert Application.objects.filter(channel="portal").count() == taken["portal"] > 10
    assert Application.objects.filter(channel="centre").count() == taken["centre"] > 10
    # the counter asked for the phone once, and the e-form's phone is the citizen's
    at_counter = Application.objects.filter(channel="centre", form_data__has_key="phone")
    assert at_counter.count() > 5
    assert {a.form_data["phone"] for a in at_counter} == {PHONES[code]}
    assert {a.applicant_phone for a in at_counter} == {PHONES[code]}
