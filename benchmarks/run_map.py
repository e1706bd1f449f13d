"""Map size and load time at national scale: tier L territories and 1,000,000 incidents.

Builds the risk map (:func:`geotools.maps.build_map`, written as ``write_map_html`` writes it)
for the 10,000 territories of tier L with synthetic statistics and risk columns, and 1,000,000
random incidents (which the map draws as counts on a grid), then:

* measures the HTML size (and the size with Leaflet and plugins inlined, when the asset cache
  is filled: ``geotools fetch-assets``);
* measures the displayed area of every territory against its geodesic area (the display
  geometry is simplified and rounded; the target is within 1 %);
* opens the page in headless Chromium (Debian ``chromium`` via Playwright) with every network
  request refused (tiles included) and times it until every territory is drawn.

Usage::

    python benchmarks/run_map.py                 # writes the RESULTS.md section
    python benchmarks/run_map.py --points 100000 --no-write
    python benchmarks/run_map.py --amw           # the real Amazon Mining Watch study (issue 15)

``--amw`` runs ``geotools map`` on the real Amazon Mining Watch territories and the 2025 Q3 and
Q4 mining detections (``../shared/realdata/amazon-mining-watch``, not in the repository) and
records the page size, wall time and peak memory next to the figures measured before issue 15.
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
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from run_points import load_territories, random_points  # noqa: E402

from geotools.area import compute_geodesic_area_ha  # noqa: E402
from geotools.maps import (  # noqa: E402
    INCIDENT_COLOURS,
    build_map,
    compact_json_escapes,
)

log = logging.getLogger("run_map")
START, END = "<!-- map-benchmark:start -->", "<!-- map-benchmark:end -->"


def synthetic_territories(territories: gpd.GeoDataFrame, seed: int) -> gpd.GeoDataFrame:
    """Tier L territories with plausible statistics, risk and driver columns (random)."""
    rng = np.random.default_rng(seed)
    n = len(territories)
    area_ha = compute_geodesic_area_ha(territories.geometry)
    titled_pct = rng.uniform(0, 100, n)
    score = rng.uniform(0, 100, n)
    classes = np.select([score < 25, score < 50, score < 75], ["low", "medium", "high"], "critical")
    out = territories.copy()
    out["name"] = [f"Comunidad nativa {i:05d}" for i in range(1, n + 1)]
    out["people"] = rng.choice(["Shipibo-Conibo", "Asháninka", "Awajún", "Kichwa"], n)
    out["claimed_ha"] = area_ha
    out["titled_ha"] = area_ha * titled_pct / 100
    out["titled_pct"] = titled_pct
    out["secured_ha"] = out["titled_ha"]
    out["secured_pct"] = titled_pct
    out["untitled_ha"] = area_ha - out["titled_ha"]
    out["untitled_pct"] = 100 - titled_pct
    out["concession_ha"] = area_ha * rng.uniform(0, 0.5, n)
    out["concession_pct"] = 100 * out["concession_ha"] / area_ha
    out["incidents_inside"] = rng.integers(0, 200, n)
    out["incidents_nearby"] = rng.integers(0, 50, n)
    out["risk_score"] = score
    out["risk_class"] = classes
    out["risk_drivers_es"] = [
        f"{c}: {u:.0f} % sin titular, {k} incidentes dentro o cerca desde 2010"
        for c, u, k in zip(classes, 100 - titled_pct, out["incidents_inside"], strict=True)
    ]
    out["risk_drivers"] = out["risk_drivers_es"]
    return out


def synthetic_incidents(territories: gpd.GeoDataFrame, n: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    lonlat = random_points(territories, n, seed)
    years = rng.integers(2005, 2025, n)
    return gpd.GeoDataFrame(
        {
            "date": pd.Series(years.astype(str)) + "-06-01",
            "kind": rng.choice(list(INCIDENT_COLOURS), n),
            "severity": rng.integers(1, 6, n),
            "sensitivity": "public",
        },
        geometry=shapely.points(lonlat),
        crs=4326,
    )


def displayed_area_error(m: object, territories: gpd.GeoDataFrame) -> np.ndarray:
    """Relative difference (%) of each territory's displayed area from its geodesic area."""
    import folium

    layer = next(
        c for c in m._children.values() if isinstance(c, folium.GeoJson)  # type: ignore[attr-defined]
    )
    shown = [shapely.geometry.shape(f["geometry"]) for f in layer.data["features"]]
    shown_ha = compute_geodesic_area_ha(gpd.GeoSeries(shown, crs=4326))
    true_ha = territories["claimed_ha"].to_numpy()
    return 100 * (shown_ha - true_ha) / true_ha


