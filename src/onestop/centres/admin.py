"""Admin screens of the centres. The register (centres, counters, groups, priorities, queue
rules) is readable by staff and writable by admins, as the catalogue's; tickets and
counter sessions are the record of what happened: read-only, and tickets (which may name
a citizen) only for admins and controllers."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from onestop.accounts.roles import Role
from onestop.catalogue.admin import RegisterAdmin
from onestop.centres.models import (
    Centre,
    Counter,
    CounterSession,
    PriorityCategory,
    QueueSettings,
    ServiceGroup,
    Ticket,
    TicketSlice,
)

RECORD_READERS = frozenset({Role.ADMIN, Role.CONTROLLER})


@admin.register(Centre)
class CentreAdmin(RegisterAdmin):
    list_display = ("code", "country", "region", "kind", "counters")
    list_filter = ("country", "kind")
    search_fields = ("code",)


@admin.register(Counter)
class CounterAdmin(RegisterAdmin):
    list_display = ("centre", "number", "active")
    list_filter = ("centre__country", "active")
    search_fields = ("centre__code",)
    filter_horizontal = ("groups",)


@admin.register(ServiceGroup)
class ServiceGroupAdmin(RegisterAdmin):
    list_display = ("code", "country", "purpose", "is_default", "position")
    list_filter = ("country", "purpose")


@admin.register(PriorityCategory)
class PriorityCategoryAdmin(RegisterAdmin):
    list_display = ("code", "country", "rank")
    list_filter = ("country",)


@admin.register(QueueSettings)
class QueueSettingsAdmin(RegisterAdmin):
    list_display = ("country", "no_show_after_minutes", "appointment_slot_minutes")


class ReadOnlyRecordAdmin(admin.ModelAdmin):
    """What happened at the counters: changed only through the queue's services."""

    def _reader(self, request: HttpRequest) -> bool:
        return getattr(request.user, "role", None) in RECORD_READERS

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._reader(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._reader(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TicketSliceInline(admin.TabularInline):
    model = TicketSlice
    extra = 0
    fields = ("kind", "started_at", "ended_at", "counter", "operator", "note",
              "out_of_order", "reason")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyRecordAdmin):
    list_display = ("number", "centre", "day", "group", "state", "priority_rank", "issued_at",
                    "wait_seconds", "service_seconds")
    list_filter = ("state", "centre__country", "day")
    search_fields = ("number", "centre__code")
    date_hierarchy = "day"
    raw_id_fields = ("citizen", "operator", "counter", "target_counter")
    inlines = (TicketSliceInline,)


@admin.register(CounterSession)
class CounterSessionAdmin(ReadOnlyRecordAdmin):
    list_display = ("counter", "operator", "opened_at", "closed_at")
    list_filter = ("counter__centre__country",)
