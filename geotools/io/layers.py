"""Canonical layers: read, normalised to the schema and validated, with their QA ledger.

``file -> GeoDataFrame -> canonical schema -> QA ledger``: :func:`read_layer` gives a layer the
analyses can trust plus the :class:`~geotools.validation.Ledger` saying what happened to every
feature; :func:`read_inputs` reads the set of layers a run takes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from geotools.crs import describe_crs
from geotools.errors import SourceError, ValidationError
from geotools.export import compute_sha256
from geotools.io.importers import import_file
from geotools.io.readers import READ_REPAIRS, parse_layer_argument, read_frame
from geotools.schema import LAYERS, normalise_schema
from geotools.validation import Ledger, flag_far_outside, group_parts, validate_layer

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
    weight : str or None
        Numeric column to pro-rate by overlap share (concessions; ``read_layer``'s ``weight``).
    """

    kind: str
    frame: gpd.GeoDataFrame
    ledger: Ledger
    path: Path
    sha256: str
    weight: str | None = None


def read_layer(
    path: str | os.PathLike[str],
    kind: str,
    mapping: Mapping[str, str] | None = None,
    layer: str | None = None,
    assume_crs: str | CRS | None = None,
    source: str | None = None,
    values: Mapping[str, Mapping[str, str]] | None = None,
    group_by: str | None = None,
    weight: str | None = None,
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
    group_by : str, optional
        Territories only: merge the features sharing a value of this column (canonical or
        source name, e.g. ``name`` or ``nom_comuni``) into one territory, the parts' union
        (:func:`~geotools.validation.group_parts`).
    weight : str, optional
        Concessions only: a numeric column (e.g. a detection's ``Mined area (ha)``) to pro-rate
        by each concession's share inside each territory (``prorated_<column>`` in the tables).

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
    if group_by:
        if kind != "territories":
            raise SourceError(f"grouping parts applies to territories, not {kind}")
        column = _column(clean, fields.renamed, group_by, file, "to group territories by")
        clean = group_parts(clean, column, ledger, LAYERS[kind].id_column or "territory_id")
        ledger.notes["grouped_by"] = column
    weight_column = None
    if weight:
        if kind != "concessions":
            raise SourceError(f"a weight column applies to concessions, not {kind}")
        weight_column = _column(clean, fields.renamed, weight, file, "to pro-rate")
        given = clean[weight_column]
        numbers = pd.to_numeric(
            given.astype("string").str.replace(",", ".", regex=False), errors="coerce"
        )
        bad = given.notna() & numbers.isna()
        if bad.any():
            raise SourceError(
                f"{file}: column {weight_column!r} is not numeric ({given[bad].iloc[0]!r}); "
                "choose a column of numbers to pro-rate"
            )
        clean[weight_column] = numbers.astype(float)
        ledger.notes["weight"] = weight_column
    log.debug("%s", ledger.summary())
    return Layer(
        kind=kind,
        frame=clean,
        ledger=ledger,
        path=file,
        sha256=compute_sha256(file),
        weight=weight_column,
    )


def _column(
    frame: gpd.GeoDataFrame, renamed: Mapping[str, str], name: str, file: Path, purpose: str
) -> str:
    """The column of ``frame`` a user named, by its source or canonical name (one-line error)."""
    column = renamed.get(name, name)
    if column not in frame.columns:
        names = sorted({*renamed, *frame.columns} - {frame.geometry.name})
        raise SourceError(f"{file}: no column {name!r} {purpose}; use one of " + ", ".join(names))
    return column


def read_inputs(
    paths: Mapping[str, str | os.PathLike[str] | None],
    assume_crs: str | None = None,
    mappings: Mapping[str, Mapping[str, str]] | None = None,
    group_territories: str | None = None,
    weights: Mapping[str, str] | None = None,
) -> dict[str, Layer]:
    """Read and validate every layer given.

    Parameters
    ----------
    paths : mapping of str to path or None
        Layer kind -> file (``None`` for absent optional layers). Only ``territories`` is
        required: without ``parcels`` tenure is unknown.
    assume_crs : str, optional
        CRS for files that declare none.
    mappings : mapping, optional
        Layer kind -> ``{canonical column: source column}``.
    group_territories : str, optional
        Merge territories sharing a value of this column into one (``read_layer``'s
        ``group_by``).
    weights : mapping of str to str, optional
        Layer kind -> numeric column to pro-rate by overlap share (``concessions`` only).

    Returns
    -------
    dict of str to Layer
        Layers read, by kind.
    """
    if not paths.get("territories"):
        raise SourceError("--territories is required")
    for kind in weights or {}:
        if kind != "concessions" or not paths.get(kind):
            raise SourceError(
                f"--weight {kind}=...: weights apply to the concessions layer given with "
                "--concessions, e.g. --weight concessions=mined_ha"
            )
    layers = {}
    for kind in LAYER_KINDS:
        path = paths.get(kind)
        if path:
            layers[kind] = read_layer(
                path,
                kind,
                mapping=(mappings or {}).get(kind),
                assume_crs=assume_crs,
                group_by=group_territories if kind == "territories" else None,
                weight=(weights or {}).get(kind),
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
