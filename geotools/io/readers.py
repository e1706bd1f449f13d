"""Reading layers from any vector format, and atomic writing of outputs.

Reading goes ``file -> GeoDataFrame -> canonical schema -> QA ledger``; the result is a layer the
analyses can trust plus the :class:`~geotools.validation.Ledger` saying what happened to every
feature. Writers never leave partial files: they write to a temporary name in the same folder and
rename, and refuse to overwrite unless asked.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import importlib.util
import json
import logging
import os
import re
import secrets
import shutil
import socket
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:  # POSIX; elsewhere the lock falls back to an exclusively created file
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError

from geotools.crs import check_coordinates_plausible, describe_crs, suggest_utm_epsg
from geotools.errors import (
    CRSError,
    ForeignFilesError,
    GeotoolsError,
    OutputError,
    OutputExistsError,
    OutputLockedError,
    SourceError,
    ValidationError,
)
from geotools.schema import LAYERS, normalise_name, normalise_schema
from geotools.validation import Ledger, validate_layer

log = logging.getLogger(__name__)

#: Column names (normalised) recognised as longitude / latitude / WKT in tables.
LON_NAMES = ("lon", "long", "lng", "longitude", "longitud", "x", "coord_x", "este", "easting")
LAT_NAMES = ("lat", "latitude", "latitud", "y", "coord_y", "norte", "northing")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "geometria")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".geoparquet")


@dataclass
class Layer:
    """A layer read, normalised and validated.

    Attributes
    ----------
    kind : str
        Layer kind (``territories``, ``parcels``, ...).
    frame : geopandas.GeoDataFrame
        Features fit for analysis, canonical columns.
    ledger : Ledger
        What happened to every feature read.
    path : pathlib.Path
        The file read.
    sha256 : str
        Checksum of the file read, for provenance.
    """

    kind: str
    frame: gpd.GeoDataFrame
    ledger: Ledger
    path: Path
    sha256: str


def compute_sha256(path: Path) -> str:
    """Return the SHA-256 hex digest of a file (of every file, for a folder such as a .gdb)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def parse_layer_argument(text: str | os.PathLike[str]) -> tuple[Path, str | None]:
    """Split ``PATH`` or ``PATH:LAYER`` (a layer inside a GeoPackage, say) into its parts."""
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


