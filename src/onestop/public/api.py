"""API of public monitoring: the audit chain's daily heads, open to everyone (the same
list as /monitor/audit/), so that anyone can keep a head and later check the chain
against it with `onestop audit verify --against SEQUENCE:HASH`."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema

from onestop.public import selectors

router = Router(tags=["public"])


class HeadOut(Schema):
    day: dt.date
    sequence: int
    hash: str
    head: str  # SEQUENCE:HASH, as `onestop audit verify --against` takes it


@router.get("/public/audit-heads", response=list[HeadOut], auth=None,
            summary="The audit chain's head, day by day (the latest first)")
def audit_heads(request: HttpRequest) -> list[HeadOut]:
    return [HeadOut(day=h.day, sequence=h.sequence, hash=h.hash,
                    head=f"{h.sequence}:{h.hash}") for h in selectors.heads()]
