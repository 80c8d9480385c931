"""The outbox in the admin: a read-only list with delivery status, for admins only.

Recipients are personal data: the list does not show them, search does not look at them
(a search term would travel in the URL), and the detail page shows them masked.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from onestop.accounts.admin_readonly import ReadOnlyAdmin
from onestop.notifications.models import Message, Status
from onestop.notifications.services import OutboxError, retry_dead


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
    actions = ["queue_again"]

    @admin.display(description="recipient")
    def masked_recipient(self, message: Message) -> str:
        return mask(message.recipient)

    @admin.action(description="Queue the selected dead messages again")
    def queue_again(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        """What `onestop outbox retry --id` does, for the messages ticked: the dead ones
        are due at once, with the same idempotency key; the others are left."""
        dead = list(queryset.filter(status=Status.DEAD).values_list("pk", flat=True))
        others = queryset.count() - len(dead)
        try:
            queued, purged = (
                retry_dead(now=timezone.now(), ids=dead, actor=request.user.get_username())
                if dead else (0, 0)
            )
        except OutboxError as exc:  # one of them changed meanwhile: nothing was queued
            self.message_user(request, f"Nothing queued: {exc}.", messages.ERROR)
            return
        self.message_user(request, f"{queued} dead message{'s' * (queued != 1)} queued again.")
        if purged:
            self.message_user(
                request, f"{purged} left: their personal data was purged, they cannot be sent.",
                messages.WARNING,
            )
        if others:
            self.message_user(
                request, f"{others} left: only dead messages are queued again.", messages.WARNING
            )
