"""Violations in the admin: read-only, for admins only.

Violations are recorded by the scans and handled through the services (which write the
audit entries); the admin only looks.
"""

from __future__ import annotations

from django.contrib import admin

from onestop.accounts.admin_readonly import ReadOnlyAdmin
from onestop.control.models import Violation


@admin.register(Violation)
class ViolationAdmin(ReadOnlyAdmin):
    list_display = ("key", "country", "kind", "found_at", "found_by", "agency", "centre",
                    "state", "handled_at")
    list_filter = ("country", "kind", "state", "found_by")
    search_fields = ("key",)
    date_hierarchy = "found_at"
    raw_id_fields = ("application", "ticket", "complaint", "person", "handled_by")
