"""Incidents inside and near each territory.

``inside`` counts points within (or on the boundary of) a territory. ``nearby`` counts points
outside it but within a distance of it. Distances are geodesic on the WGS84 ellipsoid: candidates
are found in the equal-area plane with a generous margin, then each candidate's distance is
measured with ``pyproj.Geod`` between the point and the nearest point of the territory.
"""

from __future__ import annotations

import logging

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer

from geotools.geometry import query_pairs

log = logging.getLogger(__name__)

_GEOD = Geod(ellps="WGS84")
#: Candidate search margin over the requested distance (covers the scale error of the plane).
SEARCH_MARGIN = 1.25


def compute_geodesic_distance_m(zones: np.ndarray, points: np.ndarray, crs: CRS) -> np.ndarray:
    """Return the geodesic distance (m) from each point to its paired zone.

    Parameters
    ----------
    zones, points : numpy.ndarray of shapely.Geometry
        Paired arrays (same length) in the planar ``crs``.
    crs : pyproj.CRS
        Their CRS.

    Returns
    -------
    numpy.ndarray of float
        Metres on the ellipsoid from the point to the nearest point of the zone (0 inside).
    """
    if len(zones) == 0:
        return np.zeros(0)
    lines = shapely.shortest_line(zones, points)
    coords = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    to_lonlat = Transformer.from_crs(crs, 4326, always_xy=True)
    lon1, lat1 = to_lonlat.transform(coords[:, 0, 0], coords[:, 0, 1])
    lon2, lat2 = to_lonlat.transform(coords[:, 1, 0], coords[:, 1, 1])
    _, _, dist = _GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist, dtype=float)


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
        dist = compute_geodesic_distance_m(territory_geoms[t_near], incident_geoms[p_near], crs)
        outside = ~shapely.intersects(territory_geoms[t_near], incident_geoms[p_near])
        keep = outside & (dist <= nearby_km * 1000)
        nearby = np.bincount(t_near[keep], minlength=n)
    return inside.astype(np.int64), nearby.astype(np.int64)