def time_load(path: Path, runs: int = 3, paths: int = 1000) -> list[float]:
    """Seconds from navigation until ``paths`` paths are drawn in the page (Chromium, offline)."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium not found (apt-get install chromium)")
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                       else r.abort())
            start = time.perf_counter()
            page.goto(path.as_uri(), timeout=120_000)
            # Drawn: a territory layer on the map holds the features (SVG paths or, for a
            # national map, a canvas) and two animation frames have passed (the canvas draws
            # on the next one); the same test for the map before issue 15, whose paths exist
            # only once drawn.
            page.wait_for_function(
                f"""() => document.querySelectorAll('path.leaflet-interactive').length >= {paths}
                    || Object.keys(window).some(k => window[k] && window[k].gtData
                        && window[k]._map && window[k].getLayers().length >= {paths})""",
                timeout=120_000,
            )
            page.evaluate(
                "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
            )
            times.append(time.perf_counter() - start)
            page.close()
        browser.close()
    return times


def run(n_points: int, seed: int) -> dict:
    t0 = time.perf_counter()
    territories = synthetic_territories(load_territories(), seed)
    incidents = synthetic_incidents(territories, n_points, seed)
    prep = time.perf_counter() - t0
    t0 = time.perf_counter()
    m = build_map(territories, incidents=incidents, lang="es")
    page = compact_json_escapes(m.get_root().render())
    build_s = time.perf_counter() - t0
    errors = displayed_area_error(m, territories)
    out = Path(tempfile.mkdtemp(prefix="geotools-map-bench-")) / "map_L.html"
    out.write_text(page, encoding="utf-8")
    result = {
        "territories": len(territories),
        "points": n_points,
        "prepare_s": prep,
        "build_s": build_s,
        "size_mb": out.stat().st_size / 1e6,
        "area_error_max_pct": float(np.abs(errors).max()),
        "area_error_p99_pct": float(np.percentile(np.abs(errors), 99)),
        "area_error_mean_pct": float(errors.mean()),
    }
    try:
        from geotools.maps import fetch_map_assets, inline_map_assets

        inlined = out.with_name("map_L_offline.html")
        inlined.write_text(inline_map_assets(page, fetch_map_assets()), encoding="utf-8")
        result["offline_size_mb"] = inlined.stat().st_size / 1e6
        result["load_s"] = time_load(inlined)
    except Exception as exc:  # no cache or no browser: size figures only
        log.warning("load time not measured: %s", exc)
    result["demo_bytes"] = demo_map_size()
    log.info("%s", result)
    return result


#: Measured before issue 15 part C (plain GeoJSON and one popup HTML string per feature;
#: commit d420b8d, same machine): tier L figures of 2026-11-23, demo map of 2026-12-02.
BEFORE_COMPACT = {
    "build_s": "57.5 s",
    "size": "51.76 MB",
    "offline": "52.01 MB",
    "load": "8.4 s (best of 3; runs: 8.4, 8.7, 8.4)",
    "max": "0.360 %",
    "p99": "0.194 %",
    "mean": "-0.0025 %",
    "demo": 205_421,
}


def demo_map_size() -> int:
    """Bytes of the map ``geotools demo`` writes (Spanish, the default)."""
    from geotools.demo import run_demo

    folder = Path(tempfile.mkdtemp(prefix="geotools-demo-size-"))
    try:
        return Path(run_demo(out=folder, lang="es")["map"]).stat().st_size
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def section(r: dict) -> str:
    load = r.get("load_s")
    load_text = (
        f"{min(load):.1f} s (best of {len(load)}; runs: {', '.join(f'{t:.1f}' for t in load)})"
        if load
        else "not measured"
    )
    offline = r.get("offline_size_mb", float("nan"))
    b = BEFORE_COMPACT
    demo = r.get("demo_bytes")
    demo_text = f"{demo:,} bytes" if demo else "not measured"
    return f"""{START}
