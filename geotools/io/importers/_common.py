"""Building blocks shared by the source importers (not public API).

Every importer reads a file into a plain table, builds the geometry, computes the canonical columns
of its layer (:data:`geotools.schema.LAYERS`) and hands them to :func:`assemble`, which puts the
canonical columns first, keeps the other source columns (renaming any whose name would clash with a
canonical one) and records what was done in ``frame.attrs["geotools_import"]``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geotools.errors import SourceError
from geotools.io.readers import (
    EXCEL_SUFFIXES,
    LAT_NAMES,
    LON_NAMES,
    TABLE_SUFFIXES,
    find_column,
    read_frame,
    read_table,
)
from geotools.schema import LAYERS, VALUE_ALIASES, VOCABULARIES, normalise_name

log = logging.getLogger(__name__)

#: Key of ``GeoDataFrame.attrs`` holding ``{"source", "notes", "licence"}`` of an import.
IMPORT_ATTR = "geotools_import"

#: Spreadsheet suffixes read with pandas (needs the optional ``openpyxl`` package).

#: Prefix given to a kept source column whose name clashes with a canonical column.
CLASH_PREFIX = "src_"

#: GPS accuracy (metres) up to which a point counts as ``exact``; coarser ones are ``approximate``.
EXACT_ACCURACY_M = 50.0

#: Extra incident-kind synonyms (normalised value -> canonical kind), beyond the schema's
#: ``VALUE_ALIASES``; only unambiguous ones (no "fire", "logging" or "land trafficking": a forest
#: fire is not arson, selective logging is not clearing, trafficking is not always an invasion).
KIND_SYNONYMS: dict[str, str] = {
    "threats": "threat",
    "death_threat": "threat",
    "amenazas": "threat",
    "amenaza_de_muerte": "threat",
    "assault": "attack",
    "armed_attack": "attack",
    "agresiones": "attack",
    "agresion_fisica": "attack",
    "ataque_armado": "attack",
    "murder": "killing",
    "homicide": "killing",
    "assassination": "killing",
    "asesinatos": "killing",
    "homicidios": "killing",
    "quema_de_vivienda": "arson",
    "incendio_provocado": "arson",
    "forced_eviction": "eviction",
    "desalojos": "eviction",
    "desalojo_forzoso": "eviction",
    "land_invasion": "invasion",
    "invasiones": "invasion",
    "invasion_de_tierras": "invasion",
    "desbosque": "deforestation",
    "forest_clearing": "deforestation",
    "oil_spill": "spill",
    "oil_leak": "spill",
    "derrames": "spill",
    "derrame_de_petroleo": "spill",
    "derrame_de_crudo": "spill",
    "criminalisation": "criminalization",
}

#: First word of a Spanish phrase that fixes its kind ("Derrame antiguo de petróleo" -> spill).
KIND_HEAD_WORDS: dict[str, str] = {
    "amenaza": "threat",
    "ataque": "attack",
    "agresion": "attack",
    "asesinato": "killing",
    "homicidio": "killing",
    "desalojo": "eviction",
    "invasion": "invasion",
    "deforestacion": "deforestation",
    "derrame": "spill",
    "criminalizacion": "criminalization",
}

#: Last word of an English phrase that fixes its kind ("oil spill", "death threat").
KIND_TAIL_WORDS: dict[str, str] = {
    "threat": "threat",
    "attack": "attack",
    "murder": "killing",
    "killing": "killing",
    "eviction": "eviction",
    "invasion": "invasion",
    "deforestation": "deforestation",
    "spill": "spill",
    "criminalization": "criminalization",
}


@dataclass(frozen=True)
class Importer:
    """One source importer.

    Attributes
    ----------
    name : str
        Key in :data:`geotools.io.importers.IMPORTERS` (``acled``, ``kobo``, ...).
    layer : str
        Canonical layer kind it produces (``incidents`` or ``territories``).
    description : str
        One line for ``--help``.
    licence_note : str or None
        What the source's terms allow, or None when the user's own data.
    read : callable
        ``read(path) -> GeoDataFrame`` in canonical column names (see
        :func:`geotools.io.importers.import_file`).
    """

    name: str
    layer: str
    description: str
    licence_note: str | None
    read: Callable[[Path], gpd.GeoDataFrame]


def check_exists(path: Path) -> None:
    """Raise :class:`SourceError` when ``path`` does not exist.

    Parameters
    ----------
    path : pathlib.Path
        File (or folder) to import.

    Raises
    ------
    SourceError
        ``path`` does not exist.
    """
    if not path.exists():
        raise SourceError(f"{path}: file not found")


def is_table(path: Path) -> bool:
    """Return True for files read as plain tables (CSV/TSV/TXT or Excel).

    Parameters
    ----------
    path : pathlib.Path
        File to import; only its suffix (any case) is looked at.

    Returns
    -------
    bool
        True for ``.csv``, ``.tsv``, ``.txt``, ``.xlsx`` and ``.xlsm``.
    """
    return path.suffix.lower() in (*TABLE_SUFFIXES, *EXCEL_SUFFIXES)


def require(
    columns: Iterable[object], path: Path, needed: Mapping[str, Sequence[str]], what: str
) -> dict[str, str]:
    """Return ``{label: column}`` for every label of ``needed``, or raise a one-line SourceError.

    Parameters
    ----------
    columns : iterable
        Columns of the table read.
    path : pathlib.Path
        The file (named in the message).
    needed : mapping of str to sequence of str
        ``{label: normalised names accepted}``; the label is what the message calls the column.
    what : str
        What the file should be ("an ACLED export"), for the message.

    Returns
    -------
    dict of str to str
        The column found for each label.
    """
    names_seen = [str(c) for c in columns]
    found = {label: find_column(names_seen, names) for label, names in needed.items()}
    missing = [label for label, column in found.items() if column is None]
    if missing:
        raise SourceError(
            f"{path}: not {what}: missing column(s) {', '.join(missing)} "
            f"({columns_found(names_seen)})"
        )
    return {label: str(column) for label, column in found.items()}


def columns_found(columns: Iterable[object], limit: int = 12) -> str:
    """Return ``"columns are a, b, c, ..."`` (the first ``limit``), for a missing-column message.

    Parameters
    ----------
    columns : iterable
        Columns of the table read.
    limit : int, default 12
        How many to name.

    Returns
    -------
    str
        The text; ``"no columns"`` for a table without any.
    """
    names = [str(c) for c in columns]
    if not names:
        return "no columns"
    return f"columns are {', '.join(names[:limit])}{', ...' if len(names) > limit else ''}"


def point_array(x: pd.Series | np.ndarray, y: pd.Series | np.ndarray) -> np.ndarray:
    """Return Points from longitude/latitude values; None where either is not a finite number.

    Parameters
    ----------
    x, y : pandas.Series or numpy.ndarray
        Longitude and latitude (text or numbers; unparseable values count as missing).

    Returns
    -------
    numpy.ndarray
        Object array of shapely Points or None, one per row.
    """
    xs = pd.to_numeric(pd.Series(np.asarray(x, dtype=object)), errors="coerce").to_numpy(float)
    ys = pd.to_numeric(pd.Series(np.asarray(y, dtype=object)), errors="coerce").to_numpy(float)
    geoms = np.asarray(shapely.points(xs, ys), dtype=object)
    geoms[~(np.isfinite(xs) & np.isfinite(ys))] = None
    return geoms


def read_points(
    path: Path, what: str, extra_required: Mapping[str, Sequence[str]] | None = None
) -> tuple[pd.DataFrame, np.ndarray, Any, list[str]]:
    """Read a point source given either as a table with lon/lat columns or as a vector file.

    Parameters
    ----------
    path : pathlib.Path
        CSV/TSV/XLSX with longitude/latitude columns (the names of
        :data:`geotools.io.readers.LON_NAMES` and :data:`~geotools.io.readers.LAT_NAMES`), or any
        vector file :func:`geotools.io.read_frame` reads (GeoJSON, GeoPackage, ...).
    what : str
        What the file should be, for error messages.
    extra_required : mapping, optional
        Columns the source must have (see :func:`require`), checked before geometry is built.

    Returns
    -------
    pandas.DataFrame
        The attributes (no geometry column), source order, RangeIndex.
    numpy.ndarray
        One geometry (or None) per row.
    crs
        EPSG:4326 for tables, the file's CRS otherwise.
    list of str
        Coordinate columns turned into the geometry, or attribute copies of the coordinates in a
        vector file (dropped from the output: a copy of the coordinates in the attributes would
        survive the generalisation of restricted records).
    """
    if is_table(path):
        table = read_table(path)
        lonlat = {"longitude": LON_NAMES, "latitude": LAT_NAMES}
        coords = require(table.columns, path, {**(extra_required or {}), **lonlat}, what)
        geoms = point_array(table[coords["longitude"]], table[coords["latitude"]])
        return table, geoms, "EPSG:4326", [coords["longitude"], coords["latitude"]]
    frame = read_frame(path).reset_index(drop=True)
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    if extra_required:
        require(table.columns, path, extra_required, what)
    lon, lat = find_column(table.columns, LON_NAMES), find_column(table.columns, LAT_NAMES)
    copies = [lon, lat] if lon and lat else []
    return table, np.asarray(frame.geometry.values, dtype=object), frame.crs, copies


def first_present(table: pd.DataFrame, columns: Sequence[str | None]) -> pd.Series:
    """Return, row by row, the first non-missing value among ``columns`` (absent ones skipped).

    Parameters
    ----------
    table : pandas.DataFrame
        The source table.
    columns : sequence of str or None
        Candidate columns by preference; None entries are ignored.

    Returns
    -------
    pandas.Series
        Object values (NA where every candidate is missing), indexed like ``table``.
    """
    present = [c for c in columns if c is not None and c in table.columns]
    if not present:
        return pd.Series(None, index=table.index, dtype=object)
    block = table[present].astype(object)
    block = block.where(block.notna() & (block.astype(str).apply(lambda s: s.str.strip()) != ""))
    return block.bfill(axis=1).iloc[:, 0]


def normalised_text(series: pd.Series) -> pd.Series:
    """Return each value's normalised name as a plain object Series (None where missing).

    Whatever the source dtype (Arrow or Python strings, numbers read from a GeoJSON, a column
    with no value at all), the result compares with ``isin`` and ``==`` like text: mapping an
    all-missing Arrow string column gives an Arrow ``null`` column, on which ``isin`` fails.

    Parameters
    ----------
    series : pandas.Series
        Source values of any dtype.

    Returns
    -------
    pandas.Series
        :func:`geotools.schema.normalise_name` of ``str(value)`` (object dtype), indexed like
        ``series``; None where a value is missing.
    """
    values = series.astype(object)
    present = values.notna()
    table = {value: normalise_name(str(value)) for value in pd.unique(values[present])}
    return values.map(table).astype(object).where(present, None)


def recode(series: pd.Series, lookup: Callable[[str], str | None]) -> pd.Series:
    """Map each distinct value through ``lookup`` (on its normalised form); keep the others.

    Parameters
    ----------
    series : pandas.Series
        Source values.
    lookup : callable
        ``lookup(normalised value) -> canonical value or None`` (None: keep as given).

    Returns
    -------
    pandas.Series
        Recoded values (object dtype); missing values stay missing.
    """
    values = series.dropna().unique()
    table = {value: lookup(normalise_name(str(value))) or value for value in values}
    return series.astype(object).map(table).where(series.notna(), None)


def vocabulary_lookup(
    layer: str, column: str, extra: Mapping[str, str] | None = None
) -> Callable[[str], str | None]:
    """Return a lookup for :func:`recode` of one column's values.

    A value of the vocabulary itself maps to itself; other values are looked up in the schema's
    :data:`~geotools.schema.VALUE_ALIASES` and ``extra`` (``extra`` wins when both know a value).

    Parameters
    ----------
    layer : str
        Layer kind (``incidents``, ``concessions``...), a key of
        :data:`~geotools.schema.VOCABULARIES`.
    column : str
        Canonical column with a controlled vocabulary (``kind``, ``status``...).
    extra : mapping of str to str, optional
        More aliases, normalised source value -> canonical value.

    Returns
    -------
    callable
        ``lookup(normalised value) -> canonical value or None`` (None when unknown).

    Raises
    ------
    KeyError
        ``layer`` and ``column`` name no vocabulary.
    """
    vocabulary = VOCABULARIES[layer][column]
    aliases = {**VALUE_ALIASES.get(layer, {}).get(column, {}), **(extra or {})}

    def lookup(key: str) -> str | None:
        return key if key in vocabulary else aliases.get(key)

    return lookup


def kind_lookup(key: str) -> str | None:
    """Return the incident kind for a normalised category value, or None when unclear.

    Tried in order: the vocabulary itself, the schema's ``VALUE_ALIASES``, :data:`KIND_SYNONYMS`,
    the first word for Spanish phrases (:data:`KIND_HEAD_WORDS`), the last word for English ones
    (:data:`KIND_TAIL_WORDS`).

    Parameters
    ----------
    key : str
        A category value normalised by :func:`geotools.schema.normalise_name` (lowercase, words
        joined by ``_``).

    Returns
    -------
    str or None
        A canonical incident kind, or None.
    """
    found = vocabulary_lookup("incidents", "kind", KIND_SYNONYMS)(key)
    if found:
        return found
    words = key.split("_")
    if len(words) > 1:
        return KIND_HEAD_WORDS.get(words[0]) or KIND_TAIL_WORDS.get(words[-1])
    return None


def precision_from_accuracy(accuracy: pd.Series, has_geometry: np.ndarray) -> pd.Series:
    """Turn a GPS accuracy in metres into ``exact``/``approximate``.

    ``<= 50 m`` is ``exact``, coarser is ``approximate``. An accuracy of exactly 0 is what
    ODK/KoboToolbox/Mapeo record for a point placed on the map or typed in, not a GPS fix: it is
    ``approximate``. Missing accuracy (or no geometry) gives None, so the schema default applies.

    Parameters
    ----------
    accuracy : pandas.Series
        Accuracy values (text or numbers).
    has_geometry : numpy.ndarray of bool
        Rows with a usable point.

    Returns
    -------
    pandas.Series
        ``exact``, ``approximate`` or None.
    """
    metres = pd.to_numeric(accuracy, errors="coerce").to_numpy(dtype=float)
    out = np.full(len(metres), None, dtype=object)
    known = np.isfinite(metres) & has_geometry
    out[known & (metres > 0) & (metres <= EXACT_ACCURACY_M)] = "exact"
    out[known & ((metres <= 0) | (metres > EXACT_ACCURACY_M))] = "approximate"
    return pd.Series(out, index=accuracy.index, dtype=object)


def sequential_ids(prefix: str, n: int) -> pd.Series:
    """Return ``prefix-1 ... prefix-n`` (a Series on a RangeIndex).

    Parameters
    ----------
    prefix : str
        Id prefix (e.g. ``kobo``, ``incident``).
    n : int
        Number of ids.

    Returns
    -------
    pandas.Series of string
        ``n`` ids, numbered from 1.
    """
    return f"{prefix}-" + pd.Series(np.arange(1, n + 1), dtype="string")


def assemble(
    table: pd.DataFrame,
    geometry: np.ndarray,
    crs: Any,
    layer: str,
    canonical: Mapping[str, Any],
    consumed: Iterable[str | None] = (),
    renames: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Build the importer output: canonical columns, then the kept source columns, then geometry.

    Parameters
    ----------
    table : pandas.DataFrame
        Source attributes (RangeIndex, source order).
    geometry : numpy.ndarray
        One geometry or None per row.
    crs : object
        CRS of ``geometry``.
    layer : str
        Canonical layer kind; every canonical column of it is present in the output (None where
        the source has nothing, so that the schema defaults apply and no kept source column can
        later be mistaken for it by the alias table).
    canonical : mapping
        ``{canonical column: Series, array or scalar}``.
    consumed : iterable of str
        Source columns copied verbatim into a canonical column, or coordinate columns: dropped.
    renames : mapping of str to str, optional
        Kept source columns to rename (``{"responsable": "reporter"}``).

    Returns
    -------
    geopandas.GeoDataFrame
        The frame; a kept column whose name clashes (case-insensitively) with a canonical or an
        earlier column gets the prefix ``src_``.
    """
    spec = LAYERS[layer]
    names = [*spec.required, *spec.optional]
    unknown = set(canonical) - set(names)
    if unknown:  # pragma: no cover - programming error
        raise ValueError(f"not canonical {layer} columns: {sorted(unknown)}")
    data: dict[str, Any] = {}
    for name in names:
        value = canonical.get(name)
        data[name] = value.array if isinstance(value, pd.Series) else value
    taken = {n.lower() for n in names} | {"geometry"}
    dropped = {c for c in consumed if c is not None}
    renames = dict(renames or {})
    for column in table.columns:
        if column in dropped:
            continue
        new = str(renames.get(column, column))
        while new.lower() in taken:
            new = f"{CLASH_PREFIX}{new}"
        taken.add(new.lower())
        data[new] = table[column].to_numpy(dtype=object)
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(table)))
    for name in names:
        if frame[name].isna().all():
            frame[name] = pd.Series([None] * len(frame), dtype=object)
    return gpd.GeoDataFrame(
        frame, geometry=gpd.GeoSeries(geometry, index=frame.index, crs=crs), crs=crs
    )


