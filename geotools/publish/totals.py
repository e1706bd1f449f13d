"""The bundle's totals: claimed and titled hectares counted once, beside the sums of rows.

Territories may overlap each other (a reserve drawn over communities, an extension over its
title), so adding up ``claimed_ha`` or ``titled_ha`` over the rows of ``territory_stats.csv``
counts that land twice. The statistics measure the union (each hectare once,
:func:`geotools.analysis.stats.summarise_claimed_total`); a bundle states both, and what each
is, in its ``README.md`` and in ``datapackage.json`` (``geotools.totals``), so that a reader
does not quote the sum of rows as the area claimed. Unknown totals (titled land without a tenure
source) are stated as unknown, never as 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from geotools.analysis.stats import StatsResult

#: What each total is, in the words of the README and of ``datapackage.json``.
TOTAL_MEANINGS: dict[str, str] = {
    "territories": "territories (rows of territory_stats.csv)",
    "claimed_union_ha": "hectares claimed, counted once: the union of all territories "
    "(land claimed by two overlapping territories counts once)",
    "claimed_sum_of_rows_ha": "sum of claimed_ha over the rows of territory_stats.csv (land "
    "where territories overlap each other counts once per territory)",
    "claimed_double_counted_ha": "claimed_sum_of_rows_ha minus claimed_union_ha: hectares "
    "counted more than once by the sum of rows",
    "titled_union_ha": "hectares titled inside any territory, counted once (unknown without a "
    "parcel layer: tenure not known)",
    "titled_sum_of_rows_ha": "sum of titled_ha over the rows of territory_stats.csv (unknown "
    "where a row's tenure is not known)",
}


def _number(value: Any) -> float | None:
    """A finite float, or None (unknown)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def describe_totals(stats: StatsResult) -> dict[str, Any]:
    """The totals of a bundle's statistics, hectares rounded to 4 decimals (None: unknown).

    Parameters
    ----------
    stats : StatsResult
        The statistics the bundle publishes (``claimed_total`` and ``table``).

    Returns
    -------
    dict
        The keys of :data:`TOTAL_MEANINGS`, in that order: ``territories`` (int) and hectares
        (float, or None where unknown).
    """
    claimed = stats.claimed_total or {}
    table = stats.table

    def row_sum(column: str) -> float | None:
        if column not in table.columns:
            return None
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        if len(values) == 0:
            return 0.0
        if not np.isfinite(values).all():
            return None  # a row whose value is unknown: the sum is unknown too
        return round(float(values.sum()), 4)

    territories = claimed.get("territories", len(table))
    totals: dict[str, Any] = {
        "territories": int(territories),
        "claimed_union_ha": _number(claimed.get("union_ha")),
        "claimed_sum_of_rows_ha": _number(claimed.get("sum_of_rows_ha")),
        "claimed_double_counted_ha": _number(claimed.get("double_counted_ha")),
        "titled_union_ha": _number(claimed.get("titled_union_ha")),
        "titled_sum_of_rows_ha": row_sum("titled_ha"),
    }
    if totals["claimed_sum_of_rows_ha"] is None:
        totals["claimed_sum_of_rows_ha"] = row_sum("claimed_ha")
    return totals


def totals_sentence(totals: dict[str, Any]) -> str:
    """One sentence of the claimed total for ``datapackage.json``'s description.

    Parameters
    ----------
    totals : dict
        :func:`describe_totals`.

    Returns
    -------
    str
        E.g. ``"3 territories claim 500.0000 ha counted once (600.0000 ha summed over rows)."``
    """
    union, rows = totals.get("claimed_union_ha"), totals.get("claimed_sum_of_rows_ha")
    if union is None:
        return ""
    text = f"{totals['territories']} territories claim {union:.4f} ha counted once"
    if rows is not None:
        text += f" ({rows:.4f} ha summed over rows)"
    titled = totals.get("titled_union_ha")
    text += "; titled: " + (f"{titled:.4f} ha counted once" if titled is not None else "unknown")
    return text + "."


def totals_section(totals: dict[str, Any], escape: Callable[[object], str]) -> list[str]:
    """The README's ``## Totals`` section: a table of each total and what it is.

    Parameters
    ----------
    totals : dict
        :func:`describe_totals`.
    escape : callable
        Turns a value into literal Markdown text (the README's escaping).

    Returns
    -------
    list of str
        Markdown lines, ending with a blank line.
    """
    lines = [
        "## Totals",
        "",
        "Territories may overlap each other: adding up a column of territory_stats.csv counts "
        "the overlapping land once per territory. Quote the union totals (counted once).",
        "",
        "| total | value | what it is |",
        "|---|---|---|",
    ]
    for key, meaning in TOTAL_MEANINGS.items():
        value = totals.get(key)
        if value is None:
            text = "unknown"
        elif key == "territories":
            text = f"{int(value):,}"
        else:
            text = f"{float(value):,.4f} ha"
        lines.append(f"| {escape(key)} | {escape(text)} | {escape(meaning)} |")
    lines.append("")
    return lines
