"""Leaflet building blocks of the risk map: controls and layers rendered from JavaScript templates.

:mod:`geotools.maps` turns data into escaped HTML strings and compact arrays; the elements here
put them on the page. No element reads a data frame, and none inserts text into the page that
the caller did not escape: strings given to an element are either HTML the caller escaped
(popups, legend, title box) or set as DOM properties (``textContent``, ``value``), never parsed.

The scripts and style sheets of the plugins are loaded from the URLs folium itself uses, so that
:mod:`geotools.map_assets` can serve or inline them.
"""

from __future__ import annotations

from typing import Any

import folium
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.features import GeoJsonStyleMapper
from folium.plugins import GroupedLayerControl, HeatMap, MarkerCluster
from folium.template import Template
from folium.utilities import get_obj_in_upper_tree

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
        """Render as :class:`folium.GeoJson` does, but without embedding the features again."""
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
                    records.forEach(function(r) {
                        if (r.shown > 0) {
                            r.layer.setRadius(4 + 14 * Math.sqrt(r.shown / most));
                            r.layer.bindPopup(L10N.cell.replace("{n}", r.shown.toLocaleString(
                                L10N.locale)));
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
    def points_name(self) -> str:
        """JavaScript name of the clustered markers layer."""
        return self.get_name() + "_points"

    @property
    def heat_name(self) -> str:
        """JavaScript name of the heat-map layer."""
        return self.get_name() + "_heat"


class GroupedLayers(JSCSSMixin, MacroElement):
    """Layer control with base maps and named groups of overlays (Leaflet.groupedlayercontrol).

    ``groups`` maps a group label to ``(label, JavaScript layer name, shown)`` triples; groups
    listed in ``exclusive`` get radio buttons (one layer of the group at a time). Labels are set
    as HTML by the plugin: the caller escapes them.
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
                collapsed: {{ this.collapsed|tojson }},
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
        base: list[tuple[str, str]],
        groups: dict[str, list[tuple[str, str, bool]]],
        exclusive: list[str],
        collapsed: bool = False,
    ) -> None:
        super().__init__()
        self._name = "GroupedLayers"
        self.base = base
        self.groups = groups
        self.exclusive = exclusive
        self.collapsed = collapsed


class SearchControl(MacroElement):
    """A search box listing territory names; picking one zooms to it and opens its popup.

    ``names`` are HTML-escaped (turned back into text in an inert document and only ever set as
    ``<option>`` values, so no raw markup from the data is in the page); ``ids`` are the
    feature ids of the territories in ``layer`` and ``points`` a ``[lat, lon]`` inside each,
    where the popup opens.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var layer = {{ this.layer.get_name() }};
            var names = {{ this.names|tojson }}, ids = {{ this.ids|tojson }};
            var points = {{ this.points|tojson }};
            var control = L.control({position: "topleft"});
            control.onAdd = function() {
                var div = L.DomUtil.create("div", "gt-box gt-search");
                var input = L.DomUtil.create("input", "", div);
                input.type = "search";
                input.placeholder = {{ this.placeholder|tojson }};
                input.setAttribute("aria-label", {{ this.placeholder|tojson }});
                var list = L.DomUtil.create("datalist", "", div);
                list.id = {{ (this.get_name() + "_names")|tojson }};
                input.setAttribute("list", list.id);
                // Names arrive HTML-escaped; an inert DOMParser document turns them back into
                // text, which is only ever set as a value (never parsed as markup in the page).
                names = names.map(function(escaped) {
                    return new DOMParser().parseFromString(escaped, "text/html")
                        .documentElement.textContent;
                });
                names.forEach(function(name) {
                    var option = document.createElement("option");
                    option.value = name;
                    list.appendChild(option);
                });
                function go() {
                    var wanted = input.value.trim().toLowerCase();
                    if (!wanted) { return; }
                    var i = names.findIndex(function(n) { return n.toLowerCase() === wanted; });
                    if (i < 0) {
                        i = names.findIndex(function(n) {
                            return n.toLowerCase().indexOf(wanted) >= 0;
                        });
                    }
                    if (i < 0) { input.setCustomValidity({{ this.not_found|tojson }});
                        input.reportValidity(); return; }
                    input.setCustomValidity("");
                    layer.eachLayer(function(l) {
                        if (l.feature && l.feature.id === ids[i]) {
                            map.fitBounds(l.getBounds(), {maxZoom: 14});
                            // A click on the territory opens the popup the layer binds.
                            l.fire("click", {latlng: L.latLng(points[i])}, true);
                        }
                    });
                }
                input.addEventListener("change", go);
                input.addEventListener("keydown", function(e) { if (e.key === "Enter") { go(); } });
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            control.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        layer: folium.GeoJson,
        names: list[str],
        ids: list[str],
        points: list[list[float]],
        placeholder: str,
        not_found: str,
    ) -> None:
        super().__init__()
        self._name = "SearchControl"
        self.points = points
        self.layer = layer
        self.names = names
        self.ids = ids
        self.placeholder = placeholder
        self.not_found = not_found
