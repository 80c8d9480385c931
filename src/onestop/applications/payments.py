"""Paying the fee of a standard through a payment provider.

The provider is an interface so that a country plugs in its payment gateway; the default
`SimulatedProvider` approves every charge, so the demo works offline.

A charge is money moved outside the database: a transaction that rolls back cannot take
it back. So a submission charges before it writes (never while it holds the audit chain's
head or row locks), inside `refunded_on_failure()`: if what follows fails, the charges made
in the block are refunded by the provider (a compensating action), and a charge that the
provider could not refund is logged by its reference for the payments office. Blocks nest:
an inner block that succeeds hands its charges to the outer one, so a bundle that fails on
its third service refunds the first two.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from onestop.applications.errors import ApplicationError
from onestop.applications.models import Application, Payment

logger = logging.getLogger(__name__)


class PaymentDeclined(ApplicationError):
    """402: the provider refused the charge; the message says why. Nothing is submitted."""


@dataclass(frozen=True)
class Charge:
    provider: str
    reference: str
    amount: Decimal = Decimal(0)
    currency: str = ""


class PaymentProvider(Protocol):
    name: str

    def charge(self, *, amount: Decimal, currency: str, description: str,
               idempotency_key: str | None = None) -> Charge:
        """Take the money or raise PaymentDeclined. With `idempotency_key`, a repeated
        call with the same key returns the first charge instead of charging again."""
        ...

    def refund(self, *, reference: str, amount: Decimal, currency: str) -> None: ...


class SimulatedProvider:
    """Approves every charge and refund; references look like a gateway's."""

    name = "simulated"

    def charge(self, *, amount: Decimal, currency: str, description: str,
               idempotency_key: str | None = None) -> Charge:
        if amount <= 0:
            raise PaymentDeclined(_("nothing to charge"))
        return Charge(provider=self.name, reference="SIM-" + secrets.token_hex(8).upper(),
                      amount=amount, currency=currency)

    def refund(self, *, reference: str, amount: Decimal, currency: str) -> None:
        return None


def provider() -> PaymentProvider:
    provider_class = import_string(settings.ONESTOP_PAYMENT_PROVIDER)
    instance: PaymentProvider = provider_class()
    return instance


_made: ContextVar[list[tuple[PaymentProvider, Charge]] | None] = ContextVar(
    "charges_made", default=None)


@contextmanager
def refunded_on_failure() -> Iterator[None]:
    """Refund the charges made inside the block (by `charge`) if it raises; see the
    module's note."""
    made: list[tuple[PaymentProvider, Charge]] = []
    outer = _made.get()
    token = _made.set(made)
    try:
        yield
    except BaseException:
        _made.reset(token)
        for gateway, done in made:
            refund_now(gateway, done)
        raise
    _made.reset(token)
    if outer is not None:
        outer.extend(made)


def charge(*, amount: Decimal, currency: str, description: str,
           idempotency_key: str | None = None) -> tuple[PaymentProvider, Charge]:
    """Charge through the configured provider, remembered for `refunded_on_failure`."""
    gateway = provider()
    done = gateway.charge(amount=amount, currency=currency, description=description,
                          idempotency_key=idempotency_key)
    made = _made.get()
    if made is not None:
        made.append((gateway, done))
    return gateway, done


def refund_now(gateway: PaymentProvider, done: Charge) -> None:
    """Give a charge back; a refund the provider refuses is logged for the payments office
    (the reference only: no personal data) and does not hide the error being handled."""
    try:
        gateway.refund(reference=done.reference, amount=done.amount, currency=done.currency)
    except Exception:
        logger.exception("charge %s (%s %s) could not be refunded: refund it by hand",
                         done.reference, done.amount, done.currency)
    else:
        logger.info("charge %s refunded: the submission it paid for was not made",
                    done.reference)
    made = _made.get()
    if made is not None and (gateway, done) in made:
        made.remove((gateway, done))


def flag_refund(application: Application, reason: str) -> int:
    """Mark the application's paid fee as due for refund (an upheld complaint against an
    unjustified refusal); the refund itself is made by the payments office through the
    provider. Returns how many payments were flagged; those already flagged or refunded
    are left alone, so calling it twice flags once. Call it inside the caller's
    transaction; `reason` goes to the caller's audit entry."""
    return Payment.objects.filter(
        application=application, status=Payment.Status.PAID
    ).update(status=Payment.Status.REFUND_DUE)