def _frame_from_table(table: pd.DataFrame, path: Path, assume_crs: CRS | None) -> gpd.GeoDataFrame:
    """Build point (or WKT) geometries from a plain table with coordinate columns."""
    columns = [str(c) for c in table.columns]
    lon = find_column(columns, LON_NAMES)
    lat = find_column(columns, LAT_NAMES)
    if lon and lat:
        x = pd.to_numeric(table[lon], errors="coerce").to_numpy(dtype=float)
        y = pd.to_numeric(table[lat], errors="coerce").to_numpy(dtype=float)
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
        return frame
    wkt = find_column(columns, WKT_NAMES)
    if wkt:
        text = table[wkt].astype("string")
        geoms = shapely.from_wkt(text.fillna("").to_numpy(dtype=object), on_invalid="ignore")
        frame = gpd.GeoDataFrame(table.drop(columns=[wkt]), geometry=geoms, crs=assume_crs)
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
    if not path.exists():
        raise SourceError(f"{path}: file not found")
    if path.suffix.lower() in EXCEL_SUFFIXES:
        if importlib.util.find_spec("openpyxl") is None:
            raise SourceError(
                f"{path}: reading Excel files needs the openpyxl package (pip install openpyxl); "
                "or save the sheet as CSV"
            )
        try:
            table = pd.read_excel(path, sheet_name=0, dtype=str)
        except Exception as exc:
            raise SourceError(f"{path}: not a readable spreadsheet ({exc})") from exc
        return table.reset_index(drop=True)
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            with open(path, encoding=encoding, newline="") as handle:
                header = handle.readline()
            return pd.read_csv(
                path, sep=_detect_delimiter(header), dtype=str, encoding=encoding
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
        CRS to use when the file declares none (or to override a wrong one), e.g. ``EPSG:32718``.

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
            frame = _frame_from_table(read_table(file), file, assumed)
        elif suffix in PARQUET_SUFFIXES:
            try:
                frame = gpd.read_parquet(file)
            except ValueError:
                frame = _frame_from_table(pd.read_parquet(file), file, assumed)
        else:
            frame = _read_ogr(file, layer)
    except (SourceError, CRSError):
        raise
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise SourceError(f"{file}: cannot read it ({_first_line(exc)})") from exc
    except Exception as exc:
        raise SourceError(
            f"{file}: cannot read it ({type(exc).__name__}: {_first_line(exc)})"
        ) from exc
    if assumed is not None:
        frame = frame.set_crs(assumed, allow_override=True)
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
        check_coordinates_plausible(frame.crs, bounds, str(file), assumed=assumed is not None)
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _read_ogr(file: Path, layer: str | None) -> gpd.GeoDataFrame:
    target = str(file)
    if file.suffix.lower() == ".zip":
        target = f"/vsizip/{file}"
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


def read_layer(
    path: str | os.PathLike[str],
    kind: str,
    mapping: Mapping[str, str] | None = None,
    layer: str | None = None,
    assume_crs: str | CRS | None = None,
    source: str | None = None,
    values: Mapping[str, Mapping[str, str]] | None = None,
) -> Layer:
    """Read, normalise and validate one canonical layer.

    Parameters
    ----------
    path : str or path-like
        File to read (see :func:`read_frame`).
    kind : str
        ``territories``, ``parcels``, ``concessions``, ``incidents`` or ``infrastructure``.
    mapping : mapping of str to str, optional
        ``{canonical column: source column}``, wins over the alias table.
    layer : str, optional
        Layer inside a multi-layer file.
    assume_crs : str or pyproj.CRS, optional
        CRS for a file that declares none.
    source : str, optional
        Read the file with an importer (``acled``, ``kobo``, ``mapeo``...; see
        :mod:`geotools.io.importers`) instead of as a plain GIS layer.
    values : mapping, optional
        ``{canonical column: {source value: canonical value}}`` vocabulary mapping.

    Returns
    -------
    Layer
        Analysis-ready features and the QA ledger.

    Examples
    --------
    >>> from geotools import read_layer
    >>> territories = read_layer("data/raw/territories.geojson", "territories")  # doctest: +SKIP
    >>> territories.ledger.summary()  # doctest: +SKIP
    'territories (territories.geojson): 6 read, 6 valid, 0 repaired, 0 rejected'
    """
    if kind not in LAYERS:
        raise SourceError(f"unknown layer kind {kind!r}; use one of {', '.join(LAYERS)}")
    file, _ = parse_layer_argument(path)
    if source:
        from geotools.io.importers import import_file

        produced, raw = import_file(source, file)
        if produced != kind:
            raise ValidationError(f"{file}: the {source} importer gives {produced}, not {kind}")
        if assume_crs is not None:
            raw = raw.set_crs(assume_crs, allow_override=True)
    else:
        raw = read_frame(path, layer=layer, assume_crs=assume_crs)
    raw = raw.reset_index(drop=True)
    try:
        frame, fields = normalise_schema(raw, kind, mapping, values)
    except ValidationError as exc:
        raise ValidationError(f"{file}: {exc}") from exc
    ledger = Ledger(layer=kind, source=file.name, read=len(frame))
    ledger.notes["crs"] = describe_crs(raw.crs)
    if source:
        ledger.notes["importer"] = raw.attrs.get("geotools_import", {"source": source})
    if "geotools_encoding" in raw.attrs:
        ledger.notes["encoding"] = raw.attrs["geotools_encoding"]
    if assume_crs is not None:
        ledger.notes["crs_assumed"] = str(assume_crs)
    ledger.notes["fields"] = {
        "renamed": fields.renamed,
        "defaulted": {k: str(v) for k, v in fields.defaulted.items()},
        "recoded": fields.recoded,
        "unknown_values": fields.unknown_values,
    }
    for row, problem, action in raw.attrs.get(READ_REPAIRS, []):
        fid = frame[LAYERS[kind].id_column].iloc[row] if LAYERS[kind].id_column else f"#{row}"
        ledger.flag(np.array([row]), np.array([fid]), problem, action)
    clean = validate_layer(frame, kind, ledger)
    log.debug("%s", ledger.summary())
    return Layer(kind=kind, frame=clean, ledger=ledger, path=file, sha256=compute_sha256(file))


# --------------------------------------------------------------------------------------------
# Writing outputs: nothing lost, nothing half-done
# --------------------------------------------------------------------------------------------
#
# Every output folder geotools creates holds a marker, MARKER, listing the files it wrote there.
# ``--overwrite`` replaces a folder's outputs only when every file in it is listed (files of
# other people are never deleted: the run is refused instead). New outputs are written into a
# staging folder beside the target and swapped in with renames (old aside, new in, old deleted),
# so a killed run leaves the old or the new output, complete, and no stale file survives. The
# temporary names carry host and process id, so that the next run removes those of killed runs
# (or puts a set-aside output back). An exclusive lock beside the target keeps two runs apart.

#: Marker file geotools writes into each output folder: the files it wrote there.
MARKER = ".geotools.json"
#: Files that are never anybody's data (VCS placeholders, desktop metadata): not "foreign".
IGNORABLE_FILES = frozenset({".gitkeep", ".DS_Store", "Thumbs.db", "desktop.ini"})
LOCK_SUFFIX = ".geotools-lock"
#: This host, as written into staging and lock names (letters, digits and _ only).
HOST_TAG = re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname())[:40] or "host"
_TEMP_NAME = re.compile(
    r"^\.(?P<name>.+?)\.geotools-(?P<kind>stage|old|part)-(?P<host>[A-Za-z0-9_]+)-"
    r"(?P<pid>\d+)-[0-9a-f]+"
)
#: errno values that mean "this place cannot be written" (reported as one-line OutputError).
WRITE_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("EACCES", "EPERM", "EROFS", "ENOSPC", "EDQUOT", "EFBIG", "EXDEV", "EBUSY")
    if hasattr(errno, name)
)
_WRITE_FIXES = {
    errno.EROFS: "the file system is read-only; choose a writable --out",
    errno.ENOSPC: "the disk is full; free some space or choose another --out",
    errno.EACCES: "permission denied; choose a folder you may write to",
    errno.EPERM: "operation not permitted; choose a folder you may write to",
}
_HELD_LOCKS: dict[str, list[int]] = {}
_ACTIVE_STAGES: set[str] = set()


