"""API of interchange formats."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["interop"])
