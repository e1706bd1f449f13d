"""Incident statistics per territory: duplicates, location uncertainty, counts by kind and year.

Two steps, both vectorised (STRtree queries, numpy, pandas groupby):

:func:`merge_duplicate_incidents`
    Records of one event reported by several sources (same kind, dates within ``max_days``,
    points within ``max_km`` on the ellipsoid) are merged into the first record (by date, then
    ``incident_id``). Pairs are linked and clusters are the connected components, so chains
    ``A~B, B~C`` end up as one event even when ``A`` and ``C`` are further apart than the limits.
    By default two records of the *same* source are never linked directly: a source listing two
    killings on one day in one village reports two killings. A record without a source is never
    merged: nothing says it repeats another report (community points a few hundred metres apart
    are distinct places).

:func:`summarise_incidents`
    Per territory: incidents inside, nearby and *uncertain*. An incident located only to a
    locality or district (:data:`UNCERTAINTY_KM`) is the centre of a disc of possible positions
    of radius ``r``. It is ``inside`` a territory only if the whole disc is (the point lies inside
    and more than ``r`` from the boundary, holes included); ``uncertain`` if the disc partly
    overlaps the territory (inside within ``r`` of the boundary, or outside less than ``r`` from
    it); otherwise the nearby rule applies to the distance of the point. ``exact`` (or missing)
    precision has ``r = 0``: inside when the point intersects the territory (boundary included),
    as :func:`count_incidents` counts. For a given pair (incident, territory) the three
    outcomes are exclusive; an incident may relate to several territories.

Distances are geodesic (WGS84) between the point and the nearest point of the territory (or its
boundary) (:func:`compute_geodesic_distance_m`): the nearest point in the equal-area plane, refined
to the geodesic nearest point (within 1 m) for every pair whose side of a threshold (``nearby_km``,
an uncertainty radius) could change (:mod:`geotools.analysis.nearest`). Candidates are searched in
the plane with the margin :data:`SEARCH_MARGIN`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Geod
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geotools.analysis.nearest import nearest_geodesic_m
from geotools.area import area_crs_for, project_to_area_crs
from geotools.geometry import query_pairs
from geotools.parallel import map_chunks
from geotools.schema import DEFAULT_NEARBY_KM, DEFAULT_SEVERITY, VOCABULARIES

log = logging.getLogger(__name__)

_GEOD = Geod(ellps="WGS84")
#: Candidate search margin over the requested distance (covers the scale error of the plane).
SEARCH_MARGIN = 1.25


def compute_geodesic_distance_m(
    zones: np.ndarray,
    points: np.ndarray,
    crs: CRS,
    thresholds_m: Sequence[float | np.ndarray] | None = None,
) -> np.ndarray:
    """Return the geodesic distance (m) from each point to its paired zone.

    Parameters
    ----------
    zones, points : numpy.ndarray of shapely.Geometry
        Paired arrays (same length) in the planar ``crs``.
    crs : pyproj.CRS
        Their CRS.
    thresholds_m : sequence of float or numpy.ndarray, optional
        Distances the result is compared with: only pairs whose side of one could change are
        refined to the geodesic nearest point
        (:func:`geotools.analysis.nearest.nearest_geodesic_m`); ``None`` refines every pair.

    Returns
    -------
    numpy.ndarray of float
        Metres on the ellipsoid from the point to the nearest point of the zone (0 inside).
    """
    return nearest_geodesic_m(zones, points, crs, thresholds_m)


def count_incidents(
    territory_geoms: np.ndarray, incident_geoms: np.ndarray, crs: CRS, nearby_km: float
) -> tuple[np.ndarray, np.ndarray]:
    """Count incidents inside and nearby each territory.

    Parameters
    ----------
    territory_geoms : numpy.ndarray of shapely.Geometry
        Territories in the planar equal-area ``crs``.
    incident_geoms : numpy.ndarray of shapely.Geometry
        Incident points in the same CRS.
    crs : pyproj.CRS
        The planar CRS.
    nearby_km : float
        Distance (km, geodesic) within which an outside incident is "nearby".

    Returns
    -------
    inside : numpy.ndarray of int
        Incidents within or on the boundary of each territory.
    nearby : numpy.ndarray of int
        Incidents outside each territory and within ``nearby_km`` of it.
    """
    n = len(territory_geoms)
    t_in, _ = query_pairs(territory_geoms, incident_geoms, predicate="intersects")
    inside = np.bincount(t_in, minlength=n)
    nearby = np.zeros(n, dtype=np.int64)
    if nearby_km > 0 and len(incident_geoms):
        t_near, p_near = query_pairs(
            territory_geoms,
            incident_geoms,
            predicate="dwithin",
            distance=nearby_km * 1000 * SEARCH_MARGIN,
        )
        dist = compute_geodesic_distance_m(
            territory_geoms[t_near], incident_geoms[p_near], crs, [nearby_km * 1000]
        )
        outside = ~shapely.intersects(territory_geoms[t_near], incident_geoms[p_near])
        keep = outside & (dist <= nearby_km * 1000)
        nearby = np.bincount(t_near[keep], minlength=n)
    return inside.astype(np.int64), nearby.astype(np.int64)

#: Uncertainty radius (km) by precision: an incident located only to a locality or district is
#: not asserted to be inside a territory it may not be in.
UNCERTAINTY_KM: dict[str, float] = {
    "exact": 0.0,
    "approximate": 1.0,
    "locality": 5.0,
    "district": 20.0,
}

#: Incident kinds of the vocabulary (one ``incidents_inside_<kind>`` column each).
KINDS: tuple[str, ...] = VOCABULARIES["incidents"]["kind"]
#: Kinds counted as killings.
KILLING_KINDS: tuple[str, ...] = ("killing", "protest_casualty")

#: Relation codes of a (territory, incident) pair.
INSIDE, UNCERTAIN, NEARBY, UNRELATED = 0, 1, 2, 3


@dataclass
class IncidentSummary:
    """Result of :func:`summarise_incidents`.

    Attributes
    ----------
    per_territory : pandas.DataFrame
        One row per territory in input order: ``territory_id``, ``incidents_inside``,
        ``incidents_nearby``, ``incidents_uncertain``, ``incidents_inside_<kind>`` and
        ``incidents_nearby_<kind>`` for every
        kind of the vocabulary, ``severity_inside``, ``severity_nearby``, ``killings_inside``,
        ``killings_nearby``, ``undated_inside``, ``last_incident_date`` (ISO string or NA, over
        incidents inside or nearby), ``first_incident_year`` (Int64, inside or nearby),
        ``days_since_last_incident`` (Int64, from ``reference_date``).
    by_year : pandas.DataFrame
        Long table ``territory_id, year, inside, nearby, uncertain, severity_inside``; only
        rows with a count above zero; incidents with no date are left out.
    uncertain : pandas.DataFrame
        One row per uncertain (incident, territory) pair: ``incident_id``, ``territory_id``,
        ``precision``, ``distance_km`` (geodesic distance from the point to the territory's
        boundary), ``point_inside`` (whether the point itself lies in the territory).
    reference_date : str or None
        ISO date ``days_since_last_incident`` is counted to (None when no incident is dated).
    pairs : pandas.DataFrame
        Every related (territory, incident) pair: ``territory_id, incident_id, relation,
        severity, date, kind`` (for scores that weigh incidents by age).
    """

    per_territory: pd.DataFrame
    by_year: pd.DataFrame
    uncertain: pd.DataFrame
    reference_date: str | None = None
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)


def parse_iso_dates(values: pd.Series) -> pd.Series:
    """Parse ISO ``YYYY-MM-DD`` strings; NA and unparseable values become ``NaT``.

    Parameters
    ----------
    values : pandas.Series
        Dates as ISO strings (or NA).

    Returns
    -------
    pandas.Series of datetime64
        Same index; unparseable non-missing values are logged.
    """
    text = values.astype("string").str.strip().str.slice(0, 10)
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    bad = int((parsed.isna() & text.notna() & (text != "")).sum())
    if bad:
        log.warning("%d incident dates are not ISO YYYY-MM-DD; treated as undated", bad)
    return pd.Series(parsed, index=values.index)


def _geodesic_point_distance_m(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    if len(lon1) == 0:
        return np.zeros(0)
    _, _, dist = _GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist, dtype=float)


def _objects(values: pd.Series) -> np.ndarray:
    """Values as an object array with ``None`` for missing ones."""
    out = np.array(values.astype(object), dtype=object)
    out[np.asarray(values.isna())] = None
    return out


def _located(geoms: np.ndarray) -> np.ndarray:
    """Mask of geometries that are present and not empty."""
    return ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))


def merge_duplicate_incidents(
    incidents: gpd.GeoDataFrame,
    max_km: float = 1.0,
    max_days: int = 1,
    *,
    distinct_sources: bool = True,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Merge records of the same event reported by different sources.

    Two records are linked when they have the same ``kind``, both dates are known and at most
    ``max_days`` apart, their points are at most ``max_km`` apart (geodesic), both have a
    ``source`` and, with ``distinct_sources``, their sources differ. A record without a source is
    never merged: nothing says it is a second report of another record's event.
    Clusters are the connected components of the links (chains merge). Each cluster is kept as
    its first record by ``date``, then ``incident_id``, with ``sources`` (distinct sources in
    that order, joined by ``"; "``) and ``merged_ids`` (all ids in that order, joined by
    ``"; "``). Records with no date, kind or location are never merged.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Canonical incidents (``incident_id``, ``date``, ``kind``, ``source``, points), any CRS.
    max_km : float, default 1.0
        Greatest geodesic distance between linked records.
    max_days : int, default 1
        Greatest difference between the dates of linked records, in days.
    distinct_sources : bool, default True
        Only link records of different sources.

    Returns
    -------
    merged : geopandas.GeoDataFrame
        The kept records in input order (index preserved), with ``sources`` and ``merged_ids``.
    merges : pandas.DataFrame
        One row per dropped record: ``kept_id``, ``merged_id``, ``distance_km`` and
        ``days_apart`` (from the kept record; in a chain these may exceed the limits).
    """
    n = len(incidents)
    ids = incidents["incident_id"].to_numpy()
    source = (
        incidents["source"].astype("string")
        if "source" in incidents
        else pd.Series(pd.NA, index=incidents.index, dtype="string")
    )
    dates = parse_iso_dates(
        incidents["date"] if "date" in incidents else pd.Series(pd.NA, index=incidents.index)
    )
    day = dates.to_numpy(dtype="datetime64[D]").astype("int64")  # NaT -> min int64
    kind = incidents["kind"].astype("string")

    geoms = np.asarray(incidents.geometry.values, dtype=object)
    ok = _located(geoms) & dates.notna().to_numpy() & kind.notna().to_numpy()
    idx = np.flatnonzero(ok)

    a = b = np.zeros(0, dtype=np.intp)
    lon = lat = np.zeros(n)
    if len(idx) > 1 and max_km >= 0:
        crs = area_crs_for(incidents.iloc[idx])
        plane = project_to_area_crs(incidents.geometry.iloc[idx], crs)
        ll = incidents.geometry.iloc[idx].to_crs(4326)
        lon, lat = np.full(n, np.nan), np.full(n, np.nan)
        lon[idx], lat[idx] = ll.x.to_numpy(), ll.y.to_numpy()
        tree = shapely.STRtree(plane)
        qa, qb = tree.query(plane, predicate="dwithin", distance=max_km * 1000 * SEARCH_MARGIN)
        a, b = idx[qa], idx[qb]
        keep = a < b
        a, b = a[keep], b[keep]
        kind_arr = kind.to_numpy(dtype=object)
        keep = (kind_arr[a] == kind_arr[b]) & (np.abs(day[a] - day[b]) <= max_days)
        src = _objects(source)
        keep &= ~(pd.isna(src[a]) | pd.isna(src[b]))
        if distinct_sources:
            keep &= src[a] != src[b]
        a, b = a[keep], b[keep]
        dist = _geodesic_point_distance_m(lon[a], lat[a], lon[b], lat[b])
        keep = dist <= max_km * 1000
        a, b = a[keep], b[keep]

    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, label = connected_components(graph, directed=False)

    order_frame = pd.DataFrame(
        {
            "label": label,
            "day": np.where(ok, day, np.iinfo(np.int64).max),
            "id": ids,
            "pos": range(n),
        }
    )
    ordered = order_frame.sort_values(["label", "day", "id", "pos"], kind="mergesort")
    pos = ordered["pos"].to_numpy()
    lab = ordered["label"].to_numpy()
    first = np.ones(n, dtype=bool)
    first[1:] = lab[1:] != lab[:-1]
    kept_pos = pos[first]
    size = np.bincount(label, minlength=n)
    head = np.empty(n, dtype=np.intp)  # kept position of each record's cluster
    head_of_label = np.empty(n, dtype=np.intp)
    head_of_label[lab[first]] = kept_pos
    head[:] = head_of_label[label]

    id_text = pd.Series(ids, dtype=object).astype(str).to_numpy()
    merged_ids = id_text.astype(object)
    sources = _objects(source)
    multi = size[label] > 1
    if multi.any():
        in_multi = ordered[multi[pos]]
        mpos = in_multi["pos"].to_numpy()
        grouped_ids = pd.Series(id_text[mpos]).groupby(in_multi["label"].to_numpy(), sort=False)
        joined_ids = grouped_ids.agg("; ".join)
        src_multi = pd.Series(_objects(source)[mpos])
        joined_src = src_multi.groupby(in_multi["label"].to_numpy(), sort=False).agg(
            lambda s: "; ".join(pd.unique(s.dropna().astype(str)))
        )
        heads = head_of_label[joined_ids.index.to_numpy()]
        merged_ids[heads] = joined_ids.to_numpy()
        sources[heads] = joined_src.reindex(joined_ids.index).replace("", None).to_numpy()

    is_kept = np.zeros(n, dtype=bool)
    is_kept[kept_pos] = True
    merged = incidents.copy()
    merged["sources"] = sources
    merged["merged_ids"] = merged_ids
    merged = merged.iloc[np.flatnonzero(is_kept)]

    dropped = pos[~first]
    k = head[dropped]
    merges = pd.DataFrame(
        {
            "kept_id": ids[k],
            "merged_id": ids[dropped],
            "distance_km": _geodesic_point_distance_m(lon[k], lat[k], lon[dropped], lat[dropped])
            / 1000.0,
            "days_apart": np.abs(day[dropped] - day[k]).astype(np.int64),
        }
    )
    if len(dropped):
        n_events = len(np.unique(label[multi]))
        log.info(
            "merged %d incident records into %d events (%d duplicate records dropped)",
            int(multi.sum()),
            n_events,
            len(dropped),
        )
    return merged, merges


