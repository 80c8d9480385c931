"""GeoReport v2 documents as XML and JSON, from plain data (no Django).

Each answer is a list of records under a root element (`services` > `service`,
`service_requests` > `request`, `errors` > `error`) or one record (`discovery`,
`service_definition`). In XML a list value repeats a child element inside a wrapper
(`attributes` > `attribute`, `values` > `value`, `formats` > `format`); booleans are
`true`/`false`; None is an empty element. In JSON the same keys and values are kept and
None is null.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET  # builds documents only; parses nothing
from collections.abc import Mapping, Sequence
from typing import Any

XML_CONTENT_TYPE = "text/xml; charset=utf-8"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
FORMATS = ("xml", "json")
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

# The element each item of a list is written as, by the list's element name.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list | tuple):
        item_tag = ITEM_TAGS.get(element.tag, "item")
        for item in value:
            _fill(ET.SubElement(element, item_tag), item)
    else:
        element.text = _text(value)


def to_xml(root: str, value: Mapping[str, Any] | Sequence[Any]) -> bytes:
    """The document with `root` as its root element, UTF-8, with the XML declaration."""
    element = ET.Element(root)
    _fill(element, value)
    return (DECLARATION + ET.tostring(element, encoding="unicode")).encode()


def to_json(value: Mapping[str, Any] | Sequence[Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def render(fmt: str, root: str, value: Mapping[str, Any] | Sequence[Any]) -> tuple[bytes, str]:
    """(body, content type) of the document in `fmt` ("xml" or "json")."""
    if fmt == "json":
        return to_json(value), JSON_CONTENT_TYPE
    return to_xml(root, value), XML_CONTENT_TYPE


def errors(problems: Sequence[tuple[int, str]]) -> list[dict[str, Any]]:
    """The spec's error list: one {code, description} per problem."""
    return [{"code": code, "description": description} for code, description in problems]
