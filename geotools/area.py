"""True hectares: equal-area measurement, and the geodesic reference it is checked against."""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer

from geotools.crs import choose_area_crs
from geotools.errors import CRSError
from geotools.parallel import map_chunks

log = logging.getLogger(__name__)

M2_PER_HA = 10_000.0
_GEOD = Geod(ellps="WGS84")


def lonlat_bounds(*frames: gpd.GeoDataFrame | gpd.GeoSeries | None) -> tuple[float, ...]:
    """Return the longitude/latitude bounding box of all non-empty ``frames``.

    Parameters
    ----------
    *frames : GeoDataFrame or GeoSeries or None
        Layers with a CRS; ``None`` and empty layers are skipped.

    Returns
    -------
    tuple of float
        ``(min_lon, min_lat, max_lon, max_lat)``; all NaN if nothing had geometry.
    """
    boxes = []
    for frame in frames:
        if frame is None or len(frame) == 0 or frame.crs is None:
            continue
        total = (
            frame.to_crs(4326).total_bounds
            if not frame.crs.equals(CRS.from_epsg(4326))
            else frame.total_bounds
        )
        if np.all(np.isfinite(total)):
            boxes.append(total)
    if not boxes:
        return (np.nan, np.nan, np.nan, np.nan)
    arr = np.array(boxes)
    return (arr[:, 0].min(), arr[:, 1].min(), arr[:, 2].max(), arr[:, 3].max())


def area_crs_for(*frames: gpd.GeoDataFrame | gpd.GeoSeries | None) -> CRS:
    """Return the equal-area CRS for a set of layers (see :func:`geotools.crs.choose_area_crs`).

    Parameters
    ----------
    *frames : GeoDataFrame or GeoSeries or None
        Layers with a CRS; ``None`` and empty layers are skipped.

    Returns
    -------
    pyproj.CRS
        :data:`~geotools.crs.PERU_ALBERS` when the layers lie inside Peru (or have no geometry),
        else an Albers equal-area CRS fitted to their extent.
    """
    return choose_area_crs(tuple(float(v) for v in lonlat_bounds(*frames)))  # type: ignore[arg-type]


#: Edges longer than this (metres, in the equal-area plane) are densified along the geodesic.
LONG_EDGE_M = 2_000.0
#: Spacing of the points inserted along long edges (metres, gnomonic plane).
GEODESIC_STEP_M = 1_000.0


def gnomonic_for(crs: CRS) -> CRS:
    """Return a gnomonic CRS centred where ``crs`` is centred (geodesics are straight in it).

    Parameters
    ----------
    crs : pyproj.CRS
        A projected CRS whose false or natural origin (longitude, latitude in degrees) gives the
        centre; geographic CRSs and CRSs without one get lon -75, lat -9.5 (central Peru).

    Returns
    -------
    pyproj.CRS
        Gnomonic projection on WGS 84, in metres.
    """
    lon0, lat0 = -75.0, -9.5
    if crs.is_projected and crs.coordinate_operation is not None:
        values = {
            p.name: float(p.value)
            for p in crs.coordinate_operation.params
            if isinstance(p.value, (int, float))
        }
        lon0 = values.get(
            "Longitude of false origin", values.get("Longitude of natural origin", lon0)
        )
        lat0 = values.get(
            "Latitude of false origin", values.get("Latitude of natural origin", lat0)
        )
    return CRS.from_proj4(f"+proj=gnom +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m")


def _long_edge_mask(coords: np.ndarray, index: np.ndarray, n: int, limit: float) -> np.ndarray:
    """Mask of the ``n`` geometries having a segment longer than ``limit`` (CRS units).

    ``coords`` and ``index`` come from ``shapely.get_coordinates(..., return_index=True)``. A
    jump between two rings of one geometry also counts as a segment; it can only flag a geometry
    needlessly (densified for nothing), never miss one.
    """
    mask = np.zeros(n, dtype=bool)
    if len(coords) < 2:
        return mask
    step = np.hypot(*np.diff(coords, axis=0).T)
    same = index[1:] == index[:-1]
    mask[index[1:][same & (step > limit)]] = True
    return mask


