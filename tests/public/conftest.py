"""The hand-built history of tests/quality/history.py, assessed by agency, region and
service for 2026-Q2 and 2026-Q3, and the public snapshots refreshed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from onestop.accounts.models import User
from onestop.catalogue.models import Country, Service
from onestop.public import services
from tests.quality import history
from tests.quality.test_rankings_api import assess, methodology

NOW = datetime(2026, 10, 15, 2, tzinfo=UTC)
PERSON = {
    "name": "Aigerim Testova", "national_id": "870412450123", "phone": "+77015550123",
    "email": "aigerim.testova@example.org",
}


def assess_all(country: Country, *, min_cases: int = 6) -> None:
    m = methodology(country, "t-6", min_cases=min_cases)
    for period in ("2026-Q2", "2026-Q3"):
        for scope in ("agency", "region", "service"):
            assess(country, m, period=period, scope=scope)


@pytest.fixture
def built(mini_country: Country, make_user: Callable[..., User]) -> history.History:
    op1 = make_user("operator", country_code="zz", centre_code="AST-01")
    op2 = make_user("operator", country_code="zz", centre_code="AST-01")
    return history.build(mini_country, op1, op2)


@pytest.fixture
def refreshed(built: history.History) -> history.History:
    assess_all(built.country)
    services.refresh(built.country, now=NOW)
    return built


@pytest.fixture
def with_person(built: history.History, make_user: Callable[..., User]) -> history.History:
    """An application carrying an applicant's name, ID, phone and email, rated with a
    comment, and a citizen account with the same details."""
    service = Service.objects.get(country=built.country, code="01010001")
    app = history.application(built.country, service, submitted=history.jul(4),
                              deadline=history.jul(14), completed=history.jul(6),
                              outcome="issued")
    app.applicant_national_id = PERSON["national_id"]
    app.applicant_name = PERSON["name"]
    app.applicant_phone = PERSON["phone"]
    app.applicant_email = PERSON["email"]
    app.save()
    rating = history.rating(app, {"legality": 5, "timeliness": 5}, history.jul(7))
    rating.comment = f"{PERSON['name']} {PERSON['phone']}"
    rating.save()
    citizen = make_user("citizen", national_id=PERSON["national_id"])
    citizen.email, citizen.first_name, citizen.last_name = PERSON["email"], "Aigerim", "Testova"
    citizen.save()
    app.applicant = citizen
    app.save()
    assess_all(built.country)
    services.refresh(built.country, now=NOW)
    return built
