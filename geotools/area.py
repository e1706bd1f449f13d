"""True hectares: equal-area measurement, and the geodesic reference it is checked against."""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Geod

from geotools.crs import choose_area_crs

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
    """Return the equal-area CRS for a set of layers (see :func:`geotools.crs.choose_area_crs`)."""
    return choose_area_crs(tuple(float(v) for v in lonlat_bounds(*frames)))  # type: ignore[arg-type]


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
    projected = series.to_crs(crs)
    return np.asarray(shapely.area(projected.values), dtype=float) / M2_PER_HA


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
