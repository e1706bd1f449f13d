"""Copies, parts, weights, legal area and unknown tenure on a hand-computed case (issue 13,
items 3, 6 and 15), through a project file and ``geotools run``.

Boxes in PERU_ALBERS (equal-area): a 1 km square is exactly 100 true hectares.

- T1 "Uno": (0,0)-(2,1) km = 200 ha, legal titled area 190 ha (-> +5.3 %, not flagged).
- T1b "Uno" again, an exact copy of T1 under another id: one row.
- T2 "Dos", two parts (4,0)-(5,1) and (6,0)-(7,1) = 100 + 100 ha, legal area 100 ha on both
  parts: grouped by name, one territory of 200 ha (+100 % against the legal area, flagged).
- T3 "Tres": (0,2)-(1,3) = 100 ha, legal area 0 (unknown), same polygon as nothing else.
- Detection D1 (1,0)-(5,1) = 400 ha carrying 40 mined ha: 100 ha inside T1, 100 ha inside T2
  (first part) -> 10 mined ha each. D2 (6.5,0)-(7.5,1) carries 8: half inside T2 -> 4.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from geotools.cli import main
from tests.conftest import frame, km_box


def write_project(tmp_path, parcels: bool) -> str:
    territories = frame(
        [
            {"CODE": "T1", "NAME": "Uno", "AREA_LEG": 190.0, "geometry": km_box(0, 0, 2, 1)},
            {"CODE": "T1b", "NAME": "Uno", "AREA_LEG": 190.0, "geometry": km_box(0, 0, 2, 1)},
            {"CODE": "T2", "NAME": "Dos", "AREA_LEG": 100.0, "geometry": km_box(4, 0, 5, 1)},
            {"CODE": "T2x", "NAME": "Dos", "AREA_LEG": 100.0, "geometry": km_box(6, 0, 7, 1)},
            {"CODE": "T3", "NAME": "Tres", "AREA_LEG": 0.0, "geometry": km_box(0, 2, 1, 3)},
        ]
    )
    detections = frame(
        [
            {"ID": "D1", "MINED_HA": 40.0, "geometry": km_box(1, 0, 5, 1)},
            {"ID": "D2", "MINED_HA": 8.0, "geometry": km_box(6.5, 0, 7.5, 1)},
        ]
    )
    pyogrio.write_dataframe(territories, tmp_path / "t.gpkg")
    pyogrio.write_dataframe(detections, tmp_path / "d.gpkg")
    text = """
[project]
name = "partes"
out = "out"

[layers.territories]
path = "t.gpkg"
group_by = "NAME"
[layers.territories.mapping]
territory_id = "CODE"
name = "NAME"
legal_titled_ha = "AREA_LEG"

