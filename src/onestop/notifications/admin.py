"""The outbox in the admin: a read-only list with delivery status, for admins only.

Recipients are personal data: the list does not show them, search does not look at them
(a search term would travel in the URL), and the detail page shows them masked.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from onestop.accounts.roles import Role
from onestop.notifications.models import Message


def mask(recipient: str) -> str:
    """Enough of an address or number to tell two apart, not enough to use it."""
    if "://" in recipient:  # an agency's webhook: the host is not personal data
        return recipient.split("://", 1)[1].split("/", 1)[0]
    name, at, domain = recipient.partition("@")
    if at:
        return f"{name[:1]}***@{domain}"
    return f"{recipient[:2]}***{recipient[-2:]}" if len(recipient) > 6 else "***"


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = (
        "id", "channel", "template", "language", "subject_type", "subject_id",
        "status", "attempts", "next_attempt_at", "sent_at", "created_at",
    )
    list_filter = ("status", "channel", "template", "language")
    search_fields = ("subject_id",)
    date_hierarchy = "created_at"
    fields = (
        "channel", "masked_recipient", "template", "language", "subject_type", "subject_id",
        "idempotency_key", "status", "attempts", "next_attempt_at", "claimed_at",
        "claimed_by", "last_error", "sent_at", "created_at",
    )
    readonly_fields = fields

    @admin.display(description="recipient")
    def masked_recipient(self, message: Message) -> str:
        return mask(message.recipient)

    def _is_admin(self, request: HttpRequest) -> bool:
        user: Any = request.user
        role = getattr(user, "role", None)
        return bool(user.is_active and (user.is_superuser or role == Role.ADMIN))

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
