"""Paying the fee of a standard through a payment provider.

The provider is an interface so that a country plugs in its payment gateway; the default
`SimulatedProvider` approves every charge, so the demo works offline.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from onestop.applications.errors import ApplicationError
from onestop.applications.models import Application, Payment


class PaymentDeclined(ApplicationError):
    """402: the provider refused the charge; the message says why. Nothing is submitted."""


@dataclass(frozen=True)
class Charge:
    provider: str
    reference: str


class PaymentProvider(Protocol):
    name: str

    def charge(self, *, amount: Decimal, currency: str, description: str) -> Charge: ...

    def refund(self, *, reference: str, amount: Decimal, currency: str) -> None: ...


class SimulatedProvider:
    """Approves every charge and refund; references look like a gateway's."""

    name = "simulated"

    def charge(self, *, amount: Decimal, currency: str, description: str) -> Charge:
        if amount <= 0:
            raise PaymentDeclined("nothing to charge")
        return Charge(provider=self.name, reference="SIM-" + secrets.token_hex(8).upper())

    def refund(self, *, reference: str, amount: Decimal, currency: str) -> None:
        return None


def provider() -> PaymentProvider:
    provider_class = import_string(settings.ONESTOP_PAYMENT_PROVIDER)
    instance: PaymentProvider = provider_class()
    return instance


def flag_refund(application: Application, reason: str) -> int:
    """Mark the application's paid fee as due for refund (an upheld complaint against an
    unjustified refusal); the refund itself is made by the payments office through the
    provider. Returns how many payments were flagged; those already flagged or refunded
    are left alone, so calling it twice flags once. Call it inside the caller's
    transaction; `reason` goes to the caller's audit entry."""
    return Payment.objects.filter(
        application=application, status=Payment.Status.PAID
    ).update(status=Payment.Status.REFUND_DUE)
