from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from onestop.accounts.roles import STAFF_ROLES, Role
from onestop.centres.models import Centre


@admin.register(Centre)
class CentreAdmin(admin.ModelAdmin):
    list_display = ("code", "country", "region", "kind", "counters")
    list_filter = ("country", "kind")
    search_fields = ("code",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return getattr(request.user, "role", None) in STAFF_ROLES

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return getattr(request.user, "role", None) == Role.ADMIN

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return getattr(request.user, "role", None) == Role.ADMIN

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return getattr(request.user, "role", None) == Role.ADMIN
