"""The names of the methodology's measures, as the staff and public pages show them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

INDICATOR_NAMES = {
    "timeliness": gettext_lazy("Timeliness"),
    "satisfaction": gettext_lazy("Satisfaction"),
    "lawful_refusals": gettext_lazy("Lawful refusals"),
    "complaint_handling": gettext_lazy("Complaint handling"),
    "digital_take_up": gettext_lazy("Digital take-up"),
    "completion_rate": gettext_lazy("Completion rate"),
    "internal_control": gettext_lazy("Internal control"),
    "queue_wait": gettext_lazy("Queue wait"),
    "cost_per_transaction": gettext_lazy("Cost per transaction"),
}
