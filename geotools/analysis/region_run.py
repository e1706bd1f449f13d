"""Statistics by region added to a run's results: one helper for ``stats``, ``map`` and
``publish``.

:func:`attach_region_stats` runs :func:`geotools.analysis.regions.compute_region_stats` on a
run's layers and sets ``result.regions`` (``region_stats.csv``), the region of each territory
(``region_id``, ``region`` in ``territory_stats.csv``) and of each community point.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd

from geotools.analysis.regions import (
    compute_region_stats,
    label_communities,
    label_territories,
)


def attach_region_stats(
    result: Any, frames: Mapping[str, gpd.GeoDataFrame], regions: gpd.GeoDataFrame
) -> None:
    """Set ``result.regions`` and the region of each territory and community point, in place.

    Parameters
    ----------
    result : geotools.analysis.stats.StatsResult
        Output of :func:`geotools.analysis.stats.compute_stats`, changed in place.
    frames : mapping of str to geopandas.GeoDataFrame
        The layers it was computed from, by kind.
    regions : geopandas.GeoDataFrame
        Region polygons (:func:`geotools.analysis.regions.compute_region_stats`).
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
    if result.communities is not None:
        result.communities.stats = label_communities(result.communities.stats, by_region)
