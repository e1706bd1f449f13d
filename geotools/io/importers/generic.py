"""``csv``: a generic table (or any vector file) of incident points."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np

from geotools.errors import SourceError
from geotools.io.importers._common import (
    assemble,
    check_exists,
    columns_found,
    find_column,
    finish,
    is_table,
    kind_lookup,
    recode,
    sequential_ids,
    vocabulary_lookup,
)
from geotools.io.readers import LAT_NAMES, LON_NAMES, read_frame
from geotools.schema import ALIASES, normalise_name

NAME = "csv"
LICENCE = None


def _alias_columns(columns: list[str], empty: set[str]) -> dict[str, str]:
    """Return ``{canonical: source column}`` by the schema's incident alias table.

    An exact canonical name wins; then the first alias present; columns without any value never
    win (same rules as :func:`geotools.schema.normalise_schema`).
    """
    by_norm: dict[str, str] = {}
    for column in columns:
        if column not in empty:
            by_norm.setdefault(normalise_name(column), column)
    found: dict[str, str] = {}
    used: set[str] = set()
    for target, aliases in ALIASES["incidents"].items():
        for alias in (target, *aliases):
            hit = by_norm.get(alias)
            if hit is not None and hit not in used:
                found[target] = hit
                used.add(hit)
                break
    return found


def read_csv_points(path: Path) -> gpd.GeoDataFrame:
    """Read a generic table of incident points into the canonical incident columns.

    Parameters
    ----------
    path : pathlib.Path
        CSV/TSV with longitude/latitude (or WKT) columns, GeoParquet or any vector file, read by
        :func:`geotools.io.read_frame`.

    Returns
    -------
    geopandas.GeoDataFrame
        Canonical incident columns (found through the schema alias table: ``fecha`` -> date,
        ``tipo`` -> kind, ...), vocabularies recoded where clear, other columns kept.

    Raises
    ------
    SourceError
        The file cannot be read, has no coordinates, or has no date column.
    """
    check_exists(path)
    frame = read_frame(path).reset_index(drop=True)
    geom_name = frame.geometry.name
    columns = [str(c) for c in frame.columns if c != geom_name]
    table = frame[columns]
    empty = {c for c in columns if table[c].isna().all()} if len(table) else set()
    found = _alias_columns(columns, empty)
    if "date" not in found:
        raise SourceError(
            f"{path}: no date column for incidents (looked for "
            f"{', '.join(('date', *ALIASES['incidents']['date']))}; {columns_found(columns)}); "
            "rename it or use "
            "geotools.io.read_layer with a field mapping"
        )
    mapped = ", ".join(f"{src} -> {dst}" for dst, src in found.items() if src != dst)
    notes = [f"columns mapped by the schema alias table: {mapped}"] if mapped else []
    canonical: dict[str, object] = {c: table[src] for c, src in found.items()}
    if "incident_id" not in found:
        canonical["incident_id"] = sequential_ids("incident", len(table))
        notes.append("no id column: incidents numbered incident-1, incident-2, ... in file order")
    else:
        canonical["incident_id"] = table[found["incident_id"]].astype("string")
    transformed = []
    if "kind" in found:
        canonical["kind"] = recode(table[found["kind"]], kind_lookup)
        transformed.append(found["kind"])
    for column in ("precision", "sensitivity"):
        if column in found:
            canonical[column] = recode(table[found[column]], vocabulary_lookup("incidents", column))
            transformed.append(found[column])
    consumed = [src for src in found.values() if src not in transformed]
    lon, lat = find_column(columns, LON_NAMES), find_column(columns, LAT_NAMES)
    if is_table(path) and lon and lat:
        consumed += [lon, lat]
        notes.append(f"coordinate columns {lon}, {lat} dropped (held by the geometry)")
    out = assemble(
        table,
        np.asarray(frame.geometry.values, dtype=object),
        frame.crs,
        "incidents",
        canonical,
        consumed=consumed,
    )
    return finish(out, NAME, notes, LICENCE)
