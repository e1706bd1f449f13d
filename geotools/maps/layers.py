"""Display geometry and the GeoJSON layers of the web map (all but incidents).

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
form a valid coverage use the topology-preserving ``shapely.coverage_simplify``, so shared
borders stay shared) and snapped to a
:data:`COORDINATE_GRID_DEG` grid (5 decimals, about 1 m). The map is for display only: hectares
shown in popups come from the input columns, never from these geometries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
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
    SearchControl,
    encode_braces,
    escape_html,
)
from geotools.maps.style import (
    CONCESSION_STYLES,
    HEXAGON_BREAKS,
    HEXAGON_COLOURS,
    INFRASTRUCTURE_STYLES,
    NO_DATA_COLOUR,
    RISK_COLOURS,
    STATUS_STYLES,
    SUB_ROW,
    TENURE_COLOURS,
    TERRITORY_OUTLINE,
    TEXT,
    TITLED_BREAKS,
    TITLED_COLOURS,
    VALUE_LABELS,
    component_names,
    format_hectares,
    format_number,
    format_percent,
    hectare_number,
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
            titled=hectare_number(titled, lang),
            claimed=hectare_number(claimed, lang),
            pct=format_percent(share, lang),
        )
        if np.isfinite(titled)
        else t["tenure_unknown_sentence"].format(claimed=hectare_number(claimed, lang))
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
