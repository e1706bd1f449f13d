"""The viewer of a vector-tile folder: one small ``index.html`` (MapLibre GL JS + PMTiles).

:func:`build_viewer_page` returns the page. Its own script is constant code; what varies (the
title, the notices, the sources, the legend, the MapLibre style) is one JSON object in a
``<script type="application/json">`` element, with ``<``, ``>`` and ``&`` written as ``\\u003c``
escapes so that no text can end the element. The data (names, holders, descriptions) never
reaches the page's HTML: it is in the tiles, and popups insert it with ``textContent``.

Styling follows the HTML map (:mod:`geotools.maps.style`): territories by risk class or by
titled share (one at a time), parcels by tenure, concessions by kind, incidents by kind (size
by severity, white when the location is approximate or generalised), risk hexagons in five
classes (hidden at first).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import geopandas as gpd
import numpy as np

from geotools._version import __version__
from geotools.crs import PERU_BOUNDS
from geotools.maps.assets import _JSD
from geotools.maps.elements import escape_html
from geotools.maps.style import (
    COMMUNITY_COLOUR,
    CONCESSION_STYLES,
    H3_AREA_KM2,
    HEXAGON_BREAKS,
    HEXAGON_COLOURS,
    INCIDENT_COLOURS,
    INFRASTRUCTURE_STYLES,
    NO_DATA_COLOUR,
    RISK_COLOURS,
    SUPPRESSED_COLOUR,
    TENURE_COLOURS,
    TERRITORY_OUTLINE,
    TEXT,
    TITLED_BREAKS,
    TITLED_COLOURS,
    VALUE_LABELS,
    format_number,
)

#: The viewer's scripts and style sheet: file name in ``lib/`` -> CDN URL (a key of
#: :data:`geotools.maps.assets.ASSETS`).
VIEWER_ASSETS = {
    "maplibre-gl.js": f"{_JSD}/npm/maplibre-gl@5.24.1/dist/maplibre-gl.js",
    "maplibre-gl.css": f"{_JSD}/npm/maplibre-gl@5.24.1/dist/maplibre-gl.css",
    "pmtiles.js": f"{_JSD}/npm/pmtiles@4.5.0/dist/pmtiles.js",
}

#: Texts of the viewer that the HTML map does not have.
TILE_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "hint": "Click a territory, an incident or the outline of a parcel or concession.",
        "hint_places": "Click a territory, an incident, a community, a region or the outline "
        "of a parcel or concession.",
        "layers": "Layers",
        "shading": "Territory shading",
        "made_with": "Made with geotools {version}: vector tiles (PMTiles) and MapLibre GL JS.",
        "osm": "© OpenStreetMap contributors",
        "esri": "Satellite © Esri",
        "zoom_in": "Too many incidents for a national view: they show from zoom level {zoom} "
        "on (zoom in).",
    },
    "es": {
        "hint": "Haga clic en un territorio, un incidente o el borde de un predio o concesión.",
        "hint_places": "Haga clic en un territorio, un incidente, una comunidad, una región o "
        "el borde de un predio o concesión.",
        "layers": "Capas",
        "shading": "Color de los territorios",
        "made_with": "Hecho con geotools {version}: teselas vectoriales (PMTiles) y "
        "MapLibre GL JS.",
        "osm": "© colaboradores de OpenStreetMap",
        "esri": "Satélite © Esri",
        "zoom_in": "Demasiados incidentes para la vista nacional: se muestran desde el nivel "
        "de zoom {zoom} (acerque el mapa).",
    },
}

_BASEMAPS = {
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "osm", 19),
    "satellite": (
        "https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/"
        "{z}/{y}/{x}",
        "esri",
        18,
    ),
}

_TEXT_KEYS = (
    "na", "titled_sentence", "tenure_unknown_sentence", "secured", "untitled",
    "in_concessions", "incidents", "incidents_value", "id", "parcel", "incident", "tenure",
    "concession", "kind", "status", "holder", "date", "severity", "source", "precision",
    "withheld", "name", "infrastructure", "risk_line", "risk_score", "drivers", "forest_loss",
    "hex_risk", "hex_violence", "hex_concessions", "hex_tenure", "hex_tenure_unknown",
    "hex_tenure_partly", "generalised", "legend",
    "sources_button", "sources", "fewer_than", "population", "families",
)


def _match(prop: str, colours: Mapping[str, str], default: str) -> list[Any]:
    """MapLibre ``match`` expression: a colour per value of ``prop``, ``default`` otherwise."""
    expression: list[Any] = ["match", ["to-string", ["get", prop]]]
    for key, colour in colours.items():
        if key is not None:
            expression += [key, colour]
    return [*expression, default]


def _steps(prop: str, breaks: Sequence[float], colours: Sequence[str]) -> list[Any]:
    """MapLibre ``step`` expression over class ``breaks`` (closed on the left), grey if missing."""
    expression: list[Any] = ["step", ["coalesce", ["get", prop], -1], NO_DATA_COLOUR]
    for low, colour in zip(breaks[:-1], colours, strict=True):
        expression += [low, colour]
    return expression


def _graticule(bounds: Sequence[float]) -> dict[str, Any]:
    west, south, east, north = bounds
    lons = np.arange(np.floor(west) - 2, np.ceil(east) + 3)
    lats = np.arange(np.floor(south) - 2, np.ceil(north) + 3)
    lines = [[[float(x), float(lats[0])], [float(x), float(lats[-1])]] for x in lons]
    lines += [[[float(lons[0]), float(y)], [float(lons[-1]), float(y)]] for y in lats]
    return {"type": "Feature", "properties": {}, "geometry": {
        "type": "MultiLineString", "coordinates": lines}}


def _style_layers(kind: str, frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """MapLibre layers (without ``source``) drawing one tile layer as the HTML map does."""
    if kind == "territories":
        layers = []
        if "risk_class" in frame.columns and frame["risk_class"].notna().any():
            layers.append({"id": "territories-risk", "type": "fill", "paint": {
                "fill-color": _match("risk_class", RISK_COLOURS, NO_DATA_COLOUR),
                "fill-opacity": 0.7}})
        layers.append({"id": "territories-titled", "type": "fill", "paint": {
            "fill-color": _steps("titled_pct", TITLED_BREAKS, TITLED_COLOURS),
            "fill-opacity": 0.7}})
        if len(layers) == 2:
            layers[1]["layout"] = {"visibility": "none"}
        layers.append({"id": "territories-outline", "type": "line", "paint": {
            "line-color": TERRITORY_OUTLINE, "line-width": 1.2}})
        return layers
    if kind == "regions":
        colours = frame.attrs.get("legend", {}).get("colours", [])
        fill: list[Any] = ["match", ["coalesce", ["get", "k"], -1], -2, SUPPRESSED_COLOUR]
        for k, colour in enumerate(colours):
            fill += [k, colour]
        return [
            {"id": "regions-fill", "type": "fill", "paint": {
                "fill-color": [*fill, NO_DATA_COLOUR], "fill-opacity": 0.6 if colours else 0.0}},
            {"id": "regions-line", "type": "line", "paint": {
                "line-color": "#555555", "line-width": 1.0, "line-opacity": 0.8}},
        ]
    if kind == "communities":
        return [{"id": "communities-circle", "type": "circle", "paint": {
            "circle-color": ["case", ["==", ["get", "exact"], 0], "#ffffff", COMMUNITY_COLOUR],
            "circle-stroke-color": ["case", ["==", ["get", "exact"], 0], COMMUNITY_COLOUR,
                                    "#ffffff"],
            "circle-stroke-width": 1.2, "circle-radius": 4.5}}]
    if kind == "hexagons":
        return [{"id": "hexagons-fill", "type": "fill", "layout": {"visibility": "none"},
                 "paint": {"fill-color": _steps("risk", HEXAGON_BREAKS, HEXAGON_COLOURS),
                           "fill-opacity": 0.6, "fill-outline-color": "#ffffff"}}]
    if kind == "parcels":
        colour = _match("tenure", TENURE_COLOURS, NO_DATA_COLOUR)
        return [
            {"id": "parcels-fill", "type": "fill", "paint": {
                "fill-color": colour, "fill-opacity": 0.45}},
            {"id": "parcels-line", "type": "line", "paint": {
                "line-color": colour, "line-width": 1.5}},
        ]
    if kind == "concessions":
        colour = _match("kind", {k: c for k, (c, _) in CONCESSION_STYLES.items()}, "#636363")
        return [
            {"id": "concessions-fill", "type": "fill", "paint": {
                "fill-color": colour, "fill-opacity": 0.12}},
            {"id": "concessions-line", "type": "line", "paint": {
                "line-color": colour, "line-width": 2,
                "line-opacity": ["match", ["get", "status"], "expired", 0.5, 1.0]}},
        ]
    if kind == "infrastructure":
        colours = {k: c for k, (c, _) in INFRASTRUCTURE_STYLES.items() if k is not None}
        return [{"id": "infrastructure-line", "type": "line", "paint": {
            "line-color": _match("kind", colours, INFRASTRUCTURE_STYLES[None][0]),
            "line-width": 2.5}}]
    colour = _match("kind", INCIDENT_COLOURS, INCIDENT_COLOURS["other"])
    return [{"id": "incidents-circle", "type": "circle", "paint": {
        "circle-color": ["case", ["==", ["get", "exact"], 0], "#ffffff", colour],
        "circle-stroke-color": ["case", ["==", ["get", "exact"], 0], colour, "#ffffff"],
        "circle-stroke-width": 1.5,
        "circle-radius": ["interpolate", ["linear"], ["coalesce", ["get", "severity"], 2],
                          1, 4, 5, 8],
    }}]


def _present(frame: gpd.GeoDataFrame, column: str, known: Mapping[str, Any]) -> list[str]:
    """The codes of ``known`` found in ``frame[column]``, in ``known``'s order."""
    values = set(frame[column].dropna()) if column in frame.columns else set()
    return [key for key in known if key in values]


