"""Tests of geotools.maps: escaping, confidentiality, popup numbers, legend and language.

folium embeds GeoJSON and control HTML through JSON with ``<``, ``>``, ``&``, ``'`` and non-ASCII
characters written as ``\\uXXXX``. A raw ``<script>`` in the data would therefore not appear
literally in the page source, yet Leaflet would decode it and insert it with ``innerHTML``. The
checks below thus look at both the raw page and the page with those escapes decoded.
"""

from __future__ import annotations

import html
import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from geotools.errors import CRSError
from geotools.maps import (
    build_map,
    compact_json_escapes,
    format_hectares,
    format_number,
    format_percent,
)
from geotools.maps.compact import CompactGeoJson
from geotools.maps.elements import GroupedLayers, IncidentLayers

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SECRET_ID = "INC-CONF-7731"
SECRET_DESCRIPTION = "Testimony of the witness at the river camp 7f3a"
SECRET_SOURCE = "Informant network 55c0"
SECRET_LON = -74.73331
RESTRICTED_DESCRIPTION = "Account of the night attack 51b2"
VICTIMS = ("Victim name 9c1e", "Victim name 4d20", "Victim name 0a77")


def decoded(page: str) -> str:
    """The page with JSON ``\\uXXXX`` escapes decoded (what the browser's JavaScript sees)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)


def plain(page: str) -> str:
    """Decoded page with no-break spaces as plain spaces, for matching sentences."""
    return decoded(page).replace("\xa0", " ")


@pytest.fixture(scope="module")
def layers() -> dict[str, gpd.GeoDataFrame]:
    territories = gpd.GeoDataFrame(
        {
            "territory_id": ["T-001", "T-002"],
            "name": ["Santa Clara de Uchunya", IMG],
            "people": ["Shipibo-Konibo", SCRIPT],
            "claimed_ha": [8600.0, 1234.4],
            "titled_ha": [200.0, 1000.0],
            "titled_pct": [200 / 8600 * 100, 81.01],
            "secured_ha": [350.0, 1100.0],
            "secured_pct": [350 / 8600 * 100, 89.11],
            "untitled_ha": [8250.0, 134.4],
            "untitled_pct": [8250 / 8600 * 100, 10.89],
            "in_process_ha": [0.0, 100.0],
            "in_process_pct": [0.0, 8.1],
            "concession_ha": [6000.0, 0.0],
            "concession_pct": [6000 / 8600 * 100, 0.0],
            "concession_untitled_ha": [5900.0, 0.0],
            "concession_agribusiness_ha": [6000.0, 0.0],
            "incidents_inside": [2, 0],
            "incidents_nearby": [1, 0],
        },
        # Adjacent territories, given in UTM 18S to exercise the reprojection.
        geometry=[box(-74.80, -8.50, -74.70, -8.40), box(-74.70, -8.50, -74.60, -8.40)],
        crs=4326,
    ).to_crs(32718)
    parcels = gpd.GeoDataFrame(
        {
            "parcel_id": ["P-1", "P-2", "P-3"],
            "tenure": ["titled", "cession_in_use", "in_process"],
        },
        geometry=[
            box(-74.80, -8.50, -74.78, -8.49),
            box(-74.69, -8.49, -74.65, -8.45),
            box(-74.64, -8.44, -74.62, -8.42),
        ],
        crs=4326,
    )
    concessions = gpd.GeoDataFrame(
        {
            "concession_id": ["C-1", "C-2"],
            "kind": ["agribusiness", "oil_gas"],
            "status": ["active", "expired"],
            "holder": ["Plantaciones & Cía <b>SAC</b>", "Petro Andina"],
        },
        geometry=[box(-74.78, -8.47, -74.72, -8.42), box(-74.90, -8.60, -74.75, -8.45)],
        crs=4326,
    )
    incidents = gpd.GeoDataFrame(
        {
            "incident_id": [SECRET_ID, "INC-PUB-0002", "INC-RES-0003"],
            "date": ["2015-03-01", "2016-05-02", "2017-01-09"],
            "kind": ["killing", "attack", "threat"],
            "severity": [5, 4, 2],
            "description": [SECRET_DESCRIPTION, SCRIPT, RESTRICTED_DESCRIPTION],
            "victims": list(VICTIMS),
            "source": [SECRET_SOURCE, "Public report", "Community federation"],
            "precision": ["exact", "exact", "locality"],
            "sensitivity": ["confidential", "public", "restricted"],
        },
        geometry=[Point(SECRET_LON, -8.44441), Point(-74.74, -8.44), Point(-74.66, -8.46)],
        crs=4326,
    )
    infrastructure = gpd.GeoDataFrame(
        {"kind": ["road"], "name": ["Carretera Nueva Requena"]},
        geometry=[LineString([(-74.90, -8.30), (-74.60, -8.50)])],
        crs=4326,
    )
    return {
        "territories": territories,
        "parcels": parcels,
        "concessions": concessions,
        "incidents": incidents,
        "infrastructure": infrastructure,
    }


@pytest.fixture(scope="module")
def maps(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, folium.Map]:
    # The internal profile draws restricted incidents too, so these tests see every rule at work.
    return {lang: build_map(**layers, lang=lang, profile="internal") for lang in ("en", "es")}


@pytest.fixture(scope="module")
def pages(maps: dict[str, folium.Map]) -> dict[str, str]:
    return {lang: m.get_root().render() for lang, m in maps.items()}


def geojson_layers(m: folium.Map) -> dict[str, dict]:
    return {c.layer_name: c.data for c in m._children.values() if isinstance(c, folium.GeoJson)}


def popup_text(m: folium.Map) -> str:
    """Every popup and tooltip of the map's polygon layers, as the browser builds them.

    The page ships one row of values per feature and the layout once (issue 15); the layers'
    ``data`` holds what :func:`geotools.maps.compact.render_layout` makes of them, which
    tests/test_browser.py checks is what the page's script makes of them too.
    """
    texts = [
        str(feature["properties"].get(key, ""))
        for layer in m._children.values()
        if isinstance(layer, CompactGeoJson) and layer.source is None
        for feature in layer.data["features"]
        for key in ("popup", "tooltip")
    ]
    return plain("\n".join(texts))


def incident_data(m: folium.Map) -> dict:
    """The data of the map's incident layers (markers, popups, tooltips)."""
    (element,) = [c for c in m._children.values() if isinstance(c, IncidentLayers)]
    return element.data


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("payload", [SCRIPT, IMG])
def test_markup_in_data_appears_only_escaped(pages: dict[str, str], lang: str, payload: str):
    page = pages[lang]
    assert payload not in page
    assert payload not in decoded(page)
    assert html.escape(payload) in decoded(page)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_values_are_escaped_in_popups(pages: dict[str, str], lang: str):
    assert "Plantaciones &amp; Cía &lt;b&gt;SAC&lt;/b&gt;" in decoded(pages[lang])


