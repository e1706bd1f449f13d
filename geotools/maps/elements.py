r"""Leaflet building blocks of the risk map: controls and layers rendered from JavaScript templates.

:mod:`geotools.maps` turns data into escaped HTML strings and compact arrays; the elements here
put them on the page. No element reads a data frame, and none inserts text into the page that
the caller did not escape: strings given to an element are either HTML the caller escaped
(popups, legend, title box) or set as DOM properties (``textContent``, ``value``), never parsed.

Data is never code. branca renders each element's template once and then, in
:meth:`branca.element.Figure.render`, parses and renders the *result* again as a Jinja2 template,
so a ``{{ ... }}`` in a territory name or a file name would be executed on the analyst's machine.
Two rules, both applied here, keep that from happening:

- :class:`MapPage` (the page every map of :func:`geotools.maps.build_map` is rendered in) puts
  the text each element rendered into the page as it is: nothing is rendered twice.
- No text from data reaches an element with a Jinja2 delimiter in it, so that branca's parse
  of each element's output (which it still does) sees only our own code: :func:`escape_html`
  writes braces as character references (``&#123;``, ``&#125;``) and the ``tojson`` filter of
  our templates (:func:`to_safe_json`) writes them as ``\u007b``/``\u007d`` inside JSON
  strings. Both read back as ``{`` and ``}`` in the browser.

:class:`MapPage` also gives every element a deterministic id, so that two builds of the same
map are byte-identical.

The scripts and style sheets of the plugins are loaded from the URLs folium itself uses, so that
:mod:`geotools.maps.assets` can serve and :mod:`geotools.maps.inline` inline them.
"""

from __future__ import annotations

import html
import json
import re
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any

import folium
import folium.template
from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.features import GeoJsonStyleMapper
from folium.plugins import GroupedLayerControl, HeatMap, MarkerCluster
from folium.utilities import get_obj_in_upper_tree

#: Braces written as HTML character references: no Jinja2 delimiter can form from data.
_BRACE_REFERENCES = str.maketrans({"{": "&#123;", "}": "&#125;"})
#: A JSON string literal (json.dumps output: quotes and backslashes inside are escaped).
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
#: The start of a Jinja2 expression, statement or comment.
_JINJA_START = re.compile(r"\{[{%#]")
#: Characters written as ``\uXXXX`` in JSON embedded in a page (as Jinja2's ``tojson`` does).
_JSON_HTML_SAFE = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027"))


def escape_html(value: object) -> str:
    """Escape text from data for HTML: ``& < > " '`` and the braces ``{ }`` as references.

    The browser shows the text as given (``{{ 7*7 }}`` stays ``{{ 7*7 }}``), but the page source
    holds no ``{{``, ``{%`` or ``{#`` that a template engine could read as code.

    Parameters
    ----------
    value : object
        The value; ``str(value)`` is escaped.

    Returns
    -------
    str
        The escaped text.

    Examples
    --------
    >>> escape_html("{{ 7*7 }} <b>")
    '&#123;&#123; 7*7 &#125;&#125; &lt;b&gt;'
    """
    return html.escape(str(value), quote=True).translate(_BRACE_REFERENCES)


def encode_braces(text: str) -> str:
    """Write the braces of (already escaped) HTML as character references; idempotent.

    Parameters
    ----------
    text : str
        HTML text, already escaped.

    Returns
    -------
    str
        ``text`` with ``{`` as ``&#123;`` and ``}`` as ``&#125;`` (so that no Jinja2 template
        sees an expression in it).
    """
    return text.translate(_BRACE_REFERENCES)


def _encode_json_string(match: re.Match[str]) -> str:
    literal = match.group(0)
    if "{" not in literal and "}" not in literal:
        return literal
    return literal.replace("{", "\\u007b").replace("}", "\\u007d")


