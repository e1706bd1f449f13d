"""Per-territory statistics: tenure, concessions and incidents in one table (DESIGN §6)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geotools.area import M2_PER_HA, area_crs_for, check_area_method
from geotools.geometry import dissolve_by_group
from geotools.incidents import count_incidents
from geotools.overlaps import (
    CONCESSION_KINDS,
    CONCESSION_STATUSES,
    OVERLAP_COLUMNS,
    build_overlap_table,
    concession_bits,
    summarise_concessions,
)
from geotools.tenure import (
    TENURE_CLASSES,
    clip_to_territories,
    project,
    summarise_tenure,
    tenure_bits,
)

log = logging.getLogger(__name__)

#: Columns of territory_stats.csv, in order (concession_<kind>_ha follow concession_untitled_ha).
BASE_COLUMNS: tuple[str, ...] = (
    "territory_id",
    "name",
    "people",
    "claimed_ha",
    "titled_ha",
    "titled_pct",
    "secured_ha",
    "secured_pct",
    "untitled_ha",
    "untitled_pct",
    "in_process_ha",
    "in_process_pct",
    "concession_ha",
    "concession_pct",
    "concession_untitled_ha",
)
INCIDENT_COLUMNS: tuple[str, ...] = ("incidents_inside", "incidents_nearby")


@dataclass
class StatsResult:
    """Everything ``geotools stats`` computes.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per territory (``territory_stats.csv``), full precision.
    overlaps : pandas.DataFrame
        Territory x concession pairs (``overlaps.csv``).
    territories : geopandas.GeoDataFrame
        Territories with the statistics joined, EPSG:4326.
    outside : dict
        Parcels and concessions outside every territory: ``{"parcels": {"count", "ha"}, ...}``.
    area_crs : pyproj.CRS
        Equal-area CRS the hectares were measured in.
    area_check : dict
        Equal-area versus geodesic self-check on the largest territories.
    options : dict
        Options used (for provenance).
    """

    table: pd.DataFrame
    overlaps: pd.DataFrame
    territories: gpd.GeoDataFrame
    outside: dict[str, dict[str, float]]
    area_crs: CRS
    area_check: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)


def _outside(
    frame: gpd.GeoDataFrame, geoms: np.ndarray, used_features: np.ndarray, label: str
) -> dict[str, float]:
    mask = np.ones(len(geoms), dtype=bool)
    mask[used_features] = False
    _, pieces = dissolve_by_group(geoms[mask], np.zeros(int(mask.sum()), dtype=np.intp))
    hectares = float(shapely.area(pieces).sum() / M2_PER_HA)
    ids = frame[f"{label}_id"].astype(str).to_numpy()[mask]
    if mask.any():
        log.debug("%d %ss (%.1f ha) lie outside every territory", mask.sum(), label, hectares)
    return {"count": int(mask.sum()), "ha": round(hectares, 4), "ids": ids.tolist()[:50]}


def compute_territory_stats(
    territories: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    concessions: gpd.GeoDataFrame | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    nearby_km: float = 5.0,
    area_crs: CRS | None = None,
) -> StatsResult:
    """Compute the per-territory table of DESIGN §6.

    Parameters
    ----------
    territories : geopandas.GeoDataFrame
        Canonical, validated territories (``territory_id``, ``name``...).
    parcels : geopandas.GeoDataFrame
        Canonical, validated parcels (``parcel_id``, ``tenure``).
    concessions : geopandas.GeoDataFrame, optional
        Canonical concessions (``concession_id``, ``kind``, ``status``, ``holder``).
    incidents : geopandas.GeoDataFrame, optional
        Canonical incident points.
    nearby_km : float, default 5.0
        Geodesic distance for ``incidents_nearby``.
    area_crs : pyproj.CRS, optional
        Equal-area CRS; chosen from the data's extent when omitted.

    Returns
    -------
    StatsResult
        Table, overlap matrix, joined territories and run facts.
    """
    crs = area_crs or area_crs_for(territories, parcels, concessions, incidents)
    log.debug("measuring areas in %s", crs.name)
    t_geoms = project(territories, crs)
    claimed = np.asarray(shapely.area(t_geoms), dtype=float)
    n = len(t_geoms)

    p_geoms = project(parcels, crs)
    values = parcels["tenure"].astype(str).to_numpy()
    p_clipped = clip_to_territories(t_geoms, p_geoms, tenure_bits(values))
    tenure = values[p_clipped.feature]
    tenure_table = summarise_tenure(claimed, p_clipped, tenure)
    outside = {"parcels": _outside(parcels, p_geoms, p_clipped.feature, "parcel")}

    titled = p_clipped.union_pieces(np.isin(tenure, TENURE_CLASSES["titled"]))
    secured = p_clipped.union_pieces(np.isin(tenure, TENURE_CLASSES["secured"]))

    if concessions is not None and len(concessions):
        c_geoms = project(concessions, crs)
        status = concessions["status"].astype(str).to_numpy()
        c_clipped = clip_to_territories(t_geoms, c_geoms, concession_bits(status))
        conc_table = summarise_concessions(claimed, concessions, c_clipped, secured)
        overlaps = build_overlap_table(
            territories, claimed, concessions, shapely.area(c_geoms), c_clipped, titled, secured
        )
        outside["concessions"] = _outside(concessions, c_geoms, c_clipped.feature, "concession")
    else:
        columns = [
            "concession_ha",
            "concession_pct",
            "concession_untitled_ha",
            *[f"concession_{k}_ha" for k in (*CONCESSION_KINDS, *CONCESSION_STATUSES)],
        ]
        conc_table = pd.DataFrame(0.0, index=range(n), columns=columns)
        overlaps = pd.DataFrame(columns=OVERLAP_COLUMNS)

    table = pd.DataFrame({"territory_id": territories["territory_id"].astype(str).to_numpy()})
    for column in ("name", "people"):
        values = territories[column] if column in territories.columns else None
        table[column] = values.to_numpy(dtype=object) if values is not None else None
    table = pd.concat([table, tenure_table, conc_table], axis=1)
    if incidents is not None:
        inside, nearby = count_incidents(t_geoms, project(incidents, crs), crs, nearby_km)
    else:
        inside = nearby = np.zeros(n, dtype=np.int64)
    table["incidents_inside"] = inside
    table["incidents_nearby"] = nearby
    kinds = [
        c
        for c in table.columns
        if c.startswith("concession_") and c.endswith("_ha") and c not in BASE_COLUMNS
    ]
    table = table[[*BASE_COLUMNS, *kinds, *INCIDENT_COLUMNS]]

    joined = territories.to_crs(4326).drop(
        columns=[c for c in table.columns if c in territories.columns and c != "territory_id"]
    )
    joined = joined.merge(table.drop(columns=["name", "people"]), on="territory_id", how="left")
    for column in ("name", "people"):
        if column in territories.columns:
            joined[column] = territories[column].to_numpy()
    area_check = check_area_method(territories.geometry, crs)
    return StatsResult(
        table=table,
        overlaps=overlaps,
        territories=joined,
        outside=outside,
        area_crs=crs,
        area_check=area_check,
        options={"nearby_km": nearby_km, "area_crs": crs.srs},
    )


def format_ha(value: float) -> str:
    """Format hectares for a sentence: ``8,600``, ``200``, ``12.5``, ``0.4``."""
    if not np.isfinite(value):
        return "n/a"
    if value == 0:
        return "0"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def describe_territory(row: pd.Series) -> str:
    """Return the plain sentence for one territory.

    Examples
    --------
    >>> import pandas as pd
    >>> text = describe_territory(pd.Series({"territory_id": "T1",
    ...     "name": "Santa Clara de Uchunya", "claimed_ha": 8600.0, "titled_ha": 200.0,
    ...     "titled_pct": 2.3256, "concession_ha": 6000.0, "concession_pct": 69.77,
    ...     "incidents_inside": 3, "incidents_nearby": 1}))
    >>> text.split(", ")[0]
    'Santa Clara de Uchunya: 200 of 8,600 ha titled (2.3 %)'
    >>> text.split(", ", 1)[1]
    '6,000 ha under concessions (69.8 %), 3 incidents inside, 1 nearby'
    """
    name = row.get("name")
    label = str(name) if isinstance(name, str) and name.strip() else str(row["territory_id"])
    inside = int(row.get("incidents_inside", 0))
    nearby = int(row.get("incidents_nearby", 0))
    return (
        f"{label}: {format_ha(row['titled_ha'])} of {format_ha(row['claimed_ha'])} ha titled "
        f"({row['titled_pct']:.1f} %), {format_ha(row['concession_ha'])} ha under concessions "
        f"({row['concession_pct']:.1f} %), {inside} incident{'s' if inside != 1 else ''} inside, "
        f"{nearby} nearby"
    )


def round_table(table: pd.DataFrame, decimals: int = 2) -> pd.DataFrame:
    """Round hectare and percent columns for publication (the Python API keeps full precision)."""
    out = table.copy()
    for column in out.columns:
        if column.endswith(("_ha", "_pct")) or column.startswith("pct_"):
            out[column] = out[column].astype(float).round(decimals)
    return out
