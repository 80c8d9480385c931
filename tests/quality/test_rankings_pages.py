"""The quality pages on the hand-built history: the ranking (table, chart, methodology
labelled as an example, unranked units after the ranked), a unit's indicators and trend,
the records behind an indicator linking to the office page, and who may open what."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from onestop.accounts.models import User
from tests.quality import history
from tests.quality.test_rankings_api import assess, methodology


@pytest.fixture
def built(mini_country, make_user: Callable[..., User]) -> history.History:
    op1 = make_user("operator", country_code="zz", centre_code="AST-01")
    op2 = make_user("operator", country_code="zz", centre_code="AST-01")
    return history.build(mini_country, op1, op2)


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_ranking_page_shows_the_table_the_chart_and_the_example_label(built, client,
                                                                       make_user):
    assess(built.country, methodology(built.country, "t-6", min_cases=6))
    signed_in(client, make_user("controller"))
    response = client.get("/quality/", {"country": "zz", "period": "2026-Q3",
                                        "scope": "agency"})
    assert response.status_code == 200
    page = text(response)
    assert "Methodology version t-6" in page
    assert "EXAMPLE methodology, not law" in page
    assert "<svg" in page
    assert 'role="img"' in page
    # ZAGS ranked first, MLSP after it: not ranked, with the reason
    assert page.index("MJ-ZAGS") < page.index("MLSP")
    assert "not ranked: fewer than 6 cases" in page
    assert "90.0%" in page  # ZAGS's timeliness
    assert '/quality/agency/MJ-ZAGS/?country=zz&amp;period=2026-Q3' in page
    # the default: the latest stored period
    assert "Ranking of Agencies, 2026-Q3" in text(client.get("/quality/"))


def test_ranking_page_answers_bad_input_and_missing_runs(built, client, make_user):
    signed_in(client, make_user("analyst"))
    bad = client.get("/quality/", {"country": "zz", "period": "2026-Q9", "scope": "agency"})
    assert bad.status_code == 400
    assert "Write the period as" in text(bad)
    missing = client.get("/quality/", {"country": "zz", "period": "2026-Q1",
                                       "scope": "agency"})
    assert missing.status_code == 404
    assert "run onestop assess" in text(missing)


def test_unit_page_shows_indicators_and_the_trend(built, client, make_user):
    m = methodology(built.country, "t-1", min_cases=1)
    assess(built.country, m, period="2026-Q2")
    assess(built.country, m, period="2026-Q3")
    signed_in(client, make_user("supervisor", agency_code="MJ-ZAGS", country_code="zz"))
    response = client.get("/quality/agency/MJ-ZAGS/", {"country": "zz", "period": "2026-Q3"})
    assert response.status_code == 200
    page = text(response)
    assert "Timeliness" in page
    assert "/quality/agency/MJ-ZAGS/timeliness/?country=zz&amp;period=2026-Q3" in page
    assert "<polyline" in page
    assert page.index("<th scope=\"row\">2026-Q2</th>") < page.index(
        "<th scope=\"row\">2026-Q3</th>")
    assert "45.0" in page


def test_cases_page_lists_the_late_applications_with_links(built, client, make_user):
    assess(built.country, methodology(built.country, "t-1", min_cases=1))
    signed_in(client, make_user("supervisor", agency_code="MJ-ZAGS", country_code="zz"))
    response = client.get("/quality/agency/MJ-ZAGS/timeliness/",
                          {"country": "zz", "period": "2026-Q3", "flagged": "1"})
    assert response.status_code == 200
    page = text(response)
    z9 = built.apps["z9"].number
    assert f'<a href="/office/{z9}/">{z9}</a>' in page
    assert built.apps["z1"].number not in page
    assert "Of them late: 1." in page
    every = text(client.get("/quality/agency/MJ-ZAGS/timeliness/",
                            {"country": "zz", "period": "2026-Q3"}))
    for i in range(1, 11):
        assert built.apps[f"z{i}"].number in every
    assert "900101300011" not in every


def test_who_may_open_the_pages(built, client, make_user):
    m = methodology(built.country, "t-1", min_cases=1)
    assess(built.country, m)
    assess(built.country, m, scope="operator")
    q = {"country": "zz", "period": "2026-Q3"}
    # anonymous: to the sign-in page
    assert client.get("/quality/").status_code == 302
    signed_in(client, make_user("citizen"))
    assert client.get("/quality/").status_code == 403
    signed_in(client, make_user("supervisor", agency_code="MJ-ZAGS", country_code="zz"))
    ranking = text(client.get("/quality/", {**q, "scope": "agency"}))
    assert "/quality/agency/MJ-ZAGS/" in ranking
    assert "/quality/agency/MLSP/" not in ranking  # no link into another agency
    assert client.get("/quality/agency/MLSP/", q).status_code == 403
    assert client.get("/quality/agency/MLSP/timeliness/", q).status_code == 403
    # operator scope: not a choice, and refused
    assert client.get("/quality/", {**q, "scope": "operator"}).status_code == 400
    assert client.get(f"/quality/operator/{built.op1.pk}/", q).status_code == 403
    signed_in(client, make_user("analyst"))
    operators = client.get("/quality/", {**q, "scope": "operator"})
    assert operators.status_code == 200
    assert f"operator #{built.op1.pk}" in text(operators)
    assert built.op1.username not in text(operators)
    assert client.get(f"/quality/operator/{built.op1.pk}/queue_wait/", q).status_code == 200


def test_header_links_to_quality_for_readers(built, client, make_user):
    signed_in(client, make_user("controller"))
    assert 'href="/quality/"' in text(client.get("/quality/"))
    signed_in(client, make_user("citizen"))
    assert 'href="/quality/"' not in text(client.get("/"))
