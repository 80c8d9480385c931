"""Write use cases of the register: loading a country pack, publishing a standard version."""

from __future__ import annotations

import collections
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.db import models, transaction

from onestop.accounts.models import User
from onestop.accounts.roles import Role
from onestop.catalogue.models import (
    Agency,
    Country,
    LifeSituation,
    Region,
    Service,
    ServiceStandard,
    WorkflowDefinition,
)
from onestop.catalogue.packs import Pack
from onestop.catalogue.selectors import agencies_in_scope, standard_in_force
from onestop.centres.models import (
    Centre,
    Counter,
    PriorityCategory,
    QueueSettings,
    ServiceGroup,
)
from onestop.core.text import searchable
from onestop.feedback.models import FeedbackRules

M = TypeVar("M", bound=models.Model)


@dataclass
class LoadReport:
    """What loading a pack did, per kind of record: created, updated, unchanged."""

    country: str
    counts: dict[str, collections.Counter[str]] = field(default_factory=dict)

    def add(self, kind: str, outcome: str) -> None:
        self.counts.setdefault(kind, collections.Counter())[outcome] += 1

    @property
    def changed(self) -> bool:
        return any(c["created"] or c["updated"] for c in self.counts.values())

    def lines(self) -> list[str]:
        return [
            f"{kind}: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged"
            for kind, c in self.counts.items()
        ]


def _upsert(model: type[M], lookup: dict[str, Any], values: dict[str, Any]) -> tuple[M, str]:
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        return model._default_manager.create(**lookup, **values), "created"
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if not changed:
        return obj, "unchanged"
    for name in changed:
        setattr(obj, name, values[name])
    obj.save(update_fields=changed)
    return obj, "updated"


def _standard_values(version: dict[str, Any]) -> dict[str, Any]:
    fee = version["fee"]
    return {
        "name": version["name"],
        "description": version.get("description", {}),
        "legal_basis": version.get("legal_basis", {}),
        "channels": version["channels"],
        "deadline_value": version["deadline"]["value"],
        "deadline_unit": version["deadline"]["unit"],
        "max_wait_minutes": version.get("max_wait_minutes"),
        "max_service_minutes": version.get("max_service_minutes"),
        "form": version["form"],
        "result": version["result"],
        "fee_amount": Decimal(fee["amount"]).quantize(Decimal("0.01")),
        "fee_note": fee.get("note", {}),
        "fee_payment": fee.get("payment", []),
        "schedule": version.get("schedule", {}),
        "documents": [
            {**doc, "required": doc.get("required", True)} for doc in version["documents"]
        ],
        "refusal_grounds": version["refusal_grounds"],
        "other_requirements": version.get("other_requirements", {}),
        # PostgreSQL's jsonb keeps no key order: remember the fields' order for the forms
        "eform": _with_field_order(version["eform"]),
    }


def _with_field_order(eform: dict[str, Any]) -> dict[str, Any]:
    properties = eform.get("properties")
    if not isinstance(properties, dict) or "x-order" in eform:
        return eform
    return {**eform, "x-order": list(properties)}


def refresh_search_text(service: Service) -> None:
    versions = list(service.versions.all())
    text = searchable(
        [v.name for v in versions] + [v.description for v in versions] + [service.provider.name],
        service.code,
    )
    if text != service.search_text:
        service.search_text = text
        service.save(update_fields=["search_text"])