def output_error(path: str | os.PathLike[str], exc: OSError) -> OutputError:
    """Turn an ``OSError`` met while writing ``path`` into a one-line :class:`OutputError`."""
    if isinstance(exc, OutputError):
        return exc
    code = exc.errno or 0
    fix = _WRITE_FIXES.get(code) or (
        f"{exc.strerror or _first_line(exc)}; check the folder or choose another --out"
    )
    name = errno.errorcode.get(code, "error")
    error = OutputError(f"{path}: cannot write it ({name}): {fix}")
    error.errno = exc.errno
    return error


@contextlib.contextmanager
def _write_errors(path: Path) -> Iterator[None]:
    """Re-raise write failures (read-only or full disk...) as one-line OutputErrors."""
    try:
        yield
    except GeotoolsError:
        raise
    except OSError as exc:
        if exc.errno in WRITE_ERRNOS:
            raise output_error(path, exc) from exc
        raise


def _temp_path(target: Path, kind: str) -> Path:
    """A hidden name beside ``target`` saying what it is, for which host and process."""
    tag = f"{HOST_TAG}-{os.getpid()}-{secrets.token_hex(4)}"
    return target.parent / f".{target.name}.geotools-{kind}-{tag}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def clean_stale_temporaries(target: str | os.PathLike[str]) -> list[Path]:
    """Remove what killed geotools runs left beside ``target`` (staging folders, parts).

    A staging name carries the host and process id of its run. When that process is gone the
    leftover is removed; an output that run had set aside (killed between the two renames of a
    swap) is put back when ``target`` is missing.

    Parameters
    ----------
    target : str or path-like
        An output file or folder.

    Returns
    -------
    list of pathlib.Path
        The leftovers removed or restored.

    Raises
    ------
    OutputError
        A leftover belongs to a process that is still alive (or to another host): it is named,
        and nothing is removed.
    """
    target = Path(target)
    parent = target.parent
    if not parent.is_dir():
        return []
    cleaned = []
    for entry in sorted(parent.iterdir()):
        match = _TEMP_NAME.match(entry.name)
        if match is None or match["name"] != target.name:
            continue
        host, pid = match["host"], int(match["pid"])
        if host == HOST_TAG and pid == os.getpid():
            continue  # this process's own, in progress
        if host != HOST_TAG or _pid_alive(pid):
            raise OutputError(
                f"{entry}: left by geotools run {pid} on {host}, which may still be running; "
                "wait for it, or remove that folder yourself if no geotools is running"
            )
        if match["kind"] == "old" and not target.exists() and not target.is_symlink():
            os.replace(entry, target)
            log.warning("%s: put back the output a killed run had set aside (%s)", target, entry)
        else:
            _remove(entry)
            log.warning("%s: removed %s, left by a killed geotools run", target, entry.name)
        cleaned.append(entry)
    return cleaned