#: How polygon and line edges between two vertices are read: along the geodesic (default, as
#: pyproj.Geod, PostGIS geography) or straight in longitude/latitude (RFC 7946 GeoJSON,
#: geopandas and PostGIS geometry). See docs/area.md, "Long edges".
EDGE_READINGS = ("geodesic", "lonlat")
DEFAULT_EDGES = "geodesic"
#: Spacing (degrees, about 550 m) of the points inserted along edges read as lon/lat-straight.
LONLAT_STEP_DEG = 0.005


def read_edges(geoms: gpd.GeoSeries, edges: str = DEFAULT_EDGES) -> np.ndarray:
    """Return geometries whose edges follow the chosen reading, for every later measurement.

    With ``"geodesic"`` the geometries are returned unchanged (:func:`project_to_area_crs`
    reads long edges as geodesics). With ``"lonlat"`` every edge gets points every
    :data:`LONLAT_STEP_DEG` along the straight line in longitude/latitude, so that the
    geodesic reading of the short pieces follows that line (to millimetres): areas, overlaps
    and point-in-polygon tests then all use the lon/lat-straight boundary.

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        Geometries with a CRS (points are returned as they are).
    edges : {"geodesic", "lonlat"}, default "geodesic"
        The reading.

    Returns
    -------
    numpy.ndarray of shapely.Geometry
        Geometries in the CRS of ``geoms``.

    Raises
    ------
    ValueError
        ``edges`` is not one of :data:`EDGE_READINGS`.
    """
    if edges not in EDGE_READINGS:
        raise ValueError(f"edges {edges!r}: use one of {', '.join(EDGE_READINGS)}")
    source = np.asarray(geoms.values, dtype=object)
    if edges == DEFAULT_EDGES or len(source) == 0:
        return source.copy()
    if geoms.crs is None:
        raise CRSError("cannot read edges of a layer with no CRS; set one first")
    wgs84 = CRS.from_epsg(4326)
    lonlat = geoms if geoms.crs.equals(wgs84) else geoms.to_crs(wgs84)
    dense = gpd.GeoSeries(
        shapely.segmentize(np.asarray(lonlat.values, dtype=object), LONLAT_STEP_DEG), crs=wgs84
    )
    back = dense if geoms.crs.equals(wgs84) else dense.to_crs(geoms.crs)
    return np.asarray(back.values, dtype=object)


def project_to_area_crs(geoms: gpd.GeoSeries | gpd.GeoDataFrame, crs: CRS) -> np.ndarray:
    """Return geometries in the equal-area ``crs`` with edges that follow geodesics.

    Vertices are projected as they are. Edges longer than :data:`LONG_EDGE_M` (simplified
    boundaries, oil blocks, legal descriptions by a few corner points) get intermediate points
    along the geodesic between their ends, placed by segmentising in a gnomonic projection where
    geodesics are straight lines. Without this an edge of 40 km would be taken as straight in
    the Albers plane, which differs from the geodesic by metres and the area by up to 0.1 %.

    Parameters
    ----------
    geoms : geopandas.GeoSeries or geopandas.GeoDataFrame
        Geometries with a CRS.
    crs : pyproj.CRS
        Equal-area target CRS.

    Returns
    -------
    numpy.ndarray of shapely.Geometry
        Geometries in ``crs``.
    """
    series = geoms.geometry if isinstance(geoms, gpd.GeoDataFrame) else geoms
    if series.crs is None:
        raise CRSError("cannot measure a layer with no CRS; set one first")
    source = np.asarray(series.values, dtype=object)
    if len(source) == 0:
        return source.copy()
    # One pass over the coordinates: transform them, then find long edges on the same array.
    transformer = Transformer.from_crs(series.crs, crs, always_xy=True)
    coords, index = shapely.get_coordinates(source, return_index=True)
    xy = map_chunks(
        lambda x, y: np.column_stack(transformer.transform(x, y)), coords[:, 0], coords[:, 1]
    )
    projected = shapely.set_coordinates(source.copy(), xy)
    long = _long_edge_mask(xy, index, len(source), LONG_EDGE_M)
    if long.any():
        gnomonic = gnomonic_for(crs)
        dense = shapely.segmentize(
            np.asarray(series[long].to_crs(gnomonic).values, dtype=object), GEODESIC_STEP_M
        )
        projected[long] = np.asarray(
            gpd.GeoSeries(dense, crs=gnomonic).to_crs(crs).values, dtype=object
        )
        log.debug("densified %d geometries with edges over %.0f m", long.sum(), LONG_EDGE_M)
    return projected


