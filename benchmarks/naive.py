"""The naive tenure statistics an analyst would write with plain geopandas (the baseline).

For each tenure class: ``geopandas.overlay(territories, parcels_of_that_class,
how="intersection")``, then ``.dissolve(by="territory_id")`` so overlapping parcels count once,
then the area of each dissolved geometry. Both layers are first projected to the same equal-area
CRS geotools uses (:data:`geotools.crs.PERU_ALBERS` by default), so the hectares are directly
comparable and the intersections are computed in the same plane as geotools computes them.

The columns and definitions match :func:`geotools.analysis.tenure.compute_tenure_stats`:

- ``claimed_ha``: the territory's area;
- ``titled_ha``: union of ``titled`` parcels inside the territory;
- ``secured_ha``: union of ``titled`` and ``cession_in_use`` parcels inside the territory;
- ``in_process_ha``: union of ``in_process`` parcels inside the territory;
- ``untitled_ha``: ``max(claimed - secured, 0)``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

M2_PER_HA = 10_000.0

#: Tenure classes and the parcel tenures each one unions (as in geotools.analysis.tenure).
CLASSES: dict[str, tuple[str, ...]] = {
    "titled": ("titled",),
    "secured": ("titled", "cession_in_use"),
    "in_process": ("in_process",),
}


def union_area_ha(
    territories: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, tenures: tuple[str, ...]
) -> pd.Series:
    """Hectares of the union of ``parcels`` with a tenure in ``tenures``, per territory_id.

    Territories without such parcels are absent from the result (callers fill 0).
    """
    selected = parcels.loc[parcels["tenure"].isin(tenures), ["geometry"]]
    pieces = gpd.overlay(territories, selected, how="intersection")
    dissolved = pieces.dissolve(by="territory_id")
    return dissolved.area / M2_PER_HA


def naive_tenure_stats(
    territories: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, area_crs: CRS | None = None
) -> pd.DataFrame:
    """Return the tenure table the naive way: overlay, dissolve, area.

    Parameters
    ----------
    territories : geopandas.GeoDataFrame
        ``territory_id`` and polygon geometries, any CRS.
    parcels : geopandas.GeoDataFrame
        ``tenure`` and polygon geometries, any CRS.
    area_crs : pyproj.CRS, optional
        Equal-area CRS; :data:`geotools.crs.PERU_ALBERS` when omitted.

    Returns
    -------
    pandas.DataFrame
        One row per territory in input order: ``territory_id, claimed_ha, titled_ha, secured_ha,
        in_process_ha, untitled_ha``.
    """
    if area_crs is None:
        from geotools.crs import PERU_ALBERS

        area_crs = PERU_ALBERS
    terr = territories[["territory_id", "geometry"]].to_crs(area_crs)
    terr["territory_id"] = terr["territory_id"].astype(str)
    parc = parcels[["tenure", "geometry"]].to_crs(area_crs)
    ids = terr["territory_id"]
    out = pd.DataFrame(
        {"territory_id": ids.to_numpy(), "claimed_ha": terr.area.to_numpy() / M2_PER_HA}
    )
    for name, tenures in CLASSES.items():
        ha = union_area_ha(terr, parc, tenures)
        out[f"{name}_ha"] = ids.map(ha).fillna(0.0).to_numpy(dtype=float)
    out["untitled_ha"] = np.maximum(out["claimed_ha"] - out["secured_ha"], 0.0)
    return out.reset_index(drop=True)