def lock_path(target: str | os.PathLike[str]) -> Path:
    """The lock file of an output: ``.NAME.geotools-lock`` beside it."""
    target = Path(target)
    return target.parent / f".{target.name}{LOCK_SUFFIX}"


def _describe_holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "unknown process"
    except OSError:
        return "unknown process"


@contextlib.contextmanager
def output_lock(target: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the exclusive lock of an output for the duration (re-entrant in one process).

    The lock is ``fcntl.flock`` on :func:`lock_path` (released by the kernel if the process
    dies); the file is removed on release.

    Raises
    ------
    OutputLockedError
        Another process holds the lock (a concurrent run on the same ``--out``).
    OutputError
        The lock file cannot be created (read-only or full disk...).
    """
    target = Path(os.path.abspath(target))
    key = str(target)
    if key in _HELD_LOCKS:
        _HELD_LOCKS[key][1] += 1
        try:
            yield
        finally:
            _HELD_LOCKS[key][1] -= 1
        return
    path = lock_path(target)
    with _write_errors(path):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = _acquire_lock(path, target)
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"pid {os.getpid()} on {HOST_TAG}\n".encode())
        except OSError:
            path.unlink(missing_ok=True)
            os.close(fd)
            raise
    _HELD_LOCKS[key] = [fd, 1]
    try:
        yield
    finally:
        del _HELD_LOCKS[key]
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)


def _locked_error(path: Path, target: Path) -> OutputLockedError:
    return OutputLockedError(
        f"{target}: another geotools run ({_describe_holder(path)}) is writing it; wait for it "
        "to finish or choose another --out"
    )


def _acquire_lock(path: Path, target: Path) -> int:
    """Open and lock ``path``; return its descriptor (see :func:`output_lock`)."""
    if fcntl is None:  # pragma: no cover - Windows: exclusive creation, stale if holder gone
        for _ in range(2):
            try:
                return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = re.match(r"pid (\d+) on (\S+)", _describe_holder(path))
                if holder and holder[2] == HOST_TAG and not _pid_alive(int(holder[1])):
                    path.unlink(missing_ok=True)
                    continue
                raise _locked_error(path, target) from None
        raise _locked_error(path, target)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _locked_error(path, target) from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the holder removed the file between our open and lock: try again


def refuse_symlink(target: str | os.PathLike[str]) -> None:
    """Raise :class:`OutputError` when an output path is a symbolic link.

    Replacing a link by renames would replace the link and leave what it points to (an old
    bundle, say) unchanged while reporting success; writing through it would replace a folder
    elsewhere. Neither is what the user asked, so geotools refuses.
    """
    target = Path(target)
    if target.is_symlink():
        raise OutputError(
            f"{target}: is a symbolic link (to {os.readlink(target)}); geotools does not write "
            "through links: give the real path as --out, or remove the link"
        )


def read_marker(folder: str | os.PathLike[str]) -> dict[str, str] | None:
    """Return ``{relative path: group}`` of the files geotools wrote in ``folder``, or None."""
    path = Path(folder) / MARKER
    if not path.is_file() or path.is_symlink():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(files, dict):
        return None
    return {str(k): str(v) for k, v in files.items()}


def _is_bookkeeping(name: str) -> bool:
    return name == MARKER or name.endswith(LOCK_SUFFIX) or bool(_TEMP_NAME.match(name))


def find_foreign_files(folder: str | os.PathLike[str], limit: int = 5) -> list[str]:
    """Relative paths of files in ``folder`` that geotools did not write (not in its marker).

    Subfolders with their own marker (a bundle inside a run folder) are judged by it. Symbolic
    links are always foreign; :data:`IGNORABLE_FILES` never are.

    Parameters
    ----------
    folder : str or path-like
        An existing folder.
    limit : int, default 5
        Stop after this many.

    Returns
    -------
    list of str
        Up to ``limit`` foreign paths, in sorted order (empty: geotools owns everything).
    """
    found: list[str] = []

    def walk(directory: Path, listed: set[str], prefix: str, shown: str) -> None:
        for entry in sorted(directory.iterdir()):
            if len(found) >= limit:
                return
            rel, where = f"{prefix}{entry.name}", f"{shown}{entry.name}"
            if entry.name in IGNORABLE_FILES or _is_bookkeeping(entry.name):
                continue
            if entry.is_symlink():
                found.append(where)
            elif entry.is_dir():
                own = read_marker(entry)
                if own is not None:
                    walk(entry, set(own), "", f"{where}/")
                else:
                    walk(entry, listed, f"{rel}/", f"{where}/")
            elif rel not in listed:
                found.append(where)

    walk(Path(folder), set(read_marker(folder) or {}), "", "")
    return found


def check_replaceable(folder: str | os.PathLike[str]) -> None:
    """Raise :class:`ForeignFilesError` unless ``--overwrite`` may replace ``folder``.

    A folder may be replaced when it is missing, empty, or holds only files geotools wrote
    (listed in its :data:`MARKER`).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return
    foreign = find_foreign_files(folder, limit=1)
    if foreign:
        raise ForeignFilesError(
            f"{folder}: holds {foreign[0]}, which geotools did not write; --overwrite only "
            f"replaces folders geotools wrote (listed in {MARKER}): choose another --out, or "
            "move that file away yourself"
        )


def _marker_bytes(files: Mapping[str, str]) -> bytes:
    from geotools._version import __version__

    data = {
        "about": "Files geotools wrote in this folder. --overwrite replaces the folder only when "
        "every file in it is listed here; do not edit.",
        "files": dict(sorted(files.items())),
        "geotools": __version__,
    }
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _list_files(folder: Path) -> list[str]:
    """Relative paths of the files under ``folder`` (not in sub-folders with their own marker)."""
    files: list[str] = []
    for root, dirs, names in os.walk(folder):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not (here / d / MARKER).is_file())
        rel = here.relative_to(folder)
        files.extend(
            (rel / n).as_posix() for n in sorted(names) if not (rel == Path(".") and n == MARKER)
        )
    return sorted(files)


