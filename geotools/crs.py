"""CRS policy: which equal-area CRS measures hectares, and checks that a layer's CRS is plausible.

Hectares are measured in an Albers equal-area conic projection on the WGS84 ellipsoid. Albers is
equal-area by construction (PROJ implements the ellipsoidal formulas), so the area of a projected
polygon is the true ellipsoidal area of the region it bounds. Edges are geodesics between
vertices, as in ``pyproj.Geod``: long edges are densified along the geodesic before measuring
(:func:`geotools.area.project_to_area_crs`; see ``docs/area.md``).

- Data inside Peru (with a margin) use :data:`PERU_ALBERS`, a fixed CRS, so results never depend on
  which layers were given.
- Data elsewhere use an Albers fitted to the data's extent (standard parallels at 1/6 and 5/6 of
  its latitude range), which is equally exact for area.
"""

from __future__ import annotations

import logging

import numpy as np
from pyproj import CRS
from pyproj.crs import GeographicCRS, ProjectedCRS
from pyproj.crs.coordinate_operation import AlbersEqualAreaConversion

from geotools.errors import CRSError

log = logging.getLogger(__name__)


def albers_crs(lat1: float, lat2: float, lat0: float, lon0: float, name: str) -> CRS:
    """Return a named Albers equal-area conic CRS on WGS84 (metres).

    Parameters
    ----------
    lat1, lat2 : float
        First and second standard parallels (degrees).
    lat0 : float
        Latitude of the false origin (degrees).
    lon0 : float
        Longitude of the false origin, the central meridian (degrees).
    name : str
        Name of the CRS.

    Returns
    -------
    pyproj.CRS
        Projected CRS on the WGS 84 geographic CRS, false easting and northing 0.
    """
    conversion = AlbersEqualAreaConversion(
        latitude_first_parallel=lat1,
        latitude_second_parallel=lat2,
        latitude_false_origin=lat0,
        longitude_false_origin=lon0,
    )
    return CRS(ProjectedCRS(conversion=conversion, geodetic_crs=GeographicCRS(), name=name))


#: Albers equal-area conic for Peru, WGS84 ellipsoid; standard parallels 2°S and 16°S.
PERU_ALBERS = albers_crs(-2.0, -16.0, -9.5, -75.0, "geotools Peru Albers equal-area (WGS 84)")
#: Longitude/latitude box inside which :data:`PERU_ALBERS` is used (Peru plus ~2° margin).
PERU_BOUNDS = (-83.5, -20.5, -66.5, 2.0)

WGS84 = CRS.from_epsg(4326)


def choose_area_crs(bounds_lonlat: tuple[float, float, float, float]) -> CRS:
    """Return the equal-area CRS used to measure areas for data within ``bounds_lonlat``.

    Parameters
    ----------
    bounds_lonlat : tuple of float
        ``(min_lon, min_lat, max_lon, max_lat)`` of all layers, in degrees.

    Returns
    -------
    pyproj.CRS
        :data:`PERU_ALBERS` when the box lies inside :data:`PERU_BOUNDS`, else an Albers equal-area
        CRS fitted to the box.
    """
    minx, miny, maxx, maxy = bounds_lonlat
    if not np.all(np.isfinite(bounds_lonlat)):
        return PERU_ALBERS
    px0, py0, px1, py1 = PERU_BOUNDS
    if minx >= px0 and miny >= py0 and maxx <= px1 and maxy <= py1:
        return PERU_ALBERS
    span = max(maxy - miny, 1e-6)
    lat1 = round(miny + span / 6, 4)
    lat2 = round(maxy - span / 6, 4)
    if abs(lat1 + lat2) < 1e-9 or abs(lat1 - lat2) < 1e-6:
        # Albers needs a cone: standard parallels symmetric about the equator or equal make it
        # degenerate; shift slightly (areas stay exact, only shape distortion changes).
        lat2 = lat2 + 0.5
    lon0 = round((minx + maxx) / 2, 4)
    lat0 = round((miny + maxy) / 2, 4)
    log.info("data outside Peru: using an Albers equal-area CRS fitted to the extent")
    return albers_crs(lat1, lat2, lat0, lon0, f"geotools Albers equal-area {lon0}/{lat0} (WGS 84)")