def to_safe_json(value: Any) -> str:
    r"""JSON to embed in a page's script: the value as data, never as template or markup.

    As Jinja2's ``tojson`` (keys sorted; ``<``, ``>``, ``&`` and ``'`` written as ``\uXXXX``),
    and, when the text would hold a ``{{``, ``{%`` or ``{#``, every brace inside its strings
    written as ``\u007b`` or ``\u007d``: a JavaScript or JSON reader gets the same strings
    back, while no template engine can find a delimiter (braces outside strings are the JSON's
    own, and an object never opens with those pairs).

    Parameters
    ----------
    value : object
        A JSON-serialisable value.

    Returns
    -------
    str
        The JSON text.

    Examples
    --------
    >>> to_safe_json({"name": "{{ 7*7 }}", "n": [1, {}]})
    '{"n": [1, {}], "name": "\\u007b\\u007b 7*7 \\u007d\\u007d"}'
    """
    text = json.dumps(value, sort_keys=True)
    for char, escape in _JSON_HTML_SAFE:
        text = text.replace(char, escape)
    if not _JINJA_START.search(text):
        return text
    return _JSON_STRING.sub(_encode_json_string, text)


class _Environment(folium.template.Environment):
    """folium's template environment, with :func:`to_safe_json` as the ``tojson`` filter."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["tojson"] = to_safe_json


class Template(folium.template.Template):
    """Template of the elements of this module: every ``|tojson`` value is brace-safe JSON."""

    environment_class = _Environment


class _Text(Element):
    """Text an element rendered, put into the page as it is (never parsed or rendered again)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Text"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text unchanged."""
        return self.text


class JsName:
    """The JavaScript name of an element (and a suffix), read when the page is rendered.

    Element ids change when :class:`MapPage` numbers them; a name kept as a string before that
    would point at nothing. ``str(JsName(layer))`` is always the current name.
    """

    def __init__(self, element: Element, suffix: str = "") -> None:
        self.element = element
        self.suffix = suffix

    def __str__(self) -> str:
        return self.element.get_name() + self.suffix

    def __repr__(self) -> str:
        return f"JsName({self})"


#: Ids given by :class:`MapPage`: a counter written as 32 hexadecimal digits (branca's shape).
_NUMBERED_ID = re.compile(r"[0-9a-f]{32}")


def _elements(root: Element) -> Iterator[Element]:
    """Elements reachable from ``root``: children, a figure's parts, element attributes; in order.

    Containers held in attributes (a layer's GeoJSON data, for one) are not searched: they hold
    data, and an element kept in a list is a child of the map too.
    """
    seen: set[int] = set()
    stack: list[Element] = [root]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        linked = [
            value
            for key, value in vars(item).items()
            if key not in ("_parent", "_children") and isinstance(value, Element)
        ]
        stack.extend(reversed([*linked, *item._children.values()]))