## Map at national scale (issue 6; compact layers, issue 15)

{r["territories"]:,} territories of tier L (synthetic statistics and risk columns) and
{r["points"]:,} random incidents, Spanish map as `geotools map` writes it. Above 20,000
incidents the map draws counts per grid cell (with the year slider and heat map) instead of
one marker each, so the page size does not grow with the number of incidents. "Before": plain
GeoJSON with one popup HTML string per feature, every territory simplified at one tolerance
(d420b8d); "now": delta-encoded geometry and popups built in the page from one row of values
per feature, each territory simplified on its own within the 1 % rule (issue 15).

| measure | before (d420b8d) | now |
|---|---:|---:|
| build (build_map + render) | {b["build_s"]} | {r["build_s"]:.1f} s |
| HTML size | {b["size"]} | {r["size_mb"]:.2f} MB |
| HTML size, Leaflet and plugins inlined (`--offline`) | {b["offline"]} | {offline:.2f} MB |
| first paint: load in headless Chromium until 1,000 territories are drawn (offline) \
| {b["load"]} | {load_text} |
| displayed vs geodesic area, max over territories | {b["max"]} | {r["area_error_max_pct"]:.3f} % |
| displayed vs geodesic area, 99th percentile | {b["p99"]} | {r["area_error_p99_pct"]:.3f} % |
| displayed vs geodesic area, mean (signed) | {b["mean"]} | {r["area_error_mean_pct"]:+.4f} % |
| demo map (`geotools demo`, Spanish) | {b["demo"]:,} bytes | {demo_text} |

Target: at most 5 MB, first paint within 3 s, displayed areas within 1 %; the demo no bigger
than before. Machine: {platform.machine()}, {platform.python_version()}, measured
{datetime.now(UTC).strftime("%Y-%m-%d")}.
{END}"""


AMW_START, AMW_END = "<!-- amw-map-benchmark:start -->", "<!-- amw-map-benchmark:end -->"
AMW_DIR = HERE.parent.parent / "shared" / "realdata" / "amazon-mining-watch"
#: Measured before issue 15 (commit 0b3f98e, same machine, same command).
AMW_BEFORE = {"size": 91_259_164, "seconds": 42.9, "rss_mb": 1507, "hexagons": 213_850}
#: With the hexagons trimmed, before the compact layers (commit d420b8d, 2026-12-02).
AMW_TRIMMED = {
    "size": "0.69 MB",
    "seconds": "2.5 s (best of 3: 2.5, 2.5, 2.5)",
    "offline": "0.88 MB",
    "load": "0.35 s (best of 3: 0.35, 0.41, 0.48)",
    "rss": "356 MB",
    "hexagons": "790 (H3 resolution 6)",
}


def run_amw(runs: int = 3) -> dict:
    """Run ``geotools map`` on the real AMW study; return size, best time, peak memory."""
    import re
    import resource
    import subprocess

    territories = AMW_DIR / "peru_indigenous_territories_mining_impacts_v2025-11-07.geojson"
    detections = [
        AMW_DIR / f"peru_mining_detections_2025{q}_new_gt11ha.geojson" for q in ("Q3", "Q4")
    ]
    tmp = Path(tempfile.mkdtemp(prefix="geotools-amw-"))
    out = tmp / "amw.html"
    command = [
        sys.executable, "-m", "geotools.cli", "map", "--territories", str(territories),
        "--concessions", str(detections[0]), "--concessions", str(detections[1]),
        "--default", "concessions.kind=mining", "--group-territories", "name",
        "--out", str(out), "--overwrite",
    ]
    times, log_text = [], ""
    try:
        for _ in range(runs):
            start = time.perf_counter()
            done = subprocess.run(
                command, capture_output=True, text=True, check=True, cwd=HERE.parent
            )
            times.append(time.perf_counter() - start)
            log_text = done.stderr + done.stdout
        size = out.stat().st_size
        # The same map inlined and with no basemap: opened in Chromium with every request
        # refused, until the 21 territories (and more) are drawn.
        offline = tmp / "amw_offline.html"
        subprocess.run(
            [*command[:-3], "--out", str(offline), "--offline", "--basemap", "none"],
            capture_output=True, text=True, check=True, cwd=HERE.parent,
        )
        offline_size = offline.stat().st_size
        load = time_load(offline, runs=3, paths=21)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    found = re.findall(r"risk hexagons: (\d+) at resolution (\d+)", log_text)
    return {
        "size": size,
        "offline_size": offline_size,
        "load": load,
        "seconds": min(times),
        "times": times,
        "rss_mb": rss_mb,
        "hexagons": f"{int(found[-1][0]):,} (H3 resolution {found[-1][1]})" if found else "none",
    }


def amw_section(r: dict) -> str:
    """The RESULTS.md section of the AMW study map, before and after issue 15."""
    b, h = AMW_BEFORE, AMW_TRIMMED
    runs = ", ".join(f"{t:.1f}" for t in r["times"])
    now = f"{r['seconds']:.1f} s (best of {len(r['times'])}: {runs})"
    offline_mb = f"{r['offline_size'] / 1e6:.2f} MB"
    before_load = "not measured (an 88 MB one: no load event after 9 min)"
    loaded = f"{min(r['load']):.2f} s (best of 3: {', '.join(f'{t:.2f}' for t in r['load'])})"
    return f"""{AMW_START}
