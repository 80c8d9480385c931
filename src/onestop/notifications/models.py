"""The outbox: one row per message to send, written in the transaction of the change it
announces, and moved through its delivery states by the worker."""

from __future__ import annotations

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class Channel(models.TextChoices):
    EMAIL = "email", "email"
    SMS = "sms", "SMS"
    WEBHOOK = "webhook", "webhook"
    FILE = "file", "file"


class Status(models.TextChoices):
    QUEUED = "queued", "queued"
    SENDING = "sending", "sending"
    SENT = "sent", "sent"
    FAILED = "failed", "failed (will retry)"
    DEAD = "dead", "dead (gave up)"


# Statuses the worker still has to look at; the due index covers only these rows, so it
# stays small however many sent messages the table keeps.
PENDING = (Status.QUEUED, Status.SENDING, Status.FAILED)


class Message(models.Model):
    """A message to one recipient, rendered from a template when it is sent.

    `recipient` (an address, a phone number or an agency's URL) and `context` are personal
    data: they are never logged, never put in a URL and never copied into `last_error`.
    The idempotency key goes with every delivery attempt, so a channel that honours it
    delivers a retried message once.
    """

    channel = models.CharField(max_length=16, choices=Channel.choices)
    recipient = models.CharField(max_length=500)
    template = models.CharField(max_length=64)
    language = models.CharField(max_length=8)
    context = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    subject_type = models.CharField(max_length=32, blank=True, default="")
    subject_id = models.CharField(max_length=64, blank=True, default="")
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True, default="")
    last_error = models.CharField(max_length=500, blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "status"],
                name="notifications_due",
                condition=models.Q(status__in=PENDING),
            ),
            models.Index(fields=["subject_type", "subject_id"], name="notifications_subject"),
        ]

    def __str__(self) -> str:
        # No recipient: this string shows up in the admin and in logs.
        return f"{self.channel} {self.template} #{self.pk}"
