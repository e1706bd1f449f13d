"""Licence terms that require permission stop record-level publishing (branch q1).

The real indigenous monitors' sample (PUINAMUDT federations, 95 records, all ``restricted``)
goes through ``geotools import monitoring`` and ``geotools publish``: the importer records
"ask them before republishing record-level data"; a public bundle is refused without a stated
permission, written with one (the statement in README.md and datapackage.json, escaped), and
written as hexagon counts only with ``--aggregate-only``.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from click.testing import CliRunner

from geotools.cli import main

pytestmark = pytest.mark.realdata

REPO = Path(__file__).resolve().parents[2]
PARCELS = REPO / "data" / "raw" / "parcels.geojson"  # invented, far away: no tenure overlap
AMW = "amazon-mining-watch/peru_indigenous_territories_mining_impacts_v2025-11-07.geojson"
MONITORS = "observatorio-ambiental-peruano/monitoreo-indigena_sample.csv"
TERMS = "ask them before republishing record-level data"
STATEMENT = "FEDIQUEP assembly <b>Andoas</b> | `2026-11-30`"


def run(args: list[object]):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def study(realdata: Path, tmp_path: Path) -> tuple[list[object], Path]:
    """Layers of a run: the imported monitors' records and the AMW territory near them."""
    imported = tmp_path / "monitoreo.gpkg"
    done = run(["import", "monitoring", realdata / MONITORS, "--out", imported])
    assert done.exit_code == 0, done.output
    records = gpd.read_file(imported)
    territories = gpd.read_file(realdata / AMW)
    near = territories.loc[territories.intersects(records.union_all().buffer(0.5))]
    assert len(near) == 1  # one AMW territory within 0.5 degrees of the Loreto records
    path = tmp_path / "territories.geojson"
    near.to_file(path)
    secret = tmp_path / "secret.txt"
    secret.write_text("k" * 64, encoding="utf-8")
    layers: list[object] = ["--territories", path, "--parcels", PARCELS, "--incidents", imported,
                            "--secret-file", secret]
    return layers, imported


def test_bundle_refused_without_permission(study, tmp_path: Path) -> None:
    layers, _ = study
    out = tmp_path / "bundle"
    result = run(["publish", *layers, "--out", out, "--positions", tmp_path / "p.json"])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error")]
    assert len(errors) == 1  # one line: the layer, the terms and both ways out
    assert errors[0].startswith("error: incidents (monitoreo.gpkg): its terms require permission")
    assert TERMS in errors[0]
    assert '--permission incidents="who granted, when"' in errors[0]
    assert "--aggregate-only" in errors[0]
    assert not out.exists()
    assert not (tmp_path / "p.json").exists()


def test_bundle_with_permission_records_the_statement(study, tmp_path: Path) -> None:
    layers, _ = study
    out = tmp_path / "bundle"
    result = run(["publish", *layers, "--out", out, "--positions", tmp_path / "p.json",
                  "--permission", f"incidents={STATEMENT}"])
    assert result.exit_code == 0, result.output
    points = json.loads((out / "incidents.geojson").read_text(encoding="utf-8"))
    assert len(points["features"]) == 95  # all restricted: every one displaced 2-5 km
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "FEDIQUEP assembly \\<b\\>Andoas\\</b\\> \\| \\`2026-11-30\\`" in readme  # escaped
    assert "<b>" not in readme
    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    stated = [s for s in package["sources"] if s.get("permission")]
    assert stated == [{"title": "incidents: monitoreo.gpkg", "permission": STATEMENT}]
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "quien publica: FEDIQUEP assembly &lt;b&gt;Andoas&lt;/b&gt;" in page  # escaped


def test_bundle_aggregate_only_publishes_hexagon_counts(study, tmp_path: Path) -> None:
    layers, _ = study
    out = tmp_path / "bundle"
    result = run(["publish", *layers, "--out", out, "--positions", tmp_path / "p.json",
                  "--aggregate-only"])
    assert result.exit_code == 0, result.output
    assert "0 published as points (0 displaced), 95 only counted per hexagon" in result.output
    assert not (out / "incidents.geojson").exists()
    cells = json.loads((out / "incident_hexagons.geojson").read_text(encoding="utf-8"))
    counts = [f["properties"]["incidents"] for f in cells["features"]]
    shown = [int(c) for c in counts if not str(c).startswith("<")]
    # Every cell is at or above the floor of 3 or suppressed; the shown ones hold 80 of 95.
    assert min(shown) >= 3
    assert sum(shown) == 80 and len(counts) == 22
    assert 95 - sum(shown) <= 2 * (len(counts) - len(shown))


def test_map_refused_when_records_would_be_drawn(study, tmp_path: Path) -> None:
    layers, imported = study
    # Restricted records are never drawn on a public map: no refusal, only counts.
    page = tmp_path / "map.html"
    mapped = run(["map", *layers[:6], "--out", page])
    assert mapped.exit_code == 0, mapped.output
    # The same records marked public (the stored terms kept) would be drawn: refused.
    public = _public_copy(imported, tmp_path)
    base = [*layers[:4], "--incidents", public]
    refused = run(["map", *base, "--out", tmp_path / "m.html", "--tiles", tmp_path / "tiles"])
    assert refused.exit_code == 1
    assert TERMS in refused.output and "--permission incidents=" in refused.output
    assert not (tmp_path / "m.html").exists() and not (tmp_path / "tiles").exists()
    allowed = run(["map", *base, "--out", tmp_path / "m.html", "--permission",
                   f"incidents={STATEMENT}"])
    assert allowed.exit_code == 0, allowed.output
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    # The statement in the map's attribution, escaped: shown as text, never as markup.
    assert "stated by the publisher" not in page  # Spanish map by default
    assert "declarado por quien publica: FEDIQUEP assembly &lt;b&gt;Andoas&lt;/b&gt;" in page
    assert "<b>Andoas" not in page


def _public_copy(imported: Path, folder: Path) -> Path:
    """The imported records marked public, the stored terms kept (as a user's edit would)."""
    public = folder / "public.gpkg"
    frame = gpd.read_file(imported)
    frame["sensitivity"] = "public"
    meta = pyogrio.read_info(str(imported))["layer_metadata"]
    pyogrio.write_dataframe(frame, public, layer="incidents", layer_metadata=meta)
    return public


def test_project_map_refused_without_permission_key(study, tmp_path: Path) -> None:
    layers, imported = study
    public = _public_copy(imported, tmp_path)
    project = tmp_path / "study.toml"
    text = f"""
[project]
name = "Monitors"
out = "out"
map = "map.html"
[layers.territories]
path = "{layers[1]}"
[layers.parcels]
path = "{PARCELS}"
[layers.incidents]
path = "{public}"
"""
    project.write_text(text, encoding="utf-8")
    refused = run(["run", project])
    assert refused.exit_code == 1
    assert "public project map" in refused.output and TERMS in refused.output
    assert 'permission = "who granted, when" in [layers.incidents]' in refused.output
    assert not (tmp_path / "map.html").exists() and not (tmp_path / "out").exists()
    project.write_text(text + 'permission = "FEDIQUEP, 2026-11-30"\n', encoding="utf-8")
    allowed = run(["run", project])
    assert allowed.exit_code == 0, allowed.output
    assert (tmp_path / "map.html").exists()
