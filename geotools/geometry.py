"""Vectorised geometry primitives behind every hectare figure.

The analyses never loop over features in Python. They use these building blocks:

- :func:`query_pairs` and :func:`clip_pairs`: every zone x feature pair that intersects (STRtree,
  zones prepared); features properly inside their zone are kept as they are and only
  boundary-crossing pairs are intersected;
- :func:`find_overlapping_pairs`: pairs whose interiors intersect (bounding-box candidates, then
  one vectorised DE-9IM test), optionally only within the same group;
- :func:`dissolve_by_group`: pieces that are interior-disjoint within each group and cover the
  same area. Only clusters of polygons that actually overlap (connected components of the
  overlap graph) are unioned; the usually many that overlap nothing pass through untouched;
- :func:`union_by_group`: the union of each group, by a pairwise tree reduction in which every
  round is one vectorised ``shapely.union`` call;
- :func:`intersect_area_by_group`: the area of ``union(a) ∩ union(b)`` per group from two
  interior-disjoint sets.

All functions take and return numpy arrays of shapely geometries in a planar (equal-area) CRS.
"""

from __future__ import annotations

import logging

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geotools.parallel import group_starts, map_chunks

log = logging.getLogger(__name__)

#: DE-9IM pattern "the interiors intersect" (overlap, containment or equality; not mere touching).
INTERIORS_INTERSECT = "T********"


def union_by_group(geoms: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union the geometries of each group.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely.Geometry
        Geometries to union.
    groups : numpy.ndarray of int
        Group label of each geometry (same length as ``geoms``).

    Returns
    -------
    keys : numpy.ndarray
        Sorted unique group labels.
    unions : numpy.ndarray of shapely.Geometry
        Union of each group's geometries, aligned with ``keys``.

    Notes
    -----
    Each round pairs neighbours within a group (ranks 0-1, 2-3, ...) and unions all pairs at once,
    halving every group; ``ceil(log2(max group size))`` rounds in all.
    """
    geoms = np.asarray(geoms, dtype=object)
    groups = np.asarray(groups)
    if len(geoms) == 0:
        return groups[:0], geoms[:0]
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    geo = geoms[order]
    while True:
        n = len(g)
        same_as_next = np.zeros(n, dtype=bool)
        same_as_next[:-1] = g[1:] == g[:-1]
        if not same_as_next.any():
            break
        index = np.arange(n)
        first = np.ones(n, dtype=bool)
        first[1:] = ~same_as_next[:-1]
        rank = index - np.maximum.accumulate(np.where(first, index, 0))
        even = rank % 2 == 0
        left = index[even & same_as_next]
        geo = geo.copy()
        geo[left] = map_chunks(shapely.union, geo[left], geo[left + 1])
        geo = geo[even]
        g = g[even]
    return g, geo


def find_overlapping_pairs(
    geoms: np.ndarray, groups: np.ndarray | None = None, classes: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return index pairs ``(i, j)``, ``i < j``, of geometries whose interiors intersect.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely.Geometry
        Polygons.
    groups : numpy.ndarray, optional
        When given, only pairs within the same group are returned.
    classes : numpy.ndarray of int, optional
        Bit mask per geometry of the unions it takes part in; pairs that share no bit are never
        unioned together, so they are not tested (a 0 mask takes part in no union).

    Returns
    -------
    tuple of numpy.ndarray
        Left and right indices. Polygons that only touch along a border are not pairs.
    """
    geoms = np.asarray(geoms, dtype=object)
    empty = np.zeros(0, dtype=np.intp)
    if len(geoms) < 2:
        return empty, empty
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms)  # bounding boxes only: cheap
    keep = left < right
    if groups is not None:
        keep &= groups[left] == groups[right]
    if classes is not None:
        keep &= (classes[left] & classes[right]) != 0
    left, right = left[keep], right[keep]
    if len(left) == 0:
        return empty, empty
    hit = map_chunks(_interiors_intersect, geoms[left], geoms[right])
    return left[hit], right[hit]


def _interiors_intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(shapely.relate_pattern(a, b, INTERIORS_INTERSECT), dtype=bool)


