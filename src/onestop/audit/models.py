"""The audit chain's tables: one row per entry, numbered without gaps, each hash covering
the one before (onestop.audit.chain), and the one-row head that appends lock. Entries are
only ever inserted, by `services.record`; on PostgreSQL a trigger refuses UPDATE and
DELETE on them (onestop.audit.sql)."""

from __future__ import annotations

from django.db import models

from onestop.audit.chain import Record


class AuditEntry(models.Model):
    """Who (username and role, no foreign key: deleting a user never breaks the chain) did
    what (`action`, e.g. "application.submitted") to which subject, when, with the facts of
    the change in `data`."""

    sequence = models.BigIntegerField(primary_key=True)
    recorded_at = models.DateTimeField()
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=100)
    subject_type = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=128, blank=True)
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="audit_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.subject_type} {self.subject_id}"

    def as_record(self) -> Record:
        return Record(*(getattr(self, name) for name in Record._fields))


class ChainHead(models.Model):
    """The last entry's sequence and hashes, in a single row (id 1).

    Appending locks this row (PostgreSQL: the UPDATE that advances it), so appends queue
    here and never chain onto the same entry. It is a copy, not the truth: verification
    walks the entries, and checks the chain reaches this head (a tail cut off without
    updating it shows). Re-created from the last entry when missing.
    """

    id = models.PositiveSmallIntegerField(primary_key=True)
    sequence = models.BigIntegerField()
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="audit_chainhead_one_row"),
        ]

    def __str__(self) -> str:
        return f"{self.sequence}:{self.hash}"
