"""Reading files into GeoDataFrames: any vector format GDAL reads, GeoParquet, CSV/TSV/Excel tables.

The readers only read: they check the CRS and repair what reading can (swapped coordinates,
unclosed rings, mis-decoded text) but map no schema; :mod:`geotools.io.layers` turns what they
read into canonical, validated layers.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError

from geotools.crs import check_coordinates_plausible, describe_crs, suggest_utm_epsg
from geotools.errors import CRSError, SourceError, first_line
from geotools.gdalpath import gdal_path
from geotools.schema import normalise_name
from geotools.text import escape_terminal

log = logging.getLogger(__name__)

#: Column names (normalised) recognised as longitude / latitude / WKT in tables.
LON_NAMES = ("lon", "long", "lng", "longitude", "longitud", "x", "coord_x", "este", "easting")
LAT_NAMES = ("lat", "latitude", "latitud", "y", "coord_y", "norte", "northing")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "geometria")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".geoparquet")


def parse_layer_argument(text: str | os.PathLike[str]) -> tuple[Path, str | None]:
    """Split ``PATH`` or ``PATH:LAYER`` (a layer inside a GeoPackage, say) into its parts.

    Parameters
    ----------
    text : str or path-like
        ``PATH`` or ``PATH:LAYER``. A path that exists as given is taken whole (even with a
        ``:``); the text after the last ``:`` is a layer name only when what precedes it exists.

    Returns
    -------
    path : pathlib.Path
        The file.
    layer : str or None
        The layer name, or None when none was given.
    """
    raw = str(text)
    path = Path(raw)
    if path.exists() or ":" not in raw:
        return path, None
    head, _, tail = raw.rpartition(":")
    if Path(head).exists():
        return Path(head), tail
    return path, None


def find_column(columns: Iterable[object], names: Sequence[str]) -> str | None:
    """Return the first column whose normalised name is in ``names`` (tried in that order).

    Parameters
    ----------
    columns : iterable
        Column names of a table.
    names : sequence of str
        Normalised names (see :func:`geotools.schema.normalise_name`), by preference.

    Returns
    -------
    str or None
        The column as spelled in the table, or None.
    """
    by_norm: dict[str, str] = {}
    for column in columns:
        by_norm.setdefault(normalise_name(str(column)), str(column))
    for name in names:
        if name in by_norm:
            return by_norm[name]
    return None


def parse_coordinates(values: pd.Series) -> np.ndarray:
    """Read a column of coordinates as floats; a decimal comma (``"-74,55"``) is read as a point.

    Values that are not numbers become NaN (the feature then has no geometry and is rejected
    with that reason).

    Parameters
    ----------
    values : pandas.Series
        The column as read (text or numbers).

    Returns
    -------
    numpy.ndarray of float
        The coordinates.

    Examples
    --------
    >>> import pandas as pd
    >>> parse_coordinates(pd.Series(["-74,55", "-8.25", "x", None])).tolist()
    [-74.55, -8.25, nan, nan]
    """
    text = values.astype("string").str.strip()
    comma = text.str.fullmatch(r"[+-]?\d+,\d+", na=False)
    text = text.where(~comma, text.str.replace(",", ".", regex=False))
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


#: Key in ``GeoDataFrame.attrs``: the ``(lon, lat)`` columns a table's points were built from.
XY_COLUMNS = "geotools_xy_columns"


def _frame_from_table(
    table: pd.DataFrame,
    path: Path,
    assume_crs: CRS | None,
    xy_columns: tuple[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Build point (or WKT) geometries from a plain table with coordinate columns."""
    columns = [str(c) for c in table.columns]
    if xy_columns is not None:
        unknown = [c for c in xy_columns if c not in columns]
        if unknown:
            raise SourceError(
                f"{path}: coordinate column {unknown[0]!r} not found; columns are "
                f"{', '.join(columns)}"
            )
        lon: str | None = xy_columns[0]
        lat: str | None = xy_columns[1]
    else:
        lon = find_column(columns, LON_NAMES)
        lat = find_column(columns, LAT_NAMES)
    if lon and lat:
        x = parse_coordinates(table[lon])
        y = parse_coordinates(table[lat])
        crs = assume_crs or CRS.from_epsg(4326)
        swapped = find_swapped_points(x, y) if crs.is_geographic else np.zeros(len(x), bool)
        x, y = np.where(swapped, y, x), np.where(swapped, x, y)
        geoms = np.asarray(shapely.points(x, y), dtype=object)
        # Missing or unreadable numbers: no geometry. Infinite ones are kept as read, so that
        # validation rejects them with that reason.
        geoms[np.isnan(x) | np.isnan(y)] = None
        frame = gpd.GeoDataFrame(table, geometry=geoms, crs=crs)
        frame.attrs[READ_REPAIRS] = [
            (int(row), f"{lat} and {lon} swapped", "repaired: swapped back")
            for row in np.flatnonzero(swapped)
        ]
        frame.attrs[XY_COLUMNS] = (lon, lat)
        if assume_crs is not None:
            frame.attrs[CRS_ASSUMPTION] = "applied: a table declares no CRS"
        return frame
    wkt = find_column(columns, WKT_NAMES)
    if wkt:
        text = table[wkt].astype("string")
        geoms = shapely.from_wkt(text.fillna("").to_numpy(dtype=object), on_invalid="ignore")
        frame = gpd.GeoDataFrame(table.drop(columns=[wkt]), geometry=geoms, crs=assume_crs)
        if assume_crs is not None:
            frame.attrs[CRS_ASSUMPTION] = "applied: a table declares no CRS"
        if frame.crs is None:
            frame = frame.set_crs(4326)
        return frame
    raise SourceError(
        f"{path}: no coordinate columns found (looked for longitude {'/'.join(LON_NAMES[:5])}, "
        f"latitude {'/'.join(LAT_NAMES[:4])} or a WKT column); rename them or convert the table "
        "to a GIS format"
    )


