"""Forest-loss rasters from real files (issue 13, item 9): float nodata and non-lossyear values.

The ForesToolboxRS Madre de Dios rasters (UTM 19S, 30 m, float32) carry R terra's default
nodata, -3.4e38. exactextract's operation strings do not parse such a number (before the fix it
spun for minutes, then failed), and the photosynthetic-vegetation fraction rasters themselves
(values -1..100) were accepted as loss years.
"""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from pyproj import CRS, Proj, Transformer
from rasterio.transform import xy
from shapely import box

from geotools.analysis.forest_loss import check_loss_codes, compute_loss_by_year
from geotools.cli import main
from geotools.errors import ValidationError

pytestmark = pytest.mark.realdata

PV = "forestoolboxrs-madre-de-dios/PVts"
FLOAT32_MIN = float(np.finfo(np.float32).min)  # -3.4028e38


def _float_lossyear(realdata: Path, tmp_path: Path, nodata: float) -> tuple[Path, np.ndarray]:
    """A float32 lossyear raster built from the real PV series: code 10 where PV fell below 50
    between 2000 and 2010, 0 elsewhere, the real files' nodata kept as ``nodata``."""
    with (
        rasterio.open(realdata / PV / "2000_PV_Prueba.tif") as a,
        rasterio.open(realdata / PV / "2010_PV_Prueba.tif") as b,
    ):
        assert a.nodata == pytest.approx(-3.4e38, rel=1e-6)  # the real files' nodata
        pv0, pv1 = a.read(1, masked=True), b.read(1, masked=True)
        profile = a.profile
    missing = np.ma.getmaskarray(pv0) | np.ma.getmaskarray(pv1)
    lost = (pv0.filled(0) >= 50) & (pv1.filled(100) < 50) & ~missing
    code = np.where(missing, nodata, np.where(lost, 10.0, 0.0)).astype("float32")
    code[:40, :40] = nodata  # a nodata corner, so nodata cells are really compared
    profile.update(dtype="float32", nodata=nodata)
    path = tmp_path / "lossyear_float.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(code, 1)
    return path, code


@pytest.mark.parametrize("nodata", [FLOAT32_MIN, -3.4e38])
def test_float_raster_with_huge_negative_nodata_runs_fast_and_right(
    realdata: Path, tmp_path: Path, nodata: float
) -> None:
    path, code = _float_lossyear(realdata, tmp_path, nodata)
    with rasterio.open(path) as src:
        transform, crs = src.transform, CRS.from_user_input(src.crs.to_wkt())
    # A zone on pixel edges: rows 20..220, columns 20..320 (coverage 1 for every cell).
    x0, y1 = transform.c + 20 * transform.a, transform.f + 20 * transform.e
    x1, y0 = transform.c + 320 * transform.a, transform.f + 220 * transform.e
    zone = gpd.GeoDataFrame({"zone_id": ["Z"]}, geometry=[box(x0, y0, x1, y1)], crs=crs)
    started = time.perf_counter()
    result = compute_loss_by_year(zone, path)
    assert time.perf_counter() - started < 10  # was minutes, then an exactextract error

    # By hand: the true area of a 30 m UTM pixel is 900 m2 / areal scale at its centre.
    rows, cols = np.mgrid[20:220, 20:320]
    x, y = xy(transform, rows.ravel(), cols.ravel())
    lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
    true_m2 = 900.0 / np.asarray(Proj(crs).get_factors(lon, lat).areal_scale)
    window = code[20:220, 20:320].ravel()
    is_nodata = window == np.float32(nodata)
    assert is_nodata.sum() >= 20 * 20  # the corner rows/cols 20..39, and the file's own
    loss_ha = true_m2[window == 10].sum() / 1e4
    assert loss_ha > 50
    table = result.table.set_index("year")["loss_ha"]
    assert list(table.index) == [2010]
    assert table[2010] == pytest.approx(loss_ha, rel=1e-9)
    cov = result.coverage.iloc[0]
    assert cov["nodata_ha"] == pytest.approx(true_m2[is_nodata].sum() / 1e4, rel=1e-9)
    assert cov["covered_ha"] == pytest.approx(true_m2[~is_nodata].sum() / 1e4, rel=1e-9)


def test_real_fraction_raster_is_refused_fast_before_any_zonal_pass(realdata: Path) -> None:
    raster = realdata / PV / "2018_PV_Prueba.tif"
    started = time.perf_counter()
    with pytest.raises(ValidationError, match="does not look like loss years") as err:
        check_loss_codes(raster)
    assert time.perf_counter() - started < 2
    message = str(err.value)
    assert "\n" not in message and str(raster) in message and "-1..100" in message
    zone = gpd.GeoDataFrame(
        {"zone_id": ["Z"]}, geometry=[box(340_000, -1_420_000, 345_000, -1_415_000)], crs=32619
    )
    with pytest.raises(ValidationError, match="does not look like loss years"):
        compute_loss_by_year(zone, raster)


def _write(path: Path, values: np.ndarray) -> Path:
    profile = dict(
        driver="GTiff",
        width=values.shape[1],
        height=values.shape[0],
        count=1,
        crs="EPSG:32718",
        nodata=None,
        dtype=values.dtype,
        transform=rasterio.transform.from_origin(500_000, 9_000_000, 30, 30),
    )
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
    return path


def test_decimals_and_future_years_are_refused(tmp_path: Path) -> None:
    fraction = _write(tmp_path / "fraction.tif", np.full((600, 700), 0.25, "float32"))
    with pytest.raises(ValidationError, match=r"values 0\.25\.\.0\.25 with decimals"):
        check_loss_codes(fraction)
    years = np.tile(np.arange(0, 27, dtype="int16"), (600, 26))[:, :700]
    lossyear = _write(tmp_path / "lossyear.tif", years)
    check_loss_codes(lossyear, max_code=26)  # codes 0..26: accepted
    with pytest.raises(ValidationError, match=r"values 0\.\.26; expected whole numbers 0\.\.25"):
        check_loss_codes(lossyear, max_code=25)


def test_cli_refuses_a_fraction_raster_in_one_line(realdata: Path, tmp_path: Path, case) -> None:
    paths = {}
    for kind in ("territories", "parcels"):
        paths[kind] = tmp_path / f"{kind}.gpkg"
        case[kind].to_file(paths[kind])
    raster = realdata / PV / "2018_PV_Prueba.tif"
    result = CliRunner().invoke(
        main,
        [
            "stats",
            "--territories",
            str(paths["territories"]),
            "--parcels",
            str(paths["parcels"]),
            "--forest-loss",
            str(raster),
            "--out",
            str(tmp_path / "o"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and "2018_PV_Prueba.tif" in errors[0]
    assert "loss years" in errors[0]