@pytest.mark.parametrize("lang", ["en", "es"])
def test_confidential_incident_leaves_no_trace(pages: dict[str, str], lang: str):
    page = decoded(pages[lang])
    for secret in (SECRET_ID, SECRET_DESCRIPTION, SECRET_SOURCE, str(SECRET_LON), VICTIMS[0]):
        assert secret not in page


@pytest.mark.parametrize("lang", ["en", "es"])
def test_victims_and_non_public_descriptions_never_shown(pages: dict[str, str], lang: str):
    page = decoded(pages[lang])
    for victims in VICTIMS:
        assert victims not in page
    assert RESTRICTED_DESCRIPTION not in page
    assert "Community federation" in page  # the restricted incident itself is on the map


def test_features_carry_only_whitelisted_properties(maps: dict[str, folium.Map]):
    layers = geojson_layers(maps["en"])
    assert set(layers) == {
        "Territories (titled share)",
        "Parcels (tenure)",
        "Concessions",
        "Infrastructure",
    }
    for data in layers.values():
        for feature in data["features"]:
            assert set(feature["properties"]) == {"popup", "tooltip", "k"}
    data = incident_data(maps["en"])
    assert len(data["points"]) == len(data["popups"]) == len(data["tips"]) == 2
    # Each marker row holds numbers only: lat, lon, kind index, year, severity level, exact.
    for row in data["points"]:
        assert len(row) == 6 and all(v is None or isinstance(v, (int, float)) for v in row)


