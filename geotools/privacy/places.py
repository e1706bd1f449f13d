"""What the privacy gate shows of community points and of statistics by region.

Community points are public places (registry centroids): their positions are published as
given, never displaced; their layer keeps only allow-listed columns
(:data:`geotools.privacy.rules.PUBLIC_LAYER_COLUMNS`, personal-looking columns never). Their
memberships (territories, concessions) relate public polygons and are kept. What a community
point counts of incidents is recounted from the incidents a view publishes, at their published
places (:func:`share_communities`), as the territories' counts are.

Regions (departments, provinces, districts) are the natural public form of sensitive counts. In
a public view every incident column of ``region_stats`` (``incidents``, ``incidents_<kind>``,
``incidents_<year>``, ``incidents_uncertain``, ``killings``) is recounted from the published
incidents and every count below the policy's minimum (:data:`~geotools.privacy.rules.
FLOOR_MIN_COUNT` at least) is written ``"<N"`` (:func:`share_regions`); the other columns
(hectares, territories, community points) describe public layers and are kept.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import geopandas as gpd
import pandas as pd

from geotools.analysis.communities import relate_communities
from geotools.analysis.regions import compute_region_stats
from geotools.privacy.rules import allow_columns, suppress_counts

log = logging.getLogger(__name__)


def is_region_incident_column(column: str) -> bool:
    """Whether a ``region_stats`` column counts incidents (recounted and suppressed in public).

    Parameters
    ----------
    column : str
        A column of ``region_stats.csv``.

    Returns
    -------
    bool
        True for ``incidents``, ``incidents_*`` and ``killings``.

    Examples
    --------
    >>> [is_region_incident_column(c) for c in ("incidents_2022", "killings", "claimed_ha")]
    [True, True, False]
    """
    return column in ("incidents", "killings") or column.startswith("incidents_")


def share_communities(
    communities: Any,
    points: gpd.GeoDataFrame | None,
    counted: gpd.GeoDataFrame,
    nearby_km: float,
) -> Any:
    """Return the community tables a public view may show.

    Parameters
    ----------
    communities : geotools.analysis.communities.CommunityResult or None
        The tables computed from every incident (``result.communities``).
    points : geopandas.GeoDataFrame or None
        The community points the tables were computed from (same rows, same order).
    counted : geopandas.GeoDataFrame
        The incidents the view publishes, at their published places.
    nearby_km : float
        The "nearby" distance of the statistics.

    Returns
    -------
    geotools.analysis.communities.CommunityResult or None
        A copy whose ``incidents_nearby`` counts only ``counted``, and whose tables hold no
        personal-looking column; None when there are no community tables.
    """
    if communities is None:
        return None
    stats = communities.stats.copy()
    if "incidents_nearby" in stats.columns:
        if points is None or len(points) != len(stats):
            stats = stats.drop(columns=["incidents_nearby"])
        else:
            recount = relate_communities(points, {}, incidents=counted, nearby_km=nearby_km)
            stats["incidents_nearby"] = recount.stats["incidents_nearby"].to_numpy()
    stats, dropped = allow_columns(stats, "communities", list(stats.columns))
    membership, _ = allow_columns(
        communities.membership, "communities", list(communities.membership.columns)
    )
    if dropped:
        log.info("community tables: column(s) not published: %s", ", ".join(dropped))
    return dataclasses.replace(communities, stats=stats, membership=membership)


def region_frame(regions: gpd.GeoDataFrame, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """Join a ``region_stats`` table to the region polygons it was computed from (row order).

    Parameters
    ----------
    regions : geopandas.GeoDataFrame
        The region polygons (as given to :func:`compute_region_stats`).
    table : pandas.DataFrame
        Its table, one row per region in the same order.

    Returns
    -------
    geopandas.GeoDataFrame
        The table's columns and the regions' geometry, EPSG:4326.
    """
    geometry = regions.geometry.to_crs(4326).reset_index(drop=True)
    return gpd.GeoDataFrame(table.reset_index(drop=True), geometry=geometry.array, crs=4326)


def share_regions(
    table: pd.DataFrame,
    regions: gpd.GeoDataFrame,
    counted: gpd.GeoDataFrame,
    minimum: int,
) -> pd.DataFrame:
    """Return ``region_stats`` as a public view may show it.

    Parameters
    ----------
    table : pandas.DataFrame
        ``region_stats`` computed from every incident (one row per region, regions' order).
    regions : geopandas.GeoDataFrame
        The region polygons.
    counted : geopandas.GeoDataFrame
        The incidents the view publishes, at their published places.
    minimum : int
        Counts below this are written ``"<minimum"`` (zero included).

    Returns
    -------
    pandas.DataFrame
        The non-incident columns as given; the incident columns recounted from ``counted``
        (a kind or year only withheld incidents had is gone) and suppressed.
    """
    kept = table[[c for c in table.columns if not is_region_incident_column(str(c))]].copy()
    had_incidents = any(is_region_incident_column(str(c)) for c in table.columns)
    if not had_incidents:
        return kept
    recount = compute_region_stats(regions, incidents=counted).table
    # Columns every run has stay (all suppressed when nothing is published); a kind or a year
    # is listed only when a published incident has it.
    columns = [c for c in ("incidents", "incidents_uncertain", "killings") if c in table]
    columns += [c for c in recount.columns if is_region_incident_column(str(c)) and
                c not in columns]
    for column in columns:
        values = recount[column].to_numpy() if column in recount else [0] * len(kept)
        kept[column] = suppress_counts(values, minimum).to_numpy()
    log.debug("regions: incident counts recounted from %d published incident(s)", len(counted))
    return kept
