"""Hand-computed statistics (all geometry in PERU_ALBERS km, so 1 km² = 100 true ha).

Territories: A = 0..10 x 0..10 km (10,000 ha); B = 10..20 x 0..10 (10,000 ha); C = 30..40 x 0..10
with a 4x4 km hole (8,400 ha); D = two 2x2 km squares (800 ha).

Parcels: P1 (0..2) and P2 (1..3) titled overlap by 1 km -> titled union in A is 0..3 = 3,000 ha,
plus P5 (8..12 x 4..6, titled) which crosses into B: 400 ha in A and 400 ha in B. P3 cession
2..5 -> secured in A = 0..5 (5,000) + 400 = 5,400 ha. P4 in process 400 ha. P6 sits in C's hole
(counts for none); P7 titled 2,000 ha in C; P8 crosses both parts of D: 100 + 100 = 200 ha. P9 lies
outside every territory, P10 only touches A from outside, P6 sits in C's hole: 3 parcels, 100 +
1,000 + 400 = 1,500 ha outside every territory.

Concessions: C1 (4..9) and C2 (7..12) agribusiness active overlap: union in A 4..10 = 6,000 ha, in B
2,000 ha. C3 expired over all of A: not pressure. C4 mining in process 0..1 x 0..1 = 100 ha.
concession_ha(A) = 6,100; on secured land: 4..5 x 0..10 (1,000) + P5 part (400) + C4 (100) = 1,500;
concession_untitled_ha(A) = 4,600.

Incidents: I1 inside A; I2 3 km west of A (nearby A); I3 in C's hole, 2 km from C (nearby C);
I4 8 km west of A (neither).
"""

from __future__ import annotations

import pytest

from geotools.analysis.stats import compute_territory_stats, describe_territory


@pytest.fixture
def result(case):
    return compute_territory_stats(
        case["territories"], case["parcels"], case["concessions"], case["incidents"], nearby_km=5
    )


def row(result, tid):
    table = result.table.set_index("territory_id")
    return table.loc[tid]


@pytest.mark.parametrize(
    ("tid", "claimed", "titled", "secured", "in_process"),
    [
        ("A", 10_000, 3_400, 5_400, 400),
        ("B", 10_000, 400, 400, 0),
        ("C", 8_400, 2_000, 2_000, 0),
        ("D", 800, 200, 200, 0),
    ],
)
def test_tenure_hectares_by_hand(result, tid, claimed, titled, secured, in_process):
    r = row(result, tid)
    assert r.claimed_ha == pytest.approx(claimed, abs=1e-6)
    assert r.titled_ha == pytest.approx(titled, abs=1e-6)
    assert r.secured_ha == pytest.approx(secured, abs=1e-6)
    assert r.in_process_ha == pytest.approx(in_process, abs=1e-6)
    assert r.untitled_ha == pytest.approx(claimed - secured, abs=1e-6)
    assert r.titled_pct == pytest.approx(100 * titled / claimed)
    assert r.secured_pct == pytest.approx(100 * secured / claimed)


def test_overlapping_parcels_are_not_double_counted(result):
    # Summing P1, P2 and P5's part would give 2,000 + 2,000 + 400 = 4,400 ha; the union is 3,400.
    assert row(result, "A").titled_ha == pytest.approx(3_400)


def test_outside_parcels_and_concessions_reported(result):
    assert result.outside["parcels"]["count"] == 3
    assert result.outside["parcels"]["ha"] == pytest.approx(1_500)
    assert sorted(result.outside["parcels"]["ids"]) == ["P10", "P6", "P9"]
    assert result.outside["concessions"]["count"] == 0


def test_concession_columns_by_hand(result):
    a, b = row(result, "A"), row(result, "B")
    assert a.concession_ha == pytest.approx(6_100)
    assert a.concession_pct == pytest.approx(61.0)
    assert a.concession_untitled_ha == pytest.approx(4_600)
    assert a.concession_agribusiness_ha == pytest.approx(6_000)
    assert a.concession_mining_ha == pytest.approx(100)
    assert a.concession_oil_gas_ha == 0  # expired
    assert b.concession_ha == pytest.approx(2_000)
    assert b.concession_untitled_ha == pytest.approx(2_000 - 400)


def test_overlap_matrix_pairs(result):
    pairs = result.overlaps.set_index(["territory_id", "concession_id"])
    assert len(pairs) == 5  # A-C1, A-C2, A-C3, A-C4, B-C2
    assert pairs.loc[("A", "C2"), "overlap_ha"] == pytest.approx(3_000)
    assert pairs.loc[("A", "C2"), "pct_of_concession"] == pytest.approx(60.0)
    assert pairs.loc[("B", "C2"), "pct_of_territory"] == pytest.approx(20.0)
    assert pairs.loc[("A", "C3"), "status"] == "expired"


def test_incidents_inside_and_nearby(result):
    assert row(result, "A").incidents_inside == 1
    assert row(result, "A").incidents_nearby == 1  # I2 at 3 km; I4 at 8 km is not
    assert row(result, "C").incidents_inside == 0  # I3 is in the hole
    assert row(result, "C").incidents_nearby == 1
    assert row(result, "B").incidents_inside + row(result, "B").incidents_nearby == 0


