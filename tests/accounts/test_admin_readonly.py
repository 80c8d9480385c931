"""The admin's read-only screens (ratings, complaints, violations, the outbox, Open311
keys and requests): admins read them, nobody edits there, other roles do not see them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib import admin
from django.test import Client

from onestop.accounts.admin_readonly import ReadOnlyAdmin
from onestop.accounts.models import User
from onestop.catalogue.models import Country

READ_ONLY = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model, model_admin in admin.site._registry.items()
    if isinstance(model_admin, ReadOnlyAdmin)
)


def test_the_read_only_screens_are_the_expected_ones() -> None:
    assert {("control", "violation"), ("feedback", "rating"), ("feedback", "complaint"),
            ("notifications", "message"), ("open311", "apikey")} <= set(READ_ONLY)


@pytest.mark.parametrize(("app", "model"), READ_ONLY)
def test_admins_read_and_nobody_adds_or_changes(
    app: str, model: str, make_user: Callable[..., User], mini_country: Country
) -> None:
    admin_user = make_user("admin")
    admin_user.is_staff = True
    admin_user.save()
    client = Client()
    client.force_login(admin_user)
    assert client.get(f"/admin/{app}/{model}/").status_code == 200
    assert client.get(f"/admin/{app}/{model}/add/").status_code == 403

    supervisor = make_user("supervisor", agency_code="MJ", country_code="zz")
    supervisor.is_staff = True
    supervisor.save()
    other = Client()
    other.force_login(supervisor)
    assert other.get(f"/admin/{app}/{model}/").status_code == 403
