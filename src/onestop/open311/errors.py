"""What an Open311 call can be refused for. Every refusal is answered in the spec's
error list (`<errors><error><code/><description/></error></errors>`, or a JSON list),
with the HTTP status as each error's code."""

from __future__ import annotations

from collections.abc import Sequence


class Open311Error(Exception):
    """A refusal: the HTTP status and one description per problem (safe to show)."""

    def __init__(self, status: int, descriptions: str | Sequence[str]) -> None:
        self.status = status
        self.descriptions = [descriptions] if isinstance(descriptions, str) else list(descriptions)
        super().__init__("; ".join(self.descriptions))


def bad_request(*descriptions: str) -> Open311Error:
    return Open311Error(400, descriptions)


def not_found(description: str) -> Open311Error:
    return Open311Error(404, description)


def forbidden(description: str) -> Open311Error:
    return Open311Error(403, description)
