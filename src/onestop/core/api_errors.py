"""The error body every API route answers with: {"detail": "..."}."""

from __future__ import annotations

from ninja import Schema


class ErrorOut(Schema):
    detail: str
