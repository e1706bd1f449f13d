r"""Compact map layers: delta-encoded geometry and popups built in the browser (issue 15).

A national map of 10,000 territories written as plain GeoJSON with one popup HTML string per
feature was 51.8 MB, 88 % of it coordinates (``[-74.12345, -8.45678]``: 21 bytes a vertex) and
12 % popups (about 800 bytes each, mostly the same labels and markup repeated). A compact layer
ships instead:

- **geometry** quantised to the display grid (:data:`~geotools.maps.layers.COORDINATE_GRID_DEG`,
  1e-5 degree), delta-encoded along one path through every ring of the layer (each vertex
  relative to the previous one) and written as zig-zag varints of five bits per character in a
  URL-safe alphabet (the encoded-polyline idea, with characters that neither JSON, HTML nor a
  template engine treats specially): about 2 to 3 characters per coordinate. Each ring is one
  string; the closing vertex is implied. A small script in the page decodes it into GeoJSON and
  hands it to Leaflet's ``L.geoJson``.
- **popups and tooltips** as one row of values per feature (``cols``, the column names, once),
  and, once per layer, a *layout*: a list of parts ``[template]`` or ``[template, column]``. A
  template is our own HTML (labels from :data:`geotools.maps.style.TEXT`) with ``{i}`` where the
  value of column ``i`` goes; a part with a column is written only when that value is not
  empty (with ``-(i + 1)``: only when it is empty). :func:`render_layout` is the Python reading
  and the page script the browser's; the browser tests check they agree.

Escaping is unchanged: every value is text from the data escaped for HTML (with braces as
character references) or a number formatted by :mod:`geotools.maps.style`, and the whole
payload reaches the page as JSON through :func:`geotools.maps.elements.to_safe_json`. A value is
put in its template in a single pass, never scanned for ``{i}`` again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import folium
import numpy as np
import shapely
from folium.utilities import get_obj_in_upper_tree

from geotools.maps.elements import Template, _Text, encode_braces, to_safe_json

#: Characters of the geometry encoding: 5 bits of value and a continuation bit each.
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: Coordinates are written in units of 1e-5 degree (the display grid).
SCALE = 100_000
_CODES = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
_PLACEHOLDER = re.compile(r"\{(\d+)\}")

#: Layers with more features than this are drawn on a canvas, not as one SVG path each.
CANVAS_ABOVE_FEATURES = 2_000
#: A part of a layout: a template, and optionally the column that decides whether it is shown.
Part = list[Any]


def _varints(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Zig-zag varint characters of ``values`` (int64) and the character offset of each."""
    zigzag = ((values << 1) ^ (values >> 63)).astype(np.uint64)
    chunks = np.ones(len(zigzag), dtype=np.int64)
    for k in range(1, 13):
        chunks += (zigzag >> np.uint64(5 * k)) > 0
    width = int(chunks.max(initial=1))
    steps = np.arange(width, dtype=np.uint64)
    digits = (zigzag[:, None] >> (np.uint64(5) * steps)) & np.uint64(31)
    more = steps[None, :].astype(np.int64) < (chunks[:, None] - 1)
    symbols = digits.astype(np.int64) + 32 * more
    text = _CODES[symbols[steps[None, :].astype(np.int64) < chunks[:, None]]].tobytes()
    return text, np.concatenate([[0], np.cumsum(chunks)])