def finish(
    frame: gpd.GeoDataFrame, source: str, notes: Iterable[str], licence: str | None
) -> gpd.GeoDataFrame:
    """Record the import in ``frame.attrs["geotools_import"]`` and return ``frame``.

    A note counting the rows without usable coordinates is added: they are kept with an empty
    geometry so that the QA ledger rejects them with a reason.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The imported features, in canonical columns; modified in place.
    source : str
        Name of the source format (the importer's ``NAME``).
    notes : iterable of str
        What the import did that a user should know (columns guessed, values recoded...).
    licence : str or None
        Licence of the source data, when the importer knows it.

    Returns
    -------
    geopandas.GeoDataFrame
        ``frame``, with ``attrs["geotools_import"]`` set to ``{"source", "notes", "licence"}``.
    """
    notes = list(notes)
    missing = int(frame.geometry.isna().sum())
    if missing:
        notes.append(
            f"{missing} record(s) without usable coordinates kept with an empty geometry "
            "(the QA ledger rejects them with the reason)"
        )
    frame.attrs[IMPORT_ATTR] = {"source": source, "notes": notes, "licence": licence}
    log.info("%s import: %d record(s); %s", source, len(frame), "; ".join(notes))
    return frame


_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
#: An ODK/Kobo geopoint held in one cell: "lat lon [alt [accuracy]]".
GEOPOINT_TEXT = re.compile(rf"\s*{_NUMBER}(?:\s+{_NUMBER}){{1,3}}\s*")
