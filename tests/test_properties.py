"""Invariants under random inputs (hypothesis), checked against a brute-force oracle."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geotools.analysis.stats import compute_territory_stats
from geotools.analysis.tenure import TENURE_CLASSES
from geotools.crs import PERU_ALBERS
from geotools.geometry import dissolve_by_group, union_by_group

TENURES = ["titled", "cession_in_use", "in_process", "demarcated"]


@st.composite
def boxes(draw, max_size=20.0):
    x0 = draw(st.floats(0, max_size, allow_nan=False))
    y0 = draw(st.floats(0, max_size, allow_nan=False))
    w = draw(st.floats(0.2, 8, allow_nan=False))
    h = draw(st.floats(0.2, 8, allow_nan=False))
    # Round to 10 m so that shared edges are exact, as in digitised cadastres.
    x0, y0, w, h = (round(v, 2) * 1000 for v in (x0, y0, w, h))
    # Vertices at most 1 km apart, so edges are the same whether read as straight in the plane
    # or as geodesics (geotools densifies only edges over 2 km).
    return shapely.segmentize(shapely.box(x0, y0, x0 + w, y0 + h), 1000)


@st.composite
def layers(draw):
    t = draw(st.lists(boxes(), min_size=1, max_size=3))
    p = draw(st.lists(st.tuples(boxes(), st.sampled_from(TENURES)), min_size=0, max_size=10))
    territories = gpd.GeoDataFrame(
        {"territory_id": [f"T{i}" for i in range(len(t))]}, geometry=t, crs=PERU_ALBERS
    )
    parcels = gpd.GeoDataFrame(
        {"parcel_id": [f"P{i}" for i in range(len(p))], "tenure": [x[1] for x in p]},
        geometry=[x[0] for x in p],
        crs=PERU_ALBERS,
    )
    return territories, parcels


SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@SETTINGS
@given(layers())
def test_tenure_matches_bruteforce_union_oracle(data):
    territories, parcels = data
    result = compute_territory_stats(territories, parcels).table
    for i, territory in enumerate(territories.geometry):
        for name, members in TENURE_CLASSES.items():
            chosen = parcels.geometry[parcels["tenure"].isin(members)]
            expected = (
                shapely.union_all(chosen.to_numpy()).intersection(territory).area / 1e4
                if len(chosen)
                else 0.0
            )
            assert result[f"{name}_ha"].iloc[i] == pytest.approx(expected, rel=1e-9, abs=1e-6)


@SETTINGS
@given(layers())
def test_bounds_and_ordering(data):
    territories, parcels = data
    t = compute_territory_stats(territories, parcels).table
    for column in ("titled_pct", "secured_pct", "untitled_pct", "in_process_pct"):
        assert ((t[column] >= 0) & (t[column] <= 100)).all()
    tol = 1e-6
    assert (t.titled_ha <= t.secured_ha + tol).all()
    assert (t.secured_ha <= t.claimed_ha + tol).all()
    assert np.allclose(t.untitled_ha + t.secured_ha, t.claimed_ha)


@SETTINGS
@given(layers())
def test_union_never_exceeds_sum_of_clipped_parts(data):
    territories, parcels = data
    t = compute_territory_stats(territories, parcels).table
    for i, territory in enumerate(territories.geometry):
        clipped_sum = (
            shapely.area(shapely.intersection(parcels.geometry.to_numpy(), territory)).sum() / 1e4
        )
        assert t["titled_ha"].iloc[i] <= clipped_sum + 1e-6


@SETTINGS
@given(layers())
def test_independent_of_input_crs(data):
    territories, parcels = data
    a = compute_territory_stats(territories, parcels).table
    b = compute_territory_stats(territories.to_crs(4326), parcels.to_crs(32718)).table
    for column in ("claimed_ha", "titled_ha", "secured_ha"):
        assert np.allclose(a[column], b[column], rtol=1e-4, atol=1e-3)


@SETTINGS
@given(st.lists(boxes(), min_size=1, max_size=12), st.integers(1, 4))
def test_union_by_group_equals_union_all(geoms, n_groups):
    geoms = np.array(geoms, dtype=object)
    groups = np.arange(len(geoms)) % n_groups
    keys, unions = union_by_group(geoms, groups)
    for key, union in zip(keys, unions, strict=True):
        expected = shapely.union_all(geoms[groups == key])
        assert shapely.area(union) == pytest.approx(expected.area)
    pg, pieces = dissolve_by_group(geoms, groups)
    for key in np.unique(groups):
        mine = pieces[pg == key]
        assert shapely.area(mine).sum() == pytest.approx(
            shapely.union_all(geoms[groups == key]).area
        )


def test_deterministic(case):
    a = compute_territory_stats(
        case["territories"], case["parcels"], case["concessions"], case["incidents"]
    ).table
    b = compute_territory_stats(
        case["territories"], case["parcels"], case["concessions"], case["incidents"]
    ).table
    assert a.to_csv() == b.to_csv()