class MapPage(Figure):
    """The HTML page of a map: each element's output inserted once, as text; numbered ids.

    :meth:`branca.element.Figure.render` wraps the header, body and script each element
    rendered in a new :class:`jinja2.Template` and renders that again, so text from data would
    be evaluated as a template. This page inserts that text as it is.

    branca names elements with random ids (``urandom``). :meth:`number_elements` replaces them
    by a counter in the order the element tree is walked, so that the same map built twice gives
    the same bytes. The counter belongs to the page: nothing is shared between two maps.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._numbered: set[str] = set()
        self._parts: list[OrderedDict[str, Element]] | None = None

    def number_elements(self) -> None:
        """Give every element of the page that still has a random id the next number.

        Children are re-keyed to the new names. Names kept as strings before this call are
        stale: keep a :class:`JsName` instead.
        """
        renamed: dict[str, str] = {}
        for element in _elements(self):
            if element._id in self._numbered:
                continue
            new = f"{len(self._numbered) + 1:032x}"
            renamed[element._id] = new
            element._id = new
            self._numbered.add(new)
        if not renamed:
            return
        for element in _elements(self):
            if any(_NUMBERED_ID.search(key) for key in element._children):
                element._children = OrderedDict(
                    (_NUMBERED_ID.sub(lambda m: renamed.get(m.group(0), m.group(0)), key), child)
                    for key, child in element._children.items()
                )

    def render(self, **kwargs: Any) -> str:
        """Render the page: every element once, its output inserted as text.

        Rendering again gives the same page: what the elements added to the header, body and
        script on the previous render is removed first.

        Parameters
        ----------
        **kwargs : Any
            Passed to every child's ``render`` and to the page template (as ``kwargs``), as
            :meth:`branca.element.Figure.render` does.

        Returns
        -------
        str
            The HTML page.
        """
        self.number_elements()
        parts = (self.header, self.html, self.script)
        if self._parts is None:
            self._parts = [OrderedDict(part._children) for part in parts]
        for part, kept in zip(parts, self._parts, strict=True):
            part._children = OrderedDict(kept)
        for child in self._children.values():
            child.render(**kwargs)
        for part in parts:
            part._children = OrderedDict(
                (name, _as_text(child)) for name, child in part._children.items()
            )
        return self._template.render(this=self, kwargs=kwargs)


def _as_text(element: Element) -> Element:
    """The plain ``Element(text)`` branca wraps rendered output in, as text; others unchanged."""
    text = element._template_str
    return _Text(text) if type(element) is Element and isinstance(text, str) else element


#: Scripts and style sheets of folium's Leaflet.markercluster and leaflet.heat plugins.
MARKERCLUSTER_JS = MarkerCluster.default_js
MARKERCLUSTER_CSS = MarkerCluster.default_css
HEAT_JS = HeatMap.default_js
GROUPED_LAYERS_JS = GroupedLayerControl.default_js
GROUPED_LAYERS_CSS = GroupedLayerControl.default_css


class HtmlControl(MacroElement):
    """A Leaflet control holding static HTML (title box, legend); the HTML must be pre-escaped.

    With ``collapsible_label``, a button with that label shows and hides the content (closed
    at first unless ``start_open``): the legend and the sources box would otherwise cover the
    map on a small screen.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var control = L.control({position: {{ this.position|tojson }}});
            control.onAdd = function() {
                var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
                div.innerHTML = {{ this.content|tojson }};
                {%- if this.collapsible_label %}
                var body = div.firstElementChild;
                var toggle = L.DomUtil.create("button", "gt-toggle");
                toggle.type = "button";
                toggle.textContent = {{ this.collapsible_label|tojson }};
                var startOpen = {{ this.start_open|tojson }};
                toggle.setAttribute("aria-expanded", startOpen ? "true" : "false");
                body.style.display = startOpen ? "" : "none";
                toggle.onclick = function() {
                    var open = body.style.display === "none";
                    body.style.display = open ? "" : "none";
                    toggle.setAttribute("aria-expanded", open ? "true" : "false");
                };
                div.insertBefore(toggle, body);
                {%- endif %}
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            control.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        content: str,
        position: str,
        css_class: str,
        collapsible_label: str | None = None,
        start_open: bool = False,
    ) -> None:
        super().__init__()
        self._name = "HtmlControl"
        self.start_open = start_open
        self.content = content if collapsible_label is None else f"<div>{content}</div>"
        self.position = position
        self.css_class = css_class
        self.collapsible_label = collapsible_label


class PageAssets(MacroElement):
    """Style sheet, SVG patterns and responsive page settings shared by layers and legend."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <meta name="viewport" content="width=device-width, initial-scale=1.0">
        {{ this.css }}
        {% endmacro %}
        {% macro html(this, kwargs) %}{{ this.svg }}{% endmacro %}
        """
    )

    def __init__(self, css: str, svg: str) -> None:
        super().__init__()
        self._name = "PageAssets"
        self.css = css
        self.svg = svg


class CopyFeatures(MacroElement):
    """Script that adds the features of ``source`` (ids and properties kept) to the parent layer."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.addData({{ this.source.get_name() }}.toGeoJSON());
        {% endmacro %}
        """
    )

    def __init__(self, source: folium.GeoJson) -> None:
        super().__init__()
        self._name = "CopyFeatures"
        self.source = source