@transaction.atomic
def load_pack(pack: Pack) -> LoadReport:
    """Create or update a country from a validated pack, in one transaction.

    Idempotent: loading the same pack again changes nothing. Records of other countries
    are never touched. Nothing is deleted: versions stay readable, and an agency or a
    service left out of a newer pack stays in the register until an admin retires it.
    """
    report = LoadReport(country=pack.code)
    country, outcome = _upsert(
        Country,
        {"code": pack.code},
        {
            "name": pack.country["name"],
            "languages": pack.languages,
            "time_zone": pack.country["time_zone"],
            "currency": pack.country["currency"],
            "calendar_rules": pack.calendar,
            "national_id_name": pack.country.get("national_id_name") or {},
        },
    )
    report.add("country", outcome)

    regions: dict[str, Region] = {}
    for item in pack.country["regions"]:
        regions[item["code"]], outcome = _upsert(
            Region, {"country": country, "code": item["code"]}, {"name": item["name"]}
        )
        report.add("regions", outcome)

    agencies: dict[str, Agency] = {}
    outcomes: dict[str, str] = {}
    for item in pack.agencies:
        region = regions.get(item["region"]) if item.get("region") else None
        agencies[item["code"]], outcomes[item["code"]] = _upsert(
            Agency,
            {"country": country, "code": item["code"]},
            {
                "name": item["name"],
                "kind": item["kind"],
                "region": region,
                "contacts": item.get("contacts", {}),
            },
        )
    # parents in a second pass: a parent may come later in the file
    for item in pack.agencies:
        agency = agencies[item["code"]]
        parent = agencies[item["parent"]] if item.get("parent") else None
        if agency.parent_id != (parent.pk if parent else None):
            agency.parent = parent
            agency.save(update_fields=["parent"])
            if outcomes[item["code"]] == "unchanged":
                outcomes[item["code"]] = "updated"
    for outcome in outcomes.values():
        report.add("agencies", outcome)

    for item in pack.workflows:
        _, outcome = _upsert(
            WorkflowDefinition, {"country": country, "code": item["code"]}, {"definition": item}
        )
        report.add("workflows", outcome)

    situations: dict[str, LifeSituation] = {}
    for item in pack.life_situations:
        situations[item["code"]], outcome = _upsert(
            LifeSituation,
            {"country": country, "code": item["code"]},
            {
                "number": item["number"],
                "name": item["name"],
                "description": item.get("description", {}),
            },
        )
        report.add("life situations", outcome)

    for item in pack.services:
        service, outcome = _upsert(
            Service,
            {"country": country, "code": item["code"]},
            {
                "provider": agencies[item["provider"]],
                "workflow": item.get("workflow", "simple_approval"),
            },
        )
        wanted = {situations[code].pk for code in item["life_situations"]}
        if set(service.life_situations.values_list("pk", flat=True)) != wanted:
            service.life_situations.set(wanted)
            outcome = "updated" if outcome == "unchanged" else outcome
        for version in item["versions"]:
            _, v_outcome = _upsert(
                ServiceStandard,
                {"service": service, "valid_from": dt.date.fromisoformat(version["valid_from"])},
                _standard_values(version),
            )
            report.add("standard versions", v_outcome)
        refresh_search_text(service)
        report.add("services", outcome)

    # proactive links in a second pass: the starting service may come later in the file
    for item in pack.services:
        service = Service.objects.get(country=country, code=item["code"])
        after = item.get("proactive_after")
        wanted_id = (
            Service.objects.get(country=country, code=after).pk if after else None
        )
        if service.proactive_after_id != wanted_id:
            service.proactive_after_id = wanted_id
            service.save(update_fields=["proactive_after"])
            report.add("proactive links", "updated")

    for item in pack.centres:
        _, outcome = _upsert(
            Centre,
            {"country": country, "code": item["code"]},
            {
                "name": item["name"],
                "region": regions[item["region"]],
                "kind": item["kind"],
                "address": item.get("address", {}),
                "counters": item["counters"],
                "opening_hours": item.get("opening_hours", {}),
                "breaks": item.get("breaks", {}),
            },
        )
        report.add("centres", outcome)
    _load_queue(country, pack, report)
    _load_feedback(country, pack, report)
    return report


def _load_feedback(country: Country, pack: Pack, report: LoadReport) -> None:
    """Rating criteria, complaint grounds and deadlines: the pack's `feedback` section."""
    section = pack.feedback
    if not section:
        return
    _, outcome = _upsert(
        FeedbackRules,
        {"country": country},
        {
            "criteria": section["criteria"],
            "alert_at_or_below": section.get("alert_at_or_below", 3),
            "change_days": section.get("change_days", 7),
            "anonymous_complaints": section.get("anonymous_complaints", False),
            "grounds": section["grounds"],
            "deadlines": section["deadlines"],
            "max_extension_days": section.get("max_extension_days", 60),
            "extension_notice": section.get("extension_notice", {}),
        },
    )
    report.add("feedback rules", outcome)


