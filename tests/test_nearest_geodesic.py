"""Exact geodesic point-to-polygon distances where the Albers-nearest point is not the nearest.

The equal-area plane (geotools Peru Albers) stretches north-south by ~0.55 % and shrinks
east-west by ~0.55 % at 5.5 S, so of two parts of a boundary nearly equidistant from a point, one
due west and one due south, the plane may pick the western one while the southern one is nearer on
the ellipsoid. Every case is built in Peru with edges of 300 km or more (read as geodesics,
densified at read time) and checked against a brute-force ``pyproj.Geod`` over the boundary
sampled every 10 m (``tests/_geodesic_brute.py``), within 1 m.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from geotools.analysis.incidents import (
    NEARBY,
    classify_pairs,
    count_incidents,
    summarise_incidents,
)
from geotools.analysis.nearest import TOLERANCE_M, nearest_geodesic_m
from geotools.area import project_to_area_crs
from geotools.crs import PERU_ALBERS
from tests._geodesic_brute import brute_force_m

GEOD = Geod(ellps="WGS84")
P = (-75.8, -5.5)  # Ucayali / Loreto, near the real case of docs/area.md


def at(x_km: float, y_km: float, origin: tuple[float, float] = P) -> tuple[float, float]:
    """Lon/lat of the point ``x_km`` east and ``y_km`` north of ``origin`` (geodesic polar)."""
    az = float(np.degrees(np.arctan2(x_km, y_km)))
    lon, lat, _ = GEOD.fwd(origin[0], origin[1], az, float(np.hypot(x_km, y_km)) * 1000)
    return float(lon), float(lat)


def west_strip_and_south_apex(a: float, b: float) -> shapely.MultiPolygon:
    """A strip whose 300 km east edge is ``a`` km west of P; a triangle with apex ``b`` km south."""
    strip = shapely.Polygon([at(-a, 150), at(-a - 50, 150), at(-a - 50, -150), at(-a, -150)])
    apex = shapely.Polygon([at(0, -b), at(150, -b - 300), at(-150, -b - 300)])
    return shapely.MultiPolygon([strip, apex])


def concave(a: float, b: float) -> shapely.Polygon:
    """One polygon: a 300 km edge ``a`` km west of P and a corner ``b`` km south of it."""
    return shapely.Polygon(
        [
            at(-a, 150),
            at(-a - 50, 150),
            at(-a - 50, -b - 300),
            at(150, -b - 300),
            at(0, -b),
            at(-a, -150),
        ]
    )


def planar(
    zone: shapely.Geometry, points: list[tuple[float, float]]
) -> tuple[np.ndarray, np.ndarray]:
    geoms = gpd.GeoSeries([zone, *(shapely.Point(p) for p in points)], crs=4326)
    plane = project_to_area_crs(geoms, PERU_ALBERS)
    return np.repeat(plane[:1], len(points)), plane[1:]


def albers_candidate_m(zones: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The old measure: geodesic distance to the boundary point nearest in the plane."""
    return nearest_geodesic_m(zones, points, PERU_ALBERS, thresholds_m=[])


def test_plane_picks_the_wrong_part_at_the_5_km_threshold() -> None:
    """4.995 km away on the ellipsoid, 5.016 km by the Albers-nearest point: now nearby."""
    zone = west_strip_and_south_apex(5.015, 4.995)
    zones, points = planar(zone, [P])
    truth = brute_force_m(*P, zone)
    assert truth == pytest.approx(4995.0, abs=0.01)  # the apex, by construction
    old = albers_candidate_m(zones, points)[0]
    assert old == pytest.approx(5015.9, abs=0.5)  # the west edge: over the 5 km threshold
    exact = nearest_geodesic_m(zones, points, PERU_ALBERS)[0]
    assert abs(exact - truth) <= TOLERANCE_M == 1.0
    # The threshold-driven refinement gives the same figure for this pair.
    assert nearest_geodesic_m(zones, points, PERU_ALBERS, [5000.0])[0] == pytest.approx(exact)
    inside, nearby = count_incidents(zones[:1], points, PERU_ALBERS, nearby_km=5.0)
    assert inside.tolist() == [0] and nearby.tolist() == [1]
    pairs = classify_pairs(zones[:1], points, np.zeros(1), PERU_ALBERS, nearby_km=5.0)
    assert pairs["relation"].tolist() == [NEARBY]
    assert pairs["distance_m"].iloc[0] == pytest.approx(truth, abs=1.0)