[layers.concessions]
path = "d.gpkg"
weight = "MINED_HA"
[layers.concessions.mapping]
concession_id = "ID"
"""
    if parcels:
        pyogrio.write_dataframe(
            frame([{"parcel_id": "P", "tenure": "titled", "geometry": km_box(0, 0, 1, 1)}]),
            tmp_path / "p.gpkg",
        )
        text += '\n[layers.parcels]\npath = "p.gpkg"\n'
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def run_study(tmp_path, parcels: bool) -> tuple[pd.DataFrame, pd.DataFrame, dict, str]:
    result = CliRunner().invoke(
        main, ["run", write_project(tmp_path, parcels)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    table = pd.read_csv(out / "territory_stats.csv").set_index("territory_id")
    overlaps = pd.read_csv(out / "overlaps.csv")
    provenance = json.loads((out / "provenance.json").read_text())
    return table, overlaps, provenance, result.output


def test_project_groups_parts_weights_and_leaves_tenure_unknown(tmp_path):
    table, overlaps, provenance, output = run_study(tmp_path, parcels=False)
    assert list(table.index) == ["T1", "T2", "T3"]  # copy T1b merged, part T2x grouped
    assert table.loc["T1", "claimed_ha"] == pytest.approx(200.0, abs=1e-4)
    assert table.loc["T2", "claimed_ha"] == pytest.approx(200.0, abs=1e-4)
    # Legal area beside the drawn one (0 = unknown).
    assert table.loc["T1", "legal_titled_ha"] == 190.0
    assert table.loc["T1", "drawn_vs_legal_pct"] == pytest.approx(100 * 10 / 190, abs=0.01)
    assert not table.loc["T1", "legal_area_differs"]
    assert table.loc["T2", "drawn_vs_legal_pct"] == pytest.approx(100.0, abs=0.01)
    assert table.loc["T2", "legal_area_differs"]
    assert pd.isna(table.loc["T3", "legal_titled_ha"])
    assert pd.isna(table.loc["T3", "legal_area_differs"])
    # Mined hectares pro-rated by the share of each detection inside.
    assert table.loc["T1", "prorated_mined_ha"] == pytest.approx(10.0, abs=1e-4)
    assert table.loc["T2", "prorated_mined_ha"] == pytest.approx(10.0 + 4.0, abs=1e-4)
    assert table.loc["T3", "prorated_mined_ha"] == 0.0
    pairs = overlaps.set_index(["territory_id", "concession_id"])["prorated_mined_ha"]
    assert pairs.to_dict() == pytest.approx(
        {("T1", "D1"): 10.0, ("T2", "D1"): 10.0, ("T2", "D2"): 4.0}, abs=1e-4
    )
    # No parcel layer: tenure unknown, never 0.
    assert table[["titled_ha", "secured_ha", "untitled_ha", "untitled_pct"]].isna().all().all()
    assert table["risk_missing"].str.contains("tenure").all()
    assert "Uno: 200 ha claimed, tenure unknown" in output
    # The union, counted once: 200 + 200 + 100 ha.
    total = provenance["facts"]["claimed_total"]
    assert total["union_ha"] == pytest.approx(500.0, abs=1e-3)
    assert total["double_counted_ha"] == pytest.approx(0.0, abs=1e-3)
    qa = json.loads((tmp_path / "out" / "qa" / "territories.json").read_text())
    assert (qa["read"], qa["valid"], qa["merged"]) == (5, 3, 2)


def test_with_parcels_tenure_is_measured(tmp_path):
    table, overlaps, _, output = run_study(tmp_path, parcels=True)
    assert table.loc["T1", "titled_ha"] == pytest.approx(100.0, abs=1e-4)
    assert table.loc["T2", "titled_ha"] == 0.0  # measured: no parcel there
    assert "Uno: 100 of 200 ha titled (50.0 %)" in output
    assert overlaps["on_untitled_ha"].notna().all()


def test_group_by_and_weight_belong_to_their_layers(tmp_path):
    path = Path(write_project(tmp_path, parcels=False))
    text = path.read_text(encoding="utf-8").replace('weight = "MINED_HA"', 'group_by = "ID"')
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(path)])
    assert result.exit_code == 1
    assert "[layers.concessions] group_by applies to territories only" in result.output


def test_validate_groups_parts_as_stats_does(tmp_path):
    """``validate --group-territories`` reports what stats/map/publish do with the option."""
    write_project(tmp_path, parcels=False)
    layer = ["--as", "territories", "--map", "territories.territory_id=CODE"]
    runner = CliRunner()
    plain = runner.invoke(main, ["validate", str(tmp_path / "t.gpkg"), *layer])
    assert plain.exit_code == 0, plain.output
    assert "5 read, 4 valid, 0 repaired, 0 rejected, 1 merged into other rows" in plain.output
    report = tmp_path / "qa.json"
    grouped = runner.invoke(
        main,
        ["validate", str(tmp_path / "t.gpkg"), *layer, "--group-territories", "NAME",
         "--report", str(report)],
    )
    assert grouped.exit_code == 0, grouped.output
    assert "5 read, 3 valid, 0 repaired, 0 rejected, 2 merged into other rows" in grouped.output
    qa = json.loads(report.read_text())
    assert (qa["read"], qa["valid"], qa["merged"]) == (5, 3, 2)
    assert qa["notes"]["grouped_by"] == "name"
    stats = runner.invoke(
        main,
        ["stats", "--territories", str(tmp_path / "t.gpkg"), *layer[2:],
         "--group-territories", "NAME", "--out", str(tmp_path / "out")],
    )
    assert stats.exit_code == 0, stats.output
    same = json.loads((tmp_path / "out" / "qa" / "territories.json").read_text())
    assert (same["read"], same["valid"], same["merged"]) == (5, 3, 2)
    # Only territories are grouped; an unknown column lists the columns there are.
    wrong = runner.invoke(
        main, ["validate", str(tmp_path / "d.gpkg"), "--as", "concessions",
               "--group-territories", "ID"]
    )
    assert wrong.exit_code == 2
    assert "--as territories" in wrong.output
    missing = runner.invoke(
        main, ["validate", str(tmp_path / "t.gpkg"), *layer, "--group-territories", "NOPE"]
    )
    assert missing.exit_code == 1
    assert "no column 'NOPE' to group territories by; use one of" in missing.output
    assert "--group-territories COLUMN" in runner.invoke(main, ["validate", "--help"]).output
