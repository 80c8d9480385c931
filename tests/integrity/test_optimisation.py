"""The optimisation report of the hand-built history: the three changes that would save
the most citizen-days, with the estimates worked out by hand, and its PDF."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from onestop.catalogue.models import Country
from onestop.integrity import bottleneck_services as services
from onestop.integrity import optimisation
from onestop.integrity.optimisation_pdf import render_pdf
from onestop.integrity.optimisation_text import change_text
from tests.integrity import history

pytestmark = pytest.mark.django_db


@pytest.fixture
def flow(mini_country: Country) -> history.Flow:
    return history.build(mini_country)


def _report(flow: history.Flow, code: str = "MJ-ZAGS") -> optimisation.Report:
    agency = flow.zags if code == "MJ-ZAGS" else flow.mlsp
    return optimisation.agency_report(country=flow.country, agency=agency, period="2026-07",
                                      as_of=history.as_of())


def test_three_changes_of_the_civil_registry(flow: history.Flow) -> None:
    report = _report(flow)
    got = [(c.kind, c.services, c.subject, round(c.saving_days, 4))
           for c in report.recommended]
    assert got == [
        # 3 x 72 h + 2 x 1 h in `approved`, always left by `issue`, which the system may take
        ("automate_stage", ["01010001"], "approved", round(218 / 24, 4)),
        # id_card requested 4 times, 24 h each, and the standard has it from a database
        ("state_database_document", ["01010001"], "id_card", 4.0),
        # one ticket waited 40 min against 15: 25 min over
        ("understaffed_centre", [], "AST-01", round(1500 / 86400, 4)),
    ]
    assert report.recommended[1].evidence["01010001"] == {
        "requests": 4, "applications": 2, "repeated_applications": 2, "citizen_days": 4.0,
        "source": "state_database"}
    assert report.recommended[2].evidence[""] == {
        "served": 2, "over_standard": 1, "over_standard_share": 0.5,
        "citizen_days": round(1500 / 86400, 3)}
    assert [a.service.code for a in report.analyses] == ["01010001"]
    with translation.override("en"):
        text = change_text(report.recommended[0], report)
    assert text.startswith("Automate the stage “Approved” (service 01010001)")
    assert "median 72.0 h (3.00 working days)" in text
    assert "left by issue ×5" in text


def test_interagency_wait_of_the_labour_ministry(flow: history.Flow) -> None:
    report = _report(flow, "MLSP")
    [change] = report.recommended
    assert (change.kind, change.services, change.subject, change.saving_days) == (
        "interagency_wait", ["09090001"], "MJ-ZAGS", 3.0)
    assert change.evidence["09090001"]["over_limit"] == 1
    assert change.evidence["09090001"]["median_working_days"] == 3.0


def test_no_applications_no_changes(flow: history.Flow) -> None:
    report = optimisation.agency_report(country=flow.country, agency=flow.zags,
                                        period="2025", as_of=history.as_of())
    assert report.analyses == []
    assert report.recommended == []


def test_pdf_is_a_pdf_with_the_report(flow: history.Flow) -> None:
    report = _report(flow)
    data = render_pdf(report, "ru")
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert b"DejaVuSans" in data  # the embedded font, for Cyrillic and Kazakh text
    # the document information names the agency, the period and the changes (the page
    # text is set in a subset font, which no installed library here can extract)
    title = re.search(rb"/Title \((.*?)\)", data)
    subject = re.search(rb"/Subject \((.*?)\)", data)
    assert title
    assert title.group(1) == b"onestop optimisation report MJ-ZAGS 2026-07"
    assert subject
    assert subject.group(1) == (
        b"automate_stage:approved state_database_document:id_card understaffed_centre:AST-01")


def test_the_same_change_in_several_services_is_one() -> None:
    changes = [
        optimisation.Change("automate_stage", "submitted", 2.0, {"A": {"visits": 2}}),
        optimisation.Change("interagency_wait", "GP", 2.5, {"A": {"requests": 1}}),
        optimisation.Change("automate_stage", "submitted", 1.0, {"B": {"visits": 1}}),
        optimisation.Change("understaffed_centre", "C-1", 0.5, {"": {"served": 3}}),
    ]
    got = optimisation.merged(changes)
    assert [(c.kind, c.subject, c.saving_days, c.services) for c in got] == [
        ("automate_stage", "submitted", 3.0, ["A", "B"]),
        ("interagency_wait", "GP", 2.5, ["A"]),
        ("understaffed_centre", "C-1", 0.5, []),
    ]
    assert got[0].evidence == {"A": {"visits": 2}, "B": {"visits": 1}}


def test_applicant_document_asked_after_submission(flow: history.Flow) -> None:
    """Had the standard said the applicant brings `id_card`, the change would be to check
    it at submission, saving the same 4 days of waits."""
    result = services.analyse_service(country=flow.country, service=flow.birth,
                                      period="2026-07", as_of=history.as_of())
    result.analysis.documents[0].source = "applicant"
    [change] = [c for c in optimisation.service_changes(result) if c.subject == "id_card"]
    assert (change.kind, change.saving_days) == ("repeated_document", 4.0)
    assert change.evidence["01010001"]["repeat_citizen_days"] == 2.0
