"""Models of GovStack Registration: the member systems that call the façade, the
GovStack identifiers of onestop records, and documents uploaded before an application."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from onestop.applications.models import Application
from onestop.catalogue.models import Service, ServiceStandard


class Member(models.Model):
    """A member system of the information mediator (its Information-Mediator-Client
    identifier, INSTANCE/CLASS/MEMBER/SUBSYSTEM) and the onestop account it acts as.

    Only consulted when the façade is served behind the mediator's security server
    (`onestop serve --govstack`), which authenticates the member; `is_default` is the
    member assumed for calls that carry no header."""

    client = models.CharField(max_length=200, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="govstack_members"
    )
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["client"]

    def __str__(self) -> str:
        return self.client


class Kind(models.TextChoices):
    SERVICE = "service", "service"
    EFORM = "eform", "e-form"
    FILE = "file", "application file"
    TASK = "task", "task"


class ExternalId(models.Model):
    """A GovStack identifier given to a onestop record (records without one use the
    derived identifiers of onestop.govstack.ids). `data` keeps what GovStack says about the
    record and onestop has no field for (an application's applicantId and name, a
    task's step, a service's registration name)."""

    kind = models.CharField(max_length=16, choices=Kind.choices)
    external_id = models.CharField(max_length=100)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, null=True, blank=True)
    standard = models.ForeignKey(
        ServiceStandard, on_delete=models.CASCADE, null=True, blank=True
    )
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, null=True, blank=True,
        related_name="govstack_ids",
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "external_id"], name="govstack_id_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.external_id}"


def upload_path(instance: Upload, filename: str) -> str:
    return f"govstack/uploads/{instance.pk}"


class Upload(models.Model):
    """A document uploaded through POST /documents, to be referred to by its URL when an
    application is submitted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file = models.FileField(upload_to=upload_path)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    metadata = models.CharField(max_length=500, blank=True, default="")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return str(self.pk)
