"""The register of public services: countries, regions, agencies, life situations,
services and their versioned standards."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone

from onestop.core.calendar import WorkingCalendar, rules_from_pack
from onestop.core.text import localize


class Country(models.Model):
    """A country whose pack is loaded: its languages, time zone, currency and calendar."""

    code = models.CharField(max_length=2, unique=True)
    name = models.JSONField(default=dict)
    languages = models.JSONField(default=list)
    time_zone = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    calendar_rules = models.JSONField(default=dict)
    # what the country calls its national identification number, per language (IIN, PINFL)
    national_id_name = models.JSONField(default=dict, blank=True)
    loaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "countries"

    def __str__(self) -> str:
        return localize(self.name, "en", self.languages) or self.code

    def working_calendar(self) -> WorkingCalendar:
        return WorkingCalendar(rules_from_pack(self.calendar_rules, self.time_zone))


class Region(models.Model):
    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="regions")
    code = models.CharField(max_length=16)
    name = models.JSONField(default=dict)

    class Meta:
        ordering = ["country", "code"]
        constraints = [
            models.UniqueConstraint(fields=["country", "code"], name="region_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.country.code}/{self.code}"


class AgencyKind(models.TextChoices):
    MINISTRY = "ministry", "ministry"
    COMMITTEE = "committee", "committee"
    AGENCY = "agency", "agency"
    LOCAL_EXECUTIVE = "local_executive", "local executive body"
    STATE_CORPORATION = "state_corporation", "state corporation"
    TERRITORIAL_UNIT = "territorial_unit", "territorial unit"
    OTHER = "other", "other"


class Agency(models.Model):
    """A government body that provides services; sub-units point to their parent."""

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="agencies")
    code = models.CharField(max_length=32)
    name = models.JSONField(default=dict)
    kind = models.CharField(max_length=32, choices=AgencyKind.choices, default=AgencyKind.OTHER)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, null=True, blank=True)
    contacts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["country", "code"]
        verbose_name_plural = "agencies"
        constraints = [
            models.UniqueConstraint(fields=["country", "code"], name="agency_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.country.code}/{self.code}"


class LifeSituation(models.Model):
    """A subsection of the register: a situation in a person's life that groups services."""

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="life_situations")
    code = models.CharField(max_length=64)
    number = models.CharField(max_length=2)
    name = models.JSONField(default=dict)
    description = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["country", "number", "code"]
        constraints = [
            models.UniqueConstraint(fields=["country", "code"], name="life_situation_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.country.code}/{self.code}"


class WorkflowDefinition(models.Model):
    """A pack's workflow as data; onestop.applications.workflow validates and runs it."""

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="workflows")
    code = models.CharField(max_length=64)
    definition = models.JSONField()

    class Meta:
        ordering = ["country", "code"]
        constraints = [
            models.UniqueConstraint(fields=["country", "code"], name="workflow_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.country.code}/{self.code}"


class Service(models.Model):
    """A public service in the register; what it promises lives in its standard versions."""

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="services")
    code = models.CharField(max_length=8)
    provider = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="services")
    life_situations = models.ManyToManyField(LifeSituation, related_name="services")
    workflow = models.CharField(max_length=64, default="simple_approval")
    # A proactive service: the issued result of that service starts this one.
    proactive_after = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="starts"
    )
    # Every language of every version's name and description, case-folded, so one
    # word search works the same on SQLite and PostgreSQL.
    search_text = models.TextField(default="", editable=False)

    class Meta:
        ordering = ["country", "code"]
        constraints = [
            models.UniqueConstraint(fields=["country", "code"], name="service_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.country.code}/{self.code}"


class Channel(models.TextChoices):
    PROVIDER_OFFICE = "provider_office", "provider's office"
    CENTRE = "centre", "one-stop-shop centre"
    PORTAL = "portal", "portal"
    MOBILE = "mobile", "mobile app"
    KIOSK = "kiosk", "self-service kiosk"
    PROACTIVE = "proactive", "proactive"


class DeadlineUnit(models.TextChoices):
    WORKING_DAYS = "working_days", "working days"
    HOURS = "hours", "hours"
    MINUTES = "minutes", "minutes"


class FormOfProvision(models.TextChoices):
    ELECTRONIC = "electronic", "electronic"
    PARTLY_AUTOMATED = "partly_automated", "partly automated"
    PAPER = "paper", "paper"
    PROACTIVE = "proactive", "proactive"


class ServiceStandard(models.Model):
    """One version of a service's legal standard, applying from `valid_from`.

    Standards change by law; an application keeps the version it was submitted under,
    so versions are never edited in place once applications refer to them: a change
    is a new version with a later `valid_from`.
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="versions")
    valid_from = models.DateField()
    name = models.JSONField(default=dict)
    description = models.JSONField(default=dict, blank=True)
    legal_basis = models.JSONField(default=dict, blank=True)
    channels = models.JSONField(default=list)
    deadline_value = models.PositiveIntegerField()
    deadline_unit = models.CharField(max_length=16, choices=DeadlineUnit.choices)
    # Limits in a centre's queue and at its counter; absent for services never served
    # in person.
    max_wait_minutes = models.PositiveIntegerField(null=True, blank=True)
    max_service_minutes = models.PositiveIntegerField(null=True, blank=True)
    form = models.CharField(max_length=20, choices=FormOfProvision.choices)
    result = models.JSONField(default=dict)
    fee_amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    fee_note = models.JSONField(default=dict, blank=True)
    fee_payment = models.JSONField(default=list, blank=True)
    schedule = models.JSONField(default=dict, blank=True)
    documents = models.JSONField(default=list, blank=True)
    refusal_grounds = models.JSONField(default=list, blank=True)
    other_requirements = models.JSONField(default=dict, blank=True)
    eform = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["service", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "valid_from"], name="standard_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} from {self.valid_from.isoformat()}"

    @property
    def is_free(self) -> bool:
        return self.fee_amount == 0

    def documents_from(self, source: str) -> list[dict[str, object]]:
        return [doc for doc in self.documents if doc.get("source") == source]

