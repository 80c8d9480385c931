"""Fees are charged before the submission is written and refunded when the writing fails:
money is never kept for an application that does not exist."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from django.db import transaction
from django.test import override_settings

from onestop.accounts.models import User
from onestop.applications import payments, services
from onestop.applications.models import Application, Payment
from onestop.catalogue.models import Country, LifeSituation, Service
from tests.applications.samples import sample_for, uploads


class RecordingGateway:
    """A gateway that records what it was asked; `honours_keys` answers a repeated key
    with the first charge, as real gateways do."""

    name = "recording"
    honours_keys = False
    charges: ClassVar[list[tuple[str, Decimal, str | None]]] = []
    refunds: ClassVar[list[str]] = []
    by_key: ClassVar[dict[str, payments.Charge]] = {}

    def charge(self, *, amount: Decimal, currency: str, description: str,
               idempotency_key: str | None = None) -> payments.Charge:
        if self.honours_keys and idempotency_key in self.by_key:
            return self.by_key[idempotency_key]
        done = payments.Charge(provider=self.name, reference=f"R-{secrets.token_hex(4)}",
                               amount=amount, currency=currency)
        self.charges.append((done.reference, amount, idempotency_key))
        if idempotency_key is not None:
            self.by_key[idempotency_key] = done
        return done

    def refund(self, *, reference: str, amount: Decimal, currency: str) -> None:
        self.refunds.append(reference)


class KeyHonouringGateway(RecordingGateway):
    honours_keys = True


@pytest.fixture(autouse=True)
def gateway() -> Iterator[type[RecordingGateway]]:
    RecordingGateway.charges.clear()
    RecordingGateway.refunds.clear()
    RecordingGateway.by_key.clear()
    with override_settings(
        ONESTOP_PAYMENT_PROVIDER="tests.applications.test_payments.RecordingGateway"
    ):
        yield RecordingGateway


@pytest.fixture
def birth(mini_country: Country) -> Service:
    service = Service.objects.get(country=mini_country, code="01010001")
    assert service.versions.order_by("-valid_from")[0].fee_amount > 0
    return service


@pytest.fixture
def citizen(make_user: Callable[..., User]) -> User:
    return make_user("citizen", national_id="900101300011")


def submit(service: Service, citizen: User, **extra: Any) -> services.Submission:
    return services.submit(service=service, form_data={"child_name": "Aruzhan"},
                           channel="portal", national_id="900101300011", applicant=citizen,
                           submitted_by=citizen, **extra)


def test_a_submission_is_charged_once_and_keeps_the_money(birth: Service,
                                                         citizen: User) -> None:
    application = submit(birth, citizen).application
    [(reference, amount, _)] = RecordingGateway.charges
    payment = Payment.objects.get(application=application)
    assert (payment.reference, payment.amount) == (reference, amount)
    assert amount == application.fee_amount
    assert RecordingGateway.refunds == []


def test_a_submission_that_fails_after_the_charge_refunds_it(
    birth: Service, citizen: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(services, "_record_event", broken)
    with pytest.raises(RuntimeError, match="disk is full"):
        submit(birth, citizen)
    [(reference, _, _)] = RecordingGateway.charges
    assert RecordingGateway.refunds == [reference]
    assert Application.objects.count() == 0
    assert Payment.objects.count() == 0


def test_a_refund_the_gateway_refuses_is_logged_and_the_error_kept(
    birth: Service, citizen: User, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the disk is full")

    def refuse(self: RecordingGateway, **kwargs: object) -> None:
        raise ConnectionError("gateway down")

    monkeypatch.setattr(services, "_record_event", broken)
    monkeypatch.setattr(RecordingGateway, "refund", refuse)
    with pytest.raises(RuntimeError, match="disk is full"):
        submit(birth, citizen)
    [(reference, _, _)] = RecordingGateway.charges
    assert f"charge {reference}" in caplog.text
    assert "could not be refunded" in caplog.text
    assert "900101300011" not in caplog.text


def test_a_retry_keeps_one_payment_whether_or_not_the_gateway_knows_the_key(
    birth: Service, citizen: User
) -> None:
    first = submit(birth, citizen, idempotency_key="k-1")
    again = submit(birth, citizen, idempotency_key="k-1")
    assert again.created is False
    assert again.application.pk == first.application.pk
    # this gateway charged twice: the retry's charge is given back
    assert len(RecordingGateway.charges) == 2
    assert RecordingGateway.refunds == [RecordingGateway.charges[1][0]]
    assert Payment.objects.filter(application=first.application).count() == 1
    [key] = {key for _, _, key in RecordingGateway.charges}
    assert key is not None
    assert "k-1" not in key  # derived from it, not the raw key


def test_a_retry_through_a_gateway_that_honours_keys_refunds_nothing(
    birth: Service, citizen: User
) -> None:
    with override_settings(
        ONESTOP_PAYMENT_PROVIDER="tests.applications.test_payments.KeyHonouringGateway"
    ):
        first = submit(birth, citizen, idempotency_key="k-2")
        again = submit(birth, citizen, idempotency_key="k-2")
    assert again.application.pk == first.application.pk
    assert len(RecordingGateway.charges) == 1
    assert RecordingGateway.refunds == []


def test_charges_inside_a_block_that_fails_later_are_refunded(birth: Service,
                                                              citizen: User) -> None:
    class Later(Exception):
        pass

    def two_submissions_then_a_failure() -> None:
        with payments.refunded_on_failure(), transaction.atomic():
            submit(birth, citizen)
            submit(birth, citizen)
            raise Later

    with pytest.raises(Later):
        two_submissions_then_a_failure()
    assert len(RecordingGateway.charges) == 2
    assert sorted(RecordingGateway.refunds) == sorted(r for r, _, _ in RecordingGateway.charges)
    assert Application.objects.count() == 0


def test_a_bundle_that_fails_on_a_later_service_refunds_the_earlier_fees(
    kz: Country, citizen: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    situation = LifeSituation.objects.get(country=kz, code="birth")
    chosen = [s for s in Service.objects.filter(country=kz, life_situations=situation)
              .order_by("code")
              if {"portal", "mobile"} & set(s.versions.order_by("-valid_from")[0].channels)][:2]
    for service in chosen:
        service.versions.update(fee_amount=Decimal("1725"))
    real_create = services._create
    calls = iter(range(10))

    def fail_second(**kwargs: Any) -> Any:
        if next(calls) == 1:
            raise RuntimeError("the second service's unit is not configured")
        return real_create(**kwargs)

    monkeypatch.setattr(services, "_create", fail_second)
    with pytest.raises(RuntimeError, match="second service"):
        services.submit_bundle(
            life_situation=situation, applicant=citizen, national_id="900101300011",
            forms={s.code: sample_for(s) for s in chosen}, channel="portal",
            documents={s.code: uploads(s) for s in chosen},
        )
    assert len(RecordingGateway.charges) == 2
    assert sorted(RecordingGateway.refunds) == sorted(r for r, _, _ in RecordingGateway.charges)
    assert Application.objects.count() == 0
