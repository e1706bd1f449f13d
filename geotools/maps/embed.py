"""Maps that fit an 800 x 600 iframe or a phone: compact controls below a size, desktop above.

A map embedded in a report is often an 800 x 600 ``<iframe>``; on a phone it is 390 pixels
wide. At those sizes the desktop controls (open layer list, long title notes, mini-map, wide
search and slider) cover more than half of the map and cut the legend. Below
:data:`COMPACT_MEDIA` (an iframe's viewport is the frame, so a media query on the viewport is a
query on the map's size) the page switches to a compact layout:

- the layer control starts collapsed to its button (:class:`geotools.maps.elements.GroupedLayers`
  reads the same query when the map opens);
- the title box shows the title only, its notes (withheld and generalised incidents, the hint)
  behind a "Notes" button (:class:`TitleBox`);
- search box and year slider are narrower, the mini-map and the imperial scale line are hidden;
- the legend, open, uses a smaller type and stays inside the map (it scrolls when long); on a
  phone (:data:`PHONE_MEDIA`) it is shorter, and narrow enough to leave the year slider room;
- the data is fitted beside or above the legend rather than under it (:class:`CompactFit`).

Above the query the desktop layout is unchanged. ``tests/test_browser.py`` opens maps at
800 x 600 and 390 x 844 and measures what the controls cover.
"""

from __future__ import annotations

from branca.element import MacroElement

from geotools.maps.elements import Template

#: Viewports (= iframe sizes) that get the compact layout: up to 860 px wide or 640 px high.
COMPACT_MEDIA = "(max-width: 860px), (max-height: 640px)"
#: Phones in portrait: the legend gets shorter still.
PHONE_MEDIA = "(max-width: 480px)"

#: Label of the title box's notes button per language.
NOTES_LABEL = {"es": "Notas", "en": "Notes"}

COMPACT_CSS = f"""
<style>
.gt-title .gt-more {{display: none;}}
@media {COMPACT_MEDIA} {{
  .gt-box {{padding: 4px 7px;}}
  .gt-title {{max-width: min(260px, calc(100vw - 200px));}}
  .gt-title .gt-t {{font-size: 13px;}}
  .gt-title .gt-more {{display: inline; margin-top: 2px;}}
  .gt-title:not(.gt-open) .gt-notes {{display: none;}}
  .gt-legend {{font-size: 11px; line-height: 1.25; max-width: 220px;
    max-height: calc(100vh - 200px);}}
  .gt-legend .gt-sec {{margin: 4px 0 1px;}}
  .gt-legend .gt-note {{font-size: 10px;}}
  .gt-sw {{width: 14px; height: 10px;}}
  .gt-search input {{width: 150px; font-size: 12px;}}
  .gt-slider {{width: 120px; font-size: 11px;}}
  .gt-slider .gt-sec {{margin: 0;}}
  .gt-sources {{max-width: 220px;}}
  .leaflet-control-minimap {{display: none;}}
  .leaflet-control-scale-line + .leaflet-control-scale-line {{display: none;}}
  .leaflet-control-attribution {{font-size: 9px;}}
  .leaflet-control-layers-expanded {{font-size: 12px; max-width: calc(100vw - 70px);}}
}}
@media {PHONE_MEDIA} {{
  .gt-legend {{max-height: 30vh; max-width: calc(100vw - 180px);}}
}}
</style>
"""


class TitleBox(MacroElement):
    """The title box: the title, and notes that the compact layout puts behind a button.

    ``title`` and ``notes`` are HTML the caller escaped. On a desktop-sized map the notes show
    under the title as before and the button is hidden (CSS); in the compact layout
    (:data:`COMPACT_MEDIA`) only the title shows, and the button opens the notes.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var control = L.control({position: "topright"});
            control.onAdd = function() {
                var div = L.DomUtil.create("div", "gt-box gt-title");
                div.innerHTML = {{ this.title|tojson }};
                var toggle = L.DomUtil.create("button", "gt-toggle gt-more", div);
                toggle.type = "button";
                toggle.textContent = {{ this.label|tojson }};
                toggle.setAttribute("aria-expanded", "false");
                var notes = L.DomUtil.create("div", "gt-notes", div);
                notes.innerHTML = {{ this.notes|tojson }};
                toggle.onclick = function() {
                    var open = !L.DomUtil.hasClass(div, "gt-open");
                    (open ? L.DomUtil.addClass : L.DomUtil.removeClass)(div, "gt-open");
                    toggle.setAttribute("aria-expanded", open ? "true" : "false");
                };
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            control.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, title: str, notes: str, label: str) -> None:
        super().__init__()
        self._name = "TitleBox"
        self.title = title
        self.notes = notes
        self.label = label


class CompactFit(MacroElement):
    """In the compact layout, fit the map's data beside or above the legend, not under it.

    On a small map the open legend takes a good part of the frame; the data is fitted again,
    once, in the larger of the two areas the legend leaves: to its right (an 800 x 600 frame)
    or above it (a phone), under the title row. Desktop-sized maps keep their first view.
    Must be added after the legend. ``bounds`` is ``[[south, west], [north, east]]``.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            if (!window.matchMedia({{ this.media|tojson }}).matches) { return; }
            // The legend: the box of the bottom-left corner.
            var legend = map.getContainer().querySelector(".leaflet-bottom.leaflet-left .gt-box");
            if (!legend) { return; }
            function fit() {
                var c = map.getContainer().getBoundingClientRect();
                var r = legend.getBoundingClientRect();
                var left = r.right - c.left + 10, top = r.top - c.top - 10;
                var beside = (c.width - left) * c.height >= c.width * top;
                map.fitBounds({{ this.bounds|tojson }}, {
                    maxZoom: {{ this.max_zoom|tojson }}, animate: false,
                    paddingTopLeft: [beside ? left : 10, 55],
                    paddingBottomRight: [10, beside ? 10 : c.height - top]
                });
            }
            // The first fit may have scheduled a zoom animation for the next frame, which
            // would put its own centre back when it ends: fit after it.
            L.Util.requestAnimFrame(function() {
                if (map._animatingZoom) { map.once("zoomend", fit); } else { fit(); }
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]], max_zoom: int = 15) -> None:
        super().__init__()
        self._name = "CompactFit"
        self.bounds = bounds
        self.max_zoom = max_zoom
        self.media = COMPACT_MEDIA
