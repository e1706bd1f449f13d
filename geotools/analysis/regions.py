"""Statistics by region (departments, provinces, districts): ``region_stats.csv``.

:func:`compute_region_stats` takes a polygon layer of regions (e.g. the INEI departments) and
the run's layers, and gives per region, all vectorised (STRtree, shapely 2, numpy):

- ``territories``: territories whose largest share lies in the region (each counted once);
- ``claimed_ha``, ``titled_ha``: the union of the territories, of the titled parcels, clipped to
  the region (land claimed by two overlapping territories is counted once);
- ``concession_<kind>_ha``: the union of the active and in-process concessions of each kind
  (expired ones are never counted, as in ``territory_stats.csv``), clipped to the region;
- ``communities``: community points in the region (``communities_uncertain`` for points whose
  precision disc crosses the region's boundary);
- ``incidents``, ``incidents_<kind>``, ``incidents_<year>``, ``killings``: incidents located in
  the region. An incident located only to a locality or district (radius
  :data:`geotools.analysis.incidents.UNCERTAINTY_KM`) whose disc of possible positions crosses
  the region's boundary is not assigned: it is counted in ``incidents_uncertain`` of every region
  its disc touches (said so in the table), never in ``incidents``. Precision coarser than the
  region level is not asked to say more than it can, and precision at or finer than an
  administrative level is used at that level: when the regions are administrative units
  (:data:`ADMIN_LEVELS`, detected from the INEI id column) an incident located to its
  ``district`` lies surely in the district's department and province, so it is assigned by its
  point (a district is inside one department), not by a 20 km disc.

Hectares are measured in the run's equal-area plane (edges as geodesics, docs/area.md).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geotools.analysis.communities import polygon_keys
from geotools.analysis.incidents import (
    INSIDE,
    KILLING_KINDS,
    UNCERTAIN,
    UNCERTAINTY_KM,
    _radii_m,
    classify_pairs,
)
from geotools.area import area_crs_for, project_to_area_crs
from geotools.errors import ValidationError
from geotools.geometry import query_pairs
from geotools.schema import normalise_name

log = logging.getLogger(__name__)

#: Region name columns recognised (normalised), in order: INEI departments, provinces, districts.
REGION_NAME_FIELDS: tuple[str, ...] = (
    "region",
    "name",
    "nombre",
    "nombdist",
    "nombprov",
    "nombdep",
    "departamento",
    "provincia",
    "distrito",
)
#: Region id columns recognised (normalised): the INEI ubigeo of each level.
REGION_ID_FIELDS: tuple[str, ...] = ("region_id", "iddist", "first_idpr", "first_iddp", "ubigeo")
#: Administrative level of a region layer by its INEI id column (normalised), coarsest first.
ADMIN_LEVELS: dict[str, str] = {
    "first_iddp": "department",
    "first_idpr": "province",
    "iddist": "district",
}
#: Precisions that name an administrative unit, and the levels they are exact at or under.
PRECISION_LEVELS: dict[str, tuple[str, ...]] = {"district": ("department", "province", "district")}


@dataclass
class RegionResult:
    """Tables of :func:`compute_region_stats`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per region (``region_stats.csv``).
    territory_region : pandas.Series
        Region id of each territory (largest share), indexed by ``territory_id``.
    incident_region : pandas.DataFrame
        ``incident_id``, ``region_id``, ``relation`` (``inside`` or ``uncertain``) per pair.
    level : str or None
        Administrative level of the regions (:data:`ADMIN_LEVELS`), None when not known.
    community_region : pandas.DataFrame
        ``community_id``, ``region_id``, ``relation`` per pair (like ``incident_region``).
    """

    table: pd.DataFrame
    territory_region: pd.Series
    incident_region: pd.DataFrame
    level: str | None = None
    community_region: pd.DataFrame | None = None


def region_columns(regions: gpd.GeoDataFrame) -> tuple[str, str]:
    """Return the id and name columns of a region layer.

    Parameters
    ----------
    regions : geopandas.GeoDataFrame
        Regions as read.

    Returns
    -------
    id_column, name_column : str
        The first of :data:`REGION_ID_FIELDS` (else the name column) and of
        :data:`REGION_NAME_FIELDS` present (names compared normalised).

    Raises
    ------
    ValidationError
        No name column is found.
    """
    names = {normalise_name(str(c)): str(c) for c in regions.columns}
    name = next((names[f] for f in REGION_NAME_FIELDS if f in names), None)
    if name is None:
        raise ValidationError(
            f"regions: no name column among {', '.join(regions.columns.astype(str))}; "
            f"rename one to 'region' (recognised: {', '.join(REGION_NAME_FIELDS)})"
        )
    ident = next((names[f] for f in REGION_ID_FIELDS if f in names), name)
    return ident, name


def _clipped_union_ha(zones: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Area (ha) of the union of ``geoms`` inside each zone (planar equal-area)."""
    if len(geoms) == 0:
        return np.zeros(len(zones))
    union = shapely.union_all(shapely.make_valid(geoms))
    return np.asarray(shapely.area(shapely.intersection(zones, union)), dtype=float) / 1e4


