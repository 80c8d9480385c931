"""What every API route shares: the error body {"detail": "..."} and strict input types."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from ninja import Schema
from pydantic import BeforeValidator


class ErrorOut(Schema):
    detail: str


def _iso_date_only(value: object) -> object:
    """Accept only YYYY-MM-DD for dates: pydantic would also read "0" as 1970-01-01."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a date is written YYYY-MM-DD")
    if isinstance(value, int | float):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]