def classify_pairs(
    territory_geoms: np.ndarray,
    incident_geoms: np.ndarray,
    radius_m: np.ndarray,
    crs: CRS,
    nearby_km: float,
) -> pd.DataFrame:
    """Relate incidents to territories, taking each incident's location uncertainty into account.

    Parameters
    ----------
    territory_geoms : numpy.ndarray of shapely.Geometry
        Territories in the planar equal-area ``crs``.
    incident_geoms : numpy.ndarray of shapely.Geometry
        Incident points in the same CRS (none missing).
    radius_m : numpy.ndarray of float
        Uncertainty radius of each incident, metres (0 for exact locations).
    crs : pyproj.CRS
        The planar CRS.
    nearby_km : float
        Distance (km, geodesic) within which an outside incident is nearby.

    Returns
    -------
    pandas.DataFrame
        One row per related pair, sorted by territory then incident: ``t`` and ``p`` (positions),
        ``relation`` (:data:`INSIDE`, :data:`UNCERTAIN` or :data:`NEARBY`), ``distance_m``
        (geodesic distance to the territory, or to its boundary for points inside it with a
        radius; NaN for exact points inside) and ``point_inside``.
    """
    n_p = len(incident_geoms)
    radius_m = np.asarray(radius_m, dtype=float)
    nearby_m = max(float(nearby_km), 0.0) * 1000.0
    t_in, p_in = query_pairs(territory_geoms, incident_geoms, predicate="intersects")
    rel_in = np.full(len(t_in), INSIDE, dtype=np.int8)
    dist_in = np.full(len(t_in), np.nan)
    fuzzy = radius_m[p_in] > 0
    if fuzzy.any():
        boundaries = shapely.boundary(territory_geoms[np.unique(t_in[fuzzy])])
        lookup = np.full(len(territory_geoms), -1, dtype=np.intp)
        lookup[np.unique(t_in[fuzzy])] = np.arange(len(boundaries))
        zones = boundaries[lookup[t_in[fuzzy]]]
        d = compute_geodesic_distance_m(
            zones, incident_geoms[p_in[fuzzy]], crs, [radius_m[p_in[fuzzy]]]
        )
        dist_in[fuzzy] = d
        rel_in[fuzzy] = np.where(d > radius_m[p_in[fuzzy]], INSIDE, UNCERTAIN)

    reach_m = max(nearby_m, float(radius_m.max()) if n_p else 0.0)
    t_out = p_out = np.zeros(0, dtype=np.intp)
    rel_out = np.zeros(0, dtype=np.int8)
    dist_out = np.zeros(0)
    if reach_m > 0 and n_p:
        t_c, p_c = query_pairs(
            territory_geoms, incident_geoms, predicate="dwithin", distance=reach_m * SEARCH_MARGIN
        )
        key_in = t_in.astype(np.int64) * n_p + p_in
        outside = ~np.isin(t_c.astype(np.int64) * n_p + p_c, key_in, assume_unique=True)
        t_c, p_c = t_c[outside], p_c[outside]
        # Per-pair reach: drop candidates beyond their own limit in the plane (with the margin).
        limit = np.maximum(nearby_m, radius_m[p_c]) * SEARCH_MARGIN
        if np.any(limit < reach_m * SEARCH_MARGIN):
            close = shapely.dwithin(territory_geoms[t_c], incident_geoms[p_c], limit)
            t_c, p_c = t_c[close], p_c[close]
        r = radius_m[p_c]
        d = map_chunks(
            lambda z, p, rr: compute_geodesic_distance_m(z, p, crs, [nearby_m, rr]),
            territory_geoms[t_c],
            incident_geoms[p_c],
            r,
        )
        rel = np.where(d < r, UNCERTAIN, np.where(d <= nearby_m, NEARBY, UNRELATED))
        related = rel != UNRELATED
        t_out, p_out = t_c[related], p_c[related]
        rel_out, dist_out = rel[related].astype(np.int8), d[related]

    pairs = pd.DataFrame(
        {
            "t": np.concatenate([t_in, t_out]).astype(np.intp),
            "p": np.concatenate([p_in, p_out]).astype(np.intp),
            "relation": np.concatenate([rel_in, rel_out]),
            "distance_m": np.concatenate([dist_in, dist_out]),
            "point_inside": np.concatenate(
                [np.ones(len(t_in), dtype=bool), np.zeros(len(t_out), dtype=bool)]
            ),
        }
    )
    return pairs.sort_values(["t", "p"], kind="mergesort", ignore_index=True)