def _count(frame: gpd.GeoDataFrame, column: str) -> int:
    """Number of distinct values of ``frame[column]``, a missing value counting as one."""
    if column not in frame.columns:
        return 1
    return int(frame[column].nunique()) + int(frame[column].isna().any())


def _legend(tiles: Mapping[str, gpd.GeoDataFrame], lang: str) -> list[dict[str, Any]]:
    """Legend sections: a title and rows of (shape, colour, label), only for what is drawn."""
    t, labels = TEXT[lang], VALUE_LABELS
    sections = []
    if "regions" in tiles:
        legend = tiles["regions"].attrs.get("legend", {})
        sections.append({"title": legend.get("title", t["regions_outline"]),
                         "rows": legend.get("rows", [])})
    if "communities" in tiles:
        sections.append({"title": t["layer_communities"], "rows": [
            {"shape": "circle", "colour": COMMUNITY_COLOUR,
             "label": t["layer_communities"].split(" (")[0]}]})
    territories = tiles.get("territories")
    if territories is not None and "risk_class" in territories.columns:
        names = labels["risk_class"][lang]
        sections.append({"title": t["risk_class"], "rows": [
            {"shape": "fill", "colour": c, "label": names[k].capitalize()}
            for k, c in RISK_COLOURS.items()]})
    if territories is not None:
        sections.append({"title": t["titled_share"], "rows": [
            {"shape": "fill", "colour": c, "label": f"{low}–{high}\u00a0%"}
            for low, high, c in zip(TITLED_BREAKS[:-1], TITLED_BREAKS[1:], TITLED_COLOURS,
                                    strict=True)]
            + [{"shape": "fill", "colour": NO_DATA_COLOUR, "label": t["no_data"]}]})
    if "hexagons" in tiles:
        sections.append({"title": t["layer_hexagons"], "rows": [
            {"shape": "fill", "colour": c,
             "label": f"{format_number(low, lang, 1)}–{format_number(high, lang, 1)}"}
            for low, high, c in zip(HEXAGON_BREAKS[:-1], HEXAGON_BREAKS[1:], HEXAGON_COLOURS,
                                    strict=True)]})
    if "parcels" in tiles:
        names = labels["tenure"][lang]
        present = _present(tiles["parcels"], "tenure", TENURE_COLOURS)
        sections.append({"title": t["layer_parcels"], "rows": [
            {"shape": "fill", "colour": TENURE_COLOURS[k], "label": names[k]} for k in present]
            + ([{"shape": "fill", "colour": NO_DATA_COLOUR, "label": t["no_data"]}]
               if len(present) < _count(tiles["parcels"], "tenure") else [])})
    if "concessions" in tiles:
        names = labels["concession_kind"][lang]
        present = _present(tiles["concessions"], "kind", CONCESSION_STYLES) or ["other"]
        sections.append({"title": t["layer_concessions"], "rows": [
            {"shape": "line", "colour": CONCESSION_STYLES[k][0], "label": names[k]}
            for k in present]})
    if "infrastructure" in tiles:
        names = labels["infrastructure_kind"][lang]
        sections.append({"title": t["layer_infrastructure"], "rows": [
            {"shape": "line", "colour": c, "label": names.get(k, k)}
            for k, (c, _) in INFRASTRUCTURE_STYLES.items() if k is not None]})
    incidents = tiles.get("incidents")
    if incidents is not None:
        names = labels["incident_kind"][lang]
        kinds = _present(incidents, "kind", INCIDENT_COLOURS) or ["other"]
        sections.append({"title": t["layer_incidents"], "rows": [
            {"shape": "circle", "colour": INCIDENT_COLOURS[k], "label": names[k]} for k in kinds]
            + [{"shape": "hollow", "colour": "#555555", "label": t["hollow_note"]},
               {"shape": "note", "colour": "", "label": t["size_note"]}]})
    return sections


