"""Privacy rules: sensitivity, personal fields, suppression, keyed displacement."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from geotools.errors import GeotoolsError
from geotools.privacy import (
    PrivacyError,
    PrivacyPolicy,
    aggregate_to_hexagons,
    classify_sensitivity,
    derive_key,
    displace_points,
    draw_uniforms,
    find_personal_columns,
    generalise_incidents,
    suppress_counts,
)

GEOD = Geod(ellps="WGS84")
KEY = derive_key("a test secret that is long enough")


def _square(x0: float, y0: float, size: float) -> shapely.Polygon:
    return shapely.box(x0, y0, x0 + size, y0 + size)


def test_sensitivity_missing_is_restricted_and_unknown_is_confidential() -> None:
    values = pd.Series(["public", "Restricted", None, "confidential", "secreto", " PUBLIC "])
    assert classify_sensitivity(values).tolist() == [
        "public",
        "restricted",
        "restricted",
        "confidential",
        "confidential",
        "public",
    ]


def test_personal_columns_by_name() -> None:
    columns = ["incident_id", "victims", "reporter", "Teléfono", "contact_email", "holder", "name"]
    assert find_personal_columns(columns) == ["victims", "reporter", "Teléfono", "contact_email"]


def test_suppression_hides_small_counts_and_zero() -> None:
    assert suppress_counts([0, 1, 2, 3, 10], 3).tolist() == ["<3", "<3", "<3", "3", "10"]
    assert suppress_counts([4], 5).tolist() == ["<5"]


def test_uniforms_are_deterministic_and_uniform() -> None:
    seeds = np.arange(2000, dtype=np.uint64)
    a = draw_uniforms(seeds, 8)
    assert np.array_equal(a, draw_uniforms(seeds, 8))
    assert a.min() >= 0 and a.max() < 1
    assert abs(a.mean() - 0.5) < 0.01  # 16,000 draws: standard error 0.0023


def test_displacement_distance_and_reproducibility() -> None:
    rng = np.random.default_rng(1)
    n = 500
    x = -74.7 + rng.uniform(-0.5, 0.5, n)
    y = -8.3 + rng.uniform(-0.5, 0.5, n)
    ids = [f"R{i}" for i in range(n)]
    policy = PrivacyPolicy()
    first = displace_points(x, y, ids, KEY, policy)
    again = displace_points(x, y, ids, KEY, policy)
    assert first.placed.all()
    assert np.array_equal(first.x, again.x) and np.array_equal(first.y, again.y)
    _, _, d = GEOD.inv(x, y, first.x, first.y)
    assert d.min() >= 2000.0 and d.max() <= 5000.0
    assert np.allclose(d, first.distance_m)
    # Uniform over the ring's area: r^2 is uniform on [2^2, 5^2], so the median radius is
    # sqrt((2^2 + 5^2) / 2) = 3.81 km (the old comment said 4.06 and its bound 3,800 m sat at the
    # true median); standard error of a median of 500 draws is about 60 m: 3 SE either side.
    assert 3630 < np.median(d) < 3990
    # Published coordinates are rounded to 6 decimals.
    assert np.allclose(first.x, np.round(first.x, 6), rtol=0, atol=1e-12)
    # Another key gives other points (a different secret is a different publication).
    other = displace_points(x, y, ids, derive_key("another secret, also long"), policy)
    assert not np.allclose(other.x, first.x)


def test_displacement_keeps_territory_membership_and_avoids_water() -> None:
    territory = gpd.GeoDataFrame(
        {"territory_id": ["T1"]}, geometry=[_square(-74.8, -8.4, 0.1)], crs=4326
    )
    # A river crossing the territory from north to south (a band 1 km wide).
    water = gpd.GeoDataFrame(geometry=[shapely.box(-74.755, -8.6, -74.745, -8.1)], crs=4326)
    x = np.array([-74.78, -74.72, -74.60, -74.76])  # inside, inside, outside, inside
    y = np.array([-8.35, -8.32, -8.35, -8.38])
    ids = ["a", "b", "c", "d"]
    moved = displace_points(x, y, ids, KEY, PrivacyPolicy(), territories=territory, water=water)
    assert moved.placed.all()
    inside_before = shapely.contains_xy(territory.geometry.iloc[0], x, y)
    inside_after = shapely.contains_xy(territory.geometry.iloc[0], moved.x, moved.y)
    assert inside_before.tolist() == inside_after.tolist() == [True, True, False, True]
    assert not shapely.contains_xy(water.geometry.iloc[0], moved.x, moved.y).any()


def test_point_that_cannot_move_far_enough_is_not_placed() -> None:
    tiny = gpd.GeoDataFrame(geometry=[_square(-74.7, -8.3, 0.01)], crs=4326)  # 1.1 km square
    moved = displace_points(
        np.array([-74.695]), np.array([-8.295]), ["x"], KEY, PrivacyPolicy(), territories=tiny
    )
    assert not moved.placed[0] and np.isnan(moved.x[0])


def test_policy_is_checked() -> None:
    with pytest.raises(PrivacyError):
        PrivacyPolicy(min_distance_m=5000, max_distance_m=2000)
    with pytest.raises(GeotoolsError):
        PrivacyPolicy(restricted="blur")
    with pytest.raises(PrivacyError):
        derive_key("short")


def test_hexagon_counts_are_suppressed() -> None:
    x = np.array([-74.7, -74.7001, -74.7002, -74.2])
    y = np.array([-8.3, -8.3001, -8.3002, -8.9])
    hexagons = aggregate_to_hexagons(x, y, 6, 3)
    assert sorted(hexagons["incidents"]) == ["3", "<3"]
    assert set(hexagons["h3_resolution"]) == {6}


def _incidents() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "incident_id": ["P1", "R1", "R2", "C1"],
            "date": ["2020-01-01"] * 4,
            "kind": ["threat"] * 4,
            "description": ["public text", "restricted text", None, "confidential text"],
            "victims": ["Ana María Quispe", "Rosa Sánchez", None, "Edwin Chota"],
            "sensitivity": ["public", "restricted", None, "confidential"],
            "lon": ["-74.7", "-74.71", "-74.72", "-74.73"],
        },
        geometry=shapely.points([-74.7, -74.71, -74.72, -74.73], [-8.3] * 4),
        crs=4326,
    )


def test_generalise_incidents_withholds_and_displaces() -> None:
    out = generalise_incidents(_incidents(), PrivacyPolicy(), KEY)
    published = out.published
    assert published["incident_id"].tolist() == ["P1", "R1", "R2"]
    assert "victims" not in published and "lon" not in published
    assert published["description"].tolist()[0] == "public text"
    assert published["description"].iloc[1:].isna().all()
    assert published["location_generalised"].tolist() == [False, True, True]
    assert published["location_uncertainty_m"].tolist() == [0.0, 5000.0, 5000.0]
    assert out.withheld.ids == ["C1"]
    values = {v for _, v in out.withheld.values}
    assert {"Ana María Quispe", "Rosa Sánchez", "Edwin Chota", "restricted text"} <= values
    assert "public text" not in values
    assert out.facts["confidential"] == "<3"
    with pytest.raises(PrivacyError, match="secret"):
        generalise_incidents(_incidents(), PrivacyPolicy(), None)


def test_aggregate_mode_publishes_no_restricted_point() -> None:
    out = generalise_incidents(_incidents(), PrivacyPolicy(restricted="aggregate"), None)
    assert out.published["incident_id"].tolist() == ["P1"]
    assert out.hexagons is not None and out.hexagons["incidents"].tolist() == ["<3"]
    assert out.withheld.ids == ["C1", "R1", "R2"]