class LinkedGeoJson(folium.GeoJson):
    """A GeoJSON layer drawing the features of another layer with styles of its own.

    The features (geometry, popup and all) are embedded once, in ``source``; in the browser this
    layer copies them with Leaflet's ``toGeoJSON()``, which keeps each feature's ``id`` and
    properties. In Python, :attr:`data` is the source's data, so that ``style_function`` and
    ``highlight_function`` are still evaluated per feature as folium does. Written against
    folium 0.20's ``GeoJson.render``: re-check after a folium upgrade (the browser tests do).
    """

    def __init__(self, source: folium.GeoJson, **kwargs: Any) -> None:
        super().__init__(source.data, **kwargs)
        self.source = source
        self.add_child(CopyFeatures(source))

    def render(self, **kwargs: Any) -> Any:
        """Render as :class:`folium.GeoJson` does, but without embedding the features again.

        Parameters
        ----------
        **kwargs : Any
            Passed to :meth:`folium.map.Layer.render`.

        Returns
        -------
        Any
            What :meth:`folium.map.Layer.render` returns.
        """
        # folium declares parent_map as None until rendered.
        self.parent_map = get_obj_in_upper_tree(self, folium.Map)  # type: ignore[assignment]
        if (self.style or self.highlight) and self.data["features"]:
            mapper = GeoJsonStyleMapper(self.data, self.feature_identifier, self)
            if self.style:
                self.style_map = mapper.get_style_map(self.style_function)
            if self.highlight:
                self.highlight_map = mapper.get_highlight_map(self.highlight_function)
        # While rendering, the data is a single feature without geometry (Leaflet skips it) that
        # has the properties folium's popup and tooltip check for.
        data = self.data
        properties = dict.fromkeys(data["features"][0]["properties"]) if data["features"] else {}
        placeholder = {"type": "Feature", "geometry": None, "properties": properties}
        self.data = {"type": "FeatureCollection", "features": [placeholder]}
        try:
            return folium.map.Layer.render(self, **kwargs)
        finally:
            self.data = data


