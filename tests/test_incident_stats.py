"""Hand-checkable tests of geotools.analysis.incidents (geometry in PERU_ALBERS, coordinates in km).

Territories: T1 = 0..10 x 0..10 km; T2 = 100..200 x 0..100 km (big); T3 = 20..30 x 0..10 km.
Vertices every 500 m. Near the Albers origin the plane's scale differs from the ellipsoid's by
well under 1 %, so the distances below hold with wide margins.

Incidents (nearby_km = 5):

=====  ===========  ========  ==============  =========  =====================================
id     precision    at (km)   kind (sev)      date       relation
=====  ===========  ========  ==============  =========  =====================================
e1     exact        5, 5      killing (5)     2021-03-01 inside T1
e2     exact        12, 5     threat (2)      2022-06-01 nearby T1 (2 km); T3 is 8 km away
eb     exact        10, 7     eviction (3)    NA         inside T1 (on its boundary), undated
l1     locality     3, 5      attack (4)      2022-06-01 uncertain T1: 3 km from the border < 5
d1     district     150, 50   protest_cas.(5) 2020-01-15 inside T2: 50 km from its border > 20
d2     district     15, 5     spill (3)       2021-05-05 uncertain T1 and T3 (5 km outside each)
a1     approximate  5, 11.5   invasion (3)    2023-02-02 nearby T1: 1.5 km outside, radius 1 km
e3     exact        25, 5     arson (4)       2022-12-31 inside T3
=====  ===========  ========  ==============  =========  =====================================

T1: inside e1, eb (2; severity 8; 1 killing; 1 undated); nearby e2, a1 (2; severity 5);
uncertain l1, d2 (2); last date 2023-02-02 (a1); first year 2021.
T2: inside d1 (killings_inside 1). T3: inside e3, uncertain d2; last date 2022-12-31, 33 days
before the reference date (default: the latest incident date, 2023-02-02).
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import Point, box

from geotools.analysis.incidents import (
    INSIDE,
    KINDS,
    UNCERTAIN,
    UNCERTAINTY_KM,
    classify_pairs,
    count_incidents,
    merge_duplicate_incidents,
    summarise_incidents,
)
from geotools.crs import PERU_ALBERS

KM = 1000.0
REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


def square(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.segmentize(box(x0 * KM, y0 * KM, x1 * KM, y1 * KM), 500)


def pt(x: float, y: float) -> Point:
    return Point(x * KM, y * KM)


@pytest.fixture
def territories() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"territory_id": ["T1", "T2", "T3"]},
        geometry=[square(0, 0, 10, 10), square(100, 0, 200, 100), square(20, 0, 30, 10)],
        crs=PERU_ALBERS,
    )


ROWS = [
    ("e1", "exact", (5, 5), "killing", 5, "2021-03-01"),
    ("e2", "exact", (12, 5), "threat", 2, "2022-06-01"),
    ("eb", "exact", (10, 7), "eviction", 3, None),
    ("l1", "locality", (3, 5), "attack", 4, "2022-06-01"),
    ("d1", "district", (150, 50), "protest_casualty", 5, "2020-01-15"),
    ("d2", "district", (15, 5), "spill", 3, "2021-05-05"),
    ("a1", "approximate", (5, 11.5), "invasion", 3, "2023-02-02"),
    ("e3", "exact", (25, 5), "arson", 4, "2022-12-31"),
]


@pytest.fixture
def incidents() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "incident_id": [r[0] for r in ROWS],
            "date": pd.array([r[5] for r in ROWS], dtype="string"),
            "kind": [r[3] for r in ROWS],
            "severity": [r[4] for r in ROWS],
            "source": "test",
            "precision": [r[1] for r in ROWS],
        },
        geometry=[pt(*r[2]) for r in ROWS],
        crs=PERU_ALBERS,
    )


@pytest.fixture
def summary(territories, incidents):
    return summarise_incidents(territories, incidents, nearby_km=5)


def row(frame: pd.DataFrame, tid: str) -> pd.Series:
    return frame.set_index("territory_id").loc[tid]


def test_counts_inside_nearby_uncertain(summary):
    per = summary.per_territory
    assert per["territory_id"].tolist() == ["T1", "T2", "T3"]
    assert per["incidents_inside"].tolist() == [2, 1, 1]
    assert per["incidents_nearby"].tolist() == [2, 0, 0]
    assert per["incidents_uncertain"].tolist() == [1 + 1, 0, 1]
    assert per["undated_inside"].tolist() == [1, 0, 0]


def test_kinds_severity_killings(summary):
    per = summary.per_territory
    for kind in KINDS:
        assert f"incidents_inside_{kind}" in per
    t1, t2, t3 = (row(per, t) for t in ("T1", "T2", "T3"))
    assert t1["incidents_inside_killing"] == 1
    assert t1["incidents_inside_eviction"] == 1
    assert t1["incidents_inside_attack"] == 0  # l1 is only uncertain
    assert t2["incidents_inside_protest_casualty"] == 1
    assert t3["incidents_inside_arson"] == 1
    assert per[[f"incidents_inside_{k}" for k in KINDS]].sum(axis=1).tolist() == [2, 1, 1]
    # Nearby T1: e2 (threat, 2 km east) and a1 (invasion, 1.5 km north).
    assert (t1["incidents_nearby_threat"], t1["incidents_nearby_invasion"]) == (1, 1)
    assert per[[f"incidents_nearby_{k}" for k in KINDS]].sum(axis=1).tolist() == [2, 0, 0]
    assert per["severity_inside"].tolist() == [5 + 3, 5, 4]
    assert per["severity_nearby"].tolist() == [2 + 3, 0, 0]
    assert per["killings_inside"].tolist() == [1, 1, 0]
    assert per["killings_nearby"].tolist() == [0, 0, 0]


def test_dates(summary):
    per = summary.per_territory
    assert per["last_incident_date"].tolist() == ["2023-02-02", "2020-01-15", "2022-12-31"]
    assert per["first_incident_year"].tolist() == [2021, 2020, 2022]
    assert summary.reference_date == "2023-02-02"
    assert per["days_since_last_incident"].tolist() == [0, 1114, 33]


def test_reference_date_and_no_incidents(territories, incidents):
    s = summarise_incidents(territories, incidents, reference_date="2023-03-04")
    assert s.per_territory["days_since_last_incident"].tolist() == [30, 1144, 63]
    empty = summarise_incidents(territories, incidents.iloc[:0])
    assert empty.per_territory["incidents_inside"].tolist() == [0, 0, 0]
    assert empty.per_territory["last_incident_date"].isna().all()
    assert empty.by_year.empty and empty.uncertain.empty
    assert empty.reference_date is None


def test_by_year(summary):
    got = summary.by_year.set_index(["territory_id", "year"])
    expected = pd.DataFrame(
        [
            ("T1", 2021, 1, 0, 1, 5),  # e1 inside; d2 uncertain
            ("T1", 2022, 0, 1, 1, 0),  # e2 nearby; l1 uncertain
            ("T1", 2023, 0, 1, 0, 0),  # a1 nearby
            ("T2", 2020, 1, 0, 0, 5),
            ("T3", 2021, 0, 0, 1, 0),  # d2
            ("T3", 2022, 1, 0, 0, 4),
        ],
        columns=["territory_id", "year", "inside", "nearby", "uncertain", "severity_inside"],
    ).set_index(["territory_id", "year"])
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    # undated eb is in per_territory only
    assert summary.by_year["inside"].sum() == summary.per_territory["incidents_inside"].sum() - 1


def test_uncertain_table(summary):
    unc = summary.uncertain
    assert list(unc.columns[:4]) == ["incident_id", "territory_id", "precision", "distance_km"]
    assert list(zip(unc["incident_id"], unc["territory_id"], strict=True)) == [
        ("l1", "T1"),
        ("d2", "T1"),
        ("d2", "T3"),
    ]
    assert unc["precision"].tolist() == ["locality", "district", "district"]
    np.testing.assert_allclose(unc["distance_km"], [3, 5, 5], rtol=0.02)
    assert unc["point_inside"].tolist() == [True, False, False]


def test_large_radius_deep_inside_is_inside(territories):
    """District precision 50 km inside T2 is inside; 15 km inside it is only uncertain."""
    inc = gpd.GeoDataFrame(
        {"incident_id": ["deep", "shallow"], "precision": ["district", "district"]},
        geometry=[pt(150, 50), pt(115, 50)],
        crs=PERU_ALBERS,
    )
    s = summarise_incidents(territories, inc)
    assert row(s.per_territory, "T2")[["incidents_inside", "incidents_uncertain"]].tolist() == [
        1,
        1,
    ]
    assert s.uncertain["incident_id"].tolist() == ["shallow"]


def test_each_pair_has_one_relation(territories, incidents):
    s = summarise_incidents(territories, incidents)
    per = s.per_territory
    total = (per["incidents_inside"] + per["incidents_nearby"] + per["incidents_uncertain"]).sum()
    # e1, e2, eb, l1 -> T1; d1 -> T2; d2 -> T1, T3; a1 -> T1; e3 -> T3
    assert total == 9


def test_exact_matches_count_incidents():
    """With exact precision only, counts equal those of analysis.incidents.count_incidents."""
    rng = np.random.default_rng(3)
    terr = gpd.GeoDataFrame(
        {"territory_id": [f"t{i}" for i in range(12)]},
        geometry=[
            square(x, y, x + w, y + w)
            for x, y, w in zip(
                rng.uniform(0, 60, 12), rng.uniform(0, 60, 12), rng.uniform(3, 15, 12), strict=True
            )
        ],
        crs=PERU_ALBERS,
    )
    xy = rng.uniform(-10, 80, (3000, 2))
    inc = gpd.GeoDataFrame(
        {"incident_id": np.arange(3000)},
        geometry=shapely.points(xy * KM),
        crs=PERU_ALBERS,
    )
    s = summarise_incidents(terr, inc, nearby_km=4)
    inside, nearby = count_incidents(
        terr.geometry.values, np.asarray(inc.geometry.values), PERU_ALBERS, 4
    )
    assert s.per_territory["incidents_inside"].tolist() == inside.tolist()
    assert s.per_territory["incidents_nearby"].tolist() == nearby.tolist()
    assert s.per_territory["incidents_uncertain"].sum() == 0


def test_classify_pairs_exclusive(territories, incidents):
    t_geoms = np.asarray(territories.geometry.values)
    p_geoms = np.asarray(incidents.geometry.values)
    radius = incidents["precision"].map(UNCERTAINTY_KM).to_numpy() * KM
    pairs = classify_pairs(t_geoms, p_geoms, radius, PERU_ALBERS, 5)
    assert not pairs.duplicated(["t", "p"]).any()
    assert set(pairs["relation"]) <= {INSIDE, UNCERTAIN, 2}


def test_missing_precision_is_exact_and_unknown_raises(territories):
    inc = gpd.GeoDataFrame(
        {"incident_id": ["x"], "precision": pd.array([pd.NA], dtype="string")},
        geometry=[pt(1, 1)],
        crs=PERU_ALBERS,
    )
    s = summarise_incidents(territories, inc)
    assert s.per_territory["incidents_inside"].tolist() == [1, 0, 0]
    inc["precision"] = "roughly"
    with pytest.raises(ValueError, match="unknown incident precision"):
        summarise_incidents(territories, inc)


def test_any_crs(territories, incidents):
    s = summarise_incidents(territories.to_crs(4326), incidents.to_crs(32718))
    assert s.per_territory["incidents_inside"].tolist() == [2, 1, 1]
    assert s.per_territory["incidents_uncertain"].tolist() == [2, 0, 1]


# --- duplicates -------------------------------------------------------------------------------

DUP_ROWS = [
    # id, source, (x, y) km, kind, date
    ("A", "src1", (50, 50), "killing", "2023-01-01"),
    ("B", "src2", (50.3, 50), "killing", "2023-01-02"),  # 300 m, ~10 h across midnight
    ("C", "src3", (48, 50), "killing", "2023-01-01"),  # 2 km from A: not merged
    ("D", "src2", (50, 50.2), "threat", "2023-01-01"),  # other kind: not merged
    ("F", "src2", (80.8, 50), "attack", "2023-05-01"),  # chain E ~ F ~ G
    ("E", "src1", (80, 50), "attack", "2023-05-02"),
    ("G", "src3", (81.6, 50), "attack", "2023-05-02"),
    ("H1", "src1", (90, 50), "threat", "2023-06-01"),  # same source, 100 m: not merged
    ("H2", "src1", (90.1, 50), "threat", "2023-06-01"),
    ("N1", "src1", (95, 50), "threat", None),  # undated: never merged
    ("N2", "src2", (95, 50), "threat", None),
    ("L", "src9", (50.2, 50), "killing", "2023-01-05"),  # 4 days later: not merged
]


@pytest.fixture
def duplicates() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "incident_id": [r[0] for r in DUP_ROWS],
            "date": pd.array([r[4] for r in DUP_ROWS], dtype="string"),
            "kind": [r[3] for r in DUP_ROWS],
            "severity": 3,
            "source": [r[1] for r in DUP_ROWS],
            "precision": "exact",
        },
        geometry=[pt(*r[2]) for r in DUP_ROWS],
        crs=PERU_ALBERS,
    )


def test_merge_duplicates(duplicates):
    merged, merges = merge_duplicate_incidents(duplicates)
    assert merged["incident_id"].tolist() == ["A", "C", "D", "F", "H1", "H2", "N1", "N2", "L"]
    m = merged.set_index("incident_id")
    assert m.loc["A", "sources"] == "src1; src2"
    assert m.loc["A", "merged_ids"] == "A; B"
    assert m.loc["F", "sources"] == "src2; src1; src3"  # F first by date, then E, G by id
    assert m.loc["F", "merged_ids"] == "F; E; G"
    assert m.loc["C", "sources"] == "src3" and m.loc["C", "merged_ids"] == "C"
    assert merges[["kept_id", "merged_id", "days_apart"]].values.tolist() == [
        ["A", "B", 1],
        ["F", "E", 1],
        ["F", "G", 1],
    ]
    np.testing.assert_allclose(merges["distance_km"], [0.3, 0.8, 0.8], rtol=0.02)


def test_merge_same_source_optional(duplicates):
    merged, merges = merge_duplicate_incidents(duplicates, distinct_sources=False)
    assert "H2" not in merged["incident_id"].tolist()
    assert ["H1", "H2"] in merges[["kept_id", "merged_id"]].values.tolist()


def test_merge_is_deterministic(duplicates):
    a, ma = merge_duplicate_incidents(duplicates)
    shuffled = duplicates.sample(frac=1, random_state=7)
    b, mb = merge_duplicate_incidents(shuffled)
    assert sorted(a["incident_id"]) == sorted(b["incident_id"])
    key = ["incident_id", "sources", "merged_ids"]
    pd.testing.assert_frame_equal(
        a[key].sort_values("incident_id", ignore_index=True),
        b[key].sort_values("incident_id", ignore_index=True),
    )
    pd.testing.assert_frame_equal(
        ma.sort_values("merged_id", ignore_index=True),
        mb.sort_values("merged_id", ignore_index=True),
    )


def test_merge_wider_limits(duplicates):
    merged, _ = merge_duplicate_incidents(duplicates, max_km=2.5, max_days=5)
    # A, B, C (2 km), L (4 days) are one killing now
    assert merged.set_index("incident_id").loc["A", "merged_ids"] == "A; C; B; L"


# --- real data --------------------------------------------------------------------------------


@pytest.fixture
def defensoria() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    conflicts = (
        REALDATA / "defensoria-conflictos-mineros/conflictos_mineros_defensoria_2024-03.geojson"
    )
    departments = REALDATA / "peru-geojson-inei/peru_departamental_simple.geojson"
    if not (conflicts.exists() and departments.exists()):
        if os.environ.get("CI") == "true":
            pytest.fail(f"real data expected under {REALDATA} in CI")
        pytest.skip("Defensoría / INEI real data not present")
    raw = gpd.read_file(conflicts)
    inc = gpd.GeoDataFrame(
        {
            "incident_id": [f"dp{i:03d}" for i in range(len(raw))],
            "date": "2024-03-31",  # monthly snapshot: no event dates
            "kind": "other",
            "source": "defensoria",
            "precision": "district",  # geocoded to the district (SOURCE.md)
        },
        geometry=raw.geometry.values,
        crs=raw.crs,
    )
    dep = gpd.read_file(departments).rename(columns={"NOMBDEP": "territory_id"})
    return dep[["territory_id", "geometry"]], inc


def test_defensoria_district_points_not_asserted_inside_near_border(defensoria):
    dep, inc = defensoria
    assert len(inc) == 81
    assert inc.geometry.duplicated().sum() >= 6  # 12 rows share coordinates with another
    merged, merges = merge_duplicate_incidents(inc)
    assert len(merged) == 81 and merges.empty  # one source: distinct cases stay distinct

    s = summarise_incidents(dep, inc, nearby_km=5)
    # Independent check in the equal-area plane (scale within 2 % over Peru).
    dep_p = dep.to_crs(PERU_ALBERS)
    pts = inc.to_crs(PERU_ALBERS).geometry.values
    to_border = np.array(
        [shapely.distance(pts, g.boundary) for g in dep_p.geometry.values]
    )  # departments x points
    within = np.array([shapely.within(pts, g) for g in dep_p.geometry.values])
    inside_pairs = within & (to_border > 20 * KM * 1.02)
    risky = within & (to_border < 20 * KM * 0.98)
    assert s.per_territory["incidents_inside"].sum() >= inside_pairs.sum()
    assert s.per_territory["incidents_inside"].sum() <= (within & ~risky).sum()
    unc = set(zip(s.uncertain["territory_id"], s.uncertain["incident_id"], strict=True))
    names, ids = dep["territory_id"].to_numpy(), inc["incident_id"].to_numpy()
    for d, p in zip(*np.nonzero(risky), strict=True):
        assert (names[d], ids[p]) in unc  # near its border: uncertain, never inside
    for d, p in zip(*np.nonzero(~within & (to_border < 20 * KM * 0.98)), strict=True):
        assert (names[d], ids[p]) in unc  # neighbours within 20 km: uncertain too
    # every point lies in Peru: inside exactly one department or uncertain for at least one
    assert within.any(axis=0).all()
    in_any = s.per_territory["incidents_inside"].sum() + s.uncertain["incident_id"].nunique()
    assert in_any == len(inc)
