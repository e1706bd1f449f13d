"""Canonical layers: read, normalised to the schema and validated, with their QA ledger.

``file -> GeoDataFrame -> canonical schema -> QA ledger``: :func:`read_layer` gives a layer the
analyses can trust plus the :class:`~geotools.validation.Ledger` saying what happened to every
feature; :func:`read_inputs` reads the set of layers a run takes.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS

from geotools.area import DEFAULT_EDGES, EDGE_READINGS, read_edges
from geotools.crs import describe_crs
from geotools.errors import SourceError, ValidationError
from geotools.export import compute_sha256
from geotools.gdalpath import gdal_path
from geotools.io.importers import IMPORT_ATTR, import_file
from geotools.io.readers import (
    CRS_ASSUMPTION,
    READ_REPAIRS,
    XY_COLUMNS,
    apply_assumed_crs,
    parse_layer_argument,
    read_frame,
)
from geotools.io.swapped import check_swapped_layer, check_swapped_layers
from geotools.schema import LAYERS, check_field_names, normalise_schema
from geotools.validation import Ledger, flag_far_outside, group_parts, validate_layer

log = logging.getLogger(__name__)

LAYER_KINDS = (
    "territories",
    "parcels",
    "concessions",
    "incidents",
    "infrastructure",
    "communities",
)


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
        The file read (the first one when the layer was read from several).
    sha256 : str
        Checksum of ``path``, for provenance.
    files : tuple of (pathlib.Path, str)
        Every file read and its checksum, in the order read (one entry for a single file).
    weight : str or None
        Numeric column to pro-rate by overlap share (concessions; ``read_layer``'s ``weight``).
    """

    kind: str
    frame: gpd.GeoDataFrame
    ledger: Ledger
    path: Path
    sha256: str
    files: tuple[tuple[Path, str], ...] = ()
    weight: str | None = None

    def __post_init__(self) -> None:
        if not self.files:
            self.files = ((self.path, self.sha256),)


#: Column naming the file each feature came from, when a layer is read from several files.
SOURCE_FILE_COLUMN = "source_file"
#: Keys of a field mapping that name a table's coordinate columns, not canonical columns.
XY_KEYS = ("lon", "lat")

LayerPaths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


def _as_paths(path: LayerPaths) -> list[str | os.PathLike[str]]:
    if isinstance(path, (str, os.PathLike)):
        return [path]
    paths = list(path)
    if not paths:
        raise SourceError("no file given for the layer")
    return paths


def _split_xy(
    kind: str, mapping: Mapping[str, str] | None
) -> tuple[dict[str, str], tuple[str, str] | None]:
    """Take the ``lon``/``lat`` coordinate columns out of a field mapping."""
    columns = dict(mapping or {})
    lon, lat = columns.pop("lon", None), columns.pop("lat", None)
    if (lon is None) != (lat is None):
        given, other = ("lon", "lat") if lon is not None else ("lat", "lon")
        raise ValidationError(
            f"{kind}: the field mapping names {given} but not {other}; map both, e.g. "
            f"--map {kind}.lon=LONGITUDE_COLUMN --map {kind}.lat=LATITUDE_COLUMN"
        )
    return columns, (str(lon), str(lat)) if lon is not None else None


def _read_raw(
    path: str | os.PathLike[str],
    kind: str,
    layer: str | None,
    assume_crs: str | CRS | None,
    source: str | None,
    xy_columns: tuple[str, str] | None,
) -> tuple[Path, gpd.GeoDataFrame]:
    """Read one file as it is (a GIS layer, a table or an importer's export)."""
    file, _ = parse_layer_argument(path)
    if source:
        if xy_columns is not None:
            raise ValidationError(
                f"{file}: the {source} importer finds the coordinates itself; drop the lon/lat "
                "mapping"
            )
        produced, raw = import_file(source, file)
        if produced != kind:
            raise ValidationError(f"{file}: the {source} importer gives {produced}, not {kind}")
        if assume_crs is not None:
            raw = apply_assumed_crs(raw, CRS.from_user_input(assume_crs), file)
    else:
        raw = read_frame(path, layer=layer, assume_crs=assume_crs, xy_columns=xy_columns)
        stored = _stored_import(file, layer or parse_layer_argument(path)[1])
        if stored is not None:
            raw.attrs[IMPORT_ATTR] = stored
    return file, raw.reset_index(drop=True)


