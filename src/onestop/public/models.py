"""Models of public monitoring: the precomputed snapshots the public pages read, and the
audit chain's heads published once a day."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from onestop.catalogue.models import Country


class PublicSnapshot(models.Model):
    """One precomputed block of the public site for one country and period.

    `key` names the block ("national", "ranking:agency", "agency:MJ-ZAGS", ...); `data`
    holds only aggregates (no person appears in it: small counts are already suppressed).
    `onestop public refresh` rewrites the blocks of a period; the key "index" (period "")
    says which period the site shows and when it was taken.
    """

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    period = models.CharField(max_length=16, blank=True, default="")
    data = models.JSONField(default=dict)
    taken_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["country", "period", "key"]
        constraints = [
            models.UniqueConstraint(fields=["country", "key", "period"],
                                    name="one_public_snapshot"),
        ]

    def __str__(self) -> str:
        return f"{self.country_id} {self.period} {self.key}"


class PublishedHead(models.Model):
    """The audit chain's head as it was on one day (UTC), published so that anyone who
    kept it can later check that the history before it was not rewritten
    (`onestop audit verify --against SEQUENCE:HASH`)."""

    day = models.DateField(unique=True)
    sequence = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day}: {self.sequence}:{self.hash}"