def encode_geometries(geoms: np.ndarray) -> list[Any]:
    """Encode display geometries for :class:`CompactGeoJson`.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely.Geometry
        Lon/lat geometries on the 1e-5 degree grid, none empty.

    Returns
    -------
    list
        Per geometry: a (multi)polygon as a list of polygons, each a list of ring strings
        (exterior first, closing vertex left out); any other geometry as its GeoJSON mapping.
        The rings share one delta chain in that order, starting from (0, 0).

    Examples
    --------
    >>> from shapely import box
    >>> encode_geometries(np.array([box(0, 0, 1e-5, 2e-5)]))
    [[['CAAEBAAD']]]
    """
    kinds = shapely.get_type_id(geoms)
    polygonal = np.isin(kinds, (3, 6))
    out: list[Any] = [
        None if flat else shapely.geometry.mapping(g)
        for g, flat in zip(geoms, polygonal, strict=True)
    ]
    if not polygonal.any():
        return out
    polygons, of_feature = shapely.get_parts(geoms[polygonal], return_index=True)
    rings, of_polygon = shapely.get_rings(polygons, return_index=True)
    coords, of_ring = shapely.get_coordinates(rings, return_index=True)
    per_ring = np.bincount(of_ring, minlength=len(rings))
    last = np.cumsum(per_ring) - 1
    keep = np.ones(len(coords), dtype=bool)
    keep[last] = False  # the closing vertex repeats the first
    grid = np.rint(coords[keep] * SCALE).astype(np.int64)
    deltas = np.diff(grid, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()
    text, offsets = _varints(deltas)
    ends = 2 * np.cumsum(per_ring - 1)
    starts = ends - 2 * (per_ring - 1)
    chars = text.decode("ascii")
    ring_text = [chars[offsets[a] : offsets[b]] for a, b in zip(starts, ends, strict=True)]
    features = np.flatnonzero(polygonal)
    nested: list[list[list[str]]] = [[] for _ in features]
    polygon_rings: list[list[str]] = [[] for _ in polygons]
    for text_of_ring, polygon in zip(ring_text, of_polygon, strict=True):
        polygon_rings[polygon].append(text_of_ring)
    for polygon, feature in enumerate(of_feature):
        nested[feature].append(polygon_rings[polygon])
    for position, feature in enumerate(features):
        out[feature] = nested[position]
    return out


def encode_points(points: np.ndarray) -> str:
    """Encode lon/lat points as one string (the delta chain of :func:`encode_geometries`).

    Parameters
    ----------
    points : numpy.ndarray of shapely.Point
        Points, lon/lat degrees.

    Returns
    -------
    str
        The points' coordinates on the 1e-5 degree grid, as varints of their differences.

    Examples
    --------
    >>> encode_points(shapely.points([[1e-5, 2e-5], [0, 0]]))
    'CEBD'
    """
    grid = np.rint(shapely.get_coordinates(points) * SCALE).astype(np.int64)
    deltas = np.diff(grid, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()
    return _varints(deltas)[0].decode("ascii")


def render_layout(layout: Sequence[Part], row: Sequence[Any]) -> str:
    """Fill a popup or tooltip layout with one feature's row, as the page script does.

    Parameters
    ----------
    layout : sequence of list
        Parts ``[template]`` or ``[template, column]`` (see the module notes).
    row : sequence
        The feature's values (escaped text or formatted numbers; ``""`` when absent).

    Returns
    -------
    str
        The HTML.

    Examples
    --------
    >>> render_layout([["<b>{0}</b>"], [" · {1}", 1], [" (none)", -2]], ["a&amp;b", ""])
    '<b>a&amp;b</b> (none)'
    """

    def value(match: re.Match[str]) -> str:
        cell = row[int(match.group(1))]
        return "" if cell is None else str(cell)

    parts = []
    for part in layout:
        if len(part) > 1:
            column = part[1]
            filled = row[column if column >= 0 else -column - 1] not in ("", None)
            if filled != (column >= 0):
                continue
        parts.append(_PLACEHOLDER.sub(value, part[0]))
    return "".join(parts)


def label(text: str) -> str:
    """A constant label for a layout template: braces as character references.

    Parameters
    ----------
    text : str
        HTML of ours (a :data:`~geotools.maps.style.TEXT` label), already safe.

    Returns
    -------
    str
        ``text`` with no ``{`` or ``}`` that a template could read as a column.
    """
    return encode_braces(text)


_DECODER_JS = r"""
    window.gtCompact = function(P) {
        var A = "ALPHABET", B = {}, x = 0, y = 0;
        for (var a = 0; a < A.length; a++) { B[A.charCodeAt(a)] = a; }
        function values(s, each) {
            var i = 0, n = s.length, c = 0;
            while (i < n) {
                var v = 0, shift = 0, b;
                do { b = B[s.charCodeAt(i++)]; v += (b & 31) * Math.pow(2, shift); shift += 5; }
                while (b & 32);
                each(v % 2 ? -(v + 1) / 2 : v / 2, c++ % 2);
            }
        }
        function ring(s) {
            var out = [];
            values(s, function(d, odd) {
                if (odd) { y += d; out.push([x / SCALE, y / SCALE]); }
                else { x += d; }
            });
            if (out.length) { out.push(out[0].slice()); }
            return out;
        }
        function fill(t, row) {
            return t.replace(/\{(\d+)\}/g, function(m, i) {
                var v = row[+i];
                return v === null || v === undefined ? "" : String(v);
            });
        }
        function render(layout, row) {
            var out = "";
            for (var p = 0; p < layout.length; p++) {
                var part = layout[p];
                if (part.length > 1) {
                    var col = part[1], v = row[col >= 0 ? col : -col - 1];
                    if ((v !== "" && v !== null && v !== undefined) !== (col >= 0)) { continue; }
                }
                out += fill(part[0], row);
            }
            return out;
        }
        var features = P.g.map(function(g, i) {
            var geometry = Array.isArray(g) ? {type: "MultiPolygon", coordinates: g.map(
                function(polygon) { return polygon.map(ring); })} : g;
            var properties = {};
            Object.keys(P.keys).forEach(function(k) {
                properties[k] = P.keys[k][0][P.keys[k][1][i]];
            });
            return {type: "Feature", id: String(i), properties: properties, geometry: geometry};
        });
        function wrap(html) {
            var div = document.createElement("div");
            div.innerHTML = "<table><tr><td>" + html + "</td></tr></table>";
            return div;
        }
        function search() {
            var at = [], px = 0, py = 0;
            values(P.search.at, function(d, odd) {
                if (odd) { py += d; at.push([py / SCALE, px / SCALE]); }
                else { px += d; }
            });
            return {
                names: P.rows.map(function(row) { return row[P.search.col]; }),
                ids: P.rows.map(function(row, i) { return String(i); }),
                points: at
            };
        }
        return {
            features: features,
            search: P.search ? search : null,
            popup: P.popup ? function(i) { return render(P.popup, P.rows[+i]); } : null,
            tip: function(i) { return render(P.tip, P.rows[+i]); },
            wrap: wrap
        };
    };
""".replace("ALPHABET", ALPHABET).replace("SCALE", str(SCALE))


class CompactGeoJson(folium.GeoJson):
    """A polygon layer shipped compactly, drawn by Leaflet's ``L.geoJson`` in the page.

    In Python it is a :class:`folium.GeoJson` whose :attr:`data` is the layer as GeoJSON
    (geometry and the ``popup``, ``tooltip`` and style-key properties, as
    :func:`render_layout` fills them), for tests and measurements; none of that is written
    into the page. The page gets :attr:`payload` (encoded geometry, style keys, rows and
    layouts) and a script that decodes it. With ``source``, the layer draws the features of
    another compact layer with a style key of its own, without embedding them again.

    Parameters
    ----------
    data : dict
        The layer as a GeoJSON FeatureCollection (for Python readers only).
    payload : dict or None
        ``g`` (:func:`encode_geometries`), ``keys`` (name -> ``[values, index per
        feature]``), ``cols``, ``rows``, ``popup`` and ``tip`` layouts; None with ``source``.
    styles : dict
        Leaflet path style per style-key value (keys as JSON object keys).
    key : str
        The style key this layer styles by.
    name : str
        Layer name (escaped).
    highlight : dict, optional
        Style while the pointer is over a feature.
    source : CompactGeoJson, optional
        The layer whose features this one draws.
    class_name : str, optional
        CSS class of every path.
    show : bool, default True
        Whether the layer is on the map at first.
    canvas : bool, default False
        Draw on a canvas rather than as SVG paths (a national map: thousands of polygons draw
        several times faster; see :data:`CANVAS_ABOVE_FEATURES`).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function() {
            {%- if this.source %}
            var C = {{ this.source.get_name() }}.gtData;
            {%- else %}
            var C = window.gtCompact(JSON.parse(
                document.getElementById({{ this.data_id|tojson }}).textContent));
            {%- endif %}
            var S = {{ this.styles|tojson }}, K = {{ this.key|tojson }};
            var H = {{ this.highlight_style|tojson }};
            var layer = L.geoJson(null, {
                {%- if this.class_name %}
                className: {{ this.class_name|tojson }},
                {%- endif %}
                {%- if this.canvas %}
                // One canvas for every such layer: a canvas above another takes its clicks.
                renderer: window.gtCanvas = window.gtCanvas || L.canvas({padding: 0.5}),
                {%- endif %}
                style: function(f) { return S[String(f.properties[K])]; }
            });
            layer.gtData = C;
            if (H) {
                layer.on("mouseover", function(e) { e.layer.setStyle(H); });
                layer.on("mouseout", function(e) { layer.resetStyle(e.layer); });
            }
            layer.bindTooltip(function(l) { return C.wrap(C.tip(l.feature.id)); },
                {sticky: true, className: "foliumtooltip"});
            if (C.popup) {
                layer.bindPopup(function(l) { return C.wrap(C.popup(l.feature.id)); },
                    {maxWidth: 340, className: "foliumpopup"});
            }
            {%- if this.source %}
            // Drawn only when first shown: no second set of paths built on opening.
            layer.once("add", function() { layer.addData(C.features); });
            {%- else %}
            layer.addData(C.features);
            {%- endif %}
            return layer;
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        data: dict,
        payload: dict | None,
        styles: dict[Any, dict[str, Any]],
        key: str,
        name: str,
        highlight: dict[str, Any] | None = None,
        source: CompactGeoJson | None = None,
        class_name: str | None = None,
        show: bool = True,
        canvas: bool = False,
    ) -> None:
        super().__init__(data, name=name, control=False, show=show)
        self.canvas = canvas
        self._name = "CompactGeoJson"
        self.payload = payload
        self.styles = {str(k): v for k, v in styles.items()}
        self.key = key
        self.highlight_style = highlight
        self.source = source
        self.class_name = class_name

    def render(self, **kwargs: Any) -> Any:
        """Render the layer's script (and, when shown, its ``addTo``).

        Parameters
        ----------
        **kwargs : Any
            Passed to :meth:`folium.map.Layer.render`.

        Returns
        -------
        Any
            What :meth:`folium.map.Layer.render` returns.
        """
        self.parent_map = get_obj_in_upper_tree(self, folium.Map)  # type: ignore[assignment]
        figure = self.get_root()
        if "gt_compact_decoder" not in figure.script._children:  # type: ignore[attr-defined]
            # The decoder once per page, before the first compact layer's script.
            figure.script.add_child(  # type: ignore[attr-defined]
                _Text(_DECODER_JS), name="gt_compact_decoder"
            )
        if self.payload is not None:
            # The payload as a JSON data block in the body (JSON.parse reads megabytes several
            # times faster than the script parser reads them as a literal); text, never a
            # template, and with no "<" that could close the element (to_safe_json).
            figure.html.add_child(  # type: ignore[attr-defined]
                _Text(
                    f'<script type="application/json" id="{self.data_id}">'
                    f"{to_safe_json(self.payload)}</script>"
                ),
                name=self.data_id,
            )
        return folium.map.Layer.render(self, **kwargs)

    @property
    def data_id(self) -> str:
        """Id of the page element holding the payload."""
        return f"{self.get_name()}_data"


def compact_payload(
    geoms: np.ndarray,
    keys: dict[str, list[Any]],
    columns: Sequence[str],
    rows: list[list[Any]],
    popup: Sequence[Part] | None,
    tip: Sequence[Part],
    search: tuple[int, np.ndarray] | None = None,
) -> dict[str, Any]:
    """The page data of a compact layer (see :class:`CompactGeoJson`).

    Parameters
    ----------
    geoms : numpy.ndarray of shapely.Geometry
        Display geometries (lon/lat, on the display grid).
    keys : dict
        Style keys per feature, by name (``k``, ``t``): vocabulary values or class numbers.
    columns : sequence of str
        Names of the row columns.
    rows : list of list
        One row of values per feature (escaped text or formatted numbers).
    popup : sequence of list or None
        Popup layout; None for no popup.
    tip : sequence of list
        Tooltip layout.
    search : tuple of (int, numpy.ndarray), optional
        For the search box: the column of the names and a point inside each feature (where
        its popup opens); the names are then read from the rows, not embedded again.

    Returns
    -------
    dict
        ``g``, ``keys`` (``[distinct values, index per feature]``), ``cols``, ``rows``,
        ``popup``, ``tip`` and, with ``search``, ``search`` (``col`` and the points ``at``).
    """
    coded = {}
    for name, values in keys.items():
        distinct = list(dict.fromkeys(values))
        where = {value: i for i, value in enumerate(distinct)}
        coded[name] = [distinct, [where[v] for v in values]]
    safe_rows = [[encode_braces(v) if isinstance(v, str) else v for v in row] for row in rows]
    return {
        "g": encode_geometries(geoms),
        "keys": coded,
        "cols": list(columns),
        "rows": safe_rows,
        "popup": [list(p) for p in popup] if popup is not None else None,
        "tip": [list(p) for p in tip],
        "search": None if search is None else {"col": search[0], "at": encode_points(search[1])},
    }


_PAYLOAD_START = re.compile(
    r'<script type="application/json" id="compact_geo_json_[0-9a-f]+_data">'
)


def page_popups(page: str) -> list[str]:
    """Every popup and tooltip a written map page builds in the browser, in Python.

    Reads the payload of each compact layer (:class:`CompactGeoJson`) from the page and fills
    its layouts with each row (:func:`render_layout`), as the page script does: for checks
    of what a reader can see (tests, a leak check) without a browser.

    Parameters
    ----------
    page : str
        The HTML of a map (as :func:`geotools.maps.write_map_html` writes it).

    Returns
    -------
    list of str
        For each compact layer and feature: its popup (when the layer has popups), then its
        tooltip; HTML with the data's text escaped.
    """
    texts: list[str] = []
    for payload in page_payloads(page):
        for row in payload["rows"]:
            if payload["popup"] is not None:
                texts.append(render_layout(payload["popup"], row))
            texts.append(render_layout(payload["tip"], row))
    return texts


def page_payloads(page: str) -> list[dict[str, Any]]:
    """The payloads of the compact layers of a written map page (see :class:`CompactGeoJson`).

    Parameters
    ----------
    page : str
        The HTML of a map.

    Returns
    -------
    list of dict
        One payload per compact layer, in page order (``g``, ``keys``, ``cols``, ``rows``,
        ``popup``, ``tip``, ``search``).
    """
    decoder = json.JSONDecoder()
    return [decoder.raw_decode(page, match.end())[0] for match in _PAYLOAD_START.finditer(page)]
