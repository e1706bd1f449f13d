"""Community points are public places; their people are not (issue 14).

An adversary holding every public artefact (bundle files, map, tables) looks for the name and
phone of a community's leader, given in the community registry beside the point.
"""

from __future__ import annotations

import html.parser
import json
import re
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


class _Parsed(html.parser.HTMLParser):
    """Text nodes and tags of an HTML fragment, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


def _popups(page: str) -> list[str]:
    """The community popups as the page's script assembles them (CommunityMarkers)."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"var D = ", page):
        data, _ = decoder.raw_decode(page, match.end())
        if "pts" in data:
            break
    else:
        raise AssertionError("no community layer")
    out = []
    for i, p in enumerate(data["pts"]):
        rows = data["terr"][i] + "".join(
            f"<tr><th>{label}</th><td>{v}</td></tr>"
            for label, v in zip(data["labels"], data["values"][i], strict=True)
            if v is not None
        )
        people = f"<div>{data['people'][p[3]]}</div>" if p[3] >= 0 else ""
        out.append(
            f"<div>{data['names'][i]}</div>{people}<table>{rows}</table>{data['inside'][i]}"
            f"<div>{data['approx'][i]}</div>"
        )
    return out + data["names"]  # the tooltips are the names


def test_hostile_community_names_are_shown_as_text_and_never_run(tmp_path: Path) -> None:
    """A registry row whose name, people and river carry markup, a script end tag and template
    code (one creating a file if evaluated), next to a territory and a concession holder doing
    the same: the map shows each literally and runs nothing."""
    canary = tmp_path / "ran"
    builtins = "lipsum.__globals__.__builtins__"
    name = f"{builtins}.bytes({list(str(canary).encode())}).decode()".replace(" ", "")
    run_code = f"{{{{ {builtins}.open({name},{builtins}.bytes([119]).decode()).close() }}}}"
    hostile = {
        "nombre": '</script><img src=x onerror=alert(1)> Q7{{ 7*7 }}Q7 "Nuevo" \\u003c',
        "etnia": "<script>alert(2)</script>{% if 1 %}yes{% endif %}",
        "rio": run_code,
    }
    territories = gpd.read_file(RAW / "territories.geojson")
    inside = territories.geometry.representative_point().iloc[0]
    path = tmp_path / "comunidades.geojson"
    gpd.GeoDataFrame(
        {key: [value, "Plain"] for key, value in hostile.items()},
        geometry=[inside, Point(inside.x + 0.3, inside.y)],
        crs=4326,
    ).to_file(path)
    territories.loc[0, "name"] = "<b>T</b> {{ 7*7 }}"
    territories.to_file(tmp_path / "territories.geojson")
    out = tmp_path / "map.html"
    args = [
        "map", "--territories", str(tmp_path / "territories.geojson"),
        "--concessions", str(RAW / "concessions.geojson"), "--communities", str(path),
        "--lang", "en", "--out", str(out),
    ]  # fmt: skip
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert not canary.exists()
    assert "Q749Q7" not in page
    scripts = "".join(re.findall(r"<script>(.*?)</script>", page, re.DOTALL))
    assert "{{" not in scripts and "{%" not in scripts
    parsed = []
    for fragment in _popups(page):
        parser = _Parsed()
        parser.feed(fragment)
        parser.close()
        parsed.append(parser)
    tags = {tag for p in parsed for tag in p.tags}
    assert not tags & {"script", "img", "iframe", "style"}, tags
    text = "\0".join(t for p in parsed for t in p.texts)
    for value in [*hostile.values(), "<b>T</b> {{ 7*7 }}"]:
        assert value in text, value
