"""Applications for public services, their append-only event log, documents and payments."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from onestop.catalogue.models import (
    Agency,
    Country,
    LifeSituation,
    Region,
    Service,
    ServiceStandard,
)
from onestop.centres.models import Centre


class Channel(models.TextChoices):
    PORTAL = "portal", "portal"
    CENTRE = "centre", "one-stop-shop centre"
    API = "api", "API"
    PROACTIVE = "proactive", "proactive"
    OPEN311 = "open311", "Open311"
    GOVSTACK = "govstack", "GovStack"


class Bundle(models.Model):
    """Several services applied for at once for one life situation ("one application")."""

    number = models.CharField(max_length=32, unique=True)
    country = models.ForeignKey(Country, on_delete=models.PROTECT)
    life_situation = models.ForeignKey(LifeSituation, on_delete=models.PROTECT)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bundles"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.number


class Application(models.Model):
    """One application for one service, from submission to its result.

    The deadline is derived from the standard's version, the country calendar and the
    clock's pauses (recorded as events); `deadline_at` and `stopped_seconds` keep the
    result for fast inbox queries and are rewritten whenever the clock moves.
    """

    number = models.CharField(max_length=32)  # unique: see Meta.constraints
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="applications")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="applications")
    standard = models.ForeignKey(
        ServiceStandard, on_delete=models.PROTECT, related_name="applications"
    )
    workflow = models.CharField(max_length=64)
    state = models.CharField(max_length=64)  # indexed with the agency: inbox_open_idx
    channel = models.CharField(max_length=16, choices=Channel.choices)

    # who applies: a citizen's account when there is one, and always the national ID
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="applications", db_index=False,  # cabinet_idx leads with it
    )
    applicant_national_id = models.CharField(max_length=32)  # applicant_nid_idx
    applicant_name = models.CharField(max_length=200, blank=True, default="")
    applicant_phone = models.CharField(max_length=32, blank=True, default="")
    applicant_email = models.EmailField(blank=True, default="")
    form_data = models.JSONField(default=dict)

    # where it came in and where it goes
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="submitted_applications",
        db_index=False,  # submission_idempotency leads with it
    )
    centre = models.ForeignKey(
        Centre, on_delete=models.PROTECT, null=True, blank=True, related_name="applications"
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, null=True, blank=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="applications",
                               db_index=False)  # inbox_open_idx leads with it
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="assigned_applications",
    )

    # time
    submitted_at = models.DateTimeField(db_index=True)
    deadline_at = models.DateTimeField(db_index=True)
    clock_stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_seconds = models.PositiveBigIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)

    # outcome
    outcome = models.CharField(max_length=16, blank=True, default="")
    refusal_ground = models.CharField(max_length=64, blank=True, default="")
    refusal_reason = models.TextField(blank=True, default="")

    fee_amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    bundle = models.ForeignKey(
        Bundle, on_delete=models.PROTECT, null=True, blank=True, related_name="applications"
    )
    started_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="started",
        help_text="the application whose event started this one (proactive services)",
    )
    # NULL, not "": the unique constraint must not treat key-less submissions as equal.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    # what was asked under that key, so a reused key with another request is refused
    request_hash = models.CharField(max_length=64, blank=True, default="")

    # demo data, kept out of the citizen's form data
    demo_batch = models.CharField(
        max_length=64, blank=True, default="",
        help_text="the `onestop demo` run (batch) that generated this application; empty "
                  "for real applications",
    )
    planted_flag = models.CharField(
        max_length=40, blank=True, default="",
        help_text="the red flag this application was planted for by `onestop demo "
                  "--anomalies`; empty otherwise",
    )

    class Meta:
        ordering = ["-submitted_at"]
        # The busiest table: every index is written by every submission, so none is
        # covered by another, and none is the pattern-matching twin PostgreSQL gets for
        # a `unique` or `db_index` text field (no query matches numbers, states or IDs
        # by prefix).
        indexes = [
            # the agency's open applications (outcome still empty), the inbox's rows: a
            # year of history holds a hundred closed ones for each open one
            models.Index(fields=["agency", "outcome", "state", "deadline_at"],
                         name="inbox_open_idx"),
            models.Index(fields=["applicant", "submitted_at"], name="cabinet_idx"),
            models.Index(fields=["applicant_national_id"], name="applicant_nid_idx"),
            # only demo rows: `onestop demo --replace` and --skip-existing find them
            # without scanning the real ones
            models.Index(fields=["demo_batch"], name="demo_batch_idx",
                         condition=~Q(demo_batch="")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="application_number_unique"),
            models.UniqueConstraint(
                fields=["submitted_by", "idempotency_key"], name="submission_idempotency"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return not self.outcome


class ApplicationEvent(models.Model):
    """One step in an application's life: append-only (a trigger refuses changes on
    PostgreSQL), the source every indicator is computed from."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=64)
    from_state = models.CharField(max_length=64, blank=True, default="")
    to_state = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    actor_role = models.CharField(max_length=16)
    clock = models.CharField(max_length=8, blank=True, default="")  # "stop" | "resume" | ""
    comment = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.action} {self.from_state}->{self.to_state}"


def document_path(instance: ApplicationDocument, filename: str) -> str:
    # No personal data in file paths: the number and a random-looking stored name only.
    return f"applications/{instance.application.number}/{instance.sha256[:16]}-{instance.code}"


class ApplicationDocument(models.Model):
    class Kind(models.TextChoices):
        SUBMITTED = "submitted", "submitted by the applicant"
        RESULT = "result", "result of the service"

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    code = models.CharField(max_length=64)
    file = models.FileField(upload_to=document_path)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return f"{self.application_id}/{self.code}"


class Payment(models.Model):
    class Status(models.TextChoices):
        PAID = "paid", "paid"
        REFUND_DUE = "refund_due", "refund due"
        REFUNDED = "refunded", "refunded"

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=32)
    reference = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices)
    paid_at = models.DateTimeField()
    refunded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.reference



class Draft(models.Model):
    """A citizen's unfinished application form, saved to be resumed later."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts"
    )
    service = models.ForeignKey(Service, on_delete=models.CASCADE)
    form_data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"draft {self.pk} of {self.service}"


class ProactiveOffer(models.Model):
    """A service the state starts by itself after another one's result (a birth record
    starts the child benefit); the citizen only confirms or declines."""

    class Status(models.TextChoices):
        OFFERED = "offered", "offered"
        CONFIRMED = "confirmed", "confirmed"
        DECLINED = "declined", "declined"

    source = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="offers")
    service = models.ForeignKey(Service, on_delete=models.PROTECT)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    form_data = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OFFERED)
    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, null=True, blank=True, related_name="offer"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "service"], name="one_offer_per_source"),
        ]

    def __str__(self) -> str:
        return f"offer of {self.service} after {self.source}"
