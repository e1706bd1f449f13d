"""The search box of the web map: territory names and the names other layers register.

:class:`SearchControl` lists the territories of a (compact) layer and, read when the box is
first used, the names that layers added later register in the map's ``gtSearch`` list: the
community points (:class:`geotools.maps.community_layer.CommunityMarkers`). Picking a name
zooms to the territory or point and opens its popup. Every name arrives HTML-escaped and is
turned back into text in an inert document; it is only ever set as an ``<option>`` value or
compared as text, never parsed as markup in the page.
"""

from __future__ import annotations

import folium
from branca.element import MacroElement

from geotools.maps.elements import Template


class SearchControl(MacroElement):
    """A search box listing territory and community names; picking one zooms to it and opens
    its popup.

    ``names`` are HTML-escaped (turned back into text in an inert document and only ever set as
    ``<option>`` values, so no raw markup from the data is in the page); ``ids`` are the
    feature ids of the territories in ``layer`` and ``points`` a ``[lat, lon]`` inside each,
    where the popup opens. With ``names`` None, the three are read from a compact layer's
    payload (:class:`geotools.maps.compact.CompactGeoJson`), where they are stored once.
    Layers added later register more names in the map's ``gtSearch`` list (``names`` and
    ``extra`` escaped, ``show(i)``): the community points
    (:class:`geotools.maps.community_layer.CommunityMarkers`).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var layer = {{ this.layer.get_name() }};
            {%- if this.names is none %}
            // A compact layer (geotools.maps.compact) holds the names in its rows.
            var found = layer.gtData.search();
            var names = found.names, ids = found.ids, points = found.points;
            {%- else %}
            var names = {{ this.names|tojson }}, ids = {{ this.ids|tojson }};
            var points = {{ this.points|tojson }};
            {%- endif %}
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
                // One document for all (a "<" in a name is "&lt;": each stays one paragraph's
                // text); one per name if the count does not match.
                function unescaped(escaped) {
                    return new DOMParser().parseFromString(escaped, "text/html")
                        .documentElement.textContent;
                }
                function texts(escaped) {
                    var parsed = new DOMParser().parseFromString(
                        "<p>" + escaped.join("</p><p>") + "</p>", "text/html").body.children;
                    return parsed.length === escaped.length ? escaped.map(function(_, i) {
                        return parsed[i].textContent;
                    }) : escaped.map(unescaped);
                }
                // Entries: the territories, then the points of every source a layer registers
                // in map.gtSearch (community points; geotools.maps.community_layer), read when
                // the box is first used (those layers are added after this box). A name met
                // before gets its qualifier ("· people"), then a number.
                var entries = null, seen = 0;
                function build() {
                    var sources = map.gtSearch || [];
                    if (entries && seen === sources.length) { return; }
                    seen = sources.length;
                    var taken = new Set();
                    entries = texts(names).map(function(name, i) {
                        taken.add(name.toLowerCase());
                        return {name: name, show: function() { territory(i); }};
                    });
                    sources.forEach(function(source) {
                        var own = texts(source.names), extra = texts(source.extra);
                        own.forEach(function(name, i) {
                            var base = name, text = name, n = 2;
                            if (taken.has(text.toLowerCase()) && extra[i]) {
                                base = text = name + " · " + extra[i];
                            }
                            while (taken.has(text.toLowerCase())) {
                                text = base + " (" + n++ + ")";
                            }
                            taken.add(text.toLowerCase());
                            entries.push({name: text, show: function() { source.show(i); }});
                        });
                    });
                    var options = document.createDocumentFragment();
                    entries.forEach(function(entry) {
                        var option = document.createElement("option");
                        option.value = entry.name;
                        options.appendChild(option);
                    });
                    list.textContent = "";
                    list.appendChild(options);
                }
                function territory(i) {
                    layer.eachLayer(function(l) {
                        if (l.feature && l.feature.id === ids[i]) {
                            map.fitBounds(l.getBounds(), {maxZoom: 14});
                            // A click on the territory opens the popup the layer binds.
                            l.fire("click", {latlng: L.latLng(points[i])}, true);
                        }
                    });
                }
                function go() {
                    build();
                    var wanted = input.value.trim().toLowerCase();
                    if (!wanted) { return; }
                    var i = entries.findIndex(function(e) {
                        return e.name.toLowerCase() === wanted;
                    });
                    if (i < 0) {
                        i = entries.findIndex(function(e) {
                            return e.name.toLowerCase().indexOf(wanted) >= 0;
                        });
                    }
                    if (i < 0) { input.setCustomValidity({{ this.not_found|tojson }});
                        input.reportValidity(); return; }
                    input.setCustomValidity("");
                    entries[i].show();
                }
                input.addEventListener("focus", build);
                setTimeout(build, 0);
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
        names: list[str] | None,
        ids: list[str] | None,
        points: list[list[float]] | None,
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
