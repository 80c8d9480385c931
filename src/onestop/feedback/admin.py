"""Ratings, complaints and the feedback rules in the admin: read-only, for admins only.

Every change goes through the services (which write the events, the audit entries and
the notifications); the admin only looks.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from onestop.accounts.admin_readonly import ReadOnlyAdmin
from onestop.feedback.models import Complaint, ComplaintEvent, FeedbackRules, Rating


@admin.register(FeedbackRules)
class FeedbackRulesAdmin(ReadOnlyAdmin):
    list_display = ("country", "alert_at_or_below", "change_days", "anonymous_complaints",
                    "max_extension_days")


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ("id", "country", "application", "ticket", "agency", "centre", "channel",
                    "mean", "lowest", "alert", "created_at")
    list_filter = ("country", "channel", "alert")
    date_hierarchy = "created_at"
    exclude = ("citizen", "device")


class ComplaintEventInline(admin.TabularInline):
    model = ComplaintEvent
    fields = ("at", "action", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    list_display = ("number", "country", "level", "subject", "ground", "state",
                    "registered_at", "deadline_at", "extended_to", "decision")
    list_filter = ("country", "level", "state", "decision", "subject")
    search_fields = ("number",)
    date_hierarchy = "registered_at"
    exclude = ("citizen",)
    inlines = [ComplaintEventInline]