def test_display_geometry_is_lonlat_rounded_and_keeps_shared_borders(maps: dict[str, folium.Map]):
    layers = geojson_layers(maps["en"])
    for data in layers.values():
        coords = shapely.get_coordinates(
            [shapely.geometry.shape(f["geometry"]) for f in data["features"]]
        )
        assert np.all((coords[:, 0] > -75.0) & (coords[:, 0] < -74.5))
        assert np.all((coords[:, 1] > -8.7) & (coords[:, 1] < -8.2))
        np.testing.assert_array_equal(coords, np.round(coords, 5))
    territories = [
        shapely.geometry.shape(f["geometry"])
        for f in layers["Territories (titled share)"]["features"]
    ]
    assert shapely.coverage_is_valid(territories)


def test_territory_popup_tells_the_story_in_english(maps: dict[str, folium.Map]):
    page = popup_text(maps["en"])
    assert "200 of 8,600 ha titled (2.3 %)" in page
    assert "<th>Secured tenure</th><td>350 ha (4.1 %)</td>" in page
    assert "<th>Untitled</th><td>8,250 ha (95.9 %)</td>" in page
    assert "<th>Under concessions</th><td>6,000 ha (69.8 %)</td>" in page
    assert "on untitled land</th><td>5,900 ha</td>" in page
    assert "Agribusiness</th><td>6,000 ha</td>" in page
    assert page.count("<th>Titling in process</th><td>100 ha (8.1 %)</td>") == 1
    assert page.count("Titling in process") == 1  # only where positive
    assert "<th>Incidents</th><td>2 inside, 1 nearby</td>" in page
    assert "1,000 of 1,234 ha titled (81.0 %)" in page


def test_territory_popup_tells_the_story_in_spanish(maps: dict[str, folium.Map]):
    page = popup_text(maps["es"])
    assert "200 de 8 600 ha tituladas (2,3 %)" in page
    assert "<th>Tenencia asegurada</th><td>350 ha (4,1 %)</td>" in page
    assert "<th>No titulado</th><td>8 250 ha (95,9 %)</td>" in page
    assert "<th>En concesiones</th><td>6 000 ha (69,8 %)</td>" in page
    assert "<th>Incidentes</th><td>2 dentro, 1 en el entorno</td>" in page


def test_incident_popup_shows_date_kind_source_precision(pages: dict[str, str]):
    page = plain(pages["en"])
    assert "Attack" in page
    assert "<th>Date</th><td>2016-05-02</td>" in page
    assert "<th>Source</th><td>Public report</td>" in page
    assert "<th>Location precision</th><td>locality</td>" in page
    assert "withheld" in page


def test_legend_is_present(pages: dict[str, str]):
    page = plain(pages["en"])
    assert "gt-legend" in page
    assert "Titled share of the claimed territory" in page
    for label in ("0–10 %", "10–25 %", "25–50 %", "50–75 %", "75–100 %"):
        assert label in page
    for label in ("Cession in use", "Oil and gas", "Expired", "Attack", "Threat", "Road"):
        assert label in page
    assert "Killing" not in page  # only kinds on the map are listed


def test_spanish_labels(pages: dict[str, str]):
    page = plain(pages["es"])
    for label in (
        "Porcentaje titulado del territorio reclamado",
        "Territorios (% titulado)",
        "Predios (tenencia)",
        "Concesiones",
        "Incidentes",
        "Cesión en uso",
        "Hidrocarburos",
        "Agresión",
        "Titulación y conflictos territoriales",
    ):
        assert label in page
    for english in ("Under concessions", "Titled share", "Incidents", "Oil and gas", "Attack"):
        assert english not in page


def test_title_is_escaped(layers: dict[str, gpd.GeoDataFrame]):
    page = build_map(layers["territories"], title=f"Map {SCRIPT}", lang="en").get_root().render()
    assert SCRIPT not in decoded(page)
    assert f"<title>Map {html.escape(SCRIPT)}</title>" in page


def test_invalid_lang_raises(layers: dict[str, gpd.GeoDataFrame]):
    with pytest.raises(ValueError, match="lang"):
        build_map(layers["territories"], lang="fr")


def test_layer_without_crs_raises(layers: dict[str, gpd.GeoDataFrame]):
    with pytest.raises(CRSError, match="parcels"):
        build_map(
            layers["territories"], parcels=layers["parcels"].set_crs(None, allow_override=True)
        )