class IncidentLayers(JSCSSMixin, MacroElement):
    """Incidents as clustered icons, as a heat map, and a year slider that filters both.

    Two modes, chosen by :mod:`geotools.maps` from the number of incidents:

    - ``points``: one marker per incident (an SVG icon per kind, sized by severity, hollow when
      the location is not exact) with its popup and tooltip, clustered by Leaflet.markercluster;
      ``data["points"]`` rows are ``[lat, lon, kind index, year or null, level 1-5, exact 0/1]``
      and ``data["popups"]``/``data["tips"]`` hold the caller-escaped HTML of each.
    - ``cells``: too many incidents for one marker each; ``data["cells"]`` rows are
      ``[lat, lon, count per year..., count without year]`` on a regular grid, drawn as circles
      whose popup is built from numbers and the caller's (escaped) labels.

    The heat map weighs each incident by severity (points) or count (cells). The slider shows
    the incidents up to the chosen year, or of that year only; at its last position every
    incident is shown, those without a date included.

    The layers are created as global variables ``<name>_points`` and ``<name>_heat`` so that a
    layer control can list them (:attr:`points_name`, :attr:`heat_name`).
    """

    default_js = [*MARKERCLUSTER_JS, *HEAT_JS]  # noqa: RUF012 (folium's declaration)
    default_css = list(MARKERCLUSTER_CSS)  # noqa: RUF012

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.points_name }}, {{ this.heat_name }};
        (function() {
            var map = {{ this._parent.get_name() }};
            var D = {{ this.data|tojson }};
            var L10N = {{ this.labels|tojson }};
            var icons = {};
            function glyph(k) { return D.glyphs[k] || ""; }
            function icon(k, level, exact) {
                var key = k + "|" + level + "|" + exact;
                if (icons[key]) { return icons[key]; }
                var d = 14 + 3 * level, c = D.colours[k];
                var svg = '<svg xmlns="http://www.w3.org/2000/svg" width="' + d + '" height="' + d
                    + '" viewBox="0 0 24 24"><circle cx="12" cy="12" r="10.5" fill="'
                    + (exact ? c : "#ffffff") + '" fill-opacity="' + (exact ? 1 : 0.85)
                    + '" stroke="' + (exact ? "#ffffff" : c) + '" stroke-width="'
                    + (exact ? 1.5 : 3) + '"/><g fill="' + (exact ? "#ffffff" : c) + '">'
                    + glyph(k) + "</g></svg>";
                icons[key] = L.divIcon({html: svg, className: "gt-ico", iconSize: [d, d]});
                return icons[key];
            }
            var cluster = L.markerClusterGroup({
                maxClusterRadius: 35, showCoverageOnHover: false, spiderfyOnMaxZoom: true,
                disableClusteringAtZoom: 15, chunkedLoading: true,
                iconCreateFunction: function(group) {
                    var worst = 0, colour = "#555555";
                    group.getAllChildMarkers().forEach(function(m) {
                        if (m.gtLevel > worst) { worst = m.gtLevel; colour = m.gtColour; }
                    });
                    var n = group.getChildCount(), d = n < 10 ? 28 : (n < 100 ? 34 : 40);
                    return L.divIcon({
                        html: '<div style="border-color:' + colour + '">' + n + "</div>",
                        className: "gt-cluster", iconSize: [d, d]
                    });
                }
            });
            var records = [];
            if (D.mode === "points") {
                D.points.forEach(function(p, i) {
                    var m = L.marker([p[0], p[1]], {icon: icon(p[2], p[4], p[5]), keyboard: false});
                    m.bindPopup(D.popups[i], {maxWidth: 340});
                    m.bindTooltip(D.tips[i]);
                    m.gtLevel = p[4] + (p[5] ? 0.5 : 0);
                    m.gtColour = D.colours[p[2]];
                    records.push({layer: m, year: p[3], weight: p[4] / 5, lat: p[0], lon: p[1]});
                });
            } else {
                var nYears = D.years.length;
                D.cells.forEach(function(c) {
                    var m = L.circleMarker([c[0], c[1]], {
                        radius: 4, color: "#67000d", weight: 1.5, fillColor: "#e31a1c",
                        fillOpacity: 0.55
                    });
                    m.gtCounts = c.slice(2);
                    records.push({layer: m, cell: true, lat: c[0], lon: c[1]});
                });
            }
            var heat = L.heatLayer([], {radius: 22, blur: 18, maxZoom: 11, minOpacity: 0.3});
            var slider = null, only = null, label = null;
            function cellCount(r, year, onlyYear) {
                var total = 0, n = D.years.length;
                for (var j = 0; j < n; j++) {
                    if (year === null || (onlyYear ? D.years[j] === year : D.years[j] <= year)) {
                        total += r.layer.gtCounts[j];
                    }
                }
                if (year === null) { total += r.layer.gtCounts[n]; }
                return total;
            }
            function show(year, onlyYear) {
                var keep = [], hot = [], shown = 0, most = 1;
                records.forEach(function(r) {
                    if (r.cell) {
                        var n = cellCount(r, year, onlyYear);
                        if (n > most) { most = n; }
                        if (n > 0) { r.n = n; keep.push(r.layer); hot.push([r.lat, r.lon, n]); }
                        r.shown = n;
                        shown += n;
                        return;
                    }
                    var ok = year === null || (r.year !== null &&
                        (onlyYear ? r.year === year : r.year <= year));
                    if (ok) { keep.push(r.layer); hot.push([r.lat, r.lon, r.weight]); shown += 1; }
                });
                if (D.mode === "cells") {
                    // One formatter: toLocaleString builds one per call (slow for thousands).
                    var count = new Intl.NumberFormat(L10N.locale);
                    records.forEach(function(r) {
                        if (r.shown > 0) {
                            r.layer.setRadius(4 + 14 * Math.sqrt(r.shown / most));
                            r.layer.bindPopup(L10N.cell.replace("{n}", count.format(r.shown)));
                        }
                    });
                    heat.setOptions({max: most});
                }
                cluster.clearLayers();
                cluster.addLayers(keep);
                heat.setLatLngs(hot);
                if (label) {
                    label.textContent = (year === null ? L10N.all : (onlyYear ? L10N.only_year
                        : L10N.until).replace("{year}", year)) + " · " + L10N.shown.replace(
                        "{n}", shown.toLocaleString(L10N.locale));
                }
            }
            {{ this.points_name }} = cluster;
            {{ this.heat_name }} = heat;
            if (D.years.length > 1) {
                var control = L.control({position: "bottomright"});
                control.onAdd = function() {
                    var div = L.DomUtil.create("div", "gt-box gt-slider");
                    var title = L.DomUtil.create("div", "gt-sec", div);
                    title.textContent = L10N.title;
                    slider = L.DomUtil.create("input", "", div);
                    slider.type = "range";
                    slider.min = 0;
                    slider.max = D.years.length;
                    slider.step = 1;
                    slider.value = D.years.length;
                    slider.setAttribute("aria-label", L10N.title);
                    var row = L.DomUtil.create("label", "gt-note", div);
                    only = L.DomUtil.create("input", "", row);
                    only.type = "checkbox";
                    row.appendChild(document.createTextNode(" " + L10N.only));
                    label = L.DomUtil.create("div", "gt-note gt-year", div);
                    function update() {
                        var i = parseInt(slider.value, 10);
                        show(i >= D.years.length ? null : D.years[i], only.checked);
                    }
                    slider.addEventListener("input", update);
                    only.addEventListener("change", update);
                    L.DomEvent.disableClickPropagation(div);
                    L.DomEvent.disableScrollPropagation(div);
                    return div;
                };
                control.addTo(map);
            }
            show(null, false);
            {%- if this.show_points %}
            cluster.addTo(map);
            {%- endif %}
            {%- if this.show_heat %}
            heat.addTo(map);
            {%- endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        data: dict[str, Any],
        labels: dict[str, str],
        show_points: bool = True,
        show_heat: bool = False,
    ) -> None:
        super().__init__()
        self._name = "IncidentLayers"
        self.data = data
        self.labels = labels
        self.show_points = show_points
        self.show_heat = show_heat

    @property
    def points_name(self) -> JsName:
        """JavaScript name of the clustered markers layer."""
        return JsName(self, "_points")

    @property
    def heat_name(self) -> JsName:
        """JavaScript name of the heat-map layer."""
        return JsName(self, "_heat")


class GroupedLayers(JSCSSMixin, MacroElement):
    """Layer control with base maps and named groups of overlays (Leaflet.groupedlayercontrol).

    ``groups`` maps a group label to ``(label, JavaScript layer name, shown)`` triples; groups
    listed in ``exclusive`` get radio buttons (one layer of the group at a time). Labels are set
    as HTML by the plugin: the caller escapes them. With ``collapsed_media`` (a CSS media
    query), the control starts collapsed to its button when the page matches it (a small map).
    """

    default_js = list(GROUPED_LAYERS_JS)  # noqa: RUF012 (folium's declaration)
    default_css = list(GROUPED_LAYERS_CSS)  # noqa: RUF012

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var base = {
            {%- for label, name in this.base %}
                {{ label|tojson }}: {{ name }},
            {%- endfor %}
            };
            var groups = {
            {%- for group, layers in this.groups.items() %}
                {{ group|tojson }}: {
                {%- for label, name, shown in layers %}
                    {{ label|tojson }}: {{ name }},
                {%- endfor %}
                },
            {%- endfor %}
            };
            {%- for group, layers in this.groups.items() %}
            {%- for label, name, shown in layers %}
            {%- if not shown %}
            map.removeLayer({{ name }});
            {%- endif %}
            {%- endfor %}
            {%- endfor %}
            L.control.groupedLayers(base, groups, {
                {%- if this.collapsed_media %}
                collapsed: window.matchMedia({{ this.collapsed_media|tojson }}).matches,
                {%- else %}
                collapsed: {{ this.collapsed|tojson }},
                {%- endif %}
                position: "topright",
                exclusiveGroups: {{ this.exclusive|tojson }},
                groupCheckboxes: false
            }).addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        base: Sequence[tuple[str, str | JsName]],
        groups: dict[str, list[tuple[str, str | JsName, bool]]],
        exclusive: list[str],
        collapsed: bool = False,
        collapsed_media: str | None = None,
    ) -> None:
        super().__init__()
        self._name = "GroupedLayers"
        self.base = base
        self.groups = groups
        self.exclusive = exclusive
        self.collapsed = collapsed
        self.collapsed_media = collapsed_media