def write_marker(folder: str | os.PathLike[str], files: Mapping[str, str]) -> Path:
    """Write ``folder``'s :data:`MARKER` listing ``files`` (``{relative path: writer}``).

    The writer (``stats``, ``publish``...) of each file is recorded so that a later run of the
    same writer replaces exactly its own files: none of them goes stale. The file is rewritten
    only when its content changes.
    """
    path = Path(folder) / MARKER
    content = _marker_bytes(files)
    if not (path.is_file() and path.read_bytes() == content):
        path.write_bytes(content)
    return path


def mark_output_folder(
    folder: str | os.PathLike[str], group: str, extra: Sequence[str] = ()
) -> Path:
    """List every file now in ``folder`` (plus ``extra``, about to be written) in its marker.

    For a staging folder whose marker must exist before its checksums are computed (a bundle):
    ``mark_output_folder(stage, "publish", extra=["SHA256SUMS"])``.
    """
    return write_marker(folder, {name: group for name in [*_list_files(Path(folder)), *extra]})


def _record_in_marker(target: Path, group: str = "file") -> None:
    """Add a single file to its folder's marker, when the folder is a geotools output folder."""
    listed = read_marker(target.parent)
    if listed is None or listed.get(target.name) is not None:
        return
    listed[target.name] = group
    tmp = _temp_path(target.parent / MARKER, "part")
    try:
        tmp.write_bytes(_marker_bytes(listed))
        os.replace(tmp, target.parent / MARKER)
    finally:
        _remove(tmp)


def _in_active_stage(target: Path) -> bool:
    path = os.path.abspath(target)
    return any(path.startswith(stage + os.sep) for stage in _ACTIVE_STAGES)


