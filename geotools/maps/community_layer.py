"""The community points layer of the web map: clustered markers with their memberships.

Community points (the IBC / SICNA registry: 1,600 centroids nationally) are drawn as small
circles clustered by Leaflet.markercluster, like incidents. To keep a national map light the
popups are not embedded one by one: each point carries its escaped name (also its tooltip), an
index into the list of peoples, its figures already formatted for the language and, only when
it lies in some polygon, a block of escaped HTML listing the territory, the concessions by kind
and any other polygon layer holding it; the browser assembles a popup when it is opened.

Every text from the data is escaped here (:func:`geotools.maps.elements.escape_html`) before it
reaches :class:`CommunityMarkers`, whose template only concatenates those strings. The figures
are those of the view the map is built from: in a public map ``incidents_nearby`` counts only
the incidents the privacy gate publishes (:func:`geotools.privacy.compute_shareable_view`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.elements import JSCSSMixin

from geotools.maps.elements import (
    MARKERCLUSTER_CSS,
    MARKERCLUSTER_JS,
    JsName,
    Template,
    escape_html,
)
from geotools.maps.layers import _column, _escaped, _labels, _normalised, _Overlay, _row
from geotools.maps.style import (
    COMMUNITY_COLOUR,
    LAYER_LABELS,
    NBSP,
    TEXT,
    VALUE_LABELS,
    format_number,
)

log = logging.getLogger(__name__)

#: At most this many polygons of one kind are named in a popup ("and N more" after).
MAX_LISTED = 6


class CommunityMarkers(JSCSSMixin, MacroElement):
    """Community points as clustered circle markers whose popups are assembled on opening.

    ``data`` holds ``pts`` rows ``[lat, lon, approximate 0/1, people index or -1]``, and per
    point ``names`` (escaped; the tooltip and the popup's heading), ``values`` (formatted
    figures, ``null`` when absent), ``terr`` (escaped table rows: the territory holding it)
    and ``inside`` (escaped HTML of the other polygons, ``""`` when none); ``people``
    the escaped peoples, ``labels`` the escaped labels of ``values``, ``approx`` the escaped
    note of approximate points. The layer is the global ``<name>_layer``
    (:attr:`layer_name`).
    """

    default_js = list(MARKERCLUSTER_JS)  # noqa: RUF012 (folium's declaration)
    default_css = list(MARKERCLUSTER_CSS)  # noqa: RUF012

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.layer_name }};
        (function() {
            var map = {{ this._parent.get_name() }};
            var D = {{ this.data|tojson }};
            var colour = {{ this.colour|tojson }};
            var cluster = L.markerClusterGroup({
                maxClusterRadius: 40, showCoverageOnHover: false, spiderfyOnMaxZoom: true,
                disableClusteringAtZoom: 11, chunkedLoading: true,
                iconCreateFunction: function(group) {
                    var n = group.getChildCount(), d = n < 10 ? 26 : (n < 100 ? 32 : 38);
                    return L.divIcon({
                        html: '<div style="border-color:' + colour + ";background:" + colour
                            + '">' + n + "</div>",
                        className: "gt-cluster", iconSize: [d, d]
                    });
                }
            });
            function popup(i) {
                var p = D.pts[i], html = '<div class="gt-popup"><div class="gt-h">'
                    + D.names[i] + "</div>";
                if (p[3] >= 0) { html += '<div class="gt-sub">' + D.people[p[3]] + "</div>"; }
                var rows = D.terr[i];
                D.values[i].forEach(function(v, j) {
                    if (v !== null) { rows += "<tr><th>" + D.labels[j] + "</th><td>" + v
                        + "</td></tr>"; }
                });
                if (rows) { html += "<table>" + rows + "</table>"; }
                html += D.inside[i];
                if (p[2]) { html += '<div class="gt-note">' + D.approx[i] + "</div>"; }
                return html + "</div>";
            }
            var markers = D.pts.map(function(p, i) {
                var m = L.circleMarker([p[0], p[1]], {
                    radius: 5, color: colour, weight: p[2] ? 2.5 : 1.5,
                    fillColor: p[2] ? "#ffffff" : colour, fillOpacity: p[2] ? 0.6 : 0.85
                });
                m.bindPopup(function() { return popup(i); }, {maxWidth: 340});
                m.bindTooltip(D.names[i]);
                return m;
            });
            cluster.addLayers(markers);
            // The search box (geotools.maps.search) finds the points by name: zoom past the
            // clustering (zoom 11) to the point, then open its popup.
            (map.gtSearch = map.gtSearch || []).push({
                names: D.names,
                extra: D.pts.map(function(p) { return p[3] >= 0 ? D.people[p[3]] : ""; }),
                show: function(i) {
                    if (!map.hasLayer(cluster)) { map.addLayer(cluster); }
                    var m = markers[i];
                    map.setView(m.getLatLng(), Math.max(map.getZoom(), 13), {animate: false});
                    if (m._map) { m.openPopup(); }
                    else { L.popup({maxWidth: 340}).setLatLng(m.getLatLng())
                        .setContent(popup(i)).openOn(map); }
                }
            });
            {{ this.layer_name }} = cluster;
            cluster.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: dict[str, Any], colour: str = COMMUNITY_COLOUR) -> None:
        super().__init__()
        self._name = "CommunityMarkers"
        self.data = data
        self.colour = colour

    @property
    def layer_name(self) -> JsName:
        """JavaScript name of the clustered community layer."""
        return JsName(self, "_layer")


def _by_id(table: pd.DataFrame | None, ids: pd.Series) -> pd.DataFrame:
    """Rows of ``table`` (keyed by ``community_id``) in the order of ``ids``; empty columns
    when there is no table."""
    if table is None or "community_id" not in table.columns:
        return pd.DataFrame(index=range(len(ids)))
    keyed = table.drop_duplicates("community_id").set_index(
        table.drop_duplicates("community_id")["community_id"].astype(str)
    )
    return keyed.reindex(ids.astype(str).to_numpy()).reset_index(drop=True)


def _text(value: object, default: str) -> str:
    """``value`` when it is a non-empty string, else ``default``."""
    return value if isinstance(value, str) and value.strip() else default


def _member_blocks(
    membership: pd.DataFrame | None,
    lang: str,
    territory_names: Mapping[str, str],
    holders: Mapping[str, str],
) -> dict[str, tuple[str, str]]:
    """Escaped HTML per community id: the territory (table rows) and the polygons of each
    other layer holding it (lists).

    Concessions are listed by kind (``Oil and gas: 108 · Perenco, 95 ?``); a ``?`` marks a
    polygon the point is only possibly inside (approximate location).
    """
    if membership is None or not len(membership):
        return {}
    t = TEXT[lang]
    kinds = VALUE_LABELS["concession_kind"][lang]
    table = membership.assign(
        _cid=membership["community_id"].astype(str),
        _fid=membership["feature_id"].astype(str),
        _maybe=(membership["relation"].astype(str) != "inside"),
    ).sort_values(["_cid", "layer", "_maybe", "_fid"], kind="mergesort")
    blocks: dict[str, list[str]] = {}
    for (cid, layer), rows in table.groupby(["_cid", "layer"], sort=True):
        cid, layer = str(cid), str(layer)
        ids = rows["_fid"].tolist()
        maybe = rows["_maybe"].tolist()
        if layer == "territories":
            names = [
                escape_html(_text(territory_names.get(i), i)) + (" ?" if m else "")
                for i, m in zip(ids, maybe, strict=True)
            ]
            blocks.setdefault(cid, []).append(_row(t["territory"], ", ".join(names)))
            continue
        label = LAYER_LABELS[lang].get(layer, layer)
        head = t["in_layer"].format(n=format_number(len(ids), lang), layer=escape_html(label))
        items = []
        groups = rows["kind"].fillna("").astype(str) if "kind" in rows else pd.Series("")
        for kind, part in rows.groupby(groups.to_numpy(), sort=True):
            names = [
                escape_html(i)
                + (f" · {escape_html(holders[i])}" if _text(holders.get(i), "") else "")
                + (" ?" if m else "")
                for i, m in zip(part["_fid"], part["_maybe"], strict=True)
            ]
            more = len(names) - MAX_LISTED
            text = ", ".join(names[:MAX_LISTED]) + (
                f", {t['more'].format(n=more)}" if more > 0 else ""
            )
            kind_label = kinds.get(str(kind), escape_html(kind)) if kind else ""
            items.append(f"<li>{kind_label + ': ' if kind_label else ''}{text}</li>")
        blocks.setdefault(cid, []).append(
            f'<div class="gt-sec2">{head}</div><ul class="gt-list">{"".join(items)}</ul>'
        )
    out = {}
    for cid, parts in blocks.items():
        rows_html = "".join(p for p in parts if p.startswith("<tr>"))
        lists = "".join(p for p in parts if not p.startswith("<tr>"))
        out[cid] = (rows_html, lists)
    if table["_maybe"].any():
        for cid in table.loc[table["_maybe"], "_cid"].unique():
            rows_html, lists = out[str(cid)]
            out[str(cid)] = (
                rows_html, lists + f'<div class="gt-note">{escape_html(t["possibly_note"])}</div>'
            )
    return out


def _figures(
    frame: gpd.GeoDataFrame, stats: pd.DataFrame, lang: str, nearby_km: float
) -> tuple[list[str], list[list[str | None]]]:
    """Labels (escaped) and per-point formatted figures: population, families, river,
    incidents nearby and the distance to the nearest concession of each kind."""
    t = TEXT[lang]
    kinds = VALUE_LABELS["concession_kind"][lang]
    labels: list[str] = []
    columns: list[list[str | None]] = []

    def add(label: str, values: list[str | None]) -> None:
        if any(v is not None for v in values):
            labels.append(label)
            columns.append(values)

    for column in ("population", "families"):
        numbers = pd.to_numeric(_column(frame, column), errors="coerce").to_numpy(dtype=float)
        add(t[column], [format_number(v, lang) if np.isfinite(v) else None for v in numbers])
    rivers = _column(frame, "river")
    add(t["river"], [None if gone else v for v, gone in
                     zip(_escaped(rivers), rivers.isna().to_numpy(), strict=True)])
    if "incidents_nearby" in stats.columns:
        counts = pd.to_numeric(stats["incidents_nearby"], errors="coerce").to_numpy(dtype=float)
        add(
            escape_html(
                t["incidents_within"].format(
                    km=format_number(nearby_km, lang, 0 if float(nearby_km).is_integer() else 1)
                )
            ),
            [format_number(v, lang) if np.isfinite(v) else None for v in counts],
        )
    nearest = sorted(c for c in stats.columns if c.startswith("nearest_") and c.endswith("_km"))
    if nearest:
        km = np.column_stack(
            [pd.to_numeric(stats[c], errors="coerce").to_numpy(dtype=float) for c in nearest]
        )
        names = [
            escape_html(kinds.get(c, c))
            for c in (c.removeprefix("nearest_").removesuffix("_km") for c in nearest)
        ]
        order = np.argsort(np.where(np.isfinite(km), km, np.inf), axis=1, kind="stable")
        add(
            escape_html(t["nearest_concession"]),
            [
                "<br>".join(
                    f"{names[j]}: {format_number(row[j], lang, 1)}{NBSP}km"
                    for j in rank
                    if np.isfinite(row[j]) and row[j] > 0  # inside: listed as a membership
                )
                or None
                for row, rank in zip(km, order, strict=True)
            ],
        )
    rows = [list(r) for r in zip(*columns, strict=True)] if columns else [[] for _ in
                                                                          range(len(frame))]
    return labels, rows


def _community_layer(
    m: folium.Map,
    frame: gpd.GeoDataFrame,
    lang: str,
    overlays: list[_Overlay],
    stats: pd.DataFrame | None = None,
    membership: pd.DataFrame | None = None,
    territory_names: Mapping[str, str] | None = None,
    holders: Mapping[str, str] | None = None,
    nearby_km: float = 5.0,
) -> bool:
    """Add the community points (display frame, EPSG:4326) as clustered markers.

    ``stats`` and ``membership`` are the view's ``community_stats`` and
    ``community_membership`` tables (keyed by ``community_id``). Returns whether any point
    has an approximate location (for the legend).
    """
    t = TEXT[lang]
    ids = _column(frame, "community_id").astype(str)
    joined = _by_id(stats, ids)
    names = _escaped(_column(frame, "name").fillna(_column(frame, "community_id")))
    people_text = _escaped(_column(frame, "people"))
    unique = sorted({p for p in people_text if p})
    index = {p: i for i, p in enumerate(unique)}
    precision = _normalised(_column(frame, "precision")).fillna("exact")
    approximate = (precision != "exact").to_numpy()
    precision_labels = _labels(_column(frame, "precision"), VALUE_LABELS["precision"][lang])
    labels, values = _figures(frame, joined, lang, nearby_km)
    blocks = _member_blocks(membership, lang, territory_names or {}, holders or {})
    geoms = frame.geometry.to_numpy()
    lat = np.round(shapely.get_y(geoms), 5)
    lon = np.round(shapely.get_x(geoms), 5)
    data = {
        "pts": [
            [float(y), float(x), int(a), index.get(p, -1)]
            for y, x, a, p in zip(lat, lon, approximate, people_text, strict=True)
        ],
        "names": names,
        "people": unique,
        "labels": labels,
        "values": values,
        "terr": [blocks.get(i, ("", ""))[0] for i in ids],
        "inside": [blocks.get(i, ("", ""))[1] for i in ids],
        "approx": [
            escape_html(t["approximate_location"].format(precision=p)) if a else ""
            for p, a in zip(precision_labels, approximate, strict=True)
        ],
    }
    element = CommunityMarkers(data)
    m.add_child(element)
    overlays.append(
        _Overlay(t["group_communities"], escape_html(t["layer_communities"]), element.layer_name)
    )
    log.debug("communities: %d points, %d with memberships", len(frame), len(blocks))
    return bool(approximate.any())


def community_legend(lang: str, approximate: bool) -> str:
    """The legend section of the community points (constants only).

    Parameters
    ----------
    lang : {"es", "en"}
        Language of the labels.
    approximate : bool
        Whether some point is drawn as a ring (approximate location).

    Returns
    -------
    str
        HTML of the section.
    """
    t = TEXT[lang]
    dot = (
        f'<span class="gt-dot" style="background:{COMMUNITY_COLOUR};box-shadow:0 0 0 1px '
        f'{COMMUNITY_COLOUR}"></span>'
    )
    note = t["community_note"] if approximate else t["community_note"].split("; ")[-1]
    return (
        f'<div class="gt-sec">{t["layer_communities"]}</div>'
        f'<div class="gt-row">{dot}{t["layer_communities"].split(" (")[0]}</div>'
        f'<div class="gt-note">{note}</div>'
    )
