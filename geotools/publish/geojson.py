"""RFC 7946 GeoJSON of a bundle's layers (to move to :mod:`geotools.export`)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

log = logging.getLogger(__name__)

def _round_coordinates(value: Any, decimals: int) -> Any:
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], (int, float)):
            return [round(float(v), decimals) for v in value[:2]]
        return [_round_coordinates(v, decimals) for v in value]
    return value


def prepare_rfc7946_geometry(geoms: np.ndarray, decimals: int = 6) -> np.ndarray:
    """Return WGS84 geometries snapped to ``decimals``, valid and wound as RFC 7946 requires.

    Snapping uses GEOS precision reduction (which keeps polygons valid); invalid results are
    repaired with ``make_valid``; exterior rings end counterclockwise, holes clockwise.
    """
    out = np.asarray(geoms, dtype=object).copy()
    present = ~shapely.is_missing(out)
    snapped = shapely.set_precision(out[present], 10.0**-decimals)
    bad = ~shapely.is_valid(snapped)
    if bad.any():
        snapped[bad] = shapely.make_valid(snapped[bad])
    out[present] = shapely.orient_polygons(snapped, exterior_cw=False)
    return out


def _property_columns(frame: pd.DataFrame) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {}
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            series = series.dt.strftime("%Y-%m-%d")
        if pd.api.types.is_float_dtype(series):
            series = series.where(np.isfinite(series.astype(float)))
        values = series.astype(object).where(series.notna(), None).tolist()
        columns[str(column)] = [v.item() if isinstance(v, np.generic) else v for v in values]
    return columns


def write_geojson(frame: gpd.GeoDataFrame, target: Path, decimals: int = 6) -> Path:
    """Write ``frame`` as RFC 7946 GeoJSON: WGS84 lon/lat, no ``crs`` member, counterclockwise
    exteriors and clockwise holes, coordinates rounded to ``decimals``, null for missing values.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Any CRS.
    target : pathlib.Path
        File to write (one feature per line, UTF-8).
    decimals : int, default 6
        Coordinate decimals (6: about 0.1 m).

    Returns
    -------
    pathlib.Path
    """
    wgs = frame.to_crs(4326) if frame.crs is not None else frame
    geoms = prepare_rfc7946_geometry(wgs.geometry.to_numpy(), decimals)
    props = _property_columns(pd.DataFrame(wgs.drop(columns=wgs.geometry.name)))
    names = list(props)
    lines = []
    for i, geom in enumerate(geoms):
        geometry = None
        if geom is not None and not geom.is_empty:
            mapped = shapely.geometry.mapping(geom)
            geometry = {
                "type": mapped["type"],
                "coordinates": _round_coordinates(mapped["coordinates"], decimals),
            }
        feature = {
            "type": "Feature",
            "properties": {name: props[name][i] for name in names},
            "geometry": geometry,
        }
        lines.append(
            json.dumps(feature, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        )
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    target.write_text(text, encoding="utf-8")
    return target
