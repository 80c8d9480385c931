"""API of the centres' queue: tickets and the counter actions of operators.

Read endpoints (centres, live queue, statistics) are in api_public.py, appointments in
api_appointments.py; all three are mounted here as one router.
"""

from __future__ import annotations

from ninja import Router

from onestop.centres.api_appointments import router as appointments_router
from onestop.centres.api_public import router as public_router

router = Router(tags=["centres"])
router.add_router("", public_router)
router.add_router("", appointments_router)
