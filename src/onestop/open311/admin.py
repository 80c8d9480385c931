"""API keys and Open311 requests in the admin: read-only, for admins only. Keys are
created and revoked with `onestop apikeys` (a new key is shown once, on the console)."""

from __future__ import annotations

from django.contrib import admin

from onestop.accounts.admin_readonly import ReadOnlyAdmin
from onestop.open311.models import ApiKey, ServiceRequest


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ("name", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("key_hash",)


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "country", "service_code", "api_key", "requested_at")
    list_filter = ("country", "api_key")
    raw_id_fields = ("application", "complaint")
