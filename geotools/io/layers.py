"""Canonical layers: read, normalised to the schema and validated, with their QA ledger.

``file -> GeoDataFrame -> canonical schema -> QA ledger``: :func:`read_layer` gives a layer the
analyses can trust plus the :class:`~geotools.validation.Ledger` saying what happened to every
feature; :func:`read_inputs` reads the set of layers a run takes.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
from pyproj import CRS

from geotools.area import DEFAULT_EDGES, EDGE_READINGS, read_edges
from geotools.crs import describe_crs
from geotools.errors import SourceError, ValidationError
from geotools.export import compute_sha256
from geotools.io.importers import IMPORT_ATTR, import_file
from geotools.io.readers import READ_REPAIRS, parse_layer_argument, read_frame
from geotools.schema import LAYERS, normalise_schema
from geotools.validation import Ledger, flag_far_outside, validate_layer

log = logging.getLogger(__name__)

LAYER_KINDS = ("territories", "parcels", "concessions", "incidents", "infrastructure")


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


def read_layer(
    path: str | os.PathLike[str],
    kind: str,
    mapping: Mapping[str, str] | None = None,
    layer: str | None = None,
    assume_crs: str | CRS | None = None,
    source: str | None = None,
    values: Mapping[str, Mapping[str, str]] | None = None,
    edges: str = DEFAULT_EDGES,
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
    edges : {"geodesic", "lonlat"}, default "geodesic"
        How edges between vertices are read, for areas, overlaps and point-in-polygon alike
        (:func:`geotools.area.read_edges`; docs/area.md, "Long edges").

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
    if edges not in EDGE_READINGS:
        raise ValidationError(f"{path}: edges {edges!r}; use one of {', '.join(EDGE_READINGS)}")
    file, _ = parse_layer_argument(path)
    if source:
        produced, raw = import_file(source, file)
        if produced != kind:
            raise ValidationError(f"{file}: the {source} importer gives {produced}, not {kind}")
        if assume_crs is not None:
            raw = raw.set_crs(assume_crs, allow_override=True)
    else:
        raw = read_frame(path, layer=layer, assume_crs=assume_crs)
        stored = _stored_import(file, layer or parse_layer_argument(path)[1])
        if stored is not None:
            raw.attrs[IMPORT_ATTR] = stored
            source = str(stored["source"])
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
    if edges != DEFAULT_EDGES:
        clean = clean.copy()
        clean[clean.geometry.name] = gpd.GeoSeries(
            read_edges(clean.geometry, edges), index=clean.index, crs=clean.crs
        )
        ledger.notes["edges"] = edges
    log.debug("%s", ledger.summary())
    return Layer(kind=kind, frame=clean, ledger=ledger, path=file, sha256=compute_sha256(file))


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
        meta = pyogrio.read_info(str(file), layer=layer).get("layer_metadata") or {}
        notes = json.loads(meta[IMPORT_ATTR]) if IMPORT_ATTR in meta else None
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError):
        return None
    return notes if isinstance(notes, dict) and notes.get("source") else None


def read_inputs(
    paths: Mapping[str, str | os.PathLike[str] | None],
    assume_crs: str | None = None,
    mappings: Mapping[str, Mapping[str, str]] | None = None,
    edges: str = DEFAULT_EDGES,
) -> dict[str, Layer]:
    """Read and validate every layer given.

    Parameters
    ----------
    paths : mapping of str to path or None
        Layer kind -> file (``None`` for absent optional layers). ``territories`` and ``parcels``
        are required.
    assume_crs : str, optional
        CRS for files that declare none.
    mappings : mapping, optional
        Layer kind -> ``{canonical column: source column}``.
    edges : {"geodesic", "lonlat"}, default "geodesic"
        How edges are read in every layer (see :func:`read_layer`).

    Returns
    -------
    dict of str to Layer
        Layers read, by kind.
    """
    for required in ("territories", "parcels"):
        if not paths.get(required):
            raise SourceError(f"--{required} is required")
    layers = {}
    for kind in LAYER_KINDS:
        path = paths.get(kind)
        if path:
            layers[kind] = read_layer(
                path,
                kind,
                mapping=(mappings or {}).get(kind),
                assume_crs=assume_crs,
                edges=edges,
            )
    flag_far_outside({kind: (layer.frame, layer.ledger) for kind, layer in layers.items()})
    return layers


def check_raster(path: str | os.PathLike[str] | None) -> Path | None:
    """Return the raster path, or raise :class:`SourceError` when it does not exist."""
    if path is None:
        return None
    raster = Path(path)
    if not raster.is_file():
        raise SourceError(f"{raster}: raster not found (--forest-loss expects a GeoTIFF)")
    return raster
