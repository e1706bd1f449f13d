"""Interactive web maps (Leaflet, via folium) of territories, tenure, concessions and incidents.

:func:`build_map` builds a :class:`folium.Map`; it never writes files (call ``m.save(path)``, or
:func:`geotools.maps.write_map_html`). The layers come from :mod:`geotools.maps.layers` and
:mod:`geotools.maps.incident_layer`, which embed only escaped popups, tooltips and style keys;
this module adds the title box, legend, layer control, search, sources box and page assets. The
map is rendered in a :class:`geotools.maps.elements.MapPage`, which inserts each element's
output once, as text. Numbers are formatted per language
(:func:`geotools.maps.style.format_number`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from folium.plugins import Fullscreen, MiniMap

from geotools._version import __version__
from geotools.crs import PERU_BOUNDS
from geotools.maps.community_layer import _community_layer, community_legend
from geotools.maps.compact_layers import _concession_layer, _parcel_layer, _territory_layer
from geotools.maps.elements import (
    GroupedLayers,
    HtmlControl,
    JsName,
    MapPage,
    PageAssets,
    escape_html,
)
from geotools.maps.embed import (
    COMPACT_CSS,
    COMPACT_MEDIA,
    NOTES_LABEL,
    CompactFit,
    TitleBox,
)
from geotools.maps.incident_layer import (
    MAX_INCIDENT_POINTS,
    _incident_icon,
    _incident_layer,
    select_visible_incidents,
)
from geotools.maps.layers import (
    EXTRA_POPUP_COLUMN,
    _column,
    _display_frame,
    _hexagon_layer,
    _holder_blocks,
    _infrastructure_layer,
    _numbers,
    _Overlay,
    _year_blocks,
)
from geotools.maps.outline import (
    OUTLINE_PANE,
    OUTLINE_SOURCE,
    add_outline,
    add_outline_pane,
    outline_box,
    outline_lines,
    study_extent,
)
from geotools.maps.region_layer import _region_layer
from geotools.maps.style import (
    CONCESSION_STYLES,
    DEFAULT_BASEMAP,
    H3_AREA_KM2,
    HEXAGON_BREAKS,
    HEXAGON_COLOURS,
    NBSP,
    NO_DATA_COLOUR,
    RISK_COLOURS,
    STATUS_STYLES,
    TENURE_COLOURS,
    TEXT,
    TITLED_BREAKS,
    TITLED_COLOURS,
    VALUE_LABELS,
    check_basemap,
    check_lang,
    check_profile,
    format_number,
    infrastructure_style,
)
from geotools.privacy import UNCERTAINTY_COLUMN, select_drawable
from geotools.schema import Lang, Profile

log = logging.getLogger(__name__)


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
.leaflet-pane > svg {pointer-events: none;}
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
</style>
"""


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
            colour, dash = infrastructure_style(key or None)
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
    m.add_child(GroupedLayers(base_entries, groups, exclusive, collapsed_media=COMPACT_MEDIA))


def _sources_html(sources: Sequence[str], lang: str) -> str:
    """The sources and licences box: one escaped line per source, then how the map was made."""
    t = TEXT[lang]
    lines = "".join(f"<li>{escape_html(source)}</li>" for source in sources if source)
    listed = f'<ul class="gt-list">{lines}</ul>' if lines else ""
    return (
        f'<div class="gt-sec">{t["sources"]}</div>{listed}'
        f'<div class="gt-note">{escape_html(t["made_with"].format(version=__version__))}</div>'
    )


def _holders(concessions: gpd.GeoDataFrame | None) -> dict[str, str]:
    """Holder of each concession id (for community popups); empty without holders."""
    if concessions is None or "holder" not in concessions.columns:
        return {}
    table = concessions.dropna(subset=["holder"])
    return dict(zip(_column(table, "concession_id").astype(str), table["holder"].astype(str),
                    strict=True))


def _fit_bounds(m: folium.Map, frames: Sequence[gpd.GeoDataFrame]) -> list[list[float]]:
    boxes = np.array([f.total_bounds for f in frames if len(f)], dtype=float).reshape(-1, 4)
    boxes = boxes[np.isfinite(boxes).all(axis=1)]
    if len(boxes):
        west, south = boxes[:, 0].min(), boxes[:, 1].min()
        east, north = boxes[:, 2].max(), boxes[:, 3].max()
    else:
        west, south, east, north = PERU_BOUNDS
    bounds = [[float(south), float(west)], [float(north), float(east)]]
    m.fit_bounds(bounds, max_zoom=15)
    return bounds


def _base_layers(basemap: str, lang: str) -> list[folium.TileLayer]:
    """Tile layers for ``basemap``: the chosen one shown, the other selectable; none for
    ``"none"`` (the page then requests nothing from a tile server)."""
    t = TEXT[lang]
    if basemap == "none":
        return []
    return [
        folium.TileLayer(
            "OpenStreetMap", name=t["base_map"], show=basemap == "osm", control=False
        ),
        folium.TileLayer(
            "Esri.WorldImagery",
            name=t["base_satellite"],
            show=basemap == "satellite",
            control=False,
        ),
    ]


