"""Writing files: checksums, atomic JSON, CSV (formulas made inert), GeoPackage, GeoJSON.

Every writer here goes through :func:`geotools.outputs.atomic_path` (temporary name beside the
target, renamed on success, lock and marker of the folder kept), except :func:`write_geojson`,
which writes into a staging folder (see :func:`geotools.outputs.staged_outputs`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geotools.errors import OutputError, first_line
from geotools.gdalpath import gdal_write_path
from geotools.outputs import atomic_path


def compute_sha256(path: Path) -> str:
    """Return the SHA-256 hex digest of a file (of every file, for a folder such as a .gdb).

    Parameters
    ----------
    path : pathlib.Path
        A file, or a folder whose files (recursively, in sorted path order) are hashed as one
        stream.

    Returns
    -------
    str
        64 lowercase hexadecimal digits.
    """
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def write_json(data: Any, target: Path, *, overwrite: bool = False) -> Path:
    """Write ``data`` as pretty, key-sorted UTF-8 JSON, atomically.

    Parameters
    ----------
    data : Any
        JSON-serialisable data; other values (paths, dates...) are written as ``str(value)``.
    target : pathlib.Path
        File to write.
    overwrite : bool, default False
        Replace an existing ``target``.

    Returns
    -------
    pathlib.Path
        ``target``.

    Raises
    ------
    OutputExistsError
        ``target`` exists and ``overwrite`` is False, or is a folder.
    OutputError
        ``target`` is a symbolic link, locked by another run, or cannot be written.
    """
    with atomic_path(target, overwrite=overwrite) as tmp:
        tmp.write_text(
            json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n",
            encoding="utf-8",
        )
    return target


#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection), with
#: the full-width forms some spreadsheets also accept.
FORMULA_TRIGGERS = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"
_FORMULA_START = f"^[{re.escape(FORMULA_TRIGGERS)}]"
_PLAIN_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?$"


def neutralise_formulas(table: pd.DataFrame) -> pd.DataFrame:
    r"""Return ``table`` with text cells that a spreadsheet would run as a formula made inert.

    Following OWASP's advice on CSV injection, a text cell (and a column name) starting with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or their full-width forms) gets a
    leading single quote: ``=HYPERLINK(...)`` is written ``'=HYPERLINK(...)``. Numbers stay
    numbers: numeric columns are untouched, and a text cell that is a plain number (``-5``,
    ``+3.2``, ``-50%``) is left as it is, since a spreadsheet reads it as that number and
    nothing else.
    ``-5 km`` and ``-2+3`` are text (the second is a formula) and get the quote.

    Line breaks inside text cells are written as ``\n`` (``\r\n`` and a lone ``\r`` become
    ``\n``): the CSV writer quotes a cell holding ``\n`` but not one holding a bare ``\r``,
    which a reader takes for the end of the row, so a name such as ``"Alfa\r=cmd"`` would
    otherwise start a new row with an unquoted formula.

    Parameters
    ----------
    table : pandas.DataFrame
        Any table.

    Returns
    -------
    pandas.DataFrame
        A copy with the risky cells quoted (the input is not modified).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"name": ["=1+1", "-5 km", "-5", "Alfa"], "ha": [-1.5, 2, 3, 4]})
    >>> neutralise_formulas(t)["name"].tolist(), neutralise_formulas(t)["ha"].tolist()
    (["'=1+1", "'-5 km", '-5', 'Alfa'], [-1.5, 2.0, 3.0, 4.0])
    """
    out = table.copy()
    for column in out.columns:
        values = out[column]
        if not (
            values.dtype == object
            or pd.api.types.is_string_dtype(values.dtype)
            or isinstance(values.dtype, pd.CategoricalDtype)
        ):
            continue
        text = values.astype("string")
        risky = (
            text.str.contains(_FORMULA_START, regex=True)
            & ~text.str.fullmatch(_PLAIN_NUMBER)
        ).fillna(False).to_numpy(dtype=bool)
        breaks = text.str.contains("\r", regex=False).fillna(False).to_numpy(dtype=bool)
        if risky.any() or breaks.any():
            fixed = values.astype(object).copy()
            fixed[risky] = ("'" + text[risky]).to_numpy(dtype=object)
            cells = pd.Series(fixed[breaks], dtype="string")
            fixed[breaks] = cells.str.replace("\r\n?", "\n", regex=True).to_numpy(dtype=object)
            out[column] = fixed
    names = [str(c) for c in out.columns]
    risky_names = pd.Series(names, dtype="string").str.contains(_FORMULA_START, regex=True)
    if risky_names.any():
        out.columns = [
            f"'{name}" if bad else column
            for name, column, bad in zip(names, out.columns, risky_names, strict=True)
        ]
    return out


def write_csv(table: pd.DataFrame, target: Path, *, overwrite: bool = False) -> Path:
    """Write a table as UTF-8 CSV with deterministic number formatting, atomically.

    This is the one CSV writer of geotools: text cells that a spreadsheet would run as a formula
    are neutralised first (:func:`neutralise_formulas`).

    Parameters
    ----------
    table : pandas.DataFrame
        Table to write, without its index; it is not modified.
    target : pathlib.Path
        File to write.
    overwrite : bool, default False
        Replace an existing ``target``.

    Returns
    -------
    pathlib.Path
        ``target``.

    Raises
    ------
    OutputExistsError
        ``target`` exists and ``overwrite`` is False, or is a folder.
    OutputError
        ``target`` is a symbolic link, locked by another run, or cannot be written.
    """
    safe = neutralise_formulas(table)
    with atomic_path(target, overwrite=overwrite) as tmp:
        safe.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")
    return target


#: ``gpkg_contents.last_change`` of every GeoPackage geotools writes, so that identical runs give
#: byte-identical files (GDAL otherwise stamps the current time). ``SOURCE_DATE_EPOCH`` wins.
GPKG_TIMESTAMP = "1970-01-01T00:00:00.000Z"


def _gpkg_timestamp() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        moment = dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return GPKG_TIMESTAMP


def write_geopackage(
    layers: Mapping[str, gpd.GeoDataFrame],
    target: Path,
    *,
    overwrite: bool = False,
    metadata: Mapping[str, Mapping[str, str]] | None = None,
) -> Path:
    """Write several layers into one GeoPackage, atomically (all layers or none).

    The file is byte-identical for identical layers: GDAL's ``OGR_CURRENT_DATE`` is pinned to
    :data:`GPKG_TIMESTAMP` (or ``SOURCE_DATE_EPOCH``) while writing, so the
    ``gpkg_contents.last_change`` column carries no wall-clock time.

    Parameters
    ----------
    layers : mapping of str to geopandas.GeoDataFrame
        Layer name -> features, written in this order.
    target : pathlib.Path
        GeoPackage to write.
    overwrite : bool, default False
        Replace an existing file.
    metadata : mapping of str to mapping of str to str, optional
        Layer name -> GDAL layer metadata (key -> text) stored with that layer, e.g. the import
        notes and licence of ``geotools import``.

    Returns
    -------
    pathlib.Path
        ``target``.

    Raises
    ------
    OutputExistsError
        ``target`` exists and ``overwrite`` is False, or is a folder.
    OutputError
        ``target`` is a symbolic link, locked by another run, or GDAL cannot write it.
    """
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _gpkg_timestamp()})
    try:
        with atomic_path(target, overwrite=overwrite) as tmp, gdal_write_path(tmp) as gdal_tmp:
            for name, frame in layers.items():
                try:
                    pyogrio.write_dataframe(
                        frame,
                        gdal_tmp,
                        layer=name,
                        driver="GPKG",
                        append=Path(gdal_tmp).exists(),
                        layer_metadata=dict((metadata or {}).get(name) or {}) or None,
                    )
                except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
                    raise OutputError(
                        f"{target}: cannot write the GeoPackage ({first_line(exc)}); check "
                        "that the folder is writable and the disk not full"
                    ) from exc
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    return target


# --------------------------------------------------------------------------------------------
# GeoJSON (RFC 7946)
# --------------------------------------------------------------------------------------------


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

    Parameters
    ----------
    geoms : numpy.ndarray of shapely.Geometry
        Geometries in WGS 84 longitude/latitude; missing ones (None) stay missing.
    decimals : int, default 6
        Decimal places of the coordinates (degrees); 6 is about 0.1 m.

    Returns
    -------
    numpy.ndarray of shapely.Geometry
        A new array; ``geoms`` is left unchanged.
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