QUEUE_SETTINGS = (
    "no_show_after_minutes",
    "max_future_appointments",
    "appointment_slot_minutes",
    "appointment_days_ahead",
    "appointment_early_minutes",
    "default_max_wait_minutes",
)


def _load_queue(country: Country, pack: Pack, report: LoadReport) -> None:
    """Queue rules, service groups, priority categories and each centre's counters."""
    queue = pack.queue
    defaults = {f.name: f.default for f in QueueSettings._meta.fields if f.name in QUEUE_SETTINGS}
    _, outcome = _upsert(
        QueueSettings,
        {"country": country},
        {key: queue.get(key, defaults[key]) for key in QUEUE_SETTINGS},
    )
    report.add("queue rules", outcome)
    groups: dict[str, ServiceGroup] = {}
    for position, item in enumerate(queue.get("service_groups", [])):
        group, outcome = _upsert(
            ServiceGroup,
            {"country": country, "code": item["code"]},
            {
                "name": item["name"],
                "purpose": item.get("purpose", ServiceGroup.Purpose.APPLY),
                "service_prefixes": list(item.get("services", [])),
                "is_default": bool(item.get("default", False)),
                "position": position,
            },
        )
        groups[group.code] = group
        report.add("service groups", outcome)
    for item in queue.get("priority_categories", []):
        _, outcome = _upsert(
            PriorityCategory,
            {"country": country, "code": item["code"]},
            {"name": item["name"], "rank": item["rank"]},
        )
        report.add("priority categories", outcome)

    every_group = set(groups.values())
    for item in pack.centres:
        centre = Centre.objects.get(country=country, code=item["code"])
        wanted: dict[int, set[ServiceGroup]] = {}
        for rule in item.get("counter_groups", []):
            for number in rule["counters"]:
                wanted.setdefault(number, set()).update(groups[g] for g in rule["groups"])
        existing = {c.number: c for c in centre.counter_set.prefetch_related("groups")}
        for number in range(1, item["counters"] + 1):
            counter = existing.get(number)
            outcome = "unchanged"
            if counter is None:
                counter = Counter.objects.create(centre=centre, number=number)
                outcome = "created"
            elif not counter.active:
                counter.active = True
                counter.save(update_fields=["active"])
                outcome = "updated"
            serves = wanted.get(number, every_group)
            if set(counter.groups.all()) != serves:
                counter.groups.set(serves)
                outcome = "updated" if outcome == "unchanged" else outcome
            report.add("counters", outcome)
        # counters beyond the pack's number are kept (tickets refer to them) but closed
        for number, counter in existing.items():
            if number > item["counters"] and counter.active:
                counter.active = False
                counter.save(update_fields=["active"])
                report.add("counters", "updated")


class NotAllowed(Exception):
    """The user's role or scope does not allow this change."""


class Conflict(Exception):
    """The change contradicts what is already recorded."""


def can_edit_service(user: User, service: Service) -> bool:
    if user.role == Role.ADMIN:
        return True
    if user.role != Role.SUPERVISOR or user.agency_id is None:
        return False
    return agencies_in_scope(user).filter(pk=service.provider_id).exists()


@transaction.atomic
def publish_standard_version(
    *, user: User, service: Service, valid_from: dt.date, changes: dict[str, Any]
) -> ServiceStandard:
    """Publish a new version of a service's standard, applying from `valid_from`.

    The new version starts as a copy of the version in force on that date (or the
    earliest one) with `changes` applied. Versions are never edited in place, so an
    application keeps reading the standard it was submitted under.
    """
    if not can_edit_service(user, service):
        raise NotAllowed("only a supervisor of the providing agency or an admin may do this")
    if service.versions.filter(valid_from=valid_from).exists():
        raise Conflict(f"a version applying from {valid_from.isoformat()} already exists")
    base = (
        standard_in_force(service, valid_from)
        or service.versions.order_by("valid_from").first()
    )
    if base is None:
        raise Conflict("the service has no standard to start a new version from")
    base.pk = None
    base.valid_from = valid_from
    for name, value in changes.items():
        setattr(base, name, value)
    base.save()
    refresh_search_text(service)
    return base
