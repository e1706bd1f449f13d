"""Display geometry, popup cells and the GeoJSON layers of the web map (hexagons, lines).

Territories, parcels and concessions are drawn by :mod:`geotools.maps.compact_layers`
(delta-encoded geometry, popups built in the page from one row of values per feature, issue
15), from the display geometry and the escaped cells made here.

What reaches the HTML
---------------------
folium embeds every property of every GeoJSON feature in the page, whether a popup shows it or
not. The layers are therefore never handed to folium as frames: each layer's GeoJSON is built
here, with exactly three properties per feature:

- ``popup``: the popup, as HTML in which every value taken from the data is escaped
  (:func:`geotools.maps.elements.escape_html`);
- ``tooltip``: the hover text, escaped likewise;
- ``k``: a style key (a class number or vocabulary values, never free text).

Leaflet inserts popups and tooltips with ``innerHTML``, so escaping here is what stops a name or
description such as ``<img src=x onerror=alert(1)>`` from running as code in the reader's browser.
Braces are escaped too (``&#123;``): folium and branca parse what each element renders as a
Jinja2 template, and text from data must never be read as one.

Display geometry
----------------
Layers are reprojected to EPSG:4326, simplified with a tolerance of about 11 m, or coarser when
a layer would otherwise keep more than :data:`MAX_DISPLAY_VERTICES` vertices, as long as every
polygon keeps its area within :data:`MAX_DISPLAY_AREA_ERROR_PCT` (territories and parcels that
form a valid coverage use the topology-preserving ``shapely.coverage_simplify`` at one
tolerance, so shared borders stay shared; other polygons are simplified each on its own, each
as coarse as its own area allows) and snapped to a
:data:`COORDINATE_GRID_DEG` grid (5 decimals, about 1 m). The map is for display only: hectares
shown in popups come from the input columns, never from these geometries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geotools.errors import CRSError
from geotools.maps.elements import (
    JsName,
    LinkedGeoJson,
    encode_braces,
    escape_html,
)
from geotools.maps.style import (
    HEXAGON_BREAKS,
    HEXAGON_COLOURS,
    INFRASTRUCTURE_STYLES,
    NO_DATA_COLOUR,
    TEXT,
    TITLED_BREAKS,
    VALUE_LABELS,
    format_hectares,
    format_number,
    format_percent,
    infrastructure_style,
)

log = logging.getLogger(__name__)


#: Simplification tolerance of displayed polygons and lines, in degrees (about 11 m).
DISPLAY_TOLERANCE_DEG = 1e-4
#: Grid displayed coordinates are snapped to, in degrees (5 decimals, about 1 m).
COORDINATE_GRID_DEG = 1e-5


# --------------------------------------------------------------------------------------------
# Cells of popups
# --------------------------------------------------------------------------------------------


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
    """Compute the relative area change (%) of each displayed polygon, snapped as the map writes it.

    Both are lon/lat: for polygons of a few degrees or less, the ratio of planar areas in
    degrees equals the ratio of true areas to well under 0.01 %. Lines and points give 0.

    Parameters
    ----------
    original : numpy.ndarray of shapely.Geometry
        Polygons as measured, lon/lat degrees.
    shown : numpy.ndarray of shapely.Geometry
        The same polygons as displayed (simplified, say) before snapping to
        :data:`COORDINATE_GRID_DEG`, lon/lat degrees.

    Returns
    -------
    numpy.ndarray of float
        ``100 * (shown area - original area) / original area`` per geometry; 0 where the
        original has no area.
    """
    before = shapely.area(original)
    after = shapely.area(shapely.set_precision(shown, COORDINATE_GRID_DEG))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(before > 0, 100.0 * (after - before) / before, 0.0)


def _is_coverage(geoms: np.ndarray) -> bool:
    """Whether ``geoms`` form a valid polygon coverage (edges shared exactly, no overlaps)."""
    try:
        return bool(shapely.coverage_is_valid(geoms))
    except (AttributeError, shapely.errors.GEOSException, shapely.errors.ShapelyError) as exc:
        log.debug("coverage_is_valid unavailable (%s); simplifying each polygon.", exc)
        return False


#: Share of :data:`MAX_DISPLAY_AREA_ERROR_PCT` a polygon simplified on its own may use: the
#: planar area ratio checked here and the geodesic one differ by up to about 0.01 %.
PER_FEATURE_AREA_MARGIN = 0.9


def _simplify(geoms: np.ndarray, coverage: bool) -> np.ndarray:
    """Simplify for display; a valid polygon coverage keeps its shared edges shared.

    The finest tolerance of :data:`DISPLAY_TOLERANCES_DEG` is used unless the layer would keep
    more than :data:`MAX_DISPLAY_VERTICES` vertices; then coarser ones are tried. A coverage
    takes one tolerance for all (shared borders stay shared): the first that fits, provided
    every polygon stays within :data:`MAX_DISPLAY_AREA_ERROR_PCT` of its area (otherwise the
    last tolerance that did is kept, and the map is larger). Other polygons are simplified each
    on its own (issue 15): at every coarser step, each polygon whose area stays within
    :data:`PER_FEATURE_AREA_MARGIN` of that limit takes it, the others keep their last
    geometry and are not coarsened further; a large smooth territory goes coarse while a
    small or jagged one keeps its detail.
    """
    if coverage and _is_coverage(geoms):
        return _simplify_shared(geoms)
    chosen = shapely.simplify(geoms, DISPLAY_TOLERANCES_DEG[0], preserve_topology=True)
    open_ = np.ones(len(geoms), dtype=bool)
    limit = MAX_DISPLAY_AREA_ERROR_PCT * PER_FEATURE_AREA_MARGIN
    for coarser in DISPLAY_TOLERANCES_DEG[1:]:
        if shapely.get_num_coordinates(chosen).sum() <= MAX_DISPLAY_VERTICES or not open_.any():
            break
        where = np.flatnonzero(open_)
        candidate = shapely.simplify(geoms[where], coarser, preserve_topology=True)
        error = np.abs(compute_display_area_error(geoms[where], candidate))
        fits = (error <= limit) & ~shapely.is_empty(candidate)
        chosen[where[fits]] = candidate[fits]
        open_[where[~fits]] = False
        log.debug("Display tolerance %.0e degrees: %d polygon(s) take it.", coarser, fits.sum())
    log.debug(
        "Display geometry simplified polygon by polygon: %d vertices.",
        shapely.get_num_coordinates(chosen).sum(),
    )
    return chosen


def _simplify_shared(geoms: np.ndarray) -> np.ndarray:
    """One tolerance for a whole coverage (see :func:`_simplify`)."""
    chosen = _simplify_once(geoms, True, DISPLAY_TOLERANCES_DEG[0])
    tolerance = DISPLAY_TOLERANCES_DEG[0]
    for coarser in DISPLAY_TOLERANCES_DEG[1:]:
        if shapely.get_num_coordinates(chosen).sum() <= MAX_DISPLAY_VERTICES:
            break
        candidate = _simplify_once(geoms, True, coarser)
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
    if table.empty:
        # No incident inside or near any territory: an empty ``map`` result would keep the
        # int64 dtype, and pandas 3 refuses str + int64 (issue 13: the real Defensoría import).
        return {}
    text = (
        table["year"].astype(int).astype(str)
        + ": "
        + table["n"].map(lambda n: format_number(n, lang)).astype(str)
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


def _hexagon_layer(
    m: folium.Map, frame: gpd.GeoDataFrame, lang: str, overlays: list[_Overlay]
) -> bool:
    """Risk surface averaged on H3 hexagons (``compute_risk_hexagons``); True when tenure is
    not known in some hexagon (its tooltip says so; the legend adds a note)."""
    t = TEXT[lang]
    risk = _numbers(frame, "risk")
    classes = np.where(np.isfinite(risk), np.digitize(risk, HEXAGON_BREAKS[1:-1]), -1)

    def value(column: str) -> list[str]:
        return [format_number(v, lang, 2) if np.isfinite(v) else t["na"] for v in
                _numbers(frame, column)]

    known = _numbers(frame, "tenure_known") if "tenure_known" in frame.columns else None
    if known is None:  # hexagons without the column: known wherever tenure is a number
        known = np.isfinite(_numbers(frame, "tenure")).astype(float)
    tenure_notes = [
        t["hex_tenure_unknown"] if not k > 0 else t["hex_tenure_partly"] if k < 1 else ""
        for k in known
    ]
    tooltips = [
        f"{t['hex_risk']}: {r} · {t['hex_violence']}: {v} · {t['hex_concessions']}: {c} · "
        f"{t['hex_tenure']}: {u}" + (f" ({note})" if note else "")
        for r, v, c, u, note in zip(
            value("risk"),
            value("violence"),
            value("concessions"),
            value("tenure"),
            tenure_notes,
            strict=True,
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
    return bool(np.any(~(known >= 1)))


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
            "color": infrastructure_style(key or None)[0],
            "dashArray": infrastructure_style(key or None)[1],
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