def _combine(files: list[Path], raws: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Stack the frames of several files into one, in the first file's CRS, keeping read repairs."""
    crs = raws[0].crs
    repairs: list[tuple[int, str, str]] = []
    offset = 0
    parts = []
    for raw in raws:
        part = raw.to_crs(crs) if raw.crs != crs else raw
        parts.append(part)
        repairs += [(row + offset, p, a) for row, p, a in raw.attrs.get(READ_REPAIRS, [])]
        offset += len(raw)
    combined = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=crs)
    combined.attrs = {READ_REPAIRS: repairs}
    return combined


def _make_ids_unique(
    frame: gpd.GeoDataFrame, kind: str, origin: np.ndarray, files: list[Path], ledger: Ledger
) -> None:
    """Rename ids a later file shares with an earlier one ``ID@FILESTEM``, in the ledger."""
    id_col = LAYERS[kind].id_column
    if not id_col or len(files) < 2:
        return
    ids = frame[id_col].astype(str)
    first = pd.Series(origin).groupby(ids.to_numpy()).transform("min").to_numpy()
    clash = origin > first
    if not clash.any():
        return
    stems = np.array([f.stem for f in files], dtype=object)
    old = ids.to_numpy(dtype=object)
    new = old.copy()
    new[clash] = [f"{i}@{s}" for i, s in zip(old[clash], stems[origin[clash]], strict=True)]
    frame[id_col] = new
    for file_index in np.unique(origin[clash]):
        rows = np.flatnonzero(clash & (origin == file_index))
        ledger.flag(
            rows,
            new[rows],
            f"{id_col} also used in an earlier file",
            f"repaired: renamed ID@{files[file_index].stem} (was the same id in "
            f"{files[int(first[rows[0]])].name})",
        )
    ledger.notes["ids_renamed"] = int(clash.sum())
    log.warning(
        "%s: %d %s value(s) shared by several files renamed ID@FILE; see the QA report",
        kind,
        int(clash.sum()),
        id_col,
    )


