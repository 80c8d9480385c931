"""API of the centres: centres, their live queue and statistics (public, no personal data)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["centres"])
