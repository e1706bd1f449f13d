"""Forest loss by year (analysis.forest_loss): hand-checkable hectares, pixel area, coverage."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from pyproj import CRS, Geod, Proj, Transformer
from rasterio.transform import array_bounds, from_origin
from shapely import box

from geotools.analysis.forest_loss import ZonalResult, compute_loss_by_year
from geotools.crs import PERU_ALBERS
from geotools.errors import CRSError, SourceError, ValidationError

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "realdata" / "forestoolboxrs-madre-de-dios"
GEOD = Geod(ellps="WGS84")

# 3x3 lossyear grid used by the Albers tests (row 0 is the northern row).
VALUES = np.array([[12, 13, 0], [12, 14, 13], [0, 15, 12]], dtype="uint8")
# A 200 m square offset by half a pixel: corners 0.25, edges 0.5, centre 1 -> 4 pixels' worth.
HALF_OFFSET_SQUARE = box(50, 50, 250, 250)


def write_raster(path: Path, values: np.ndarray, crs: CRS | str, transform, nodata=255) -> Path:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=values.shape[1],
        height=values.shape[0],
        count=1,
        dtype=values.dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(values, 1)
    return path


def zones(geoms, crs=PERU_ALBERS, ids=None) -> gpd.GeoDataFrame:
    ids = ids or [f"Z{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"zone_id": ids}, geometry=list(geoms), crs=crs)


def by_year(result: ZonalResult, zone_id: str = "Z0") -> dict[int, float]:
    t = result.table[result.table["zone_id"] == zone_id]
    return dict(zip(t["year"].tolist(), t["loss_ha"].tolist(), strict=True))


def row(result: ZonalResult, zone_id: str = "Z0") -> dict:
    return result.coverage.set_index("zone_id").loc[zone_id].to_dict()


@pytest.fixture
def albers_tif(tmp_path: Path) -> Path:
    """3x3 raster, 100 m pixels (exactly 1 ha each) in Peru Albers; x 0..300, y 0..300."""
    return write_raster(tmp_path / "albers.tif", VALUES, PERU_ALBERS, from_origin(0, 300, 100, 100))


# (1) exact partial-pixel coverage in an equal-area CRS
def test_partial_pixels_give_exact_hectares_per_year(albers_tif: Path) -> None:
    result = compute_loss_by_year(zones([HALF_OFFSET_SQUARE]), albers_tif)
    got = by_year(result)
    # 2012: corner 0.25 + edge 0.5 + corner 0.25; 2013: two edges; 2014: centre; 2015: one edge.
    expected = {2012: 1.0, 2013: 1.0, 2014: 1.0, 2015: 0.5}
    assert got.keys() == expected.keys()
    for year, ha in expected.items():
        assert got[year] == pytest.approx(ha, abs=1e-9)
    cov = row(result)
    assert cov["status"] == "inside"
    assert cov["covered_ha"] == pytest.approx(4.0, abs=1e-9)  # includes 0.5 ha of "no loss"
    assert cov["nodata_ha"] == 0 and cov["outside_ha"] == 0
    assert list(result.table.columns) == ["zone_id", "year", "loss_ha"]
    assert result.table["year"].dtype.kind == "i"


# (2) pixel area in degrees follows the ellipsoid (about cos(lat))
@pytest.mark.parametrize("north", [0.015, -14.985])
def test_degree_pixels_have_geodesic_area(tmp_path: Path, north: float) -> None:
    step = 0.01
    transform = from_origin(-75.0, north, step, step)
    tif = write_raster(tmp_path / "deg.tif", np.ones((3, 3), "uint8"), "EPSG:4326", transform)
    west, south, east, top = array_bounds(3, 3, transform)
    result = compute_loss_by_year(zones([box(west, south, east, top)], crs=4326), tif)
    expected = (
        sum(
            abs(
                GEOD.polygon_area_perimeter(
                    [west, west + step, west + step, west], [t, t, t - step, t - step]
                )[0]
            )
            for t in (north, north - step, north - 2 * step)
        )
        * 3
        / 10_000
    )
    assert by_year(result) == {2001: pytest.approx(expected, rel=1e-9)}
    assert row(result)["status"] == "inside"


def test_degree_pixel_area_shrinks_as_cos_lat(tmp_path: Path) -> None:
    got = {}
    for north in (0.015, -14.985):
        transform = from_origin(-75.0, north, 0.01, 0.01)
        tif = write_raster(tmp_path / f"d{north}.tif", np.ones((3, 3), "uint8"), 4326, transform)
        # The centre pixel only.
        result = compute_loss_by_year(
            zones([box(-74.99, north - 0.02, -74.98, north - 0.01)], crs=4326), tif
        )
        got[north] = by_year(result)[2001]
    ratio = got[-14.985] / got[0.015]
    # cos(15 deg) = 0.9659; the ellipsoid adds a small latitude-dependent term.
    assert ratio == pytest.approx(np.cos(np.radians(15.0)), rel=2e-3)
    assert got[0.015] == pytest.approx(
        abs(
            GEOD.polygon_area_perimeter(
                [-74.99, -74.98, -74.98, -74.99], [0.005, 0.005, -0.005, -0.005]
            )[0]
        )
        / 1e4,
        rel=1e-9,
    )


def test_projected_pixels_use_true_area_not_planar(tmp_path: Path) -> None:
    """In UTM the planar pixel area is off by the scale factor; ours equals geodesic area."""
    utm = CRS.from_epsg(32718)  # 400 km east of the central meridian: scale factor ~1.0016
    transform = from_origin(900_000, 9_000_300, 100, 100)
    tif = write_raster(tmp_path / "utm.tif", np.ones((3, 3), "uint8"), utm, transform)
    zone = zones([box(900_000, 9_000_000, 900_300, 9_000_300)], crs=utm)
    result = compute_loss_by_year(zone, tif)
    lonlat = shapely.segmentize(zone.geometry.iloc[0], 10)
    geodesic = (
        abs(GEOD.geometry_area_perimeter(gpd.GeoSeries([lonlat], crs=utm).to_crs(4326).iloc[0])[0])
        / 1e4
    )
    assert by_year(result)[2001] == pytest.approx(geodesic, rel=1e-6)
    assert abs(by_year(result)[2001] - 9.0) > 1e-3  # the planar 9 ha would be wrong


# (3) zones in another CRS than the raster give the same answer
@pytest.mark.parametrize("crs", [4326, 32718, 3857])
def test_zone_crs_does_not_change_the_answer(albers_tif: Path, crs: int) -> None:
    reference = by_year(compute_loss_by_year(zones([HALF_OFFSET_SQUARE]), albers_tif))
    moved = zones([HALF_OFFSET_SQUARE]).to_crs(crs)
    got = by_year(compute_loss_by_year(moved, albers_tif))
    assert got.keys() == reference.keys()
    for year, ha in reference.items():
        assert got[year] == pytest.approx(ha, abs=1e-5)  # straight edges differ by ~cm2


# (4) nodata, partly and fully outside zones are reported, not zero
def test_nodata_and_outside_are_reported(tmp_path: Path) -> None:
    values = VALUES.copy()
    values[1, 1] = 255  # the centre pixel (2014) is nodata
    tif = write_raster(tmp_path / "nd.tif", values, PERU_ALBERS, from_origin(0, 300, 100, 100))
    layer = zones(
        [HALF_OFFSET_SQUARE, box(250, 100, 450, 200), box(1000, 1000, 1100, 1100)],
        ids=["square", "half_out", "far"],
    )
    result = compute_loss_by_year(layer, tif)
    assert by_year(result, "square") == {
        2012: pytest.approx(1.0),
        2013: pytest.approx(1.0),
        2015: pytest.approx(0.5),
    }
    sq = row(result, "square")
    assert (sq["status"], sq["covered_ha"], sq["nodata_ha"]) == (
        "inside",
        pytest.approx(3.0),
        pytest.approx(1.0),
    )
    half = row(result, "half_out")
    assert half["status"] == "partial"
    assert half["covered_ha"] == pytest.approx(0.5)
    assert half["outside_ha"] == pytest.approx(1.5, rel=1e-6)
    assert by_year(result, "half_out") == {2013: pytest.approx(0.5)}
    far = row(result, "far")
    assert far["status"] == "outside"
    assert far["outside_ha"] == pytest.approx(1.0, rel=1e-6)
    assert far["covered_ha"] == 0 and far["nodata_ha"] == 0
    assert "far" not in set(result.table["zone_id"])
    assert list(result.coverage["zone_id"]) == ["square", "half_out", "far"]


# (5) a zone with a hole
def test_hole_is_excluded(albers_tif: Path) -> None:
    ring = box(0, 0, 300, 300).difference(box(100, 100, 200, 200))
    result = compute_loss_by_year(zones([ring]), albers_tif)
    assert by_year(result) == {
        2012: pytest.approx(3.0),
        2013: pytest.approx(2.0),
        2015: pytest.approx(1.0),
    }
    assert row(result)["covered_ha"] == pytest.approx(8.0)


def test_bad_inputs_raise_clear_errors(albers_tif: Path, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"missing\.tif"):
        compute_loss_by_year(zones([HALF_OFFSET_SQUARE]), tmp_path / "missing.tif")
    with pytest.raises(SourceError, match="band 2"):
        compute_loss_by_year(zones([HALF_OFFSET_SQUARE]), albers_tif, band=2)
    with pytest.raises(CRSError):
        compute_loss_by_year(
            zones([HALF_OFFSET_SQUARE]).set_crs(None, allow_override=True), albers_tif
        )
    with pytest.raises(ValidationError, match="duplicated"):
        compute_loss_by_year(zones([HALF_OFFSET_SQUARE] * 2, ids=["a", "a"]), albers_tif)
    with pytest.raises(ValidationError, match="zone_id"):
        compute_loss_by_year(
            gpd.GeoDataFrame(geometry=[HALF_OFFSET_SQUARE], crs=PERU_ALBERS), albers_tif
        )


# (6) the bundled demo raster
def test_demo_santa_clara_loss() -> None:
    raw = ROOT / "data" / "raw"
    territories = gpd.read_file(raw / "territories.geojson")
    layer = territories.rename(columns={"territory_id": "zone_id"})[["zone_id", "geometry"]]
    result = compute_loss_by_year(layer, raw / "forest_loss.tif")
    t01 = by_year(result, "T01")
    log.info("T01 loss per year (ha): %s", {y: round(v, 2) for y, v in t01.items()})
    total = sum(v for y, v in t01.items() if 2012 <= y <= 2015)
    assert 5_500 <= total <= 7_100
    assert row(result, "T01")["status"] == "inside"

    # The whole raster as one zone: all 2012-2015 pixels, as measured by the generator's author.
    with rasterio.open(raw / "forest_loss.tif") as src:
        whole = zones([box(*src.bounds)], crs=src.crs)
    everything = by_year(compute_loss_by_year(whole, raw / "forest_loss.tif"))
    assert sum(v for y, v in everything.items() if 2012 <= y <= 2015) == pytest.approx(
        7009.70, abs=0.01
    )


# (7) real Landsat-derived rasters (Madre de Dios, UTM 19S) against exactextract and rasterstats
def _real_or_skip() -> Path:
    if not REAL.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{REAL} is missing and CI=true")
        pytest.skip(f"{REAL} not present")
    return REAL


def test_real_landsat_against_exactextract(tmp_path: Path) -> None:
    from exactextract import exact_extract
    from rasterstats import zonal_stats

    folder = _real_or_skip() / "PVts"
    with (
        rasterio.open(folder / "2000_PV_Prueba.tif") as a,
        rasterio.open(folder / "2010_PV_Prueba.tif") as b,
    ):
        pv0, pv1 = a.read(1, masked=True), b.read(1, masked=True)
        profile, crs, transform = a.profile, a.crs, a.transform
    nodata = np.ma.getmaskarray(pv0) | np.ma.getmaskarray(pv1)
    lost = (pv0.filled(0) >= 50) & (pv1.filled(100) < 50) & ~nodata
    code = np.where(nodata, 255, np.where(lost, 10, 0)).astype("uint8")
    profile.update(dtype="uint8", nodata=255)
    lossyear = tmp_path / "lossyear.tif"
    with rasterio.open(lossyear, "w", **profile) as dst:
        dst.write(code, 1)

    # Independent reference: indicator raster x true-area weights raster, exactextract weighted_sum.
    h, w = code.shape
    rows, cols = np.mgrid[0:h, 0:w]
    x, y = rasterio.transform.xy(transform, rows.ravel(), cols.ravel())
    lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
    utm = CRS.from_user_input(crs.to_wkt())
    true_area = (900.0 / np.asarray(Proj(utm).get_factors(lon, lat).areal_scale)).reshape(h, w)
    float_profile = dict(profile, dtype="float64", nodata=None)
    for name, arr in (("lost.tif", lost.astype("float64")), ("area.tif", true_area)):
        with rasterio.open(tmp_path / name, "w", **float_profile) as dst:
            dst.write(arr, 1)

    x0, y0, x1, y1 = rasterio.transform.array_bounds(h, w, transform)[0:4]
    x0, y0, x1, y1 = min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    geoms = [
        shapely.Point(cx, cy).buffer(4_000, quad_segs=16),  # inside
        shapely.Polygon(
            [(x0 + 1_013, y0 + 777), (cx, y0 + 2_531), (cx - 1_111, cy), (x0 + 555, cy + 3_000)]
        ),  # irregular, inside
        box(cx - 3_000, y1 - 2_000, cx + 3_000, y1 + 2_000),  # half beyond the north edge
    ]
    layer = zones(geoms, crs=utm)
    result = compute_loss_by_year(layer, lossyear)
    reference = exact_extract(
        str(tmp_path / "lost.tif"),
        layer.assign(i=range(3)),
        "weighted_sum",
        weights=str(tmp_path / "area.tif"),
        include_cols=["zone_id"],
        output="pandas",
    )
    counts = zonal_stats(list(layer.geometry), str(lossyear), categorical=True, nodata=255)
    for k, zone_id in enumerate(layer["zone_id"]):
        ours = by_year(result, zone_id).get(2010, 0.0)
        theirs = float(reference["weighted_sum"].iloc[k]) / 1e4
        log.info(
            "%s: ours %.4f ha, exactextract %.4f ha, rasterstats ~%.1f ha",
            zone_id,
            ours,
            theirs,
            counts[k].get(10, 0) * 0.09,
        )
        assert theirs > 1.0
        assert ours == pytest.approx(theirs, rel=1e-6)
        # rasterstats: centre-of-pixel rule and planar 0.09 ha pixels: only roughly equal.
        assert counts[k].get(10, 0) * 0.09 == pytest.approx(ours, rel=0.05)
    assert row(result, "Z2")["status"] == "partial"
    assert row(result, "Z2")["outside_ha"] == pytest.approx(1_200.0, rel=2e-3)

    # The same zones given in lon/lat (vertices every 50 m so the shapes are the same).
    lonlat = layer.set_geometry(shapely.segmentize(layer.geometry.values, 50)).to_crs(4326)
    again = compute_loss_by_year(lonlat, lossyear)
    for zone_id in layer["zone_id"]:
        assert by_year(again, zone_id)[2010] == pytest.approx(
            by_year(result, zone_id)[2010], rel=1e-4
        )


# (8) the native weighted path (exactextract weights by a lazy true-area source) and the
# per-cell path (cell arrays weighted in numpy) give the same hectares and coverage
def _per_cell(monkeypatch: pytest.MonkeyPatch, layer: gpd.GeoDataFrame, tif: Path) -> ZonalResult:
    import geotools.analysis.forest_loss as rasters

    with monkeypatch.context() as m:
        m.setattr(rasters, "_weighted_mode", lambda grid, ds, band: (False, None))
        return compute_loss_by_year(layer, tif)


def _assert_same(a: ZonalResult, b: ZonalResult) -> None:
    assert list(a.table["zone_id"]) == list(b.table["zone_id"])
    assert list(a.table["year"]) == list(b.table["year"])
    np.testing.assert_allclose(a.table["loss_ha"], b.table["loss_ha"], rtol=1e-9, atol=0)
    assert list(a.coverage["zone_id"]) == list(b.coverage["zone_id"])
    assert list(a.coverage["status"]) == list(b.coverage["status"])
    for col in ("covered_ha", "nodata_ha", "outside_ha"):
        np.testing.assert_allclose(a.coverage[col], b.coverage[col], rtol=1e-9, atol=1e-9)


def _random_zones(bounds: tuple[float, float, float, float], n: int, crs, seed: int):
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = bounds
    w, h = x1 - x0, y1 - y0
    geoms = []
    for _ in range(n):
        cx, cy = x0 + rng.uniform(-0.1, 1.1) * w, y0 + rng.uniform(-0.1, 1.1) * h
        r = rng.uniform(0.05, 0.3) * min(w, h)
        theta = np.sort(rng.uniform(0, 2 * np.pi, 12))
        rad = r * rng.uniform(0.5, 1.0, 12)
        geoms.append(shapely.Polygon(np.c_[cx + rad * np.cos(theta), cy + rad * np.sin(theta)]))
    return zones(geoms, crs=crs)


@pytest.mark.parametrize(
    ("dtype", "nodata", "crs", "transform"),
    [
        ("uint8", 255, 4326, from_origin(-75.0, -9.0, 0.001, 0.001)),
        ("uint8", None, 4326, from_origin(-75.0, -9.0, 0.001, 0.001)),
        ("int16", -1, 4326, from_origin(-75.0, -9.0, 0.001, 0.001)),
        ("int16", 99, 32718, from_origin(500_000, 9_000_000, 30, 30)),
        ("uint8", 0, PERU_ALBERS, from_origin(0, 3_000, 30, 30)),
    ],
)
def test_native_weighting_matches_per_cell_weighting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dtype, nodata, crs, transform
) -> None:
    rng = np.random.default_rng(7)
    values = rng.integers(0, 6, size=(60, 80)).astype(dtype)
    values[:20, :30] = 0  # a zone in here has no loss at all: A from the second call
    if dtype == "int16":
        values[40:, 50:] = -3  # negative codes: covered, never loss
    if nodata is not None:
        values[30:35, :] = nodata
    tif = write_raster(tmp_path / "r.tif", values, crs, transform, nodata=nodata)
    west, south, east, north = array_bounds(60, 80, transform)
    layer = _random_zones((west, south, east, north), 25, crs, seed=3)
    zero_box = box(
        west + 0.05 * (east - west),
        north - 0.2 * (north - south),
        west + 0.3 * (east - west),
        north - 0.05 * (north - south),
    )
    layer = zones([*layer.geometry, zero_box], crs=crs)
    native = compute_loss_by_year(layer, tif)
    per_cell = _per_cell(monkeypatch, layer, tif)
    _assert_same(native, per_cell)
    last = row(native, f"Z{len(layer) - 1}")
    assert last["covered_ha" if nodata != 0 else "nodata_ha"] > 0
    assert by_year(native, f"Z{len(layer) - 1}") == {}
    assert len(native.table) > 20
    if nodata is not None and nodata != 0:
        assert native.coverage["nodata_ha"].sum() > 0


def test_float_raster_uses_per_cell_path(tmp_path: Path) -> None:
    values = VALUES.astype("float32")
    values[1, 1] = np.nan
    tif = write_raster(
        tmp_path / "f.tif", values, PERU_ALBERS, from_origin(0, 300, 100, 100), nodata=np.nan
    )
    result = compute_loss_by_year(zones([HALF_OFFSET_SQUARE]), tif)
    assert by_year(result) == {
        2012: pytest.approx(1.0),
        2013: pytest.approx(1.0),
        2015: pytest.approx(0.5),
    }
    assert row(result)["covered_ha"] == pytest.approx(3.0)
    assert row(result)["nodata_ha"] == pytest.approx(1.0)