## A real study's map: Amazon Mining Watch (issue 15)

`geotools map --territories peru_indigenous_territories_mining_impacts_v2025-11-07.geojson
--concessions ..._2025Q3_new_gt11ha.geojson --concessions ..._2025Q4_new_gt11ha.geojson
--default concessions.kind=mining --group-territories name` (21 territories spread over Peru,
mining detections; `python benchmarks/run_map.py --amw`).

| measure | before (0b3f98e) | hexagons trimmed (d420b8d) | now (compact layers) |
|---|---:|---:|---:|
| HTML size | {b["size"] / 1e6:.2f} MB | {h["size"]} | {r["size"] / 1e6:.2f} MB |
| wall time of the command | {b["seconds"]:.1f} s | {h["seconds"]} | {now} |
| HTML size, `--offline --basemap none` (Leaflet inlined, no tiles) | | {h["offline"]} \
| {offline_mb} |
| that page in headless Chromium, every request refused, until drawn | {before_load} \
| {h["load"]} | {loaded} |
| peak memory | {b["rss_mb"]:,} MB | {h["rss"]} | {r["rss_mb"]:,.0f} MB |
| risk hexagons | {b["hexagons"]:,} (H3 resolution 7, whole bounding box) | {h["hexagons"]} \
| {r["hexagons"]} |

Target: at most 2 MB, built in at most 10 s. Machine: {platform.machine()},
{platform.python_version()}, measured {datetime.now(UTC).date().isoformat()}.
{AMW_END}"""


def write_section(text: str, start: str, end: str) -> None:
    """Replace (or append) the section between ``start`` and ``end`` in RESULTS.md."""
    results = HERE / "RESULTS.md"
    current = results.read_text(encoding="utf-8")
    if start in current:
        head, rest = current.split(start, 1)
        current = head + text + rest.split(end, 1)[1]
    else:
        current = current.rstrip() + "\n\n" + text + "\n"
    results.write_text(current, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--amw", action="store_true", help="Measure the real AMW study's map.")
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-write", action="store_true", help="Do not update RESULTS.md.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.amw:
        text = amw_section(run_amw())
        print(text)
        if not args.no_write:
            write_section(text, AMW_START, AMW_END)
        return
    result = run(args.points, args.seed)
    text = section(result)
    print(text)
    if not args.no_write:
        results = HERE / "RESULTS.md"
        current = results.read_text(encoding="utf-8")
        if START in current:
            head, rest = current.split(START, 1)
            current = head + text + rest.split(END, 1)[1]
        else:
            current = current.rstrip() + "\n\n" + text + "\n"
        results.write_text(current, encoding="utf-8")


if __name__ == "__main__":
    main()
