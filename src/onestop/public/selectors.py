"""Reads of the public site: the stored snapshots (one query each) and the published
audit heads. Nothing here computes figures; `onestop public refresh` does."""

from __future__ import annotations

from typing import Any

from onestop.catalogue.models import Country
from onestop.public.models import PublicSnapshot, PublishedHead


def index(country: Country) -> dict[str, Any] | None:
    """The index of the latest refresh (period, time taken, the units with pages)."""
    row = PublicSnapshot.objects.filter(country=country, key="index", period="").first()
    return row.data if row else None


def block(country: Country, period: str, key: str) -> dict[str, Any] | None:
    row = PublicSnapshot.objects.filter(country=country, key=key, period=period).first()
    return row.data if row else None


def heads() -> list[PublishedHead]:
    """The published daily heads of the audit chain, the latest first."""
    return list(PublishedHead.objects.order_by("-day"))
