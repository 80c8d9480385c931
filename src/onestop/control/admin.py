"""Violations in the admin: read-only, for admins only.

Violations are recorded by the scans and handled through the services (which write the
audit entries); the admin only looks.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from onestop.accounts.roles import Role
from onestop.control.models import Violation


@admin.register(Violation)
class ViolationAdmin(admin.ModelAdmin):
    list_display = ("key", "country", "kind", "found_at", "found_by", "agency", "centre",
                    "state", "handled_at")
    list_filter = ("country", "kind", "state", "found_by")
    search_fields = ("key",)
    date_hierarchy = "found_at"
    raw_id_fields = ("application", "ticket", "complaint", "person", "handled_by")

    def _is_admin(self, request: HttpRequest) -> bool:
        user: Any = request.user
        return bool(user.is_active and (user.is_superuser or getattr(user, "role", None)
                                        == Role.ADMIN))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
