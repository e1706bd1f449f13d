"""Byte-identical maps (issue 11, class 8): the same inputs give the same ``map.html``.

branca names every element with a random id (``urandom``), so two runs differed in dozens of
places and a bundle's ``SHA256SUMS`` changed on every publish. The page now numbers the ids in
the order of the element tree; the counter belongs to one page, so building other maps in
between changes nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from click.testing import CliRunner
from shapely import Point, box

from geotools.cli import main
from geotools.maps import build_map

#: An element id as branca writes it: 32 hexadecimal digits after the element's name.
ELEMENT_ID = re.compile(r"_([0-9a-f]{32})\b")


@pytest.fixture(scope="module")
def layers() -> dict[str, gpd.GeoDataFrame]:
    territories = gpd.GeoDataFrame(
        {
            "territory_id": ["T1", "T2"],
            "name": ["Santa Clara de Uchunya", "Nueva Requena"],
            "claimed_ha": [8600.0, 1200.0],
            "titled_ha": [200.0, 1000.0],
            "risk_class": ["critical", "low"],
            "risk_score": [80.0, 12.0],
        },
        geometry=[box(-74.8, -8.5, -74.7, -8.4), box(-74.7, -8.5, -74.6, -8.4)],
        crs=4326,
    )
    incidents = gpd.GeoDataFrame(
        {
            "incident_id": ["I1", "I2"],
            "date": ["2016-01-01", "2017-09-01"],
            "kind": ["threat", "killing"],
            "sensitivity": ["public", "public"],
        },
        geometry=[Point(-74.75, -8.45), Point(-74.65, -8.45)],
        crs=4326,
    )
    return {"territories": territories, "incidents": incidents}


def render(layers: dict[str, gpd.GeoDataFrame], lang: str = "es") -> str:
    return build_map(**layers, lang=lang, sources=["x"]).get_root().render()


def test_two_builds_give_the_same_bytes(layers: dict[str, gpd.GeoDataFrame]) -> None:
    assert render(layers) == render(layers)


def test_other_maps_built_in_between_change_nothing(layers: dict[str, gpd.GeoDataFrame]) -> None:
    first = render(layers)
    other = build_map(layers["territories"].iloc[:1], lang="en")  # more elements numbered...
    other.get_root().render()
    assert render(layers) == first  # ...in their own page only


def test_rendering_a_map_again_gives_the_same_page(layers: dict[str, gpd.GeoDataFrame]) -> None:
    m = build_map(**layers, lang="en")
    page = m.get_root().render()
    assert m.get_root().render() == page
    assert page.count(".addTo(map_") == m.get_root().render().count(".addTo(map_")


def test_every_element_id_is_numbered_and_names_match_the_page(
    layers: dict[str, gpd.GeoDataFrame],
) -> None:
    m = build_map(**layers, lang="en")
    page = m.get_root().render()
    ids = {int(found, 16) for found in ELEMENT_ID.findall(page)}
    assert ids and max(ids) < 1000  # a counter, not random ids
    assert f"var {m.get_name()} = L.map(" in page  # names read in Python are the page's


def test_two_map_commands_write_the_same_file(case, tmp_path: Path) -> None:
    paths = []
    for kind, frame in case.items():
        path = tmp_path / f"{kind}.gpkg"
        pyogrio.write_dataframe(frame, path)
        paths += [f"--{kind}", str(path)]
    pages = []
    for run in ("a", "b"):
        out = tmp_path / run / "map.html"
        out.parent.mkdir()
        result = CliRunner().invoke(main, ["map", *paths, "--out", str(out)])
        assert result.exit_code == 0, result.output
        pages.append(out.read_bytes())
    assert pages[0] == pages[1]


def test_two_publish_runs_list_the_same_map_checksum(case, tmp_path: Path) -> None:
    """The map's line of SHA256SUMS is stable (the GeoPackage is another part's: not checked)."""
    paths = []
    for kind, frame in case.items():
        path = tmp_path / f"{kind}.gpkg"
        if kind == "incidents":  # public: the case's points sit on parcel corners
            frame = frame.assign(sensitivity="public")
        pyogrio.write_dataframe(frame, path)
        paths += [f"--{kind}", str(path)]
    sums = []
    for run in ("a", "b"):
        out = tmp_path / run
        result = CliRunner().invoke(
            main,
            ["publish", *paths, "--out", str(out)],
            env={
                "GEOTOOLS_PUBLISH_SECRET": "test-secret-0123456789abcdef",
                "GEOTOOLS_PUBLISH_POSITIONS": str(tmp_path / "positions.json"),
            },
        )
        assert result.exit_code == 0, result.output
        lines = (out / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
        sums.append([line for line in lines if line.endswith("map.html")])
    assert len(sums[0]) == 1
    assert sums[0] == sums[1]
