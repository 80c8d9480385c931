"""The audit trail in the admin: read-only, for admins and the control body."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from onestop.accounts.roles import Role
from onestop.audit.models import AuditEntry

READERS = frozenset({Role.ADMIN, Role.CONTROLLER})


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = (
        "sequence", "recorded_at", "actor_username", "actor_role", "action",
        "subject_type", "subject_id",
    )
    # No list filters or date hierarchy: each would scan millions of rows per page.
    search_fields = ("=subject_id", "=actor_username", "=action")
    ordering = ("-sequence",)
    readonly_fields = tuple(field.name for field in AuditEntry._meta.fields)
    actions = None  # no bulk delete
    show_full_result_count = False  # no COUNT(*) over millions of rows per page

    def has_module_permission(self, request: HttpRequest) -> bool:
        return getattr(request.user, "role", None) in READERS

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return getattr(request.user, "role", None) in READERS

    # Entries are written by services.record only, never by hand.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
