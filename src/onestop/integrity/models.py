"""Models of integrity and optimisation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from onestop.catalogue.models import Country

# --------------------------------------------------------------------------- red flags


class FlagRun(models.Model):
    """One computation of every red flag of one country for one period, with the
    version of the pack's integrity.yaml it used and where the data was read."""

    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    period = models.CharField(max_length=16)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    config_version = models.CharField(max_length=64)
    config_sha256 = models.CharField(max_length=64)
    source = models.CharField(max_length=300)  # "live:sqlite", "lake:/path"
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.country_id} red flags {self.period} ({self.created_at:%Y-%m-%d %H:%M})"


class FlagResult(models.Model):
    """One raised flag of one subject (an officer, operator, citizen account, unit or
    centre) in a run: the value, its z against peers doing the same service, the number
    of cases and peers, the risk points, and the ids of the records that raised it."""

    run = models.ForeignKey(FlagRun, on_delete=models.CASCADE, related_name="results")
    subject_kind = models.CharField(max_length=16)
    subject_id = models.BigIntegerField()
    flag = models.CharField(max_length=32)
    service_id = models.BigIntegerField(null=True, blank=True)  # the peers' service
    agency_id = models.BigIntegerField(null=True, blank=True)  # for scoping and filters
    region_id = models.BigIntegerField(null=True, blank=True)
    value = models.FloatField()
    z = models.FloatField()
    n = models.PositiveIntegerField()
    hits = models.PositiveIntegerField()
    peers_n = models.PositiveIntegerField()
    score = models.FloatField()
    evidence = models.JSONField(default=dict)  # {"applications": [ids], "tickets": [...]}

    class Meta:
        ordering = ["-score", "pk"]
        indexes = [
            models.Index(fields=["run", "subject_kind", "subject_id"], name="flag_subject"),
            models.Index(fields=["run", "flag"], name="flag_code"),
        ]

    def __str__(self) -> str:
        return f"{self.flag} {self.subject_kind}:{self.subject_id} z={self.z:.1f}"


# --------------------------------------------------------------------------- case files


class CaseOutcome(models.TextChoices):
    OPEN = "", "open"
    NO_ISSUE = "no_issue", "no issue found"
    INSPECTION = "inspection", "inspection ordered"
    REFERRED = "referred", "referred"


class CaseFile(models.Model):
    """The control body's file on one flagged subject (a person, citizen account, unit or
    centre): its notes and the outcome a controller decided, with the reason."""

    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    subject_kind = models.CharField(max_length=16)
    subject_id = models.BigIntegerField()
    outcome = models.CharField(max_length=16, choices=CaseOutcome.choices, blank=True,
                               default="")
    outcome_reason = models.TextField(blank=True, default="")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["country", "subject_kind", "subject_id"],
                                    name="case_file_subject_unique"),
        ]

    def __str__(self) -> str:
        return f"case {self.subject_kind}:{self.subject_id} ({self.outcome or 'open'})"


class CaseNote(models.Model):
    """A controller's note in a case file."""

    case = models.ForeignKey(CaseFile, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"note {self.pk} on {self.case_id}"
