"""The CLI contract (DESIGN §6): outputs, exit codes, one-line errors, no overwrite, no partials."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from geotools import __version__
from geotools.cli import main


@pytest.fixture
def files(tmp_path, case):
    paths = {}
    for kind, frame in case.items():
        path = tmp_path / "in" / f"{kind}.gpkg"
        path.parent.mkdir(exist_ok=True)
        pyogrio.write_dataframe(frame, path)
        paths[kind] = path
    return paths


def args_for(files, out):
    return [
        "stats",
        "--territories",
        str(files["territories"]),
        "--parcels",
        str(files["parcels"]),
        "--concessions",
        str(files["concessions"]),
        "--incidents",
        str(files["incidents"]),
        "--out",
        str(out),
    ]


def run(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_stats_writes_the_contracted_outputs(files, tmp_path):
    out = tmp_path / "out"
    result = run(args_for(files, out))
    assert result.exit_code == 0, result.output
    for name in (
        "territory_stats.csv",
        "overlaps.csv",
        "analysis.gpkg",
        "provenance.json",
        "qa/territories.json",
        "qa/parcels.json",
    ):
        assert (out / name).exists(), name
    table = pd.read_csv(out / "territory_stats.csv")
    a = table.set_index("territory_id").loc["A"]
    assert (a.claimed_ha, a.titled_ha, a.secured_ha, a.concession_ha) == (10000, 3400, 5400, 6100)
    assert "Alfa: 3,400 of 10,000 ha titled (34.0 %)" in result.output
    assert "Outside every territory: 3 parcels (1,500.0 ha)" in result.output
    provenance = json.loads((out / "provenance.json").read_text())
    assert {i["layer"] for i in provenance["inputs"]} == {
        "territories",
        "parcels",
        "concessions",
        "incidents",
    }
    assert all(len(i["sha256"]) == 64 for i in provenance["inputs"])
    assert provenance["options"]["nearby_km"] == 5.0
    assert provenance["version"] == __version__
    assert "Albers" in provenance["area_method"]
    layers = set(pyogrio.list_layers(out / "analysis.gpkg")[:, 0])
    assert {"territory_stats", "parcels", "concessions", "incidents"} <= layers
    assert not list(out.glob(".geotools-*"))  # no staging folder left


def test_outputs_are_byte_identical_between_runs(files, tmp_path):
    for name in ("a", "b"):
        assert run(args_for(files, tmp_path / name)).exit_code == 0
    for name in ("territory_stats.csv", "overlaps.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_never_overwrites_without_flag(files, tmp_path):
    out = tmp_path / "out"
    assert run(args_for(files, out)).exit_code == 0
    before = (out / "territory_stats.csv").stat().st_mtime_ns
    again = run(args_for(files, out))
    assert again.exit_code == 1
    assert "already exist" in again.output and "--overwrite" in again.output
    assert (out / "territory_stats.csv").stat().st_mtime_ns == before
    assert run([*args_for(files, out), "--overwrite"]).exit_code == 0


def test_bad_input_is_one_line_exit_1_and_no_partial_output(files, tmp_path):
    broken = tmp_path / "in" / "broken.geojson"
    broken.write_text("{ not json")
    out = tmp_path / "out"
    args = args_for(files, out)
    args[args.index("--incidents") + 1] = str(broken)
    result = run(args)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("error")]
    assert len(lines) == 1 and "broken.geojson" in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())


def test_inputs_are_never_modified(files, tmp_path):
    before = {p: p.read_bytes() for p in files.values()}
    assert run(args_for(files, tmp_path / "out")).exit_code == 0
    assert all(p.read_bytes() == data for p, data in before.items())


def test_validate_exit_codes(files, tmp_path):
    ok = run(
        [
            "validate",
            str(files["parcels"]),
            "--as",
            "parcels",
            "--report",
            str(tmp_path / "qa.json"),
        ]
    )
    assert ok.exit_code == 0
    assert "10 read, 10 valid, 0 repaired, 0 rejected" in ok.output
    assert json.loads((tmp_path / "qa.json").read_text())["read"] == 10
    wrong = run(["validate", str(files["incidents"]), "--as", "parcels"])
    assert wrong.exit_code == 1  # points are the wrong geometry type for parcels
    assert "4 rejected" in wrong.output


def test_usage_errors_exit_2_and_version():
    assert run(["stats", "--parcels", "x"]).exit_code == 2
    assert run(["--version"]).output.strip().endswith(__version__)


def test_console_script_help_and_missing_file(tmp_path):
    exe = [sys.executable, "-m", "geotools.cli"]
    assert subprocess.run([*exe, "--help"], capture_output=True).returncode == 0
    proc = subprocess.run(
        [
            *exe,
            "stats",
            "--territories",
            str(tmp_path / "none.gpkg"),
            "--parcels",
            str(tmp_path / "none.gpkg"),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"error: {tmp_path / 'none.gpkg'}: file not found"


@pytest.mark.realdata
def test_import_command_on_real_monitoring_records(realdata, tmp_path):
    source = realdata / "observatorio-ambiental-peruano" / "monitoreo-indigena_sample.csv"
    out = tmp_path / "monitoreo.gpkg"
    result = run(["import", "monitoring", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "95 read, 95 valid, 0 repaired, 0 rejected" in result.output
    frame = pyogrio.read_dataframe(out, layer="incidents")
    assert len(frame) == 95
    assert "responsable" not in frame.columns  # the data-entry person is a personal field
    report = json.loads((tmp_path / "monitoreo.qa.json").read_text())
    assert report["notes"]["importer"]["source"] == "monitoring"
    unknown = run(["import", "facebook", str(source), "--out", str(tmp_path / "x.gpkg")])
    assert unknown.exit_code == 2


@pytest.mark.realdata
def test_locate_km_marks_on_the_real_norperuano(realdata, tmp_path):
    marks = tmp_path / "marks.csv"
    marks.write_text("km,line\nkm 41+833,ORN\n280,\n", encoding="utf-8")
    out = tmp_path / "points.geojson"
    pipeline = realdata / "observatorio-ambiental-peruano" / "oleoducto-norperuano.geojson"
    result = run(["locate-km", "--infrastructure", str(pipeline), "--marks", str(marks),
                  "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 of 2 marks located" in result.output
    assert "gap between lines" in result.output  # km 280: Tramo I is missing from the file
    features = json.loads(out.read_text())["features"]
    assert features[0]["properties"]["offset_m"] == pytest.approx(41_833.0)
    assert features[1]["geometry"] is None
    again = run(["locate-km", "--infrastructure", str(pipeline), "--marks", str(marks),
                 "--out", str(out)])
    assert again.exit_code == 1


def test_risk_weight_option(files, tmp_path):
    base = run(args_for(files, tmp_path / "a"))
    assert base.exit_code == 0
    heavy = run([*args_for(files, tmp_path / "b"), "--risk-weight", "tenure=3"])
    assert heavy.exit_code == 0, heavy.output
    a = pd.read_csv(tmp_path / "a" / "territory_stats.csv").set_index("territory_id")
    b = pd.read_csv(tmp_path / "b" / "territory_stats.csv").set_index("territory_id")
    assert b.loc["B", "risk_score"] != a.loc["B", "risk_score"]
    bad = run([*args_for(files, tmp_path / "c"), "--risk-weight", "luck=1"])
    assert bad.exit_code == 2
