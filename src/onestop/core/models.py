"""The revisions of the data domains that per-process caches depend on
(onestop.core.revisions)."""

from __future__ import annotations

from django.db import models


class Revision(models.Model):
    """A domain's current revision: a random value, replaced by a trigger on every write
    to the domain's tables."""

    domain = models.CharField(max_length=40, primary_key=True)
    value = models.CharField(max_length=40)

    def __str__(self) -> str:
        return f"{self.domain}: {self.value}"
