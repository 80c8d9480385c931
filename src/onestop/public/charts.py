"""The geometry of the public site's charts, drawn on the server as inline SVG (no
script, no chart library, nothing fetched): horizontal bars and lines over periods. Each
chart on a page sits beside the table of the same figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LEFT = 150
BAR = 320
ROW = 24
COLOURS = ("#1f5f99", "#a3480f", "#2d6a2d", "#6b3d8f")  # dark enough on white for text


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # on the chart's scale (0..maximum)
    text: str  # the value as printed
    muted: bool = False


def bars(items: list[Bar], maximum: float | None = None) -> dict[str, Any] | None:
    """A horizontal bar chart; None when no item has a value."""
    known = [b.value for b in items if b.value is not None]
    if not known:
        return None
    top = maximum if maximum else max(max(known), 1e-9)
    rows = []
    for i, item in enumerate(items):
        width = 0.0 if item.value is None else max(item.value, 0.0) / top * BAR
        rows.append({
            "y": 8 + i * ROW, "text_y": 8 + i * ROW + 15, "width": round(width, 1),
            "label": item.label if len(item.label) <= 22 else item.label[:21] + "…",
            "full": item.label, "text": item.text, "muted": item.muted,
            "value_x": round(LEFT + width + 5, 1),
        })
    height = 16 + len(items) * ROW + 18
    return {"kind": "bars", "rows": rows, "left": LEFT, "width": LEFT + BAR + 70,
            "height": height, "axis_y": height - 18, "axis_end": LEFT + BAR,
            "ticks": [{"x": round(LEFT + f * BAR, 1), "text": _tick(f * top)}
                      for f in (0.0, 0.5, 1.0)]}


def _tick(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]  # one per period, on the 0..maximum scale


def lines(periods: list[str], series: list[Series], maximum: float = 100.0
          ) -> dict[str, Any] | None:
    """Lines over periods (a gap where a period has no value); None without values."""
    if not any(v is not None for s in series for v in s.values):
        return None
    step = max(64, 300 // max(len(periods) - 1, 1))
    left, top, height = 40, 12, 140
    width = left + step * max(len(periods) - 1, 1) + 40
    drawn = []
    for position, s in enumerate(series):
        points = [(left + i * step, top + (1 - (v / maximum if maximum else 0)) * height, v)
                  for i, v in enumerate(s.values) if v is not None]
        drawn.append({
            "name": s.name, "colour": COLOURS[position % len(COLOURS)],
            "path": " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points),
            "dots": [{"x": round(x, 1), "y": round(y, 1), "value": v} for x, y, v in points],
        })
    return {
        "kind": "lines", "width": width, "height": top + height + 26 + 16 * len(drawn),
        "series": drawn, "axis_y": top + height, "left": left, "right": width - 30,
        "labels": [{"x": left + i * step, "text": p} for i, p in enumerate(periods)],
        "label_y": top + height + 16,
        "ticks": [{"y": round(top + (1 - f) * height, 1), "text": _tick(f * maximum)}
                  for f in (0.0, 0.5, 1.0)],
        "legend": [{"x": left, "y": top + height + 34 + 16 * i, "name": s["name"],
                    "colour": s["colour"]} for i, s in enumerate(drawn)],
    }