def _region_figures(regions: gpd.GeoDataFrame | None) -> list[list[str]]:
    """``[property, label]`` of the figures a region popup lists (the shading first)."""
    if regions is None:
        return []
    legend = regions.attrs.get("legend", {})
    shade = [["shade", legend["shade_label"]]] if legend.get("shade_label") else []
    figures = regions.attrs.get("figures", {})
    return shade + [[k, v] for k, v in figures.items() if v != legend.get("shade_label")]


def _bounds(tiles: Mapping[str, gpd.GeoDataFrame]) -> list[float]:
    boxes = np.array([f.total_bounds for f in tiles.values() if len(f)], dtype=float)
    boxes = boxes.reshape(-1, 4)
    boxes = boxes[np.isfinite(boxes).all(axis=1)]
    if not len(boxes):
        return [float(v) for v in PERU_BOUNDS]
    return [float(boxes[:, 0].min()), float(boxes[:, 1].min()),
            float(boxes[:, 2].max()), float(boxes[:, 3].max())]


def _notes(
    notes: Mapping[str, Any], lang: str, attribution: str | None, places: bool = False
) -> list[str]:
    t = TEXT[lang]
    lines = [TILE_TEXT[lang]["hint_places" if places else "hint"]]
    if attribution:
        lines.append(attribution)
    if notes.get("withheld"):
        lines.append(t["not_shown"].format(n=notes["withheld"]))
    if notes.get("generalised"):
        lines.append(t["generalised_notice"].format(
            n=format_number(notes["generalised"], lang),
            km=format_number(notes.get("generalised_km", 0.0), lang, 1)))
    if notes.get("tenure_unknown"):
        lines.append(t["hexagons_tenure_note"])
    resolution = notes.get("h3_resolution")
    if resolution in H3_AREA_KM2 and resolution < 7:
        lines.append(t["hexagons_coarse_note"].format(
            km2=format_number(H3_AREA_KM2[resolution], lang)))
    return lines


