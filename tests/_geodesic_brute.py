"""Brute-force geodesic point-to-polygon distance: pyproj.Geod over a densely densified boundary.

Each edge of the lon/lat polygon is read as the geodesic between its vertices (geotools'
default reading) and sampled every ``step_m`` metres with ``Geod.inv_intermediate``; the distance
is the minimum ``Geod.inv`` over the samples (vertices included). Sampling every ``step_m``
overstates by at most ``step_m**2 / (8 d)``: under a millimetre for 10 m steps at 5 km.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Geod

GEOD = Geod(ellps="WGS84")


def boundary_samples(polygon_lonlat: shapely.Geometry, step_m: float = 10.0) -> np.ndarray:
    """Lon/lat samples every ``step_m`` along the geodesic edges of every ring."""
    rings = shapely.get_rings(shapely.get_parts(polygon_lonlat))
    out = []
    for ring in rings:
        c = shapely.get_coordinates(ring)
        a, b = c[:-1], c[1:]
        out.append(c)
        for (x1, y1), (x2, y2) in zip(a, b, strict=True):
            line = GEOD.inv_intermediate(
                x1, y1, x2, y2, del_s=step_m, initial_idx=1, return_back_azimuth=True
            )
            out.append(np.column_stack([line.lons, line.lats]))
    return np.vstack(out)


def brute_force_m(
    lon: float, lat: float, polygon_lonlat: shapely.Geometry, step_m: float = 10.0
) -> float:
    """Geodesic distance (m) from (lon, lat) to the boundary of ``polygon_lonlat``."""
    s = boundary_samples(polygon_lonlat, step_m)
    _, _, d = GEOD.inv(np.full(len(s), lon), np.full(len(s), lat), s[:, 0], s[:, 1])
    return float(np.min(d))
