"""Region names are data (issue 14): a department file whose names carry markup, a script end
tag, template code and invisible characters reaches the map, the tiles and the bundle as text.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyogrio
from click.testing import CliRunner
from shapely.geometry import box

from geotools.cli import main

RAW = Path(__file__).resolve().parents[2] / "data" / "raw"
MARKUP = "</script><img src=x onerror=alert(1)> Q7{{ 7*7 }}Q7"
INVISIBLE = "\u202eEste\x1b[2J {% if 1 %}y{% endif %}"


def _regions(tmp_path: Path, canary: Path) -> Path:
    """Two regions splitting the demo territories; the second name would create ``canary`` if
    any template evaluated it."""
    builtins = "lipsum.__globals__.__builtins__"
    name = f"{builtins}.bytes({list(str(canary).encode())}).decode()".replace(" ", "")
    run_code = f"{{{{ {builtins}.open({name},{builtins}.bytes([119]).decode()).close() }}}}"
    x0, y0, x1, y1 = gpd.read_file(RAW / "territories.geojson").total_bounds
    mid = (x0 + x1) / 2
    path = tmp_path / "regiones.geojson"
    gpd.GeoDataFrame(
        {"first_iddp": ["01", "02"], "nombdep": [MARKUP, INVISIBLE + run_code]},
        geometry=[box(x0 - 1, y0 - 1, mid, y1 + 1), box(mid, y0 - 1, x1 + 1, y1 + 1)],
        crs=4326,
    ).to_file(path)
    return path


def _layers(regions: Path) -> list[str]:
    return [
        "--territories", str(RAW / "territories.geojson"),
        "--incidents", str(RAW / "incidents.csv"),
        "--regions", str(regions),
        "--shade-regions", "territories",
    ]  # fmt: skip


def test_hostile_region_names_in_map_and_tiles_are_text(tmp_path: Path) -> None:
    canary = tmp_path / "ran"
    regions = _regions(tmp_path, canary)
    args = ["map", *_layers(regions), "--out", str(tmp_path / "m.html"),
            "--tiles", str(tmp_path / "tiles")]  # fmt: skip
    result = CliRunner().invoke(main, args, catch_exceptions=False, color=True)
    assert result.exit_code == 0, result.output
    assert not canary.exists()
    assert "\x1b" not in result.output and "\u202e" not in result.output
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    # No tag from the data: the markup is entity-encoded, braces too (never a template).
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt; Q7&#123;&#123; 7*7 &#125;&#125;Q7" in page
    assert "Q749Q7" not in page
    # The tiles carry the names as they are (data), for the viewer to insert as text.
    names = pyogrio.read_dataframe(tmp_path / "tiles" / "regions.pmtiles")["region"]
    assert MARKUP in set(names)
    viewer = (tmp_path / "tiles" / "index.html").read_text(encoding="utf-8")
    assert "<img src=x" not in viewer


def test_hostile_region_names_in_the_bundle_are_data(tmp_path: Path) -> None:
    canary = tmp_path / "ran"
    regions = _regions(tmp_path, canary)
    secret = tmp_path / "key.txt"
    secret.write_text("region-test-secret-0123456789abcdef", encoding="utf-8")
    out = tmp_path / "public"
    args = ["publish", *_layers(regions), "--secret-file", str(secret), "--out", str(out)]
    result = CliRunner().invoke(main, args, catch_exceptions=False, color=True)
    assert result.exit_code == 0, result.output
    assert not canary.exists()
    assert "<img src=x" not in (out / "map.html").read_text(encoding="utf-8")
    published = json.loads((out / "regions.geojson").read_text(encoding="utf-8"))
    assert MARKUP in {f["properties"]["region"] for f in published["features"]}
    # The table keeps the name as data; a spreadsheet sees text, never a formula.
    table = (out / "region_stats.csv").read_text(encoding="utf-8")
    assert MARKUP in table
