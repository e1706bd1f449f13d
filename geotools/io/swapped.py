"""A whole layer with latitude and longitude swapped: detect it and say how to fix it.

Row by row, :func:`geotools.io.readers.find_swapped_points` repairs a few swapped points in a
table whose other rows are right. A file swapped as a whole is another matter: all of Peru
(latitude -18..0, longitude -81..-68) stays within ±90° when swapped, so every point reads as a
valid place: in the Southern Ocean off Antarctica, thousands of kilometres from the study. Such a
layer is **refused** (not swapped back silently): the analyst fixes the input once, with the
command the error prints, and every later run reads it right.

Two signs, each enough:

- **where the points land**: nine in ten features or more lie south of 60°S (Antarctica and the
  Southern Ocean, where no study of this toolkit takes place) while, swapped, they lie between
  60°S and 60°N;
- **the other layers' extent**: nine in ten features or more lie outside the other layers'
  longitude/latitude box (widened by half its size, at least 1°) while, swapped, nine in ten
  lie inside it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geotools.errors import ValidationError

log = logging.getLogger(__name__)

#: Share of a layer's features that must show the sign for the layer to count as swapped.
SWAPPED_SHARE = 0.9
#: Latitude south of which a study's features are taken to be swapped (Antarctica).
ANTARCTIC_LAT = -60.0


def feature_centres(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return the longitude and latitude of each feature's bounding-box centre (finite only).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        A layer with a CRS.

    Returns
    -------
    tuple of numpy.ndarray
        Longitudes and latitudes, in degrees, of the features with finite coordinates.
    """
    if frame.crs is None or not len(frame):
        return np.zeros(0), np.zeros(0)
    geoms = frame.geometry if frame.crs.is_geographic else frame.to_crs(4326).geometry
    with np.errstate(invalid="ignore"):
        b = shapely.bounds(np.asarray(geoms.values, dtype=object))
    x, y = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    keep = np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90)
    return x[keep], y[keep]


def extent_box(
    frames: Sequence[gpd.GeoDataFrame],
) -> tuple[float, float, float, float] | None:
    """Return the longitude/latitude box of ``frames``, widened by half its size (at least 1°).

    Parameters
    ----------
    frames : sequence of geopandas.GeoDataFrame
        The reference layers.

    Returns
    -------
    tuple of float or None
        ``(minx, miny, maxx, maxy)`` in degrees; None when the layers hold no usable feature.
    """
    xs, ys = [], []
    for frame in frames:
        x, y = feature_centres(frame)
        xs.append(x)
        ys.append(y)
    x, y = np.concatenate(xs) if xs else np.zeros(0), np.concatenate(ys) if ys else np.zeros(0)
    if not len(x):
        return None
    minx, miny, maxx, maxy = x.min(), y.min(), x.max(), y.max()
    margin = max(1.0, 0.5 * max(maxx - minx, maxy - miny))
    return (minx - margin, miny - margin, maxx + margin, maxy + margin)


def _inside(x: np.ndarray, y: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    return (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])


def find_swapped_layer(
    frame: gpd.GeoDataFrame, reference: tuple[float, float, float, float] | None = None
) -> str | None:
    """Say why the whole layer looks swapped, or return None.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The layer (any CRS; judged in longitude/latitude).
    reference : tuple of float, optional
        The other layers' box (:func:`extent_box`).

    Returns
    -------
    str or None
        Where the features lie as given and swapped, when one of the two signs (see the module
        docstring) holds.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> swapped = gpd.GeoDataFrame(geometry=shapely.points([-8.4, -9.1], [-74.6, -73.9]), crs=4326)
    >>> find_swapped_layer(swapped).split(";")[0]
    'all 2 lie south of 60°S (Antarctica or the Southern Ocean)'
    """
    x, y = feature_centres(frame)
    n = len(x)
    if not n or np.abs(x).max() > 90:
        return None  # some longitude is not a possible latitude: the file cannot be swapped
    need = SWAPPED_SHARE * n
    south = int(np.sum(y < ANTARCTIC_LAT))
    plausible_swapped = int(np.sum(np.abs(x) < abs(ANTARCTIC_LAT)))
    where = (
        f"as given they lie at longitude {x.min():.2f}..{x.max():.2f}, latitude "
        f"{y.min():.2f}..{y.max():.2f}; swapped at longitude {y.min():.2f}..{y.max():.2f}, "
        f"latitude {x.min():.2f}..{x.max():.2f}"
    )
    if south >= need and plausible_swapped >= need:
        share = "all" if south == n else f"{south} of"
        return f"{share} {n} lie south of 60°S (Antarctica or the Southern Ocean); {where}"
    if reference is not None:
        outside = int(np.sum(~_inside(x, y, reference)))
        back_inside = int(np.sum(_inside(y, x, reference)))
        if outside >= need and back_inside >= need:
            return (
                f"{outside} of {n} lie far outside the other layers' area while {back_inside} "
                f"fall inside it swapped; {where}"
            )
    return None


def check_swapped_layer(
    frame: gpd.GeoDataFrame,
    kind: str,
    files: Sequence[str | os.PathLike[str]],
    xy_columns: tuple[str, str] | None = None,
    reference: tuple[float, float, float, float] | None = None,
) -> None:
    """Refuse a layer whose latitude and longitude are swapped as a whole, naming the fix.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The layer as read.
    kind : str
        Its layer kind, for the ``--map`` fix.
    files : sequence of path
        The file(s) it was read from, for the message.
    xy_columns : tuple of (str, str), optional
        The ``(longitude, latitude)`` columns of a table, for the ``--map`` fix.
    reference : tuple of float, optional
        The other layers' box (:func:`extent_box`).

    Raises
    ------
    ValidationError
        The layer looks swapped (see :func:`find_swapped_layer`).
    """
    why = find_swapped_layer(frame, reference)
    if why is None:
        return
    names = ", ".join(Path(f).name for f in files)
    if xy_columns is not None:
        lon, lat = xy_columns
        fix = (
            f"if so, read it the other way round with --map {kind}.lon={lat} "
            f"--map {kind}.lat={lon} (in a project file: lon = \"{lat}\", lat = \"{lon}\" "
            f"under [layers.{kind}.mapping])"
        )
    else:
        fix = (
            "if so, swap X and Y in a GIS (QGIS: Processing > Swap X and Y coordinates) "
            "and export the layer again"
        )
    raise ValidationError(
        f"{names}: latitude and longitude look swapped in the whole {kind} layer: {why}; {fix}"
    )


def check_swapped_layers(
    layers: Mapping[str, tuple[gpd.GeoDataFrame, Sequence[Path], tuple[str, str] | None]],
) -> None:
    """Check every layer against the extent of the others (see :func:`check_swapped_layer`).

    Parameters
    ----------
    layers : mapping of str to (GeoDataFrame, files, xy columns)
        The layers of a run by kind, with their files and table coordinate columns.
    """
    for kind, (frame, files, xy) in layers.items():
        others = [other for name, (other, _, _) in layers.items() if name != kind]
        reference = extent_box(others)
        if reference is not None:
            check_swapped_layer(frame, kind, files, xy, reference)
