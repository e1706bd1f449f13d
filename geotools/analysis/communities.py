"""Communities known only as points: which polygons hold each one, and how many each polygon holds.

Most community data in Peru is points (the IBC / SICNA registry of native communities is 1,600
centroids). :func:`relate_communities` relates a layer of community points to any number of
polygon layers (concessions, territories, protected areas, districts), all vectorised (STRtree
queries, numpy, pandas groupby):

membership
    One row per (community, polygon) pair: ``inside`` or ``possibly inside``. A community point
    declared approximate (``precision`` ``approximate``, ``locality`` or ``district``, radii of
    :data:`geotools.analysis.incidents.UNCERTAINTY_KM`) is the centre of a disc of possible
    positions; it is ``inside`` a polygon only if the whole disc is, ``possibly inside`` if the
    disc partly overlaps it (the rule of :func:`geotools.analysis.incidents.classify_pairs`).
    Several rows of one polygon (an oil block split in five parts, ids suffixed ``#2``, ``#3``
    by validation) are one polygon here: a point is counted once however many parts hold it.
per community
    Counts of polygons holding it per layer, the territory it belongs to (when territories are
    given), the geodesic distance to the nearest concession of each kind and the number of
    incidents within ``nearby_km``.
per polygon
    How many community points it holds (inside / possibly inside) and which.

Point-in-polygon uses the same edge reading as areas and overlaps: polygons are projected with
:func:`geotools.area.project_to_area_crs`, whose edges follow geodesics (or, when the layer was
read with ``edges="lonlat"``, the lon/lat-straight line densified at read time; docs/area.md,
"Long edges"). A point on the boundary is inside, as :func:`geotools.analysis.incidents.
count_incidents` counts.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geotools.analysis.incidents import (
    INSIDE,
    SEARCH_MARGIN,
    UNCERTAINTY_KM,
    _radii_m,
    classify_pairs,
    compute_geodesic_distance_m,
)
from geotools.area import area_crs_for, project_to_area_crs
from geotools.errors import ValidationError
from geotools.geometry import query_pairs
from geotools.schema import DEFAULT_NEARBY_KM

log = logging.getLogger(__name__)

#: Relation labels written in the membership table.
RELATION_LABELS: dict[int, str] = {0: "inside", 1: "possibly inside"}
#: Suffix validation gives the second, third... row sharing an id (``8#2``).
_DUPLICATE_SUFFIX = re.compile(r"#\d+$")

MEMBERSHIP_COLUMNS = (
    "community_id",
    "layer",
    "feature_id",
    "kind",
    "status",
    "relation",
    "boundary_distance_m",
)


@dataclass
class CommunityResult:
    """Tables of :func:`relate_communities`.

    Attributes
    ----------
    membership : pandas.DataFrame
        One row per (community, layer, polygon), columns :data:`MEMBERSHIP_COLUMNS`.
    stats : pandas.DataFrame
        One row per community point.
    polygons : pandas.DataFrame
        One row per (layer, polygon): ``communities_inside``, ``communities_possibly_inside``
        and ``community_ids`` (``;``-separated, inside first).
    """

    membership: pd.DataFrame
    stats: pd.DataFrame
    polygons: pd.DataFrame


def polygon_keys(ids: pd.Series) -> np.ndarray:
    """Return the id of the polygon each row belongs to, without validation's ``#N`` suffix.

    Parameters
    ----------
    ids : pandas.Series
        Ids as read (duplicates suffixed ``#2``, ``#3``... by validation).

    Returns
    -------
    numpy.ndarray of str
        ``"8#2"`` -> ``"8"`` when ``"8"`` is also an id; other ids unchanged.
    """
    text = ids.astype(str)
    base = text.str.replace(_DUPLICATE_SUFFIX, "", regex=True)
    known = base.isin(set(text))
    return np.where(known, base, text).astype(object)


def _column(frame: pd.DataFrame, name: str, rows: np.ndarray) -> np.ndarray:
    if name not in frame:
        return np.full(len(rows), None, dtype=object)
    return frame[name].to_numpy(dtype=object)[rows]


def _membership(
    points: np.ndarray,
    radius_m: np.ndarray,
    community_ids: np.ndarray,
    name: str,
    frame: gpd.GeoDataFrame,
    id_column: str,
    crs: object,
) -> pd.DataFrame:
    zones = shapely.make_valid(project_to_area_crs(frame.geometry, crs))  # type: ignore[arg-type]
    pairs = classify_pairs(zones, points, radius_m, crs, nearby_km=0.0)  # type: ignore[arg-type]
    pairs = pairs[pairs["relation"] <= 1]
    t = pairs["t"].to_numpy()
    keys = polygon_keys(frame[id_column])
    table = pd.DataFrame(
        {
            "community_id": community_ids[pairs["p"].to_numpy()],
            "layer": name,
            "feature_id": keys[t],
            "kind": _column(frame, "kind", t),
            "status": _column(frame, "status", t),
            "relation_code": pairs["relation"].to_numpy(),
            "boundary_distance_m": pairs["distance_m"].to_numpy(),
            "p": pairs["p"].to_numpy(),
        }
    )
    # One polygon however many parts hold the point: the best relation, the farthest margin.
    table = table.sort_values(
        ["p", "feature_id", "relation_code", "boundary_distance_m"],
        ascending=[True, True, True, False],
        kind="mergesort",
    )
    return table.drop_duplicates(["p", "feature_id"], keep="first")


#: Columns of the per-polygon table (``community_polygons.csv``).
POLYGON_COLUMNS = (
    "layer",
    "feature_id",
    "name",
    "kind",
    "status",
    "communities_inside",
    "communities_possibly_inside",
    "community_ids",
)


def _polygon_table(
    members: pd.DataFrame, polygons: Mapping[str, tuple[gpd.GeoDataFrame, str]]
) -> pd.DataFrame:
    """One row per (layer, polygon), those holding no community included (0, not absent)."""
    listed = []
    for name, (frame, id_column) in polygons.items():
        keys = polygon_keys(frame[id_column])
        rows = np.arange(len(frame))
        listed.append(
            pd.DataFrame(
                {
                    "layer": name,
                    "feature_id": keys,
                    "name": _column(frame, "name", rows),
                    "kind": _column(frame, "kind", rows),
                    "status": _column(frame, "status", rows),
                }
            ).drop_duplicates("feature_id")  # the first part of a polygon gives its name
        )
    table = (
        pd.concat(listed, ignore_index=True)
        if listed
        else pd.DataFrame(columns=["layer", "feature_id", "name", "kind", "status"])
    )
    order = members.sort_values(["layer", "feature_id", "relation_code", "community_id"])
    grouped = order.groupby(["layer", "feature_id"], sort=True)
    counts = pd.DataFrame(
        {
            "communities_inside": grouped["relation_code"].agg(lambda s: int((s == 0).sum())),
            "communities_possibly_inside": grouped["relation_code"].agg(
                lambda s: int((s == 1).sum())
            ),
            "community_ids": grouped["community_id"].agg(lambda s: ";".join(map(str, s))),
        }
    ).reset_index()
    table = table.merge(counts, on=["layer", "feature_id"], how="left")
    for column in ("communities_inside", "communities_possibly_inside"):
        table[column] = table[column].fillna(0).astype(int)
    table["community_ids"] = table["community_ids"].fillna("")
    table = table.sort_values(["layer", "feature_id"], kind="mergesort")
    return table[list(POLYGON_COLUMNS)].reset_index(drop=True)


def _nearest_km(points: np.ndarray, zones: np.ndarray, crs: object) -> np.ndarray:
    """Geodesic distance (km) from each point to the nearest zone (0 inside)."""
    out = np.full(len(points), np.nan)
    if len(zones) == 0 or len(points) == 0:
        return out
    p_idx, z_idx = shapely.STRtree(zones).query_nearest(points, all_matches=True)
    # The nearest in the plane may not be the nearest on the ellipsoid: also take every zone
    # within the planar distance times the margin.
    planar = shapely.distance(points[p_idx], zones[z_idx])
    reach = np.zeros(len(points))
    np.maximum.at(reach, p_idx, planar)
    # Each point searches only as far as its own nearest zone (times the margin).
    p_c, z_c = shapely.STRtree(zones).query(
        points, predicate="dwithin", distance=reach * SEARCH_MARGIN + 1.0
    )
    d = compute_geodesic_distance_m(zones[z_c], points[p_c], crs)  # type: ignore[arg-type]
    np.fmin.at(out, p_c, d / 1000.0)
    return out


def relate_communities(
    communities: gpd.GeoDataFrame,
    polygons: Mapping[str, tuple[gpd.GeoDataFrame, str]],
    incidents: gpd.GeoDataFrame | None = None,
    nearby_km: float = DEFAULT_NEARBY_KM,
    concession_layer: str = "concessions",
    territory_layer: str = "territories",
    uncertainty_km: Mapping[str, float] = UNCERTAINTY_KM,
    nearest_layers: Collection[str] = (),
) -> CommunityResult:
    """Relate community points to polygon layers, concessions by kind and incidents.

    Parameters
    ----------
    communities : geopandas.GeoDataFrame
        Community points with ``community_id`` (and optionally ``name``, ``precision``).
    polygons : mapping of str to (geopandas.GeoDataFrame, str)
        Layer name -> (polygons, id column). ``kind`` and ``status`` columns are carried to the
        membership table when present.
    incidents : geopandas.GeoDataFrame, optional
        Incident points; ``None`` leaves ``incidents_nearby`` empty (not analysed).
    nearby_km : float, default :data:`geotools.schema.DEFAULT_NEARBY_KM`
        Geodesic distance (km) within which an incident counts for a community.
    concession_layer : str, default "concessions"
        Layer of ``polygons`` whose ``kind`` gives the ``nearest_<kind>_km`` columns.
    territory_layer : str, default "territories"
        Layer of ``polygons`` giving the ``territory_id`` column.
    uncertainty_km : mapping of str to float, default :data:`UNCERTAINTY_KM`
        Radius (km) of each location precision.
    nearest_layers : collection of str, default ()
        Layers of ``polygons`` that also give a ``nearest_<layer>_km`` column (geodesic
        distance to the nearest polygon of the layer, 0 inside).

    Returns
    -------
    CommunityResult
        The membership, per-community and per-polygon tables.
    """
    frames = [communities] + [f for f, _ in polygons.values()]
    if incidents is not None:
        frames.append(incidents)
    crs = area_crs_for(*frames)
    points = project_to_area_crs(communities.geometry, crs)
    ids = communities["community_id"].astype(str).to_numpy(dtype=object)
    precision = (
        communities["precision"]
        if "precision" in communities
        else pd.Series(pd.NA, index=communities.index, dtype="string")
    )
    radius_m = _radii_m(precision, uncertainty_km)

    parts = [
        _membership(points, radius_m, ids, name, frame, id_col, crs)
        for name, (frame, id_col) in polygons.items()
    ]
    columns = [c for c in MEMBERSHIP_COLUMNS if c != "relation"] + ["relation_code", "p"]
    members = (
        pd.concat([p[columns] for p in parts], ignore_index=True)
        if parts
        else pd.DataFrame(columns=columns)
    )
    members["relation"] = members["relation_code"].map(RELATION_LABELS)

    stats = pd.DataFrame({"community_id": ids})
    for col in ("name", "people", "precision"):
        if col in communities:
            stats[col] = communities[col].to_numpy()
    n = len(ids)
    for name in polygons:
        sub = members[members["layer"] == name]
        for code, label in ((INSIDE, "in"), (1, "possibly_in")):
            p = sub.loc[sub["relation_code"] == code, "p"].to_numpy(dtype=np.intp)
            stats[f"{label}_{name}"] = np.bincount(p, minlength=n)
    if territory_layer in polygons:
        sub = members[(members["layer"] == territory_layer) & (members["relation_code"] == INSIDE)]
        joined = sub.groupby("p")["feature_id"].agg(lambda s: ";".join(sorted(map(str, s))))
        stats["territory_id"] = pd.Series(joined).reindex(range(n)).to_numpy(dtype=object)
    if concession_layer in polygons:
        frame, _ = polygons[concession_layer]
        zones = shapely.make_valid(project_to_area_crs(frame.geometry, crs))
        kinds = (
            frame["kind"].astype(str).to_numpy()
            if "kind" in frame
            else np.full(len(frame), "other")
        )
        for kind in sorted(set(kinds)):
            stats[f"nearest_{kind}_km"] = _nearest_km(points, zones[kinds == kind], crs)
    for name in nearest_layers:
        frame, _ = polygons[name]
        zones = shapely.make_valid(project_to_area_crs(frame.geometry, crs))
        stats[f"nearest_{name}_km"] = _nearest_km(points, zones, crs)
    if incidents is not None:
        located = incidents[~incidents.geometry.isna() & ~incidents.geometry.is_empty]
        inc = project_to_area_crs(located.geometry, crs)
        p_c, i_c = query_pairs(points, inc, "dwithin", nearby_km * 1000 * SEARCH_MARGIN)
        d = compute_geodesic_distance_m(inc[i_c], points[p_c], crs)
        stats["incidents_nearby"] = np.bincount(p_c[d <= nearby_km * 1000], minlength=n)

    per_polygon = _polygon_table(members, polygons)
    membership = members.sort_values(["community_id", "layer", "feature_id"], kind="mergesort")[
        list(MEMBERSHIP_COLUMNS)
    ].reset_index(drop=True)
    log.debug("%d community points, %d memberships", n, len(membership))
    return CommunityResult(membership=membership, stats=stats, polygons=per_polygon)


def relate_community_layer(
    communities: gpd.GeoDataFrame,
    territories: gpd.GeoDataFrame | None,
    concessions: gpd.GeoDataFrame | None,
    incidents: gpd.GeoDataFrame | None,
    nearby_km: float = DEFAULT_NEARBY_KM,
) -> CommunityResult:
    """Relate a run's community points to its territories, concessions and incidents.

    Parameters
    ----------
    communities : geopandas.GeoDataFrame
        The ``communities`` layer.
    territories : geopandas.GeoDataFrame, optional
        The ``territories`` layer (gives ``territory_id`` and ``in_territories``).
    concessions : geopandas.GeoDataFrame, optional
        The ``concessions`` layer (gives ``in_concessions`` and ``nearest_<kind>_km``).
    incidents : geopandas.GeoDataFrame, optional
        The ``incidents`` layer (gives ``incidents_nearby``); absent is not analysed.
    nearby_km : float, default :data:`geotools.schema.DEFAULT_NEARBY_KM`
        Geodesic distance (km) within which an incident counts for a community.

    Returns
    -------
    CommunityResult
        See :func:`relate_communities`.
    """
    polygons: dict[str, tuple[gpd.GeoDataFrame, str]] = {}
    if territories is not None:
        polygons["territories"] = (territories, "territory_id")
    if concessions is not None:
        polygons["concessions"] = (concessions, "concession_id")
    return relate_communities(communities, polygons, incidents=incidents, nearby_km=nearby_km)


def add_area_layers(
    result: CommunityResult,
    communities: gpd.GeoDataFrame,
    areas: Mapping[str, gpd.GeoDataFrame],
    uncertainty_km: Mapping[str, float] = UNCERTAINTY_KM,
) -> CommunityResult:
    """Add extra polygon layers (``--areas NAME=FILE``) to a run's community tables.

    Each layer gives membership rows (``layer`` = its name), rows of the per-polygon table,
    and the ``in_<name>``, ``possibly_in_<name>`` and ``nearest_<name>_km`` columns of the
    per-community table, computed as :func:`relate_communities` does for its layers.

    Parameters
    ----------
    result : CommunityResult
        The run's tables (:func:`relate_community_layer`).
    communities : geopandas.GeoDataFrame
        The community points ``result`` was computed from, in the same order.
    areas : mapping of str to geopandas.GeoDataFrame
        Name -> polygons of the ``areas`` kind (id column ``area_id``).
    uncertainty_km : mapping of str to float, default :data:`UNCERTAINTY_KM`
        Radius (km) of each location precision.

    Returns
    -------
    CommunityResult
        New tables: ``result``'s with the extra layers' rows and columns.

    Raises
    ------
    ValidationError
        A layer name would give a column ``result`` already has.
    """
    if not areas:
        return result
    extra = relate_communities(
        communities,
        {name: (frame, "area_id") for name, frame in areas.items()},
        uncertainty_km=uncertainty_km,
        nearest_layers=list(areas),
    )
    added = [c for c in extra.stats.columns if c not in ("community_id", "name", "people")]
    added = [c for c in added if c != "precision"]
    clash = sorted(set(added) & set(result.stats.columns))
    if clash:
        raise ValidationError(
            f"--areas: the column(s) {', '.join(clash)} already exist; rename the layer(s)"
        )
    stats = result.stats.copy()
    for column in added:
        stats[column] = extra.stats[column].to_numpy()
    membership = pd.concat([result.membership, extra.membership], ignore_index=True)
    membership = membership.sort_values(
        ["community_id", "layer", "feature_id"], kind="mergesort"
    ).reset_index(drop=True)
    polygons = pd.concat([result.polygons, extra.polygons], ignore_index=True)
    polygons = polygons.sort_values(["layer", "feature_id"], kind="mergesort")
    return CommunityResult(membership, stats, polygons.reset_index(drop=True))


def describe_communities(result: CommunityResult) -> list[str]:
    """Return one sentence per polygon layer: how many community points it holds.

    Parameters
    ----------
    result : CommunityResult
        Output of :func:`relate_communities`.

    Returns
    -------
    list of str
        E.g. ``"Communities: 423 of 1,600 inside concessions (0 more possibly inside)"``.
    """
    n = len(result.stats)
    lines = []
    for column in result.stats.columns:
        if not column.startswith("in_"):
            continue
        layer = column[3:]
        inside = int((result.stats[column] > 0).sum())
        maybe = result.stats.get(f"possibly_in_{layer}")
        more = int(((result.stats[column] == 0) & (maybe > 0)).sum()) if maybe is not None else 0
        lines.append(
            f"Communities: {inside:,} of {n:,} inside {layer} ({more:,} more possibly inside)"
        )
    return lines
