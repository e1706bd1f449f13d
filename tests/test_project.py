"""Project files: a study re-run with one command; typos refused; mappings applied."""

from __future__ import annotations

import json
import shutil

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from geotools.cli import main
from geotools.demo import find_checkout
from geotools.errors import ValidationError
from geotools.project import read_project, run_project


def test_demo_project_runs_and_matches_demo(tmp_path):
    raw = tmp_path / "data" / "raw"
    shutil.copytree(find_checkout() / "data" / "raw", raw)
    result = CliRunner().invoke(main, ["run", str(raw / "demo_project.toml")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Santa Clara de Uchunya: 200 of 8,600 ha titled (2.3 %)" in result.output
    out = tmp_path / "data" / "processed" / "project"
    table = pd.read_csv(out / "territory_stats.csv")
    # CSV hectares have 4 decimals since issue 13 (item 12): the demo parcel is 199.9996 ha.
    assert table.loc[table.name == "Santa Clara de Uchunya", "titled_ha"].item() == pytest.approx(
        200.0, abs=1e-3
    )
    assert table.loc[table.name == "Santa Clara de Uchunya", "forest_loss_ha"].item() > 5000
    assert (tmp_path / "maps" / "project_map.html").exists()
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["options"]["project"]["name"] == "Ucayali (illustrative demo data)"
    again = CliRunner().invoke(main, ["run", str(raw / "demo_project.toml")])
    assert again.exit_code == 1
    assert "--overwrite" in again.output


def write_study(tmp_path, extra: str = "") -> str:
    territories = gpd.GeoDataFrame(
        {"CODIGO_CN": ["A"], "NOMBRE_CN": ["Alfa"]},
        geometry=[shapely.box(500_000, 9_000_000, 510_000, 9_010_000)], crs=32718)
    parcels = gpd.GeoDataFrame(
        {"ID_PREDIO": ["p1", "p2"], "SITUACION": ["TITULO DE PROPIEDAD", "EN CALIFICACION"]},
        geometry=[shapely.box(500_000, 9_000_000, 502_000, 9_010_000),
                  shapely.box(502_000, 9_000_000, 503_000, 9_010_000)], crs=32718)
    pyogrio.write_dataframe(territories, tmp_path / "study.gpkg", layer="comunidades")
    pyogrio.write_dataframe(parcels, tmp_path / "study.gpkg", layer="predios", append=True)
    text = f"""
[project]
name = "Estudio"
out = "out"

[layers.territories]
path = "study.gpkg"
layer = "comunidades"
[layers.territories.mapping]
territory_id = "CODIGO_CN"
name = "NOMBRE_CN"

[layers.parcels]
path = "study.gpkg"
layer = "predios"
[layers.parcels.mapping]
parcel_id = "ID_PREDIO"
tenure = "SITUACION"
[layers.parcels.values.tenure]
"Título de propiedad" = "titled"
"En calificación" = "in_process"
{extra}
"""
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_field_and_value_mappings_from_the_project(tmp_path):
    _, run = run_project(write_study(tmp_path))
    row = run.stats.table.iloc[0]
    assert row["name"] == "Alfa"
    assert row["titled_ha"] == pytest.approx(2000, rel=2e-3)  # 20 km² in UTM 18S grid units
    assert row["in_process_ha"] == pytest.approx(1000, rel=2e-3)
    recoded = run.layers["parcels"].ledger.notes["fields"]["recoded"]["tenure"]
    assert recoded == {"EN CALIFICACION": "in_process", "TITULO DE PROPIEDAD": "titled"}
    assert (tmp_path / "out" / "territory_stats.csv").exists()


def test_typos_and_missing_layers_are_refused(tmp_path):
    with pytest.raises(ValidationError, match=r"unknown key\(s\) nearby_kms"):
        read_project(write_study(tmp_path, "[options]\nnearby_kms = 3\n"))
    path = tmp_path / "bad.toml"
    # Parcels are optional since issue 13 (item 3: no tenure source = tenure unknown); the
    # territories are still required.
    path.write_text('[layers.parcels]\npath = "x.gpkg"\n')
    with pytest.raises(ValidationError, match=r"\[layers.territories\] is required"):
        read_project(path)
    path.write_text('[layers.territories]\npath = "x.gpkg"\n')
    assert set(read_project(path).layers) == {"territories"}


def test_cli_field_mapping_option(tmp_path):
    write_study(tmp_path)
    gpkg = tmp_path / "study.gpkg"
    args = ["stats", "--territories", f"{gpkg}:comunidades", "--parcels", f"{gpkg}:predios",
            "--map", "territories.territory_id=CODIGO_CN", "--map", "parcels.parcel_id=ID_PREDIO",
            "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    bad = CliRunner().invoke(main, [*args[:-2], "--map", "nonsense", "--out", str(tmp_path / "p")])
    assert bad.exit_code == 2
    assert "LAYER.COLUMN=SOURCE" in bad.output


def test_risk_section_overrides_weights_and_refuses_typos(tmp_path):
    base = write_study(tmp_path)
    default = run_project(base)[1].stats.table.iloc[0]
    # Only tenure is scored in this study (no concessions, incidents...); doubling its weight
    # doubles its share of the total weight (0.30 -> 0.60 of 1.30).
    other = tmp_path / "heavier"
    other.mkdir()
    heavier = write_study(other, "[risk.weights]\ntenure = 0.6\n")
    score = run_project(heavier, overwrite=True)[1].stats.table.iloc[0]["risk_score"]
    assert score > default["risk_score"]
    with pytest.raises(ValidationError, match=r"\[risk\]"):
        read_project(write_study(tmp_path, "[risk]\nhalf_life = 3\n"))