def test_nearby_distance_option(case):
    far = compute_territory_stats(
        case["territories"], case["parcels"], incidents=case["incidents"], nearby_km=10
    )
    near = compute_territory_stats(
        case["territories"], case["parcels"], incidents=case["incidents"], nearby_km=1
    )
    assert far.table.set_index("territory_id").loc["A", "incidents_nearby"] == 2
    assert near.table.set_index("territory_id").loc["A", "incidents_nearby"] == 0


def test_sentence(result):
    text = describe_territory(result.table.iloc[0])
    assert text.startswith("Alfa: 3,400 of 10,000 ha titled (34.0 %), 6,100 ha under concessions")
    assert text.endswith("1 incident inside, 1 nearby")


def test_no_concessions_no_incidents(case):
    # Layers given but empty: truly none, 0.
    empty = compute_territory_stats(
        case["territories"],
        case["parcels"],
        case["concessions"].iloc[:0],
        case["incidents"].iloc[:0],
    )
    assert (empty.table["concession_ha"] == 0).all()
    assert (empty.table["incidents_inside"] == 0).all()
    assert empty.overlaps.empty
    # Layers not given (issue 13: silent is worse than loud): unknown, never a plausible 0; the
    # sentence says so and the risk score lists the components as missing.
    result = compute_territory_stats(case["territories"], case["parcels"])
    assert result.table["concession_ha"].isna().all()
    assert result.table["incidents_inside"].isna().all()
    assert result.overlaps.empty
    text = describe_territory(result.table.iloc[0])
    assert text.endswith("concessions not analysed, incidents not analysed")
    assert {"concessions", "violence"} <= set(result.table["risk_missing"].iloc[0].split(","))


def test_columns_contract(result):
    required = [
        "territory_id",
        "name",
        "claimed_ha",
        "titled_ha",
        "titled_pct",
        "secured_ha",
        "secured_pct",
        "untitled_ha",
        "concession_ha",
        "concession_pct",
        "concession_untitled_ha",
        "incidents_inside",
        "incidents_nearby",
    ]
    assert [c for c in result.table.columns if c in required] == required
    assert list(result.table["territory_id"]) == ["A", "B", "C", "D"]


def test_concession_totals_by_status_are_kept_apart(result):
    a = row(result, "A")
    assert a.concession_active_ha == pytest.approx(6_000)  # C1 ∪ C2 within A
    assert a.concession_in_process_ha == pytest.approx(100)  # C4
    assert a.concession_expired_ha == pytest.approx(10_000)  # C3: listed, never pressure
    assert a.concession_ha == pytest.approx(6_100)


def test_overlap_pairs_on_titled_secured_and_untitled_land(result):
    pairs = result.overlaps.set_index(["territory_id", "concession_id"])
    c1 = pairs.loc[("A", "C1")]
    # C1 = 4..9 km. Titled in A: 0..3 and P5's part 8..10 x 4..6; secured adds 3..5 (cession).
    assert c1.overlap_ha == pytest.approx(5_000)
    assert c1.on_titled_ha == pytest.approx(200)  # 8..9 x 4..6
    assert c1.on_secured_ha == pytest.approx(1_200)  # + 4..5 x 0..10
    assert c1.on_untitled_ha == pytest.approx(3_800)
    c4 = pairs.loc[("A", "C4")]
    assert (c4.on_titled_ha, c4.on_untitled_ha) == (pytest.approx(100), pytest.approx(0))


def test_forest_loss_on_titled_and_untitled_land(tmp_path):
    """A 1 km square territory over a raster of 100 m pixels (1 ha each, equal-area CRS).

    Loss in 2012 on the western half (50 ha) and in 2015 on one pixel row of the east (5 ha);
    a titled parcel covers the western 300 m (30 ha, all of it lost in 2012).
    """
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    from geotools.crs import PERU_ALBERS
    from tests.conftest import frame, km_box

    data = np.zeros((10, 10), dtype=np.uint8)
    data[:, :5] = 12
    data[0, 5:] = 15
    path = tmp_path / "loss.tif"
    with rasterio.open(path, "w", driver="GTiff", width=10, height=10, count=1, dtype="uint8",
                       crs=PERU_ALBERS, transform=from_origin(0, 1000, 100, 100),
                       nodata=255) as dst:
        dst.write(data, 1)
    territories = frame([{"territory_id": "T", "geometry": km_box(0, 0, 1, 1)}])
    parcels = frame([{"parcel_id": "p", "tenure": "titled", "geometry": km_box(0, 0, 0.3, 1)}])
    result = compute_territory_stats(territories, parcels, forest_loss=path)
    t = result.table.iloc[0]
    assert t.forest_loss_ha == pytest.approx(55, rel=1e-6)
    assert t.forest_loss_titled_ha == pytest.approx(30, rel=1e-6)
    assert t.forest_loss_untitled_ha == pytest.approx(25, rel=1e-6)
    assert t.forest_loss_coverage == "inside"
    years = result.timeseries.set_index("year")["forest_loss_ha"]
    assert years.loc[2012] == pytest.approx(50, rel=1e-6)
    assert years.loc[2015] == pytest.approx(5, rel=1e-6)


def test_untitled_geometry_is_claimed_minus_secured(result):
    untitled = result.untitled.set_index("territory_id")
    table = result.table.set_index("territory_id")
    for tid in "ABCD":
        assert untitled.loc[tid, "untitled_ha"] == pytest.approx(table.loc[tid, "untitled_ha"])
    assert untitled.crs.to_epsg() == 4326
