"""Forest loss by year inside zones, from a Hansen-style "lossyear" raster, in true hectares.

:func:`compute_loss_by_year` overlays polygons (indigenous territories, concessions, ...) on a
single-band raster coded like the Global Forest Change ``lossyear`` layer (0 = no loss, N = loss
in year 2000 + N) and returns the hectares lost per zone and year, plus a coverage report saying
how much of each zone lies on valid data, on nodata pixels, or beyond the raster.

Design choices
--------------
- **Exact coverage fractions from exactextract.** The ``exactextract`` library computes, for
  each polygon, the exact fraction of every raster cell it covers (no centre-of-pixel rule) and
  reads the raster window by window, so rasters larger than memory are fine. Its built-in cell
  areas (``coverage_area``) use a sphere, not the WGS84 ellipsoid, and ignore projection scale,
  so we give it our own weights: a lazy raster source of true pixel areas (:class:`_AreaSource`,
  one row area broadcast per window for rasters in degrees, never the whole raster), and let it
  do the weighting natively (``unique`` + ``weighted_frac`` + ``weighted_sum``, one pass, see
  :func:`_weighted_pass`). Integer bands whose nodata is an integer (or that have no nodata and
  no mask) take this path; others (float bands, NaN nodata, mask bands, scaled bands) ask for
  per-cell ``cell_id``/``coverage``/``values`` arrays and are weighted here
  (:func:`_per_cell_pass`).
- **True pixel area.** For a raster in degrees, the area of a pixel is the geodesic area of its
  longitude/latitude rectangle on the raster's ellipsoid (``pyproj.Geod``), computed once per
  raster row. For a projected raster, the planar pixel area is divided by the areal scale factor
  of the projection at the pixel centre (``pyproj.Proj.get_factors``, vectorised), which is the
  true area on the ellipsoid (exact for an equal-area CRS, where the factor is 1).
- **The raster is never resampled.** Zones are densified in their own CRS (100 m, or 0.001 deg
  when geographic) and transformed into the raster's CRS.
- **Nothing is silently zero.** Nodata pixels are neither loss nor "no loss": their area is
  reported in ``nodata_ha``. The part of a zone beyond the raster's extent is measured in an
  equal-area CRS (:func:`geotools.area.compute_area_ha`) and reported in ``outside_ha``, with
  the zone's ``status`` ('inside', 'partial' or 'outside').
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from exactextract import exact_extract
from exactextract.feature import Feature, FeatureSource
from exactextract.operation import Operation
from exactextract.raster import RasterioRasterSource, RasterSource
from pyproj import CRS, Geod, Proj, Transformer
from rasterio.enums import MaskFlags
from rasterio.errors import RasterioIOError
from rasterio.windows import Window

from geotools.area import M2_PER_HA, compute_area_ha
from geotools.errors import CRSError, SourceError, ValidationError
from geotools.gdalpath import gdal_path

log = logging.getLogger(__name__)

__all__ = [
    "LOSSYEAR_BASE",
    "ZonalResult",
    "check_loss_codes",
    "compute_loss_by_year",
    "pixel_area_m2",
    "row_area_m2",
]

#: Hansen ``lossyear`` coding: value N means loss in year ``LOSSYEAR_BASE + N``.
LOSSYEAR_BASE = 2000
#: Densification step of zone edges before reprojection, metres (projected source CRS).
DENSIFY_M = 100.0
#: Densification step of zone edges before reprojection, degrees (geographic source CRS).
DENSIFY_DEG = 0.001
#: Upper bound on the bounding-box cells of the zones handed to exactextract in one call.
CHUNK_CELLS = 20_000_000
#: The loss-code check reads at most SAMPLE_WINDOWS x SAMPLE_WINDOWS windows of SAMPLE_SIZE
#: pixels spread over the raster (full resolution: an averaged overview would blur the codes).
SAMPLE_WINDOWS = 8
SAMPLE_SIZE = 64

_TABLE_COLUMNS = ["zone_id", "year", "loss_ha"]
_COVERAGE_COLUMNS = ["zone_id", "status", "covered_ha", "nodata_ha", "outside_ha"]


@dataclass
class ZonalResult:
    """Result of :func:`compute_loss_by_year`.

    Attributes
    ----------
    table : pandas.DataFrame
        Long format, one row per (zone, year) with loss > 0: ``zone_id`` (str), ``year`` (int,
        e.g. 2013), ``loss_ha`` (float, true hectares).
    coverage : pandas.DataFrame
        One row per zone, in input order: ``zone_id``, ``status`` ('inside' | 'partial' |
        'outside'), ``covered_ha`` (zone area on valid raster data), ``nodata_ha`` (zone area on
        nodata pixels) and ``outside_ha`` (zone area beyond the raster extent).
    """

    table: pd.DataFrame
    coverage: pd.DataFrame


@dataclass(frozen=True)
class _Grid:
    """What we need to know about the raster grid."""

    crs: CRS
    transform: Any
    width: int
    height: int
    nodata: float | None
    is_float: bool


def row_area_m2(transform: Any, height: int, geod: Geod | None = None) -> np.ndarray:
    """Return the true area (m2) of one pixel of each row of a north-up raster in degrees.

    The area of a pixel is the geodesic area of its longitude/latitude rectangle on the
    ellipsoid of ``geod`` (WGS84 by default); all pixels of a row have the same area, so it is
    computed once per row.

    Parameters
    ----------
    transform : affine.Affine
        Raster transform (degrees, no rotation).
    height : int
        Number of rows.
    geod : pyproj.Geod, optional
        Ellipsoid; WGS84 when omitted.

    Returns
    -------
    numpy.ndarray
        ``height`` areas in square metres, first row first.
    """
    geod = geod or Geod(ellps="WGS84")
    west, width_deg = float(transform.c), float(transform.a)
    edges = float(transform.f) + float(transform.e) * np.arange(height + 1)
    lons = [west, west + width_deg, west + width_deg, west]
    # One geodesic polygon per row (a loop over rows, never over pixels).
    return np.array(
        [
            abs(geod.polygon_area_perimeter(lons, [top, top, bottom, bottom])[0])
            for top, bottom in itertools.pairwise(edges)
        ],
        dtype=float,
    )


def pixel_area_m2(rows: np.ndarray, cols: np.ndarray, transform: Any, crs: CRS) -> np.ndarray:
    """Return the true area (m2) of pixels of a projected raster, by areal scale factor.

    Parameters
    ----------
    rows, cols : numpy.ndarray
        Pixel indices.
    transform : affine.Affine
        Raster transform (no rotation).
    crs : pyproj.CRS
        Projected CRS of the raster.

    Returns
    -------
    numpy.ndarray
        Planar pixel area divided by the projection's areal scale at each pixel centre.
    """
    if len(rows) == 0:
        return np.zeros(0)
    to_lonlat = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    return _projected_area(rows, cols, transform, to_lonlat, Proj(crs))


def _projected_area(
    rows: np.ndarray, cols: np.ndarray, transform: Any, to_lonlat: Transformer, proj: Proj
) -> np.ndarray:
    planar = abs(float(transform.a) * float(transform.e))
    x = float(transform.c) + (cols + 0.5) * float(transform.a)
    y = float(transform.f) + (rows + 0.5) * float(transform.e)
    lon, lat = to_lonlat.transform(x, y)
    scale = proj.get_factors(lon, lat).areal_scale
    return planar / np.asarray(scale, dtype=float)


def _open_grid(raster: str | os.PathLike[str], band: int) -> _Grid:
    name = os.fspath(raster)
    safe = name
    try:
        with gdal_path(name) as safe, rasterio.open(safe) as src:
            if not 1 <= band <= src.count:
                raise SourceError(
                    f"{name}: band {band} does not exist (the file has {src.count}); "
                    f"pass band=1..{src.count}"
                )
            if src.crs is None:
                raise CRSError(f"{name}: raster has no CRS; set one (e.g. gdal_edit.py -a_srs)")
            t = src.transform
            if t.b != 0 or t.d != 0:
                raise SourceError(f"{name}: rotated rasters are not supported; warp it north-up")
            nodata = src.nodatavals[band - 1]
            return _Grid(
                crs=CRS.from_user_input(src.crs.to_wkt()),
                transform=t,
                width=src.width,
                height=src.height,
                nodata=None if nodata is None else float(nodata),
                is_float=np.dtype(src.dtypes[band - 1]).kind == "f",
            )
    except RasterioIOError as exc:
        shown = str(exc).replace(safe, name)  # the name given, not the link GDAL opened
        raise SourceError(f"{name}: cannot open raster ({shown}); check the path") from exc


def _sample_windows(width: int, height: int) -> list[Window]:
    """Windows of at most SAMPLE_SIZE pixels on an even grid over the raster (all if small)."""
    if width <= SAMPLE_WINDOWS * SAMPLE_SIZE and height <= SAMPLE_WINDOWS * SAMPLE_SIZE:
        return [Window(0, 0, width, height)]

    def starts(n: int) -> np.ndarray:
        size = min(SAMPLE_SIZE, n)
        return np.unique(np.linspace(0, n - size, SAMPLE_WINDOWS).astype(np.int64))

    nx, ny = min(SAMPLE_SIZE, width), min(SAMPLE_SIZE, height)
    return [Window(int(x), int(y), nx, ny) for y in starts(height) for x in starts(width)]


def check_loss_codes(
    raster: str | os.PathLike[str], band: int = 1, *, max_code: int | None = None
) -> None:
    """Refuse a raster whose values do not look like Hansen ``lossyear`` codes.

    Reads a sample of windows spread over the band (never the whole raster): valid cells must
    be whole numbers no larger than ``max_code`` (the current year - 2000 by default).
    Negative whole numbers are accepted as "no loss" codes. A forest-cover or fraction raster
    (values 0-100, decimals) is refused before any zonal pass.

    Parameters
    ----------
    raster : str or os.PathLike
        GeoTIFF to check.
    band : int, default 1
        Band to check.
    max_code : int, optional
        Largest valid code; ``date.today().year - LOSSYEAR_BASE`` when omitted.

    Raises
    ------
    ValidationError
        A sampled valid cell is not a whole number or is above ``max_code``.
    """
    name = os.fspath(raster)
    top = dt.date.today().year - LOSSYEAR_BASE if max_code is None else max_code
    with gdal_path(name) as safe, rasterio.open(safe) as ds:
        scaled = ds.scales[band - 1] != 1.0 or ds.offsets[band - 1] != 0.0
        parts = [
            np.ma.compressed(ds.read(band, window=w, masked=True))
            for w in _sample_windows(ds.width, ds.height)
        ]
    values = np.concatenate(parts).astype(float) if parts else np.zeros(0)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return
    fractional = values != np.round(values)
    high = values > top
    if scaled or fractional.any() or high.any():
        found = (
            "a scale/offset"
            if scaled
            else (
                f"values {values.min():g}..{values.max():g}"
                + (f" with decimals (e.g. {values[fractional][0]:g})" if fractional.any() else "")
            )
        )
        raise ValidationError(
            f"{name}: band {band} does not look like loss years ({found}; expected whole "
            f"numbers 0..{top}, 0 = no loss, N = loss in {LOSSYEAR_BASE}+N): a forest-cover or "
            "fraction raster must first be turned into a lossyear raster"
        )


def _check_zones(zones: gpd.GeoDataFrame) -> None:
    if not isinstance(zones, gpd.GeoDataFrame) or "zone_id" not in zones.columns:
        raise ValidationError("zones must be a GeoDataFrame with a 'zone_id' column; rename it")
    if zones.crs is None:
        raise CRSError("zones have no CRS; set one with GeoDataFrame.set_crs")
    dup = zones["zone_id"].duplicated()
    if dup.any():
        raise ValidationError(
            f"zones: duplicated zone_id {zones['zone_id'][dup].iloc[0]!r}; make ids unique"
        )
    geoms = np.asarray(zones.geometry.values, dtype=object)
    kinds = shapely.get_type_id(geoms)  # -1 for None
    bad = ~np.isin(kinds, [3, 6]) | shapely.is_empty(geoms)
    if bad.any():
        raise ValidationError(
            f"zones: zone_id {zones['zone_id'][bad].iloc[0]!r} is not a non-empty "
            "Polygon/MultiPolygon; fix or drop it"
        )


def _to_raster_crs(zones: gpd.GeoDataFrame, crs: CRS) -> np.ndarray:
    """Densify edges in the zones' CRS, then transform to the raster's CRS."""
    series = zones.geometry
    if CRS.from_user_input(series.crs).equals(crs):
        return np.asarray(series.values, dtype=object)
    step = DENSIFY_DEG if CRS.from_user_input(series.crs).is_geographic else DENSIFY_M
    dense = gpd.GeoSeries(
        shapely.segmentize(np.asarray(series.values, dtype=object), step), crs=series.crs
    )
    return np.asarray(dense.to_crs(crs).values, dtype=object)


def _chunks(geoms: np.ndarray, grid: _Grid) -> Iterator[np.ndarray]:
    """Yield index arrays of consecutive zones whose bounding boxes hold <= CHUNK_CELLS cells."""
    b = shapely.bounds(geoms)
    cells = ((b[:, 2] - b[:, 0]) / abs(grid.transform.a) + 1) * (
        (b[:, 3] - b[:, 1]) / abs(grid.transform.e) + 1
    )
    start, total = 0, 0.0
    for i, c in enumerate(cells):
        if i > start and total + c > CHUNK_CELLS:
            yield np.arange(start, i)
            start, total = i, 0.0
        total += c
    if start < len(geoms):
        yield np.arange(start, len(geoms))


def _ops(grid: _Grid, source: Any) -> list[Operation]:
    """Per-cell operations, the nodata value passed as an option, never inside a string.

    exactextract's operation-string parser does not read exponents: a float nodata such as
    R terra's default -3.4e38 written into ``"values(default_value=-3.4e+38)"`` made it spin
    for minutes before failing. Options given as a dict reach it as numbers.
    """
    nodata = grid.nodata
    if nodata is not None and math.isfinite(nodata):
        # Nodata cells are kept, with the nodata value itself, so one pass gives both.
        d = int(nodata) if not grid.is_float and float(nodata).is_integer() else nodata
        return [
            Operation(stat, name, source, None, {"default_value": d})
            for stat, name in (("cell_id", "cid"), ("coverage", "cov"), ("values", "val"))
        ]
    # No (finite) nodata value: ask for all cells and for valid cells separately.
    return [
        Operation("cell_id", "cida", source, None, {"default_value": 0}),
        Operation("coverage", "cova", source, None, {"default_value": 0}),
        Operation("cell_id", "cid", source, None, {}),
        Operation("coverage", "cov", source, None, {}),
        Operation("values", "val", source, None, {}),
    ]


class _AreaSource(RasterSource):
    """Lazy weights raster of true pixel areas (m2), on the grid of ``like``.

    Nothing is materialised beyond the window exactextract asks for: for a raster in degrees a
    window is one row area broadcast along the columns; for a projected raster the areal scale
    factor is evaluated at the window's pixel centres.
    """

    def __init__(self, like: Any, grid: _Grid, row_area: np.ndarray | None) -> None:
        super().__init__()
        self._like = like
        self._grid = grid
        self._row_area = row_area
        self._factors: tuple[Transformer, Proj] | None = None
        if row_area is None:
            to_lonlat = Transformer.from_crs(grid.crs, grid.crs.geodetic_crs, always_xy=True)
            self._factors = (to_lonlat, Proj(grid.crs))

    def res(self) -> Any:
        return self._like.res()

    def extent(self) -> Any:
        return self._like.extent()

    def srs_wkt(self) -> Any:
        return self._like.srs_wkt()

    def nodata_value(self) -> None:
        return None

    def read_window(self, x0: int, y0: int, nx: int, ny: int) -> np.ndarray:
        if self._row_area is not None:
            return np.broadcast_to(self._row_area[y0 : y0 + ny, None], (ny, nx))
        if nx * ny == 0:
            return np.zeros((ny, nx))
        rows, cols = np.mgrid[y0 : y0 + ny, x0 : x0 + nx]
        assert self._factors is not None
        area = _projected_area(rows.ravel(), cols.ravel(), self._grid.transform, *self._factors)
        return area.reshape(ny, nx)


class _BandSource(RasterSource):
    """Plain (unmasked) windowed reads of one band; exactextract compares cells to ``nodata``.

    Only used when the band's mask is all-valid or derived from its nodata value, so the mask
    carries no information beyond the values, and skipping numpy's masked arrays is safe.
    """

    def __init__(self, like: Any, ds: Any, band: int, nodata: int | None) -> None:
        super().__init__()
        self._like = like
        self._ds = ds
        self._band = band
        self._nodata = nodata

    def res(self) -> Any:
        return self._like.res()

    def extent(self) -> Any:
        return self._like.extent()

    def srs_wkt(self) -> Any:
        return self._like.srs_wkt()

    def nodata_value(self) -> int | None:
        return self._nodata

    def read_window(self, x0: int, y0: int, nx: int, ny: int) -> np.ndarray:
        return np.asarray(self._ds.read(self._band, window=Window(x0, y0, nx, ny)))


class _WkbFeature(Feature):
    """A zone handed to exactextract as WKB, with its position as the only field."""

    def __init__(self, k: int, wkb: bytes) -> None:
        Feature.__init__(self)
        self._k = k
        self._wkb = wkb

    def geometry(self) -> bytes:
        return self._wkb

    def set_geometry_format(self) -> str:
        return "wkb"

    def get(self, name: str) -> int:
        return self._k

    def fields(self) -> list[str]:
        return ["k"]


class _WkbFeatures(FeatureSource):
    """Zones as WKB (cheaper than GeoPandas' GeoJSON round trip through exactextract)."""

    def __init__(self, geoms: np.ndarray, crs: CRS) -> None:
        super().__init__()
        self._wkb = shapely.to_wkb(geoms)
        self._wkt = crs.to_wkt()

    def count(self) -> int:
        return len(self._wkb)

    def __iter__(self) -> Iterator[_WkbFeature]:
        for k, wkb in enumerate(self._wkb):
            yield _WkbFeature(k, wkb)

    def srs_wkt(self) -> str:
        return self._wkt


def _weighted_mode(grid: _Grid, ds: Any, band: int) -> tuple[bool, int | None]:
    """Whether the native weighted path applies, and the value standing for nodata cells.

    It applies to unscaled integer bands that either declare an integer nodata value (nodata
    and masked cells are read as that value, so one pass measures both) or have no nodata and
    no mask at all (every cell valid). Anything else (float bands, NaN nodata, mask bands
    without a nodata value, scaled bands) takes the per-cell path.
    """
    if grid.is_float or ds.scales[band - 1] != 1.0 or ds.offsets[band - 1] != 0.0:
        return False, None
    nodata = grid.nodata
    if nodata is not None:
        if math.isfinite(nodata) and float(nodata).is_integer():
            return True, int(nodata)
        return False, None
    return list(ds.mask_flag_enums[band - 1]) == [MaskFlags.all_valid], None


def _weighted_pass(
    source: Any,
    ds: Any,
    band: int,
    grid: _Grid,
    row_area: np.ndarray | None,
    geoms: np.ndarray,
    todo: np.ndarray,
    default: int | None,
    covered_ha: np.ndarray,
    nodata_ha: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area-weighted fractions per value and total true area per zone, all from exactextract.

    exactextract weights each cell by coverage x true area against the lazy
    :class:`_AreaSource`: ``weighted_frac`` gives each value's share f_v of the zone's weighted
    area A and ``weighted_sum`` gives sum_v v * f_v * A (same accumulator, so both come from one
    pass over the cells). When every value is >= 0 and one is > 0, A is their ratio (a ratio of
    sums of positive terms: exact to a few ulps); for the other zones (all cells 0, or negative
    codes) A comes from a second, smaller call summing the area source. The hectares of value v
    are then ``f_v * A``.
    """
    area = _AreaSource(source, grid, row_area)
    flags = list(ds.mask_flag_enums[band - 1])
    if flags in ([MaskFlags.all_valid], [MaskFlags.nodata]):
        source = _BandSource(source, ds, band, default)
    opts = {} if default is None else {"default_value": default}
    ops = [
        Operation("unique", "val", source, area, opts),
        Operation("weighted_frac", "frac", source, area, opts),
        Operation("weighted_sum", "wsum", source, area, opts),
    ]
    out = exact_extract(
        source, _WkbFeatures(geoms[todo], grid.crs), ops, include_cols=["k"], output="pandas"
    )
    zidx = todo[out["k"].to_numpy(dtype=np.int64)]
    vals = [np.asarray(v, dtype=float).ravel() for v in out["val"]]
    fracs = [np.asarray(f, dtype=float).ravel() for f in out["frac"]]
    lengths = np.array([len(v) for v in vals], dtype=np.int64)
    value = np.concatenate(vals) if vals else np.zeros(0)
    frac = np.concatenate(fracs) if fracs else np.zeros(0)
    owner = np.repeat(np.arange(len(zidx)), lengths)
    mean = np.bincount(owner, weights=value * frac, minlength=len(zidx))
    negative = np.bincount(owner, weights=value < 0, minlength=len(zidx)) > 0
    ratio = (mean > 0) & ~negative & (lengths > 0)
    total = np.zeros(len(zidx))
    wsum = out["wsum"].to_numpy(dtype=float)
    total[ratio] = wsum[ratio] / mean[ratio]
    again = np.flatnonzero(~ratio & (lengths > 0))
    if len(again):
        rest = exact_extract(
            area,
            _WkbFeatures(geoms[zidx[again]], grid.crs),
            [Operation("sum", "total", area)],
            include_cols=["k"],
            output="pandas",
        )
        total[again[rest["k"].to_numpy(dtype=np.int64)]] = rest["total"].to_numpy(dtype=float)
    area_m2 = frac * total[owner]
    is_nodata = np.zeros(len(value), dtype=bool) if default is None else value == default
    nodata = np.bincount(owner[is_nodata], weights=area_m2[is_nodata], minlength=len(zidx))
    covered = np.bincount(owner[~is_nodata], weights=area_m2[~is_nodata], minlength=len(zidx))
    covered_ha[zidx] = covered / M2_PER_HA
    nodata_ha[zidx] = np.maximum(nodata, 0.0) / M2_PER_HA
    loss = ~is_nodata & (value > 0) & (area_m2 > 0)
    zone = zidx[owner[loss]]
    codes = np.rint(value[loss]).astype(np.int64)
    order = np.lexsort((codes, zone))
    return zone[order], LOSSYEAR_BASE + codes[order], area_m2[loss][order] / M2_PER_HA


def _per_cell_pass(
    source: Any,
    grid: _Grid,
    row_area: np.ndarray | None,
    geoms: np.ndarray,
    todo: np.ndarray,
    covered_ha: np.ndarray,
    nodata_ha: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """General path: per-cell ids, coverage and values from exactextract, weighted here."""

    def cell_area(cid: np.ndarray) -> np.ndarray:
        rows, cols = np.divmod(cid.astype(np.int64), grid.width)
        if row_area is not None:
            return row_area[rows]
        return pixel_area_m2(rows, cols, grid.transform, grid.crs)

    ops = _ops(grid, source)
    zone_rows: list[np.ndarray] = []
    year_rows: list[np.ndarray] = []
    ha_rows: list[np.ndarray] = []
    for chunk in _chunks(geoms[todo], grid):
        index = todo[chunk]
        frame = gpd.GeoDataFrame({"zidx": index}, geometry=geoms[index], crs=grid.crs)
        out = exact_extract(source, frame, ops, include_cols=["zidx"], output="pandas")
        for rec in out.itertuples(index=False):
            i = int(rec.zidx)
            val = np.asarray(rec.val)
            area = np.asarray(rec.cov, dtype=float) * cell_area(np.asarray(rec.cid))
            if "cida" in out.columns:
                valid = np.ones(len(val), dtype=bool)
                total = float(
                    np.dot(np.asarray(rec.cova, dtype=float), cell_area(np.asarray(rec.cida)))
                )
            else:
                valid = val != grid.nodata
                total = float(area.sum())
            if grid.is_float:
                valid &= ~np.isnan(val)
            covered = float(area[valid].sum())
            covered_ha[i] = covered / M2_PER_HA
            nodata_ha[i] = max(total - covered, 0.0) / M2_PER_HA
            loss = valid & (val > 0)
            if loss.any():
                codes = np.rint(val[loss]).astype(np.int64)
                years, inverse = np.unique(codes, return_inverse=True)
                ha = np.bincount(inverse, weights=area[loss]) / M2_PER_HA
                keep = ha > 0
                zone_rows.append(np.full(int(keep.sum()), i))
                year_rows.append(LOSSYEAR_BASE + years[keep])
                ha_rows.append(ha[keep])
    if not zone_rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(zone_rows), np.concatenate(year_rows), np.concatenate(ha_rows)


def compute_loss_by_year(
    zones: gpd.GeoDataFrame, raster: str | os.PathLike[str], band: int = 1
) -> ZonalResult:
    """Return forest loss per zone and year in true hectares, with exact pixel coverage.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        Column ``zone_id`` (unique) and Polygon/MultiPolygon geometries in any CRS.
    raster : str or os.PathLike
        GeoTIFF with Hansen ``lossyear`` coding (0 = no loss, N = loss in 2000 + N) and its
        nodata value declared.
    band : int, default 1
        Band to read.

    Returns
    -------
    ZonalResult
        ``table`` (zone_id, year, loss_ha) and ``coverage`` (zone_id, status, covered_ha,
        nodata_ha, outside_ha).

    Raises
    ------
    SourceError
        The raster cannot be opened, the band is missing or the raster is rotated.
    CRSError
        The zones or the raster have no CRS.
    ValidationError
        ``zone_id`` is missing or duplicated, a geometry is not a non-empty polygon, or the
        raster's values do not look like loss years (see :func:`check_loss_codes`).
    """
    grid = _open_grid(raster, band)
    check_loss_codes(raster, band)
    _check_zones(zones)
    ids = zones["zone_id"].astype(str).to_numpy()
    n = len(ids)
    geoms = _to_raster_crs(zones, grid.crs)

    # Footprint of the raster and the part of each zone beyond it.
    left, top = float(grid.transform.c), float(grid.transform.f)
    right = left + grid.width * float(grid.transform.a)
    bottom = top + grid.height * float(grid.transform.e)
    footprint = shapely.box(min(left, right), min(top, bottom), max(left, right), max(top, bottom))
    inside = shapely.within(geoms, footprint)
    touching = shapely.intersects(geoms, footprint)
    outside_ha = np.zeros(n)
    if (~inside).any():
        beyond = shapely.difference(geoms[~inside], footprint)
        outside_ha[~inside] = compute_area_ha(gpd.GeoSeries(beyond, crs=grid.crs))
    covered_ha = np.zeros(n)
    nodata_ha = np.zeros(n)

    geod = grid.crs.get_geod() or Geod(ellps="WGS84")
    row_area = row_area_m2(grid.transform, grid.height, geod) if grid.crs.is_geographic else None

    todo = np.flatnonzero(touching)
    with gdal_path(raster) as safe, rasterio.open(safe) as ds:
        source = RasterioRasterSource(ds, band)
        native, default = _weighted_mode(grid, ds, band)
        if native:
            zone_index, years, ha = _weighted_pass(
                source, ds, band, grid, row_area, geoms, todo, default, covered_ha, nodata_ha
            )
        else:
            zone_index, years, ha = _per_cell_pass(
                source, grid, row_area, geoms, todo, covered_ha, nodata_ha
            )

    status = np.where(inside, "inside", np.where(touching, "partial", "outside"))
    # A zone that only touches the raster's edge has no area on it.
    status[(status == "partial") & (covered_ha + nodata_ha == 0)] = "outside"
    coverage = pd.DataFrame(
        {
            "zone_id": ids,
            "status": status,
            "covered_ha": covered_ha,
            "nodata_ha": nodata_ha,
            "outside_ha": outside_ha,
        },
        columns=_COVERAGE_COLUMNS,
    )
    table = pd.DataFrame(
        {
            "zone_id": pd.Series(ids[zone_index], dtype=str),
            "year": years.astype(int),
            "loss_ha": ha,
        },
        columns=_TABLE_COLUMNS,
    )
    n_out = int((status != "inside").sum())
    if n_out:
        log.warning(
            "%d of %d zones lie partly or wholly beyond %s; see coverage.outside_ha",
            n_out,
            n,
            os.fspath(raster),
        )
    log.info("forest loss: %d zones, %d zone-year rows", n, len(table))
    return ZonalResult(table=table, coverage=coverage)