def test_summarise_counts_the_incident_nearby() -> None:
    zone = west_strip_and_south_apex(5.015, 4.995)
    territories = gpd.GeoDataFrame({"territory_id": ["T"]}, geometry=[zone], crs=4326)
    incidents = gpd.GeoDataFrame(
        {"incident_id": ["i1"], "kind": ["threat"], "date": ["2024-01-02"]},
        geometry=[shapely.Point(P)],
        crs=4326,
    )
    per = summarise_incidents(territories, incidents, nearby_km=5.0).per_territory
    assert per.loc[0, "incidents_nearby"] == 1


def test_uncertainty_radius_decided_on_the_exact_distance() -> None:
    """A locality (5 km) point 4.995 km outside is uncertain, not merely nearby."""
    zone = west_strip_and_south_apex(5.015, 4.995)
    zones, points = planar(zone, [P])
    pairs = classify_pairs(zones[:1], points, np.array([5000.0]), PERU_ALBERS, nearby_km=10.0)
    assert pairs["relation"].tolist() == [1]  # UNCERTAIN


def test_single_concave_polygon_70_km() -> None:
    """The real-data situation (69.93 km for 69.55 km) rebuilt: one polygon, 300+ km edges."""
    zone = concave(70.0, 69.8)
    zones, points = planar(zone, [P])
    truth = brute_force_m(*P, zone)
    old = albers_candidate_m(zones, points)[0]
    exact = nearest_geodesic_m(zones, points, PERU_ALBERS)[0]
    assert old - truth > 150  # the plane picked the west edge
    assert abs(exact - truth) <= 1.0


def test_random_points_agree_with_brute_force() -> None:
    """30 seeded points around and inside the concave polygon: every distance within 1 m."""
    zone = concave(70.0, 69.8)
    rng = np.random.default_rng(7)
    pts = [at(x, y) for x, y in rng.uniform(-200, 200, size=(30, 2))]
    zones, points = planar(zone, pts)
    exact = nearest_geodesic_m(zones, points, PERU_ALBERS)
    old = albers_candidate_m(zones, points)
    inside = shapely.intersects(zones, points)
    truth = np.array(
        [0.0 if i else brute_force_m(*p, zone) for p, i in zip(pts, inside, strict=True)]
    )
    assert np.abs(exact - truth).max() <= 1.0
    assert (old >= truth - 1.0).all()  # the planar candidate never understates
    # One zone object shared by all pairs takes the segment-tree path; distinct copies of it the
    # per-pair numpy path: same figures.
    copies = shapely.from_wkb(shapely.to_wkb(zones))
    assert np.array_equal(nearest_geodesic_m(copies, points, PERU_ALBERS), exact)


def test_boundary_lines_and_points_as_zones() -> None:
    """Distances to a boundary (points inside) and to point zones are exact too."""
    zone = concave(70.0, 69.8)
    inner = at(-100, 0)  # inside the strip, 30 km from its east edge
    geoms = gpd.GeoSeries([zone, shapely.Point(inner), shapely.Point(P)], crs=4326)
    plane = project_to_area_crs(geoms, PERU_ALBERS)
    boundary = shapely.boundary(plane[:1])
    d = nearest_geodesic_m(boundary, plane[1:2], PERU_ALBERS)[0]
    assert abs(d - brute_force_m(*inner, zone)) <= 1.0
    _, _, between = GEOD.inv(*inner, *P)
    assert nearest_geodesic_m(plane[1:2], plane[2:], PERU_ALBERS)[0] == pytest.approx(
        between, abs=0.01
    )
    assert nearest_geodesic_m(plane[:1], plane[1:2], PERU_ALBERS)[0] == 0.0


def test_only_pairs_near_a_threshold_are_refined() -> None:
    """Far from every threshold the upper bound is kept; near one it is refined."""
    zone = concave(70.0, 69.8)
    zones, points = planar(zone, [P])
    old = albers_candidate_m(zones, points)[0]
    assert nearest_geodesic_m(zones, points, PERU_ALBERS, [5000.0])[0] == old
    assert nearest_geodesic_m(zones, points, PERU_ALBERS, [69_900.0])[0] == pytest.approx(
        brute_force_m(*P, zone), abs=1.0
    )
    per_pair = pd.Series([69_900.0]).to_numpy()
    assert nearest_geodesic_m(zones, points, PERU_ALBERS, [per_pair])[0] < 69_900.0