def compute_area_ha(
    geoms: gpd.GeoSeries | gpd.GeoDataFrame, area_crs: CRS | None = None
) -> np.ndarray:
    """Return the true area of each geometry in hectares.

    Parameters
    ----------
    geoms : geopandas.GeoSeries or geopandas.GeoDataFrame
        Geometries with a CRS (any CRS: geographic, UTM, Web Mercator, ...).
    area_crs : pyproj.CRS, optional
        Equal-area CRS to measure in; chosen from the data's extent when omitted.

    Returns
    -------
    numpy.ndarray
        Hectares per geometry (0 for empty or non-polygonal geometries).
    """
    series = geoms.geometry if isinstance(geoms, gpd.GeoDataFrame) else geoms
    if len(series) == 0:
        return np.zeros(0)
    crs = area_crs or area_crs_for(series)
    return np.asarray(shapely.area(project_to_area_crs(series, crs)), dtype=float) / M2_PER_HA


def compute_geodesic_area_ha(geoms: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    """Return geodesic areas on the WGS84 ellipsoid with ``pyproj.Geod`` (the reference).

    This loops over geometries in Python (pyproj has no array form for many polygons), so it is
    used for checks and small layers, not for the analyses.

    Parameters
    ----------
    geoms : geopandas.GeoSeries or geopandas.GeoDataFrame
        Geometries with a CRS.

    Returns
    -------
    numpy.ndarray
        Hectares per geometry, edges taken as geodesics between vertices.
    """
    series = geoms.geometry if isinstance(geoms, gpd.GeoDataFrame) else geoms
    # Geod sums signed ring areas: exteriors must be counter-clockwise and holes clockwise,
    # otherwise a hole is added instead of subtracted.
    lonlat = shapely.orient_polygons(np.asarray(series.to_crs(4326).values, dtype=object))
    return np.array(
        [
            abs(_GEOD.geometry_area_perimeter(g)[0]) / M2_PER_HA if g is not None else 0.0
            for g in lonlat
        ],
        dtype=float,
    )


def check_area_method(geoms: gpd.GeoSeries, area_crs: CRS, sample: int = 50) -> dict[str, Any]:
    """Compare equal-area hectares with geodesic ones on the largest polygons (self-check).

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        Polygons with a CRS.
    area_crs : pyproj.CRS
        The equal-area CRS in use.
    sample : int, default 50
        Number of largest polygons compared.

    Returns
    -------
    dict
        ``{"compared": n, "max_rel_diff_pct": float}`` for provenance.
    """
    if len(geoms) == 0:
        return {"compared": 0, "max_rel_diff_pct": 0.0}
    ours = compute_area_ha(geoms, area_crs)
    order = np.argsort(-ours, kind="stable")[:sample]
    order = order[ours[order] > 0]
    if len(order) == 0:
        return {"compared": 0, "max_rel_diff_pct": 0.0}
    reference = compute_geodesic_area_ha(geoms.iloc[order])
    rel = np.abs(ours[order] - reference) / np.maximum(reference, 1e-12) * 100
    result = {"compared": len(order), "max_rel_diff_pct": float(np.round(rel.max(), 6))}
    if result["max_rel_diff_pct"] > 0.01:
        log.warning(
            "equal-area and geodesic hectares differ by up to %.4f %% (polygons with very long "
            "straight edges); see docs/area.md",
            result["max_rel_diff_pct"],
        )
    return result


def union_ha(pieces: np.ndarray) -> float:
    """Area of the union of ``pieces`` in hectares, 4 decimals: land covered by several pieces
    (titled land inside overlapping territories) counted once.

    Parameters
    ----------
    pieces : numpy.ndarray of shapely.Geometry
        Polygons in an equal-area CRS (metres).

    Returns
    -------
    float
        Hectares, rounded to 4 decimals (0.0 for no piece).
    """
    if not len(pieces):
        return 0.0
    return round(float(shapely.area(shapely.union_all(pieces))) / M2_PER_HA, 4)