def read_layer(
    path: LayerPaths,
    kind: str,
    mapping: Mapping[str, str] | None = None,
    layer: str | None = None,
    assume_crs: str | CRS | None = None,
    source: str | None = None,
    values: Mapping[str, Mapping[str, str]] | None = None,
    defaults: Mapping[str, object] | None = None,
    group_by: str | None = None,
    weight: str | None = None,
    edges: str = DEFAULT_EDGES,
) -> Layer:
    """Read, normalise and validate one canonical layer, from one file or several.

    Parameters
    ----------
    path : str or path-like, or a sequence of them
        File to read (see :func:`read_frame`). Several files (the quarters of a detection
        series, say) are read into one layer: each feature keeps its file in a ``source_file``
        column, and an id a later file shares with an earlier one becomes ``ID@FILESTEM``
        (listed in the ledger as a repair).
    kind : str
        ``territories``, ``parcels``, ``concessions``, ``incidents`` or ``infrastructure``.
    mapping : mapping of str to str, optional
        ``{canonical column: source column}``, wins over the alias table. ``lon`` and ``lat``
        name a table's coordinate columns. An unknown canonical column is refused.
    layer : str, optional
        Layer inside a multi-layer file.
    assume_crs : str or pyproj.CRS, optional
        CRS for a file that declares none (a declared CRS that fits the coordinates is kept;
        see :func:`geotools.io.readers.apply_assumed_crs`).
    source : str, optional
        Read the file with an importer (``acled``, ``kobo``, ``mapeo``...; see
        :mod:`geotools.io.importers`) instead of as a plain GIS layer.
    values : mapping, optional
        ``{canonical column: {source value: canonical value}}`` value mapping; wins over the
        built-in aliases and vocabulary.
    defaults : mapping of str to object, optional
        ``{canonical column: value}`` for the whole layer (e.g. ``{"kind": "mining"}``): fills
        the column when absent and its empty cells.
    group_by : str, optional
        Territories only: merge the features sharing a value of this column (canonical or
        source name, e.g. ``name`` or ``nom_comuni``) into one territory, the parts' union
        (:func:`~geotools.validation.group_parts`).
    weight : str, optional
        Concessions only: a numeric column (e.g. a detection's ``Mined area (ha)``) to pro-rate
        by each concession's share inside each territory (``prorated_<column>`` in the tables).
    edges : {"geodesic", "lonlat"}, default "geodesic"
        How edges between vertices are read, for areas, overlaps and point-in-polygon alike
        (:func:`geotools.area.read_edges`; docs/area.md, "Long edges").

    Returns
    -------
    Layer
        Analysis-ready features and the QA ledger.

    Raises
    ------
    ValidationError
        A mapping or default names an unknown column, a required column is missing, or the
        whole layer has latitude and longitude swapped (the message says how to fix it).

    Examples
    --------
    >>> from geotools import read_layer
    >>> territories = read_layer("data/raw/territories.geojson", "territories")  # doctest: +SKIP
    >>> territories.ledger.summary()  # doctest: +SKIP
    'territories (territories.geojson): 6 read, 6 valid, 0 repaired, 0 rejected'
    """
    if kind not in LAYERS:
        raise SourceError(f"unknown layer kind {kind!r}; use one of {', '.join(LAYERS)}")
    if edges not in EDGE_READINGS:
        raise ValidationError(f"{path}: edges {edges!r}; use one of {', '.join(EDGE_READINGS)}")
    columns, xy_columns = _split_xy(kind, mapping)
    check_field_names(kind, columns, "field mapping")
    read = [_read_raw(p, kind, layer, assume_crs, source, xy_columns) for p in _as_paths(path)]
    files = [file for file, _ in read]
    raws = [raw for _, raw in read]
    raw = raws[0] if len(raws) == 1 else _combine(files, raws)
    origin = np.repeat(np.arange(len(raws)), [len(r) for r in raws])
    names = ", ".join(f.name for f in files)
    if not source and IMPORT_ATTR in raws[0].attrs:
        source = str(raws[0].attrs[IMPORT_ATTR]["source"])
    try:
        frame, fields = normalise_schema(raw, kind, columns, values, defaults)
    except ValidationError as exc:
        raise ValidationError(f"{names}: {exc}") from exc
    table_xy = raws[0].attrs.get(XY_COLUMNS)
    check_swapped_layer(frame, kind, files, table_xy)
    ledger = Ledger(layer=kind, source=" + ".join(f.name for f in files), read=len(frame))
    ledger.notes["crs"] = describe_crs(raw.crs)
    if len(files) > 1:
        frame[SOURCE_FILE_COLUMN] = np.array([f.name for f in files], dtype=object)[origin]
        ledger.notes["files"] = {f.name: int(n) for f, n in zip(files, map(len, raws), strict=True)}
        ledger.notes["crs_by_file"] = {f.name: describe_crs(r.crs) for f, r in read}
    if table_xy is not None:
        ledger.notes["coordinates"] = {"lon": table_xy[0], "lat": table_xy[1]}
    if source:
        ledger.notes["importer"] = raws[0].attrs.get("geotools_import", {"source": source})
    encodings = {
        f.name: r.attrs["geotools_encoding"] for f, r in read if "geotools_encoding" in r.attrs
    }
    if encodings:
        ledger.notes["encoding"] = (
            next(iter(encodings.values())) if len(files) == 1 else encodings
        )
    if assume_crs is not None:
        ledger.notes["crs_assumed"] = str(assume_crs)
        outcome = {f.name: r.attrs.get(CRS_ASSUMPTION, "applied") for f, r in read}
        ledger.notes["crs_assumption"] = (
            next(iter(outcome.values())) if len(files) == 1 else outcome
        )
    ledger.notes["fields"] = {
        "renamed": fields.renamed,
        "defaulted": {k: str(v) for k, v in fields.defaulted.items()},
        "recoded": fields.recoded,
        "unknown_values": fields.unknown_values,
    }
    for row, problem, action in raw.attrs.get(READ_REPAIRS, []):
        fid = frame[LAYERS[kind].id_column].iloc[row] if LAYERS[kind].id_column else f"#{row}"
        ledger.flag(np.array([row]), np.array([fid]), problem, action)
    _make_ids_unique(frame, kind, origin, files, ledger)
    clean = validate_layer(frame, kind, ledger)
    if group_by:
        if kind != "territories":
            raise SourceError(f"grouping parts applies to territories, not {kind}")
        column = _column(clean, fields.renamed, group_by, files[0], "to group territories by")
        clean = group_parts(clean, column, ledger, LAYERS[kind].id_column or "territory_id")
        ledger.notes["grouped_by"] = column
    weight_column = None
    if weight:
        if kind != "concessions":
            raise SourceError(f"a weight column applies to concessions, not {kind}")
        weight_column = _column(clean, fields.renamed, weight, files[0], "to pro-rate")
        given = clean[weight_column]
        numbers = pd.to_numeric(
            given.astype("string").str.replace(",", ".", regex=False), errors="coerce"
        )
        bad = given.notna() & numbers.isna()
        if bad.any():
            raise SourceError(
                f"{names}: column {weight_column!r} is not numeric ({given[bad].iloc[0]!r}); "
                "choose a column of numbers to pro-rate"
            )
        clean[weight_column] = numbers.astype(float)
        ledger.notes["weight"] = weight_column
    if edges != DEFAULT_EDGES:
        clean = clean.copy()
        clean[clean.geometry.name] = gpd.GeoSeries(
            read_edges(clean.geometry, edges), index=clean.index, crs=clean.crs
        )
        ledger.notes["edges"] = edges
    log.debug("%s", ledger.summary())
    checksums = tuple((f, compute_sha256(f)) for f in files)
    return Layer(
        kind=kind,
        frame=clean,
        ledger=ledger,
        path=files[0],
        sha256=checksums[0][1],
        files=checksums,
        weight=weight_column,
    )


