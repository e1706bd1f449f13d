"""A plain outline of the country or regions, so that a map without a basemap stays readable.

With ``--basemap none`` (a map read offline) nothing is fetched from a tile server; the map then
draws, under every layer, thin grey lines: the boundaries of a polygon layer the user gives
(regions, departments), or else the borders and coasts of Peru and its neighbours from the
packaged Natural Earth 1:110m outline (public domain; ``data/peru_outline.geojson``, derived by
``scripts/make_outline.py``, see ``data/SOURCE.md``). The lines are clipped to the study's
extent plus a margin, simplified to the scale of that extent and rounded, so that they stay a
few kilobytes (a size budget coarsens them further if needed). They carry no attributes: only
geometry reaches the page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from folium.map import CustomPane

from geotools.crs import PERU_BOUNDS

log = logging.getLogger(__name__)

#: The packaged outline of Peru and its neighbours (Natural Earth 1:110m, public domain).
OUTLINE_FILE = Path(__file__).with_name("data") / "peru_outline.geojson"
#: The sources-box line crediting the packaged outline, per language.
OUTLINE_SOURCE = {
    "es": "Fronteras y costas: Natural Earth 1:110m (dominio público), naturalearthdata.com",
    "en": "Borders and coasts: Natural Earth 1:110m (public domain), naturalearthdata.com",
}
#: The sources-box line naming an outline file the user gave, per language.
OUTLINE_FILE_SOURCE = {"es": "Contorno: {name}", "en": "Outline: {name}"}
#: Largest outline (bytes of GeoJSON) a map embeds; coarser simplification beyond it.
OUTLINE_BUDGET = 60_000
#: Name and z-index of the pane the outline and graticule are drawn in: under the overlays
#: (Leaflet's overlay pane is at 400, tiles at 200), never answering the pointer.
OUTLINE_PANE = "gt-outline"
OUTLINE_PANE_Z = 350
#: Line style of the outline.
OUTLINE_STYLE = {"color": "#7a7a7a", "weight": 1.0, "opacity": 0.85, "fill": False}


def study_extent(frames: Sequence[gpd.GeoDataFrame]) -> tuple[float, float, float, float]:
    """West, south, east, north of the frames' bounds (EPSG:4326); Peru's when all are empty.

    Parameters
    ----------
    frames : sequence of geopandas.GeoDataFrame
        Layers in EPSG:4326.

    Returns
    -------
    tuple of float
        ``(west, south, east, north)``.
    """
    boxes = np.array([f.total_bounds for f in frames if len(f)], dtype=float).reshape(-1, 4)
    boxes = boxes[np.isfinite(boxes).all(axis=1)]
    if not len(boxes):
        return PERU_BOUNDS
    return (
        float(boxes[:, 0].min()),
        float(boxes[:, 1].min()),
        float(boxes[:, 2].max()),
        float(boxes[:, 3].max()),
    )


def outline_box(
    extent: tuple[float, float, float, float], margin: int = 2
) -> tuple[float, float, float, float]:
    """``extent`` rounded out to whole degrees and grown by ``margin`` degrees each way.

    The box of the graticule and of the outline, so that the two end together.

    Parameters
    ----------
    extent : tuple of float
        ``(west, south, east, north)``, EPSG:4326.
    margin : int, default 2
        Margin in whole degrees.

    Returns
    -------
    tuple of float
        The grown box, latitudes kept within -90 and 90.
    """
    west, south, east, north = extent
    return (
        float(np.floor(west) - margin),
        float(max(np.floor(south) - margin, -90.0)),
        float(np.ceil(east) + margin),
        float(min(np.ceil(north) + margin, 90.0)),
    )


@lru_cache(maxsize=1)
def _packaged_lines() -> shapely.Geometry:
    data = json.loads(OUTLINE_FILE.read_text(encoding="utf-8"))
    return shapely.union_all(
        [shapely.from_geojson(json.dumps(f["geometry"])) for f in data["features"]]
    )


def outline_lines(
    extent: tuple[float, float, float, float],
    regions: gpd.GeoDataFrame | None = None,
    *,
    margin: int = 2,
    budget: int = OUTLINE_BUDGET,
) -> dict[str, Any] | None:
    """The outline around ``extent`` as a GeoJSON geometry (a MultiLineString), or None.

    Boundaries of ``regions`` (any polygon layer with a CRS; each shared border once), else
    the packaged Natural Earth outline of Peru and its neighbours, clipped to the box of
    :func:`outline_box` (``extent`` rounded out to whole degrees plus ``margin`` degrees, as the
    graticule), simplified to about 1/2000 of that box's larger side (never finer than about
    10 m) and rounded to the power of ten below that (0.001 degrees for 0.003); coarser, by
    halves, until the GeoJSON text fits in ``budget`` bytes.

    Parameters
    ----------
    extent : tuple of float
        ``(west, south, east, north)`` of the study, EPSG:4326.
    regions : geopandas.GeoDataFrame, optional
        Region polygons (only their geometry is used; other geometry types are ignored).
    margin : int, default 2
        Margin around the extent, in whole degrees.
    budget : int, default OUTLINE_BUDGET
        Largest GeoJSON text, in bytes.

    Returns
    -------
    dict or None
        A GeoJSON MultiLineString; None when no line falls in the box.
    """
    clip = outline_box(extent, margin)
    lines: shapely.Geometry
    if regions is not None:
        polygons = regions.to_crs(4326).geometry.values
        polygonal = np.isin(shapely.get_type_id(polygons), (3, 6))  # (Multi)Polygon
        polygons = polygons[polygonal & ~shapely.is_empty(polygons)]
        if not len(polygons):
            log.warning("The outline layer holds no polygons: no outline drawn.")
            return None
        valid = shapely.make_valid(polygons, method="structure", keep_collapsed=False)
        edges = shapely.clip_by_rect(shapely.boundary(valid), *clip)
        lines = shapely.line_merge(shapely.union_all(edges))
    else:
        lines = shapely.clip_by_rect(_packaged_lines(), *clip)
    if lines.is_empty:
        return None
    tolerance = max(max(clip[2] - clip[0], clip[3] - clip[1]) / 2000.0, 1e-4)
    while True:
        # Rounded to the power of ten below the tolerance (0.001 degrees for 0.003).
        decimals = int(-np.floor(np.log10(tolerance)))
        simple = shapely.set_precision(shapely.simplify(lines, tolerance), 10.0**-decimals)
        simple = shapely.set_coordinates(
            simple, np.round(shapely.get_coordinates(simple), decimals)
        )
        text = shapely.to_geojson(simple)
        if len(text) <= budget or tolerance > 1.0:
            break
        tolerance *= 2.0
    if simple.is_empty:
        return None
    log.debug("Outline: %d bytes at a tolerance of %.5f degrees.", len(text), tolerance)
    geometry: dict[str, Any] = json.loads(text)
    if geometry["type"] == "LineString":
        geometry = {"type": "MultiLineString", "coordinates": [geometry["coordinates"]]}
    elif geometry["type"] == "GeometryCollection":  # lines and stray points after clipping
        parts = [g["coordinates"] for g in geometry["geometries"] if g["type"] == "LineString"]
        parts += [
            c for g in geometry["geometries"] if g["type"] == "MultiLineString"
            for c in g["coordinates"]
        ]
        geometry = {"type": "MultiLineString", "coordinates": parts}
    return geometry


def add_outline_pane(m: folium.Map) -> None:
    """Add the pane the outline and graticule are drawn in (under overlays, not interactive).

    Parameters
    ----------
    m : folium.Map
        The map.
    """
    m.add_child(CustomPane(OUTLINE_PANE, z_index=OUTLINE_PANE_Z, pointer_events=False))


def add_outline(m: folium.Map, geometry: dict[str, Any]) -> None:
    """Draw ``geometry`` (from :func:`outline_lines`) as thin grey lines in the outline pane.

    Parameters
    ----------
    m : folium.Map
        The map (with :func:`add_outline_pane` called first).
    geometry : dict
        A GeoJSON MultiLineString.
    """
    folium.GeoJson(
        geometry,
        name="outline",
        control=False,
        interactive=False,
        pane=OUTLINE_PANE,
        style_function=lambda feature: dict(OUTLINE_STYLE),
    ).add_to(m)
