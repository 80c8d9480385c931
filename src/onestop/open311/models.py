"""Models of Open311 GeoReport v2: the API keys of machine clients, and the service
requests those clients filed (each one a onestop application or complaint)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from onestop.applications.models import Application
from onestop.catalogue.models import Country
from onestop.feedback.models import Complaint


class ApiKey(models.Model):
    """A key a machine client (an Open311 app, later other integrations) presents. Only
    the SHA-256 hash of the key is stored; the key itself is shown once, at creation."""

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ServiceRequest(models.Model):
    """One Open311 service request: the application or the complaint it created.

    `public_id` is the Open311 service_request_id. It is not the onestop number on
    purpose: a onestop number with its access code opens the case, while Open311
    requests are public; the feed never shows onestop numbers. `token` answers the
    spec's GET tokens/{token}.
    """

    public_id = models.CharField(max_length=16, unique=True)
    token = models.CharField(max_length=32, unique=True)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    service_code = models.CharField(max_length=80)
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="requests")
    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, null=True, blank=True,
        related_name="open311_request",
    )
    complaint = models.OneToOneField(
        Complaint, on_delete=models.PROTECT, null=True, blank=True,
        related_name="open311_request",
    )
    requested_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(application__isnull=False, complaint__isnull=True)
                           | Q(application__isnull=True, complaint__isnull=False)),
                name="open311_request_is_one_case",
            ),
        ]
        indexes = [models.Index(fields=["country", "requested_at"], name="open311_feed")]

    def __str__(self) -> str:
        return self.public_id
