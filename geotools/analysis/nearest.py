"""Geodesic distance from a point to a zone, exact near the thresholds that decide a count.

:func:`nearest_geodesic_m` starts from the boundary point nearest in the equal-area plane and
measures its geodesic distance ``d0`` (pyproj.Geod). That is an *upper* bound of the true
nearest distance: the Albers plane's scale differs east-west from north-south (by up to 1.5 % in
Peru), so the plane may pick another part of the boundary than the ellipsoid would
(docs/area.md, "Distances").

A pair is then *refined* to the geodesic nearest point: every boundary segment whose planar
distance to the point is at most ``d0`` times the largest local Albers scale (plus a 0.5 %
allowance for the scale's change along the way) is cut into pieces of at most
:data:`REFINE_STEP_M` and placed in the azimuthal equidistant plane of the point, built with
``Geod.inv`` (geodesic distance and azimuth of every vertex: distances from the centre of that
plane are exact geodesics). The minimum over those pieces is the distance, to millimetres for
the pieces used (:data:`TOLERANCE_M` is the stated bound).

Refining every pair costs a geodesic computation per nearby boundary vertex, so callers pass the
thresholds their decisions use: only pairs for which ``d0`` is above a threshold while a lower
bound (planar distance over the largest local scale) is not, i.e. whose side of a threshold could
change, are refined; ``thresholds_m=None`` refines every pair. (A cheap prefilter first keeps
pairs with ``d0`` within 5 % above a threshold: it assumes the plane's scale differs between
directions by under 5 %, as any Albers over Peru-sized extents does: 1.5 % at most in Peru.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from pyproj import CRS, Geod, Proj, Transformer

_GEOD = Geod(ellps="WGS84")
#: Longest piece of a boundary segment in the local azimuthal equidistant plane (metres).
REFINE_STEP_M = 500.0
#: Stated accuracy of refined distances (metres); the method's own error is millimetres.
TOLERANCE_M = 1.0
#: Allowance for the change of the Albers scale between the point and the boundary.
SCALE_SLACK = 1.005


def _max_scale(crs: CRS, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Largest linear scale of the plane (any direction) at each lon/lat point."""
    factors = Proj(crs).get_factors(lon, lat)
    h = np.asarray(factors.meridional_scale, dtype=float)
    k = np.asarray(factors.parallel_scale, dtype=float)
    # Tissot's semi-major axis is the largest scale in any direction (max(h, k) in Albers).
    a = np.asarray(factors.tissot_semimajor, dtype=float)
    return np.fmax(np.fmax(h, k), a)


