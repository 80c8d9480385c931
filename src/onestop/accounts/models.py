"""Users, their role and scope, and API tokens."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from onestop.accounts.roles import STAFF_ROLES, Role
from onestop.catalogue.models import Agency
from onestop.centres.models import Centre


class User(AbstractUser):
    """Anyone who signs in: a citizen, or staff scoped to an agency or a centre."""

    role = models.CharField(
        max_length=16, choices=[(r.value, r.value) for r in Role], default=Role.CITIZEN
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    centre = models.ForeignKey(
        Centre, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    national_id = models.CharField(max_length=32, blank=True, default="")
    # Where messages about the user's applications go when an application gives no
    # address of its own: e-mail (AbstractUser.email) first, else this mobile phone by SMS.
    phone = models.CharField(max_length=32, blank=True, default="")

    @property
    def is_citizen(self) -> bool:
        return self.role == Role.CITIZEN

    @property
    def is_staff_member(self) -> bool:
        return self.role in STAFF_ROLES


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 hash is stored; the key is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="api")
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    def is_active(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


class ContactConfirmation(models.Model):
    """A new e-mail address or mobile phone waiting for the code sent to it: a user's
    contact changes only once they type the code, so a mistyped number never receives
    what onestop writes about them. Only a keyed hash of the code is kept."""

    class Field(models.TextChoices):
        EMAIL = "email", "e-mail"
        PHONE = "phone", "mobile phone"

    user = models.ForeignKey(User, on_delete=models.CASCADE,
                             related_name="contact_confirmations")
    field = models.CharField(max_length=8, choices=Field.choices)
    address = models.CharField(max_length=254)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"], name="contact_confirmation_idx")]

    def __str__(self) -> str:
        return f"{self.field} of user {self.user_id}"
