"""``mapeo``: Mapeo / CoMapeo observations exported as GeoJSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.errors import GEOSException

from geotools.errors import SourceError
from geotools.io.importers._common import (
    assemble,
    check_exists,
    finish,
    first_present,
    kind_lookup,
    point_array,
    precision_from_accuracy,
    recode,
    sequential_ids,
    vocabulary_lookup,
)
from geotools.schema import normalise_name

NAME = "mapeo"
LICENCE = (
    "Community-held data (Mapeo/CoMapeo): share only with the free, prior and informed consent "
    "of the community that collected it"
)

#: Tag names (normalised) read into canonical columns, by preference.
DATE_TAGS = ("date", "fecha", "fecha_evento", "fecha_del_evento", "fecha_incidente")
CREATED = ("created_at", "createdat", "created", "timestamp")
KIND_TAGS = ("categoryid", "category", "categoria", "type", "tipo")
DESCRIPTION_TAGS = ("notes", "notas", "note", "descripcion", "description")
SENSITIVITY_TAGS = ("sensitivity", "sensibilidad", "confidencialidad", "privacidad", "privacy")
SEVERITY_TAGS = ("severity", "severidad", "gravedad")
VICTIM_TAGS = ("victims", "victimas", "afectados")
SOURCE_TAGS = ("source", "fuente")
ID_KEYS = ("id", "docid", "_id")
#: Mapeo's document type, not a category: never taken as a kind.
DOCUMENT_TYPES = ("observation",)


def _load_features(path: Path) -> list[dict[str, Any]]:
    """Return the features of a GeoJSON FeatureCollection (or of a bare list of features)."""
    check_exists(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"{path}: not a readable GeoJSON file ({exc})") from exc
    features = data.get("features") if isinstance(data, dict) else data
    if not isinstance(features, list) or not all(isinstance(f, dict) for f in features):
        raise SourceError(
            f"{path}: not a Mapeo GeoJSON export: no FeatureCollection 'features' list"
        )
    return features


def _jsonify(series: pd.Series) -> pd.Series:
    """Return ``series`` with list/dict cells (attachments, refs...) as JSON text."""
    nested = series.map(lambda v: isinstance(v, (list, dict)))
    if not nested.any():
        return series
    return series.where(~nested, series[nested].map(lambda v: json.dumps(v, ensure_ascii=False)))


def _merge_spellings(table: pd.DataFrame) -> pd.DataFrame:
    """Merge columns that are one key spelled differently (``tags.type`` from a nested ``tags``
    object and a flattened ``tags_type``) into the first of them, row by row."""
    keys = pd.Series([normalise_name(str(c)) for c in table.columns], index=table.columns)
    repeated = keys[keys.duplicated(keep=False)]
    for _, group in repeated.groupby(repeated, sort=False):
        columns = list(group.index)
        table[columns[0]] = first_present(table, columns)
        table = table.drop(columns=columns[1:])
    return table


class _Props:
    """Flattened properties split into tags (``tags.x``, ``tags_x``) and top-level keys."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table
        self.tags: dict[str, str] = {}
        self.tag_names: dict[str, str] = {}
        self.top: dict[str, str] = {}
        for column in table.columns:
            key = normalise_name(str(column))
            if key.startswith("tags_"):
                self.tags[key[5:]] = str(column)
                self.tag_names[str(column)] = str(column)[5:]
            elif not key.startswith("metadata_"):
                self.top[key] = str(column)

    def tag(self, names: Sequence[str], *, top_level: bool = True) -> list[str]:
        """Columns holding any of ``names`` as a tag, then (optionally) as a top-level key."""
        found = [self.tags[n] for n in names if n in self.tags]
        if top_level:
            found += [self.top[n] for n in names if n in self.top]
        return found

    def metadata(self, suffix: str) -> str | None:
        """First ``metadata.*`` column whose normalised name ends with ``suffix``."""
        for column in self.table.columns:
            key = normalise_name(str(column))
            if key.startswith("metadata_") and key.endswith(suffix):
                return str(column)
        return None


