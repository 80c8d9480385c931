"""The outbox in the admin: a read-only list with delivery status, for admins only.

Recipients are personal data: the list does not show them, search does not look at them
(a search term would travel in the URL), and the detail page shows them masked.
"""

from __future__ import annotations

from django.contrib import admin

from onestop.accounts.admin_readonly import ReadOnlyAdmin
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
class MessageAdmin(ReadOnlyAdmin):
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