def _point_relations(
    zones: np.ndarray,
    frame: gpd.GeoDataFrame,
    crs: object,
    uncertainty_km: Mapping[str, float],
    level: str | None,
) -> pd.DataFrame:
    located = ~(frame.geometry.isna() | frame.geometry.is_empty).to_numpy()
    points = project_to_area_crs(frame.geometry[located], crs)  # type: ignore[arg-type]
    precision = (
        frame.loc[located, "precision"]
        if "precision" in frame
        else pd.Series(pd.NA, index=frame.index[located], dtype="string")
    )
    radius = _radii_m(precision, uncertainty_km)
    if level is not None:
        exact_here = [p for p, levels in PRECISION_LEVELS.items() if level in levels]
        radius[precision.astype("string").isin(exact_here).fillna(False).to_numpy()] = 0.0
    pairs = classify_pairs(zones, points, radius, crs, 0.0)  # type: ignore[arg-type]
    pairs = pairs[pairs["relation"] <= UNCERTAIN].copy()
    pairs["row"] = np.flatnonzero(located)[pairs["p"].to_numpy()]
    return pairs


def compute_region_stats(
    regions: gpd.GeoDataFrame,
    territories: gpd.GeoDataFrame | None = None,
    parcels: gpd.GeoDataFrame | None = None,
    concessions: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    uncertainty_km: Mapping[str, float] = UNCERTAINTY_KM,
) -> RegionResult:
    """Count and measure every layer by region.

    Parameters
    ----------
    regions : geopandas.GeoDataFrame
        Region polygons with a name column (:func:`region_columns`).
    territories, parcels, concessions : geopandas.GeoDataFrame, optional
        Canonical polygon layers; a layer not given leaves its columns out (not 0).
    communities, incidents : geopandas.GeoDataFrame, optional
        Canonical point layers.
    uncertainty_km : mapping of str to float, default :data:`UNCERTAINTY_KM`
        Radius (km) of each location precision.

    Returns
    -------
    RegionResult
        The region table and the region of each territory and incident.
    """
    id_col, name_col = region_columns(regions)
    level = ADMIN_LEVELS.get(normalise_name(id_col))
    given = [f for f in (regions, territories, parcels, concessions, communities, incidents)]
    crs = area_crs_for(*[f for f in given if f is not None])
    zones = shapely.make_valid(project_to_area_crs(regions.geometry, crs))
    region_ids = regions[id_col].astype(str).to_numpy(dtype=object)
    table = pd.DataFrame({"region_id": region_ids, "region": regions[name_col].to_numpy()})
    n = len(zones)
    territory_region = pd.Series(dtype=object, name="region_id")
    if territories is not None:
        t_geoms = shapely.make_valid(project_to_area_crs(territories.geometry, crs))
        r_idx, t_idx = query_pairs(zones, t_geoms, "intersects")
        share = shapely.area(shapely.intersection(zones[r_idx], t_geoms[t_idx]))
        order = np.lexsort((r_idx, -share, t_idx))  # per territory: largest share, first region
        first = order[np.r_[True, t_idx[order][1:] != t_idx[order][:-1]]] if len(order) else order
        best = np.full(len(t_geoms), -1)
        best[t_idx[first]] = r_idx[first]
        table["territories"] = np.bincount(best[best >= 0], minlength=n)
        territory_region = pd.Series(
            np.where(best >= 0, region_ids[np.maximum(best, 0)], None),
            index=territories["territory_id"].astype(str).to_numpy(),
            name="region_id",
        )
        table["claimed_ha"] = _clipped_union_ha(zones, t_geoms)
    if parcels is not None:
        titled = (parcels["tenure"] == "titled").to_numpy() if "tenure" in parcels else None
        p_geoms = project_to_area_crs(parcels.geometry, crs)
        table["titled_ha"] = _clipped_union_ha(
            zones, p_geoms if titled is None else p_geoms[titled]
        )
    if concessions is not None:
        c_geoms = project_to_area_crs(concessions.geometry, crs)
        status = concessions.get("status", pd.Series("active", index=concessions.index))
        pressure = (status.astype(str) != "expired").to_numpy()
        kinds = concessions.get("kind", pd.Series("other", index=concessions.index)).astype(str)
        for kind in sorted(set(kinds)):
            chosen = pressure & (kinds == kind).to_numpy()
            table[f"concession_{kind}_ha"] = _clipped_union_ha(zones, c_geoms[chosen])
    community_region: pd.DataFrame | None = None
    if communities is not None:
        pairs = _point_relations(zones, communities, crs, uncertainty_km, level)
        for code, column in ((INSIDE, "communities"), (UNCERTAIN, "communities_uncertain")):
            table[column] = np.bincount(pairs.loc[pairs["relation"] == code, "t"], minlength=n)
        community_region = pd.DataFrame(
            {
                "community_id": communities["community_id"].astype(str).to_numpy()[pairs["row"]],
                "region_id": region_ids[pairs["t"].to_numpy()],
                "relation": np.where(pairs["relation"] == INSIDE, "inside", "uncertain"),
            }
        )
    incident_region = pd.DataFrame(columns=["incident_id", "region_id", "relation"])
    if incidents is not None:
        pairs = _point_relations(zones, incidents, crs, uncertainty_km, level)
        rows = pairs["row"].to_numpy()
        sure = (pairs["relation"] == INSIDE).to_numpy()
        t = pairs["t"].to_numpy()
        table["incidents"] = np.bincount(t[sure], minlength=n)
        table["incidents_uncertain"] = np.bincount(t[~sure], minlength=n)
        kind = incidents["kind"].astype(str).to_numpy() if "kind" in incidents else None
        if kind is not None:
            table["killings"] = np.bincount(
                t[sure & np.isin(kind[rows], KILLING_KINDS)], minlength=n
            )
            for value in sorted(set(kind[rows[sure]])):
                table[f"incidents_{value}"] = np.bincount(
                    t[sure & (kind[rows] == value)], minlength=n
                )
        if "date" in incidents:
            year = pd.to_datetime(incidents["date"], errors="coerce").dt.year.to_numpy()
            years = year[rows]
            for value in sorted({int(y) for y in years[sure] if not np.isnan(y)}):
                table[f"incidents_{value}"] = np.bincount(t[sure & (years == value)], minlength=n)
        incident_region = pd.DataFrame(
            {
                "incident_id": incidents["incident_id"].astype(str).to_numpy()[rows],
                "region_id": region_ids[t],
                "relation": np.where(sure, "inside", "uncertain"),
            }
        )
    log.debug("%d regions", n)
    return RegionResult(table, territory_region, incident_region, level, community_region)


