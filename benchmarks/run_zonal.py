"""Benchmark forest loss by year: geotools.analysis.forest_loss vs exactextract vs rasterstats.

A deterministic synthetic Hansen-style ``lossyear`` raster (EPSG:4326, ~30 m pixels over Ucayali,
uint8, nodata 255) is written once to ``benchmarks/.cache/`` together with irregular territory
polygons (some crossing the raster's edge). Then, on the same inputs:

- ``geotools``: :func:`geotools.analysis.forest_loss.compute_loss_by_year` (exact coverage,
  true pixel area);
- ``exactextract``: ``exact_extract(["unique", "frac", "count"])``, i.e. the coverage-weighted
  pixel count per value, times the geodesic area of a pixel on the zone centroid's row;
- ``rasterstats``: ``zonal_stats(categorical=True)`` (centre-of-pixel rule), pixel counts times
  the area of a pixel at the raster's centre latitude (planar pixel count).

Usage: ``python benchmarks/run_zonal.py [--size 8000] [--zones 1500]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from exactextract import exact_extract
from pyproj import Geod
from rasterio.transform import from_origin
from rasterio.windows import Window
from rasterstats import zonal_stats

from geotools.analysis.forest_loss import compute_loss_by_year, row_area_m2

log = logging.getLogger("run_zonal")

CACHE = Path(__file__).resolve().parent / ".cache"
PIXEL_DEG = 0.00025  # ~28 m at 9 S
WEST, NORTH = -75.3, -7.9
NODATA = 255
SEED = 20240611


def write_raster(path: Path, size: int) -> None:
    """Write a blocky, noisy lossyear raster (values 0, 1..23, a nodata stripe) by row blocks."""
    rng = np.random.default_rng(SEED)
    coarse = 40  # patch size in pixels
    n = size // coarse + 1
    patch_year = rng.integers(1, 24, size=(n, n)).astype(np.uint8)
    patch_p = rng.uniform(0, 0.5, size=(n, n)).astype(np.float32) ** 2  # most patches ~0 loss
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 1,
        "dtype": "uint8",
        "crs": "EPSG:4326",
        "transform": from_origin(WEST, NORTH, PIXEL_DEG, PIXEL_DEG),
        "nodata": NODATA,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
    }
    block = 1000
    with rasterio.open(path, "w", **profile) as dst:
        for r0 in range(0, size, block):
            h = min(block, size - r0)
            rows = (np.arange(r0, r0 + h) // coarse)[:, None]
            cols = (np.arange(size) // coarse)[None, :]
            p = patch_p[rows, cols]
            lost = rng.random((h, size), dtype=np.float32) < p
            out = np.where(lost, patch_year[rows, cols], 0).astype(np.uint8)
            # A 300-pixel-wide nodata stripe (clouds / missing scene) in the middle columns.
            out[:, size // 2 : size // 2 + 300] = np.where(
                (np.arange(r0, r0 + h) % 2000 < 700)[:, None],
                NODATA,
                out[:, size // 2 : size // 2 + 300],
            )
            dst.write(out, 1, window=Window(0, r0, size, h))


def make_zones(n: int, size: int) -> gpd.GeoDataFrame:
    """Irregular star-shaped territories, 1-4 km radius, ~5 % crossing the raster edge."""
    rng = np.random.default_rng(SEED + 1)
    span = size * PIXEL_DEG
    cx = rng.uniform(WEST - 0.01, WEST + span + 0.01, n)
    cy = rng.uniform(NORTH - span - 0.01, NORTH + 0.01, n)
    radius_km = rng.uniform(1.0, 4.0, n)
    k = 64
    theta = np.linspace(0, 2 * np.pi, k, endpoint=False)
    wobble = 1 + 0.35 * np.sin(
        theta[None, :] * rng.integers(2, 6, n)[:, None] + rng.uniform(0, 6.3, n)[:, None]
    )
    wobble *= rng.uniform(0.85, 1.15, (n, k))
    r = radius_km[:, None] * wobble
    lat = cy[:, None] + r * np.sin(theta) / 110.574
    lon = cx[:, None] + r * np.cos(theta) / (111.32 * np.cos(np.radians(cy[:, None])))
    rings = np.stack([lon, lat], axis=-1)
    geoms = shapely.make_valid(shapely.polygons(rings))
    geoms = np.array(
        [
            g
            if g.geom_type in ("Polygon", "MultiPolygon")
            else shapely.unary_union([p for p in g.geoms if p.area > 0])
            for g in geoms
        ]
    )
    return gpd.GeoDataFrame({"zone_id": [f"Z{i:05d}" for i in range(n)]}, geometry=geoms, crs=4326)


def run_exactextract(path: Path, zones: gpd.GeoDataFrame) -> pd.DataFrame:
    with rasterio.open(path) as src:
        transform, height = src.transform, src.height
    row_ha = row_area_m2(transform, height, Geod(ellps="WGS84")) / 1e4
    out = exact_extract(
        str(path), zones, ["unique", "frac", "count"], include_cols=["zone_id"], output="pandas"
    )
    rows = np.clip(
        (
            (shapely.get_y(shapely.centroid(zones.geometry.values)) - transform.f) / transform.e
        ).astype(int),
        0,
        height - 1,
    )
    parts = []
    for rec, row in zip(out.itertuples(index=False), rows, strict=True):
        values, frac = np.asarray(rec.unique), np.asarray(rec.frac)
        keep = values > 0
        parts.append(
            pd.DataFrame(
                {
                    "zone_id": rec.zone_id,
                    "year": 2000 + values[keep],
                    "loss_ha": frac[keep] * rec.count * row_ha[row],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def run_rasterstats(path: Path, zones: gpd.GeoDataFrame) -> pd.DataFrame:
    with rasterio.open(path) as src:
        transform, height = src.transform, src.height
    mid = row_area_m2(transform, height, Geod(ellps="WGS84"))[height // 2] / 1e4
    stats = zonal_stats(list(zones.geometry), str(path), categorical=True, nodata=NODATA)
    rows = [
        (z, 2000 + int(v), c * mid)
        for z, s in zip(zones["zone_id"], stats, strict=True)
        for v, c in s.items()
        if v and v != NODATA
    ]
    return pd.DataFrame(rows, columns=["zone_id", "year", "loss_ha"])


def compare(ours: pd.DataFrame, other: pd.DataFrame) -> dict[str, float]:
    a = ours.groupby("zone_id")["loss_ha"].sum()
    b = other.groupby("zone_id")["loss_ha"].sum().reindex(a.index, fill_value=0.0)
    rel = (b - a).abs() / a.clip(lower=1e-9)
    merged = ours.merge(other, on=["zone_id", "year"], how="outer", suffixes=("", "_o")).fillna(0)
    return {
        "total_ours_ha": float(a.sum()),
        "total_other_ha": float(b.sum()),
        "total_diff_ha": float(b.sum() - a.sum()),
        "sum_abs_zone_year_diff_ha": float((merged["loss_ha_o"] - merged["loss_ha"]).abs().sum()),
        "median_zone_rel_diff_pct": float(rel.median() * 100),
        "max_zone_rel_diff_pct": float(rel.max() * 100),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8000, help="raster width = height (pixels)")
    parser.add_argument("--zones", type=int, default=1500, help="number of territories")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs of each method")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("geotools").setLevel(logging.ERROR)
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"lossyear_{args.size}.tif"
    if not path.exists():
        t0 = time.perf_counter()
        write_raster(path, args.size)
        log.info("wrote %s in %.1f s", path, time.perf_counter() - t0)
    zones = make_zones(args.zones, args.size)
    pixels = float(sum(shapely.area(zones.geometry.values))) / PIXEL_DEG**2
    log.info(
        "raster %d x %d (%.0f MB on disk), %d zones, ~%.1f M pixels under zones",
        args.size,
        args.size,
        path.stat().st_size / 1e6,
        len(zones),
        pixels / 1e6,
    )

    runners = {
        "geotools": lambda: compute_loss_by_year(zones, path).table,
        "exactextract": lambda: run_exactextract(path, zones),
        "rasterstats": lambda: run_rasterstats(path, zones),
    }
    times: dict[str, float] = {}
    tables: dict[str, pd.DataFrame] = {}
    for name, fn in runners.items():
        best = np.inf
        for _ in range(args.repeat if name != "rasterstats" else 1):
            t0 = time.perf_counter()
            tables[name] = fn()
            best = min(best, time.perf_counter() - t0)
        times[name] = best
        log.info("%-12s %8.2f s", name, best)
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "size": args.size,
        "zones": args.zones,
        "pixels_under_zones": pixels,
        "seconds": times,
        "ratio_vs_geotools": {k: v / times["geotools"] for k, v in times.items()},
        "exactextract_vs_geotools": compare(tables["geotools"], tables["exactextract"]),
        "rasterstats_vs_geotools": compare(tables["geotools"], tables["rasterstats"]),
    }
    (CACHE / "zonal_result.json").write_text(json.dumps(result, indent=2))
    log.info(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
