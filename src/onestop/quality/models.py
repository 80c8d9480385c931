"""Assessment methodologies (versions read from the country pack) and assessment runs."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from onestop.catalogue.models import Country


class Methodology(models.Model):
    """One version of a country's assessment methodology, as the pack defined it.

    A version is never changed once stored: a pack that changes a methodology must give
    it a new version (`onestop assess` refuses a changed definition under an old one).
    """

    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="methodologies")
    version = models.CharField(max_length=32)
    definition = models.JSONField()
    sha256 = models.CharField(max_length=64)
    example = models.BooleanField(default=False)
    loaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["country", "-loaded_at"]
        verbose_name_plural = "methodologies"
        constraints = [
            models.UniqueConstraint(fields=["country", "version"], name="methodology_version"),
        ]

    def __str__(self) -> str:
        return f"{self.country.code} methodology {self.version}"


class Scope(models.TextChoices):
    AGENCY = "agency", "agency"
    REGION = "region", "region"
    CENTRE = "centre", "centre"
    SERVICE = "service", "service"
    OPERATOR = "operator", "operator"


class AssessmentRun(models.Model):
    """One computation of every indicator and score for one period and scope.

    It records what is needed to compute it again: the methodology version, the window
    [starts_at, ends_at), `as_of` (outcomes known by then count: complaint decisions,
    overturned refusals), and where the data was read (`source`). `results_sha256` is the
    hash of the results, so a reproduction can be compared in one step.
    """

    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    methodology = models.ForeignKey(Methodology, on_delete=models.PROTECT, related_name="runs")
    period = models.CharField(max_length=16)  # "2026-Q3", "2026-07", "2026-H2", "2026"
    scope = models.CharField(max_length=16, choices=Scope.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    as_of = models.DateTimeField()
    source = models.CharField(max_length=300)  # "live:sqlite", "lake:/path"
    created_at = models.DateTimeField(default=timezone.now)
    reproduces = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reproductions"
    )
    results_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["country", "period", "scope"], name="run_period")]

    def __str__(self) -> str:
        return f"assessment {self.pk} {self.country.code} {self.period} by {self.scope}"


class AssessmentResult(models.Model):
    """One unit of a run: its cases, indicator values (with the n behind each) and the
    counts they came from, the score, the band and the rank (None when not ranked)."""

    run = models.ForeignKey(AssessmentRun, on_delete=models.CASCADE, related_name="results")
    unit_id = models.BigIntegerField()
    unit_code = models.CharField(max_length=64)  # the agency/region/centre/service code
    n = models.PositiveIntegerField()
    ranked = models.BooleanField()
    rank = models.PositiveIntegerField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    band = models.CharField(max_length=32, blank=True, default="")
    penalty = models.FloatField(default=0)
    values = models.JSONField(default=dict)  # {"timeliness": {"value": 0.9, "n": 10}, ...}
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["run", "rank", "unit_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "unit_id"], name="one_result_per_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.unit_code}: {self.score}"