def subset_pairs(
    mask: np.ndarray, left: np.ndarray, right: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Restrict index pairs to members of ``mask`` and renumber them into the subset.

    Parameters
    ----------
    mask : numpy.ndarray of bool
        Members of the subset, one value per item.
    left, right : numpy.ndarray of int
        Pairs of item positions (e.g. from :func:`find_overlapping_pairs`).

    Returns
    -------
    left, right : numpy.ndarray of int
        The pairs whose two items are both members, as positions within the subset
        (``items[mask]``).
    """
    new_index = np.cumsum(mask) - 1
    keep = mask[left] & mask[right]
    return new_index[left[keep]], new_index[right[keep]]


def dissolve_by_group(
    geoms: np.ndarray,
    groups: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Turn possibly overlapping polygons into pieces that are interior-disjoint within each group.

    Only clusters of polygons whose interiors actually intersect are unioned; polygons that
    overlap nothing in their group pass through untouched.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely.Geometry
        Valid polygons in a planar CRS.
    groups : numpy.ndarray of int
        Group of each polygon (e.g. the territory it was clipped to).
    pairs : tuple of numpy.ndarray, optional
        Overlapping pairs from :func:`find_overlapping_pairs` (computed when omitted).

    Returns
    -------
    piece_groups : numpy.ndarray of int
        Group of each piece.
    pieces : numpy.ndarray of shapely.Geometry
        Pieces; within a group they are interior-disjoint and their union equals the union of the
        group's input polygons.
    """
    geoms = np.asarray(geoms, dtype=object)
    groups = np.asarray(groups)
    n = len(geoms)
    if n == 0:
        return groups[:0], geoms[:0]
    left, right = pairs if pairs is not None else find_overlapping_pairs(geoms, groups)
    if len(left) == 0:
        return groups.copy(), geoms.copy()
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    keys, unions = union_by_group(geoms, labels)
    first_member = np.unique(labels, return_index=True)[1]
    log.debug("dissolved %d polygons into %d pieces", n, len(keys))
    pieces = np.empty(len(keys), dtype=object)
    pieces[:] = unions
    return groups[first_member], pieces


def query_pairs(
    zones: np.ndarray,
    geoms: np.ndarray,
    predicate: str = "intersects",
    distance: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(zone_index, geom_index)`` pairs satisfying ``predicate``, sorted by zone.

    The tree is built on ``geoms``; each zone is prepared once and tested against the candidates
    its bounding box finds.

    Parameters
    ----------
    zones : numpy.ndarray of shapely.Geometry
        Geometries to query with (e.g. territories).
    geoms : numpy.ndarray of shapely.Geometry
        Geometries to find (e.g. parcels), in the same CRS as ``zones``.
    predicate : str, default "intersects"
        A :meth:`shapely.STRtree.query` predicate, tested as ``predicate(zone, geom)``
        (``"dwithin"`` needs ``distance``).
    distance : float, optional
        Distance for ``"dwithin"``, in the unit of the CRS (m in an equal-area CRS).

    Returns
    -------
    zone_index, geom_index : numpy.ndarray of int
        Positions of the matching pairs, sorted by zone then geometry; empty when either input
        is.
    """
    empty = np.zeros(0, dtype=np.intp)
    if len(zones) == 0 or len(geoms) == 0:
        return empty, empty
    tree = shapely.STRtree(geoms)
    zone_idx, geom_idx = tree.query(zones, predicate=predicate, distance=distance)  # type: ignore[call-overload]
    order = np.lexsort((geom_idx, zone_idx))
    return zone_idx[order], geom_idx[order]


def clip_pairs(
    zones: np.ndarray, geoms: np.ndarray, zone_idx: np.ndarray, geom_idx: np.ndarray
) -> np.ndarray:
    """Return the part of ``geoms[geom_idx]`` inside ``zones[zone_idx]`` for each pair.

    Geometries that lie properly inside their zone are returned as they are; only those crossing
    the zone's boundary are intersected (and reduced to their polygonal part).

    Parameters
    ----------
    zones : numpy.ndarray of shapely.Geometry
        Polygons to clip to, in a planar CRS.
    geoms : numpy.ndarray of shapely.Geometry
        Polygons to clip, in the same CRS.
    zone_idx, geom_idx : numpy.ndarray of int
        Pairs of positions (e.g. from :func:`query_pairs`).

    Returns
    -------
    numpy.ndarray of shapely.Geometry
        One part per pair, in the order of the pairs; possibly empty when the two only touch.
    """
    out = np.empty(len(zone_idx), dtype=object)
    if len(zone_idx) == 0:
        return out
    shapely.prepare(zones)
    # A prepared zone must not be used from two threads: chunks start only where a zone does.
    order = np.argsort(zone_idx, kind="stable")
    inside = np.empty(len(zone_idx), dtype=bool)
    inside[order] = map_chunks(
        shapely.contains_properly,
        zones[zone_idx[order]],
        geoms[geom_idx[order]],
        boundaries=group_starts(zone_idx[order]),
    )
    out[inside] = geoms[geom_idx[inside]]
    cross = ~inside
    if cross.any():
        out[cross] = polygonal_part(
            map_chunks(shapely.intersection, geoms[geom_idx[cross]], zones[zone_idx[cross]])
        )
    return out


def intersect_area_by_group(
    a: np.ndarray, a_groups: np.ndarray, b: np.ndarray, b_groups: np.ndarray, n_groups: int
) -> np.ndarray:
    """Return per group the area of ``union(a) ∩ union(b)``.

    ``a`` and ``b`` must each be interior-disjoint within a group (see :func:`dissolve_by_group`),
    so the pairwise intersections within a group never overlap and their areas add up.

    Parameters
    ----------
    a : numpy.ndarray of shapely.Geometry
        Polygons, interior-disjoint within each group, in a planar (equal-area) CRS.
    a_groups : numpy.ndarray of int
        Group of each polygon of ``a``, from 0 to ``n_groups - 1``.
    b : numpy.ndarray of shapely.Geometry
        Polygons, interior-disjoint within each group, in the same CRS.
    b_groups : numpy.ndarray of int
        Group of each polygon of ``b``.
    n_groups : int
        Number of groups: the length of the result.

    Returns
    -------
    numpy.ndarray of float
        Shared area per group, in the CRS's unit squared (m² in an equal-area CRS).
    """
    per_item = intersect_area_per_item(a, a_groups, b, b_groups)
    return (
        np.bincount(a_groups, weights=per_item, minlength=n_groups)
        if len(a)
        else (np.zeros(n_groups))
    )


def intersect_area_per_item(
    a: np.ndarray, a_groups: np.ndarray, b: np.ndarray, b_groups: np.ndarray
) -> np.ndarray:
    """Return for each geometry of ``a`` the area it shares with ``union(b)`` in its group.

    ``b`` must be interior-disjoint within a group, so the pairwise intersections add up.

    Parameters
    ----------
    a : numpy.ndarray of shapely.Geometry
        Polygons in a planar (equal-area) CRS.
    a_groups : numpy.ndarray of int
        Group of each polygon of ``a``.
    b : numpy.ndarray of shapely.Geometry
        Polygons, interior-disjoint within each group, in the same CRS.
    b_groups : numpy.ndarray of int
        Group of each polygon of ``b``.

    Returns
    -------
    numpy.ndarray of float
        Shared area per polygon of ``a``, in the CRS's unit squared (m² in an equal-area CRS).
    """
    out = np.zeros(len(a))
    if len(a) == 0 or len(b) == 0:
        return out
    tree = shapely.STRtree(b)
    ia, ib = tree.query(a, predicate="intersects")
    same = a_groups[ia] == b_groups[ib]
    ia, ib = ia[same], ib[same]
    areas = shapely.area(map_chunks(shapely.intersection, a[ia], b[ib]))
    return np.bincount(ia, weights=areas, minlength=len(a))


def polygonal_part(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of each geometry.

    ``make_valid`` and intersections can return GeometryCollections holding points or lines next to
    polygons; those lower-dimensional parts have no area and are dropped. A geometry with no
    polygonal part becomes an empty MultiPolygon.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely.Geometry
        Any geometries.

    Returns
    -------
    numpy.ndarray of shapely.Geometry
        Polygon or MultiPolygon per input (same order).
    """
    out = np.asarray(geoms, dtype=object).copy()
    types = shapely.get_type_id(out)
    mixed = np.flatnonzero(~np.isin(types, [3, 6]))
    if len(mixed) == 0:
        return out
    parts, index = shapely.get_parts(out[mixed], return_index=True)
    for _ in range(2):  # flatten nested collections and multipolygons inside collections
        sub, sub_index = shapely.get_parts(parts, return_index=True)
        parts, index = sub, index[sub_index]
    keep = shapely.get_type_id(parts) == 3
    target = np.empty(len(mixed), dtype=object)
    target[:] = [shapely.MultiPolygon()] * len(mixed)
    if keep.any():
        shapely.multipolygons(parts[keep], indices=index[keep], out=target)
    out[mixed] = target
    return out