def viewer_config(
    tiles: Mapping[str, gpd.GeoDataFrame],
    *,
    lang: str,
    title: str | None,
    basemap: str,
    notes: Mapping[str, Any],
    sources: Sequence[str],
    attribution: str | None,
    maxzoom: int,
    minzooms: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Return the viewer's configuration: texts, legend, layers and the MapLibre style.

    Parameters
    ----------
    tiles : mapping of str to geopandas.GeoDataFrame
        The tile layers written (kind -> features), in drawing order.
    lang : {"es", "en"}
        Language of the texts.
    title : str or None
        Title; the default title of ``lang`` when None.
    basemap : {"osm", "satellite", "none"}
        Basemap under the tiles.
    notes : mapping
        ``withheld``, ``generalised``, ``generalised_km`` and ``h3_resolution``.
    sources : sequence of str
        Lines of the sources box (plain text).
    attribution : str or None
        Text every reader must see.
    maxzoom : int
        Highest zoom level of the archives.
    minzooms : mapping of str to int, optional
        Lowest zoom level of each archive (0 when not given); the title box says from which
        zoom incidents show when theirs is above 0.

    Returns
    -------
    dict
        JSON-serialisable configuration (plain text values; the page inserts them as text).
    """
    t = TEXT[lang]
    minzooms = dict(minzooms or {})
    bounds = _bounds(tiles)
    style_sources: dict[str, Any] = {}
    style_layers: list[dict[str, Any]] = []
    # A plain background under everything: what shows where basemap tiles cannot load.
    style_layers.append({"id": "background", "type": "background",
                         "paint": {"background-color": "#f4f2ec"}})
    if basemap in _BASEMAPS:
        url, credit, zoom = _BASEMAPS[basemap]
        style_sources["basemap"] = {"type": "raster", "tiles": [url], "tileSize": 256,
                                    "maxzoom": zoom, "attribution": TILE_TEXT[lang][credit]}
        style_layers.append({"id": "basemap", "type": "raster", "source": "basemap"})
    else:
        style_sources["graticule"] = {"type": "geojson", "data": _graticule(bounds)}
        style_layers.append({"id": "graticule", "type": "line", "source": "graticule",
                             "paint": {"line-color": "#9a9a9a", "line-width": 0.6,
                                       "line-opacity": 0.7}})
    layers = []
    labels = {"territories": t["layer_territories"].split(" (")[0],
              "hexagons": t["layer_hexagons"], "parcels": t["layer_parcels"],
              "concessions": t["layer_concessions"], "infrastructure": t["layer_infrastructure"],
              "incidents": t["layer_incidents"], "communities": t["layer_communities"],
              "regions": tiles["regions"].attrs.get("legend", {}).get(
                  "title", t["regions_outline"]) if "regions" in tiles else ""}
    for kind, frame in tiles.items():
        # Tile URLs, bounds and zooms are given here rather than read from the archive's
        # header, which MapLibre's PMTiles protocol refuses when the data is one point.
        west, south, east, north = (float(v) for v in frame.total_bounds)
        style_sources[kind] = {
            "type": "vector",
            "file": f"{kind}.pmtiles",
            "minzoom": minzooms.get(kind, 0),
            "maxzoom": maxzoom,
            "bounds": [max(west - 1e-4, -180.0), max(south - 1e-4, -85.0),
                       min(east + 1e-4, 180.0), min(north + 1e-4, 85.0)],
        }
        ids = []
        for layer in _style_layers(kind, frame):
            style_layers.append({**layer, "source": kind, "source-layer": kind})
            ids.append(layer["id"])
        layers.append({"kind": kind, "label": labels[kind], "ids": ids,
                       "shown": kind != "hexagons"})
    shading = []
    if any(layer["id"] == "territories-risk" for layer in style_layers):
        shading = [{"id": "territories-risk", "label": t["risk_class"]},
                   {"id": "territories-titled", "label": t["titled_share"]}]
    return {
        "lang": lang,
        "title": title if title is not None else t["title"],
        "notes": _notes(notes, lang, attribution, places="regions" in tiles
                        or "communities" in tiles)
        + ([TILE_TEXT[lang]["zoom_in"].format(zoom=minzooms["incidents"])]
           if minzooms.get("incidents") else []),
        "sources": [line for line in sources if line],
        "madeWith": TILE_TEXT[lang]["made_with"].format(version=__version__),
        "bounds": bounds,
        "layers": layers,
        "shading": shading,
        "legend": _legend(tiles, lang),
        "text": {**{key: t[key] for key in _TEXT_KEYS}, **TILE_TEXT[lang]},
        "values": {key: VALUE_LABELS[key][lang] for key in VALUE_LABELS},
        "regionFigures": _region_figures(tiles.get("regions")),
        "communityNearby": tiles["communities"].attrs.get("nearby_label", "")
        if "communities" in tiles else "",
        "communityApprox": t["approximate_location"].format(precision="").rstrip(" :()"),
        "style": {"version": 8, "sources": style_sources, "layers": style_layers},
    }


def json_for_script(value: Any) -> str:
    """JSON text safe inside a ``<script type="application/json">`` element.

    ``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e`` and ``\\u0026`` (the same
    string once parsed), so no value can close the element or open a comment.

    Parameters
    ----------
    value : Any
        A JSON-serialisable value.

    Returns
    -------
    str
        Compact JSON.

    Examples
    --------
    >>> json_for_script({"a": "</script><b>"})
    '{"a":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def build_viewer_page(
    tiles: Mapping[str, gpd.GeoDataFrame],
    *,
    lang: str = "es",
    title: str | None = None,
    basemap: str = "osm",
    offline: bool = False,
    notes: Mapping[str, Any] | None = None,
    sources: Sequence[str] = (),
    attribution: str | None = None,
    maxzoom: int = 10,
    minzooms: Mapping[str, int] | None = None,
) -> str:
    """Return the ``index.html`` of a tile folder.

    Parameters
    ----------
    tiles : mapping of str to geopandas.GeoDataFrame
        The tile layers written (kind -> features), in drawing order.
    lang : {"es", "en"}, default "es"
        Language of the texts.
    title : str, optional
        Title (plain text); a default per language otherwise.
    basemap : {"osm", "satellite", "none"}, default "osm"
        Basemap under the tiles.
    offline : bool, default False
        Load the scripts from ``lib/`` beside the page instead of the CDN.
    notes : mapping, optional
        See :func:`viewer_config`.
    sources : sequence of str, optional
        Lines of the sources box (plain text).
    attribution : str, optional
        Text every reader must see.
    maxzoom : int, default 10
        Highest zoom level of the archives.
    minzooms : mapping of str to int, optional
        Lowest zoom level of each archive (0 when not given).

    Returns
    -------
    str
        The HTML page.
    """
    config = viewer_config(tiles, lang=lang, title=title, basemap=basemap, notes=notes or {},
                           sources=sources, attribution=attribution, maxzoom=maxzoom,
                           minzooms=minzooms)
    href = {name: (f"lib/{name}" if offline else url) for name, url in VIEWER_ASSETS.items()}
    return _PAGE.format(
        lang=lang,
        title=escape_html(config["title"]),
        css=escape_html(href["maplibre-gl.css"]),
        maplibre=escape_html(href["maplibre-gl.js"]),
        pmtiles=escape_html(href["pmtiles.js"]),
        style=_CSS,
        config=json_for_script(config),
        script=_script(),
    )


