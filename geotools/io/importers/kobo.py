"""``kobo``: KoboToolbox / ODK (Central, Briefcase) submissions exported as CSV or XLSX."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geotools.errors import SourceError
from geotools.io.importers._common import (
    GEOPOINT_TEXT,
    assemble,
    columns_found,
    find_column,
    finish,
    first_present,
    kind_lookup,
    point_array,
    precision_from_accuracy,
    read_table,
    recode,
    sequential_ids,
    vocabulary_lookup,
)
from geotools.io.readers import LAT_NAMES, LON_NAMES
from geotools.schema import normalise_name

NAME = "kobo"
LICENCE = None

#: A split geopoint column: Kobo ``_<field>_latitude`` or ODK Central ``<field>-Latitude``.
SPLIT_PART = re.compile(
    r"^_?(?P<stem>.+?)[_-](?P<part>latitude|longitude|altitude|precision|accuracy)$",
    re.IGNORECASE,
)

#: Form questions (last path segment, normalised) read into canonical columns, by preference.
FIELDS: dict[str, tuple[str, ...]] = {
    "date": (
        "fecha",
        "date",
        "fecha_evento",
        "fecha_del_evento",
        "fecha_incidente",
        "fecha_del_incidente",
        "fecha_hecho",
        "fecha_de_los_hechos",
        "event_date",
    ),
    "kind": ("tipo", "tipo_incidente", "tipo_de_incidente", "tipo_evento", "kind", "type"),
    "severity": ("severidad", "gravedad", "severity"),
    "description": ("descripcion", "description", "detalle", "notas", "notes"),
    "victims": ("victimas", "afectados", "victims"),
    "source": ("fuente", "source"),
    "sensitivity": ("sensibilidad", "confidencialidad", "privacidad", "sensitivity"),
}

#: Submission ids by preference: (exact column name, or normalised name).
ID_COLUMNS = ("_uuid", "_id")
ID_NAMES = ("instanceid", "meta_instanceid", "key")
#: Server time of the submission, used when the form has no date question (or it is blank).
SUBMISSION_TIME = ("_submission_time",)
SUBMISSION_NAMES = ("submissiondate", "submission_time")
#: Personal metadata: the submitting account becomes ``reporter``, the phone number ``phone`` (both
#: dropped by public outputs); device and SIM identifiers are dropped.
REPORTER_COLUMNS = ("_submitted_by", "submittername", "username")
PHONE_COLUMNS = ("phonenumber",)
DEVICE_COLUMNS = ("deviceid", "subscriberid", "simserial", "imei", "submitterid")


def _form_column(columns: Sequence[str], names: Sequence[str]) -> str | None:
    """Return the first form question (not ``_`` metadata) whose name or last path segment is one
    of ``names``, by preference."""
    keyed: dict[str, str] = {}
    for column in columns:
        if column.startswith("_"):
            continue
        keyed.setdefault(normalise_name(column), column)
        keyed.setdefault(normalise_name(re.split(r"[/-]", column)[-1]), column)
    for name in names:
        if name in keyed:
            return keyed[name]
    return None


def _by_names(columns: Sequence[str], exact: Sequence[str], names: Sequence[str]) -> list[str]:
    """Columns named exactly one of ``exact`` then those whose normalised name is in ``names``."""
    found = [c for name in exact for c in columns if c == name]
    found += [c for name in names for c in columns if normalise_name(c) == name and c not in found]
    return found


def _split_geopoint(series: pd.Series) -> pd.DataFrame | None:
    """Split a column of ODK geopoints ("lat lon [alt [accuracy]]") into columns 0-3, or return
    None when the column is not one: every filled cell must be 2-4 numbers, latitudes within
    +-90 and longitudes within +-180, and at least one coordinate must have decimals (so that a
    select-multiple of numbered choices, "1 3", is not taken for a point)."""
    text = series.astype("string").str.strip()
    filled = text[text.notna() & (text != "")]
    if filled.empty or not filled.str.fullmatch(GEOPOINT_TEXT.pattern).all():
        return None
    split = text.where(text != "").str.split(r"\s+", expand=True)
    lat = pd.to_numeric(split[0], errors="coerce")
    lon = pd.to_numeric(split[1], errors="coerce")
    in_range = ((lat.abs() <= 90) | lat.isna()).all() and ((lon.abs() <= 180) | lon.isna()).all()
    decimals = filled.str.split(r"\s+").str[:2].str.join(" ").str.contains(".", regex=False)
    return split if in_range and decimals.any() else None


def _geopoint(table: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, list[str], str, list[str]]:
    """Locate the (first) geopoint and return its parts, the columns it used, and its name.

    Returns
    -------
    pandas.DataFrame
        Columns ``lat``, ``lon``, ``alt``, ``acc`` (text or numbers, NA where absent).
    list of str
        Source columns holding the point (dropped from the output).
    str
        The geopoint question.
    list of str
        Other split geopoints (kept as attributes).
    """
    columns = [str(c) for c in table.columns]
    groups: dict[str, dict[str, str]] = {}
    for column in columns:
        match = SPLIT_PART.match(column)
        if match:
            groups.setdefault(match["stem"], {})[match["part"].lower()] = column
    parts = pd.DataFrame(index=table.index, columns=["lat", "lon", "alt", "acc"], dtype=object)
    points = [stem for stem, found in groups.items() if {"latitude", "longitude"} <= set(found)]
    if points:
        stem, found = points[0], groups[points[0]]
        parts["lat"] = table[found["latitude"]]
        parts["lon"] = table[found["longitude"]]
        if "altitude" in found:
            parts["alt"] = table[found["altitude"]]
        accuracy = found.get("precision") or found.get("accuracy")
        if accuracy:
            parts["acc"] = table[accuracy]
        used = list(found.values()) + [c for c in columns if c == stem]
        return parts, used, stem, points[1:]
    for column in columns:
        split = None if column.startswith("_") else _split_geopoint(table[column])
        if split is not None:
            for i, part in enumerate(("lat", "lon", "alt", "acc")):
                if i in split.columns:
                    parts[part] = split[i]
            return parts, [column], column, []
    lon, lat = find_column(columns, LON_NAMES), find_column(columns, LAT_NAMES)
    if lon and lat:
        parts["lat"], parts["lon"] = table[lat], table[lon]
        return parts, [lon, lat], f"{lat}/{lon}", []
    raise SourceError(
        f"{path}: no geopoint found (looked for _<field>_latitude/_<field>_longitude or "
        "<field>-Latitude/<field>-Longitude columns, or a column of 'lat lon alt accuracy' "
        f"values; {columns_found(columns)})"
    )


def read_kobo(path: Path) -> gpd.GeoDataFrame:
    """Read a KoboToolbox / ODK submissions export (CSV or XLSX, XML names as headers).

    Parameters
    ----------
    path : pathlib.Path
        The main-table export (``,`` or ``;`` separated CSV, or the first sheet of an XLSX).

    Returns
    -------
    geopandas.GeoDataFrame
        One incident per submission, EPSG:4326: point from the first geopoint; id from
        ``_uuid``/``_id``/``instanceID``; date from a ``fecha``/``date`` question, else the
        submission time; precision from the GPS accuracy; form questions named like the canonical
        columns (``tipo``, ``descripcion``, ...) mapped; the rest kept.

    Raises
    ------
    SourceError
        The file is missing or unreadable, has no geopoint, or no date and no submission time.
    """
    table = read_table(path)
    columns = [str(c) for c in table.columns]
    parts, point_cols, point_name, others = _geopoint(table, path)
    geoms = point_array(parts["lon"], parts["lat"])
    has_geom = pd.notna(geoms)
    notes = [
        f"geopoint {point_name} -> geometry; its coordinate columns dropped (the geometry holds "
        "them), altitude and accuracy kept as gps_altitude_m and gps_accuracy_m"
    ]
    if others:
        notes.append(
            f"other geopoint(s) {', '.join(others)} kept as attribute columns: they hold exact "
            "coordinates, review them before publishing"
        )

    id_cols = _by_names(columns, ID_COLUMNS, ID_NAMES)
    ids = first_present(table, id_cols)
    missing_ids = ids.isna().to_numpy(dtype=bool)
    if missing_ids.any():
        fallback = sequential_ids("kobo", len(table))
        ids = ids.where(~missing_ids, fallback)
        notes.append(f"{int(missing_ids.sum())} submission(s) without id numbered kobo-<row>")
    notes.append(f"incident_id from {', then '.join(id_cols) or 'row order'}")

    form = {key: _form_column(columns, names) for key, names in FIELDS.items()}
    submitted = _by_names(columns, SUBMISSION_TIME, SUBMISSION_NAMES)
    if form["date"] is None and not submitted:
        raise SourceError(
            f"{path}: no date: no fecha/date question and no _submission_time/SubmissionDate "
            f"column ({columns_found(columns)}); is it a KoboToolbox/ODK export?"
        )
    date = first_present(table, [form["date"], *submitted[:1]])
    notes.append(
        "date: "
        + (f"{form['date']} (raw text)" if form["date"] else "")
        + (", else " if form["date"] and submitted else "")
        + (f"{submitted[0]} (submission time)" if submitted else "")
    )

    canonical: dict[str, object] = {
        "incident_id": ids,
        "date": date,
        "precision": precision_from_accuracy(parts["acc"], has_geom),
    }
    for key in ("description", "victims", "source", "severity"):
        if form[key]:
            canonical[key] = table[form[key]]
    if form["kind"]:
        canonical["kind"] = recode(table[form["kind"]], kind_lookup)
    if form["sensitivity"]:
        canonical["sensitivity"] = recode(
            table[form["sensitivity"]], vocabulary_lookup("incidents", "sensitivity")
        )
    notes.append(
        "precision from the GPS accuracy: <= 50 m exact, > 50 m approximate; accuracy 0 (a point "
        "placed on the map or typed, not a GPS fix) approximate; no accuracy: schema default"
    )
    mapped = [form[k] for k in ("date", "description", "victims", "source", "severity")]

    reporters = _by_names(columns, REPORTER_COLUMNS[:1], REPORTER_COLUMNS[1:])
    phones = _by_names(columns, (), PHONE_COLUMNS)
    devices = _by_names(columns, (), DEVICE_COLUMNS)
    extra = pd.DataFrame(
        {
            "gps_altitude_m": pd.to_numeric(parts["alt"], errors="coerce"),
            "gps_accuracy_m": pd.to_numeric(parts["acc"], errors="coerce"),
        },
        index=table.index,
    )
    if reporters:
        extra["reporter"] = first_present(table, reporters)
        notes.append(f"{', '.join(reporters)} (submitting account) -> reporter (personal field)")
    if phones:
        extra["phone"] = first_present(table, phones)
        notes.append(f"{', '.join(phones)} -> phone (personal field)")
    if devices:
        notes.append(f"device/SIM identifiers dropped: {', '.join(devices)}")
    keep = table.drop(columns=[*point_cols, *reporters, *phones, *devices])
    keep = pd.concat([keep, extra], axis=1)
    consumed = [*id_cols[:1], *mapped]
    out = assemble(keep, geoms, "EPSG:4326", "incidents", canonical, consumed=consumed)
    return finish(out, NAME, notes, LICENCE)
