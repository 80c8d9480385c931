"""Citizens' ratings of the services they received, and their complaints and appeals.

The rules (criteria, the alert threshold, complaint grounds, the legal deadlines of each
level) are the country's, from the `feedback` section of its pack (FeedbackRules).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from onestop.applications.models import Application
from onestop.catalogue.models import Agency, Country
from onestop.centres.models import Centre, Ticket


class FeedbackRules(models.Model):
    """The `feedback` section of a country's pack."""

    country = models.OneToOneField(Country, on_delete=models.CASCADE, related_name="feedback")
    # [{"code": "legality", "name": {...}}, ...]: each rating scores every criterion 1-5
    criteria = models.JSONField(default=list)
    # a rating whose lowest score is at or below this goes to the supervisor and control
    alert_at_or_below = models.PositiveSmallIntegerField(default=3)
    # a citizen may change their rating for this many days
    change_days = models.PositiveIntegerField(default=7)
    anonymous_complaints = models.BooleanField(default=False)
    # [{"code": "unjustified_refusal", "name": {...}, "subjects": ["application"]}, ...]
    grounds = models.JSONField(default=list)
    # {"provider": {"value": 5, "unit": "working_days"}, "control": {...}}
    deadlines = models.JSONField(default=dict)
    # the longest extension, in calendar days, and how soon the citizen must be told
    max_extension_days = models.PositiveIntegerField(default=60)
    extension_notice = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"feedback rules of {self.country.code}"


class RatingChannel(models.TextChoices):
    PORTAL = "portal", "portal"
    NOTIFICATION = "notification", "link in a notification"
    RECEIPT = "receipt", "QR code on the receipt"
    KIOSK = "kiosk", "kiosk"
    API = "api", "API"


class Rating(models.Model):
    """One citizen's rating of one completed application or one served ticket."""

    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, null=True, blank=True, related_name="ratings"
    )
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, null=True, blank=True, related_name="ratings"
    )
    # who is rated, copied at rating time so indicators need no joins
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="ratings"
    )
    centre = models.ForeignKey(
        Centre, on_delete=models.PROTECT, null=True, blank=True, related_name="ratings"
    )
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="ratings",
    )
    channel = models.CharField(max_length=16, choices=RatingChannel.choices)
    scores = models.JSONField(default=dict)  # {"legality": 5, "timeliness": 3, ...}
    mean = models.DecimalField(max_digits=3, decimal_places=2)
    lowest = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, default="")
    # an opaque hash of the device or network the rating came from (integrity checks)
    device = models.CharField(max_length=64, blank=True, default="", db_index=True)
    alert = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"], condition=Q(application__isnull=False),
                name="one_rating_per_application",
            ),
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(ticket__isnull=False),
                name="one_rating_per_ticket",
            ),
            models.CheckConstraint(
                condition=Q(application__isnull=False) | Q(ticket__isnull=False),
                name="rating_has_a_subject",
            ),
        ]
        indexes = [models.Index(fields=["agency", "created_at"], name="rating_agency")]

    def __str__(self) -> str:
        return f"rating {self.pk} ({self.mean})"


class ComplaintSubject(models.TextChoices):
    APPLICATION = "application", "an application"
    AGENCY = "agency", "an agency"
    CENTRE = "centre", "a centre"
    OPERATOR = "operator", "an operator or officer"


class ComplaintLevel(models.TextChoices):
    PROVIDER = "provider", "the service provider"
    CONTROL = "control", "the quality-control body"


class ComplaintState(models.TextChoices):
    REGISTERED = "registered", "registered"
    IN_REVIEW = "in_review", "in review"
    DECIDED = "decided", "decided"
    ESCALATED = "escalated", "escalated to the control body"
    WITHDRAWN = "withdrawn", "withdrawn"


class ComplaintDecision(models.TextChoices):
    UPHELD = "upheld", "upheld"
    PARTLY_UPHELD = "partly_upheld", "partly upheld"
    REJECTED = "rejected", "rejected"


class Complaint(models.Model):
    """A complaint at one level. Escalation opens a new complaint at the control level
    pointing back to this one, so each level keeps its own deadline and decision."""

    number = models.CharField(max_length=32, unique=True)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=16, choices=ComplaintLevel.choices)
    subject = models.CharField(max_length=16, choices=ComplaintSubject.choices)
    ground = models.CharField(max_length=64)  # a code from FeedbackRules.grounds
    text = models.TextField()
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints"
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints"
    )
    centre = models.ForeignKey(
        Centre, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints"
    )
    # the operator or officer complained about
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="complaints_about",
    )
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="complaints",
    )
    state = models.CharField(
        max_length=16, choices=ComplaintState.choices, default=ComplaintState.REGISTERED
    )
    registered_at = models.DateTimeField()
    deadline_at = models.DateTimeField()
    extended_to = models.DateTimeField(null=True, blank=True)
    extension_reason = models.TextField(blank=True, default="")
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="complaints_handled",
    )
    decision = models.CharField(
        max_length=16, choices=ComplaintDecision.choices, blank=True, default=""
    )
    decision_reason = models.TextField(blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    escalated_from = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="escalation"
    )

    class Meta:
        ordering = ["-registered_at"]
        indexes = [
            models.Index(fields=["state", "deadline_at"], name="complaint_open"),
            models.Index(fields=["agency", "registered_at"], name="complaint_agency"),
        ]

    def __str__(self) -> str:
        return self.number


class ComplaintEvent(models.Model):
    """Append-only history of a complaint: registered, assigned, extended, decided, ..."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    action = models.CharField(max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.action}"
