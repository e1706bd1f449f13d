"""Territory, parcel and concession layers of the web map, shipped compactly (issue 15).

Each layer is a :class:`geotools.maps.compact.CompactGeoJson`: encoded geometry, style keys,
one row of popup values per feature and the popup and tooltip layouts once (see
:mod:`geotools.maps.compact`). The values are what :mod:`geotools.maps.layers` always put in
the popups: text from the data escaped for HTML, numbers formatted per language; the layouts
hold only our labels and markup. What the reader sees is unchanged.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely

from geotools.maps.compact import (
    CANVAS_ABOVE_FEATURES,
    CompactGeoJson,
    Part,
    compact_payload,
    render_layout,
)
from geotools.maps.elements import JsName, encode_braces, escape_html
from geotools.maps.layers import (
    EXTRA_POPUP_COLUMN,
    _column,
    _escaped,
    _feature_collection,
    _labels,
    _normalised,
    _numbers,
    _Overlay,
    _titled_class,
    _titled_pct,
)
from geotools.maps.search import SearchControl
from geotools.maps.style import (
    CONCESSION_STYLES,
    NO_DATA_COLOUR,
    RISK_COLOURS,
    STATUS_STYLES,
    SUB_ROW,
    TENURE_COLOURS,
    TERRITORY_OUTLINE,
    TEXT,
    TITLED_COLOURS,
    VALUE_LABELS,
    component_names,
    format_hectares,
    format_number,
    format_percent,
    hectare_number,
)

log = logging.getLogger(__name__)

_SLOT = re.compile("\x00(\\d+)\x01")


def _slot(column: int) -> str:
    """A column's place in a template while it is assembled (no brace, so nothing escapes it)."""
    return f"\x00{column}\x01"


def _part(template: str, column: int | None = None) -> Part:
    """A layout part: our HTML with braces as references, then ``{i}`` at each column's slot."""
    text = _SLOT.sub(r"{\1}", encode_braces(template))
    return [text] if column is None else [text, column]