def _outline_coords(zones: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices of every linear part of ``zones``: coordinates, zone index, part index."""
    parts, index = shapely.get_parts(zones, return_index=True)
    for _ in range(4):  # collections of multi-geometries
        multi = shapely.get_num_geometries(parts) > 1
        multi |= shapely.get_type_id(parts) >= 4
        if not multi.any():
            break
        sub, sub_i = shapely.get_parts(parts[multi], return_index=True)
        index = np.concatenate([index[~multi], index[multi][sub_i]])
        parts = np.concatenate([parts[~multi], sub])
    kind = shapely.get_type_id(parts)
    polys = kind == 3
    rings, ring_i = shapely.get_rings(parts[polys], return_index=True)
    lines = np.concatenate([parts[(kind == 1) | (kind == 2)], rings])
    line_zone = np.concatenate([index[(kind == 1) | (kind == 2)], index[polys][ring_i]])
    coords, part = shapely.get_coordinates(lines, return_index=True)
    return coords, line_zone[part], part


def _segments_near(
    a: np.ndarray,
    b: np.ndarray,
    seg_zone: np.ndarray,
    uid: np.ndarray,
    points: np.ndarray,
    reach: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(pair, segment) for every segment of a pair's zone within ``reach`` of its point.

    Segments are sorted by zone. When zones are shared by many pairs, a tree over the segments
    answers; otherwise every segment of each pair's zone is tested in numpy.
    """
    counts = np.bincount(seg_zone, minlength=int(uid.max()) + 1)
    per_pair = counts[uid]
    if per_pair.sum() > 8 * len(a):
        lines = np.asarray(shapely.linestrings(np.stack([a, b], axis=1)), dtype=object)
        pair, seg = shapely.STRtree(lines).query(points, predicate="dwithin", distance=reach)
        keep = seg_zone[seg] == uid[pair]
        return pair[keep], seg[keep]
    offsets = np.concatenate([[0], np.cumsum(counts)])
    pair = np.repeat(np.arange(len(uid)), per_pair)
    seg = np.arange(len(pair)) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    seg += offsets[uid][pair]
    p = shapely.get_coordinates(points)[pair]
    ab = b[seg] - a[seg]
    length2 = np.einsum("ij,ij->i", ab, ab)
    t = np.einsum("ij,ij->i", p - a[seg], ab) / np.where(length2 > 0, length2, 1.0)
    foot = a[seg] + np.clip(t, 0.0, 1.0)[:, None] * ab
    keep = np.hypot(*(foot - p).T) <= reach[pair]
    return pair[keep], seg[keep]


def refine_distance_m(
    zones: np.ndarray, points: np.ndarray, d0: np.ndarray, reach: np.ndarray, crs: CRS
) -> np.ndarray:
    """Geodesic nearest distance (m) from each point to the boundary of its paired zone.

    Parameters
    ----------
    zones, points : numpy.ndarray of shapely.Geometry
        Paired arrays in the planar ``crs`` (points outside or on their zone).
    d0 : numpy.ndarray of float
        An upper bound of each distance (m): the geodesic distance to a boundary point.
    reach : numpy.ndarray of float
        Planar radius (CRS units) around each point holding the geodesic nearest point.
    crs : pyproj.CRS
        The planar CRS.

    Returns
    -------
    numpy.ndarray of float
        The nearest geodesic distance to the boundary segments within ``reach`` (at most
        ``d0``), to within :data:`TOLERANCE_M`.
    """
    out = np.asarray(d0, dtype=float).copy()
    if len(zones) == 0:
        return out
    # Each distinct zone object is unpacked once; its segments near each point come from a tree.
    _, first, uid = np.unique(
        np.fromiter((id(z) for z in zones), dtype=np.int64, count=len(zones)),
        return_index=True,
        return_inverse=True,
    )
    coords, seg_zone, part = _outline_coords(zones[first])
    same = (part[1:] == part[:-1]) & np.isfinite(coords[1:]).all(axis=1)
    start = np.flatnonzero(same)
    start = start[np.argsort(seg_zone[start], kind="stable")]  # segments grouped by zone
    a_all, b_all, seg_zone = coords[start], coords[start + 1], seg_zone[start]
    if len(a_all) == 0:
        return out
    seg_pair, seg = _segments_near(a_all, b_all, seg_zone, uid, points, reach)
    a, b = a_all[seg], b_all[seg]
    pxy = shapely.get_coordinates(points)
    ab = b - a
    length2 = np.einsum("ij,ij->i", ab, ab)
    if len(a) == 0:
        return out
    # Cut segments into pieces of at most REFINE_STEP_M (plane metres).
    pieces = np.maximum(1, np.ceil(np.sqrt(length2) / REFINE_STEP_M)).astype(np.intp)
    n_vert = pieces + 1
    seg_of_vert = np.repeat(np.arange(len(a)), n_vert)
    offset = np.repeat(np.cumsum(n_vert) - n_vert, n_vert)
    j = np.arange(len(seg_of_vert)) - offset
    frac = j / pieces[seg_of_vert]
    verts = a[seg_of_vert] + frac[:, None] * ab[seg_of_vert]
    to_lonlat = Transformer.from_crs(crs, 4326, always_xy=True)
    vlon, vlat = to_lonlat.transform(verts[:, 0], verts[:, 1])
    plon, plat = to_lonlat.transform(pxy[:, 0], pxy[:, 1])
    vp = seg_pair[seg_of_vert]
    az, _, dist = _GEOD.inv(plon[vp], plat[vp], vlon, vlat)
    az = np.radians(np.asarray(az, dtype=float))
    dist = np.asarray(dist, dtype=float)
    local = np.column_stack([dist * np.sin(az), dist * np.cos(az)])  # azimuthal equidistant
    # Pieces: consecutive vertices of one segment.
    is_start = j < pieces[seg_of_vert]
    u, v = local[is_start], local[np.flatnonzero(is_start) + 1]
    uv = v - u
    uv2 = np.einsum("ij,ij->i", uv, uv)
    s = np.clip(-np.einsum("ij,ij->i", u, uv) / np.where(uv2 > 0, uv2, 1.0), 0.0, 1.0)
    d = np.hypot(*(u + s[:, None] * uv).T)
    np.fmin.at(out, vp[is_start], d)
    return out


def nearest_geodesic_m(
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
        Distances (m; scalars or one per pair) the caller compares the result with. Pairs
        whose side of a threshold could differ between the planar candidate and the true
        nearest point are refined (exact to :data:`TOLERANCE_M`); the others keep the
        geodesic distance to the planar candidate, which overstates by at most the plane's
        scale anisotropy (up to 1.5 % in Peru) and is on the right side of every threshold.
        ``None`` (the default) refines every pair.

    Returns
    -------
    numpy.ndarray of float
        Metres on the ellipsoid from the point to the nearest point of the zone (0 inside).
    """
    if len(zones) == 0:
        return np.zeros(0)
    lines = shapely.shortest_line(zones, points)
    coords = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    planar = np.hypot(*(coords[:, 1] - coords[:, 0]).T)
    to_lonlat = Transformer.from_crs(crs, 4326, always_xy=True)
    lon1, lat1 = to_lonlat.transform(coords[:, 0, 0], coords[:, 0, 1])
    lon2, lat2 = to_lonlat.transform(coords[:, 1, 0], coords[:, 1, 1])
    _, _, dist = _GEOD.inv(lon1, lat1, lon2, lat2)
    d0 = np.asarray(dist, dtype=float)
    todo = (planar > 0) & (shapely.get_type_id(zones) != 0)
    if thresholds_m is not None:
        # Cheap prefilter: only pairs with d0 above a threshold and within 5 % of it.
        near = np.zeros(len(zones), dtype=bool)
        for t in thresholds_m:
            near |= (d0 > t) & (d0 <= np.asarray(t, dtype=float) * 1.05)
        todo &= near
    idx = np.flatnonzero(todo)
    if len(idx) == 0:
        return d0
    scale = _max_scale(crs, lon2[idx], lat2[idx]) * SCALE_SLACK
    if thresholds_m is not None:
        lower = planar[idx] / scale
        change = np.zeros(len(idx), dtype=bool)
        for t in thresholds_m:
            tt = np.broadcast_to(np.asarray(t, dtype=float), d0.shape)[idx]
            change |= (lower <= tt) & (tt < d0[idx])
        idx, scale = idx[change], scale[change]
    reach = d0[idx] * scale + 1.0
    d0[idx] = refine_distance_m(zones[idx], points[idx], d0[idx], reach, crs)
    return d0
