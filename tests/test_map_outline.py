"""A map without a basemap stays readable: an outline of the country or regions (issue 15.4).

With ``--basemap none`` the map draws, under every layer and not interactive, thin grey lines:
the boundaries of the polygons given with ``--outline`` (regions), else the packaged Natural
Earth 1:110m outline of Peru and its neighbours (public domain, credited in the sources box).
The lines are clipped to the graticule's box (the study rounded out to whole degrees, plus 2)
and stay a few kilobytes. The compact layout of small maps (issue 15.5) is checked here as
page text; tests/test_browser.py measures it in Chromium.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from click.testing import CliRunner
from shapely.geometry import Point, box

from geotools.cli import main
from geotools.maps import build_map
from geotools.maps.embed import COMPACT_MEDIA
from geotools.maps.outline import (
    OUTLINE_BUDGET,
    OUTLINE_FILE,
    OUTLINE_PANE,
    OUTLINE_SOURCE,
    outline_box,
    outline_lines,
)

ROOT = Path(__file__).resolve().parents[1]
#: The demo-like study of tests/test_offline_map.py: two territories in Ucayali and Cusco.
EXTENT = (-74.6, -12.1, -71.0, -9.5)


def territories() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"territory_id": ["T1", "T2"], "name": ["Comunidad Uno", "Comunidad Dos"]},
        geometry=[box(-74.6, -9.6, -74.5, -9.5), box(-71.1, -12.1, -71.0, -12.0)],
        crs=4326,
    )


def page_of(m: object) -> str:
    return m.get_root().render()  # type: ignore[attr-defined, no-any-return]


def coordinates(geometry: dict) -> np.ndarray:
    return np.array([xy for line in geometry["coordinates"] for xy in line], dtype=float)


def outline_layers(page: str) -> list[str]:
    """The script of each GeoJSON layer drawn in the outline pane (graticule and outline)."""
    return re.findall(r"L\.geoJson\(null, \{[^}]*\"pane\": \"gt-outline\"[^}]*\}", page)


# --------------------------------------------------------------------------------------------
# The packaged outline
# --------------------------------------------------------------------------------------------


def test_packaged_outline_is_small_public_domain_and_around_peru() -> None:
    assert OUTLINE_FILE.stat().st_size < 8_000
    data = json.loads(OUTLINE_FILE.read_text(encoding="utf-8"))
    (feature,) = data["features"]
    assert feature["geometry"]["type"] == "MultiLineString"
    assert feature["properties"]["licence"] == "public domain"
    xy = coordinates(feature["geometry"])
    # Clipped to Peru's box plus about 4 degrees (scripts/make_outline.py).
    assert xy[:, 0].min() >= -85.5 and xy[:, 0].max() <= -64.5
    assert xy[:, 1].min() >= -22.5 and xy[:, 1].max() <= 4.0
    # Peru's northernmost point (Putumayo, about 0.04 S) and its Pacific coast (Tumbes,
    # about 81.3 W) are on it, within the 1:110m generalisation (~10 km).
    lines = shapely.from_geojson(json.dumps(feature["geometry"]))
    assert lines.distance(Point(-75.2, -0.04)) < 0.3
    assert lines.distance(Point(-81.3, -4.3)) < 0.3
    source = (OUTLINE_FILE.parent / "SOURCE.md").read_text(encoding="utf-8")
    assert "Natural Earth" in source and "public domain" in source
    assert "scripts/make_outline.py" in source


def test_package_data_ships_the_outline() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"maps/data/*.geojson"' in text and '"maps/data/SOURCE.md"' in text


def test_packaged_outline_clipped_to_the_graticule_box() -> None:
    assert outline_box(EXTENT) == (-77.0, -15.0, -69.0, -7.0)
    geometry = outline_lines(EXTENT)
    assert geometry is not None and geometry["type"] == "MultiLineString"
    xy = coordinates(geometry)
    assert xy[:, 0].min() >= -77.0 and xy[:, 0].max() <= -69.0
    assert xy[:, 1].min() >= -15.0 and xy[:, 1].max() <= -7.0
    # The Peru-Brazil border runs through this box (e.g. near 72.4 W, 9.4 S at 1:110m).
    assert shapely.from_geojson(json.dumps(geometry)).distance(Point(-72.9, -9.4)) < 0.4
    assert len(json.dumps(geometry)) < 3_000  # a few kilobytes at most


def test_no_outline_far_from_every_border() -> None:
    # Box of the Pacific far west of Peru: nothing to draw.
    assert outline_lines((-100.0, -10.0, -99.5, -9.5)) is None


# --------------------------------------------------------------------------------------------
# Region outlines
# --------------------------------------------------------------------------------------------


def test_region_boundaries_drawn_once_each() -> None:
    # Two 1 x 1 degree regions side by side: outer ring 6 degrees long, shared border 1.
    regions = gpd.GeoDataFrame(
        {"name": ["A", "B"]},
        geometry=[box(-75, -10, -74, -9), box(-74, -10, -73, -9)],
        crs=4326,
    )
    geometry = outline_lines((-74.5, -9.8, -73.5, -9.2), regions)
    assert geometry is not None
    lines = shapely.from_geojson(json.dumps(geometry))
    assert lines.length == 7.0  # the shared border once, not twice (8)


def test_region_outline_keeps_to_its_budget() -> None:
    # A 1,500-vertex wiggly region (0.01 degree teeth): coarsened until it fits.
    angles = np.linspace(0, 2 * np.pi, 1500, endpoint=False)
    radius = 1.0 + 0.01 * (np.arange(1500) % 2)
    ring = np.c_[-74 + radius * np.cos(angles), -10 + radius * np.sin(angles)]
    regions = gpd.GeoDataFrame(geometry=[shapely.Polygon(ring)], crs=4326)
    fine = outline_lines((-75.0, -11.0, -73.0, -9.0), regions)
    small = outline_lines((-75.0, -11.0, -73.0, -9.0), regions, budget=4_000)
    assert fine is not None and small is not None
    assert len(json.dumps(small)) <= 4_000 < len(json.dumps(fine)) <= OUTLINE_BUDGET
    # Still the same region: within about 0.05 degrees of the circle.
    assert shapely.from_geojson(json.dumps(small)).hausdorff_distance(
        shapely.Point(-74, -10).buffer(1.0).boundary
    ) < 0.05


def test_region_outline_is_reprojected_and_ignores_points() -> None:
    regions = gpd.GeoDataFrame(
        geometry=[box(-75, -10, -74, -9), Point(-74.5, -9.5)], crs=4326
    ).to_crs(32718)
    geometry = outline_lines((-74.8, -9.8, -74.2, -9.2), regions)
    assert geometry is not None
    xy = coordinates(geometry)
    assert np.allclose(xy.min(axis=0), [-75, -10], atol=1e-3)
    assert np.allclose(xy.max(axis=0), [-74, -9], atol=1e-3)
    points_only = gpd.GeoDataFrame(geometry=[Point(-74.5, -9.5)], crs=4326)
    assert outline_lines((-74.8, -9.8, -74.2, -9.2), points_only) is None


# --------------------------------------------------------------------------------------------
# On the map
# --------------------------------------------------------------------------------------------


def test_basemap_none_draws_the_outline_under_everything_and_credits_it() -> None:
    page = page_of(build_map(territories(), lang="en", basemap="none"))
    # The outline pane is created below the overlay pane (400) and answers no pointer.
    assert f'createPane(\n                "{OUTLINE_PANE}")' in page or (
        f'createPane("{OUTLINE_PANE}")' in page
    )
    assert re.search(r"\.style\.zIndex = 350;", page)
    layers = outline_layers(page)
    assert len(layers) == 2  # graticule and outline
    assert all('"interactive": false' in layer for layer in layers)
    assert OUTLINE_SOURCE["en"] in page  # in the sources box
    assert "Natural Earth" not in page_of(build_map(territories(), lang="en"))
    assert outline_layers(page_of(build_map(territories(), lang="en"))) == []


def test_given_regions_replace_the_packaged_outline_and_carry_no_attributes() -> None:
    regions = gpd.GeoDataFrame(
        {"name": ["Región Zzsecreta"], "note": ["Zzprivado"]},
        geometry=[box(-75, -13, -70, -9)],
        crs=4326,
    )
    for basemap in ("none", "osm"):
        page = page_of(build_map(territories(), lang="es", basemap=basemap, outline=regions))
        assert "Zzsecreta" not in page and "Zzprivado" not in page  # geometry only
        assert OUTLINE_SOURCE["es"] not in page
        assert len(outline_layers(page)) == (2 if basemap == "none" else 1)
        assert "[-75.0, -13.0]" in page  # a corner of the region


def test_cli_outline_option_names_the_file(tmp_path: Path) -> None:
    territories().to_file(tmp_path / "t.geojson")
    gpd.GeoDataFrame(
        geometry=[box(-75, -13, -70, -9)], crs=4326
    ).to_file(tmp_path / "regiones.geojson")
    out = tmp_path / "map.html"
    result = CliRunner().invoke(
        main,
        [
            "map", "--territories", str(tmp_path / "t.geojson"), "--basemap", "none",
            "--outline", str(tmp_path / "regiones.geojson"), "--lang", "en",
            "--no-hexagons", "--out", str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "Outline: regiones.geojson" in page
    assert "Natural Earth" not in page
    assert "--outline" in CliRunner().invoke(main, ["map", "--help"]).output


def test_compact_layout_rules_are_in_the_page() -> None:
    page = page_of(build_map(territories(), lang="en"))
    assert f"@media {COMPACT_MEDIA} {{" in page
    # The layer control reads the same query when the map opens.
    assert f"collapsed: window.matchMedia({json.dumps(COMPACT_MEDIA)}).matches" in page
    # The title box keeps its notes (desktop) and a button for them (compact).
    assert '"Notes"' in page and "gt-notes" in page


def test_outline_file_name_is_shown_as_text(tmp_path: Path) -> None:
    territories().to_file(tmp_path / "t.geojson")
    name = "r{{ 7*7 }}<img src=x onerror=alert(1)>.geojson"
    gpd.GeoDataFrame(geometry=[box(-75, -13, -70, -9)], crs=4326).to_file(tmp_path / name)
    out = tmp_path / "map.html"
    result = CliRunner().invoke(
        main,
        [
            "map", "--territories", str(tmp_path / "t.geojson"), "--basemap", "none",
            "--outline", str(tmp_path / name), "--lang", "en", "--no-hexagons",
            "--out", str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "<img src=x" not in page and "{{ 7*7 }}" not in page and "r49" not in page
    assert "Outline: r&#123;&#123; 7*7 &#125;&#125;&lt;img src=x" in page.replace("\\u0026", "&")