def _radii_m(precision: pd.Series, uncertainty_km: Mapping[str, float]) -> np.ndarray:
    """Uncertainty radius (m) of each incident; missing precision is exact."""
    text = precision.astype("string")
    unknown = text.notna() & ~text.isin(list(uncertainty_km))
    if unknown.any():
        values = sorted(text[unknown].unique().tolist())
        raise ValueError(
            f"unknown incident precision {values}; expected one of {sorted(uncertainty_km)}"
        )
    km = text.map(dict(uncertainty_km)).astype("Float64").fillna(0.0)
    return km.to_numpy(dtype=float) * 1000.0


def _severity(incidents: pd.DataFrame, kind: pd.Series) -> np.ndarray:
    default = kind.map(DEFAULT_SEVERITY).astype("Float64").fillna(1.0)
    if "severity" not in incidents:
        return default.to_numpy(dtype=float).astype(np.int64)
    numeric = pd.to_numeric(incidents["severity"], errors="coerce").astype("Float64")
    return numeric.fillna(default).to_numpy(dtype=float).astype(np.int64)


def summarise_incidents(
    territories: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    nearby_km: float = DEFAULT_NEARBY_KM,
    uncertainty_km: Mapping[str, float] = UNCERTAINTY_KM,
    reference_date: str | None = None,
) -> IncidentSummary:
    """Summarise incidents inside, near and possibly inside each territory.

    See the module docstring for the rules. Incidents with no location are left out (logged).

    Parameters
    ----------
    territories : geopandas.GeoDataFrame
        ``territory_id`` and polygons, any CRS.
    incidents : geopandas.GeoDataFrame
        Canonical incidents (after :func:`merge_duplicate_incidents`), any CRS. ``kind``,
        ``severity``, ``precision`` and ``date`` are optional (``other``, the default severity
        by kind, ``exact`` and undated).
    nearby_km : float, default 5.0
        Geodesic distance within which an incident outside a territory is nearby.
    uncertainty_km : mapping of str to float, default :data:`UNCERTAINTY_KM`
        Uncertainty radius (km) by precision. Unknown precisions raise ``ValueError``.
    reference_date : str, optional
        ISO date for ``days_since_last_incident``; default the latest incident date.

    Returns
    -------
    IncidentSummary
        ``per_territory``, ``by_year`` and ``uncertain`` tables.
    """
    if "territory_id" not in territories:
        raise ValueError("territories need a 'territory_id' column")
    if "incident_id" not in incidents:
        raise ValueError("incidents need an 'incident_id' column")
    tid = territories["territory_id"].to_numpy()
    if pd.Series(tid).duplicated().any():
        log.warning("territory_id is not unique; rows are summarised separately")
    n_t = len(territories)

    geoms = np.asarray(incidents.geometry.values, dtype=object)
    located = _located(geoms)
    if not located.all():
        log.warning("%d incidents have no location and are left out", int((~located).sum()))
    inc = incidents.iloc[np.flatnonzero(located)]
    kind = (
        inc["kind"].astype("string").fillna("other")
        if "kind" in inc
        else pd.Series("other", index=inc.index, dtype="string")
    )
    precision = (
        inc["precision"] if "precision" in inc else pd.Series(pd.NA, index=inc.index)
    ).astype("string")
    radius = _radii_m(precision, uncertainty_km)
    severity = _severity(inc, kind)
    dates = parse_iso_dates(
        inc["date"] if "date" in inc else pd.Series(pd.NA, index=inc.index, dtype="string")
    )

    crs = area_crs_for(territories, inc)
    t_geoms = project_to_area_crs(territories, crs)
    p_geoms = project_to_area_crs(inc, crs)
    pairs = classify_pairs(t_geoms, p_geoms, radius, crs, nearby_km)
    t, p, rel = pairs["t"].to_numpy(), pairs["p"].to_numpy(), pairs["relation"].to_numpy()
    log.info(
        "%d incidents x %d territories: %d inside, %d uncertain, %d nearby pairs",
        len(inc),
        n_t,
        int((rel == INSIDE).sum()),
        int((rel == UNCERTAIN).sum()),
        int((rel == NEARBY).sum()),
    )

    is_in, is_unc, is_near = rel == INSIDE, rel == UNCERTAIN, rel == NEARBY
    sev = severity[p]
    kill = kind.isin(KILLING_KINDS).to_numpy()[p]
    day = dates.to_numpy(dtype="datetime64[ns]")[p]
    dated = ~np.isnat(day)

    def count(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = None if weights is None else weights[mask]
        return np.bincount(t[mask], weights=w, minlength=n_t).astype(np.int64)

    out: dict[str, object] = {
        "territory_id": tid,
        "incidents_inside": count(is_in),
        "incidents_nearby": count(is_near),
        "incidents_uncertain": count(is_unc),
    }
    kind_code = pd.Categorical(kind, categories=list(KINDS)).codes[p]
    if is_in.any() and (kind_code[is_in] < 0).any():
        log.warning("incidents of kinds outside the vocabulary are counted only in the totals")
    for relation, mask in (("inside", is_in), ("nearby", is_near)):
        known = mask & (kind_code >= 0)
        by_kind = np.bincount(
            t[known] * len(KINDS) + kind_code[known], minlength=n_t * len(KINDS)
        ).reshape(n_t, len(KINDS))
        for j, name in enumerate(KINDS):
            out[f"incidents_{relation}_{name}"] = by_kind[:, j].astype(np.int64)
    out["severity_inside"] = count(is_in, sev)
    out["severity_nearby"] = count(is_near, sev)
    out["killings_inside"] = count(is_in & kill)
    out["killings_nearby"] = count(is_near & kill)
    out["undated_inside"] = count(is_in & ~dated)
    per = pd.DataFrame(out)

    ref = pd.Timestamp(reference_date) if reference_date is not None else dates.max()
    close = (is_in | is_near) & dated
    last = pd.Series(day[close]).groupby(t[close]).max().reindex(range(n_t))
    per["last_incident_date"] = last.dt.strftime("%Y-%m-%d").astype("string").to_numpy()
    per["first_incident_year"] = (
        pd.Series(day[close]).groupby(t[close]).min().reindex(range(n_t)).dt.year.astype("Int64")
    ).to_numpy()
    since = (ref - last).dt.days if pd.notna(ref) else pd.Series(pd.NA, index=range(n_t))
    per["days_since_last_incident"] = since.astype("Int64").to_numpy()

    year_frame = pd.DataFrame(
        {
            "t": t[dated],
            "year": pd.DatetimeIndex(day[dated]).year.to_numpy().astype(np.int64),
            "inside": is_in[dated].astype(np.int64),
            "nearby": is_near[dated].astype(np.int64),
            "uncertain": is_unc[dated].astype(np.int64),
            "severity_inside": np.where(is_in, sev, 0)[dated].astype(np.int64),
        }
    )
    by_year = year_frame.groupby(["t", "year"], sort=True).sum().reset_index()
    by_year.insert(0, "territory_id", tid[by_year["t"].to_numpy()])
    by_year = by_year.drop(columns="t").reset_index(drop=True)

    unc = pairs[is_unc].sort_values(["p", "t"], kind="mergesort")
    uncertain = pd.DataFrame(
        {
            "incident_id": inc["incident_id"].to_numpy()[unc["p"].to_numpy()],
            "territory_id": tid[unc["t"].to_numpy()],
            "precision": _objects(precision)[unc["p"].to_numpy()],
            "distance_km": unc["distance_m"].to_numpy() / 1000.0,
            "point_inside": unc["point_inside"].to_numpy(),
        }
    )
    related = pd.DataFrame(
        {
            "territory_id": np.asarray(tid, dtype=object)[t],
            "incident_id": inc["incident_id"].astype(str).to_numpy()[p]
            if "incident_id" in inc
            else p.astype(str),
            "relation": np.array(["inside", "uncertain", "nearby", "unrelated"])[rel],
            "severity": sev,
            "date": pd.Series(day).dt.strftime("%Y-%m-%d").astype("string").to_numpy(),
            "kind": kind.to_numpy()[p],
        }
    )
    return IncidentSummary(
        per_territory=per,
        by_year=by_year,
        uncertain=uncertain,
        reference_date=None if pd.isna(ref) else ref.strftime("%Y-%m-%d"),
        pairs=related,
    )