def check_swapped_inputs(layers: Mapping[str, Layer]) -> None:
    """Refuse a layer of a run whose coordinates are swapped compared with the other layers.

    See :mod:`geotools.io.swapped`; the message names the fix.

    Parameters
    ----------
    layers : mapping of str to Layer
        The run's layers, by kind.

    Raises
    ------
    ValidationError
        A whole layer has longitude and latitude the wrong way round.
    """
    check_swapped_layers(
        {
            kind: (
                layer.frame,
                [f for f, _ in layer.files],
                _xy_note(layer.ledger.notes.get("coordinates")),
            )
            for kind, layer in layers.items()
        }
    )


def _xy_note(note: object) -> tuple[str, str] | None:
    if isinstance(note, dict):
        return str(note["lon"]), str(note["lat"])
    return None


def _column(
    frame: gpd.GeoDataFrame, renamed: Mapping[str, str], name: str, file: Path, purpose: str
) -> str:
    """The column of ``frame`` a user named, by its source or canonical name (one-line error)."""
    column = renamed.get(name, name)
    if column not in frame.columns:
        names = sorted({*renamed, *frame.columns} - {frame.geometry.name})
        raise SourceError(f"{file}: no column {name!r} {purpose}; use one of " + ", ".join(names))
    return column


def import_metadata(layer: Layer) -> dict[str, str]:
    """GeoPackage layer metadata carrying an imported layer's notes and licence.

    ``geotools import`` stores it with the layer it writes, so that the licence (e.g. the
    monitors' "ask before republishing record-level data") and the importer's name (ACLED's
    records are never redistributed) follow the file into ``map``, ``publish`` and ``run``.

    Parameters
    ----------
    layer : Layer
        A layer read with an importer (``read_layer(..., source=...)``).

    Returns
    -------
    dict of str to str
        ``{IMPORT_ATTR: JSON text}``, or an empty dict for a layer read without an importer.
    """
    notes = layer.ledger.notes.get("importer")
    if not notes:
        return {}
    return {IMPORT_ATTR: json.dumps(notes, ensure_ascii=False, sort_keys=True, default=str)}


def _stored_import(file: Path, layer: str | None) -> dict | None:
    """The import notes :func:`import_metadata` stored in a GeoPackage layer, if any."""
    if file.suffix.lower() != ".gpkg":
        return None
    try:
        with gdal_path(file) as target:
            meta = pyogrio.read_info(target, layer=layer).get("layer_metadata") or {}
        notes = json.loads(meta[IMPORT_ATTR]) if IMPORT_ATTR in meta else None
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, SourceError):
        return None
    return notes if isinstance(notes, dict) and notes.get("source") else None


