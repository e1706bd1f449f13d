"""Risk surface: hand-checkable grids in PERU_ALBERS.

Layout used throughout: the bounds layer is the 10 x 10 km box (0, 0)-(10, 10) km in PERU_ALBERS;
cells are 1 km and the bandwidth 1 km, so the margin is 2 km and the grid runs from -2 to 12 km
in both directions: 14 x 14 cells. The box occupies rows 2-11 and columns 2-11; the cell
(col c, row r) spans x = (c - 2 .. c - 1) km and y = (12 - r - 1 .. 12 - r) km.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from shapely import Point

from geotools.analysis.surface import (
    RiskSurface,
    compute_risk_hexagons,
    compute_risk_surface,
    mask_risk_surface,
    write_risk_surface,
)
from geotools.crs import PERU_ALBERS
from geotools.errors import OutputExistsError
from tests.conftest import KM, frame, km_box

h3 = pytest.importorskip("h3")

N = 14  # cells per side
BOX = slice(2, 12)  # rows / columns of the 10 x 10 km box


def bounds() -> gpd.GeoDataFrame:
    return frame([{"geometry": km_box(0, 0, 10, 10)}])


def surface(
    incidents: gpd.GeoDataFrame | None = None,
    concessions: gpd.GeoDataFrame | None = None,
    untitled: gpd.GeoDataFrame | None = None,
    **kwargs: object,
) -> RiskSurface:
    return compute_risk_surface(
        incidents, concessions, untitled, bounds(), cell_size_m=KM, bandwidth_m=KM, **kwargs
    )


def cell_centre(col: int, row: int) -> Point:
    """Centre of grid cell (col, row) in PERU_ALBERS."""
    return Point((col - 2 + 0.5) * KM, (12 - row - 0.5) * KM)


def test_grid_is_equal_area_with_margin() -> None:
    s = surface()
    assert s.shape == (N, N)
    assert s.crs.equals(PERU_ALBERS)
    assert tuple(s.transform)[:6] == (KM, 0.0, -2 * KM, 0.0, -KM, 12 * KM)
    assert s.data.dtype == np.float32
    assert not np.isnan(s.data).any()


def test_active_concession_west_half() -> None:
    s = surface(concessions=frame([{"status": "active", "geometry": km_box(0, 0, 5, 10)}]))
    c = s.layers["concessions"]
    expected = np.zeros((N, N))
    expected[BOX, 2:7] = 1.0  # x = 0-5 km
    np.testing.assert_allclose(c, expected, atol=1e-6)


def test_half_covered_cell_and_in_process() -> None:
    active = frame([{"status": "active", "geometry": km_box(0, 0, 5.5, 10)}])
    c = surface(concessions=active).layers["concessions"]
    np.testing.assert_allclose(c[BOX, 7], 0.5, atol=1e-6)  # x = 5-6 km, half covered
    np.testing.assert_allclose(c[BOX, 2:7], 1.0, atol=1e-6)
    assert c[BOX, 8:].max() == 0
    in_process = frame([{"status": "in_process", "geometry": km_box(0, 0, 5, 10)}])
    c = surface(concessions=in_process).layers["concessions"]
    np.testing.assert_allclose(c[BOX, 2:7], 0.5, atol=1e-6)
    assert c[:, 7:].max() == 0


def test_overlapping_concessions_not_counted_twice() -> None:
    layer = frame(
        [
            {"status": "active", "geometry": km_box(0, 0, 5, 10)},
            {"status": "active", "geometry": km_box(0, 0, 5, 10)},  # duplicate
            {"status": "In process", "geometry": km_box(3, 0, 8, 10)},  # half under active
            {"status": "expired", "geometry": km_box(0, 0, 10, 10)},
        ]
    )
    c = surface(concessions=layer).layers["concessions"]
    np.testing.assert_allclose(c[BOX, 2:7], 1.0, atol=1e-6)  # active wins
    np.testing.assert_allclose(c[BOX, 7:10], 0.5, atol=1e-6)  # x = 5-8 km in process only
    np.testing.assert_allclose(c[BOX, 10:], 0.0, atol=1e-6)  # expired only


def test_tenure_fractions() -> None:
    # x = 2-4.5 km, y = 3-4 km: two full cells and one half cell in row 12 - 4 = 8.
    s = surface(untitled=frame([{"geometry": km_box(2, 3, 4.5, 4)}]))
    t = s.layers["tenure"]
    np.testing.assert_allclose(t[8, 4:6], 1.0, atol=1e-6)
    np.testing.assert_allclose(t[8, 6], 0.5, atol=1e-6)
    assert math.isclose(float(t.sum()), 2.5, abs_tol=1e-5)  # 2.5 km² in 1 km² cells


def test_tenure_triangle_exact_fraction() -> None:
    # Right triangle over one cell (x 0-1, y 0-1 km): covers half of it, diagonal exact.
    from shapely import Polygon

    tri = Polygon([(0, 0), (KM, 0), (0, KM)])
    t = surface(untitled=frame([{"geometry": tri}])).layers["tenure"]
    assert math.isclose(float(t[11, 2]), 0.5, abs_tol=1e-6)
    assert math.isclose(float(t.sum()), 0.5, abs_tol=1e-6)


def test_single_incident_peak_and_symmetry() -> None:
    today = dt.date.today().isoformat()
    pt = cell_centre(7, 6)
    s = surface(incidents=frame([{"severity": 5, "date": today, "geometry": pt}]))
    v = s.layers["violence"]
    assert np.unravel_index(np.argmax(v), v.shape) == (6, 7)
    assert v[6, 7] == pytest.approx(1.0)
    for k in (1, 2, 3):
        ring = [v[6, 7 + k], v[6, 7 - k], v[6 + k, 7], v[6 - k, 7]]
        np.testing.assert_allclose(ring, ring[0], rtol=1e-6)
    # sigma = 1 cell: a sampled Gaussian drops by exp(-1/2) from one cell to the next.
    assert v[6, 8] == pytest.approx(math.exp(-0.5), rel=1e-5)
    assert v[7, 8] == pytest.approx(math.exp(-1.0), rel=1e-5)
    assert s.meta["reference_date"] == today


def test_incident_one_half_life_older_weighs_half() -> None:
    # Two incidents 8 cells apart (kernels truncated at 4 sigma = 4 cells do not overlap).
    half_life = 1827 / 365.25  # 2020-01-01 -> 2025-01-01, exactly one half-life
    layer = frame(
        [
            {"severity": 5, "date": "2025-01-01", "geometry": cell_centre(3, 6)},
            {"severity": 5, "date": "2020-01-01", "geometry": cell_centre(11, 6)},
        ]
    )
    v = surface(incidents=layer, half_life_years=half_life).layers["violence"]
    assert v[6, 3] == pytest.approx(1.0)
    assert v[6, 11] == pytest.approx(0.5, rel=1e-5)


def test_incident_crs_does_not_matter() -> None:
    layer = frame([{"severity": 3, "date": "2024-05-01", "geometry": Point(4321, 6789)}])
    a = surface(incidents=layer).layers["violence"]
    b = surface(incidents=layer.to_crs(4326)).layers["violence"]
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_future_undated_and_bad_severity() -> None:
    layer = frame(
        [
            {"severity": 4, "date": "2020-01-01", "geometry": cell_centre(3, 6)},
            {"severity": 4, "date": "2030-01-01", "geometry": cell_centre(11, 6)},
            {"severity": 4, "date": None, "geometry": cell_centre(7, 11)},
            {"severity": 9, "date": "2020-01-01", "geometry": cell_centre(11, 1)},
        ]
    )
    s = surface(incidents=layer, reference_date="2024-01-01")
    v = s.layers["violence"]
    assert v[6, 11] == 0  # after the reference date
    assert v[1, 11] == 0  # severity out of range
    assert v[11, 7] == pytest.approx(v[6, 3])  # undated: age of the oldest dated incident
    assert s.meta["incidents_after_reference"] == 1
    assert s.meta["incidents_bad_severity"] == 1
    assert s.meta["incidents_undated"] == 1


def test_combined_by_weights() -> None:
    today = dt.date.today().isoformat()
    s = surface(
        incidents=frame([{"severity": 5, "date": today, "geometry": cell_centre(7, 6)}]),
        concessions=frame([{"status": "active", "geometry": km_box(0, 0, 5, 10)}]),
        untitled=frame([{"geometry": km_box(0, 0, 10, 5)}]),
    )
    v, c, t = (s.layers[n].astype(float) for n in ("violence", "concessions", "tenure"))
    np.testing.assert_allclose(s.data, 0.5 * v + 0.3 * c + 0.2 * t, atol=1e-6)
    # Cell x 0-1, y 0-1 km: concession and untitled, violence ~0 far from the incident.
    assert s.data[11, 2] == pytest.approx(0.5, abs=1e-4)
    assert s.data[6, 7] == pytest.approx(0.5 * 1.0, abs=1e-6)  # x 5-6, y 5-6: violence only
    only = surface(
        concessions=frame([{"status": "active", "geometry": km_box(0, 0, 5, 10)}]),
        weights={"concessions": 2.0},
    )
    np.testing.assert_allclose(only.data, only.layers["concessions"])
    with pytest.raises(ValueError, match="unknown weight"):
        surface(weights={"roads": 1.0})
    with pytest.raises(ValueError, match="positive"):
        surface(weights={"violence": 0.0})


def test_write_geotiff(tmp_path: Path) -> None:
    s = surface(
        concessions=frame([{"status": "active", "geometry": km_box(0, 0, 5, 10)}]),
        untitled=frame([{"geometry": km_box(2, 3, 4.5, 4)}]),
    )
    out = write_risk_surface(s, tmp_path / "risk.tif")
    with rasterio.open(out) as ds:
        assert ds.count == 5  # band 5 tenure_known (issue 15: unknown tenure is not 0)
        assert ds.crs.to_wkt() and "Albers" in ds.crs.to_wkt()
        assert PERU_ALBERS.equals(ds.crs.to_wkt())
        assert ds.transform == s.transform
        assert all(math.isnan(n) for n in ds.nodatavals)
        assert ds.dtypes == ("float32",) * 5
        assert ds.descriptions == ("risk", "violence", "concessions", "tenure", "tenure_known")
        assert ds.overviews(1)
        assert ds.profile["tiled"]
        assert ds.compression.name.lower() == "deflate"
        np.testing.assert_array_equal(ds.read(1), s.data)
        np.testing.assert_array_equal(ds.read(3), s.layers["concessions"])
        np.testing.assert_array_equal(ds.read(4), s.layers["tenure"])
        assert (ds.read(5) == 1).all()  # tenure known everywhere here
    with pytest.raises(OutputExistsError):
        write_risk_surface(s, out)
    write_risk_surface(s, out, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["risk.tif"]  # no temp files left


def test_hexagons() -> None:
    s = surface(
        concessions=frame([{"status": "active", "geometry": km_box(0, 0, 5, 10)}]),
        untitled=frame([{"geometry": km_box(2, 3, 4.5, 4)}]),
    )
    hexes = compute_risk_hexagons(s, resolution=7)
    assert len(hexes) > 0
    assert hexes.crs.to_epsg() == 4326
    assert list(hexes.columns) == [
        "h3",
        "risk",
        "violence",
        "concessions",
        "tenure",
        "tenure_known",
        "n_cells",
        "geometry",
    ]
    assert hexes["risk"].between(0, 1).all()
    assert all(h3.is_valid_cell(c) for c in hexes["h3"])
    assert hexes["h3"].is_unique
    assert int(hexes["n_cells"].sum()) == N * N
    # Means: cell-count-weighted sums give back the grid sums.
    assert (hexes["risk"] * hexes["n_cells"]).sum() == pytest.approx(float(s.data.sum()))
    # Each cell centre is in the hexagon h3 itself assigns it to.
    xx, yy = s.cell_centres()
    lonlat = gpd.GeoSeries(gpd.points_from_xy(xx.ravel(), yy.ravel()), crs=PERU_ALBERS)
    lonlat = lonlat.to_crs(4326)
    expected = {h3.latlng_to_cell(p.y, p.x, 7) for p in lonlat}
    assert set(hexes["h3"]) == expected


# --- mask_risk_surface: cells only near territories and incidents (issue 15) ---------------


def test_mask_keeps_cells_within_the_distance_of_a_point() -> None:
    # A tenure source, so that every layer is known before masking (without one the tenure
    # layer is NaN everywhere: unknown).
    s = surface(untitled=frame([{"geometry": km_box(0, 0, 1, 1)}]))
    point = frame([{"geometry": cell_centre(7, 7)}])
    # Distance 0: the point's own cell. 1 km (one cell): it and its 4 edge neighbours; the
    # diagonal ones are sqrt(2) km away. 2 km: the 13 cells with dx^2 + dy^2 <= 4.
    for distance, expected in ((0.0, 1), (KM, 5), (2 * KM, 13)):
        masked = mask_risk_surface(s, [point], distance)
        kept = np.isfinite(masked.data)
        assert kept.sum() == expected
        assert kept[7, 7]
        assert masked.meta["masked_cells"] == N * N - expected
        for name in masked.layers:
            assert (np.isfinite(masked.layers[name]) == kept).all()
    assert np.isfinite(s.data).all()  # the input is left as it was


def test_mask_from_a_polygon_and_none_layers() -> None:
    s = surface()
    # A 600 m square inside the cell of column 2, row 11 (the box's south-west cell).
    small = frame([{"geometry": km_box(0.2, 0.2, 0.8, 0.8)}])
    masked = mask_risk_surface(s, [None, small, small.iloc[:0]], 2 * KM)
    kept = np.isfinite(masked.data)
    assert kept.sum() == 13 and kept[11, 2] and kept[11, 0] and kept[13, 2] and not kept[13, 3]
    nothing = mask_risk_surface(s, [None], KM)
    assert not np.isfinite(nothing.data).any()
    with pytest.raises(ValueError, match="non-negative"):
        mask_risk_surface(s, [small], -1.0)


def test_hexagons_of_a_masked_surface_cover_only_kept_cells() -> None:
    s = surface()
    masked = mask_risk_surface(s, [frame([{"geometry": cell_centre(7, 7)}])], 2 * KM)
    hexagons = compute_risk_hexagons(masked)
    assert hexagons["n_cells"].sum() == 13
    assert len(hexagons) < len(compute_risk_hexagons(s))


# --- unknown tenure is unknown, not 0 (issue 15) ------------------------------------------


def _v_c_layers() -> dict[str, gpd.GeoDataFrame]:
    today = dt.date.today().isoformat()
    return {
        "incidents": frame([{"severity": 5, "date": today, "geometry": cell_centre(7, 6)}]),
        "concessions": frame([{"status": "active", "geometry": km_box(0, 0, 5, 10)}]),
    }


def test_no_tenure_source_renormalises_every_cell() -> None:
    with_tenure = surface(**_v_c_layers(), untitled=frame([{"geometry": km_box(0, 0, 10, 5)}]))
    without = surface(**_v_c_layers())
    v, c = (without.layers[n].astype(float) for n in ("violence", "concessions"))
    # Hand check: 0.5 v + 0.3 c over 0.8, never 0.5 v + 0.3 c + 0.2 * 0 over 1.
    np.testing.assert_allclose(without.data, (0.5 * v + 0.3 * c) / 0.8, atol=1e-6)
    assert without.data[11, 2] == pytest.approx(0.3 / 0.8, abs=1e-4)  # concession, no violence
    assert without.data[6, 7] == pytest.approx(0.5 / 0.8, abs=1e-6)  # the incident's cell
    assert np.isnan(without.layers["tenure"]).all()
    assert (without.layers["tenure_known"] == 0).all()
    assert without.meta["tenure_unknown_cells"] == N * N
    # With tenure known the value is the one of the full formula, as before.
    assert with_tenure.data[11, 2] == pytest.approx(0.5, abs=1e-4)  # 0.3 c + 0.2 t
    assert with_tenure.meta["tenure_unknown_cells"] == 0
    # Only tenure weighted and nothing known: NaN, not 0.
    only = surface(weights={"tenure": 1.0})
    assert np.isnan(only.data).all()


def test_tenure_unknown_in_one_territory(tmp_path: Path) -> None:
    untitled = frame([{"geometry": km_box(0, 0, 10, 5)}])  # south half untitled
    # Territory of unknown tenure: x 5.5-10, y 0-10 km (columns 7-11; column 7 half inside).
    unknown = frame([{"geometry": km_box(5.5, 0, 10, 10)}])
    before = surface(**_v_c_layers(), untitled=untitled)
    s = surface(**_v_c_layers(), untitled=untitled, tenure_unknown=unknown)
    known = s.layers["tenure_known"] == 1
    expected = np.ones((N, N), dtype=bool)
    expected[BOX, 7:12] = False  # every cell with area in it, the half-covered column too
    np.testing.assert_array_equal(known, expected)
    assert s.meta["tenure_unknown_cells"] == 50
    # Known cells: exactly the value of before.
    np.testing.assert_array_equal(s.data[known], before.data[known])
    # Unknown cells: renormalised over violence and concessions, tenure NaN.
    v, c = (s.layers[n].astype(float) for n in ("violence", "concessions"))
    np.testing.assert_allclose(s.data[~known], ((0.5 * v + 0.3 * c) / 0.8)[~known], atol=1e-6)
    assert np.isnan(s.layers["tenure"][~known]).all()
    # Cell x 6-7, y 0-1 km: untitled (0.2 before) but no violence nor concession; tenure unknown
    # there now, so 0 from the known components, not 0.2 * 1 / 1.
    assert before.data[11, 8] == pytest.approx(0.2, abs=1e-3)
    assert s.data[11, 8] == pytest.approx(float(0.5 * v[11, 8] / 0.8), abs=1e-6)
    # The GeoTIFF says which cells lack tenure (band 5) and how they were combined (tags).
    with rasterio.open(write_risk_surface(s, tmp_path / "r.tif")) as ds:
        np.testing.assert_array_equal(ds.read(5) == 1, expected)
        assert np.isnan(ds.read(4)[~expected]).all()
        assert ds.tags()["tenure_unknown_cells"] == "50"
        assert "renormalised" in ds.tags()["tenure_unknown_rule"]
    # Hexagons: tenure averaged over known cells, tenure_known the share of known cells.
    hexes = compute_risk_hexagons(s, resolution=7)
    assert hexes["tenure_known"].between(0, 1).all()
    assert (hexes["tenure_known"] < 1).any() and (hexes["tenure_known"] == 1).any()
    assert hexes.loc[hexes["tenure_known"] == 0, "tenure"].isna().all()
    assert hexes.loc[hexes["tenure_known"] > 0, "tenure"].notna().all()
    assert (hexes["tenure_known"] * hexes["n_cells"]).sum() == pytest.approx(int(known.sum()))