def find_swapped_points(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return a mask of points whose longitude and latitude were entered the wrong way round.

    A point is swapped when its latitude is impossible (beyond ±90°, within ±180°) while its
    longitude would be a valid latitude, or when, in a table of at least 5 points, swapping it
    brings it from more than 5° away to within 2° of the table's median point (the others'
    cluster). The second rule assumes most rows are right.

    Parameters
    ----------
    x, y : numpy.ndarray of float
        Longitudes and latitudes as given (NaN for missing).

    Returns
    -------
    numpy.ndarray of bool
        True where the point should be ``(y, x)``.

    Examples
    --------
    >>> import numpy as np
    >>> lon = np.array([-74.6, -74.7, -74.5, -8.4, -74.8, -74.6])
    >>> lat = np.array([-8.3, -8.4, -8.5, -74.65, -8.2, -8.35])
    >>> find_swapped_points(lon, lat).tolist()
    [False, False, False, True, False, False]
    """
    finite = np.isfinite(x) & np.isfinite(y)
    impossible = finite & (np.abs(y) > 90) & (np.abs(y) <= 180) & (np.abs(x) <= 90)
    usable = finite & ~impossible
    if usable.sum() < 5:
        return impossible
    mx, my = np.median(x[usable]), np.median(y[usable])
    as_given = np.hypot(x - mx, y - my)
    as_swapped = np.hypot(y - mx, x - my)
    cluster = usable & (as_given > 5) & (as_swapped < 2)
    return impossible | cluster


def _detect_delimiter(header: str) -> str:
    """Return the most frequent of ``,``, ``;`` and tab in a header line (``,`` on a tie)."""
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: (counts[sep], sep == ","))
    return best if counts[best] else ","


#: Characters GDAL drops from a file name: it would read another file (``a.geojson`` for
#: ``a\\r.geojson``). Other controls are read as given and shown escaped.
_GDAL_DROPPED = re.compile("[\t\n\r]")


def _refuse_unsafe_name(path: Path) -> None:
    """Raise a one-line SourceError, naming the path escaped, for a name readers mishandle."""
    found = _GDAL_DROPPED.search(str(path))
    if found is not None:
        raise SourceError(
            f"{escape_terminal(path)}: the file name holds the control character "
            f"{escape_terminal(found.group())}, which GDAL drops (it would read another file); "
            "rename the file to printable characters only"
        )


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV/TSV (any of ``,``/``;``/tab, UTF-8 or Latin-1) or an Excel sheet, all as text.

    Parameters
    ----------
    path : pathlib.Path
        ``.csv``, ``.tsv``, ``.txt`` or ``.xlsx`` (first sheet).

    Returns
    -------
    pandas.DataFrame
        Every cell as text (missing cells as NA), source order, a fresh RangeIndex.

    Raises
    ------
    SourceError
        The file is missing, unreadable, or Excel without ``openpyxl`` installed.
    """
    _refuse_unsafe_name(path)
    if not path.exists():
        raise SourceError(f"{path}: file not found")
    if path.suffix.lower() in EXCEL_SUFFIXES:
        if importlib.util.find_spec("openpyxl") is None:
            raise SourceError(
                f"{path}: reading Excel files needs the openpyxl package (pip install openpyxl); "
                "or save the sheet as CSV"
            )
        try:
            # A handle, never the name: pandas reads ``file:a.xlsx`` as a URL for ``a.xlsx``.
            with open(path, "rb") as handle:
                table = pd.read_excel(handle, sheet_name=0, dtype=str)
        except Exception as exc:
            raise SourceError(f"{path}: not a readable spreadsheet ({exc})") from exc
        return table.reset_index(drop=True)
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            with open(path, encoding=encoding, newline="") as handle:
                header = handle.readline()
                handle.seek(0)
                return pd.read_csv(
                    handle, sep=_detect_delimiter(header), dtype=str
                ).reset_index(drop=True)
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise SourceError(f"{path}: not a readable table ({exc})") from exc
    raise SourceError(f"{path}: unknown text encoding; save it as UTF-8")  # pragma: no cover


