"""Vector tiles of a run (issue 15 item 6): ``geotools map --tiles DIR``.

The archives are read back with GDAL (pyogrio): one layer each, the expected features at the
highest zoom, and only allow-listed properties. What a public archive must never hold (a
personal field, a restricted or confidential incident) is in
tests/security/test_tile_privacy.py; the viewer in a browser is in tests/test_browser.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from _tile_study import HOSTILE, write_study
from click.testing import CliRunner
from shapely.geometry import Point

from geotools.cli import main
from geotools.maps import ASSETS, TILE_PROPERTIES
from geotools.maps.tiles import DENSE_INCIDENTS, TILE_MAXZOOM, layer_minzoom
from geotools.maps.tiles_viewer import VIEWER_ASSETS, build_viewer_page, json_for_script
from geotools.outputs import MARKER


def run_map(*args: str) -> str:
    result = CliRunner().invoke(main, ["map", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def read_layer(path: Path, zoom: int = TILE_MAXZOOM) -> gpd.GeoDataFrame:
    """Every feature piece of the archive's one layer at ``zoom`` (EPSG:3857, clipped to
    tiles: a polygon over several tiles is several pieces)."""
    layers = pyogrio.list_layers(path)
    assert [str(name) for name, _ in layers] == [path.stem]
    return pyogrio.read_dataframe(path, layer=path.stem, ZOOM_LEVEL=zoom)


@pytest.fixture(scope="module")
def public_tiles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiles")
    out = root / "site"
    run_map(*write_study(root / "in"), "--lang", "en", "--basemap", "none", "--tiles", str(out))
    return out


def test_one_archive_per_layer_with_the_expected_features(public_tiles: Path) -> None:
    names = sorted(p.name for p in public_tiles.iterdir())
    assert names == sorted([
        MARKER, "concessions.pmtiles", "hexagons.pmtiles", "incidents.pmtiles", "index.html",
        "parcels.pmtiles", "territories.pmtiles",
    ])
    territories = read_layer(public_tiles / "territories.pmtiles")
    assert set(territories["territory_id"]) == {"T1", "T2"}
    assert set(territories["name"]) == {HOSTILE, "Comunidad Dos"}  # the text, unchanged
    assert set(read_layer(public_tiles / "parcels.pmtiles")["parcel_id"]) == {"P1"}
    concessions = read_layer(public_tiles / "concessions.pmtiles")
    assert set(concessions["holder"]) == {"Minera Ejemplo S.A.C."}
    incidents = read_layer(public_tiles / "incidents.pmtiles")
    assert incidents["incident_id"].tolist() == ["I1"]  # points are one piece each
    assert incidents["description"].tolist() == ["Amenaza en la trocha"]
    assert incidents["date"].tolist() == ["2024-01-05"]
    assert incidents["exact"].tolist() == [1]
    # The point is where it was, to the tile grid: at zoom 10 a unit is 360 / 2**22 degrees
    # (8.6e-5, about 9.6 m), so at most half a unit off on each axis.
    point = incidents.to_crs(4326).geometry.iloc[0]
    assert point.distance(Point(-74.55, -9.55)) < 0.5 * 2**0.5 * 360 / 2**22 + 1e-9


def test_properties_are_the_allow_list_only(public_tiles: Path) -> None:
    for path in public_tiles.glob("*.pmtiles"):
        fields = set(pyogrio.read_info(path, layer=path.stem)["fields"]) - {"mvt_id"}
        assert fields <= set(TILE_PROPERTIES[path.stem]), path.name
    parcels = pyogrio.read_info(public_tiles / "parcels.pmtiles", layer="parcels")
    assert "owner_phone" not in parcels["fields"]


def test_territory_figures_are_the_public_view_and_hand_checked(public_tiles: Path) -> None:
    frame = read_layer(public_tiles / "territories.pmtiles").drop_duplicates("territory_id")
    rows = frame.set_index("territory_id")
    # T1 holds the public incident I1 (I2, restricted, is not counted on a public map);
    # T2 holds only the confidential I3 and the unmarked I4: none inside.
    assert rows.loc["T1", "incidents_inside"] == 1
    assert rows.loc["T2", "incidents_inside"] == 0
    # P1 is a quarter of T1 (0.05 x 0.05 of 0.1 x 0.1 degrees): 25 % titled, one decimal.
    assert rows.loc["T1", "titled_pct"] == pytest.approx(25.0, abs=0.1)
    # T1 is about 0.1 x 0.1 degrees at 9.55 S: 11.06 km x 10.97 km, about 12,130 ha.
    assert rows.loc["T1", "claimed_ha"] == pytest.approx(12_130, rel=0.005)
    assert rows.loc["T1", "risk_class"] in {"low", "medium", "high", "critical"}


def test_zoom_range_is_written(public_tiles: Path) -> None:
    meta = pyogrio.read_info(public_tiles / "territories.pmtiles", layer="territories")
    assert meta["dataset_metadata"]["minzoom"] == "0"
    assert meta["dataset_metadata"]["maxzoom"] == str(TILE_MAXZOOM)
    assert meta["dataset_metadata"]["name"] == "geotools territories"
    # A low zoom still holds both territories (simplified), for the national view.
    assert set(read_layer(public_tiles / "territories.pmtiles", 3)["territory_id"]) == {"T1", "T2"}


def test_viewer_page_carries_no_data_text_and_escapes_the_title(tmp_path: Path) -> None:
    out = tmp_path / "site"
    run_map(*write_study(tmp_path / "in"), "--tiles", str(out), "--title", HOSTILE,
            "--basemap", "none")
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "Minera Ejemplo" not in page and "Comunidad Dos" not in page
    assert "<img" not in page and "</script>\n<" not in page.split('id="gt-config">')[1][:3000]
    assert "<title>&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in page
    config = page.split('<script type="application/json" id="gt-config">')[1]
    config = config.split("</script>")[0]
    assert "<" not in config and ">" not in config
    assert json.loads(config)["title"] == HOSTILE
    # The sources box names the layers in the viewer's language (Spanish by default).
    assert json.loads(config)["sources"][:3] == [
        "Territorios: t.geojson", "Predios: p.geojson", "Concesiones: c.geojson"
    ]
    # Online viewer: pinned CDN copies that the asset table knows (and can serve in tests).
    urls = re.findall(r'(?:src|href)="(https://[^"]+)"', page)
    assert sorted(urls) == sorted(VIEWER_ASSETS.values())
    assert all(url in ASSETS for url in urls)
    assert "tile.openstreetmap.org" not in page  # --basemap none


def test_json_for_script_cannot_close_the_element() -> None:
    text = json_for_script({"a": "</script><!-- & x"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><!-- & x"}


def test_tiles_alone_or_with_the_html_map_and_usage_errors(tmp_path: Path) -> None:
    args = write_study(tmp_path / "in")
    result = CliRunner().invoke(main, ["map", *args])
    assert result.exit_code == 2 and "--tiles" in result.output
    html, tiles = tmp_path / "map.html", tmp_path / "tiles"
    output = run_map(*args, "--out", str(html), "--tiles", str(tiles), "--no-hexagons")
    assert html.is_file() and (tiles / "index.html").is_file()
    assert not (tiles / "hexagons.pmtiles").exists()
    assert "Wrote 4 PMTiles archive(s)" in output


def test_existing_tiles_need_overwrite_and_stale_layers_go(tmp_path: Path) -> None:
    out = tmp_path / "tiles"
    run_map(*write_study(tmp_path / "in"), "--tiles", str(out), "--no-hexagons")
    assert (out / "parcels.pmtiles").is_file()
    again = CliRunner().invoke(main, ["map", *write_study(tmp_path / "in"), "--tiles", str(out)])
    assert again.exit_code == 1 and "--overwrite" in again.output
    run_map(*write_study(tmp_path / "in", parcels=False), "--tiles", str(out), "--overwrite",
            "--no-hexagons")
    assert not (out / "parcels.pmtiles").exists()  # no stale layer from the earlier run
    assert (out / "territories.pmtiles").is_file()


def test_dense_incident_layers_start_at_zoom_6_with_a_notice() -> None:
    assert layer_minzoom("incidents", DENSE_INCIDENTS) == 0
    assert layer_minzoom("incidents", DENSE_INCIDENTS + 1) == 6
    assert layer_minzoom("territories", 10**6) == 0
    points = gpd.GeoDataFrame({"kind": ["threat"]}, geometry=[Point(-74.5, -9.5)], crs=4326)
    page = build_viewer_page({"incidents": points}, lang="en", minzooms={"incidents": 6})
    config = json.loads(page.split('id="gt-config">')[1].split("</script>")[0])
    assert config["style"]["sources"]["incidents"]["minzoom"] == 6
    assert any("from zoom level 6" in note for note in config["notes"])


def test_same_inputs_give_byte_identical_tiles(tmp_path: Path) -> None:
    args = write_study(tmp_path / "in")
    for name in ("a", "b"):
        run_map(*args, "--tiles", str(tmp_path / name))
    first = {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()}
    second = {p.name: p.read_bytes() for p in (tmp_path / "b").iterdir()}
    assert first == second


def test_a_symlinked_tile_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "tiles"
    link.symlink_to(target, target_is_directory=True)
    result = CliRunner().invoke(main, ["map", *write_study(tmp_path / "in"), "--tiles", str(link)])
    assert result.exit_code == 1 and "link" in result.output
    assert list(target.iterdir()) == []


def test_legend_lists_only_the_kinds_drawn() -> None:
    square = Point(-74.5, -9.5).buffer(0.01)
    tiles = {
        "parcels": gpd.GeoDataFrame({"tenure": ["titled", "odd"]}, geometry=[square] * 2,
                                    crs=4326),
        "concessions": gpd.GeoDataFrame({"kind": ["mining"]}, geometry=[square], crs=4326),
    }
    page = build_viewer_page(tiles, lang="en")
    config = json.loads(page.split('id="gt-config">')[1].split("</script>")[0])
    legend = {section["title"]: [row["label"] for row in section["rows"]]
              for section in config["legend"]}
    assert legend["Concessions"] == ["Mining"]
    assert legend["Parcels (tenure)"] == ["Titled", "no data"]  # "odd" is drawn grey


def test_html_tiles_and_pngs_of_one_command_share_one_gate_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The privacy gate recounts everything; one `map` command runs it once for all its
    outputs (it ran once per output before)."""
    import geotools.maps.files as files

    calls: list[str] = []
    gate = files.compute_shareable_view

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(str(kwargs.get("profile")))
        return gate(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(files, "compute_shareable_view", counting)
    args = write_study(tmp_path / "in")
    run_map(*args, "--out", str(tmp_path / "m.html"), "--tiles", str(tmp_path / "t"),
            "--png", str(tmp_path / "png"), "--no-hexagons")  # fmt: skip
    assert calls == ["public"]
    assert (tmp_path / "m.html").is_file() and (tmp_path / "png" / "overview.png").is_file()
