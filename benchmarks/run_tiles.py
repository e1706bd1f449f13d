"""Vector tiles at national scale: tier L territories and 1,000,000 incidents as PMTiles.

Writes the tile layers the way ``geotools map --tiles`` does (:func:`geotools.maps.tiles.
tile_frame`, :func:`geotools.maps.tiles.write_tile_archive` through GDAL's PMTiles driver, and
the viewer page) for the 10,000 territories of tier L with synthetic statistics and the
random incidents of ``run_map.py``, then:

* measures the time to write each archive and its size;
* counts the features GDAL kept at a few zoom levels (a tile is capped at 500 kB and 200,000
  features: at low zooms points may be thinned);
* serves the folder with a range-request server on 127.0.0.1 and opens the viewer in headless
  Chromium (every other request refused) until the first tiles are drawn, at the national view
  and zoomed in on one territory.

Usage::

    python benchmarks/run_tiles.py                   # writes the RESULTS.md section
    python benchmarks/run_tiles.py --points 100000 --no-write
"""

from __future__ import annotations

import argparse
import logging
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))  # the range-request server of the browser tests

from _range_server import serve_folder  # noqa: E402
from run_map import synthetic_incidents, synthetic_territories, write_section  # noqa: E402
from run_points import load_territories  # noqa: E402

from geotools.area import compute_geodesic_area_ha  # noqa: E402
from geotools.maps.tiles import TILE_MAXZOOM, layer_minzoom, tile_frame, write_tile_archive  # noqa: E402
from geotools.maps.tiles_viewer import build_viewer_page  # noqa: E402

log = logging.getLogger("run_tiles")
START, END = "<!-- tiles-benchmark:start -->", "<!-- tiles-benchmark:end -->"
ZOOMS = (0, 5, 6, 8, TILE_MAXZOOM)


def time_view(folder: Path, runs: int = 3) -> dict[str, list[float]]:
    """Seconds from navigation until features are drawn: national view, then one territory."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium not found (apt-get install chromium)")
    first, zoomed = [], []
    ready = "() => window.gtMap && gtMap.loaded() && gtMap.areTilesLoaded()"
    with serve_folder(folder) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.route(lambda url: not url.startswith(base), lambda route: route.abort())
            page = context.new_page()
            start = time.perf_counter()
            page.goto(base + "index.html", timeout=120_000)
            page.wait_for_function(
                ready + " && gtMap.queryRenderedFeatures().length > 0", timeout=120_000
            )
            first.append(time.perf_counter() - start)
            start = time.perf_counter()
            page.evaluate("() => gtMap.jumpTo({center: [-73.5, -9.5], zoom: 11})")
            page.wait_for_function(ready, timeout=120_000)
            zoomed.append(time.perf_counter() - start)
            context.close()
        browser.close()
    return {"first_s": first, "zoomed_s": zoomed}


def area_error(path: Path, territories: gpd.GeoDataFrame) -> dict[str, float]:
    """Area of each territory as drawn at the highest zoom (its tile pieces merged) against
    its geodesic area: max and 99th percentile of the absolute error, and the signed mean (%)."""
    drawn = pyogrio.read_dataframe(
        path, layer="territories", ZOOM_LEVEL=TILE_MAXZOOM, columns=["territory_id"]
    )
    drawn = drawn.to_crs(4326).dissolve("territory_id")
    true = territories.set_index("territory_id")["claimed_ha"].loc[drawn.index].to_numpy()
    error = 100 * (compute_geodesic_area_ha(drawn.geometry) - true) / true
    return {
        "max": float(np.abs(error).max()),
        "p99": float(np.percentile(np.abs(error), 99)),
        "mean": float(error.mean()),
    }


def run(n_points: int, seed: int) -> dict:
    territories = synthetic_territories(load_territories(), seed)
    incidents = synthetic_incidents(territories, n_points, seed)
    folder = Path(tempfile.mkdtemp(prefix="geotools-tiles-bench-"))
    result: dict = {"territories": len(territories), "points": n_points, "layers": {}}
    tiles = {}
    for kind, frame in (("territories", territories), ("incidents", incidents)):
        t0 = time.perf_counter()
        tiles[kind] = tile_frame(frame, kind, "es", "public")
        prepared = time.perf_counter() - t0
        t0 = time.perf_counter()
        minzoom = layer_minzoom(kind, len(tiles[kind]))
        path = write_tile_archive(tiles[kind], folder / f"{kind}.pmtiles", kind, minzoom=minzoom)
        written = time.perf_counter() - t0
        counts = {
            z: len(
                pyogrio.read_dataframe(path, layer=kind, ZOOM_LEVEL=z, read_geometry=False)
                .drop_duplicates(subset=["territory_id"] if kind == "territories" else None)
            )
            for z in ZOOMS
        } if kind == "territories" else {
            z: pyogrio.read_info(path, layer=kind, ZOOM_LEVEL=z)["features"] if z >= minzoom
            else 0
            for z in ZOOMS
        }
        if kind == "territories":
            result["area_error"] = area_error(path, tiles[kind])
        result["layers"][kind] = {
            "features": len(tiles[kind]),
            "prepare_s": prepared,
            "write_s": written,
            "size_mb": path.stat().st_size / 1e6,
            "counts": counts,
        }
        log.info("%s: %s", kind, result["layers"][kind])
    minzooms = {kind: layer_minzoom(kind, len(frame)) for kind, frame in tiles.items()}
    result["minzooms"] = minzooms
    page = build_viewer_page(tiles, lang="es", basemap="none", offline=False, minzooms=minzooms)
    (folder / "index.html").write_text(page, encoding="utf-8")
    result["viewer_kb"] = (folder / "index.html").stat().st_size / 1e3
    try:
        from geotools.maps.tiles import _copy_viewer_assets

        _copy_viewer_assets(folder / "lib", None)
        page = build_viewer_page(
            tiles, lang="es", basemap="none", offline=True, minzooms=minzooms
        )
        (folder / "index.html").write_text(page, encoding="utf-8")
        result.update(time_view(folder))
    except Exception as exc:  # no asset cache or no browser: size figures only
        log.warning("viewer not timed: %s", exc)
    log.info("%s", result)
    return result


def section(r: dict) -> str:
    rows = []
    for kind, layer in r["layers"].items():
        counts = ", ".join(f"z{z}: {n:,}" for z, n in layer["counts"].items())
        rows.append(
            f"| {kind} | {layer['features']:,} | {layer['prepare_s'] + layer['write_s']:.1f} s | "
            f"{layer['size_mb']:.1f} MB | {counts} |"
        )
    total = sum(layer["size_mb"] for layer in r["layers"].values())
    first, zoomed = r.get("first_s"), r.get("zoomed_s")
    view = (
        f"{min(first):.2f} s (runs: {', '.join(f'{t:.2f}' for t in first)})" if first
        else "not measured"
    )
    zoom = f"{min(zoomed):.2f} s" if zoomed else "not measured"
    table = "\n".join(rows)
    area = r["area_error"]
    return f"""{START}