def read_mapeo(path: Path) -> gpd.GeoDataFrame:
    """Read a Mapeo / CoMapeo GeoJSON export of observations as incidents.

    Parameters
    ----------
    path : pathlib.Path
        A FeatureCollection of observations; properties hold the tags either nested (``tags``
        object) or flattened (``tags.x``, ``tags_x`` or plain keys), plus ``id``/``docId``,
        ``created_at``/``createdAt``, ``attachments``...

    Returns
    -------
    geopandas.GeoDataFrame
        One incident per observation, EPSG:4326 (observations without a location get an empty
        geometry). Sensitivity left empty (the schema default "restricted" applies) unless a
        tag sets it.

    Raises
    ------
    SourceError
        The file is missing, is not JSON, or is not a FeatureCollection.
    """
    features = _load_features(path)
    n = len(features)
    table = pd.json_normalize([f.get("properties") or {} for f in features], sep=".")
    table = _merge_spellings(table.reindex(index=pd.RangeIndex(n)))
    props = _Props(table)
    notes: list[str] = []

    geoms = np.empty(n, dtype=object)
    if n:
        bare: list[dict[str, Any]] = [
            {"type": "Feature", "properties": {}, "geometry": f.get("geometry")} for f in features
        ]
        try:
            geoms[:] = gpd.GeoDataFrame.from_features(bare).geometry.to_numpy()
        except (TypeError, ValueError, AttributeError, KeyError, GEOSException) as exc:
            raise SourceError(f"{path}: unreadable geometry in the GeoJSON ({exc})") from exc
    lat, lon = props.tag(("lat", "latitude")), props.tag(("lon", "lng", "longitude"))
    if lat and lon:
        fallback = point_array(table[lon[0]], table[lat[0]])
        missing = pd.isna(geoms) & pd.notna(fallback)
        geoms[missing] = fallback[missing]
        if missing.any():
            notes.append(f"{int(missing.sum())} point(s) built from the lat/lon properties")

    feature_ids = pd.Series([f.get("id") for f in features], index=table.index, dtype=object)
    id_cols = props.tag(ID_KEYS)
    ids = first_present(table.assign(_feature_id=feature_ids), [*id_cols, "_feature_id"])
    if ids.isna().any():
        fallback_ids = sequential_ids("mapeo", n)
        notes.append(f"{int(ids.isna().sum())} observation(s) without id numbered mapeo-<row>")
        ids = ids.where(ids.notna(), fallback_ids)

    date_tags, created = props.tag(DATE_TAGS), props.tag(CREATED)
    date = first_present(table, [*date_tags, *created])
    notes.append(
        "date: a date/fecha tag when present (the date the observer entered), else the creation "
        "time; raw text"
    )

    kind_cols = props.tag(KIND_TAGS)
    kind_source = table[kind_cols].astype(object) if kind_cols else pd.DataFrame(index=table.index)
    for column in kind_cols:  # the top-level "type" of Mapeo documents is "observation"
        values = kind_source[column].astype("string").str.strip().str.lower()
        kind_source[column] = kind_source[column].where(~values.isin(DOCUMENT_TYPES))
    raw_kind = first_present(kind_source, kind_cols)
    kind = recode(raw_kind, kind_lookup)
    notes.append(
        "kind from the categoryId tag, else the type tag (not the document type 'observation'), "
        "recoded to the vocabulary where clear (Spanish/English, e.g. 'amenaza', 'oil-spill'); "
        "other categories kept as given"
    )

    sensitivity_cols = props.tag(SENSITIVITY_TAGS)
    sensitivity = None
    if sensitivity_cols:
        lookup = vocabulary_lookup("incidents", "sensitivity")
        sensitivity = recode(first_present(table, sensitivity_cols), lookup)
    notes.append(
        "sensitivity empty (schema default 'restricted': community-held data) unless a "
        "sensitivity/sensibilidad tag sets it"
    )

    accuracy_col = props.metadata("coords_accuracy")
    manual_col = props.metadata("manuallocation")
    has_geom = pd.notna(geoms)
    precision = (
        precision_from_accuracy(table[accuracy_col], has_geom)
        if accuracy_col
        else pd.Series(None, index=table.index, dtype=object)
    )
    if manual_col:
        manual = table[manual_col].astype("string").str.lower().isin(("true", "1"))
        precision = precision.where(~(manual.to_numpy(dtype=bool) & has_geom), "approximate")
    if accuracy_col or manual_col:
        notes.append(
            "precision from the GPS metadata: accuracy <= 50 m exact, else approximate; manual "
            "locations approximate"
        )

    description_cols = props.tag(DESCRIPTION_TAGS)
    severity_cols, victim_cols = props.tag(SEVERITY_TAGS), props.tag(VICTIM_TAGS)
    source_cols = props.tag(SOURCE_TAGS)
    canonical = {
        "incident_id": ids.astype("string"),
        "date": date,
        "kind": kind,
        "severity": first_present(table, severity_cols) if severity_cols else None,
        "description": first_present(table, description_cols) if description_cols else None,
        "victims": first_present(table, victim_cols) if victim_cols else None,
        "source": first_present(table, source_cols).fillna("Mapeo") if source_cols else "Mapeo",
        "precision": precision,
        "sensitivity": sensitivity,
    }

    metadata = [c for c in table.columns if normalise_name(str(c)).startswith("metadata_")]
    if metadata:
        notes.append(
            "metadata.* (device, GPS fix with exact coordinates) dropped; accuracy read first"
        )
    copies = [*lat, *lon]
    consumed = [
        *id_cols[:1],
        *date_tags[:1],
        *description_cols[:1],
        *severity_cols[:1],
        *victim_cols[:1],
        *source_cols[:1],
        *metadata,
        *copies,
    ]
    renames = {column: f"tag_{name}" for column, name in props.tag_names.items()}
    kept = table.apply(_jsonify)
    out = assemble(
        kept, geoms, "EPSG:4326", "incidents", canonical, consumed=consumed, renames=renames
    )
    return finish(out, NAME, notes, LICENCE)