def read_inputs(
    paths: Mapping[str, LayerPaths | None],
    assume_crs: str | Mapping[str, str] | None = None,
    mappings: Mapping[str, Mapping[str, str]] | None = None,
    defaults: Mapping[str, Mapping[str, object]] | None = None,
    group_territories: str | None = None,
    weights: Mapping[str, str] | None = None,
    edges: str = DEFAULT_EDGES,
) -> dict[str, Layer]:
    """Read and validate every layer given.

    Parameters
    ----------
    paths : mapping of str to path, sequence of paths, or None
        Layer kind -> file, or several files read into one layer (``None`` or empty for absent
        optional layers). ``territories`` or ``communities`` is required (see
        :func:`check_study_layers`): without ``parcels`` tenure is unknown.
    assume_crs : str or mapping of str to str, optional
        CRS for files that declare none: one for every layer, or per layer kind.
    mappings : mapping, optional
        Layer kind -> ``{canonical column: source column}`` (``lon``/``lat`` for a table's
        coordinate columns).
    defaults : mapping, optional
        Layer kind -> ``{canonical column: value}`` for the whole layer.
    group_territories : str, optional
        Merge territories sharing a value of this column into one (``read_layer``'s
        ``group_by``).
    weights : mapping of str to str, optional
        Layer kind -> numeric column to pro-rate by overlap share (``concessions`` only).
    edges : {"geodesic", "lonlat"}, default "geodesic"
        How edges are read in every layer (see :func:`read_layer`).

    Returns
    -------
    dict of str to Layer
        Layers read, by kind.

    Raises
    ------
    SourceError
        A required layer is missing, or a mapping, default or CRS names an unknown layer.
    """
    for what, table in (("--map", mappings), ("--default", defaults)):
        check_layer_names(table, what)
    if isinstance(assume_crs, Mapping):
        check_layer_names(assume_crs, "--assume-crs")
    check_study_layers([kind for kind in LAYER_KINDS if paths.get(kind)])
    for kind in weights or {}:
        if kind != "concessions" or not paths.get(kind):
            raise SourceError(
                f"--weight {kind}=...: weights apply to the concessions layer given with "
                "--concessions, e.g. --weight concessions=mined_ha"
            )
    for what, table in (("--map", mappings), ("--default", defaults)):
        for kind in table or {}:
            if not paths.get(kind):
                log.warning("%s %s.*: no %s layer given; the setting is not used", what, kind, kind)
    layers = {}
    for kind in LAYER_KINDS:
        path = paths.get(kind)
        if path:
            crs = assume_crs.get(kind) if isinstance(assume_crs, Mapping) else assume_crs
            layers[kind] = read_layer(
                path,
                kind,
                mapping=(mappings or {}).get(kind),
                assume_crs=crs,
                defaults=(defaults or {}).get(kind),
                group_by=group_territories if kind == "territories" else None,
                weight=(weights or {}).get(kind),
                edges=edges,
            )
    check_swapped_inputs(layers)
    flag_far_outside({kind: (layer.frame, layer.ledger) for kind, layer in layers.items()})
    return layers


def check_study_layers(given: Collection[str], name: str = "--{kind}") -> None:
    """Refuse a set of layers no study can be made of.

    A study is of territory polygons, of community points, or of both: every other layer is
    related to one of them. Without territories the per-territory tables are not analysed;
    tenure parcels, measured only per territory, then have no use and are refused.

    Parameters
    ----------
    given : collection of str
        Kinds of the layers given (:data:`LAYER_KINDS`).
    name : str, default "--{kind}"
        How a layer is named in the message: the CLI option, or ``"[layers.{kind}]"`` for a
        project file.

    Raises
    ------
    SourceError
        Neither ``territories`` nor ``communities`` is given, or ``parcels`` without
        ``territories``.
    """
    kinds = set(given)
    territories, communities = name.format(kind="territories"), name.format(kind="communities")
    if not kinds & {"territories", "communities"}:
        others = [name.format(kind=kind) for kind in LAYER_KINDS if kind in kinds]
        what = f"{', '.join(others)} given but " if others else ""
        raise SourceError(
            f"{what}no {territories} and no {communities}: {territories} is required (territory "
            f"polygons), or {communities} (community points) for a study without territories"
        )
    if "parcels" in kinds and "territories" not in kinds:
        raise SourceError(
            f"{name.format(kind='parcels')} without {territories}: tenure parcels are measured "
            f"per territory; {territories} is required with them (or leave the parcels out)"
        )


def check_layer_names(table: Mapping[str, object] | None, option: str) -> None:
    """Refuse a per-layer option naming a layer kind that does not exist.

    Parameters
    ----------
    table : mapping of str to object, optional
        Layer kind -> setting.
    option : str
        The option, for the message (``--map``, ``--default``...).

    Raises
    ------
    SourceError
        A key is not one of :data:`LAYER_KINDS`.
    """
    for name in table or {}:
        if name not in LAYER_KINDS:
            raise SourceError(
                f"{option}: unknown layer {name!r}; layers are {', '.join(LAYER_KINDS)} "
                f"(e.g. {option} concessions.kind=mining)"
                if option != "--assume-crs"
                else f"{option}: unknown layer {name!r}; layers are {', '.join(LAYER_KINDS)} "
                "(e.g. --assume-crs concessions=EPSG:32717)"
            )


def check_raster(path: str | os.PathLike[str] | None) -> Path | None:
    """Return the raster path, or raise :class:`SourceError` when it does not exist.

    Parameters
    ----------
    path : str or path-like or None
        The ``--forest-loss`` GeoTIFF, or None when not given.

    Returns
    -------
    pathlib.Path or None
        The path, or None when ``path`` is None.

    Raises
    ------
    SourceError
        ``path`` is not an existing file.
    """
    if path is None:
        return None
    raster = Path(path)
    if not raster.is_file():
        raise SourceError(f"{raster}: raster not found (--forest-loss expects a GeoTIFF)")
    return raster
