"""A study of community points without territories: ``stats --communities`` and no
``--territories`` (issue 14), numbers checked by hand.

Four community points (km, in the equal-area plane of the test layers): K1 (2, 5), K2 (7, 5),
K3 (27, 5), K4 (50, 50). Oil block A covers x 0-10, y 0-10 (K1, K2 inside); block B is drawn in
two overlapping rows, x 20-30 and 25-35 (K3 inside both: counted once). Concession C1 (mining,
active) covers x 0-5, y 0-10: K1 inside, 5,000 ha. Incident I1 lies at (7, 6): 1 km from K2,
sqrt(26) = 5.10 km from K1, so nearby (5 km) K2 only. Region R1 covers x -10-15, y -10-20 (K1,
K2, C1 whole); R2 x 15-60, y -10-60 (K3, K4).

Without territories the per-territory outputs are *not analysed*: not written (as
``community_*.csv`` are not written without community points), ``region_stats.csv`` has no
territory column (not zeros), and ``provenance.json`` says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from shapely import Point

from geotools.analysis.community_study import (
    TERRITORY_OUTPUTS,
    compute_community_study,
    territories_analysed,
)
from geotools.cli import main
from geotools.errors import SourceError, ValidationError
from geotools.io import check_study_layers
from geotools.pipeline import run_publish, run_stats
from geotools.project import read_project, run_project
from tests.conftest import KM, frame, km_box


def pt(x: float, y: float) -> Point:
    return Point(x * KM, y * KM)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    layers = {
        "communities": frame(
            [
                {"community_id": "K1", "nombre": "Uno", "geometry": pt(2, 5)},
                {"community_id": "K2", "nombre": "Dos", "geometry": pt(7, 5)},
                {"community_id": "K3", "nombre": "Tres", "geometry": pt(27, 5)},
                {"community_id": "K4", "nombre": "Cuatro", "geometry": pt(50, 50)},
            ]
        ),
        "blocks": frame(
            [
                {"codigo": "A", "geometry": km_box(0, 0, 10, 10)},
                {"codigo": "B", "geometry": km_box(20, 0, 30, 10)},
                {"codigo": "B", "geometry": km_box(25, 0, 35, 10)},
            ]
        ),
        "concessions": frame(
            [
                {
                    "concession_id": "C1",
                    "kind": "mining",
                    "status": "active",
                    "geometry": km_box(0, 0, 5, 10),
                }
            ]
        ),
        "incidents": frame(
            [{"incident_id": "I1", "date": "2023-03-01", "kind": "threat", "geometry": pt(7, 6)}]
        ),
        "regions": frame(
            [
                {"region_id": "R1", "region": "Uno", "geometry": km_box(-10, -10, 15, 20)},
                {"region_id": "R2", "region": "Dos", "geometry": km_box(15, -10, 60, 60)},
            ]
        ),
        "territories": frame([{"territory_id": "T1", "geometry": km_box(1, 1, 3, 9)}]),
    }
    out = {}
    for name, layer in layers.items():
        out[name] = tmp_path / f"{name}.geojson"
        layer.to_crs(4326).to_file(out[name])
    return out


def run(args: list[str]):
    return CliRunner().invoke(main, args)


def study_args(files: dict[str, Path], out: Path) -> list[str]:
    return [
        "stats",
        "--communities", str(files["communities"]),
        "--concessions", str(files["concessions"]),
        "--incidents", str(files["incidents"]),
        "--areas", f"blocks={files['blocks']}",
        "--regions", str(files["regions"]),
        "--out", str(out),
    ]  # fmt: skip


def test_community_study_by_hand(files, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(study_args(files, out))
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert written == [
        "analysis.gpkg",
        "community_membership.csv",
        "community_polygons.csv",
        "community_stats.csv",
        "provenance.json",
        "qa",
        "region_stats.csv",
    ]
    assert sorted(p.name for p in (out / "qa").iterdir()) == [
        "areas_blocks.json",
        "communities.json",
        "concessions.json",
        "incidents.json",
    ]
    # The summary says what was analysed and what was not, and lists only what was written.
    assert "Communities: 3 of 4 inside blocks (0 more possibly inside)" in result.output
    assert "Communities: 1 of 4 inside concessions (0 more possibly inside)" in result.output
    assert (
        "Analysed: concessions (1), incidents (1), communities (4), blocks (3), regions (2)"
        in result.output
    )
    assert "Territories not analysed: no territory layer given (--territories)" in result.output
    assert (
        f"Wrote {out}/community_stats.csv, community_membership.csv, community_polygons.csv, "
        "region_stats.csv, analysis.gpkg, provenance.json, qa/" in result.output
    )
    assert "territory_stats.csv," not in result.output.split("Wrote")[-1]

    stats = pd.read_csv(out / "community_stats.csv").set_index("community_id")
    assert stats["in_blocks"].to_dict() == {"K1": 1, "K2": 1, "K3": 1, "K4": 0}  # K3 once
    assert stats["in_concessions"].to_dict() == {"K1": 1, "K2": 0, "K3": 0, "K4": 0}
    assert stats["incidents_nearby"].to_dict() == {"K1": 0, "K2": 1, "K3": 0, "K4": 0}
    assert stats["nearest_mining_km"]["K2"] == pytest.approx(2.0, abs=0.01)
    assert "territory_id" not in stats and "in_territories" not in stats
    assert stats["region_id"].to_dict() == {"K1": "R1", "K2": "R1", "K3": "R2", "K4": "R2"}

    polygons = pd.read_csv(out / "community_polygons.csv").set_index(["layer", "feature_id"])
    assert polygons["communities_inside"].to_dict() == {
        ("blocks", "A"): 2,
        ("blocks", "B"): 1,
        ("concessions", "C1"): 1,
    }
    assert polygons.loc[("blocks", "A"), "community_ids"] == "K1;K2"

    regions = pd.read_csv(out / "region_stats.csv").set_index("region_id")
    # Territory columns are not analysed: left out, never zeros.
    assert not {"territories", "claimed_ha", "titled_ha"} & set(regions.columns)
    assert regions["communities"].to_dict() == {"R1": 2, "R2": 2}
    assert regions["concession_mining_ha"].to_dict() == pytest.approx(
        {"R1": 5000.0, "R2": 0.0}, rel=1e-3
    )  # 5 km x 10 km
    assert regions["incidents"].to_dict() == {"R1": 1, "R2": 0}

    provenance = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["facts"]["territories"] is None
    said = provenance["options"]["not_analysed"]["territories"]
    assert "territory_stats.csv" in said and "not written" in said


def test_python_api_and_stale_territory_files(files, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with_territories = run([*study_args(files, out), "--territories", str(files["territories"])])
    assert with_territories.exit_code == 0, with_territories.output
    assert all((out / name).exists() for name in TERRITORY_OUTPUTS)
    # Re-run into the same folder without territories: no territory file of the earlier run
    # survives to be read as this run's.
    result = run_stats(
        {"communities": str(files["communities"])},
        out,
        overwrite=True,
        areas={"blocks": str(files["blocks"])},
    )
    assert not territories_analysed(result.stats)
    assert not any((out / name).exists() for name in TERRITORY_OUTPUTS)
    assert {p.name for p in result.written} == {
        "community_stats.csv",
        "community_membership.csv",
        "community_polygons.csv",
        "analysis.gpkg",
        "provenance.json",
        "qa",
    }
    assert result.stats.table.empty and result.stats.overlaps.empty
    assert result.stats.communities is not None
    assert (result.stats.communities.stats["in_blocks"] > 0).sum() == 3


def test_neither_territories_nor_communities_is_one_line_exit_2(files, tmp_path: Path) -> None:
    out = tmp_path / "out"
    for extra in (
        [],
        ["--concessions", str(files["concessions"]), "--incidents", str(files["incidents"])],
        ["--infrastructure", "lines.geojson"],
        ["--parcels", "parcels.geojson"],
    ):
        result = run(["stats", *extra, "--out", str(out)])
        assert result.exit_code == 2, result.output
        error = [line for line in result.output.splitlines() if line.startswith("Error:")]
        assert len(error) == 1
        assert "no --territories and no --communities" in error[0]
        assert "--territories is required" in error[0] and "--communities (community" in error[0]
        if extra[:1] == ["--concessions"]:
            assert error[0].startswith("Error: --concessions, --incidents given but no")
        if extra[:1] == ["--parcels"]:
            assert error[0].startswith("Error: --parcels given but no --territories")
    assert not out.exists()  # refused before anything was read or written


def test_parcels_and_forest_loss_need_territories(files, tmp_path: Path) -> None:
    out = tmp_path / "out"
    parcels = run([*study_args(files, out), "--parcels", str(files["blocks"])])
    assert parcels.exit_code == 2
    assert "--parcels without --territories: tenure parcels are measured per territory" in (
        parcels.output
    )
    raster = tmp_path / "loss.tif"
    raster.write_bytes(b"")
    loss = run([*study_args(files, out), "--forest-loss", str(raster)])
    assert loss.exit_code == 1
    assert "forest loss is measured per territory" in loss.output
    assert not (out / "community_stats.csv").exists()


def test_check_study_layers() -> None:
    check_study_layers(["communities", "concessions"])
    check_study_layers(["territories", "parcels"])
    with pytest.raises(SourceError, match=r"^--concessions given but no --territories"):
        check_study_layers(["concessions"])
    with pytest.raises(SourceError, match=r"^\[layers.parcels\] without \[layers.territories\]"):
        check_study_layers(["communities", "parcels"], "[layers.{kind}]")
    with pytest.raises(SourceError, match="community study takes --communities"):
        compute_community_study({})


def test_map_and_publish_say_they_need_territories(files, tmp_path: Path) -> None:
    for command, why in (
        ("map", "shades each territory"),
        ("publish", "builds its tables and map per territory"),
    ):
        out = tmp_path / ("map.html" if command == "map" else "bundle")
        result = run([command, "--communities", str(files["communities"]), "--out", str(out)])
        assert result.exit_code == 2, result.output
        assert f"Missing option '--territories': geotools {command} {why}" in result.output
        assert "geotools stats --communities FILE" in result.output
        assert not out.exists()
    with pytest.raises(SourceError, match="publish needs --territories FILE"):
        run_publish({"communities": str(files["communities"])}, tmp_path / "api")


def test_project_without_territories(files, tmp_path: Path) -> None:
    project = tmp_path / "study.toml"
    project.write_text(
        '[project]\nout = "out"\n'
        '[layers.communities]\npath = "communities.geojson"\n'
        '[layers.areas.blocks]\npath = "blocks.geojson"\n'
        '[layers.regions]\npath = "regions.geojson"\n',
        encoding="utf-8",
    )
    result = run(["run", str(project)])
    assert result.exit_code == 0, result.output
    assert "Communities: 3 of 4 inside blocks" in result.output
    assert "Analysed: communities (4), blocks (3), regions (2)" in result.output
    assert "Territories not analysed: no territory layer given" in result.output
    out = tmp_path / "out"
    assert (out / "region_stats.csv").exists() and (out / "community_polygons.csv").exists()
    assert not (out / "territory_stats.csv").exists()
    assert not (out / "risk_surface.tif").exists()  # bounded by territories: not analysed
    _, again = run_project(project, overwrite=True)
    assert again.stats.regions is not None and again.stats.regions["communities"].sum() == 4
    project.write_text(
        '[project]\nmap = "map.html"\n[layers.communities]\npath = "communities.geojson"\n',
        encoding="utf-8",
    )
    with pytest.raises(ValidationError, match=r"map = 'map.html' needs \[layers.territories\]"):
        read_project(project)
    project.write_text('[layers.concessions]\npath = "concessions.geojson"\n', encoding="utf-8")
    with pytest.raises(
        ValidationError, match=r"no \[layers.territories\] and no \[layers.communities\]"
    ):
        read_project(project)


def test_no_community_point_left_is_one_line_exit_1(tmp_path: Path) -> None:
    points = tmp_path / "null.geojson"
    points.write_text(
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {"nombre": "X"}, "geometry": null}]}',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = run(["stats", "--communities", str(points), "--out", str(out)])
    assert result.exit_code == 1
    assert f"{points}: no community point left to analyse (1 read, all rejected)" in (
        result.output
    )
    assert not out.exists()