class _Columns:
    """Row columns of a layer, by name, in the order they are added."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.values: list[list[Any]] = []

    def add(self, name: str, values: list[Any]) -> int:
        self.names.append(name)
        self.values.append(values)
        return len(self.names) - 1

    def rows(self) -> list[list[Any]]:
        return [list(row) for row in zip(*self.values, strict=True)]


def _table_row(label: str, column: int) -> Part:
    """``<tr><th>label</th><td>value</td></tr>``, only where the value is not empty."""
    return _part(f"<tr><th>{label}</th><td>{_slot(column)}</td></tr>", column)


def _hectare_row(
    c: _Columns, frame: gpd.GeoDataFrame, column: str, label: str, lang: str, positive: bool
) -> list[Part]:
    """Table row ``label: X ha (Y %)`` from ``column`` and its ``_pct`` twin, as two columns.

    Units and markup are in the layout, once; the rows hold the two numbers. ``positive``: the
    row only where the hectares are above 0; otherwise always, "n/a" where they are missing
    (the percentage is left out where it is missing).
    """
    hectares = _numbers(frame, column)
    percent = _numbers(frame, column.removesuffix("_ha") + "_pct")
    shown = hectares > 0 if positive else np.ones(len(hectares), dtype=bool)
    ha = c.add(
        column,
        [
            hectare_number(v, lang) if ok and np.isfinite(v) else ""
            for v, ok in zip(hectares, shown, strict=True)
        ],
    )
    pct = c.add(
        column.removesuffix("_ha") + "_pct",
        [
            format_number(p, lang, 1) if ok and np.isfinite(p) else ""
            for p, ok in zip(percent, shown, strict=True)
        ],
    )
    cell = [_part(f"{_slot(ha)}\u00a0ha", ha)]
    if positive:
        head, tail = [_part(f"<tr><th>{label}</th><td>", ha)], [_part("</td></tr>", ha)]
    else:
        head, tail = [_part(f"<tr><th>{label}</th><td>")], [_part("</td></tr>")]
        cell.append(_part(TEXT[lang]["na"], -ha - 1))
    return [*head, *cell, _part(f" ({_slot(pct)}\u00a0%)", pct), *tail]


def _add_compact(
    m: folium.Map,
    frame: gpd.GeoDataFrame,
    columns: _Columns,
    keys: dict[str, list[Any]],
    layouts: tuple[list[Part] | None, list[Part]],
    styles: dict[Any, dict[str, Any]],
    name: str,
    overlays: list[_Overlay],
    group: str,
    highlight: dict[str, Any] | None = None,
    class_name: str | None = None,
    search: int | None = None,
) -> CompactGeoJson:
    """Add a compact layer; its ``data`` holds popups and tooltips as the page shows them."""
    popup, tip = layouts
    rows = columns.rows()
    geoms = frame.geometry.to_numpy()
    found = None if search is None else (search, shapely.point_on_surface(geoms))
    payload = compact_payload(geoms, keys, columns.names, rows, popup, tip, found)
    safe_rows = payload["rows"]
    properties: dict[str, list[Any]] = {}
    if popup is not None:
        properties["popup"] = [render_layout(popup, row) for row in safe_rows]
    properties["tooltip"] = [render_layout(tip, row) for row in safe_rows]
    properties.update(keys)
    layer = CompactGeoJson(
        _feature_collection(frame, properties),
        payload,
        styles,
        "k",
        escape_html(name),
        highlight=highlight,
        class_name=class_name,
        canvas=len(frame) > CANVAS_ABOVE_FEATURES,
    )
    layer.add_to(m)
    overlays.append(_Overlay(group, escape_html(name), JsName(layer), True))
    return layer


def _territory_layer(
    m: folium.Map, frame: gpd.GeoDataFrame, lang: str, overlays: list[_Overlay]
) -> dict[str, Any]:
    """Territories shaded by titled share and, when ``risk_class`` is given, by risk class.

    With risk columns, both layers draw the same features (shipped once): the risk layer is
    shown on opening, the titled-share layer is listed in the layer control but hidden.
    """
    t = TEXT[lang]
    has_risk = "risk_class" in frame.columns
    pct = _titled_pct(frame)
    classes = _titled_class(pct)
    names = _escaped(_column(frame, "name"))
    ids = _escaped(_column(frame, "territory_id"))
    headings = [name or ident for name, ident in zip(names, ids, strict=True)]
    c = _Columns()
    heading = c.add("heading", headings)
    people = c.add("people", _escaped(_column(frame, "people")))
    titled = c.add(
        "titled",
        [hectare_number(v, lang) if np.isfinite(v) else "" for v in _numbers(frame, "titled_ha")],
    )
    claimed = c.add("claimed", [hectare_number(v, lang) for v in _numbers(frame, "claimed_ha")])
    share = c.add("pct", [format_percent(p, lang) for p in pct])
    popup: list[Part] = [
        _part(f'<div class="gt-popup"><div class="gt-h">{_slot(heading)}</div>'),
        _part(f'<div class="gt-sub">{_slot(people)}</div>', people),
    ]
    tip = [_part(f"{_slot(heading)} · {_slot(share)}")]
    if has_risk:
        spanish = lang == "es" and "risk_drivers_es" in frame.columns
        risk_label = c.add(
            "risk", _labels(_column(frame, "risk_class"), VALUE_LABELS["risk_class"][lang])
        )
        score = c.add(
            "score",
            [
                format_number(s, lang) if np.isfinite(s) else ""
                for s in _numbers(frame, "risk_score")
            ],
        )
        drivers = c.add(
            "drivers", _escaped(_column(frame, "risk_drivers_es" if spanish else "risk_drivers"))
        )
        missing = c.add(
            "missing",
            [
                gone.strip()
                for gone in _escaped(
                    _column(frame, "risk_missing").map(
                        lambda v: component_names(v, lang), na_action="ignore"
                    )
                )
            ],
        )
        note = f" {t['drivers_english']}" if lang != "en" and not spanish else ""
        lead = '<div class="gt-lead">'
        popup += [
            _part(lead + t["risk_line"].format(label=_slot(risk_label)), risk_label),
            _part(lead + t["risk_line"].format(label=t["na"]), -risk_label - 1),
            _part(t["risk_score"].format(score=_slot(score)), score),
            _part("</div>"),
            _part(
                f'<div class="gt-desc"><b>{t["drivers"]}:</b> {_slot(drivers)}{note}</div>',
                drivers,
            ),
            _part(
                f'<div class="gt-note">{t["risk_missing"].format(missing=_slot(missing))}</div>',
                missing,
            ),
        ]
        tip.append(_part(" · " + t["risk_line"].format(label=_slot(risk_label)), risk_label))
    sentence = t["titled_sentence"].format(
        titled=_slot(titled), claimed=_slot(claimed), pct=_slot(share)
    )
    unknown = t["tenure_unknown_sentence"].format(claimed=_slot(claimed))
    popup += [
        _part(f'<div class="gt-lead">{sentence}</div>', titled),
        _part(f'<div class="gt-lead">{unknown}</div>', -titled - 1),
        _part("<table>"),
    ]
    popup += _hectare_row(c, frame, "secured_ha", t["secured"], lang, positive=False)
    if "in_process_ha" in frame.columns:
        popup += _hectare_row(c, frame, "in_process_ha", t["in_process"], lang, positive=True)
    popup += _hectare_row(c, frame, "untitled_ha", t["untitled"], lang, positive=False)
    popup += _hectare_row(c, frame, "concession_ha", t["in_concessions"], lang, positive=False)
    kinds = VALUE_LABELS["concession_kind"][lang]
    for column, row_label in [("concession_untitled_ha", f"{SUB_ROW}{t['on_untitled']}")] + [
        (f"concession_{k}_ha", f"{SUB_ROW}{kinds[k]}") for k in CONCESSION_STYLES
    ]:
        if column in frame.columns:
            popup += _hectare_row(c, frame, column, row_label, lang, positive=True)
    incidents = c.add(
        "incidents",
        [
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
        ],
    )
    popup.append(_table_row(t["incidents"], incidents))
    if "forest_loss_ha" in frame.columns:
        forest = c.add(
            "forest_loss",
            [
                format_hectares(ha, lang) if np.isfinite(ha) else ""
                for ha in _numbers(frame, "forest_loss_ha")
            ],
        )
        popup.append(_table_row(t["forest_loss"], forest))
    popup.append(_table_row(t["id"], c.add("id", ids)))
    extra = c.add("extra", _column(frame, EXTRA_POPUP_COLUMN).fillna("").to_list())
    popup += [_part("</table>"), _part(_slot(extra), extra), _part("</div>")]
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
    if not has_risk:
        layer = _add_compact(
            m,
            frame,
            c,
            {"k": classes.tolist()},
            (popup, tip),
            styles,
            t["layer_territories"],
            overlays,
            group,
            highlight=highlight,
            search=heading,
        )
        m.add_child(SearchControl(layer, None, None, None, t["search"], t["search_none"]))
        return {"no_data": bool((classes < 0).any())}
    codes = _normalised(_column(frame, "risk_class")).fillna("").to_list()
    risk_keys = [code if code in RISK_COLOURS else "" for code in codes]
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
    risk_layer = _add_compact(
        m,
        frame,
        c,
        {"k": risk_keys, "t": classes.tolist()},
        (popup, tip),
        risk_styles,
        t["layer_risk"],
        overlays,
        group,
        highlight=highlight,
        search=heading,
    )
    m.add_child(SearchControl(risk_layer, None, None, None, t["search"], t["search_none"]))
    name = escape_html(t["layer_territories"])
    titled_layer = CompactGeoJson(
        risk_layer.data,
        None,
        styles,
        "t",
        name,
        highlight=highlight,
        source=risk_layer,
        show=False,
        canvas=risk_layer.canvas,
    )
    titled_layer.add_to(m)
    overlays.append(_Overlay(group, name, JsName(titled_layer), False))
    log.debug("territories: risk layer shown, titled-share layer hidden.")
    return {
        "no_data": bool((classes < 0).any()),
        "risk": True,
        "risk_no_data": "" in risk_keys,
    }


def _parcel_layer(
    m: folium.Map, frame: gpd.GeoDataFrame, lang: str, overlays: list[_Overlay]
) -> list[str]:
    t = TEXT[lang]
    codes = _normalised(_column(frame, "tenure"))
    keys = [c if c in TENURE_COLOURS else "other" for c in codes.fillna("").to_list()]
    c = _Columns()
    ident = c.add("id", _escaped(_column(frame, "parcel_id")))
    tenure = c.add("tenure", _labels(_column(frame, "tenure"), VALUE_LABELS["tenure"][lang]))
    popup = [
        _part(f'<div class="gt-popup"><div class="gt-h">{t["parcel"]} {_slot(ident)}</div><table>'),
        _table_row(t["tenure"], tenure),
        _part("</table></div>"),
    ]
    tip = [_part(f"{t['parcel']} {_slot(ident)}"), _part(f": {_slot(tenure)}", tenure)]
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
    _add_compact(
        m,
        frame,
        c,
        {"k": keys},
        (popup, tip),
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
    c = _Columns()
    ident = c.add("id", _escaped(_column(frame, "concession_id")))
    kind = c.add("kind", _labels(_column(frame, "kind"), VALUE_LABELS["concession_kind"][lang]))
    status = c.add("status", _labels(_column(frame, "status"), VALUE_LABELS["status"][lang]))
    holder = c.add("holder", _escaped(_column(frame, "holder")))
    popup = [
        _part(
            f'<div class="gt-popup"><div class="gt-h">{t["concession"]} {_slot(ident)}</div><table>'
        ),
        _table_row(t["kind"], kind),
        _table_row(t["status"], status),
        _table_row(t["holder"], holder),
        _part("</table></div>"),
    ]
    tip = [_part(_slot(kind)), _part(f" · {_slot(holder)}", holder)]
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
    _add_compact(
        m,
        frame,
        c,
        {"k": keys},
        (popup, tip),
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
