"""Violations of the service standards, found by periodic scans or recorded by hand.

Each violation is recorded once: `key` names what was violated (e.g. the deadline of
one application), so a scan run twice finds the same rows and adds nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from onestop.applications.models import Application
from onestop.catalogue.models import Agency, Country
from onestop.centres.models import Centre, Ticket
from onestop.feedback.models import Complaint


class ViolationKind(models.TextChoices):
    DEADLINE_MISSED = "deadline_missed", _("deadline missed")
    DEADLINE_NEAR = "deadline_near", _("deadline near")
    STAGE_OVERDUE = "stage_overdue", _("stage over its time limit")
    WAIT_OVER = "wait_over", _("wait over the standard")
    COUNTER_TIME_OVER = "counter_time_over", _("time at the counter over the standard")
    COMPLAINT_OVERDUE = "complaint_overdue", _("complaint answered late")
    REFUSAL_GROUND = "refusal_ground", _("refusal on a ground not in the standard")
    EXTRA_DOCUMENTS = "extra_documents", _("documents requested beyond the standard")
    UNJUSTIFIED_REFUSAL = "unjustified_refusal", _("unjustified refusal")


class FoundBy(models.TextChoices):
    SELF = "self", "the agency itself (internal control)"
    CONTROL = "control", "the control body"


class ViolationState(models.TextChoices):
    OPEN = "open", "open"
    ACKNOWLEDGED = "acknowledged", "acknowledged"
    EXPLAINED = "explained", "explained"
    PENALISED = "penalised", "penalised"
    CLOSED = "closed", "closed"


class Violation(models.Model):
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=32, choices=ViolationKind.choices)
    key = models.CharField(max_length=128, unique=True)  # e.g. "deadline_missed:app:123"
    found_at = models.DateTimeField()
    found_by = models.CharField(max_length=16, choices=FoundBy.choices)
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, null=True, blank=True, related_name="violations"
    )
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, null=True, blank=True, related_name="violations"
    )
    complaint = models.ForeignKey(
        Complaint, on_delete=models.PROTECT, null=True, blank=True, related_name="violations"
    )
    # the responsible unit and person
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="violations"
    )
    centre = models.ForeignKey(
        Centre, on_delete=models.PROTECT, null=True, blank=True, related_name="violations"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="violations",
    )
    detail = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=16, choices=ViolationState.choices, default=ViolationState.OPEN
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-found_at"]
        indexes = [
            models.Index(fields=["agency", "found_at"], name="violation_agency"),
            # the control body's list, the newest first, read a page at a time from a year
            # of them (hundreds of thousands)
            models.Index(fields=["found_at", "id"], name="violation_found"),
            models.Index(fields=["kind", "state"], name="violation_kind"),
        ]

    def __str__(self) -> str:
        return self.key