def _graticule(m: folium.Map, frames: Sequence[gpd.GeoDataFrame]) -> None:
    """A plain background and 1-degree meridians and parallels around the data, so that a map
    with no basemap still shows where things are (over the outline's box; no text), in the
    outline pane, under every layer."""
    west, south, east, north = outline_box(study_extent(frames))
    lons = np.arange(np.floor(west), np.ceil(east) + 1)
    lats = np.arange(np.floor(south), np.ceil(north) + 1)
    lines = [[[float(x), float(lats[0])], [float(x), float(lats[-1])]] for x in lons]
    lines += [[[float(lons[0]), float(y)], [float(lons[-1]), float(y)]] for y in lats]
    data = {"type": "MultiLineString", "coordinates": lines}
    folium.GeoJson(
        data,
        name="graticule",
        control=False,
        interactive=False,
        pane=OUTLINE_PANE,
        style_function=lambda feature: {"color": "#dcd8ce", "weight": 1, "opacity": 1},
    ).add_to(m)
    m.get_root().header.add_child(  # type: ignore[attr-defined]
        folium.Element("<style>.folium-map.leaflet-container{background:#f4f2ec}</style>")
    )


def build_map(
    territories: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame | None = None,
    concessions: gpd.GeoDataFrame | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    infrastructure: gpd.GeoDataFrame | None = None,
    *,
    lang: Lang = "es",
    title: str | None = None,
    profile: Profile = "public",
    hexagons: gpd.GeoDataFrame | None = None,
    overlaps: pd.DataFrame | None = None,
    timeseries: pd.DataFrame | None = None,
    sources: Sequence[str] = (),
    max_points: int = MAX_INCIDENT_POINTS,
    attribution: str | None = None,
    basemap: str = DEFAULT_BASEMAP,
    communities: gpd.GeoDataFrame | None = None,
    community_tables: Any = None,
    nearby_km: float = 5.0,
    regions: gpd.GeoDataFrame | None = None,
    shade_regions: str | None = None,
    outline: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Build an interactive risk map of territories, tenure, concessions, incidents and more.

    The map is built, not written: save it with ``m.save(path)`` (or as
    :func:`geotools.maps.write_map_html` does). What it shows, grouped in the layer control:

    - territories shaded by risk class (when ``risk_class`` is given) or by titled share in five
      classes (0-10, 10-25, 25-50, 50-75, 75-100 %), one shading at a time;
    - risk hexagons (hidden at first), parcels by tenure, concessions hatched and outlined by
      kind (outline dash by status), infrastructure lines;
    - incidents as an icon per kind (size by severity; white when the location is approximate
      or generalised), clustered, with a heat-map alternative and a year slider filtering both;
      above ``max_points`` incidents, counts on a grid instead of one marker each;
    - a title box (with notices of withheld and generalised incidents), a legend for every
      styled layer, a search box over community names, scale bar, fullscreen button,
      mini-map and a sources and licences box. In a frame or window under 860 x 640 pixels
      (an embedded map, a phone) these switch to a compact layout
      (:mod:`geotools.maps.embed`): layer list collapsed, title notes behind a button, the
      data fitted beside or above the legend.

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
        :func:`geotools.maps.write_map_html` does).
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
    basemap : {"osm", "satellite", "none"}, default "osm"
        Basemap shown first (the other tile layer selectable); ``"none"``: no tiles and no
        mini-map (nothing is requested from a tile server), a plain background with 1-degree
        meridians and parallels around the data.
    communities : geopandas.GeoDataFrame, optional
        Community points (``community_id``, ``name``, ``people``, ``population``,
        ``families``, ``river``, ``precision``), drawn clustered
        (:mod:`geotools.maps.community_layer`).
    community_tables : geotools.analysis.communities.CommunityResult, optional
        Their ``stats`` and ``membership`` tables (popups: territory, concessions by kind,
        incidents nearby, nearest concession of each kind); for a public map, the view's.
    nearby_km : float, default 5.0
        The "nearby" distance of the statistics (popup label of the incidents nearby).
    regions : geopandas.GeoDataFrame, optional
        Region polygons with the ``region_stats`` columns (for a public map, the privacy
        gate's :attr:`~geotools.privacy.ShareableView.regions`: small counts as ``"<N"``).
    shade_regions : str, optional
        Column to shade the regions by (:mod:`geotools.maps.region_layer`); outlines only
        when omitted.
        meridians and parallels around the data, and an outline (see ``outline``).
    outline : geopandas.GeoDataFrame, optional
        Polygons (regions, departments) whose boundaries are drawn as thin grey lines under
        every layer, not interactive, around the study (only their geometry is embedded). With
        ``basemap="none"`` and no ``outline``, the packaged outline of Peru and its neighbours
        (Natural Earth 1:110m, public domain; credited in the sources box) is drawn instead.

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
    check_lang(lang)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string or None, not {type(title).__name__}.")
    t = TEXT[lang]
    check_profile(profile)
    check_basemap(basemap)
    # Withheld incidents go first, before any reprojection or formatting sees them.
    withheld = 0
    if incidents is not None:
        # Confidential records are not counted among those "not shown" (subtraction).
        _, withheld = select_drawable(incidents, profile)
        incidents = select_visible_incidents(incidents, profile)

    shown: list[gpd.GeoDataFrame] = []
    # Without tiles nothing gives the map a maximum zoom, which Leaflet.markercluster needs.
    no_tiles: dict[str, Any] = {"maxZoom": 18} if basemap == "none" else {}
    m = folium.Map(
        tiles=None, control_scale=True, zoom_control=True, width="100%", height="100%", **no_tiles
    )
    # The page inserts what each element renders as text, never as a template (data is not
    # code), and numbers the element ids so that identical builds give identical bytes.
    page = MapPage()
    page.add_child(m)
    # Only Leaflet: jQuery, Bootstrap and Font Awesome are not used by this map.
    m.default_js = [js for js in m.default_js if js[0] == "leaflet"]
    m.default_css = [css for css in m.default_css if css[0] == "leaflet_css"]
    base = _base_layers(basemap, lang)
    for tiles in base:
        tiles.add_to(m)
    page_title = title if title is not None else t["title"]
    m.get_root().title = escape_html(page_title)  # type: ignore[attr-defined]
    m.add_child(PageAssets(_CSS + COMPACT_CSS, _hatch_svg()))

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
    region_legend_html = ""
    if regions is not None:
        # Below the territories, so that a click inside a territory still opens its popup.
        frame = _display_frame(regions, "regions", simplify=True, coverage=True)
        if len(frame):
            region_legend_html = _region_layer(m, frame, lang, overlays, shade_regions)
            shown.append(frame)
    frame = _display_frame(territories, "territories", simplify=True, coverage=True)
    if len(frame):
        ids = _column(frame, "territory_id").astype(str)
        holders = _holder_blocks(ids, overlaps, lang)
        years = _year_blocks(ids, timeseries, lang)
        frame[EXTRA_POPUP_COLUMN] = [holders.get(i, "") + years.get(i, "") for i in ids]
        legend.update(_territory_layer(m, frame, lang, overlays))
        shown.append(frame)
    tenure_unknown = False
    if hexagons is not None:
        frame = _display_frame(hexagons, "hexagons", simplify=False)
        if len(frame):
            tenure_unknown = _hexagon_layer(m, frame, lang, overlays)
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
    community_legend_html = ""
    if communities is not None:
        frame = _display_frame(communities, "communities", simplify=False)
        if len(frame):
            names = _column(territories, "name").astype(object)
            approximate = _community_layer(
                m,
                frame,
                lang,
                overlays,
                stats=getattr(community_tables, "stats", None),
                membership=getattr(community_tables, "membership", None),
                territory_names=dict(
                    zip(_column(territories, "territory_id").astype(str), names, strict=True)
                ),
                holders=_holders(concessions),
                nearby_km=nearby_km,
            )
            community_legend_html = community_legend(lang, approximate)
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
    resolution = hexagons.attrs.get("h3_resolution") if hexagons is not None else None
    if legend["hexagons"] and resolution in H3_AREA_KM2 and resolution < 7:
        notes.append(
            t["hexagons_coarse_note"].format(km2=format_number(H3_AREA_KM2[resolution], lang))
        )
    if legend["hexagons"] and tenure_unknown:
        notes.append(t["hexagons_tenure_note"])
    notes_html = "".join(f'<div class="gt-hint">{escape_html(note)}</div>' for note in notes)
    title_html = f'<div class="gt-t">{escape_html(page_title)}</div>'
    m.add_child(TitleBox(title_html, notes_html, NOTES_LABEL[lang]))
    _add_layer_control(m, base, overlays, lang)
    Fullscreen(position="topleft", title=t["fullscreen"], title_cancel=t["fullscreen_exit"]).add_to(
        m
    )
    if base:
        MiniMap(
            tile_layer=folium.TileLayer("OpenStreetMap"),
            position="bottomright",
            toggle_display=True,
            zoom_level_offset=-6,
            width=130,
            height=110,
        ).add_to(m)
    if basemap == "none" or outline is not None:
        add_outline_pane(m)
    if not base:
        _graticule(m, shown)
    if basemap == "none" or outline is not None:
        lines = outline_lines(study_extent(shown), outline)
        if lines is not None:
            add_outline(m, lines)
            if outline is None:
                sources = [*sources, OUTLINE_SOURCE[lang]]
    m.add_child(
        HtmlControl(
            region_legend_html + _legend_html(lang, **legend) + community_legend_html,
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
    m.add_child(CompactFit(_fit_bounds(m, shown)))  # after the legend it makes room for
    page.number_elements()
    log.debug("Map built with %d layer(s) in %s.", len(shown), lang)
    return m