## Vector tiles at national scale (issue 15, `geotools map --tiles`)

{r["territories"]:,} territories of tier L (synthetic statistics, as in the map benchmark) and
{r["points"]:,} random public incidents, written as `geotools map --tiles` writes them: one
PMTiles archive per layer by GDAL {pyogrio.__gdal_version_string__} (zoom 0-{TILE_MAXZOOM};
incidents from zoom 6, there being more than 20,000), and the `index.html` viewer. Features
per zoom are as GDAL reads them back (territories: distinct ids; incidents: points, thinned
where a tile would hold more than 200,000, and counted twice where they fall in the buffer of
two tiles).

| layer | features | prepare + write | archive | features kept per zoom |
|---|---:|---:|---:|---|
{table}

Territory areas as drawn at zoom {TILE_MAXZOOM} (tile pieces merged) against their geodesic
areas: 99th percentile {area["p99"]:.2f} %, mean {area["mean"]:+.3f} %, max {area["max"]:.1f} %
(the max is a few territories whose read-back through GDAL's MVT reader misses a part next
to a tile edge; the viewer draws those parts: checked for the worst, T008060, at zooms 9-12).

Total archives: {total:.1f} MB (fetched by byte range: a visitor downloads only the tiles in
view). Viewer page: {r["viewer_kb"]:.0f} kB, plus MapLibre GL JS and the PMTiles protocol
(1.1 MB, copied into `lib/` with `--offline`, cached by browsers). Headless Chromium, folder
served on 127.0.0.1 with range requests, every other request refused: first features drawn
{view}; jump to one territory at zoom 11 and all its tiles drawn {zoom}. For comparison the
single-file HTML map of the same data is in "Map at national scale" above.
Machine: {platform.machine()}, {platform.python_version()}, measured
{datetime.now(UTC).strftime("%Y-%m-%d")}.
{END}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-write", action="store_true", help="Do not update RESULTS.md.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    text = section(run(args.points, args.seed))
    print(text)
    if not args.no_write:
        write_section(text, START, END)


if __name__ == "__main__":
    main()
