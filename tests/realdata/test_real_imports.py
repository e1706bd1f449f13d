"""Real imports through `map`, `publish` and `run` (issue 13, items 10 and 11).

- The Defensoría import (81 Andean mining conflicts) crashed the map's year blocks when no
  incident lies in or near any territory (pandas 3: str + int64 on an empty selection).
- The Norperuano pipeline drawn with ``tipo = oleoducto`` was ignored as "another kind": no
  pipeline km anywhere, the default line style on the map.
- A lines file without ``kind`` failed deep in the analysis naming no file; a territories file
  whose every feature is rejected gave empty tables and exit 0.
- A layer made by ``geotools import`` lost its licence note (the monitors' "ask them before
  republishing record-level data") on its way into bundles and maps.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod

from geotools.cli import main
from geotools.maps.layers import _year_blocks

pytestmark = pytest.mark.realdata

REPO = Path(__file__).resolve().parents[2]
PARCELS = REPO / "data" / "raw" / "parcels.geojson"  # invented, far away: no tenure overlap
AMW = "amazon-mining-watch/peru_indigenous_territories_mining_impacts_v2025-11-07.geojson"
DEFENSORIA = "defensoria-conflictos-mineros/conflictos_mineros_defensoria_2024-03.csv"
MONITORS = "observatorio-ambiental-peruano/monitoreo-indigena_sample.csv"
ONP = "observatorio-ambiental-peruano/oleoducto-norperuano.geojson"
DEPARTMENTS = "peru-geojson-inei/peru_departamental_simple.geojson"
MONITORS_TERMS = "ask them before republishing record-level data"


def run(args: list[str]):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error")]


def amw_subset(realdata: Path, tmp_path: Path, n: int = 5) -> Path:
    """The first ``n`` real AMW territories (Ucayali/Huánuco, far from every Defensoría point;
    the whole layer spans Peru and makes the map's hexagons slow)."""
    path = tmp_path / "territories.geojson"
    gpd.read_file(realdata / AMW).iloc[:n].to_file(path)
    return path


def pipeline_as_oleoducto(realdata: Path, tmp_path: Path) -> Path:
    """The real ONP route with the Spanish kind a user's file carries: ``tipo = oleoducto``."""
    data = json.loads((realdata / ONP).read_text(encoding="utf-8"))
    for feature in data["features"]:
        feature["properties"]["tipo"] = "oleoducto"
    path = tmp_path / "onp_tipo.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_year_blocks_with_no_incident_near_any_territory() -> None:
    timeseries = pd.DataFrame(
        {
            "territory_id": ["T1", "T2"],
            "year": [2024, 2024],
            "incidents_inside": [0, 0],
            "incidents_nearby": [0, 0],
        }
    )
    assert _year_blocks(pd.Series(["T1", "T2"]), timeseries, "es") == {}


def test_defensoria_import_through_map_and_publish(realdata: Path, tmp_path: Path) -> None:
    imported = tmp_path / "defensoria.gpkg"
    done = run(["import", "defensoria", realdata / DEFENSORIA, "--out", imported])
    assert done.exit_code == 0, done.output
    assert "81 read, 81 valid" in done.output
    territories = amw_subset(realdata, tmp_path)
    layers = ["--territories", territories, "--parcels", PARCELS, "--incidents", imported]
    page = tmp_path / "map.html"
    mapped = run(["map", *layers, "--out", page])
    assert mapped.exit_code == 0, mapped.output  # was: unexpected TypeError, 'str' ... 'int64'
    assert "81 incidents x 5 territories: 0 inside, 0 uncertain, 0 nearby pairs" in mapped.output
    html = page.read_text(encoding="utf-8")
    assert "conflictos\\\\_minas" in html or "conflictos_minas" in html  # the importer's terms
    secret = tmp_path / "secret.txt"
    secret.write_text("k" * 64, encoding="utf-8")
    bundle = tmp_path / "bundle"
    published = run(["publish", *layers, "--out", bundle, "--secret-file", secret])
    assert published.exit_code == 0, published.output
    readme = (bundle / "README.md").read_text(encoding="utf-8")
    assert "states no licence: cite both" in readme
    assert (bundle / "map.html").is_file() and (bundle / "incidents.geojson").is_file()


def test_defensoria_through_a_project_file(realdata: Path, tmp_path: Path) -> None:
    project = tmp_path / "study.toml"
    project.write_text(
        f"""
[project]
name = "Defensoría conflicts near five AMW communities"
out = "out"
map = "map.html"
[layers.territories]
path = "{amw_subset(realdata, tmp_path)}"
[layers.parcels]
path = "{PARCELS}"
[layers.incidents]
path = "{realdata / DEFENSORIA}"
source = "defensoria"
""",
        encoding="utf-8",
    )
    result = run(["run", project])
    assert result.exit_code == 0, result.output  # was: unexpected TypeError in the year blocks
    html = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert "states no licence: cite both" in html  # the sources box
    table = pd.read_csv(tmp_path / "out" / "territory_stats.csv")
    assert len(table) == 5 and table["incidents_inside"].sum() == 0


def test_oleoducto_lines_are_pipelines_measured_and_drawn(realdata: Path, tmp_path: Path) -> None:
    lines = pipeline_as_oleoducto(realdata, tmp_path)
    layers = [
        "--territories",
        realdata / DEPARTMENTS,
        "--map",
        "territories.name=NOMBDEP",
        "--parcels",
        PARCELS,
        "--infrastructure",
        lines,
    ]
    result = run(["stats", *layers, "--out", tmp_path / "out"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "out" / "territory_stats.csv").set_index("name")
    km = table["pipeline_km_inside"].fillna(0)

    # By hand: geodesic length of the route inside each department (pyproj.Geod).
    geod = Geod(ellps="WGS84")
    route = gpd.read_file(lines).geometry.to_numpy()
    departments = gpd.read_file(realdata / DEPARTMENTS)
    total = sum(geod.geometry_length(line) for line in route) / 1000
    assert total == pytest.approx(778.496, abs=1e-3)
    assert km.sum() == pytest.approx(total, rel=1e-6)  # was 0: "another kind", ignored
    for name, polygon in zip(departments["NOMBDEP"], departments.geometry, strict=True):
        inside = sum(geod.geometry_length(shapely.intersection(x, polygon)) for x in route)
        # Department edges read as geodesics by geotools, as straight lon/lat lines here.
        assert km[name] == pytest.approx(inside / 1000, abs=0.01), name
    assert km["LORETO"] == pytest.approx(269.79, abs=0.01)

    page = tmp_path / "map.html"
    mapped = run(["map", *layers, "--out", page, "--lang", "en", "--no-hexagons"])
    assert mapped.exit_code == 0, mapped.output
    html = page.read_text(encoding="utf-8")
    assert "II \\u00b7 Pipeline" in html and "ORN \\u00b7 Pipeline" in html
    assert "oleoducto" not in html


def test_lines_without_kind_name_the_file(realdata: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(
        [
            "stats",
            "--territories",
            realdata / AMW,
            "--parcels",
            PARCELS,
            "--infrastructure",
            realdata / ONP,
            "--out",
            out,
        ]
    )
    assert result.exit_code == 1
    errors = error_lines(result.output)
    assert len(errors) == 1 and str(realdata / ONP) in errors[0]
    assert "'kind'" in errors[0] and "--map infrastructure.kind=" in errors[0]
    assert not out.exists()


def test_every_territory_rejected_is_exit_1_not_empty_tables(
    realdata: Path, tmp_path: Path
) -> None:
    # The Defensoría points given as territories: every feature is a point, none a polygon.
    points = tmp_path / "points.geojson"
    points.write_bytes((realdata / DEFENSORIA.replace(".csv", ".geojson")).read_bytes())
    out = tmp_path / "out"
    result = run(["stats", "--territories", points, "--parcels", PARCELS, "--out", out])
    assert result.exit_code == 1, result.output
    errors = error_lines(result.output)
    assert len(errors) == 1 and str(points) in errors[0]
    assert (
        "81 read, all rejected" in errors[0] and "geotools validate --as territories" in errors[0]
    )
    assert not (out / "territory_stats.csv").exists()


def test_monitors_licence_reaches_bundle_readme_and_map(realdata: Path, tmp_path: Path) -> None:
    imported = tmp_path / "monitoreo.gpkg"
    done = run(["import", "monitoring", realdata / MONITORS, "--out", imported])
    assert done.exit_code == 0, done.output
    assert MONITORS_TERMS in done.output
    territories = amw_subset(realdata, tmp_path)
    layers = ["--territories", territories, "--parcels", PARCELS, "--incidents", imported]
    page = tmp_path / "map.html"
    assert run(["map", *layers, "--out", page]).exit_code == 0
    assert MONITORS_TERMS in page.read_text(encoding="utf-8")  # the sources box
    secret = tmp_path / "secret.txt"
    secret.write_text("k" * 64, encoding="utf-8")
    bundle = tmp_path / "bundle"
    # The monitors' terms require permission for record-level publishing: a bundle needs a
    # stated permission (or --aggregate-only) since branch q1; tests/realdata/
    # test_permission_terms.py checks the refusal.
    published = run(["publish", *layers, "--out", bundle, "--secret-file", secret,
                     "--permission", "incidents=FEDIQUEP, 2026-11-30"])
    assert published.exit_code == 0, published.output
    readme = (bundle / "README.md").read_text(encoding="utf-8")
    assert MONITORS_TERMS in readme
    assert MONITORS_TERMS in (bundle / "map.html").read_text(encoding="utf-8")
    package = json.loads((bundle / "datapackage.json").read_text(encoding="utf-8"))
    assert any(MONITORS_TERMS in item["title"] for item in package["licenses"])
