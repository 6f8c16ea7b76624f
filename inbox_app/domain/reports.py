"""Report figures as people read them: CSV rows and human units (relay and desktop share it)."""

from __future__ import annotations

from typing import Any


def to_csv_rows(report: dict[str, Any]) -> list[list[str]]:
    """The report as CSV rows (header first): one row per period, a value and a count
    column per metric; a period without data has an empty value, not 0."""
    names = [m["name"] for m in report["metrics"]]
    header = ["period"] + [col for n in names for col in (n, f"{n}_n")]
    out = [header]
    for row in report["rows"]:
        out.append([row["period"]] + [_cell(row.get(col)) for col in header[1:]])
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def human_value(kind: str, value: float | None) -> str:
    """``12 min``, ``67 %``, ``4.2``, ``3`` — or an en dash where there is no data."""
    if value is None:
        return "–"
    if kind == "duration":
        if value < 60:
            return f"{value:.0f} s"
        if value < 3600:
            return f"{value / 60:.0f} min"
        if value < 86400:
            return f"{value / 3600:.1f} h"
        return f"{value / 86400:.1f} d"
    if kind == "rate":
        return f"{value * 100:.0f} %"
    if kind == "score":
        return f"{value:.1f}"
    return f"{value:.0f}"
