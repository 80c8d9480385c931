"""`onestop control scan`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from onestop.applications.models import Application
from onestop.catalogue.models import Country
from onestop.control.models import Violation
from tests.control.conftest import MONDAY

pytestmark = pytest.mark.django_db


def test_the_scan_command_is_idempotent(
    mini_country: Country, make_app: Callable[..., Application]
) -> None:
    make_app(submitted_at=MONDAY - timedelta(days=400),
             deadline_at=MONDAY - timedelta(days=390))  # long past by the real clock
    out = StringIO()
    call_command("control", "scan", "--country", "zz", stdout=out)
    assert "zz: new violations: 1 (deadline_missed 1)" in out.getvalue()
    call_command("control", "scan", stdout=out)
    assert "zz: new violations: 0; notices queued: 0" in out.getvalue()
    assert Violation.objects.count() == 1


def test_an_unknown_country(mini_country: Country) -> None:
    with pytest.raises(CommandError, match="no country 'qq'"):
        call_command("control", "scan", "--country", "qq")
