"""``defensoria``: the Defensoría del Pueblo mining social-conflict table (monthly snapshot)."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geotools.io.importers._common import (
    assemble,
    find_column,
    finish,
    normalised_text,
    read_points,
)

NAME = "defensoria"
LICENCE = (
    "Defensoría del Pueblo, Reporte de Conflictos Sociales (a public Peruvian-state publication); "
    "the extraction (warthon-190399/conflictos_minas) states no licence: cite both"
)

#: Snapshot used when the file name carries no ``YYYY-MM``: the one month the source published.
DEFAULT_SNAPSHOT = "2024-03"

MONTHS_ES = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)

#: Severity given to a conflict in which violence was reported (``vio_if`` = "Sí").
VIOLENCE_SEVERITY = 3

_SNAPSHOT = re.compile(r"(?<!\d)(20\d\d)[-_](0[1-9]|1[0-2])(?!\d)")


def snapshot_month(path: Path) -> tuple[str, bool]:
    """Return the report month ``YYYY-MM`` from the file name, and whether it was found there.

    Parameters
    ----------
    path : pathlib.Path
        E.g. ``conflictos_mineros_defensoria_2024-03.csv``.

    Returns
    -------
    str
        ``YYYY-MM``; :data:`DEFAULT_SNAPSHOT` when the name has none.
    bool
        True when read from the name.
    """
    match = _SNAPSHOT.search(path.stem)
    if match:
        return f"{match.group(1)}-{match.group(2)}", True
    return DEFAULT_SNAPSHOT, False


def read_defensoria(path: Path) -> gpd.GeoDataFrame:
    """Read the Defensoría mining-conflict table (CSV, XLSX or GeoJSON) as incidents.

    Parameters
    ----------
    path : pathlib.Path
        The table with ``caso`` and ``lat``/``lon`` columns (CSV/XLSX) or its GeoJSON form.

    Returns
    -------
    geopandas.GeoDataFrame
        One incident per conflict case, in file order: ids ``DP-<YYYY-MM>-001`` ...; date the
        report month (the table has no event dates); kind "other"; severity 3 where violence was
        reported; precision "district"; sensitivity "public".

    Raises
    ------
    SourceError
        The file is missing, unreadable, or has no ``caso`` column or coordinates.
    """
    table, geoms, crs, coords = read_points(
        path, "the Defensoría conflict table", {"caso": ("caso",)}
    )
    columns = list(table.columns)
    caso = find_column(columns, ("caso",))
    violence = find_column(columns, ("vio_if",))
    month, from_name = snapshot_month(path)
    year, mm = month.split("-")
    n = len(table)
    ids = pd.Series(np.arange(1, n + 1), dtype="string").str.zfill(3)
    violent = (
        normalised_text(table[violence]).eq("si")
        if violence
        else pd.Series(False, index=table.index)
    ).fillna(False)
    severity = pd.Series(pd.NA, index=table.index, dtype="Int64").mask(
        violent.to_numpy(dtype=bool), VIOLENCE_SEVERITY
    )
    label = f"{MONTHS_ES[int(mm) - 1]} {year}"
    canonical = {
        "incident_id": f"DP-{month}-" + ids,
        "date": month,
        "kind": "other",
        "severity": severity,
        "description": table[caso],
        "source": (
            f"Defensoría del Pueblo, Reporte de Conflictos Sociales, {label} "
            "(via warthon-190399/conflictos_minas)"
        ),
        "precision": "district",
        "sensitivity": "public",
    }
    notes = [
        f"date: the report month {month} for every row (the table has no event dates)"
        + ("" if from_name else f"; the file name has no YYYY-MM, so {DEFAULT_SNAPSHOT} assumed"),
        f"incident_id: DP-{month}-NNN by row order (the table has no id)",
        "caso (case name) -> name and description",
        "kind 'other' (social conflict); where vio_if = 'Sí' (violence reported) severity "
        f"{VIOLENCE_SEVERITY}, kind kept 'other' because the table does not say what violence",
        "precision 'district': points are geocoded to the district/locality, not the conflict site",
    ]
    out = assemble(
        table, geoms, crs, "incidents", canonical, consumed=coords, renames={str(caso): "name"}
    )
    return finish(out, NAME, notes, LICENCE)
