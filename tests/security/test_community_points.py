"""Community points are public places; their people are not (issue 14).

An adversary holding every public artefact (bundle files, map, tables) looks for the name and
phone of a community's leader, given in the community registry beside the point.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from click.testing import CliRunner
from shapely.geometry import Point

from geotools.cli import main

RAW = Path(__file__).resolve().parents[2] / "data" / "raw"
LEADER, PHONE = "Juana Quispe Secreta", "+51 999 111 222"


def _communities(path: Path) -> Path:
    territories = gpd.read_file(RAW / "territories.geojson")
    inside = territories.geometry.representative_point().iloc[0]
    gpd.GeoDataFrame(
        {
            "nombre": ["Comunidad A", "Comunidad B"],
            "etnia": ["Shipibo-Conibo", "Shipibo-Conibo"],
            "jefe_comunal": [LEADER, LEADER],
            "telefono": [PHONE, PHONE],
        },
        geometry=[inside, Point(inside.x + 0.6, inside.y)],
        crs=4326,
    ).to_file(path)
    return path


def _layers(tmp_path: Path) -> list[str]:
    return [
        "--territories", str(RAW / "territories.geojson"),
        "--concessions", str(RAW / "concessions.geojson"),
        "--incidents", str(RAW / "incidents.csv"),
        "--communities", str(_communities(tmp_path / "comunidades.geojson")),
    ]  # fmt: skip


def test_public_bundle_carries_no_leader_name_or_phone(tmp_path: Path) -> None:
    secret = tmp_path / "key.txt"
    secret.write_text("community-test-secret-0123456789abcdef", encoding="utf-8")
    out = tmp_path / "public"
    args = ["publish", *_layers(tmp_path), "--secret-file", str(secret), "--out", str(out)]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        assert LEADER.encode() not in data, path.name
        assert PHONE.encode() not in data, path.name


def test_stats_tables_name_communities_not_their_people(tmp_path: Path) -> None:
    out = tmp_path / "stats"
    args = ["stats", *_layers(tmp_path), "--out", str(out)]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Communities: 1 of 2 inside territories" in result.output
    stats = pd.read_csv(out / "community_stats.csv")
    assert stats["name"].tolist() == ["Comunidad A", "Comunidad B"]
    assert stats["in_territories"].tolist() == [1, 0]
    for name in ("community_stats.csv", "community_membership.csv"):
        text = (out / name).read_text(encoding="utf-8")
        assert LEADER not in text and PHONE not in text