def describe_crs(crs: CRS | None) -> str:
    """Return a short human label for a CRS (``EPSG:32718``, or its name).

    Parameters
    ----------
    crs : pyproj.CRS or None
        The CRS to name.

    Returns
    -------
    str
        ``EPSG:<code>`` when the CRS matches an EPSG code with at least 90 % confidence, else the
        CRS's name; ``"no CRS"`` for None.
    """
    if crs is None:
        return "no CRS"
    epsg = crs.to_epsg(min_confidence=90)
    if epsg:
        return f"EPSG:{epsg}"
    return str(crs.name)


def check_coordinates_plausible(
    crs: CRS, bounds: tuple[float, float, float, float], source: str, *, assumed: bool = False
) -> None:
    """Raise :class:`CRSError` when coordinates cannot be in ``crs``.

    A geographic CRS with coordinates beyond ±180/±90 almost always means projected (UTM) numbers
    without a CRS tag; the error suggests the likely EPSG code.

    Parameters
    ----------
    crs : pyproj.CRS
        The declared (or assumed) CRS.
    bounds : tuple of float
        ``(minx, miny, maxx, maxy)`` of the layer in that CRS.
    source : str
        File name, for the message.
    assumed : bool, default False
        The CRS was given by the user (``--assume-crs``): trust it for projected CRSs.
    """
    minx, miny, maxx, maxy = bounds
    if not np.all(np.isfinite(bounds)):
        return
    if crs.is_geographic and (
        min(minx, miny) < -180.0001 or maxx > 360.0001 or max(abs(miny), abs(maxy)) > 90.0001
    ):
        hint = suggest_utm_epsg(bounds)
        raise CRSError(
            f"{source}: coordinates ({minx:.0f}, {miny:.0f}) to ({maxx:.0f}, {maxy:.0f}) are not "
            f"degrees, but the layer says it is {describe_crs(crs)}. They look like projected "
            f"metres{hint}; re-run with --assume-crs EPSG:XXXXX naming the layer's real CRS."
        )
    looks_like_degrees = (
        max(abs(minx), abs(maxx)) <= 180
        and max(abs(miny), abs(maxy)) <= 90
        and (maxx - minx) < 30
        and (maxy - miny) < 30
    )
    if crs.is_projected and looks_like_degrees and not assumed:
        raise CRSError(
            f"{source}: coordinates ({minx:.4f}, {miny:.4f}) to ({maxx:.4f}, {maxy:.4f}) look "
            f"like degrees, but the layer says it is {describe_crs(crs)} (metres). Re-run with "
            "--assume-crs EPSG:4326 if they are longitude/latitude."
        )


def suggest_utm_epsg(bounds: tuple[float, float, float, float]) -> str:
    """Guess a UTM zone for projected coordinates in Peru (text for an error message).

    Parameters
    ----------
    bounds : tuple of float
        ``(minx, miny, maxx, maxy)`` of the layer, in its (unknown) projected unit.

    Returns
    -------
    str
        A parenthesised hint, with a leading space, naming EPSG:32717, 32718 and 32719 when the
        bounds look like Peru's southern-hemisphere UTM metres (with the usual 10,000 km false
        northing or without it); ``""`` otherwise.
    """
    minx, miny, maxx, maxy = bounds
    if minx >= 100_000 and maxx <= 900_000 and miny >= 7_800_000 and maxy <= 10_000_000:
        return " (Peru's southern-hemisphere UTM zones: EPSG:32717, 32718 or 32719)"
    if minx >= 100_000 and maxx <= 900_000 and miny >= -2_200_000 and maxy <= 0:
        return " (UTM with a negative false northing, e.g. EPSG:32717/32718/32719 shifted)"
    return ""
