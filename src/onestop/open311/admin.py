"""API keys and Open311 requests in the admin: read-only, for admins only. Keys are
created and revoked with `onestop apikeys` (a new key is shown once, on the console)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from onestop.accounts.roles import Role
from onestop.open311.models import ApiKey, ServiceRequest


class ReadOnlyAdmin(admin.ModelAdmin):
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


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ("name", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("key_hash",)


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "country", "service_code", "api_key", "requested_at")
    list_filter = ("country", "api_key")
    raw_id_fields = ("application", "complaint")
