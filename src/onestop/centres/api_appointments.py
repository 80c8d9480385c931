"""API of the centres: booking, cancelling and arriving for appointments."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["centres"])
