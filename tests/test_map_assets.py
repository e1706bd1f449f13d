"""geotools.maps.assets and .inline without network: the table, HTML scanning, inlining, cache.

Downloads are faked with a tarball built here (``_download`` is replaced); the real registry is
used only by the ``asset_cache`` fixture of tests/test_browser.py.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile
import urllib.error
from pathlib import Path

import folium
import folium.plugins
import pytest
from _map_routes import BLANK_PNG
from click.testing import CliRunner

import geotools.maps.assets as ma
import geotools.maps.inline as mi
from geotools.cli import main
from geotools.errors import GeotoolsError

FAKE_URL = "https://cdn.example.org/npm/fake@1.0.0/dist/fake.css"
FAKE_JS_URL = "https://cdn.example.org/npm/fake@1.0.0/dist/fake.js"
PNG = BLANK_PNG


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


@pytest.fixture
def fake_package(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """A fake npm package (css + image + font + js) in the table, and a counting fake download."""
    css = (
        b".a{background:url(images/a.png)}\n"
        b'@font-face{font-family:F;src:url("../fonts/f.woff2") format("woff2"),'
        b'url("../fonts/f.ttf") format("truetype")}\n'
        b"/*# sourceMappingURL=fake.css.map */\n"
    )
    files = {
        "dist/fake.css": css,
        "dist/images/a.png": PNG,
        "dist/fonts/f.woff2": b"wOF2-font",  # not the ../fonts of dist/: resolved below
        "fonts/f.woff2": b"wOF2-font",
        "fonts/f.ttf": b"ttf-font",
        "dist/fake.js": b"window.fake = '</script>';\n//# sourceMappingURL=fake.js.map\n",
        "dist/unused.js": b"not extracted",
    }
    data = _tarball(files)
    package = ma.NpmPackage("fake", "1.0.0", _integrity(data))
    monkeypatch.setitem(
        ma.ASSETS, FAKE_URL, ma.Asset(FAKE_URL, "css", "npm", "dist/fake.css", package)
    )
    monkeypatch.setitem(
        ma.ASSETS, FAKE_JS_URL, ma.Asset(FAKE_JS_URL, "js", "npm", "dist/fake.js", package)
    )
    calls: list[str] = []

    def download(url: str) -> bytes:
        calls.append(url)
        return data

    monkeypatch.setattr(ma, "_download", download)
    return {"package": package, "calls": calls, "data": data}


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


def test_table_covers_folium_defaults_and_the_plugins() -> None:
    m = folium.Map()
    urls = [url for _, url in m.default_js + m.default_css]
    for plugin in (
        folium.plugins.MarkerCluster,
        folium.plugins.HeatMap,
        folium.plugins.Fullscreen,
        folium.plugins.MiniMap,
        folium.plugins.Search,
        folium.plugins.GroupedLayerControl,
    ):
        urls += [url for _, url in plugin.default_js + plugin.default_css]
    assert len(urls) >= 20  # 10 for the map, 12 for the six plugins in folium 0.20
    assert [url for url in urls if url not in ma.ASSETS] == []


def test_table_rows_are_well_formed() -> None:
    for url, asset in ma.ASSETS.items():
        assert asset.url == url
        assert url.startswith("https://")
        assert asset.kind in ("js", "css") and url.endswith(f".{asset.kind}")
        if asset.source == "npm":
            assert asset.package is not None
            assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", asset.package.integrity)
        else:
            assert asset.package is None and asset.note


def test_tarball_urls_follow_the_registry_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ma.REGISTRY_ENV, raising=False)
    assert (
        ma.FONTAWESOME.tarball_url()
        == "https://registry.npmjs.org/@fortawesome/fontawesome-free/-/fontawesome-free-6.2.0.tgz"
    )
    monkeypatch.setenv(ma.REGISTRY_ENV, "http://mirror.invalid/npm/")
    assert ma.LEAFLET.tarball_url() == "http://mirror.invalid/npm/leaflet/-/leaflet-1.9.3.tgz"


def test_generated_and_folium_assets_need_no_cache(tmp_path: Path) -> None:
    rotate = ma.ASSETS[
        "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/"
        "leaflet.awesome.rotate.min.css"
    ]
    css = ma.asset_bytes(rotate.url, tmp_path).decode()
    assert ".fa-rotate-0{transform:rotate(0deg)}" in css
    assert ".fa-rotate-360{transform:rotate(360deg)}" in css
    assert css.count("{") == 361
    heat = ma.asset_bytes(
        "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/"
        "leaflet_heat.min.js",
        tmp_path,
    )
    assert b"L.heatLayer" in heat


def test_glyphicons_subset_keeps_only_the_icon_rules() -> None:
    css = (
        "/* bootstrap */ html{font-size:10px}\n"
        '@font-face{font-family:"Glyphicons Halflings";src:url("../fonts/g.woff2")}\n'
        '@font-face{font-family:"Other";src:url("o.woff2")}\n'
        '.glyphicon{font-family:"Glyphicons Halflings"}\n'
        '.glyphicon-eur:before,\n.glyphicon-euro:before{content:"\\20ac"}\n'
        ".carousel .glyphicon-chevron-left{left:50%}\n"
        "@media print{.glyphicon{display:none}}\n"
        ".btn{color:red}\n"
    )
    kept = ma._glyphicons_only(css)
    assert "Glyphicons Halflings" in kept and ".glyphicon-euro:before" in kept
    for gone in ("html", "Other", "carousel", "@media", ".btn"):
        assert gone not in kept
    with pytest.raises(ma.MapAssetError, match="no Glyphicons rules"):
        ma._glyphicons_only(".btn{color:red}")


def test_font_faces_keep_only_woff2_when_they_have_it() -> None:
    css = (
        '@font-face{font-family:A;src:url(a.eot);src:url(a.eot?#iefix) format("embedded-opentype"),'
        'url(a.woff2) format("woff2"),url(a.ttf) format("truetype");font-weight:400}'
        '@font-face{font-family:B;src:url(b.ttf) format("truetype")}'
    )
    out = mi._woff2_only(css)
    assert "a.eot" not in out and "a.ttf" not in out and "url(a.woff2)" in out
    assert "font-weight:400" in out
    assert 'url(b.ttf) format("truetype")' in out  # no WOFF2 offered: left alone


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------


def test_find_asset_urls_reads_elements_not_script_text() -> None:
    html = (
        '<html><head><link rel="stylesheet" href="https://a.org/x.css?v=1&amp;w=2"/>'
        '<link rel="icon" href="https://a.org/favicon.ico">'
        '<script src="https://a.org/a.js"></script>'
        '<script src="data:text/javascript,1"></script>'
        "<script>var s = '<script src=\"https://evil.org/b.js\"><\\/script>';</script>"
        "<style>a{}</style></head>"
        '<body><script src="https://a.org/a.js"></script></body></html>'
    )
    assert mi.find_asset_urls(html) == ["https://a.org/x.css?v=1&w=2", "https://a.org/a.js"]


def test_inline_refuses_unknown_scripts_and_external_links(tmp_path: Path) -> None:
    with pytest.raises(ma.MapAssetError, match=r"https://evil\.org/x\.js: geotools has no local"):
        mi.inline_map_assets('<script src="https://evil.org/x.js"></script>', tmp_path)
    with pytest.raises(ma.MapAssetError, match="preconnect"):
        mi.inline_map_assets('<link rel="preconnect" href="https://fonts.example.org">', tmp_path)
    assert issubclass(ma.MapAssetError, GeotoolsError)


def test_inline_needs_a_filled_cache(tmp_path: Path) -> None:
    html = folium.Map().get_root().render()
    with pytest.raises(ma.MapAssetError, match="fetch-assets"):
        mi.inline_map_assets(html, tmp_path / "empty")


def test_script_element_escapes_what_would_end_it() -> None:
    element = mi.script_element("a = '</SCRIPT>'; b = '<!--';")
    body = element[len("<script>") : -len("</script>")]
    assert "</script" not in body.lower() and "<!--" not in body
    assert "<\\/SCRIPT>" in body and "\\x3C!--" in body
    assert "</style" not in mi.style_element("a{content:'</style>'}")[7:-8]


# --------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------


def test_default_cache_dir_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ma.CACHE_ENV, str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ma.default_cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv(ma.CACHE_ENV)
    assert ma.default_cache_dir() == tmp_path / "xdg" / "geotools" / "map-assets"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert ma.default_cache_dir() == tmp_path / "home" / ".cache" / "geotools" / "map-assets"


def test_fetch_extracts_what_is_needed_once(fake_package: dict, tmp_path: Path) -> None:
    cache = ma.fetch_map_assets(tmp_path / "c", urls=[FAKE_URL, FAKE_JS_URL])
    root = cache / "npm" / "fake@1.0.0"
    kept = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert kept == [
        "dist/fake.css",
        "dist/fake.js",
        "dist/images/a.png",
        "fonts/f.ttf",
        "fonts/f.woff2",
        ma._MANIFEST,
    ]
    ma.fetch_map_assets(tmp_path / "c", urls=[FAKE_URL, FAKE_JS_URL])
    assert len(fake_package["calls"]) == 1  # the second call found everything cached
    (root / "dist" / "images" / "a.png").unlink()
    ma.fetch_map_assets(tmp_path / "c", urls=[FAKE_URL])
    assert len(fake_package["calls"]) == 2  # an incomplete package is fetched again
    assert (root / "dist" / "images" / "a.png").read_bytes() == PNG
    assert [p.name for p in (cache / "npm").iterdir()] == ["fake@1.0.0"]  # no temporary left


def test_fetch_refuses_a_tampered_tarball(
    fake_package: dict, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(ma, "_download", lambda url: fake_package["data"] + b"x")
    with pytest.raises(ma.MapAssetError, match=r"fake-1\.0\.0\.tgz: the download does not match"):
        ma.fetch_map_assets(tmp_path, urls=[FAKE_URL])
    assert list(tmp_path.rglob("*")) == []  # nothing written


def test_fetch_failure_names_the_url_and_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(ma.urllib.request, "urlopen", refuse)
    monkeypatch.delenv(ma.REGISTRY_ENV, raising=False)
    with pytest.raises(ma.MapAssetError) as info:
        ma.fetch_map_assets(tmp_path)
    message = str(info.value)
    assert "https://registry.npmjs.org/leaflet/-/leaflet-1.9.3.tgz" in message
    assert "no route to host" in message and "geotools fetch-assets" in message
    assert not (tmp_path / "npm").exists()


def test_inline_uses_data_uris_and_drops_source_maps(fake_package: dict, tmp_path: Path) -> None:
    cache = ma.fetch_map_assets(tmp_path, urls=[FAKE_URL, FAKE_JS_URL])
    html = (
        f'<html><head><link rel="stylesheet" href="{FAKE_URL}"/>'
        f'<script src="{FAKE_JS_URL}"></script></head><body></body></html>'
    )
    out = mi.inline_map_assets(html, cache)
    assert mi.find_asset_urls(out) == []
    png = base64.b64encode(PNG).decode()
    assert f'url("data:image/png;base64,{png}")' in out
    assert "data:font/woff2;base64," + base64.b64encode(b"wOF2-font").decode() in out
    assert "f.ttf" not in out and "sourceMappingURL" not in out
    assert "window.fake = '<\\/script>';" in out
    assert 'data-geotools-asset="fake@1.0.0/dist/fake.css"' in out


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def test_cli_fetch_assets_prints_the_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[object] = []

    def fetch(cache: object = None, urls: object = None) -> Path:
        seen.append(cache)
        return Path(str(cache))

    monkeypatch.setattr("geotools.cli.commands.fetch_map_assets", fetch)
    result = CliRunner().invoke(main, ["fetch-assets", "--cache", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    assert seen == [str(tmp_path)]
    assert result.output.strip() == f"Map assets cached in {tmp_path}"


def test_cli_fetch_assets_error_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(ma.urllib.request, "urlopen", refuse)
    result = CliRunner().invoke(main, ["fetch-assets", "--cache", str(tmp_path), "-q"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: https://") and "offline" in lines[0]


def test_each_output_fetches_only_the_packages_it_needs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An empty cache: ``map --offline`` asks for Leaflet and its plugins only (never the tile
    viewer's 6.5 MB MapLibre), ``map --tiles DIR --offline`` for MapLibre and PMTiles only,
    ``fetch-assets`` for every package of the table."""
    import geopandas as gpd
    from shapely.geometry import box

    asked: list[str] = []

    def install(cache: Path, package: ma.NpmPackage, paths: list[str]) -> None:
        asked.append(package.name)  # nothing is written: reading the cache then fails

    monkeypatch.setattr(ma, "_install_package", install)
    monkeypatch.setenv(ma.CACHE_ENV, str(tmp_path / "cache"))
    territories = tmp_path / "t.geojson"
    gpd.GeoDataFrame(
        {"territory_id": ["T1"], "name": ["Uno"]}, geometry=[box(-74.6, -9.6, -74.5, -9.5)],
        crs=4326,
    ).to_file(territories)
    viewer = {ma.MAPLIBRE.name, ma.PMTILES.name}
    every = {a.package.name for a in ma.ASSETS.values() if a.package is not None}
    for extra in (["--out", str(tmp_path / "m.html")], ["--tiles", str(tmp_path / "site")]):
        asked.clear()
        args = ["map", "--territories", str(territories), "--offline", "--basemap", "none",
                "--no-hexagons", *extra]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and "error:" in result.output  # the empty cache
        if extra[0] == "--out":  # Leaflet and the plugins this page loads, no MapLibre
            assert "leaflet" in asked and not viewer & set(asked), asked
            assert set(asked) <= every - viewer
        else:
            assert set(asked) == viewer, asked
    asked.clear()
    CliRunner().invoke(main, ["fetch-assets"])
    assert set(asked) == every
