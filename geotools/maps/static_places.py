"""Community points and regions on the static PNG maps, as the web map draws them.

Both take the privacy gate's view (:func:`geotools.privacy.compute_shareable_view`): the
community points it publishes and its region table, where a public map's incident counts are
recounted from what is published and counts below the minimum are ``"<N"``. Regions are shaded
in the classes of the web map (:func:`geotools.maps.region_layer.shade_classes`), a suppressed
count in a class of its own ("fewer than N"), and never guessed back into a number.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from pyproj import CRS

from geotools.maps.region_layer import region_label, shade_classes
from geotools.maps.static_parts import _heading
from geotools.maps.style import COMMUNITY_COLOUR, NO_DATA_COLOUR, SUPPRESSED_COLOUR, TEXT

log = logging.getLogger(__name__)

#: Outline of the regions (as on the web map).
REGION_EDGE = "#555555"
#: Fill opacity of shaded regions (under the territories).
REGION_ALPHA = 0.6


def _usable(frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """``frame`` in EPSG:4326 without missing or empty geometries; None when nothing is left."""
    if frame is None or not len(frame) or frame.crs is None:
        return None
    geoms = frame.geometry.to_numpy()
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return frame.loc[keep].to_crs(4326) if keep.any() else None


def place_bounds(
    regions: gpd.GeoDataFrame | None, communities: gpd.GeoDataFrame | None
) -> list[tuple[float, float, float, float]]:
    """Lon/lat bounds of the regions and community points a map draws (for its extent).

    Parameters
    ----------
    regions : geopandas.GeoDataFrame or None
        The gate's region view.
    communities : geopandas.GeoDataFrame or None
        The community points of the view.

    Returns
    -------
    list of tuple of float
        ``(minx, miny, maxx, maxy)`` of each layer given and not empty.
    """
    out = []
    for frame in (regions, communities):
        usable = _usable(frame)
        if usable is not None:
            minx, miny, maxx, maxy = (float(v) for v in usable.total_bounds)
            out.append((minx, miny, maxx, maxy))
    return out


def draw_regions(
    ax: Axes,
    regions: gpd.GeoDataFrame | None,
    column: str | None,
    crs: CRS,
    lang: str,
) -> list[tuple[Any, str]]:
    """Draw the regions under every other layer, shaded by ``column`` or outlined only.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The map axes (in ``crs``).
    regions : geopandas.GeoDataFrame or None
        The gate's region view: polygons with the ``region_stats`` columns of ``profile``.
    column : str or None
        Column to shade by (``--shade-regions``); None draws outlines only.
    crs : pyproj.CRS
        Display CRS of ``ax``.
    lang : {"es", "en"}
        Language of the legend.

    Returns
    -------
    list of tuple
        Legend rows (handle, text), heading first; ``[]`` when nothing is drawn.
    """
    frame = _usable(regions)
    if frame is None:
        return []
    t = TEXT[lang]
    projected = frame.to_crs(crs)
    if column is None or column not in projected.columns:
        projected.boundary.plot(ax=ax, color=REGION_EDGE, linewidth=0.7, aspect=None, zorder=0.8)
        return [
            _heading(t["regions_outline"]),
            (Patch(facecolor="none", edgecolor=REGION_EDGE, linewidth=0.9), t["regions_outline"]),
        ]
    shading = shade_classes(projected[column], column, lang)
    palette = {-2: SUPPRESSED_COLOUR, -1: NO_DATA_COLOUR} | dict(enumerate(shading.colours))
    fills = [palette[int(k)] for k in shading.classes]
    projected.plot(
        ax=ax, facecolor=fills, edgecolor="none", alpha=REGION_ALPHA, aspect=None, zorder=0.5
    )
    projected.boundary.plot(ax=ax, color=REGION_EDGE, linewidth=0.6, aspect=None, zorder=0.8)
    rows: list[tuple[Any, str]] = [
        _heading(t["layer_regions"].format(column=region_label(column, lang)))
    ]
    shown = set(shading.classes.tolist())

    def swatch(colour: str) -> Patch:
        return Patch(facecolor=colour, alpha=REGION_ALPHA, edgecolor=REGION_EDGE, linewidth=0.6)

    rows += [(swatch(c), label) for c, label in zip(shading.colours, shading.labels, strict=True)]
    if shading.floor is not None:
        rows.append((swatch(SUPPRESSED_COLOUR), t["fewer_than"].format(n=shading.floor)))
    if -1 in shown:
        rows.append((swatch(NO_DATA_COLOUR), t["no_data"]))
    log.debug("static regions: %d shaded by %s in %d classes", len(projected), column,
              len(shading.colours))
    return rows


def draw_communities(
    ax: Axes, communities: gpd.GeoDataFrame | None, crs: CRS, lang: str
) -> list[tuple[Any, str]]:
    """Draw the community points the view publishes (rings where the place is approximate).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The map axes (in ``crs``).
    communities : geopandas.GeoDataFrame or None
        Community points of the gate's view.
    crs : pyproj.CRS
        Display CRS of ``ax``.
    lang : {"es", "en"}
        Language of the legend.

    Returns
    -------
    list of tuple
        Legend rows (handle, text), heading first; ``[]`` when nothing is drawn.
    """
    frame = _usable(communities)
    if frame is None:
        return []
    t = TEXT[lang]
    xy = shapely.get_coordinates(frame.to_crs(crs).geometry.to_numpy())
    if "precision" in frame.columns:
        precision = frame["precision"].astype("string").str.strip().str.lower().fillna("exact")
        approximate = (precision != "exact").to_numpy(dtype=bool)
    else:
        approximate = np.zeros(len(frame), dtype=bool)
    exact = ~approximate
    ax.scatter(xy[exact, 0], xy[exact, 1], s=9, c=COMMUNITY_COLOUR, edgecolors="white",
               linewidths=0.4, zorder=6)
    if approximate.any():
        ax.scatter(xy[approximate, 0], xy[approximate, 1], s=9, facecolors="white",
                   edgecolors=COMMUNITY_COLOUR, linewidths=0.9, zorder=6)
    label = t["layer_communities"]
    rows: list[tuple[Any, str]] = [
        _heading(label),
        (Line2D([], [], linestyle="none", marker="o", markersize=4.5,
                markerfacecolor=COMMUNITY_COLOUR, markeredgecolor="white"),
         label.split(" (")[0]),
    ]
    if approximate.any():
        rows.append((Line2D([], [], linestyle="none", marker="o", markersize=4.5,
                            markerfacecolor="white", markeredgecolor=COMMUNITY_COLOUR),
                     t["approximate_location"].format(precision="").rstrip(" :()")))
    return rows