def label_communities(stats: pd.DataFrame, result: RegionResult) -> pd.DataFrame:
    """Return ``community_stats`` with ``region_id``: the region a point is surely in.

    Parameters
    ----------
    stats : pandas.DataFrame
        A table with ``community_id`` (``community_stats.csv``).
    result : RegionResult
        Output of :func:`compute_region_stats` with communities.

    Returns
    -------
    pandas.DataFrame
        A copy with ``region_id`` and ``region`` (empty when the point is in none, or only
        possibly in one), ``region_relation`` and ``regions_possible`` (``;``-separated regions
        its precision disc touches), as :func:`label_points` gives them.
    """
    pairs = result.community_region
    if pairs is None:
        return stats.copy()
    return label_points(stats, pairs, "community_id", result)


def label_territories(table: pd.DataFrame, result: RegionResult) -> pd.DataFrame:
    """Return ``table`` (one row per territory) with ``region_id`` and ``region`` added.

    Parameters
    ----------
    table : pandas.DataFrame
        A table with ``territory_id`` (``territory_stats.csv``).
    result : RegionResult
        Output of :func:`compute_region_stats`.

    Returns
    -------
    pandas.DataFrame
        A copy with the region of each territory (largest share; empty when in none).
    """
    out = table.copy()
    region_id = out["territory_id"].astype(str).map(result.territory_region)
    names = dict(zip(result.table["region_id"], result.table["region"], strict=True))
    out["region_id"] = region_id
    out["region"] = region_id.map(names)
    return out


