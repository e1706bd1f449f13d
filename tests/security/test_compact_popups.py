"""Popups built in the browser from rows of values (issue 15) show hostile text as text.

The territory, parcel and concession layers no longer ship one popup HTML string per feature:
the page gets one row of values per feature and a layout, and its script puts the values into
the layout (:mod:`geotools.maps.compact`). The attack: a territory name, a people, a parcel id
and a concession holder that are markup (an ``<img onerror>`` that marks the document when it
runs, a ``<script>``), template syntax and a layout placeholder (``{0}``, which the script must
not fill a second time). The map is opened in headless Chromium (``chromium --dump-dom``, no
Playwright: the browser fixtures of tests/test_browser.py are session-scoped there), every
feature's popup is opened and hovered, and the resulting DOM is read back: nothing ran, no
element came from the data, and each payload is in the popup and tooltip text as written.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import pytest
from shapely import box

from geotools.errors import MapAssetError
from geotools.maps import (
    CACHE_ENV,
    build_map,
    compact_json_escapes,
    fetch_map_assets,
    inline_map_assets,
)
from geotools.maps.compact import page_popups
from geotools.maps.elements import escape_html

ROOT = Path(__file__).resolve().parents[2]
MARK = "document.documentElement.setAttribute('data-pwned', '1')"
NAME = f'<img src=x onerror="{MARK}"> {{{{ 7*7 }}}} {{0}}'
PEOPLE = f"<script>{MARK}</script> & {{1}}"
HOLDER = f"<svg onload=\"{MARK}\"></svg>'\""
PARCEL = "<b>P1</b> {2}"

#: Opens every popup and tooltip of the compact layers and keeps a copy of each in the page.
OPEN_ALL = """
<script>
window.addEventListener("load", function() {
    var out = document.createElement("div");
    out.id = "gt-test-out";
    Object.keys(window).forEach(function(name) {
        var layer = window[name];
        if (!layer || !layer.gtData || !layer.getLayers) { return; }
        layer.eachLayer(function(l) {
            var at = l.getBounds().getCenter();
            l.fire("click", {latlng: at}, true);
            l.fire("mouseover", {latlng: at}, true);
            [layer.getPopup(), layer.getTooltip()].forEach(function(overlay) {
                if (!overlay || !overlay.isOpen()) { return; }
                var copy = document.createElement("section");
                copy.appendChild((overlay._contentNode || overlay.getElement()).cloneNode(true));
                out.appendChild(copy);
            });
            l.fire("mouseout", {latlng: at}, true);
            layer.closePopup();
            layer.closeTooltip();
        });
    });
    document.body.appendChild(out);
});
</script>
"""


def _layers() -> dict[str, gpd.GeoDataFrame]:
    territories = gpd.GeoDataFrame(
        {
            "territory_id": ["T1"],
            "name": [NAME],
            "people": [PEOPLE],
            "claimed_ha": [1000.0],
            "titled_ha": [100.0],
            "risk_class": ["critical"],
            "risk_score": [80.0],
            "risk_drivers": [NAME],
        },
        geometry=[box(-74.8, -8.5, -74.7, -8.4)],
        crs=4326,
    )
    parcels = gpd.GeoDataFrame(
        {"parcel_id": [PARCEL], "tenure": ["titled"]},
        geometry=[box(-74.6, -8.5, -74.55, -8.45)],
        crs=4326,
    )
    concessions = gpd.GeoDataFrame(
        {"concession_id": ["C1"], "kind": ["mining"], "status": ["active"], "holder": [HOLDER]},
        geometry=[box(-74.5, -8.5, -74.45, -8.45)],
        crs=4326,
    )
    return {"territories": territories, "parcels": parcels, "concessions": concessions}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required when CI=true)", pytrace=False)
    pytest.skip(reason)


def _dump_dom(path: Path) -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        _unavailable("chromium is not installed (apt-get install chromium)")
    done = subprocess.run(
        [
            str(chromium), "--headless", "--no-sandbox", "--disable-gpu",
            "--virtual-time-budget=5000", "--dump-dom", path.as_uri(),
        ],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return done.stdout


def test_hostile_text_in_compact_layers_shows_as_text_in_chromium(tmp_path: Path) -> None:
    cache = Path(os.environ.get(CACHE_ENV) or ROOT / ".cache" / "map-assets")
    try:
        assets = fetch_map_assets(cache)
    except MapAssetError as exc:
        _unavailable(f"map assets not available: {exc}")
    page = compact_json_escapes(build_map(**_layers(), lang="en").get_root().render())
    # The page holds none of it as markup; Python's reading of the rows has it escaped.
    for payload in (NAME, PEOPLE, HOLDER, PARCEL):
        assert payload not in page
    assert escape_html(NAME) in "".join(page_popups(page))  # braces as &#123; too
    target = tmp_path / "hostile.html"
    target.write_text(inline_map_assets(page, assets) + OPEN_ALL, encoding="utf-8")
    dom = _dump_dom(target)

    # No onerror, onload or script from the data ran (it would mark the <html> element).
    opening = re.search(r"<html[^>]*>", dom)
    assert opening is not None and "data-pwned" not in opening.group(0)
    out = re.search(r'<div id="gt-test-out">(.*)</div>\s*</body>', dom, re.DOTALL)
    assert out is not None, dom[-2000:]
    shown = out.group(1)
    # Popup and tooltip of the territory, the parcel and the concession.
    assert shown.count("<section>") == 6
    # No element from the data: only the layout's own tags.
    tags = set(re.findall(r"<([a-z]+)", shown))
    assert tags <= {"section", "div", "table", "tbody", "tr", "th", "td", "b"}, tags
    assert "<b>P1" not in shown
    # Each payload is there as text, exactly as written (template syntax and the layout's
    # "{0}" placeholders left as they are, not filled).
    text = html.unescape(shown.replace("\xa0", " "))
    for payload in (NAME, PEOPLE, HOLDER, PARCEL):
        assert payload in text, payload
    assert text.count(NAME) == 3  # popup heading, drivers, tooltip
