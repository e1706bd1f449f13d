"""Maps that open with no network (issue 15 item 3): ``--basemap none`` and ``publish --offline``.

A journalist may open a published bundle offline: with ``--offline --basemap none`` its
``map.html`` must request nothing at all (no script, style sheet or tile) and show a plain
graticule instead of the basemap. The browser test of such a bundle is in
tests/test_browser.py (``test_offline_bundle_map_needs_no_network``).
"""

from __future__ import annotations

import re

import geopandas as gpd
import pytest
from shapely.geometry import box

from geotools.maps import build_map
from geotools.publish.model import PublishOptions

TILE_HOSTS = ("tile.openstreetmap.org", "arcgisonline.com")


def territories() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"territory_id": ["T1", "T2"], "name": ["Comunidad Uno", "Comunidad Dos"]},
        geometry=[box(-74.6, -9.6, -74.5, -9.5), box(-71.1, -12.1, -71.0, -12.0)],
        crs=4326,
    )


def page_of(m: object) -> str:
    return m.get_root().render()  # type: ignore[attr-defined, no-any-return]


def test_basemap_none_has_no_tile_layer_and_a_graticule() -> None:
    page = page_of(build_map(territories(), lang="en", basemap="none"))
    assert not any(host in page for host in TILE_HOSTS)
    assert "L.tileLayer(" not in page and "MiniMap" not in page
    # 1-degree meridians from 2 degrees west of the data to 2 east: -77 ... -69.
    assert "[[-77.0, -15.0], [-77.0, -7.0]]" in page
    assert "[[-69.0, -15.0], [-69.0, -7.0]]" in page
    default = page_of(build_map(territories(), lang="en"))
    assert all(host in default for host in TILE_HOSTS)
    assert "[[-77.0, -15.0]" not in default


@pytest.mark.parametrize(
    ("basemap", "shown"), [("osm", "openstreetmap"), ("satellite", "arcgis")]
)
def test_chosen_basemap_is_the_one_added_first(basemap: str, shown: str) -> None:
    page = page_of(build_map(territories(), lang="en", basemap=basemap))
    # folium adds a tile layer to the map ("tile_layer_N.addTo(map_M)") only when it is shown.
    added = re.findall(r"(tile_layer_\w+)\.addTo\(map_\w+\)", page)
    assert len(added) == 1
    url = re.search(rf'var {added[0]} = L\.tileLayer\(\s*"([^"]+)"', page)
    assert url is not None and shown in url.group(1).lower()


def test_unknown_basemap_is_refused() -> None:
    with pytest.raises(ValueError, match="basemap must be one of"):
        build_map(territories(), basemap="google")
    with pytest.raises(ValueError, match="basemap must be one of"):
        PublishOptions(basemap="google")
