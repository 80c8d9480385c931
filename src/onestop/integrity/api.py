"""API of integrity and optimisation."""

from __future__ import annotations

from ninja import Router

from onestop.integrity import bottlenecks_api, redflags_api

router = Router(tags=["integrity"])
router.add_router("", bottlenecks_api.router)
router.add_router("", redflags_api.router)