_CSS = """
html, body, #map {margin: 0; padding: 0; height: 100%; width: 100%;}
body {font: 12px/1.35 "Helvetica Neue", Arial, sans-serif; color: #222;}
#gt-side {position: absolute; z-index: 2; top: 10px; left: 10px; bottom: 30px; width: 300px;
  display: flex; flex-direction: column; gap: 8px; pointer-events: none;}
.gt-box {background: rgba(255, 255, 255, 0.93); pointer-events: auto;
  padding: 6px 10px; border-radius: 5px; box-shadow: 0 1px 5px rgba(0, 0, 0, 0.4);
  box-sizing: border-box;}
#gt-title {flex: none;}
.maplibregl-popup {z-index: 3;}
#gt-title .gt-t {font-size: 16px; font-weight: 700;}
#gt-title .gt-hint {color: #555; font-size: 11px; margin-top: 2px;}
#gt-panel {flex: 0 1 auto; min-height: 0; overflow-y: auto; align-self: flex-start;}
#gt-panel summary {font-weight: 700; cursor: pointer;}
.gt-sec {font-weight: 700; margin: 6px 0 2px;}
.gt-row {display: flex; align-items: center; gap: 6px;}
.gt-sw {width: 18px; height: 12px; flex: none; border: 1px solid #666; box-sizing: border-box;}
.gt-ln {width: 18px; height: 0; flex: none; border-top: 3px solid;}
.gt-dot {width: 11px; height: 11px; flex: none; border-radius: 50%; margin: 0 3px;
  box-sizing: border-box;}
.gt-note {color: #555; font-size: 11px;}
.gt-popup .gt-h {font-size: 14px; font-weight: 700;}
.gt-popup .gt-sub {color: #555;}
.gt-popup table {border-collapse: collapse;}
.gt-popup th {text-align: left; font-weight: 600; color: #444; padding: 1px 8px 1px 0;
  vertical-align: top;}
.gt-popup .gt-desc {margin-top: 4px;}
@media (max-width: 600px) {
  #gt-side {width: 210px;}
  #gt-title .gt-t {font-size: 14px;}
  #gt-title .gt-tip {display: none;}
}
"""

_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{css}">
<script src="{maplibre}"></script>
<script src="{pmtiles}"></script>
<style>{style}</style>
</head>
<body>
<div id="map"></div>
<div id="gt-side"><div id="gt-title" class="gt-box"></div>
<details id="gt-panel" class="gt-box" open><summary></summary></details></div>
<script type="application/json" id="gt-config">{config}</script>
<script>{script}</script>
</body>
</html>
"""

#: The viewer's code (``tiles_viewer.js`` beside this module): constant, no data, no template;
#: every data text goes into the page with ``textContent``.
_SCRIPT_FILE = "tiles_viewer.js"


def _script() -> str:
    return resources.files("geotools.maps").joinpath(_SCRIPT_FILE).read_text(encoding="utf-8")
