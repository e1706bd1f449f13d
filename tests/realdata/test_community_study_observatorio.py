"""The Observatorio figures with no territory layer: a community study from the command line.

A new user asking "which communities lie in oil block 108" has the native-community registry
(1,600 points), the oil blocks and the protected areas, and the INEI departments; no territory
polygons. ``geotools stats --communities ... --areas blocks=... --areas protected=... --regions
...`` gives the figures of ``superposicion.json`` (423 of 1,600 inside oil blocks; block 108 ->
165, 116 -> 81, 103 -> 53, 123 -> 17; 30 inside protected areas), the same as the run with the
reserves as territories (``test_areas_observatorio_cli.py``): the territories play no part in
them. The per-territory files are not analysed, so not written, and ``region_stats.csv`` has no
territory column. Every figure is exact.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from geotools.cli import main

pytestmark = pytest.mark.realdata

OAP = "observatorio-ambiental-peruano"


def test_community_study_without_territories(realdata: Path, tmp_path: Path) -> None:
    src = realdata / OAP
    expected = json.loads((src / "superposicion.json").read_text(encoding="utf-8"))
    cruces = {c["id"]: c for c in expected["cruces"]}
    out = tmp_path / "obs"
    result = CliRunner().invoke(
        main,
        [
            "stats",
            "--communities", str(src / "comunidades-nativas.geojson"),
            "--areas", f"blocks={src / 'lotes-petroleros.geojson'}",
            "--areas", f"protected={src / 'anp-sernanp.geojson'}",
            "--regions", str(realdata / "peru-geojson-inei" / "peru_departamental_simple.geojson"),
            "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Communities: 423 of 1,600 inside blocks (0 more possibly inside)" in result.output
    assert "Communities: 30 of 1,600 inside protected (0 more possibly inside)" in result.output
    assert "Analysed: communities (1,600), blocks (78), protected (103), regions (25)" in (
        result.output
    )
    assert "Territories not analysed" in result.output
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "analysis.gpkg",
        "community_membership.csv",
        "community_polygons.csv",
        "community_stats.csv",
        "provenance.json",
        "qa",
        "region_stats.csv",
    ]

    stats = pd.read_csv(out / "community_stats.csv", dtype={"region_id": str})
    assert len(stats) == cruces["comunidades_lotes"]["de"] == 1600
    assert (stats["in_blocks"] > 0).sum() == cruces["comunidades_lotes"]["valor"] == 423
    assert (stats["in_protected"] > 0).sum() == cruces["comunidades_anp"]["valor"] == 30
    assert "territory_id" not in stats

    polygons = pd.read_csv(out / "community_polygons.csv", dtype={"feature_id": str})
    blocks = polygons[polygons["layer"] == "blocks"].set_index("feature_id")
    assert len(blocks) == 64  # 78 rows, 64 blocks: a block drawn in parts is one row
    top = blocks["communities_inside"].sort_values(ascending=False, kind="mergesort").head(4)
    assert top.to_dict() == {"108": 165, "116": 81, "103": 53, "123": 17}
    assert {t["lote"]: t["comunidades"] for t in expected["topLotes"]}["108"] == 165
    assert len(blocks.loc["108", "community_ids"].split(";")) == 165
    # The department of its largest share: checked apart in UTM 18S, 925,137 of the block's
    # 1,241,683 ha lie in Junín (then Pasco 158,603, Ayacucho 100,743, Cusco, Ucayali).
    assert blocks.loc["108", "region"] == "JUNIN"
    protected = polygons[polygons["layer"] == "protected"]
    assert protected["communities_inside"].sum() == 30

    regions = pd.read_csv(out / "region_stats.csv", dtype={"region_id": str})
    assert list(regions.columns) == ["region_id", "region", "communities", "communities_uncertain"]
    assert len(regions) == 25
    # Exact points: none uncertain. 1,598 lie in a department; two, on the Putumayo (the
    # Colombian border), lie 1.5 km and 0.6 km outside the simplified national outline of
    # peru_departamental_simple (measured apart in UTM 18S): outside every region, said so.
    assert regions["communities"].sum() == 1598 and regions["communities_uncertain"].sum() == 0
    outside = stats[stats["region_relation"] != "inside"]
    assert outside["name"].tolist() == ["Yabuyanos", "Santa Mercedes"]
    assert set(outside["region_relation"]) == {"outside"} and outside["region"].isna().all()
    by_name = regions.set_index("region")["communities"]
    # The same department counts as the run with territories (docs/cookbook.md).
    assert by_name["LORETO"] == 580 and by_name["UCAYALI"] == 321 and by_name["CUSCO"] == 74
    assert (stats.groupby("region")["community_id"].count() == by_name[by_name > 0]).all()

    provenance = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["facts"]["territories"] is None
    assert "territory_stats.csv" in provenance["options"]["not_analysed"]["territories"]
    assert {i["layer"] for i in provenance["inputs"]} == {
        "communities",
        "areas_blocks",
        "areas_protected",
    }
