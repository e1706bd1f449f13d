"""Statistics by region added to a run's results: one helper for ``stats``, ``map`` and
``publish``.

:func:`attach_region_stats` runs :func:`geotools.analysis.regions.compute_region_stats` on a
run's layers and sets ``result.regions`` (``region_stats.csv``), the region of each territory
(``region_id``, ``region`` in ``territory_stats.csv`` and ``overlaps.csv``), of each community
point and of each polygon holding community points (``community_polygons.csv``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd

from geotools.analysis.regions import (
    RegionResult,
    compute_region_stats,
    label_communities,
    label_polygons,
    label_territories,
)

#: Id column of each polygon layer a community point can lie in.
_POLYGON_ID_COLUMNS = {"territories": "territory_id", "concessions": "concession_id"}


def attach_region_stats(
    result: Any,
    frames: Mapping[str, gpd.GeoDataFrame],
    regions: gpd.GeoDataFrame,
    areas: Mapping[str, gpd.GeoDataFrame] | None = None,
) -> RegionResult:
    """Set ``result.regions`` and the region of each territory and community point, in place.

    Parameters
    ----------
    result : geotools.analysis.stats.StatsResult
        Output of :func:`geotools.analysis.stats.compute_stats`, changed in place.
    frames : mapping of str to geopandas.GeoDataFrame
        The layers it was computed from, by kind.
    regions : geopandas.GeoDataFrame
        Region polygons (:func:`geotools.analysis.regions.compute_region_stats`).
    areas : mapping of str to geopandas.GeoDataFrame, optional
        The run's extra polygon layers (``--areas``) by name, for ``community_polygons.csv``.

    Returns
    -------
    RegionResult
        The region tables, for labelling the run's point layers
        (:func:`geotools.analysis.regions.label_points`).
    """
    by_region = compute_region_stats(
        regions,
        territories=frames.get("territories"),
        parcels=frames.get("parcels"),
        concessions=frames.get("concessions"),
        communities=frames.get("communities"),
        incidents=frames.get("incidents"),
    )
    result.regions = by_region.table
    result.table = label_territories(result.table, by_region)
    result.territories = label_territories(result.territories, by_region)
    if "territory_id" in result.overlaps:
        result.overlaps = label_territories(result.overlaps, by_region)
    if result.communities is not None:
        result.communities.stats = label_communities(result.communities.stats, by_region)
        polygons: dict[str, tuple[gpd.GeoDataFrame, str]] = {
            kind: (frames[kind], column)
            for kind, column in _POLYGON_ID_COLUMNS.items()
            if kind in frames
        }
        polygons.update({name: (frame, "area_id") for name, frame in (areas or {}).items()})
        result.communities.polygons = label_polygons(result.communities.polygons, polygons, regions)
    return by_region
