"""Interactive web maps (Leaflet, via folium) of territories, tenure, concessions and incidents.

:func:`build_map` builds a :class:`folium.Map`; it never writes files (call ``m.save(path)``).

What reaches the HTML
---------------------
folium embeds every property of every GeoJSON feature in the page, whether a popup shows it or
not. This module therefore never hands a frame to folium: it builds each layer's GeoJSON itself,
with exactly three properties per feature:

- ``popup``: the popup, as HTML in which every value taken from the data is escaped
  (:func:`geotools.map_elements.escape_html`);
- ``tooltip``: the hover text, escaped likewise;
- ``k``: a style key (a class number or vocabulary values, never free text).

Leaflet inserts popups and tooltips with ``innerHTML``, so escaping here is what stops a name or
description such as ``<img src=x onerror=alert(1)>`` from running as code in the reader's browser.
Braces are escaped too (``&#123;``): folium and branca parse what each element renders as a
Jinja2 template, and text from data must never be read as one. The map is rendered in a
:class:`geotools.map_elements.MapPage`, which inserts each element's output once, as text.
Numbers are formatted per language (:func:`format_number`).

Display geometry
----------------
Layers are reprojected to EPSG:4326, simplified with a tolerance of about 11 m, or coarser when
a layer would otherwise keep more than :data:`MAX_DISPLAY_VERTICES` vertices, as long as every
polygon keeps its area within :data:`MAX_DISPLAY_AREA_ERROR_PCT` (territories and parcels that
form a valid coverage use the topology-preserving ``shapely.coverage_simplify``, so shared
borders stay shared) and snapped to a
:data:`COORDINATE_GRID_DEG` grid (5 decimals, about 1 m). The map is for display only: hectares
shown in popups come from the input columns, never from these geometries.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.plugins import Fullscreen, MiniMap
from pyproj import CRS

from geotools.crs import PERU_BOUNDS
from geotools.errors import CRSError
from geotools.map_elements import (
    GroupedLayers,
    HtmlControl,
    IncidentLayers,
    JsName,
    LinkedGeoJson,
    MapPage,
    PageAssets,
    SearchControl,
    encode_braces,
    escape_html,
)
from geotools.privacy import (
    GENERALISED_COLUMN,
    UNCERTAINTY_COLUMN,
    classify_sensitivity,
    parse_flag,
    select_drawable,
)
from geotools.schema import DEFAULT_SEVERITY

log = logging.getLogger(__name__)

#: Languages of labels, legends and popups.
LANGUAGES = ("es", "en")
#: Simplification tolerance of displayed polygons and lines, in degrees (about 11 m).
DISPLAY_TOLERANCE_DEG = 1e-4
#: Grid displayed coordinates are snapped to, in degrees (5 decimals, about 1 m).
COORDINATE_GRID_DEG = 1e-5

#: Class breaks (%) of the titled share of each territory; classes are closed on the left.
TITLED_BREAKS = (0, 10, 25, 50, 75, 100)
#: Sequential colours of the titled-share classes (ColorBrewer Purples, 5 classes).
TITLED_COLOURS = ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f")
NO_DATA_COLOUR = "#d9d9d9"
TERRITORY_OUTLINE = "#3f007d"

#: Risk classes of ``analysis.risk`` (low < 25 <= medium < 50 <= high < 75 <= critical) and their
#: colours (ColorBrewer RdYlGn, reversed).
RISK_COLOURS = {
    "low": "#1a9850",
    "medium": "#fee08b",
    "high": "#fc8d59",
    "critical": "#d73027",
}

TENURE_COLOURS = {
    "titled": "#1a9850",
    "cession_in_use": "#91cf60",
    "demarcated": "#fee08b",
    "in_process": "#fc8d59",
}
#: Outline and hatching colour, and hatching angle (degrees), of each concession kind.
CONCESSION_STYLES = {
    "mining": ("#d7191c", 45),
    "oil_gas": ("#111111", -45),
    "agribusiness": ("#a6611a", 0),
    "forestry": ("#7b3294", 90),
    "other": ("#636363", 45),
}
#: Outline dash pattern and opacity of each concession status.
STATUS_STYLES: dict[str, tuple[str | None, float]] = {
    "active": (None, 1.0),
    "in_process": ("8 5", 0.9),
    "expired": ("2 5", 0.5),
}
INCIDENT_COLOURS = {
    "killing": "#67000d",
    "protest_casualty": "#a50f15",
    "attack": "#e31a1c",
    "arson": "#fd8d3c",
    "threat": "#fecc5c",
    "eviction": "#6a3d9a",
    "invasion": "#b15928",
    "deforestation": "#4d9221",
    "spill": "#000000",
    "criminalization": "#1f78b4",
    "other": "#969696",
}
#: Colour and dash pattern of infrastructure lines by (normalised) kind; others use ``None``'s.
INFRASTRUCTURE_STYLES: dict[str | None, tuple[str, str | None]] = {
    "road": ("#7f4f24", None),
    "pipeline": ("#111111", "10 5"),
    "power_line": ("#e66101", "3 5"),
    None: ("#525252", "6 4"),
}

NBSP = "\u00a0"


TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Land titling and conflicts",
        "not_shown": "{n} incident(s) not shown: restricted or confidential records stay off "
        "maps meant for sharing until their locations are generalised.",
        "hint": "Click a territory for its figures; parcels and concessions open from their "
        "outline.",
        "layer_territories": "Territories (titled share)",
        "layer_parcels": "Parcels (tenure)",
        "layer_concessions": "Concessions",
        "layer_incidents": "Incidents",
        "layer_infrastructure": "Infrastructure",
        "base_map": "Map (OpenStreetMap)",
        "base_satellite": "Satellite (Esri)",
        "titled_share": "Titled share of the claimed territory",
        "no_data": "no data",
        "na": "n/a",
        "titled_sentence": "{titled} of {claimed}\u00a0ha titled ({pct})",
        "secured": "Secured tenure",
        "untitled": "Untitled",
        "in_process": "Titling in process",
        "on_untitled": "on untitled land",
        "in_concessions": "Under concessions",
        "incidents": "Incidents",
        "incidents_value": "{inside} inside, {nearby} nearby",
        "id": "ID",
        "parcel": "Parcel",
        "incident": "Incident",
        "tenure": "Tenure",
        "concession": "Concession",
        "kind": "Type",
        "status": "Status",
        "holder": "Holder",
        "date": "Date",
        "severity": "Severity",
        "source": "Source",
        "precision": "Location precision",
        "withheld": "Description and victims withheld (restricted record).",
        "concession_status": "Status (outline)",
        "hollow_note": "white: approximate or generalised location",
        "size_note": "size: severity 1-5",
        "name": "Name",
        "infrastructure": "Infrastructure",
        "layer_risk": "Risk class",
        "risk_class": "Risk class",
        "risk_line": "Risk: {label}",
        "risk_score": " ({score}/100)",
        "drivers": "Drivers",
        "drivers_english": "",
        "risk_missing": "score is a lower bound: missing {missing}",
        "uncertain": "{n} uncertain",
        "forest_loss": "Forest loss",
        "group_base": "Base map",
        "group_territories": "Territories (shading)",
        "group_pressure": "Tenure and pressure",
        "group_incidents": "Incidents",
        "layer_heat": "Incidents (heat map)",
        "layer_hexagons": "Risk surface (hexagons)",
        "hex_risk": "Combined risk (0-1)",
        "hex_violence": "Violence",
        "hex_concessions": "Concession share",
        "hex_tenure": "Untitled share",
        "search": "Find a community…",
        "fullscreen": "Full screen",
        "legend": "Legend",
        "fullscreen_exit": "Exit full screen",
        "search_none": "No territory by that name",
        "holders": "Concessions over it (holder, overlap)",
        "more": "and {n} more",
        "by_year": "Incidents in or near it, by year",
        "slider_title": "Incidents by year",
        "slider_only": "that year only",
        "slider_all": "All years",
        "slider_until": "Up to {year}",
        "slider_only_year": "{year} only",
        "slider_shown": "{n} shown",
        "cell_popup": "{n} incidents in this cell (about {km} km wide)",
        "cells_note": "Too many incidents for one marker each: counts per grid cell of about "
        "{km} km.",
        "generalised": "generalised (± {km} km)",
        "generalised_notice": "{n} incident location(s) generalised to protect the people "
        "involved: each is shown up to {km} km from where it happened.",
        "cluster_note": "numbers: grouped incidents (ring: most severe kind)",
        "heat_note": "heat map: switch on under Incidents",
        "sources": "Sources and licences",
        "sources_button": "Sources",
        "made_with": "Made with geotools {version}. Basemap tiles load from the internet "
        "(© OpenStreetMap contributors; satellite © Esri); everything else is in this file.",
    },
    "es": {
        "title": "Titulación y conflictos territoriales",
        "not_shown": "{n} incidente(s) no mostrado(s): los registros restringidos o "
        "confidenciales no se muestran en mapas para compartir hasta generalizar su ubicación.",
        "hint": "Haga clic en un territorio para ver sus cifras; predios y concesiones se abren "
        "desde su borde.",
        "layer_territories": "Territorios (% titulado)",
        "layer_parcels": "Predios (tenencia)",
        "layer_concessions": "Concesiones",
        "layer_incidents": "Incidentes",
        "layer_infrastructure": "Infraestructura",
        "base_map": "Mapa (OpenStreetMap)",
        "base_satellite": "Satélite (Esri)",
        "titled_share": "Porcentaje titulado del territorio reclamado",
        "no_data": "sin datos",
        "na": "s/d",
        "titled_sentence": "{titled} de {claimed}\u00a0ha tituladas ({pct})",
        "secured": "Tenencia asegurada",
        "untitled": "No titulado",
        "in_process": "Titulación en trámite",
        "on_untitled": "sobre tierra no titulada",
        "in_concessions": "En concesiones",
        "incidents": "Incidentes",
        "incidents_value": "{inside} dentro, {nearby} en el entorno",
        "id": "Código",
        "parcel": "Predio",
        "incident": "Incidente",
        "tenure": "Tenencia",
        "concession": "Concesión",
        "kind": "Tipo",
        "status": "Estado",
        "holder": "Titular",
        "date": "Fecha",
        "severity": "Gravedad",
        "source": "Fuente",
        "precision": "Precisión de la ubicación",
        "withheld": "Descripción y víctimas reservadas (registro restringido).",
        "concession_status": "Estado (borde)",
        "hollow_note": "blanco: ubicación aproximada o generalizada",
        "size_note": "tamaño: gravedad 1-5",
        "name": "Nombre",
        "infrastructure": "Infraestructura",
        "layer_risk": "Clase de riesgo",
        "risk_class": "Clase de riesgo",
        "risk_line": "Riesgo: {label}",
        "risk_score": " ({score}/100)",
        "drivers": "Motivos",
        "drivers_english": "(motivos en inglés)",
        "risk_missing": "puntaje mínimo: faltan {missing}",
        "uncertain": "{n} inciertos",
        "forest_loss": "Pérdida de bosque",
        "group_base": "Mapa base",
        "group_territories": "Territorios (color)",
        "group_pressure": "Tenencia y presión",
        "group_incidents": "Incidentes",
        "layer_heat": "Incidentes (mapa de calor)",
        "layer_hexagons": "Superficie de riesgo (hexágonos)",
        "hex_risk": "Riesgo combinado (0-1)",
        "hex_violence": "Violencia",
        "hex_concessions": "Proporción en concesiones",
        "hex_tenure": "Proporción no titulada",
        "search": "Buscar una comunidad…",
        "fullscreen": "Pantalla completa",
        "legend": "Leyenda",
        "fullscreen_exit": "Salir de pantalla completa",
        "search_none": "Ningún territorio con ese nombre",
        "holders": "Concesiones superpuestas (titular, superposición)",
        "more": "y {n} más",
        "by_year": "Incidentes dentro o en el entorno, por año",
        "slider_title": "Incidentes por año",
        "slider_only": "solo ese año",
        "slider_all": "Todos los años",
        "slider_until": "Hasta {year}",
        "slider_only_year": "Solo {year}",
        "slider_shown": "{n} mostrados",
        "cell_popup": "{n} incidentes en esta celda (de unos {km} km)",
        "cells_note": "Demasiados incidentes para un marcador cada uno: conteos por celda de "
        "unos {km} km.",
        "generalised": "generalizada (± {km} km)",
        "generalised_notice": "{n} ubicación(es) de incidentes generalizada(s) para proteger a "
        "las personas: cada una se muestra hasta a {km} km del lugar de los hechos.",
        "cluster_note": "números: incidentes agrupados (anillo: tipo más grave)",
        "heat_note": "mapa de calor: actívelo en Incidentes",
        "sources": "Fuentes y licencias",
        "sources_button": "Fuentes",
        "made_with": "Hecho con geotools {version}. Los mosaicos del mapa base se cargan de "
        "internet (© colaboradores de OpenStreetMap; satélite © Esri); todo lo demás está en "
        "este archivo.",
    },
}

#: Labels of vocabulary values, per column and language.
VALUE_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "tenure": {
        "en": {
            "titled": "Titled",
            "cession_in_use": "Cession in use",
            "demarcated": "Demarcated",
            "in_process": "In process",
        },
        "es": {
            "titled": "Titulado",
            "cession_in_use": "Cesión en uso",
            "demarcated": "Demarcado",
            "in_process": "En trámite",
        },
    },
    "concession_kind": {
        "en": {
            "mining": "Mining",
            "oil_gas": "Oil and gas",
            "agribusiness": "Agribusiness",
            "forestry": "Forestry",
            "other": "Other",
        },
        "es": {
            "mining": "Minería",
            "oil_gas": "Hidrocarburos",
            "agribusiness": "Agroindustria",
            "forestry": "Forestal",
            "other": "Otra",
        },
    },
    "status": {
        "en": {"active": "Active", "in_process": "In process", "expired": "Expired"},
        "es": {"active": "Vigente", "in_process": "En trámite", "expired": "Extinguida"},
    },
    "incident_kind": {
        "en": {
            "threat": "Threat",
            "attack": "Attack",
            "killing": "Killing",
            "arson": "Arson",
            "eviction": "Eviction",
            "invasion": "Invasion",
            "deforestation": "Deforestation",
            "spill": "Spill",
            "protest_casualty": "Protest casualty",
            "criminalization": "Criminalization",
            "other": "Other",
        },
        "es": {
            "threat": "Amenaza",
            "attack": "Agresión",
            "killing": "Asesinato",
            "arson": "Incendio provocado",
            "eviction": "Desalojo",
            "invasion": "Invasión",
            "deforestation": "Deforestación",
            "spill": "Derrame",
            "protest_casualty": "Víctima en protesta",
            "criminalization": "Criminalización",
            "other": "Otro",
        },
    },
    "precision": {
        "en": {
            "exact": "exact",
            "approximate": "approximate",
            "locality": "locality",
            "district": "district",
        },
        "es": {
            "exact": "exacta",
            "approximate": "aproximada",
            "locality": "localidad",
            "district": "distrito",
        },
    },
    "risk_class": {
        "en": {"low": "low", "medium": "medium", "high": "high", "critical": "critical"},
        "es": {"low": "bajo", "medium": "medio", "high": "alto", "critical": "crítico"},
    },
    # The components of the risk score (analysis.risk.COMPONENTS), as risk_missing lists them.
    "risk_component": {
        "en": {
            "tenure": "tenure",
            "concessions": "concessions",
            "violence": "violence",
            "deforestation": "deforestation",
            "infrastructure": "infrastructure",
        },
        "es": {
            "tenure": "tenencia",
            "concessions": "concesiones",
            "violence": "violencia",
            "deforestation": "deforestación",
            "infrastructure": "infraestructura",
        },
    },
    "infrastructure_kind": {
        "en": {"road": "Road", "pipeline": "Pipeline", "power_line": "Power line"},
        "es": {"road": "Carretera", "pipeline": "Ducto", "power_line": "Línea eléctrica"},
    },
}

#: Label prefix of popup rows that break down the row above them.
SUB_ROW = "&nbsp;&nbsp;· "

_CSS = """
<style>
.gt-box {background: rgba(255, 255, 255, 0.93); padding: 6px 10px; border-radius: 5px;
  box-shadow: 0 1px 5px rgba(0, 0, 0, 0.4); font: 12px/1.35 "Helvetica Neue", Arial, sans-serif;
  color: #222;}
.gt-title {max-width: 320px;}
.gt-title .gt-t {font-size: 16px; font-weight: 700;}
.gt-title .gt-hint {color: #555; font-size: 11px; margin-top: 2px;}
.gt-legend {max-height: calc(100vh - 230px); overflow-y: auto; max-width: 250px;}
.gt-legend .gt-note, .gt-legend .gt-row.gt-note {white-space: normal;}
.gt-legend .gt-cols {display: grid; grid-template-columns: auto auto; column-gap: 10px;}
.leaflet-control-layers {font-size: 13px;}
.gt-legend .gt-sec {font-weight: 700; margin: 6px 0 2px;}
.gt-legend .gt-sec:first-child {margin-top: 0;}
.gt-legend .gt-row {display: flex; align-items: center; gap: 6px; white-space: nowrap;}
.gt-legend .gt-note {color: #555; font-size: 11px;}
.gt-sw {width: 18px; height: 12px; flex: none; border: 1px solid #666; box-sizing: border-box;}
.gt-dot {width: 11px; height: 11px; flex: none; border-radius: 50%; border: 1px solid #fff;
  box-shadow: 0 0 0 1px #999; margin: 0 3px;}
.gt-popup {font: 12px/1.4 "Helvetica Neue", Arial, sans-serif; min-width: 200px;}
.gt-popup .gt-h {font-size: 14px; font-weight: 700;}
.gt-popup .gt-sub {color: #555;}
.gt-popup .gt-lead {margin: 4px 0; font-weight: 600;}
.foliumpopup .gt-popup table {border-collapse: collapse; margin: 0;}
.foliumpopup .gt-popup th {text-align: left; font-weight: 600; color: #444; padding: 1px 8px 1px 0;
  vertical-align: top;}
.gt-popup td {padding: 1px 0;}
.gt-popup .gt-desc {margin-top: 4px;}
.gt-popup .gt-note {margin-top: 4px; color: #666; font-style: italic;}
.leaflet-pane > svg path.leaflet-interactive.gt-outline-only {pointer-events: visibleStroke;}
.leaflet-interactive:focus:not(:focus-visible) {outline: none;}
.gt-popup .gt-sec2 {font-weight: 600; color: #444; margin-top: 5px;}
.gt-list {margin: 2px 0 0; padding-left: 16px;}
.gt-ico {background: none; border: none;}
.gt-ico svg {display: block; filter: drop-shadow(0 0 1px rgba(0, 0, 0, 0.6));}
.gt-legend .gt-row svg {flex: none;}
.gt-cluster div {width: 100%; height: 100%; box-sizing: border-box; border-radius: 50%;
  border: 4px solid #555; background: rgba(40, 40, 40, 0.85); color: #fff; font: 700 12px/1
  Arial, sans-serif; display: flex; align-items: center; justify-content: center;}
.gt-slider {width: 190px;}
.gt-slider input[type=range] {width: 100%; margin: 4px 0;}
.gt-search input {width: 190px; font-size: 13px; padding: 3px 5px; border: 1px solid #999;
  border-radius: 3px;}
.gt-sources {max-width: 280px; font-size: 11px;}
.gt-sources > div {max-height: 22vh; overflow-y: auto;}
.gt-toggle {font: 600 12px Arial, sans-serif; border: 0; background: none; padding: 0;
  cursor: pointer; color: #1f4e99;}
.leaflet-control-layers-group-name {font-weight: 700; display: block; margin-top: 4px;}
@media (max-width: 600px) {
  .leaflet-control-minimap, .gt-title .gt-hint {display: none;}
  .gt-title {max-width: 200px;}
}
</style>
"""


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}; got {lang!r}.")


def format_number(value: Any, lang: str, decimals: int = 0) -> str:
    """Format a number for display in ``lang``.

    English uses a comma for thousands and a point for decimals (``8,600``, ``2.3``). Spanish
    uses a no-break space (U+00A0) for thousands and a comma for decimals (``8 600``, ``2,3``), as
    recommended by the RAE and the SI; the no-break space keeps a number on one line.

    Parameters
    ----------
    value : number or None
        Value to format; ``None``, NaN and non-numbers give the language's "n/a". Halves are
        rounded away from zero (``2.675`` gives ``2.68``, as in a spreadsheet).
    lang : {"es", "en"}
        Language.
    decimals : int, default 0
        Number of decimals.

    Returns
    -------
    str
        Formatted number (plain text, not escaped).
    """
    _check_lang(lang)
    number = _as_float(value)
    if not np.isfinite(number):
        return TEXT[lang]["na"]
    # Half away from zero on the shortest decimal form (as spreadsheets do): 2.675 -> 2.68.
    rounded = Decimal(repr(number)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    text = f"{abs(rounded) if rounded.is_zero() else rounded:,.{decimals}f}"
    if lang == "es":
        text = text.replace(",", NBSP).replace(".", ",")
    return text


def format_hectares(value: Any, lang: str) -> str:
    """Format an area as ``"8,600 ha"``: whole hectares, one decimal below 10 ha.

    Parameters
    ----------
    value : number or None
        Area in hectares.
    lang : {"es", "en"}
        Language.

    Returns
    -------
    str
        Number and unit joined by a no-break space; "n/a" without unit when missing.
    """
    text = _hectare_number(value, lang)
    return text if text == TEXT[lang]["na"] else f"{text}{NBSP}ha"


def _hectare_number(value: Any, lang: str) -> str:
    """A number of hectares without unit: whole hectares, one decimal below 10 ha."""
    return format_number(value, lang, 1 if 0 < abs(_as_float(value)) < 10 else 0)


def format_percent(value: Any, lang: str) -> str:
    """Format a percentage (0-100) with one decimal, as ``"2.3 %"`` (no-break space before %).

    Parameters
    ----------
    value : number or None
        Percentage.
    lang : {"es", "en"}
        Language.

    Returns
    -------
    str
        Formatted percentage.
    """
    text = format_number(value, lang, 1)
    return text if text == TEXT[lang]["na"] else f"{text}{NBSP}%"


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """Return ``frame[name]``, or an all-missing series when the column is absent."""
    if name in frame.columns:
        return frame[name]
    return pd.Series(pd.NA, index=frame.index, dtype="object")


def _numbers(frame: pd.DataFrame, name: str) -> np.ndarray:
    return pd.to_numeric(_column(frame, name), errors="coerce").to_numpy(dtype=float)


def _escaped(values: pd.Series) -> list[str]:
    """Escape each value for HTML (quotes included); missing values become ``""``."""
    missing = values.isna().to_numpy()
    return ["" if gone else escape_html(v) for v, gone in zip(values, missing, strict=True)]


def _normalised(values: pd.Series) -> pd.Series:
    """Vocabulary values stripped and lower-cased (missing stays missing)."""
    return values.astype("string").str.strip().str.lower()


def _labels(values: pd.Series, table: dict[str, str]) -> list[str]:
    """Translate vocabulary values; unknown values are shown as given, escaped."""
    codes = _normalised(values)
    escaped = _escaped(values)
    return [
        table[c] if isinstance(c, str) and c in table else raw
        for c, raw in zip(codes.fillna("").to_list(), escaped, strict=True)
    ]


def component_names(value: Any, lang: str) -> str:
    """Risk components listed in ``risk_missing`` (``"violence,deforestation"``), in ``lang``.

    Names outside the vocabulary are kept as given; the result is plain text (escape it).

    >>> component_names("violence,deforestation", "es")
    'violencia, deforestación'
    """
    if not isinstance(value, str) or not value.strip():
        return ""
    table = VALUE_LABELS["risk_component"][lang]
    parts = (part.strip() for part in value.split(","))
    return ", ".join(table.get(part.lower(), part) for part in parts if part)


def _row(label: str, value: str) -> str:
    return f"<tr><th>{label}</th><td>{value}</td></tr>" if value else ""


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------


def _display_frame(
    frame: gpd.GeoDataFrame, layer: str, simplify: bool, coverage: bool = False
) -> gpd.GeoDataFrame:
    """Return ``frame`` in EPSG:4326 with display geometry (simplified, 5 decimals), no empties.

    The index is reset to 0..n-1 so that no identifier of the caller's leaks as a feature id.
    """
    if frame.crs is None:
        raise CRSError(
            f"The {layer} layer has no coordinate reference system; set one (e.g. "
            f"frame.set_crs('EPSG:4326')) before building a map."
        )
    wgs84 = CRS.from_epsg(4326)
    out = frame if frame.crs.equals(wgs84) else frame.to_crs(wgs84)
    geoms = out.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.all():
        log.info("%s: %d feature(s) without geometry left off the map.", layer, (~present).sum())
    out = out.loc[present].reset_index(drop=True)
    geoms = geoms[present]
    if simplify and len(geoms):
        geoms = _simplify(geoms, coverage)
    geoms = shapely.set_precision(geoms, COORDINATE_GRID_DEG)
    kept = ~shapely.is_empty(geoms)
    if not kept.all():
        log.info("%s: %d feature(s) too small to display left off.", layer, (~kept).sum())
    out = out.loc[kept].reset_index(drop=True)
    return out.set_geometry(gpd.GeoSeries(geoms[kept], crs=wgs84), crs=wgs84)


#: Simplification tolerances tried for display (degrees, about 11 m to 440 m), finest first.
DISPLAY_TOLERANCES_DEG = (DISPLAY_TOLERANCE_DEG, 2e-4, 5e-4, 1e-3, 2e-3, 4e-3)
#: A layer with more vertices than this after simplification is simplified further ...
MAX_DISPLAY_VERTICES = 150_000
#: ... as long as every displayed polygon stays within this share (%) of its true area.
MAX_DISPLAY_AREA_ERROR_PCT = 1.0


def _simplify_once(geoms: np.ndarray, coverage: bool, tolerance: float) -> np.ndarray:
    if coverage:
        try:
            if bool(shapely.coverage_is_valid(geoms)):
                return shapely.coverage_simplify(geoms, tolerance)
            log.debug("Polygons overlap or do not match exactly; simplifying each on its own.")
        except (AttributeError, shapely.errors.GEOSException, shapely.errors.ShapelyError) as exc:
            log.debug("coverage_simplify unavailable (%s); simplifying each polygon.", exc)
    return shapely.simplify(geoms, tolerance, preserve_topology=True)


def compute_display_area_error(original: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """Relative area change (%) of each displayed polygon, snapped as the map writes it.

    Both are lon/lat: for polygons of a few degrees or less, the ratio of planar areas in
    degrees equals the ratio of true areas to well under 0.01 %. Lines and points give 0.
    """
    before = shapely.area(original)
    after = shapely.area(shapely.set_precision(shown, COORDINATE_GRID_DEG))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(before > 0, 100.0 * (after - before) / before, 0.0)


def _simplify(geoms: np.ndarray, coverage: bool) -> np.ndarray:
    """Simplify for display; a valid polygon coverage keeps its shared edges shared.

    The finest tolerance of :data:`DISPLAY_TOLERANCES_DEG` is used unless the layer would keep
    more than :data:`MAX_DISPLAY_VERTICES` vertices; then coarser ones are tried, and the first
    that fits is taken, provided every polygon stays within :data:`MAX_DISPLAY_AREA_ERROR_PCT`
    of its area (otherwise the last tolerance that did is kept, and the map is larger).
    """
    chosen = _simplify_once(geoms, coverage, DISPLAY_TOLERANCES_DEG[0])
    tolerance = DISPLAY_TOLERANCES_DEG[0]
    for coarser in DISPLAY_TOLERANCES_DEG[1:]:
        if shapely.get_num_coordinates(chosen).sum() <= MAX_DISPLAY_VERTICES:
            break
        candidate = _simplify_once(geoms, coverage, coarser)
        error = np.abs(compute_display_area_error(geoms, candidate))
        if np.nanmax(error, initial=0.0) > MAX_DISPLAY_AREA_ERROR_PCT:
            log.info(
                "Display geometry kept at %.0e degrees: coarser would change an area by %.2f %%.",
                tolerance,
                np.nanmax(error),
            )
            break
        chosen, tolerance = candidate, coarser
    log.debug(
        "Display geometry simplified at %.0e degrees: %d vertices.",
        tolerance,
        shapely.get_num_coordinates(chosen).sum(),
    )
    return chosen


def _feature_collection(frame: gpd.GeoDataFrame, properties: dict[str, list[Any]]) -> dict:
    """GeoJSON of ``frame``'s geometry with exactly ``properties`` (whitelisted, escaped).

    Text properties are HTML (popups, tooltips) or style keys from a fixed vocabulary; their
    braces are written as character references in any case, so that folium's GeoJSON element,
    whose output branca parses as a template, never holds a ``{{``, ``{%`` or ``{#`` from data.
    """
    safe = {
        name: [encode_braces(v) if isinstance(v, str) else v for v in values]
        for name, values in properties.items()
    }
    layer = gpd.GeoDataFrame(safe, geometry=frame.geometry.array, crs=frame.crs)
    return layer.to_geo_dict(na="null", show_bbox=False, drop_id=False)


@dataclass
class _Overlay:
    """An overlay of the layer control: its group, label, JavaScript name and visibility."""

    group: str
    label: str
    js_name: JsName
    shown: bool = True


def _add_layer(
    target: folium.Map,
    frame: gpd.GeoDataFrame,
    properties: dict[str, list[Any]],
    styles: dict[Any, dict[str, Any]],
    name: str,
    overlays: list[_Overlay],
    group: str,
    highlight: dict[str, Any] | None = None,
    key: str = "k",
    linked_to: folium.GeoJson | None = None,
    **kwargs: Any,
) -> folium.GeoJson:
    """Add one GeoJSON layer styled by the ``key`` property, with popup and tooltip.

    With ``linked_to``, the layer draws that layer's features (``frame`` and ``properties`` are
    then ignored) instead of embedding them a second time.
    """
    highlight_function: Callable[[dict], dict] | None = (
        (lambda feature: highlight) if highlight is not None else None
    )
    options: dict[str, Any] = {
        "name": escape_html(name),
        "control": False,
        "style_function": lambda feature: styles[feature["properties"][key]],
        "highlight_function": highlight_function,
        "tooltip": folium.GeoJsonTooltip(fields=["tooltip"], labels=False, localize=False),
        "popup": folium.GeoJsonPopup(fields=["popup"], labels=False, localize=False, max_width=340),
        **kwargs,
    }
    if linked_to is None and "popup" not in properties:
        del options["popup"]
    layer = (
        folium.GeoJson(_feature_collection(frame, properties), **options)
        if linked_to is None
        else LinkedGeoJson(linked_to, **options)
    )
    layer.add_to(target)
    overlays.append(_Overlay(group, escape_html(name), JsName(layer), kwargs.get("show", True)))
    return layer


# --------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------


#: Column of a display frame holding extra, already escaped popup HTML (holders, years).
EXTRA_POPUP_COLUMN = "_gt_extra_html"


def _holder_blocks(
    territory_ids: pd.Series, overlaps: pd.DataFrame | None, lang: str, limit: int = 5
) -> dict[str, str]:
    """Popup block per territory: the concessions over it by kind and holder, largest first.

    Expired concessions are left out (they are not counted as pressure); at most ``limit``
    rows, then "and N more".
    """
    if overlaps is None or not len(overlaps) or "territory_id" not in overlaps.columns:
        return {}
    t = TEXT[lang]
    table = overlaps.loc[_normalised(_column(overlaps, "status")).fillna("") != "expired"]
    table = table.assign(
        _ha=pd.to_numeric(_column(table, "overlap_ha"), errors="coerce").fillna(0.0),
        _kind=_labels(_column(table, "kind"), VALUE_LABELS["concession_kind"][lang]),
        _holder=_escaped(_column(table, "holder")),
        _tid=_column(table, "territory_id").astype(str),
    )
    table = table.loc[table["_ha"] > 0].sort_values(["_tid", "_ha"], ascending=[True, False])
    table = table.loc[table["_tid"].isin(set(territory_ids.astype(str)))]
    if not len(table):
        return {}
    rank = table.groupby("_tid", sort=False).cumcount()
    shown = table.loc[rank < limit]
    holder = shown["_holder"].where(shown["_holder"] == "", " · " + shown["_holder"])
    kind = shown["_kind"].where(shown["_kind"] != "", t["concession"])
    items = "<li>" + kind + holder + ": " + shown["_ha"].map(
        lambda ha: format_hectares(ha, lang)
    ) + "</li>"
    lists = items.groupby(shown["_tid"], sort=False).agg("".join)
    hidden = table.groupby("_tid", sort=False).size() - limit
    more = hidden[hidden > 0].map(lambda n: f"<li>{t['more'].format(n=n)}</li>")
    lists = lists + more.astype(object).reindex(lists.index, fill_value="")
    head = f'<div class="gt-sec2">{t["holders"]}</div><ul class="gt-list">'
    return {str(tid): f"{head}{body}</ul>" for tid, body in lists.items()}


def _year_blocks(territory_ids: pd.Series, timeseries: pd.DataFrame | None, lang: str) -> dict:
    """Popup line per territory: incidents inside or nearby by year (``2014: 1 · 2016: 2``)."""
    if timeseries is None or not len(timeseries) or "year" not in timeseries.columns:
        return {}
    t = TEXT[lang]
    counts = pd.to_numeric(_column(timeseries, "incidents_inside"), errors="coerce").fillna(0)
    counts = counts + pd.to_numeric(
        _column(timeseries, "incidents_nearby"), errors="coerce"
    ).fillna(0)
    table = pd.DataFrame(
        {
            "tid": _column(timeseries, "territory_id").astype(str),
            "year": pd.to_numeric(timeseries["year"], errors="coerce"),
            "n": counts,
        }
    )
    table = table.loc[(table["n"] > 0) & table["year"].notna()].sort_values(["tid", "year"])
    wanted = set(territory_ids.astype(str))
    table = table.loc[table["tid"].isin(wanted)]
    text = (
        table["year"].astype(int).astype(str)
        + ": "
        + table["n"].map(lambda n: format_number(n, lang))
    )
    joined = text.groupby(table["tid"]).agg(" · ".join)
    return {
        tid: f'<div class="gt-sec2">{t["by_year"]}</div><div>{line}</div>'
        for tid, line in joined.items()
    }


def _titled_pct(frame: pd.DataFrame) -> np.ndarray:
    """``titled_pct``, or ``100 * titled_ha / claimed_ha`` where the column is absent."""
    if "titled_pct" in frame.columns:
        return _numbers(frame, "titled_pct")
    claimed = _numbers(frame, "claimed_ha")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(claimed > 0, 100.0 * _numbers(frame, "titled_ha") / claimed, np.nan)


def _titled_class(pct: np.ndarray) -> np.ndarray:
    """Class index (0-4) of each titled share; -1 where missing."""
    classes = np.digitize(pct, TITLED_BREAKS[1:-1])
    return np.where(np.isfinite(pct), classes, -1)


def _ha_and_pct(hectares: np.ndarray, percent: np.ndarray, lang: str) -> list[str]:
    """``"350 ha (4.1 %)"`` per element; the percentage is left out where missing."""
    return [
        format_hectares(ha, lang) + (f" ({format_percent(p, lang)})" if np.isfinite(p) else "")
        for ha, p in zip(hectares, percent, strict=True)
    ]


def _hectare_rows(frame: pd.DataFrame, lang: str, columns: Sequence[tuple[str, str]]) -> list[str]:
    """Popup rows ``label: X ha (Y %)`` for the ``*_ha`` columns present, where positive.

    The percentage comes from the matching ``*_pct`` column when there is one.
    """
    present = [(c, label) for c, label in columns if c in frame.columns]
    if not present:
        return [""] * len(frame)
    cells = [
        _ha_and_pct(_numbers(frame, c), _numbers(frame, c.removesuffix("_ha") + "_pct"), lang)
        for c, _ in present
    ]
    positive = np.column_stack([_numbers(frame, c) > 0 for c, _ in present])
    return [
        "".join(
            _row(label, cell)
            for (_, label), cell, show in zip(present, row_cells, row_positive, strict=True)
            if show
        )
        for row_cells, row_positive in zip(zip(*cells, strict=True), positive, strict=True)
    ]


def _risk_parts(frame: pd.DataFrame, lang: str) -> tuple[list[str], list[str], list[str]]:
    """Style keys, short labels (``"critical"``) and popup blocks of the risk columns.

    The popup block holds the class and score, the drivers sentence and, when components were
    missing, the note that the score is a lower bound; every value from the data is escaped.
    """
    t = TEXT[lang]
    codes = _normalised(_column(frame, "risk_class")).fillna("").to_list()
    keys = [c if c in RISK_COLOURS else "" for c in codes]
    labels = _labels(_column(frame, "risk_class"), VALUE_LABELS["risk_class"][lang])
    scores = _numbers(frame, "risk_score")
    spanish = lang == "es" and "risk_drivers_es" in frame.columns
    drivers_column = "risk_drivers_es" if spanish else "risk_drivers"
    drivers = _escaped(_column(frame, drivers_column))
    missing = _escaped(
        _column(frame, "risk_missing").map(lambda v: component_names(v, lang), na_action="ignore")
    )
    blocks = []
    for label, score, driver, gone in zip(labels, scores, drivers, missing, strict=True):
        score_text = (
            t["risk_score"].format(score=format_number(score, lang)) if np.isfinite(score) else ""
        )
        block = (
            f'<div class="gt-lead">{t["risk_line"].format(label=label or t["na"])}'
            f"{score_text}</div>"
        )
        if driver:
            note = f" {t['drivers_english']}" if lang != "en" and not spanish else ""
            block += f'<div class="gt-desc"><b>{t["drivers"]}:</b> {driver}{note}</div>'
        if gone.strip():
            block += f'<div class="gt-note">{t["risk_missing"].format(missing=gone.strip())}</div>'
        blocks.append(block)
    return keys, labels, blocks


def _territory_layer(
    m: folium.Map, frame: gpd.GeoDataFrame, lang: str, overlays: list[_Overlay]
) -> dict[str, Any]:
    """Territories shaded by titled share and, when ``risk_class`` is given, by risk class.

    With risk columns, both layers draw the same features (embedded once): the risk layer is
    shown on opening, the titled-share layer is listed in the layer control but hidden.
    """
    t = TEXT[lang]
    has_risk = "risk_class" in frame.columns
    pct = _titled_pct(frame)
    classes = _titled_class(pct)
    names = _escaped(_column(frame, "name"))
    ids = _escaped(_column(frame, "territory_id"))
    headings = [name or ident for name, ident in zip(names, ids, strict=True)]
    peoples = [
        f'<div class="gt-sub">{people}</div>' if people else ""
        for people in _escaped(_column(frame, "people"))
    ]
    leads = [
        t["titled_sentence"].format(
            titled=_hectare_number(titled, lang),
            claimed=_hectare_number(claimed, lang),
            pct=format_percent(share, lang),
        )
        for titled, claimed, share in zip(
            _numbers(frame, "titled_ha"), _numbers(frame, "claimed_ha"), pct, strict=True
        )
    ]
    secured = _ha_and_pct(_numbers(frame, "secured_ha"), _numbers(frame, "secured_pct"), lang)
    untitled = _ha_and_pct(_numbers(frame, "untitled_ha"), _numbers(frame, "untitled_pct"), lang)
    in_process = _hectare_rows(frame, lang, [("in_process_ha", t["in_process"])])
    conceded = _ha_and_pct(
        _numbers(frame, "concession_ha"), _numbers(frame, "concession_pct"), lang
    )
    kinds = VALUE_LABELS["concession_kind"][lang]
    kind_rows = _hectare_rows(
        frame,
        lang,
        [("concession_untitled_ha", f"{SUB_ROW}{t['on_untitled']}")]
        + [(f"concession_{k}_ha", f"{SUB_ROW}{kinds[k]}") for k in CONCESSION_STYLES],
    )
    incidents = [
        t["incidents_value"].format(
            inside=format_number(inside, lang), nearby=format_number(nearby, lang)
        )
        + (f", {t['uncertain'].format(n=format_number(unsure, lang))}" if unsure > 0 else "")
        for inside, nearby, unsure in zip(
            _numbers(frame, "incidents_inside"),
            _numbers(frame, "incidents_nearby"),
            _numbers(frame, "incidents_uncertain"),
            strict=True,
        )
    ]
    forest = [
        _row(t["forest_loss"], format_hectares(ha, lang)) if np.isfinite(ha) else ""
        for ha in _numbers(frame, "forest_loss_ha")
    ]
    if has_risk:
        risk_keys, risk_labels, risk_blocks = _risk_parts(frame, lang)
    else:
        risk_keys, risk_labels, risk_blocks = [], [], [""] * len(frame)
    popups = [
        f'<div class="gt-popup"><div class="gt-h">{heading}</div>{people}{risk}'
        f'<div class="gt-lead">{lead}</div><table>'
        + _row(t["secured"], sec)
        + inproc
        + _row(t["untitled"], unt)
        + _row(t["in_concessions"], conc)
        + krows
        + _row(t["incidents"], inc)
        + floss
        + _row(t["id"], ident)
        + "</table>"
        + extra
        + "</div>"
        for (
            heading, people, risk, lead, sec, inproc, unt, conc, krows, inc, floss, ident, extra
        ) in zip(
            headings,
            peoples,
            risk_blocks,
            leads,
            secured,
            in_process,
            untitled,
            conceded,
            kind_rows,
            incidents,
            forest,
            ids,
            _column(frame, EXTRA_POPUP_COLUMN).fillna("").to_list(),
            strict=True,
        )
    ]
    tooltips = [
        f"{heading} · {format_percent(share, lang)}"
        for heading, share in zip(headings, pct, strict=True)
    ]
    if has_risk:
        tooltips = [
            f"{tip} · {t['risk_line'].format(label=label)}" if label else tip
            for tip, label in zip(tooltips, risk_labels, strict=True)
        ]
    styles = {
        int(k): {
            "fillColor": TITLED_COLOURS[k] if k >= 0 else NO_DATA_COLOUR,
            "fillOpacity": 0.7,
            "color": TERRITORY_OUTLINE,
            "weight": 1.5,
        }
        for k in range(-1, len(TITLED_COLOURS))
    }
    highlight = {"weight": 3.5, "color": "#000000"}
    group = t["group_territories"]
    search_names = headings
    if not has_risk:
        layer = _add_layer(
            m,
            frame,
            {"popup": popups, "tooltip": tooltips, "k": classes.tolist()},
            styles,
            t["layer_territories"],
            overlays,
            group,
            highlight=highlight,
        )
        _add_search(m, layer, frame, search_names, lang)
        return {"no_data": bool((classes < 0).any())}
    risk_styles = {
        key: {
            "fillColor": RISK_COLOURS.get(key, NO_DATA_COLOUR),
            "fillOpacity": 0.7,
            "color": TERRITORY_OUTLINE,
            "weight": 1.5,
        }
        for key in ["", *RISK_COLOURS]
    }
    # One set of features, two styles: "k" is the risk class, "t" the titled-share class.
    risk_layer = _add_layer(
        m,
        frame,
        {"popup": popups, "tooltip": tooltips, "k": risk_keys, "t": classes.tolist()},
        risk_styles,
        t["layer_risk"],
        overlays,
        group,
        highlight=highlight,
    )
    _add_search(m, risk_layer, frame, search_names, lang)
    _add_layer(
        m,
        frame,
        {},
        styles,
        t["layer_territories"],
        overlays,
        group,
        highlight=highlight,
        key="t",
        linked_to=risk_layer,
        show=False,
    )
    log.debug("territories: risk layer shown, titled-share layer hidden.")
    return {
        "no_data": bool((classes < 0).any()),
        "risk": True,
        "risk_no_data": "" in risk_keys,
    }


def _add_search(
    m: folium.Map, layer: folium.GeoJson, frame: gpd.GeoDataFrame, names: list[str], lang: str
) -> None:
    """Search box over territory names (escaped; see :class:`SearchControl`).

    ``frame`` holds the layer's display geometry, in the order of its features.
    """
    ids = [feature.get("id") for feature in layer.data["features"]]
    inside = shapely.point_on_surface(frame.geometry.to_numpy())
    points = np.column_stack([shapely.get_y(inside), shapely.get_x(inside)]).round(5).tolist()
    t = TEXT[lang]
    m.add_child(SearchControl(layer, names, ids, points, t["search"], t["search_none"]))


def _parcel_layer(
    m: folium.Map, frame: gpd.GeoDataFrame, lang: str, overlays: list[_Overlay]
) -> list[str]:
    t = TEXT[lang]
    codes = _normalised(_column(frame, "tenure"))
    keys = [c if c in TENURE_COLOURS else "other" for c in codes.fillna("").to_list()]
    tenure = _labels(_column(frame, "tenure"), VALUE_LABELS["tenure"][lang])
    ids = _escaped(_column(frame, "parcel_id"))
    popups = [
        f'<div class="gt-popup"><div class="gt-h">{t["parcel"]} {ident}</div>'
        f"<table>{_row(t['tenure'], label)}</table></div>"
        for ident, label in zip(ids, tenure, strict=True)
    ]
    tooltips = [
        f"{t['parcel']} {ident}: {label}" if label else f"{t['parcel']} {ident}"
        for ident, label in zip(ids, tenure, strict=True)
    ]
    styles = {
        key: {
            "fillColor": colour,
            "fillOpacity": 0.6,
            "color": colour,
            "weight": 2.5,
            "opacity": 0.95,
        }
        for key, colour in [*TENURE_COLOURS.items(), ("other", NO_DATA_COLOUR)]
    }
    _add_layer(
        m,
        frame,
        {"popup": popups, "tooltip": tooltips, "k": keys},
        styles,
        t["layer_parcels"],
        overlays,
        t["group_pressure"],
        highlight={"weight": 4, "color": "#000000"},
        class_name="gt-outline-only",
    )
    return [k for k in (*TENURE_COLOURS, "other") if k in set(keys)]


def _concession_layer(
    m: folium.Map, frame: gpd.GeoDataFrame, lang: str, overlays: list[_Overlay]
) -> tuple[list[str], list[str]]:
    t = TEXT[lang]
    kind_codes = _normalised(_column(frame, "kind")).fillna("").to_list()
    status_codes = _normalised(_column(frame, "status")).fillna("").to_list()
    kinds = [k if k in CONCESSION_STYLES else "other" for k in kind_codes]
    statuses = [s if s in STATUS_STYLES else "active" for s in status_codes]
    kind_labels = _labels(_column(frame, "kind"), VALUE_LABELS["concession_kind"][lang])
    status_labels = _labels(_column(frame, "status"), VALUE_LABELS["status"][lang])
    ids = _escaped(_column(frame, "concession_id"))
    holders = _escaped(_column(frame, "holder"))
    popups = [
        f'<div class="gt-popup"><div class="gt-h">{t["concession"]} {ident}</div><table>'
        + _row(t["kind"], kind)
        + _row(t["status"], status)
        + _row(t["holder"], holder)
        + "</table></div>"
        for ident, kind, status, holder in zip(
            ids, kind_labels, status_labels, holders, strict=True
        )
    ]
    tooltips = [
        f"{kind} · {holder}" if holder else kind
        for kind, holder in zip(kind_labels, holders, strict=True)
    ]
    keys = [f"{k}|{s}" for k, s in zip(kinds, statuses, strict=True)]
    styles = {
        f"{kind}|{status}": {
            "fillColor": f"url(#gt-hatch-{kind})",
            "fillOpacity": opacity,
            "color": colour,
            "weight": 2.5,
            "opacity": opacity,
            "dashArray": dash,
        }
        for kind, (colour, _) in CONCESSION_STYLES.items()
        for status, (dash, opacity) in STATUS_STYLES.items()
    }
    _add_layer(
        m,
        frame,
        {"popup": popups, "tooltip": tooltips, "k": keys},
        styles,
        t["layer_concessions"],
        overlays,
        t["group_pressure"],
        highlight={"weight": 4.5},
        class_name="gt-outline-only",
    )
    present_kinds = [k for k in CONCESSION_STYLES if k in set(kinds)]
    present_statuses = [s for s in STATUS_STYLES if s in set(statuses)]
    return present_kinds, present_statuses


PROFILES = ("public", "internal")


def select_visible_incidents(incidents: gpd.GeoDataFrame, profile: str) -> gpd.GeoDataFrame:
    """Drop the incidents a map of ``profile`` must not hold, before anything else touches them.

    The rule is :func:`geotools.privacy.select_drawable`: ``public`` keeps incidents marked
    public (a missing sensitivity means restricted) and restricted ones whose location a
    publisher has already generalised (``location_generalised`` strictly true: "false", "no",
    "0" or "" are not); ``internal`` keeps everything but confidential records. Confidential
    records are dropped by both profiles, generalised or not. Sensitivity is read from
    ``sensitivity`` and from any other privacy-marker column (``privacidad``, ``confidencial``...;
    :func:`geotools.privacy.resolve_sensitivity`): missing means restricted, a value outside the
    vocabulary counts as confidential, so a typo fails safe.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Incident points with ``sensitivity`` and, optionally, ``location_generalised``.
    profile : {"public", "internal"}
        Who the map is for.

    Returns
    -------
    geopandas.GeoDataFrame
        The rows that may be drawn, in input order.
    """
    keep, _ = select_drawable(incidents, profile)
    if (~keep).any():  # the privacy gate (compute_shareable_view) says it once per view
        log.debug("incidents: %d record(s) left off the %s map.", (~keep).sum(), profile)
    return incidents.loc[keep]


def _date_texts(values: pd.Series) -> pd.Series:
    """ISO dates (``YYYY-MM-DD``) where ``values`` parse as dates; the values as given elsewhere."""
    try:
        parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
        return parsed.dt.strftime("%Y-%m-%d").where(parsed.notna(), values)
    except (TypeError, ValueError, AttributeError):  # e.g. mixed time zones
        return values


#: White symbol drawn inside each incident kind's coloured disc (SVG, 24 x 24 view box).
INCIDENT_GLYPHS = {
    "killing": '<rect x="10.5" y="4.5" width="3" height="15"/>'
    '<rect x="6.5" y="8" width="11" height="3"/>',
    "protest_casualty": '<rect x="10.5" y="6" width="3" height="12"/>'
    '<rect x="6" y="10.5" width="12" height="3"/>',
    "attack": '<rect x="10.5" y="5" width="3" height="9"/><circle cx="12" cy="17.3" r="1.8"/>',
    "arson": '<path d="M12 4c1 3 5 5 5 9a5 5 0 0 1-10 0c0-2 1-3.5 2-4.5 0 2 1 3 2 3 '
    '0-3-1-5 1-7.5z"/>',
    "threat": '<path d="M12 5.5l6.5 12h-13z"/>',
    "eviction": '<path d="M12 5l7 6h-2v7h-10v-7h-2z"/>',
    "invasion": '<path d="M5 10.5h8v-4l6 5.5-6 5.5v-4h-8z"/>',
    "deforestation": '<path d="M12 4l5 7h-3l4 5h-5v3h-2v-3h-5l4-5h-3z"/>',
    "spill": '<path d="M12 4c3 5 5 7.5 5 10a5 5 0 0 1-10 0c0-2.5 2-5 5-10z"/>',
    "criminalization": '<path d="M7 5h7l3 3v11h-10z"/>',
    "other": '<circle cx="12" cy="12" r="3.5"/>',
}
#: Above this many incidents the map draws counts on a grid instead of one marker each.
MAX_INCIDENT_POINTS = 20_000
#: At most this many grid cells when incidents are drawn as counts.
MAX_INCIDENT_CELLS = 5_000


def _incident_icon(kind: str, exact: bool = True, size: int = 16) -> str:
    """The incident icon of ``kind`` as inline SVG (same drawing as on the map)."""
    colour = INCIDENT_COLOURS.get(kind, INCIDENT_COLOURS["other"])
    fill, ink, stroke = (colour, "#ffffff", "#ffffff") if exact else ("#ffffff", colour, colour)
    return (
        f'<svg width="{size}" height="{size}" viewBox="0 0 24 24" aria-hidden="true">'
        f'<circle cx="12" cy="12" r="10.5" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="{1.5 if exact else 3}"/><g fill="{ink}">'
        f"{INCIDENT_GLYPHS.get(kind, INCIDENT_GLYPHS['other'])}</g></svg>"
    )


def _incident_years(frame: pd.DataFrame) -> np.ndarray:
    """Year of each incident's (ISO) date as float, NaN where unknown."""
    text = _column(frame, "date").astype("string").str.slice(0, 4)
    years = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    return np.where((years >= 1900) & (years <= 2100), years, np.nan)


def _incident_labels(lang: str, cell_km: float | None = None) -> dict[str, str]:
    t = TEXT[lang]
    labels = {
        "title": t["slider_title"],
        "only": t["slider_only"],
        "all": t["slider_all"],
        "until": t["slider_until"],
        "only_year": t["slider_only_year"],
        "shown": t["slider_shown"],
        "locale": "es-PE" if lang == "es" else "en-GB",
        "cell": "",
    }
    if cell_km is not None:
        labels["cell"] = html.escape(t["cell_popup"].replace("{km}", format_number(cell_km, lang)))
    return labels


def _incident_points(frame: gpd.GeoDataFrame, lang: str, kinds: list[str]) -> dict[str, Any]:
    """Marker rows, popups and tooltips of each incident (``points`` mode)."""
    t = TEXT[lang]
    kind_labels = [
        label or t["incident"]
        for label in _labels(_column(frame, "kind"), VALUE_LABELS["incident_kind"][lang])
    ]
    precision_codes = _normalised(_column(frame, "precision")).fillna("exact").to_list()
    precision_labels = _labels(_column(frame, "precision"), VALUE_LABELS["precision"][lang])
    public = classify_sensitivity(_column(frame, "sensitivity")) == "public"
    generalised = (
        parse_flag(frame[GENERALISED_COLUMN])
        if GENERALISED_COLUMN in frame.columns
        else np.zeros(len(frame), dtype=bool)
    )
    uncertainty_km = _numbers(frame, UNCERTAINTY_COLUMN) / 1000.0
    precision_labels = [
        t["generalised"].format(km=format_number(km, lang, 1) if np.isfinite(km) else "?")
        if gen
        else label
        for label, gen, km in zip(precision_labels, generalised, uncertainty_km, strict=True)
    ]
    # Descriptions are read for public incidents only; victims are never read at all.
    descriptions = _escaped(_column(frame, "description").where(public & ~generalised))
    sources = _escaped(_column(frame, "source"))
    dates = _escaped(_date_texts(_column(frame, "date")))
    severity = _numbers(frame, "severity")
    severity_text = [f"{format_number(s, lang)}/5" if np.isfinite(s) else "" for s in severity]
    default = np.array([DEFAULT_SEVERITY.get(k, 1) for k in kinds], dtype=float)
    level = np.clip(np.where(np.isfinite(severity), severity, default), 1, 5).round().astype(int)
    exact = np.array([p == "exact" for p in precision_codes], dtype=bool) & ~generalised
    popups = [
        f'<div class="gt-popup"><div class="gt-h">{kind}</div><table>'
        + _row(t["date"], date)
        + _row(t["severity"], sev)
        + _row(t["source"], source)
        + _row(t["precision"], precision)
        + "</table>"
        + (
            f'<div class="gt-desc">{desc}</div>'
            if is_public and not gen
            else f'<div class="gt-note">{t["withheld"]}</div>'
        )
        + "</div>"
        for kind, date, sev, source, precision, desc, is_public, gen in zip(
            kind_labels,
            dates,
            severity_text,
            sources,
            precision_labels,
            descriptions,
            public,
            generalised,
            strict=True,
        )
    ]
    tooltips = [
        f"{kind} · {date}" if date else kind for kind, date in zip(kind_labels, dates, strict=True)
    ]
    order = list(INCIDENT_COLOURS)
    kind_index = np.array([order.index(k) for k in kinds], dtype=int)
    years = _incident_years(frame)
    lat = np.round(shapely.get_y(frame.geometry.to_numpy()), 5)
    lon = np.round(shapely.get_x(frame.geometry.to_numpy()), 5)
    rows = [
        [float(y), float(x), int(k), None if np.isnan(year) else int(year), int(lv), int(e)]
        for y, x, k, year, lv, e in zip(lat, lon, kind_index, years, level, exact, strict=True)
    ]
    return {
        "points": rows,
        "popups": popups,
        "tips": tooltips,
        "generalised": int(generalised.sum()),
    }


def _incident_cells(frame: gpd.GeoDataFrame, year_list: list[int]) -> tuple[list, float]:
    """Incident counts per year on the coarsest-needed regular grid (``cells`` mode).

    The cell size starts at 0.05 degrees (about 5.5 km) and doubles until at most
    :data:`MAX_INCIDENT_CELLS` cells hold incidents. Returns the rows and the cell size in km.
    """
    lon = shapely.get_x(frame.geometry.to_numpy())
    lat = shapely.get_y(frame.geometry.to_numpy())
    years = _incident_years(frame)
    year_index = np.full(len(frame), len(year_list), dtype=np.int64)  # last column: no year
    known = np.isfinite(years)
    if year_list:
        year_index[known] = np.searchsorted(year_list, years[known].astype(int))
    size = 0.05
    while True:
        col = np.floor(lon / size).astype(np.int64)
        row = np.floor(lat / size).astype(np.int64)
        cells, inverse = np.unique(np.column_stack([col, row]), axis=0, return_inverse=True)
        if len(cells) <= MAX_INCIDENT_CELLS:
            break
        size *= 2
    inverse = inverse.ravel()
    width = len(year_list) + 1
    counts = np.bincount(inverse * width + year_index, minlength=len(cells) * width)
    counts = counts.reshape(len(cells), width)
    centre_lon = np.round((cells[:, 0] + 0.5) * size, 4)
    centre_lat = np.round((cells[:, 1] + 0.5) * size, 4)
    rows = [
        [float(y), float(x), *map(int, c)]
        for y, x, c in zip(centre_lat, centre_lon, counts, strict=True)
    ]
    return rows, size * 111.32


def _incident_layer(
    m: folium.Map,
    frame: gpd.GeoDataFrame,
    lang: str,
    overlays: list[_Overlay],
    max_points: int = MAX_INCIDENT_POINTS,
) -> tuple[list[str], int, float | None]:
    """Incidents as clustered icons and heat map with a year slider.

    Returns the kinds present (for the legend), the number of generalised locations drawn, and
    the grid cell size in km when incidents were drawn as counts (too many for one marker
    each), else None.
    """
    t = TEXT[lang]
    kind_codes = _normalised(_column(frame, "kind")).fillna("").to_list()
    kinds = [k if k in INCIDENT_COLOURS else "other" for k in kind_codes]
    years = _incident_years(frame)
    year_list = sorted({int(y) for y in years[np.isfinite(years)]})
    data: dict[str, Any] = {
        "colours": list(INCIDENT_COLOURS.values()),
        "glyphs": [INCIDENT_GLYPHS[k] for k in INCIDENT_COLOURS],
        "years": year_list,
    }
    generalised = 0
    cell_km: float | None = None
    if len(frame) > max_points:
        rows, cell_km = _incident_cells(frame, year_list)
        data.update(mode="cells", cells=rows)
        labels = _incident_labels(lang, cell_km)
        log.info(
            "incidents: %d records drawn as counts on %d grid cells of about %.0f km.",
            len(frame),
            len(rows),
            cell_km,
        )
    else:
        points = _incident_points(frame, lang, kinds)
        generalised = points.pop("generalised")
        data.update(mode="points", **points)
        labels = _incident_labels(lang)
    element = IncidentLayers(data, labels)
    m.add_child(element)
    group = t["group_incidents"]
    overlays.append(_Overlay(group, escape_html(t["layer_incidents"]), element.points_name))
    overlays.append(_Overlay(group, escape_html(t["layer_heat"]), element.heat_name, False))
    return [k for k in INCIDENT_COLOURS if k in set(kinds)], generalised, cell_km


#: Class breaks and colours (ColorBrewer YlOrRd, 5 classes) of the risk hexagons (0-1 scale).
HEXAGON_BREAKS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
HEXAGON_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")


def _hexagon_layer(
    m: folium.Map, frame: gpd.GeoDataFrame, lang: str, overlays: list[_Overlay]
) -> None:
    """Risk surface averaged on H3 hexagons (``compute_risk_hexagons``)."""
    t = TEXT[lang]
    risk = _numbers(frame, "risk")
    classes = np.where(np.isfinite(risk), np.digitize(risk, HEXAGON_BREAKS[1:-1]), -1)

    def value(column: str) -> list[str]:
        return [format_number(v, lang, 2) if np.isfinite(v) else t["na"] for v in
                _numbers(frame, column)]

    tooltips = [
        f"{t['hex_risk']}: {r} · {t['hex_violence']}: {v} · {t['hex_concessions']}: {c} · "
        f"{t['hex_tenure']}: {u}"
        for r, v, c, u in zip(
            value("risk"), value("violence"), value("concessions"), value("tenure"), strict=True
        )
    ]
    styles = {
        int(k): {
            "fillColor": HEXAGON_COLOURS[k] if k >= 0 else NO_DATA_COLOUR,
            "fillOpacity": 0.6,
            "color": "#7f7f7f",
            "weight": 0.4,
        }
        for k in range(-1, len(HEXAGON_COLOURS))
    }
    _add_layer(
        m,
        frame,
        {"tooltip": tooltips, "k": classes.tolist()},
        styles,
        t["layer_hexagons"],
        overlays,
        t["group_pressure"],
        show=False,
    )


def _infrastructure_style(code: str | None) -> tuple[str, str | None]:
    return INFRASTRUCTURE_STYLES.get(code, INFRASTRUCTURE_STYLES[None])


def _infrastructure_layer(
    m: folium.Map, frame: gpd.GeoDataFrame, lang: str, overlays: list[_Overlay]
) -> list[tuple[str, str]]:
    t = TEXT[lang]
    codes = _normalised(_column(frame, "kind")).fillna("").to_list()
    keys = [c if c in INFRASTRUCTURE_STYLES else "" for c in codes]
    kind_labels = _labels(_column(frame, "kind"), VALUE_LABELS["infrastructure_kind"][lang])
    names = _escaped(_column(frame, "name"))
    popups = [
        f'<div class="gt-popup"><div class="gt-h">{name or kind or t["infrastructure"]}</div>'
        f"<table>{_row(t['kind'], kind)}</table></div>"
        for name, kind in zip(names, kind_labels, strict=True)
    ]
    tooltips = [
        " · ".join(part for part in (name, kind) if part) or t["infrastructure"]
        for name, kind in zip(names, kind_labels, strict=True)
    ]
    styles = {
        key: {
            "color": _infrastructure_style(key or None)[0],
            "dashArray": _infrastructure_style(key or None)[1],
            "weight": 3,
            "opacity": 0.9,
        }
        for key in set(keys)
    }
    _add_layer(
        m,
        frame,
        {"popup": popups, "tooltip": tooltips, "k": keys},
        styles,
        t["layer_infrastructure"],
        overlays,
        t["group_pressure"],
        highlight={"weight": 5},
    )
    # One legend row per distinct displayed label, with the style of its first occurrence.
    rows: dict[str, str] = {}
    for key, label in zip(keys, kind_labels, strict=True):
        rows.setdefault(label or t["infrastructure"], key)
    return list(rows.items())


# --------------------------------------------------------------------------------------------
# Legend, title and page assets
# --------------------------------------------------------------------------------------------


def _hatch_svg() -> str:
    """Hidden SVG with one hatching pattern per concession kind (``url(#gt-hatch-<kind>)``)."""
    patterns = "".join(
        f'<pattern id="gt-hatch-{kind}" width="7" height="7" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate({angle})">'
        f'<line x1="0" y1="0" x2="0" y2="7" stroke="{colour}" stroke-width="2" '
        'stroke-opacity="0.75"/></pattern>'
        for kind, (colour, angle) in CONCESSION_STYLES.items()
    )
    return (
        '<svg width="0" height="0" style="position:absolute" aria-hidden="true" focusable="false">'
        f"<defs>{patterns}</defs></svg>"
    )


def _legend_html(
    lang: str,
    no_data: bool,
    tenures: Sequence[str],
    concession_kinds: Sequence[str],
    statuses: Sequence[str],
    incident_kinds: Sequence[str],
    infrastructure: Sequence[tuple[str, str]],
    risk: bool = False,
    risk_no_data: bool = False,
    hexagons: bool = False,
) -> str:
    """The legend's HTML; all labels are constants or already escaped."""
    t = TEXT[lang]
    parts = []
    if risk:
        labels = VALUE_LABELS["risk_class"][lang]
        parts.append(f'<div class="gt-sec">{t["risk_class"]}</div>')
        parts.extend(
            f'<div class="gt-row"><span class="gt-sw" style="background:{colour}"></span>'
            f"{labels[key].capitalize()}</div>"
            for key, colour in RISK_COLOURS.items()
        )
        if risk_no_data:
            parts.append(
                f'<div class="gt-row"><span class="gt-sw" style="background:{NO_DATA_COLOUR}">'
                f"</span>{t['no_data']}</div>"
            )
    parts.append(f'<div class="gt-sec">{t["titled_share"]}</div>')
    for low, high, colour in zip(
        TITLED_BREAKS[:-1], TITLED_BREAKS[1:], TITLED_COLOURS, strict=True
    ):
        parts.append(
            f'<div class="gt-row"><span class="gt-sw" style="background:{colour}"></span>'
            f"{low}–{high}{NBSP}%</div>"
        )
    if no_data:
        parts.append(
            f'<div class="gt-row"><span class="gt-sw" style="background:{NO_DATA_COLOUR}">'
            f"</span>{t['no_data']}</div>"
        )
    if tenures:
        labels = VALUE_LABELS["tenure"][lang]
        parts.append(f'<div class="gt-sec">{t["layer_parcels"]}</div>')
        parts.extend(
            f'<div class="gt-row"><span class="gt-sw" style="background:'
            f'{TENURE_COLOURS.get(k, NO_DATA_COLOUR)}"></span>{labels.get(k, t["no_data"])}</div>'
            for k in tenures
        )
    if concession_kinds:
        labels = VALUE_LABELS["concession_kind"][lang]
        parts.append(f'<div class="gt-sec">{t["layer_concessions"]}</div>')
        parts.extend(
            '<div class="gt-row"><svg width="18" height="12"><rect x="1" y="1" width="16" '
            f'height="10" fill="url(#gt-hatch-{k})" stroke="{CONCESSION_STYLES[k][0]}" '
            f'stroke-width="2"/></svg>{labels[k]}</div>'
            for k in concession_kinds
        )
        if len(statuses) > 1 or statuses[0] != "active":
            labels = VALUE_LABELS["status"][lang]
            parts.append(f'<div class="gt-note">{t["concession_status"]}:</div>')
            parts.extend(
                '<div class="gt-row"><svg width="18" height="12"><line x1="0" y1="6" x2="18" '
                f'y2="6" stroke="#444" stroke-width="2" stroke-opacity="{STATUS_STYLES[s][1]}" '
                f'stroke-dasharray="{STATUS_STYLES[s][0] or "none"}"/></svg>{labels[s]}</div>'
                for s in statuses
            )
    if incident_kinds:
        labels = VALUE_LABELS["incident_kind"][lang]
        parts.append(f'<div class="gt-sec">{t["layer_incidents"]}</div><div class="gt-cols">')
        parts.extend(
            f'<div class="gt-row">{_incident_icon(k)}{labels[k]}</div>' for k in incident_kinds
        )
        parts.append("</div>")
        parts.append(
            f'<div class="gt-row gt-note">{_incident_icon("other", exact=False)}'
            f"{t['hollow_note']}</div>"
        )
        parts.append(
            f'<div class="gt-note">{t["size_note"]}; {t["cluster_note"]}; {t["heat_note"]}</div>'
        )
    if hexagons:
        parts.append(f'<div class="gt-sec">{t["layer_hexagons"]}</div>')
        parts.extend(
            f'<div class="gt-row"><span class="gt-sw" style="background:{colour}"></span>'
            f"{format_number(low, lang, 1)}–{format_number(high, lang, 1)}</div>"
            for low, high, colour in zip(
                HEXAGON_BREAKS[:-1], HEXAGON_BREAKS[1:], HEXAGON_COLOURS, strict=True
            )
        )
    if infrastructure:
        parts.append(f'<div class="gt-sec">{t["layer_infrastructure"]}</div>')
        for label, key in infrastructure:
            colour, dash = _infrastructure_style(key or None)
            parts.append(
                '<div class="gt-row"><svg width="18" height="12"><line x1="0" y1="6" x2="18" '
                f'y2="6" stroke="{colour}" stroke-width="3" '
                f'stroke-dasharray="{dash or "none"}"/></svg>{label}</div>'
            )
    return "".join(parts)


def _add_layer_control(
    m: folium.Map, base: Sequence[folium.TileLayer], overlays: list[_Overlay], lang: str
) -> None:
    """Grouped layer control: base maps, territory shading (one at a time), the rest."""
    t = TEXT[lang]
    groups: dict[str, list[tuple[str, str | JsName, bool]]] = {}
    for overlay in overlays:
        groups.setdefault(overlay.group, []).append(
            (overlay.label, overlay.js_name, overlay.shown)
        )
    base_entries = [(escape_html(tiles.layer_name), JsName(tiles)) for tiles in base]
    exclusive = [t["group_territories"]] if len(groups.get(t["group_territories"], [])) > 1 else []
    m.add_child(GroupedLayers(base_entries, groups, exclusive))


def _sources_html(sources: Sequence[str], lang: str) -> str:
    """The sources and licences box: one escaped line per source, then how the map was made."""
    from geotools import __version__

    t = TEXT[lang]
    lines = "".join(f"<li>{escape_html(source)}</li>" for source in sources if source)
    listed = f'<ul class="gt-list">{lines}</ul>' if lines else ""
    return (
        f'<div class="gt-sec">{t["sources"]}</div>{listed}'
        f'<div class="gt-note">{escape_html(t["made_with"].format(version=__version__))}</div>'
    )


_JSON_HTML_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u00(3c|3e|26|27)(?=(.?))", re.IGNORECASE)


_SCRIPT_ELEMENT = re.compile(r"(<script[^>]*>)(.*?)(</script>)", re.DOTALL | re.IGNORECASE)


def compact_json_escapes(page: str) -> str:
    r"""Undo the ``\u003c``-style escapes folium's ``tojson`` puts in embedded JSON, safely.

    Inside a ``<script>`` element only ``</`` (which could close it) and ``<!`` (which could
    open an HTML comment) are dangerous. This keeps ``\u003c`` before ``!`` and writes ``<\/``
    for ``</``, and turns every other ``\u003c``, ``\u003e``, ``\u0026`` and ``\u0027`` back
    into the character: the same JavaScript values, about half the bytes for popup HTML. An
    escape preceded by an odd number of backslashes is text, not an escape, and is kept.

    >>> compact_json_escapes(r'"\u003cb\u003ex\u003c/b\u003e \u003c!-- \\u003c"')
    '"<b>x<\\/b> \\u003c!-- \\\\u003c"'
    """

    def replace(match: re.Match[str]) -> str:
        slashes, code, after = match.group(1), match.group(2).lower(), match.group(3)
        if code == "3c" and after in ("!", "/"):
            return f"{slashes}\\u003c" if after == "!" else f"{slashes}<\\"
        return slashes + {"3c": "<", "3e": ">", "26": "&", "27": "'"}[code]

    if "<script" not in page:
        return _JSON_HTML_ESCAPE.sub(replace, page)
    # Within a page, only script elements are touched (the title, for one, is not JSON).
    return _SCRIPT_ELEMENT.sub(
        lambda m: m.group(1) + _JSON_HTML_ESCAPE.sub(replace, m.group(2)) + m.group(3), page
    )


def _fit_bounds(m: folium.Map, frames: Sequence[gpd.GeoDataFrame]) -> None:
    boxes = np.array([f.total_bounds for f in frames if len(f)], dtype=float).reshape(-1, 4)
    boxes = boxes[np.isfinite(boxes).all(axis=1)]
    if len(boxes):
        west, south = boxes[:, 0].min(), boxes[:, 1].min()
        east, north = boxes[:, 2].max(), boxes[:, 3].max()
    else:
        west, south, east, north = PERU_BOUNDS
    m.fit_bounds([[float(south), float(west)], [float(north), float(east)]], max_zoom=15)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def build_embed_snippet(src: str, title: str = "", height: str = "600px") -> str:
    """HTML to embed a saved map in a web page: a responsive, full-width ``<iframe>``.

    Parameters
    ----------
    src : str
        URL or relative path of the map's HTML file as the embedding page will see it.
    title : str, optional
        Accessible title of the frame (escaped).
    height : str, default "600px"
        CSS height of the frame (e.g. ``"70vh"``).

    Returns
    -------
    str
        The snippet. Values are escaped, so any ``src`` or ``title`` is safe to pass.

    Examples
    --------
    >>> print(build_embed_snippet("risk_map.html", "Santa Clara & co").split(" style")[0])
    <iframe src="risk_map.html" title="Santa Clara &amp; co"
    """
    if not re.fullmatch(r"[0-9.]+(px|vh|em|rem|%)", height):
        raise ValueError(f"height must be a CSS length such as 600px or 70vh, not {height!r}.")
    return (
        f'<iframe src="{escape_html(src)}" title="{escape_html(title or "Map")}" '
        f'style="width: 100%; height: {height}; border: 0;" loading="lazy" '
        "allowfullscreen></iframe>"
    )


def build_map(
    territories: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame | None = None,
    concessions: gpd.GeoDataFrame | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    infrastructure: gpd.GeoDataFrame | None = None,
    lang: str = "es",
    title: str | None = None,
    profile: str = "public",
    hexagons: gpd.GeoDataFrame | None = None,
    overlaps: pd.DataFrame | None = None,
    timeseries: pd.DataFrame | None = None,
    sources: Sequence[str] = (),
    max_points: int = MAX_INCIDENT_POINTS,
    attribution: str | None = None,
) -> folium.Map:
    """Build an interactive risk map of territories, tenure, concessions, incidents and more.

    The map is built, not written: save it with ``m.save(path)`` (or as
    :func:`geotools.pipeline.write_map_html` does). What it shows, grouped in the layer control:

    - territories shaded by risk class (when ``risk_class`` is given) or by titled share in five
      classes (0-10, 10-25, 25-50, 50-75, 75-100 %), one shading at a time;
    - risk hexagons (hidden at first), parcels by tenure, concessions hatched and outlined by
      kind (outline dash by status), infrastructure lines;
    - incidents as an icon per kind (size by severity; white when the location is approximate
      or generalised), clustered, with a heat-map alternative and a year slider filtering both;
      above ``max_points`` incidents, counts on a grid instead of one marker each;
    - a title box (with notices of withheld and generalised incidents), a legend for every
      styled layer, a search box over community names, scale bar, fullscreen button,
      mini-map and a sources and licences box.

    A click inside a territory always opens the territory's popup ("200 of 8,600 ha titled
    (2.3 %)", risk class and drivers, secured, untitled and concession hectares by kind and
    holder, incidents inside, nearby and by year, forest loss), even where parcels or
    concessions cover it: those two layers respond to their outline only.

    Parameters
    ----------
    territories : geopandas.GeoDataFrame
        One row per territory, any CRS. Columns used: ``territory_id``, ``name``, ``people``,
        ``claimed_ha``, ``titled_ha``, ``titled_pct``, ``secured_ha``, ``secured_pct``,
        ``untitled_ha``, ``concession_ha``, ``concession_pct``, ``incidents_inside``,
        ``incidents_nearby`` and any ``concession_<kind>_ha``; missing values show as "n/a".
        Percentages are on a 0-100 scale.
    parcels : geopandas.GeoDataFrame, optional
        ``parcel_id``, ``tenure`` (titled, cession_in_use, demarcated, in_process).
    concessions : geopandas.GeoDataFrame, optional
        ``concession_id``, ``kind`` (mining, oil_gas, agribusiness, forestry, other), ``status``
        (active, in_process, expired), ``holder``.
    incidents : geopandas.GeoDataFrame, optional
        Points with ``date``, ``kind``, ``severity``, ``source``, ``precision``, ``sensitivity``
        and, for public incidents only, ``description``. See *Safety* below.
    infrastructure : geopandas.GeoDataFrame, optional
        Lines with ``kind`` and ``name``.
    lang : {"es", "en"}, default "es"
        Language of every label, legend and popup, and of number formatting
        (``8,600`` and ``2.3`` in English, ``8 600`` and ``2,3`` in Spanish).
    title : str, optional
        Title shown in the title box and as the page title; a default per language if omitted.
    profile : {"public", "internal"}, default "public"
        ``public`` (safe to share): only incidents whose ``sensitivity`` is "public", or that a
        publisher generalised (``location_generalised``), are drawn, and the map says how many
        were left out. ``internal``: restricted incidents too, at their given location (never
        confidential ones). Counts in ``territories`` are shown as given: for a public map,
        take every input from the privacy gate first
        (:func:`geotools.privacy.compute_shareable_view`, as
        :func:`geotools.pipeline.write_map_html` does).
    hexagons : geopandas.GeoDataFrame, optional
        Risk hexagons (``analysis.surface.compute_risk_hexagons``); for a public map, built
        from shareable incidents only.
    overlaps : pandas.DataFrame, optional
        ``overlaps.csv`` rows (``territory_id, kind, status, holder, overlap_ha``): the popup
        lists the non-expired concessions over each territory, largest first.
    timeseries : pandas.DataFrame, optional
        ``timeseries.csv`` rows: the popup lists incidents inside or nearby by year.
    sources : sequence of str, optional
        Lines of the sources and licences box (plain text; escaped).
    max_points : int, default MAX_INCIDENT_POINTS
        Above this many incidents, draw counts on a grid instead of one marker each.
    attribution : str, optional
        Text every reader must see (e.g. a data licence's required attribution): shown in the
        title box (escaped).

    Returns
    -------
    folium.Map
        The map, in EPSG:4326.

    Raises
    ------
    ValueError
        If ``lang`` is not "es" or "en".
    geotools.errors.CRSError
        If a layer has no CRS.

    Notes
    -----
    Safety:

    - Every text value from the data is HTML-escaped before it reaches the page.
    - Only the properties a popup or tooltip displays are embedded (folium would otherwise put
      every column of every feature in the HTML, shown or not).
    - Incidents the profile excludes (all but "public" by default; "confidential" always) are
      dropped before anything else is done with them: nothing of them is in the HTML.
    - ``victims`` is never read. ``description`` is shown only when ``sensitivity`` is "public".
    - With ``profile="internal"``, incidents that are "restricted", or have no sensitivity, are
      shown without description or victims, *at the location given*: this function does not
      generalise locations, so such a map is for internal use only.

    Display geometry is simplified (about 11 m, coarser for very large layers as long as every
    polygon keeps its area within 1 %; shared borders stay shared) and rounded to 5 decimals;
    it is not suitable for measurement.
    """
    _check_lang(lang)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string or None, not {type(title).__name__}.")
    t = TEXT[lang]
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}.")
    # Withheld incidents go first, before any reprojection or formatting sees them.
    withheld = 0
    if incidents is not None:
        # Confidential records are not counted among those "not shown" (subtraction).
        _, withheld = select_drawable(incidents, profile)
        incidents = select_visible_incidents(incidents, profile)

    shown: list[gpd.GeoDataFrame] = []
    m = folium.Map(tiles=None, control_scale=True, zoom_control=True, width="100%", height="100%")
    # The page inserts what each element renders as text, never as a template (data is not
    # code), and numbers the element ids so that identical builds give identical bytes.
    page = MapPage()
    page.add_child(m)
    # Only Leaflet: jQuery, Bootstrap and Font Awesome are not used by this map.
    m.default_js = [js for js in m.default_js if js[0] == "leaflet"]
    m.default_css = [css for css in m.default_css if css[0] == "leaflet_css"]
    base = [
        folium.TileLayer("OpenStreetMap", name=t["base_map"], control=False),
        folium.TileLayer("Esri.WorldImagery", name=t["base_satellite"], show=False, control=False),
    ]
    for tiles in base:
        tiles.add_to(m)
    page_title = title if title is not None else t["title"]
    m.get_root().title = escape_html(page_title)  # type: ignore[attr-defined]
    m.add_child(PageAssets(_CSS, _hatch_svg()))

    overlays: list[_Overlay] = []
    legend: dict[str, Any] = {
        "risk": False,
        "risk_no_data": False,
        "no_data": False,
        "tenures": [],
        "concession_kinds": [],
        "statuses": [],
        "incident_kinds": [],
        "infrastructure": [],
        "hexagons": False,
    }
    frame = _display_frame(territories, "territories", simplify=True, coverage=True)
    if len(frame):
        ids = _column(frame, "territory_id").astype(str)
        holders = _holder_blocks(ids, overlaps, lang)
        years = _year_blocks(ids, timeseries, lang)
        frame[EXTRA_POPUP_COLUMN] = [holders.get(i, "") + years.get(i, "") for i in ids]
        legend.update(_territory_layer(m, frame, lang, overlays))
        shown.append(frame)
    if hexagons is not None:
        frame = _display_frame(hexagons, "hexagons", simplify=False)
        if len(frame):
            _hexagon_layer(m, frame, lang, overlays)
            legend["hexagons"] = True
    if parcels is not None:
        frame = _display_frame(parcels, "parcels", simplify=True, coverage=True)
        if len(frame):
            legend["tenures"] = _parcel_layer(m, frame, lang, overlays)
            shown.append(frame)
    if concessions is not None:
        frame = _display_frame(concessions, "concessions", simplify=True)
        if len(frame):
            legend["concession_kinds"], legend["statuses"] = _concession_layer(
                m, frame, lang, overlays
            )
            shown.append(frame)
    if infrastructure is not None:
        frame = _display_frame(infrastructure, "infrastructure", simplify=True)
        if len(frame):
            legend["infrastructure"] = _infrastructure_layer(m, frame, lang, overlays)
            shown.append(frame)
    generalised, cell_km, cell_frame = 0, None, None
    if incidents is not None:
        frame = _display_frame(incidents, "incidents", simplify=False)
        if len(frame):
            legend["incident_kinds"], generalised, cell_km = _incident_layer(
                m, frame, lang, overlays, max_points
            )
            cell_frame = frame
            shown.append(frame)

    notes = [t["hint"]]
    if attribution:
        notes.append(attribution)
    if withheld:
        notes.append(t["not_shown"].format(n=withheld))
    if generalised and cell_frame is not None:
        radius = np.nanmax(_numbers(cell_frame, UNCERTAINTY_COLUMN), initial=0.0) / 1000.0
        notes.append(
            t["generalised_notice"].format(
                n=format_number(generalised, lang), km=format_number(radius, lang, 1)
            )
        )
    if cell_km is not None:
        notes.append(t["cells_note"].format(km=format_number(cell_km, lang)))
    title_html = f'<div class="gt-t">{escape_html(page_title)}</div>' + "".join(
        f'<div class="gt-hint">{escape_html(note)}</div>' for note in notes
    )
    m.add_child(HtmlControl(title_html, "topright", "gt-box gt-title"))
    _add_layer_control(m, base, overlays, lang)
    Fullscreen(position="topleft", title=t["fullscreen"], title_cancel=t["fullscreen_exit"]).add_to(
        m
    )
    MiniMap(
        tile_layer=folium.TileLayer("OpenStreetMap"),
        position="bottomright",
        toggle_display=True,
        zoom_level_offset=-6,
        width=130,
        height=110,
    ).add_to(m)
    m.add_child(
        HtmlControl(
            _legend_html(lang, **legend),
            "bottomleft",
            "gt-box gt-legend",
            collapsible_label=t["legend"],
            start_open=True,
        )
    )
    m.add_child(
        HtmlControl(
            _sources_html(sources, lang),
            "bottomright",
            "gt-box gt-sources",
            collapsible_label=t["sources_button"],
        )
    )
    _fit_bounds(m, shown)
    page.number_elements()
    log.debug("Map built with %d layer(s) in %s.", len(shown), lang)
    return m