@contextlib.contextmanager
def atomic_path(target: Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    Outside a staging folder the target is locked (:func:`output_lock`), leftovers of killed
    runs are cleaned (:func:`clean_stale_temporaries`), a symbolic link is refused and the file
    is listed in its folder's marker when the folder is a geotools output folder.

    Parameters
    ----------
    target : pathlib.Path
        Final file name.
    overwrite : bool, default False
        Replace an existing ``target``; otherwise :class:`OutputExistsError`.

    Raises
    ------
    OutputExistsError
        ``target`` exists (and ``overwrite`` is False) or is a folder.
    OutputError
        ``target`` is a symbolic link, locked by another run, or cannot be written.
    """
    target = Path(target)
    staged = _in_active_stage(target)
    if not staged:
        refuse_symlink(target)
    with contextlib.ExitStack() as stack:
        if not staged:
            stack.enter_context(output_lock(target))
            with _write_errors(target):
                clean_stale_temporaries(target)
        if target.is_dir():
            raise OutputExistsError(f"{target}: is a folder; choose a file name for --out")
        if target.exists() and not overwrite:
            raise OutputExistsError(f"{target}: already exists; pass --overwrite to replace it")
        tmp = _temp_path(target, "part")
        tmp = tmp.with_name(tmp.name + target.suffix)
        try:
            with _write_errors(target):
                target.parent.mkdir(parents=True, exist_ok=True)
                yield tmp
                if not staged:
                    _record_in_marker(target)
                os.replace(tmp, target)
        finally:
            _remove(tmp)


def write_json(data: Any, target: Path, overwrite: bool = False) -> Path:
    """Write ``data`` as pretty, key-sorted UTF-8 JSON, atomically."""
    with atomic_path(target, overwrite) as tmp:
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
    """Return ``table`` with text cells that a spreadsheet would run as a formula made inert.

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


def write_csv(table: pd.DataFrame, target: Path, overwrite: bool = False) -> Path:
    """Write a table as UTF-8 CSV with deterministic number formatting, atomically.

    This is the one CSV writer of geotools: text cells that a spreadsheet would run as a formula
    are neutralised first (:func:`neutralise_formulas`).
    """
    safe = neutralise_formulas(table)
    with atomic_path(target, overwrite) as tmp:
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
    layers: Mapping[str, gpd.GeoDataFrame], target: Path, overwrite: bool = False
) -> Path:
    """Write several layers into one GeoPackage, atomically (all layers or none).

    The file is byte-identical for identical layers: GDAL's ``OGR_CURRENT_DATE`` is pinned to
    :data:`GPKG_TIMESTAMP` (or ``SOURCE_DATE_EPOCH``) while writing, so the
    ``gpkg_contents.last_change`` column carries no wall-clock time.
    """
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _gpkg_timestamp()})
    try:
        with atomic_path(target, overwrite) as tmp:
            for name, frame in layers.items():
                try:
                    pyogrio.write_dataframe(
                        frame, tmp, layer=name, driver="GPKG", append=tmp.exists()
                    )
                except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
                    raise OutputError(
                        f"{target}: cannot write the GeoPackage ({_first_line(exc)}); check "
                        "that the folder is writable and the disk not full"
                    ) from exc
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    return target


