"""Test support: how much of a map the controls cover, measured from their bounding boxes.

Used by the embedding tests of ``tests/test_browser.py`` (issue 15.5): a map in an 800 x 600
iframe or on a phone must leave most of its area to the map. :func:`measure_controls` reads the
bounding box of every visible Leaflet control (title box, legend, layer control, search, year
slider, sources, zoom, scale, mini-map, attribution) in page pixels; :class:`ControlLayout`
gives the share of the map container they cover (overlaps counted once), the controls that
reach outside the container and the pairs of controls that overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import shapely
from shapely import box

#: JavaScript: the map container's box and every visible control's box and class names.
_MEASURE = """
(mapId) => {
    const rect = (el) => { const r = el.getBoundingClientRect();
        return [r.left, r.top, r.right, r.bottom]; };
    const container = document.getElementById(mapId);
    const controls = Array.from(container.querySelectorAll(".leaflet-control"))
        .filter((el) => { const s = getComputedStyle(el); const r = el.getBoundingClientRect();
            return s.display !== "none" && s.visibility !== "hidden" && r.width > 0
                && r.height > 0; })
        .map((el) => ({name: el.className, box: rect(el),
                       overflowX: el.scrollWidth - el.clientWidth}));
    return {container: rect(container), controls: controls,
            viewport: [window.innerWidth, window.innerHeight]};
}
"""


@dataclass(frozen=True)
class ControlLayout:
    """Boxes of a map's container and controls (``left, top, right, bottom``, page pixels)."""

    container: tuple[float, float, float, float]
    controls: dict[str, tuple[float, float, float, float]]
    viewport: tuple[float, float]
    overflow_x: dict[str, float]

    @property
    def covered_fraction(self) -> float:
        """Share of the container's area under at least one control (overlaps counted once)."""
        frame = box(*self.container)
        union = shapely.union_all([box(*b) for b in self.controls.values()])
        return float(union.intersection(frame).area / frame.area)

    def outside(self) -> list[str]:
        """Controls that reach outside the map container or the viewport (1 px tolerance)."""
        left, top, right, bottom = self.container
        width, height = self.viewport
        return [
            name
            for name, (x0, y0, x1, y1) in self.controls.items()
            if x0 < max(left, 0) - 1
            or y0 < max(top, 0) - 1
            or x1 > min(right, width) + 1
            or y1 > min(bottom, height) + 1
        ]

    def overlapping(self) -> list[tuple[str, str]]:
        """Pairs of controls whose boxes overlap by more than 1 px in both directions."""
        items = list(self.controls.items())
        pairs = []
        for i, (a, (ax0, ay0, ax1, ay1)) in enumerate(items):
            for b, (bx0, by0, bx1, by1) in items[i + 1 :]:
                if min(ax1, bx1) - max(ax0, bx0) > 1 and min(ay1, by1) - max(ay0, by0) > 1:
                    pairs.append((a, b))
        return pairs

    def find(self, class_name: str) -> tuple[float, float, float, float]:
        """The box of the one control whose class list holds ``class_name``."""
        found = [b for name, b in self.controls.items() if class_name in name.split()]
        assert len(found) == 1, (class_name, list(self.controls))
        return found[0]


def measure_controls(page: Any, map_id: str) -> ControlLayout:
    """Measure the visible controls of the Leaflet map ``map_id`` on a Playwright ``page``.

    Parameters
    ----------
    page : playwright.sync_api.Page
    map_id : str
        The id of the map's container element (its JavaScript name).

    Returns
    -------
    ControlLayout
    """
    raw = page.evaluate(_MEASURE, map_id)
    controls: dict[str, tuple[float, float, float, float]] = {}
    overflow: dict[str, float] = {}
    for i, control in enumerate(raw["controls"]):
        name = f"{control['name']} #{i}"
        controls[name] = tuple(control["box"])
        overflow[name] = float(control["overflowX"])
    return ControlLayout(
        container=tuple(raw["container"]),
        controls=controls,
        viewport=tuple(raw["viewport"]),
        overflow_x=overflow,
    )