def read_frame(
    path: str | os.PathLike[str],
    layer: str | None = None,
    assume_crs: str | CRS | None = None,
    xy_columns: tuple[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Read a file into a GeoDataFrame with a checked CRS, without any schema mapping.

    Parameters
    ----------
    path : str or path-like
        Any vector file GDAL reads (GeoPackage, Shapefile also zipped, GeoJSON, FlatGeobuf, KML,
        ...), GeoParquet, or a CSV/TSV table with longitude/latitude or WKT columns. ``PATH:LAYER``
        selects a layer of a multi-layer file.
    layer : str, optional
        Layer name inside the file (wins over ``PATH:LAYER``).
    assume_crs : str or pyproj.CRS, optional
        CRS to use when the file declares none, e.g. ``EPSG:32718``, or when the CRS it declares
        cannot hold its coordinates (metres in a GeoJSON read as degrees). A plausible declared
        CRS is kept: the assumption is then ignored and says so (see
        :func:`apply_assumed_crs`).
    xy_columns : tuple of (str, str), optional
        Longitude and latitude columns of a table, when their names are not recognised (or to
        swap them back: ``("lat_column", "lon_column")``).

    Returns
    -------
    geopandas.GeoDataFrame
        The features as stored, in source order, with a CRS.

    Raises
    ------
    SourceError
        The file is missing, unreadable or has several layers and none was chosen.
    CRSError
        The layer has no CRS (and none was assumed) or coordinates that cannot be in its CRS.
    """
    file, inner = parse_layer_argument(path)
    layer = layer or inner
    _refuse_unsafe_name(file)
    if not file.exists():
        raise SourceError(f"{file}: file not found")
    assumed: CRS | None = None
    if assume_crs is not None:
        try:
            assumed = CRS.from_user_input(assume_crs)
        except ProjCRSError as exc:
            raise CRSError(f"--assume-crs {assume_crs!r} is not a CRS ({exc})") from exc
    suffix = file.suffix.lower()
    try:
        if suffix in (*TABLE_SUFFIXES, *EXCEL_SUFFIXES):
            frame = _frame_from_table(read_table(file), file, assumed, xy_columns)
        elif suffix in PARQUET_SUFFIXES:
            try:
                frame = gpd.read_parquet(os.path.abspath(file))
            except ValueError:
                table = pd.read_parquet(os.path.abspath(file))
                frame = _frame_from_table(table, file, assumed, xy_columns)
        else:
            frame = _read_ogr(file, layer)
        if xy_columns is not None and frame.attrs.get(XY_COLUMNS) is None:
            raise SourceError(
                f"{file}: coordinate columns (--map LAYER.lon=/LAYER.lat=) apply only to "
                "tables (CSV, Excel); this file has geometries of its own"
            )
    except (SourceError, CRSError):
        raise
    except UnicodeEncodeError as exc:  # undecodable bytes of the name: GDAL takes UTF-8 only
        raise SourceError(
            f"{escape_terminal(file)}: the file name is not valid UTF-8, so GDAL cannot open it; "
            "rename the file"
        ) from exc
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise SourceError(f"{file}: cannot read it ({first_line(exc)})") from exc
    except Exception as exc:
        raise SourceError(
            f"{file}: cannot read it ({type(exc).__name__}: {first_line(exc)})"
        ) from exc
    frame = apply_assumed_crs(frame, assumed, file)
    if frame.crs is None:
        minx, miny, maxx, maxy = (
            (float(v) for v in frame.total_bounds) if len(frame) else ((np.nan,) * 4)
        )
        hint = suggest_utm_epsg((minx, miny, maxx, maxy))
        raise CRSError(
            f"{file}: the layer has no coordinate reference system{hint}. Add one in your GIS "
            "(e.g. a .prj for a shapefile) or re-run with --assume-crs EPSG:XXXXX"
        )
    bounds = _typical_bounds(frame)
    if bounds is not None:
        applied = str(frame.attrs.get(CRS_ASSUMPTION, "")).startswith("applied")
        check_coordinates_plausible(frame.crs, bounds, str(file), assumed=applied)
    return frame


#: Key in ``GeoDataFrame.attrs``: what became of ``--assume-crs`` for the file (for the ledger).
CRS_ASSUMPTION = "geotools_crs_assumption"


def apply_assumed_crs(frame: gpd.GeoDataFrame, assumed: CRS | None, file: Path) -> gpd.GeoDataFrame:
    """Give ``frame`` the assumed CRS only when it has none, or one its coordinates cannot be in.

    ``--assume-crs`` names the CRS of files that declare none. A layer that declares a CRS
    which fits its coordinates keeps it (GeoJSON territories in degrees stay in degrees under
    ``--assume-crs EPSG:32718``); the assumption is then ignored, logged and recorded. A declared
    CRS that cannot hold the coordinates (UTM metres in a GeoJSON that readers take for
    EPSG:4326, degrees in a layer labelled UTM) is replaced, since it is certainly wrong.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The layer as read.
    assumed : pyproj.CRS or None
        The CRS the user assumed (None: nothing to do).
    file : pathlib.Path
        The file read, for the log.

    Returns
    -------
    geopandas.GeoDataFrame
        ``frame`` with its CRS decided; ``attrs[CRS_ASSUMPTION]`` says ``applied`` (with why) or
        ``ignored``.
    """
    if assumed is None or CRS_ASSUMPTION in frame.attrs:
        return frame
    if frame.crs is None:
        frame = frame.set_crs(assumed)
        frame.attrs[CRS_ASSUMPTION] = "applied: the file declares no CRS"
        return frame
    if frame.crs == assumed:
        frame.attrs[CRS_ASSUMPTION] = "applied: the file declares the same CRS"
        return frame
    bounds = _typical_bounds(frame)
    if bounds is not None:
        try:
            check_coordinates_plausible(frame.crs, bounds, str(file))
        except CRSError:
            declared = describe_crs(frame.crs)
            frame = frame.set_crs(assumed, allow_override=True)
            frame.attrs[CRS_ASSUMPTION] = (
                f"applied: the declared {declared} cannot hold the coordinates"
            )
            return frame
    declared = describe_crs(frame.crs)
    log.info(
        "%s: declares %s, which fits its coordinates; --assume-crs %s ignored for it",
        file,
        declared,
        describe_crs(assumed),
    )
    frame.attrs[CRS_ASSUMPTION] = f"ignored: the file declares {declared}"
    return frame


def _typical_bounds(frame: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    """Return the bounds of the layer's typical features, for the CRS plausibility check.

    A few features with infinite or absurd coordinates (``1e300``, a stray UTM point in a
    degrees layer) must not decide what the whole layer is: they are rejected one by one by
    validation. The layer-level check looks at the features whose coordinates are finite and
    below 1e8 (any place on Earth in any CRS); in a geographic CRS, when most of them are
    within ±180°/±90°, only those. None when no feature qualifies.
    """
    if not len(frame):
        return None
    with np.errstate(invalid="ignore"):
        b = shapely.bounds(np.asarray(frame.geometry.values, dtype=object))
        usable = np.isfinite(b).all(axis=1) & (np.abs(b) < 1e8).all(axis=1)
        if not usable.any():
            return None
        b = b[usable]
        if frame.crs is not None and frame.crs.is_geographic:
            degrees = (np.abs(b[:, [0, 2]]) <= 180.0001).all(axis=1) & (
                np.abs(b[:, [1, 3]]) <= 90.0001
            ).all(axis=1)
            if degrees.sum() * 2 > len(b):
                b = b[degrees]
    return (
        float(b[:, 0].min()),
        float(b[:, 1].min()),
        float(b[:, 2].max()),
        float(b[:, 3].max()),
    )


def _read_ogr(file: Path, layer: str | None) -> gpd.GeoDataFrame:
    # GDAL opens exactly ``file``: never a name it would read as another file (see gdalpath).
    with gdal_path(file, zipped=file.suffix.lower() == ".zip") as target:
        try:
            return _read_ogr_at(file, target, layer)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            # Name the file as given, not the link GDAL opened.
            message = first_line(exc).replace(target, str(file))
            raise SourceError(f"{file}: cannot read it ({message})") from exc


def _read_ogr_at(file: Path, target: str, layer: str | None) -> gpd.GeoDataFrame:
    if layer is None:
        layers = pyogrio.list_layers(target)
        if len(layers) > 1:
            names = [str(n) for n in layers[:, 0]]
            raise SourceError(
                f"{file}: holds {len(names)} layers ({', '.join(names[:8])}); choose one as "
                f"{file}:{names[0]}"
            )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            frame = pyogrio.read_dataframe(target, layer=layer, use_arrow=False)
        except shapely.errors.GEOSException as exc:
            log.info("%s: GEOS refused a geometry (%s); reading raw and repairing", file, exc)
            return _read_ogr_repairing(target, layer)
        if _looks_like_utf8_read_as_latin1(frame):
            # A shapefile without .cpg is decoded as Latin-1; UTF-8 text then reads "AshÃ¡ninka".
            frame = pyogrio.read_dataframe(target, layer=layer, use_arrow=False, encoding="UTF-8")
            frame.attrs["geotools_encoding"] = "UTF-8 (detected: the file declares no encoding)"
        return frame


_MOJIBAKE = r"[ÃÂ][\x80-\xbf]"


def _looks_like_utf8_read_as_latin1(frame: pd.DataFrame) -> bool:
    """True when text columns hold the typical marks of UTF-8 decoded as Latin-1."""
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            text = frame[column].dropna().astype(str)
            if len(text) and text.str.contains(_MOJIBAKE, regex=True).any():
                return True
    return False


#: Key in ``GeoDataFrame.attrs`` listing ``(row, problem, repair)`` found while reading.
READ_REPAIRS = "geotools_read_repairs"


def _read_ogr_repairing(target: str, layer: str | None) -> gpd.GeoDataFrame:
    """Read geometries as WKB and let GEOS fix what it can (e.g. close unclosed rings)."""
    meta, _, wkb, fields = pyogrio.raw.read(target, layer=layer)
    strict = shapely.from_wkb(wkb, on_invalid="ignore")
    fixed = shapely.from_wkb(wkb, on_invalid="fix")
    table = pd.DataFrame(
        {name: values for name, values in zip(meta["fields"], fields, strict=True)}
    )
    frame = gpd.GeoDataFrame(table, geometry=fixed, crs=meta["crs"])
    refused = shapely.is_missing(strict) & ~shapely.is_missing(fixed)
    lost = refused & shapely.is_empty(fixed)
    frame.attrs[READ_REPAIRS] = [
        (int(row), "unclosed ring(s) with too few vertices to close", "rejected")
        if lost[row]
        else (int(row), "unclosed ring(s)", "repaired: rings closed by repeating the first vertex")
        for row in np.flatnonzero(refused)
    ]
    return frame


