"""The Observatorio figures from the command line and the written CSVs (issue 14).

``geotools stats --communities comunidades-nativas.geojson --areas protected=anp-sernanp.geojson
--areas blocks=lotes-petroleros.geojson`` over the Observatorio Ambiental Peruano files; the
figures of ``superposicion.json`` are read back from ``community_stats.csv``,
``community_membership.csv`` and ``community_polygons.csv``: 423 of the 1,600 native
communities inside oil blocks, block 108 -> 165 (then 116 -> 81, 103 -> 53, 123 -> 17), 30
inside protected areas. The blocks are also given as ``--concessions`` (kind ``oil_gas``): the
same 423, so the two routes agree. Every figure is exact; why no point near a long block edge
changes it is in ``test_communities_observatorio.py``.
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


def test_observatorio_figures_from_the_cli(realdata: Path, tmp_path: Path) -> None:
    src = realdata / OAP
    expected = json.loads((src / "superposicion.json").read_text(encoding="utf-8"))
    cruces = {c["id"]: c for c in expected["cruces"]}
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "stats",
            "--territories", str(src / "reservas-territoriales.geojson"),
            "--concessions", str(src / "lotes-petroleros.geojson"),
            "--default", "concessions.kind=oil_gas",
            "--communities", str(src / "comunidades-nativas.geojson"),
            "--areas", f"protected={src / 'anp-sernanp.geojson'}",
            "--areas", f"blocks={src / 'lotes-petroleros.geojson'}",
            "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Communities: 423 of 1,600 inside blocks (0 more possibly inside)" in result.output
    assert "Communities: 30 of 1,600 inside protected (0 more possibly inside)" in result.output
    assert "protected (anp-sernanp.geojson): 103 read, 91 valid, 12 repaired, 0 rejected" in (
        result.output
    )

    stats = pd.read_csv(out / "community_stats.csv")
    assert len(stats) == cruces["comunidades_lotes"]["de"] == 1600
    assert (stats["in_blocks"] > 0).sum() == cruces["comunidades_lotes"]["valor"] == 423
    assert (stats["in_concessions"] > 0).sum() == 423  # the same blocks as concessions
    assert (stats["in_protected"] > 0).sum() == cruces["comunidades_anp"]["valor"] == 30
    assert (stats.loc[stats["in_protected"] > 0, "nearest_protected_km"] == 0).all()

    membership = pd.read_csv(out / "community_membership.csv", dtype={"feature_id": str})
    by_layer = membership.groupby("layer")["community_id"].nunique().to_dict()
    assert by_layer["blocks"] == 423 and by_layer["protected"] == 30
    assert set(membership["relation"]) == {"inside"}

    polygons = pd.read_csv(out / "community_polygons.csv", dtype={"feature_id": str})
    blocks = polygons[polygons["layer"] == "blocks"].set_index("feature_id")
    # 78 rows, 64 blocks: 9 are drawn in several parts (8 in five); one row per block.
    assert len(blocks) == 64 and not blocks.index.str.contains("#").any()
    assert blocks.loc["108", "communities_inside"] == 165
    top = blocks["communities_inside"].sort_values(ascending=False, kind="mergesort").head(4)
    assert top.to_dict() == {"108": 165, "116": 81, "103": 53, "123": 17}
    assert {t["lote"]: t["comunidades"] for t in expected["topLotes"]}["108"] == 165
    assert len(blocks.loc["108", "community_ids"].split(";")) == 165
    protected = polygons[polygons["layer"] == "protected"].set_index("feature_id")
    # 103 rows, 94 areas (anp_codi); no community lies in two protected areas.
    assert len(protected) == 94 and protected["communities_inside"].sum() == 30
    assert protected.loc["RN08", "name"] == "Pacaya-Samiria"  # 17 of the 30
    assert protected.loc["RN08", "communities_inside"] == 17
    assert protected.loc["RN08", "kind"] == "Reserva Nacional"
