"""One-stop-shop centres: where citizens meet the state."""

from __future__ import annotations

from django.db import models

from onestop.catalogue.models import Country, Region


class CentreKind(models.TextChoices):
    CENTRE = "centre", "centre"
    BRANCH = "branch", "branch"
    DUTY = "duty", "duty centre"
    SPECIALISED = "specialised", "specialised centre"


class Centre(models.Model):
    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="centres")
    code = models.CharField(max_length=32)
    name = models.JSONField(default=dict)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="centres")
    kind = models.CharField(max_length=16, choices=CentreKind.choices, default=CentreKind.CENTRE)
    address = models.JSONField(default=dict, blank=True)
    counters = models.PositiveIntegerField(default=1)
    # {"monday": ["09:00-18:00"], ...}; a weekday that is absent is closed.
    opening_hours = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["country", "code"]
        constraints = [
            models.UniqueConstraint(fields=["country", "code"], name="centre_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.country.code}/{self.code}"