def test_sensitivity_variants(layers: dict[str, gpd.GeoDataFrame]):
    incidents = layers["incidents"].copy()
    incidents["sensitivity"] = [" Confidencial ", "PUBLIC", None]
    m = build_map(layers["territories"], incidents=incidents, lang="en", profile="internal")
    page = decoded(m.get_root().render())
    assert SECRET_DESCRIPTION not in page
    assert html.escape(SCRIPT) in page  # "PUBLIC" is public
    assert RESTRICTED_DESCRIPTION not in page  # missing sensitivity counts as restricted
    assert len(incident_data(m)["points"]) == 2


def test_public_profile_is_the_default_and_draws_only_public_incidents(layers):
    incidents = layers["incidents"].copy()
    incidents["sensitivity"] = ["restricted", "PUBLIC", None]
    m = build_map(layers["territories"], incidents=incidents, lang="en")
    assert len(incident_data(m)["points"]) == 1
    page = decoded(m.get_root().render())
    assert "2 incident(s) not shown" in page
    restricted_point = incidents.geometry.iloc[0]
    assert f"{restricted_point.x:.5f}" not in page and f"{restricted_point.y:.5f}" not in page
    with pytest.raises(ValueError, match="profile"):
        build_map(layers["territories"], profile="everything")


def test_builds_without_writing_files(layers, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    build_map(**layers, lang="en").get_root().render()
    assert list(tmp_path.iterdir()) == []


def test_map_fits_the_data(maps: dict[str, folium.Map]):
    page = maps["en"].get_root().render()
    assert "fitBounds" in page
    assert "[[-8.6, -74.9], [-8.3, -74.6]]" in page.replace("\n", "").replace("  ", "")


def test_overlapping_territories_are_simplified_one_by_one():
    wiggly = Polygon(
        [(-74.7 + 0.00005 * (i % 2), -8.5 + 0.001 * i) for i in range(101)]
        + [(-74.8, -8.4), (-74.8, -8.5)]
    )
    territories = gpd.GeoDataFrame(
        {"territory_id": ["A", "B"]}, geometry=[wiggly, box(-74.75, -8.5, -74.6, -8.4)], crs=4326
    )
    m = build_map(territories, lang="en")
    (data,) = geojson_layers(m).values()
    assert (
        len(shapely.get_coordinates(shapely.geometry.shape(data["features"][0]["geometry"]))) < 50
    )


@pytest.mark.parametrize(
    ("value", "lang", "decimals", "expected"),
    [
        (8600, "en", 0, "8,600"),
        (8600, "es", 0, "8\xa0600"),
        (1234567.25, "es", 1, "1\xa0234\xa0567,3"),
        (2.3256, "en", 1, "2.3"),
        (-0.01, "en", 0, "0"),
        (1234.5, "en", 0, "1,235"),
        (2.675, "es", 2, "2,68"),
        (1e6, "en", 0, "1,000,000"),
        (None, "en", 0, "n/a"),
        (float("nan"), "es", 0, "s/d"),
        ("x", "es", 0, "s/d"),
    ],
)
def test_format_number(value, lang, decimals, expected):
    assert format_number(value, lang, decimals) == expected


def test_format_units():
    assert format_hectares(8600, "es") == "8\xa0600\xa0ha"
    assert format_hectares(0.44, "en") == "0.4\xa0ha"
    assert format_hectares(None, "en") == "n/a"
    assert format_percent(2.3256, "es") == "2,3\xa0%"
    with pytest.raises(ValueError, match="lang"):
        format_number(1, "fr")


# --------------------------------------------------------------------------------------------
# Risk layer
# --------------------------------------------------------------------------------------------

TEXT_PARCELS = {"en": "Parcels (tenure)", "es": "Predios (tenencia)"}
RISK_DRIVERS = f"critical: 98 % untitled, 5 incidents in or near it since 2012 {SCRIPT}"


@pytest.fixture(scope="module")
def risk_maps(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, folium.Map]:
    territories = layers["territories"].copy()
    territories["risk_score"] = [80.0, 12.0]
    territories["risk_class"] = ["critical", "low"]
    territories["risk_drivers"] = [RISK_DRIVERS, "low: 19 % untitled"]
    territories["risk_missing"] = ["deforestation", ""]
    territories["incidents_uncertain"] = [3, 0]
    territories["forest_loss_ha"] = [120.0, np.nan]
    return {
        lang: build_map(territories, layers["parcels"], lang=lang, profile="internal")
        for lang in ("en", "es")
    }


@pytest.fixture(scope="module")
def risk_pages(risk_maps: dict[str, folium.Map]) -> dict[str, str]:
    return {lang: m.get_root().render() for lang, m in risk_maps.items()}


@pytest.mark.parametrize(
    ("lang", "risk_name", "titled_name"),
    [
        ("en", "Risk class", "Territories (titled share)"),
        ("es", "Clase de riesgo", "Territorios (% titulado)"),
    ],
)
def test_risk_and_titled_layers_share_one_set_of_features(
    risk_maps: dict[str, folium.Map], risk_pages, lang: str, risk_name: str, titled_name: str
):
    m = risk_maps[lang]
    layers = {c.layer_name: c for c in m._children.values() if isinstance(c, folium.GeoJson)}
    assert set(layers) == {risk_name, titled_name, TEXT_PARCELS[lang]}
    risk, titled = layers[risk_name], layers[titled_name]
    assert risk.show is True and titled.show is False
    for feature in risk.data["features"]:
        assert set(feature["properties"]) == {"popup", "tooltip", "k", "t"}
    assert [f["properties"]["k"] for f in risk.data["features"]] == ["critical", "low"]
    page = plain(risk_pages[lang])
    assert risk_name in page and titled_name in page
    # Only the shown layer is added to the map on opening; the hidden one is in the control.
    assert f"{risk.get_name()}.addTo(" in page
    assert f"{titled.get_name()}.addTo(" not in page
    # The popups are embedded once (issue 15: as rows of values): the titled layer draws the
    # risk layer's decoded features, and only territories and parcels ship a payload.
    assert titled.payload is None and titled.source is risk
    assert f"var C = {risk.get_name()}.gtData;" in page
    assert page.count('<script type="application/json" id="compact_geo_json_') == 2
    assert page.count('"80"') == 1


def test_risk_popup_in_english(risk_maps: dict[str, folium.Map]):
    page = popup_text(risk_maps["en"])
    assert "Risk: critical (80/100)" in page
    assert "Risk: low (12/100)" in page
    assert "<b>Drivers:</b> critical: 98 % untitled" in page
    assert "score is a lower bound: missing deforestation" in page
    assert page.count("lower bound") == 1
    assert "<th>Incidents</th><td>2 inside, 1 nearby, 3 uncertain</td>" in page
    assert "<th>Forest loss</th><td>120 ha</td>" in page
    assert page.count("Forest loss") == 1
    assert "200 of 8,600 ha titled (2.3 %)" in page


def test_risk_popup_in_spanish(risk_maps: dict[str, folium.Map]):
    page = popup_text(risk_maps["es"])
    assert "Riesgo: crítico (80/100)" in page
    assert "<b>Motivos:</b> critical: 98 % untitled" in page
    # Issue 11.9: the missing components are named in Spanish (was "faltan deforestation").
    assert "puntaje mínimo: faltan deforestación" in page
    assert "deforestation" not in page
    assert "<th>Incidentes</th><td>2 dentro, 1 en el entorno, 3 inciertos</td>" in page
    assert "<th>Pérdida de bosque</th><td>120 ha</td>" in page
    assert "200 de 8 600 ha tituladas (2,3 %)" in page


@pytest.mark.parametrize("lang", ["en", "es"])
def test_risk_drivers_appear_only_escaped(risk_pages: dict[str, str], lang: str):
    page = risk_pages[lang]
    assert SCRIPT not in page and SCRIPT not in decoded(page)
    assert html.escape(RISK_DRIVERS) in decoded(page)


@pytest.mark.parametrize(
    ("lang", "heading", "labels"),
    [
        ("en", "Risk class", ("Low", "Medium", "High", "Critical")),
        ("es", "Clase de riesgo", ("Bajo", "Medio", "Alto", "Crítico")),
    ],
)
def test_risk_legend(risk_pages: dict[str, str], lang: str, heading: str, labels: tuple):
    page = plain(risk_pages[lang])
    legend = page[page.rindex("gt-legend") :].replace('\\"', '"')
    assert f'<div class="gt-sec">{heading}</div>' in legend
    for label, colour in zip(labels, ("#1a9850", "#fee08b", "#fc8d59", "#d73027"), strict=True):
        assert f'background:{colour}"></span>{label}</div>' in legend
    assert "0–10 %" in legend  # the titled-share classes stay in the legend


def test_without_risk_columns_the_layers_are_unchanged(maps: dict[str, folium.Map], pages):
    layers = {
        c.layer_name: c for c in maps["en"]._children.values() if isinstance(c, folium.GeoJson)
    }
    assert layers["Territories (titled share)"].show is True
    for lang in ("en", "es"):
        page = plain(pages[lang])
        for absent in ("Risk class", "Clase de riesgo", "Risk:", "Riesgo:", "toGeoJSON"):
            assert absent not in page


# --------------------------------------------------------------------------------------------
# Layers, controls and popups added for the advocates' map (issue 6)
# --------------------------------------------------------------------------------------------


def test_territory_popup_lists_holders_and_incidents_by_year(layers):
    overlaps = pd.DataFrame(
        {
            "territory_id": ["T-001", "T-001", "T-001"],
            "kind": ["agribusiness", "oil_gas", "agribusiness"],
            "status": ["active", "expired", "active"],
            "holder": ["Plantaciones & Cía <b>SAC</b>", "Petro Andina", "Aceites SA"],
            "overlap_ha": [4000.0, 900.0, 2000.0],
        }
    )
    timeseries = pd.DataFrame(
        {
            "territory_id": ["T-001", "T-001", "T-002"],
            "year": [2014, 2016, 2016],
            "incidents_inside": [1, 0, 0],
            "incidents_nearby": [0, 2, 0],
        }
    )
    m = build_map(layers["territories"], overlaps=overlaps, timeseries=timeseries, lang="es")
    page = plain(m.get_root().render())
    # Largest first, expired left out, holder escaped, hectares in Spanish format.
    first = page.index("Agroindustria · Plantaciones &amp; Cía &lt;b&gt;SAC&lt;/b&gt;: 4 000 ha")
    assert page.index("Agroindustria · Aceites SA: 2 000 ha") > first
    assert "Petro Andina" not in page
    assert "<div>2014: 1 · 2016: 2</div>" in page  # T-002's zero year is left out


def test_many_incidents_are_drawn_as_grid_counts(layers):
    rng = np.random.default_rng(7)
    n = 500
    incidents = gpd.GeoDataFrame(
        {
            "date": rng.choice(["2015-01-01", "2016-06-30", None], n).tolist(),
            "kind": "attack",
            "description": SECRET_DESCRIPTION,
            "sensitivity": "public",
        },
        geometry=gpd.points_from_xy(
            rng.uniform(-74.8, -74.6, n), rng.uniform(-8.5, -8.4, n)
        ),
        crs=4326,
    )
    m = build_map(layers["territories"], incidents=incidents, lang="en", max_points=100)
    data = incident_data(m)
    assert data["mode"] == "cells" and data["years"] == [2015, 2016]
    counts = np.array([row[2:] for row in data["cells"]])
    assert counts.sum() == n  # every incident counted once, undated ones in the last column
    assert counts[:, 2].sum() == (incidents["date"].isna()).sum()
    page = decoded(m.get_root().render())
    assert SECRET_DESCRIPTION not in page  # counts only: no popups per incident
    assert "Too many incidents for one marker each" in page


def test_generalised_incidents_are_drawn_on_public_maps_with_a_notice(layers):
    incidents = layers["incidents"].copy()
    incidents["location_generalised"] = [False, False, True]
    incidents["location_uncertainty_m"] = [np.nan, np.nan, 5000.0]
    m = build_map(layers["territories"], incidents=incidents, lang="en")
    data = incident_data(m)
    assert len(data["points"]) == 2  # the public one and the generalised restricted one
    page = plain(m.get_root().render())
    assert "generalised (± 5.0 km)" in page
    assert "1 incident location(s) generalised to protect the people involved" in page
    assert RESTRICTED_DESCRIPTION not in page and SECRET_DESCRIPTION not in page
    # The generalised point is drawn as approximate (hollow), never as exact.
    assert [row[5] for row in data["points"]] == [1, 0]


def test_layer_control_groups_and_spanish_labels(layers):
    territories = layers["territories"].copy()
    territories["risk_class"] = ["critical", "low"]
    territories["risk_drivers"] = ["critical: 98 % untitled", "low: 9 % untitled"]
    territories["risk_drivers_es"] = ["crítico: 98 % sin titular", "bajo: 9 % sin titular"]
    m = build_map(territories, incidents=layers["incidents"], lang="es", profile="internal")
    (control,) = [c for c in m._children.values() if isinstance(c, GroupedLayers)]
    assert list(control.groups) == ["Territorios (color)", "Incidentes"]
    assert [label for label, _, _ in control.groups["Territorios (color)"]] == [
        "Clase de riesgo",
        "Territorios (% titulado)",
    ]
    assert control.exclusive == ["Territorios (color)"]  # one shading at a time
    assert [shown for _, _, shown in control.groups["Incidentes"]] == [True, False]  # heat off
    page = plain(m.get_root().render())
    assert "crítico: 98 % sin titular" in page and "98 % untitled" not in page
    assert "Buscar una comunidad" in page and "Fuentes" in page


def test_hexagons_have_tooltips_only(layers):
    hexagons = gpd.GeoDataFrame(
        {"h3": ["a", "b"], "risk": [0.05, 0.65], "violence": [0.0, 0.9],
         "concessions": [0.1, 0.5], "tenure": [0.2, 0.7], "n_cells": [3, 4]},
        geometry=[box(-74.8, -8.5, -74.75, -8.45), box(-74.75, -8.5, -74.7, -8.45)],
        crs=4326,
    )
    m = build_map(layers["territories"], hexagons=hexagons, lang="en")
    data = geojson_layers(m)["Risk surface (hexagons)"]
    assert [f["properties"]["k"] for f in data["features"]] == [0, 3]
    assert set(data["features"][0]["properties"]) == {"tooltip", "k"}
    assert data["features"][1]["properties"]["tooltip"].startswith("Combined risk (0-1): 0.65")


def test_hexagons_say_where_tenure_is_not_known(layers):
    """Issue 15: a hexagon without tenure says so; the notes explain the renormalised risk."""
    hexagons = gpd.GeoDataFrame(
        {"h3": ["a", "b", "c"], "risk": [0.05, 0.65, 0.3], "violence": [0.0, 0.9, 0.2],
         "concessions": [0.1, 0.5, 0.4], "tenure": [0.2, np.nan, 0.5],
         "tenure_known": [1.0, 0.0, 0.5], "n_cells": [3, 4, 2]},
        geometry=[box(-74.8, -8.5, -74.75, -8.45), box(-74.75, -8.5, -74.7, -8.45),
                  box(-74.7, -8.5, -74.65, -8.45)],
        crs=4326,
    )
    m = build_map(layers["territories"], hexagons=hexagons, lang="en")
    tips = [f["properties"]["tooltip"]
            for f in geojson_layers(m)["Risk surface (hexagons)"]["features"]]
    assert tips[0].endswith("Untitled share: 0.20")
    assert tips[1].endswith("Untitled share: n/a (tenure not known here)")  # never 0.00
    assert "tenure not known in part of this hexagon" in tips[2]
    page = plain(m.get_root().render())
    assert "leaves it out and weighs violence and concessions only" in page
    known = hexagons.assign(tenure=[0.2, 0.1, 0.5], tenure_known=1.0)
    page = plain(build_map(layers["territories"], hexagons=known, lang="en").get_root().render())
    assert "leaves it out" not in page
    m = build_map(layers["territories"], hexagons=hexagons, lang="es")
    assert "tenencia no conocida aquí" in plain(m.get_root().render())


def test_sources_box_is_escaped(layers):
    m = build_map(layers["territories"], sources=[f"incidents: {IMG}"], lang="en")
    page = decoded(m.get_root().render())
    assert IMG not in page and html.escape(f"incidents: {IMG}") in page


def test_compacted_page_keeps_values_and_script_boundaries(pages: dict[str, str]):
    page = pages["en"]
    compact = compact_json_escapes(page)
    assert len(compact) < len(page)
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", compact, re.DOTALL)
    assert len(scripts) == len(re.findall(r"<script[^>]*>(.*?)</script>", page, re.DOTALL))
    assert all("</script" not in body.lower() and "<!--" not in body for body in scripts)
    # The JSON values are the same once decoded.
    assert decoded(compact).replace("<\\/", "</") == decoded(page).replace("<\\/", "</")


def test_sources_box_names_only_sources_of_drawn_incidents(layers, tmp_path):
    from geotools.io import Layer
    from geotools.maps import describe_sources
    from geotools.validation import Ledger

    ledger = Ledger("incidents", "i.csv", 3)
    layer = Layer("incidents", layers["incidents"], ledger, tmp_path / "i.csv", "0")
    public = " ".join(describe_sources({"incidents": layer}))
    assert "Public report" in public
    assert SECRET_SOURCE not in public and "Community federation" not in public
    internal = " ".join(describe_sources({"incidents": layer}, "internal"))
    assert "Community federation" in internal and SECRET_SOURCE not in internal


def test_sources_box_names_layers_in_the_map_language(case, tmp_path):
    """The sources box of a Spanish map says "Concesiones", "Predios"..., never the English
    layer kind; the English map says "Concessions", "Parcels"."""
    import pyogrio
    from click.testing import CliRunner

    from geotools.cli import main
    from geotools.maps.style import VALUE_LABELS, layer_label

    args = []
    for kind, frame in case.items():
        pyogrio.write_dataframe(frame, tmp_path / f"{kind}.gpkg")
        args += [f"--{kind}", str(tmp_path / f"{kind}.gpkg")]
    expected = {
        "es": ["Territorios: territories.gpkg", "Predios: parcels.gpkg",
               "Concesiones: concessions.gpkg", "Incidentes: incidents.gpkg"],
        "en": ["Territories: territories.gpkg", "Parcels: parcels.gpkg",
               "Concessions: concessions.gpkg", "Incidents: incidents.gpkg"],
    }
    for lang, lines in expected.items():
        out = tmp_path / f"map_{lang}.html"
        result = CliRunner().invoke(
            main, ["map", *args, "--lang", lang, "--no-hexagons", "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        page = out.read_text(encoding="utf-8")
        for line in lines:
            assert line in page, (lang, line)
        for kind in case:
            assert f"{kind}: {kind}.gpkg" not in page  # the bare English kind is gone
    # Every layer kind has a label in both languages.
    from geotools.io import LAYER_KINDS

    for lang in ("es", "en"):
        assert set(LAYER_KINDS) <= set(VALUE_LABELS["layer"][lang])
    assert layer_label("communities", "es") == "Comunidades"
    assert layer_label("protected", "es") == "protected"  # an --areas name stays as given


@pytest.mark.realdata
def test_displayed_areas_stay_within_one_percent(realdata, monkeypatch):
    """Real community polygons, drawn at the coarsest tolerance the vertex budget allows."""
    from geotools.area import compute_geodesic_area_ha
    from geotools.maps import MAX_DISPLAY_AREA_ERROR_PCT

    name = "peru_indigenous_territories_mining_impacts_v2025-11-07.geojson"
    path = realdata / "amazon-mining-watch" / name
    communities = gpd.read_file(path).to_crs(4326)
    communities = communities.loc[communities.is_valid & ~communities.is_empty].reset_index()
    # A tiny vertex budget pushes the simplification as far as the 1 % rule lets it go.
    monkeypatch.setattr("geotools.maps.layers.MAX_DISPLAY_VERTICES", 10)
    m = build_map(communities[["geometry"]].assign(territory_id=communities.index.astype(str)))
    (shown,) = [layer["features"] for layer in geojson_layers(m).values()]
    shown_geoms = gpd.GeoSeries([shapely.geometry.shape(f["geometry"]) for f in shown], crs=4326)
    true_ha = compute_geodesic_area_ha(communities.geometry)
    shown_ha = compute_geodesic_area_ha(shown_geoms)
    error = 100 * np.abs(shown_ha - true_ha) / true_ha
    assert len(shown) == len(communities)
    assert error.max() <= MAX_DISPLAY_AREA_ERROR_PCT
    # ... and the budget did simplify (these polygons are already coarse: few vertices go).
    before = shapely.get_num_coordinates(communities.geometry.values).sum()
    assert shapely.get_num_coordinates(shown_geoms.values).sum() < before


def test_maps_read_sensitivity_like_the_publisher(layers):
    """One rule for maps and bundles: accents accepted, unknown values count as confidential."""
    incidents = layers["incidents"].copy()
    incidents["sensitivity"] = ["secreto", "Pública", "restringida"]
    public = build_map(layers["territories"], incidents=incidents, lang="en")
    assert len(incident_data(public)["points"]) == 1
    internal = build_map(layers["territories"], incidents=incidents, lang="en", profile="internal")
    page = decoded(internal.get_root().render())
    assert len(incident_data(internal)["points"]) == 2 and SECRET_SOURCE not in page