def check_outputs_free(out_dir: Path, names: list[str], overwrite: bool = False) -> None:
    """Raise :class:`OutputExistsError` if any of ``names`` exists in ``out_dir`` (unless
    ``overwrite``); :class:`OutputError` if one of them is a symbolic link."""
    for name in names:
        refuse_symlink(Path(out_dir) / name)
    existing = [name for name in names if (Path(out_dir) / name).exists()]
    if existing and not overwrite:
        raise OutputExistsError(
            f"{out_dir}: {', '.join(existing[:5])} already exist(s); pass --overwrite to replace"
        )


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link (else copy) a file or folder tree, for keeping outputs across a swap."""
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, target, symlinks=True, copy_function=_link_or_copy)
    else:
        _link_or_copy(str(source), str(target))


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _has_content(folder: Path) -> bool:
    return any(
        not (e.name in IGNORABLE_FILES or _is_bookkeeping(e.name)) for e in folder.iterdir()
    )


@contextlib.contextmanager
def staged_outputs(
    out_dir: Path,
    names: list[str],
    overwrite: bool = False,
    group: str = "outputs",
    whole: bool = False,
) -> Iterator[Path]:
    """Yield a staging folder beside ``out_dir``; on success swap it in, else delete it.

    Parameters
    ----------
    out_dir : pathlib.Path
        Final folder (created if needed).
    names : list of str
        Files or folders (relative to ``out_dir``) the step will write; checked up front so that a
        run never starts when it would have to overwrite without ``overwrite``.
    overwrite : bool, default False
        Allow replacing existing outputs; only in a folder geotools owns (see
        :func:`check_replaceable`).
    group : str, default "outputs"
        Name of the writer (``stats``...). Files an earlier run of the same writer listed in the
        marker are replaced as a set: none survives stale. Other geotools outputs in the folder
        (a bundle, a risk surface) are kept.
    whole : bool, default False
        The folder is one output (a bundle): an existing, non-empty folder counts as existing
        output, and nothing of it is kept.

    Raises
    ------
    OutputExistsError
        When an output exists and ``overwrite`` is False (nothing is written).
    ForeignFilesError
        With ``overwrite``, the folder holds files geotools did not write (nothing is touched).
    OutputError
        ``out_dir`` is a symbolic link, locked by another run, or cannot be written.

    Notes
    -----
    A new or geotools-owned folder is replaced by renames: the old one set aside, the new one
    renamed in, the old one deleted; a killed run leaves the old or the new output complete,
    and the next run cleans up (or puts the set-aside folder back). Into an existing folder
    geotools does not own (written there without ``overwrite``, no name clashing) the files are
    moved one by one and no marker is written.
    """
    out = Path(out_dir)
    refuse_symlink(out)
    with output_lock(out), _write_errors(out):
        clean_stale_temporaries(out)
        if out.exists() and not out.is_dir():
            raise OutputExistsError(f"{out}: exists and is not a folder; choose another --out")
        busy = out.is_dir() and _has_content(out)
        if whole:
            if busy and not overwrite:
                raise OutputExistsError(f"{out}: already exists; pass --overwrite to replace it")
        else:
            check_outputs_free(out, names, overwrite)
        if busy and overwrite:
            check_replaceable(out)
        owned = not busy or (read_marker(out) is not None and not find_foreign_files(out, 1))
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = _temp_path(out, "stage")
        stage.mkdir()
        if out.is_dir():
            shutil.copymode(out, stage)
        _ACTIVE_STAGES.add(os.path.abspath(stage))
        try:
            try:
                yield stage
            except OutputError as exc:  # name the user's path, not the hidden staging one
                if str(stage) not in str(exc):
                    raise
                named = OutputError(str(exc).replace(str(stage), str(out)))
                named.errno = exc.errno
                raise named from exc
            if not out.exists():
                mark_output_folder(stage, group)
                os.rename(stage, out)
            elif owned:
                _swap_in(stage, out, names, group, whole)
            else:
                _move_in(stage, out, group)
        finally:
            _ACTIVE_STAGES.discard(os.path.abspath(stage))
            _remove(stage)


def _swap_in(stage: Path, out: Path, names: list[str], group: str, whole: bool) -> None:
    """Keep other writers' outputs, drop this writer's old ones, then swap ``stage`` in."""
    old_marker = read_marker(out) or {}
    files = {name: group for name in _list_files(stage)}
    if not whole:
        for entry in sorted(out.iterdir()):
            if _is_bookkeeping(entry.name) or entry.name in names:
                continue
            if (stage / entry.name).exists() or old_marker.get(entry.name) == group:
                continue
            _link_tree(entry, stage / entry.name)
            for rel, owner in old_marker.items():
                if rel == entry.name or rel.startswith(f"{entry.name}/"):
                    if owner == group:
                        _remove(stage / rel)  # this writer's own file, not written again
                    else:
                        files[rel] = owner
    write_marker(stage, files)
    aside = _temp_path(out, "old")
    os.rename(out, aside)
    try:
        os.rename(stage, out)
    except OSError:
        os.rename(aside, out)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _move_in(stage: Path, out: Path, group: str) -> None:
    """Move staged files one by one into a folder holding other people's files.

    Nothing there clashes (checked before); when the folder has a marker the new files are
    added to it first, so that a killed move leaves no unlisted geotools file behind.
    """
    listed = read_marker(out)
    new = _list_files(stage)
    if listed is not None:
        write_marker(out, {**listed, **{name: group for name in new}})
    for name in new:
        final = out / name
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / name, final)