def label_points(
    frame: pd.DataFrame, pairs: pd.DataFrame, id_column: str, result: RegionResult
) -> pd.DataFrame:
    """Return a point layer with the region of each point, honouring its precision.

    Parameters
    ----------
    frame : pandas.DataFrame
        Incidents or communities with ``id_column``.
    pairs : pandas.DataFrame
        ``id_column``, ``region_id``, ``relation`` per (point, region) pair, as in
        :attr:`RegionResult.incident_region` and :attr:`RegionResult.community_region`.
    id_column : str
        ``incident_id`` or ``community_id``.
    result : RegionResult
        Output of :func:`compute_region_stats` (for the region names).

    Returns
    -------
    pandas.DataFrame
        A copy with ``region_id`` and ``region`` (the region the point is surely in; empty
        otherwise), ``region_relation`` (``inside``; ``uncertain`` when its disc of possible
        positions crosses a region boundary; ``outside`` every region, or ``unlocated``) and
        ``regions_possible`` (``;``-separated ids of the regions an uncertain point may be in).
    """
    out = frame.copy()
    ids = out[id_column].astype(str)
    sure = pairs[pairs["relation"] == "inside"].drop_duplicates(id_column)
    maybe = pairs[pairs["relation"] == "uncertain"].groupby(id_column)["region_id"]
    names = dict(zip(result.table["region_id"], result.table["region"], strict=True))
    region_id = ids.map(sure.set_index(id_column)["region_id"])
    possible = ids.map(maybe.agg(lambda s: ";".join(sorted(map(str, s)))))
    geometry = getattr(frame, "geometry", None)
    located = (
        ~(geometry.isna() | geometry.is_empty).to_numpy()
        if geometry is not None
        else np.ones(len(out), dtype=bool)
    )
    out["region_id"] = region_id
    out["region"] = region_id.map(names)
    out["region_relation"] = np.select(
        [region_id.notna().to_numpy(), possible.notna().to_numpy(), located],
        ["inside", "uncertain", "outside"],
        "unlocated",
    )
    out["regions_possible"] = possible
    return out


def label_polygons(
    table: pd.DataFrame,
    polygons: Mapping[str, tuple[gpd.GeoDataFrame, str]],
    regions: gpd.GeoDataFrame,
) -> pd.DataFrame:
    """Return a per-polygon table with the region holding each polygon's largest share.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per (``layer``, ``feature_id``), e.g. ``community_polygons.csv``.
    polygons : mapping of str to (geopandas.GeoDataFrame, str)
        Layer name -> (polygons, id column). Rows of one polygon drawn in parts (ids ``8``,
        ``8#2``...) are one polygon: its share of a region is the sum of its parts'.
    regions : geopandas.GeoDataFrame
        Region polygons with a name column (:func:`region_columns`).

    Returns
    -------
    pandas.DataFrame
        A copy with ``region_id`` and ``region`` (empty for a polygon in no region).
    """
    id_col, name_col = region_columns(regions)
    crs = area_crs_for(regions, *[frame for frame, _ in polygons.values()])
    zones = shapely.make_valid(project_to_area_crs(regions.geometry, crs))
    region_ids = regions[id_col].astype(str).to_numpy(dtype=object)
    names = dict(zip(region_ids, regions[name_col], strict=True))
    found = []
    for layer, (frame, column) in polygons.items():
        geoms = shapely.make_valid(project_to_area_crs(frame.geometry, crs))
        r_idx, g_idx = query_pairs(zones, geoms, "intersects")
        share = shapely.area(shapely.intersection(zones[r_idx], geoms[g_idx]))
        found.append(
            pd.DataFrame(
                {
                    "layer": layer,
                    "feature_id": polygon_keys(frame[column])[g_idx],
                    "region_id": region_ids[r_idx],
                    "share": share,
                }
            )
        )
    pairs = pd.concat(found, ignore_index=True) if found else pd.DataFrame()
    out = table.copy()
    if pairs.empty:
        out["region_id"] = None
        out["region"] = None
        return out
    grouped = pairs.groupby(["layer", "feature_id", "region_id"], sort=True)["share"].sum()
    summed = grouped[grouped > 0].reset_index()
    # Largest share first; ties go to the first region id.
    best = summed.sort_values(
        ["layer", "feature_id", "share", "region_id"],
        ascending=[True, True, False, True],
        kind="mergesort",
    ).drop_duplicates(["layer", "feature_id"])
    best = best[["layer", "feature_id", "region_id"]]
    out = out.merge(best, on=["layer", "feature_id"], how="left")
    out["region"] = out["region_id"].map(names)
    return out
