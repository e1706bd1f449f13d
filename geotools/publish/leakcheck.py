"""The leak check of a public bundle: :func:`check_bundle`.

Every file of the staged bundle is read back and searched for the values the privacy rules
withheld (names, free text, ids, secrets: normalised, in every encoding a file may hold them),
for points closer to a withheld true location than the minimum displacement, and for anything
that ties a published point to its record. Any finding refuses the bundle (:class:`LeakError`).
"""

from __future__ import annotations

import functools
import html
import logging
import re
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Geod

from geotools.errors import LeakError
from geotools.gdalpath import gdal_path
from geotools.maps import STATIC_TEXT, TEXT, VALUE_LABELS
from geotools.privacy import Withheld, normalise_text
from geotools.provenance import AREA_METHOD, CAVEATS
from geotools.publish.readme import COLUMN_DOCS, FILE_DESCRIPTIONS
from geotools.schema import VOCABULARIES

log = logging.getLogger(__name__)

_GEOD = Geod(ellps="WGS84")

_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_POINT_JSON = re.compile(
    r"\"coordinates\"\s*:\s*\[\s*(-?\d+(?:\.\d+)?(?:[eE]-?\d+)?)\s*,\s*(-?\d+(?:\.\d+)?(?:[eE]-?\d+)?)\s*\]"
)
_POINT_KML = re.compile(
    r"<Point>\s*<coordinates>\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)", re.IGNORECASE
)
_LEAFLET_LATLON = re.compile(
    r"L\.(?:circleMarker|marker|circle)\(\s*\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\]"
)
_NUMBER_PAIR = re.compile(r"(-?\d{1,3}\.\d{3,})\s*,\s*(-?\d{1,3}\.\d{3,})")
#: Coordinates this close (degrees) are the same place (covers 5-decimal display rounding).
COORD_TOLERANCE_DEG = 1.5e-5
#: Text files the leak check reads; binary files other than these are refused.
TEXT_SUFFIXES = (".geojson", ".json", ".csv", ".html", ".md", ".kml", ".prj", ".cpg", ".txt", "")
TABLE_SUFFIXES = (".gpkg", ".shp")
SKIPPED_SUFFIXES = (".shx", ".dbf")  # read through their .shp


@functools.lru_cache(maxsize=1)
def _static_text() -> str:
    """Normalised text the toolkit itself writes: the data dictionary, file descriptions,
    methods, vocabularies and the map and static-map labels (never a secret in themselves)."""
    parts = [" | ".join(doc) for doc in COLUMN_DOCS.values()]
    parts += [*FILE_DESCRIPTIONS.values(), AREA_METHOD, *CAVEATS]
    parts += [" ".join(v) for layer in VOCABULARIES.values() for v in layer.values()]
    for table in (TEXT, STATIC_TEXT):
        parts += [str(v) for texts in table.values() for v in texts.values()]
    parts += [
        str(v)
        for by_lang in VALUE_LABELS.values()
        for labels in by_lang.values()
        for v in labels.values()
    ]
    return normalise_text("\n".join(parts))


#: Words too common to be searched on their own (a name is still searched as a whole).
STOPWORDS = frozenset(
    {
        *("para", "como", "desde", "entre", "sobre", "hacia", "hasta", "contra", "segun"),
        *("durante", "with", "from", "that", "this", "have", "were", "been", "will", "into"),
        *("also", "other", "their", "there", "about", "after", "before", "under", "where"),
    }
)
#: What the leak check says when it refuses (it never repeats the value).
LEAK_FIX = (
    "Nothing was published. To resolve: find what wrote that value or coordinate into that "
    "file (a column that should be dropped, a popup, a label) and remove it; if the value is an "
    "ordinary public word or place name, it is accepted once it appears in a published layer "
    "(or the record is marked public)."
)
_BREAK_MARKUP = re.compile(r"<br\s*/?>|\\[nr]", re.IGNORECASE)
_HYPHEN_BREAK = re.compile(r"[-\u2010\u2011]\s*\n\s*")
_URL_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def _decode_variants(text: str) -> list[str]:
    """Skeletons of ``text`` after undoing JSON, HTML and URL escapes: normalised
    (:func:`geotools.privacy.normalise_text`) and reduced to its words separated by single
    spaces; a second variant joins words hyphenated across a line break."""
    text = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text).replace("\\/", "/")
    text = html.unescape(text)
    for _ in range(2):  # twice: %25C3%25AD is %C3%AD written once more
        if not _URL_ESCAPE.search(text):
            break
        text = urllib.parse.unquote(text, errors="replace")
    text = _BREAK_MARKUP.sub("\n", text)
    variants = [_HYPHEN_BREAK.sub(" ", text)]
    if _HYPHEN_BREAK.search(text):
        variants.append(_HYPHEN_BREAK.sub("", text))
    return [_skeleton(normalise_text(v)) for v in variants]


def _skeleton(normalised: str) -> str:
    """Words (letters and digits) of normalised text, separated by single spaces."""
    return " ".join(_WORD.findall(normalised))


_WORD = re.compile(r"[^\W_]+")


def _decode(text: str) -> str:
    """One searchable form of ``text`` (every variant of :func:`_decode_variants`)."""
    return "\n".join(_decode_variants(text))


@dataclass
class _Needles:
    phrases: dict[str, str]
    prefixes: dict[str, str]
    tokens: dict[str, str]
    id_set: set[str]


def _compile_needles(withheld: Withheld, secrets: Sequence[str], allowed: str) -> _Needles:
    """What to look for, as skeletons (:func:`_skeleton`).

    Every withheld value is searched as a whole phrase (word boundaries at both ends), long
    ones also by their first 40 characters (a truncated popup); values of personal fields that
    look like names are also searched word by word (a surname alone, or first and last name
    apart). A phrase, prefix or word that also occurs in ``allowed`` (text published
    legitimately: public rows, public layers, the toolkit's own texts) is an ordinary public
    value and is not searched, nor are words under four letters and :data:`STOPWORDS`.
    """
    allowed_padded = f" {_skeleton(normalise_text(allowed))} "
    allowed_words = set(allowed_padded.split())
    phrases: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    tokens: dict[str, str] = {}
    for kind, value in withheld.values:
        phrase = _skeleton(normalise_text(value))
        if len(phrase) < 4 or not re.search(r"[^\W\d_]", phrase):
            continue  # too short or only digits: protected by the column whitelist instead
        if f" {phrase} " not in allowed_padded:
            phrases.setdefault(phrase, kind)
        if len(value) > 40:
            prefix = _skeleton(normalise_text(value[:40]))
            if len(prefix) >= 12 and f" {prefix}" not in allowed_padded:
                prefixes.setdefault(prefix, kind)
        if kind.startswith("personal field") and re.fullmatch(r"[^\W\d_]+( [^\W\d_]+)*", phrase):
            for word in phrase.split():
                if len(word) >= 4 and word not in allowed_words and word not in STOPWORDS:
                    tokens.setdefault(word, f"{kind} (part of a name)")
    for ident in withheld.ids:
        phrase = _skeleton(normalise_text(ident))
        if len(phrase) >= 3 and re.search(r"[^\W\d_]", phrase):
            phrases.setdefault(phrase, "id of a withheld incident")
    for secret in secrets:
        phrase = _skeleton(normalise_text(secret))
        if phrase:
            phrases[phrase] = "the displacement secret"
    return _Needles(phrases, prefixes, tokens, set(withheld.ids))


def _matches(skeletons: Sequence[str], needles: _Needles) -> list[tuple[str, str]]:
    """``(needle, kind)`` of every needle found in any of ``skeletons``."""
    found: dict[str, str] = {}
    for skeleton in skeletons:
        padded = f" {skeleton} "
        words = set(skeleton.split())
        for word in words & needles.tokens.keys():
            found.setdefault(word, needles.tokens[word])
        for phrase, kind in needles.phrases.items():
            if set(phrase.split()) <= words and f" {phrase} " in padded:
                found.setdefault(phrase, kind)
        for prefix, kind in needles.prefixes.items():
            if set(prefix.split()[:-1]) <= words and f" {prefix}" in padded:
                found.setdefault(prefix, kind)
    return list(found.items())


def _single(needle: str, needles: _Needles) -> _Needles:
    """Needles holding only ``needle`` (to locate a finding)."""
    return _Needles(
        {needle: ""} if needle in needles.phrases else {},
        {needle: ""} if needle in needles.prefixes else {},
        {needle: ""} if needle in needles.tokens else {},
        set(),
    )


def _locate(needle: str, needles: _Needles, parts: Sequence[tuple[str, str]]) -> str:
    """Where ``needle`` is: the first part (column, line) whose text holds it."""
    one = _single(needle, needles)
    for label, text in parts:
        if _matches(_decode_variants(text), one):
            return f" in {label}"
    return ""


def _search_text(
    name: str,
    text: str,
    needles: _Needles,
    findings: list[str],
    parts: Callable[[], Sequence[tuple[str, str]]] | None = None,
) -> None:
    """Search ``text`` (a whole file or layer); a finding names the file, the withheld field and
    where (``parts``: labelled pieces, columns or lines), never the value."""
    for needle, kind in _matches(_decode_variants(text), needles):
        where = _locate(needle, needles, parts()) if parts is not None else ""
        findings.append(f"{name}: {kind} found{where}")


def _column_parts(frame: pd.DataFrame) -> list[tuple[str, str]]:
    parts = [("the column names", " ".join(map(str, frame.columns)))]
    for column in frame.columns:
        if column == "geometry":
            continue
        values = frame[column].dropna().astype(str).tolist()
        parts.append((f"column {column}", "\n".join(values)))
    return parts


def _line_parts(text: str) -> list[tuple[str, str]]:
    lines = text.splitlines()
    parts = [(f"line {i + 1}", line) for i, line in enumerate(lines)]
    parts += [
        (f"lines {i + 1}-{i + 2}", lines[i] + "\n" + lines[i + 1]) for i in range(len(lines) - 1)
    ]
    return parts


def _points_within(
    points: np.ndarray, targets: np.ndarray, distance_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (point, target, metres) closer than ``distance_m`` (geodesic), vectorised."""
    if not len(points) or not len(targets):
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    lat_max = float(np.nanmax(np.abs(np.r_[points[:, 1], targets[:, 1]])))
    degrees = distance_m / (110_000.0 * max(np.cos(np.radians(min(lat_max, 89.0))), 0.01))
    tree = shapely.STRtree(np.asarray(shapely.points(targets), dtype=object))
    p, t = tree.query(shapely.points(points), predicate="dwithin", distance=degrees)
    if not len(p):
        return p, t, np.zeros(0)
    _, _, d = _GEOD.inv(points[p, 0], points[p, 1], targets[t, 0], targets[t, 1])
    d = np.asarray(d)
    keep = d < distance_m
    return p[keep], t[keep], d[keep]


#: What to do when a coordinate of a published layer is the true place of a withheld incident.
COINCIDENT_FIX = (
    "A published place (a territory's vertex, label or search point, a community point) is "
    "exactly where a withheld incident is recorded. If the incident's point is a stand-in copied "
    "from that place (it was located only to the territory or community), correct its "
    "coordinates in the incidents file to where it happened; if it truly happened there and its "
    "place may be shown, mark it public; otherwise leave it out of the incidents you publish."
)
_COINCIDENT = "at the true place of a restricted or confidential incident"
#: Most records named per file (the count is always given).
MAX_NAMED = 3


def _name_records(
    hit: np.ndarray, target: np.ndarray, withheld: Withheld, origins: Sequence[str] | None
) -> str:
    """``"incident I2 (...) at feature 1 (territory_id T1)"`` for the first few pairs."""
    labels = list(withheld.true_labels)
    named: list[str] = []
    seen: set[int] = set()
    for p, t in zip(hit.tolist(), target.tolist(), strict=True):
        if t in seen:
            continue
        seen.add(t)
        who = labels[t] if t < len(labels) else "a withheld incident"
        where = f" at {origins[p]}" if origins is not None and p < len(origins) else ""
        named.append(who + where)
        if len(named) == MAX_NAMED:
            break
    more = len(np.unique(target)) - len(named)
    return "; ".join(named) + (f"; and {more} more record(s)" if more > 0 else "")


def _check_points(
    name: str,
    points: np.ndarray,
    withheld: Withheld,
    published: np.ndarray,
    min_distance_m: float,
    findings: list[str],
    near: bool,
    origins: Sequence[str] | None = None,
) -> None:
    """Exact withheld coordinates anywhere; with ``near``, any point near a restricted place
    that is not one of the published points. ``origins`` (row-aligned with ``points``) says
    where each point is in the file (a feature and its id, a line), for the message."""
    if not len(points):
        return
    points = np.asarray(points, dtype=float)
    if len(published):
        known, _, _ = _points_within(points, published, 2.0)
        own = np.zeros(len(points), bool)
        own[known] = True
        points = points[~own]
        if origins is not None:
            origins = [o for o, drop in zip(origins, own, strict=True) if not drop]
    if len(withheld.true_points):
        hit, target, _ = _points_within(points, withheld.true_points, 2.0)
        if len(hit):
            findings.append(
                f"{name}: {len(np.unique(hit))} coordinate(s) {_COINCIDENT}: "
                + _name_records(hit, target, withheld, origins)
            )
            return
    if near and len(withheld.restricted_points):
        hit, target, d = _points_within(points, withheld.restricted_points, min_distance_m)
        if len(hit):
            ids = [str(i) for i in withheld.restricted_ids]
            nearest = int(np.argmin(d))
            who = (
                f"incident {ids[target[nearest]]} (restricted, published displaced)"
                if target[nearest] < len(ids)
                else "a restricted incident"
            )
            where = (
                f" at {origins[hit[nearest]]}"
                if origins is not None and hit[nearest] < len(origins)
                else ""
            )
            findings.append(
                f"{name}: a point{where} {d.min():.0f} m from the true place of {who} "
                f"(minimum {min_distance_m:.0f} m)"
            )


def _feature_origins(frame: pd.DataFrame, index: np.ndarray) -> list[str]:
    """``"feature 3 (territory_id T1)"`` for each coordinate's feature (``index``: 0-based row)."""
    id_columns = [
        c
        for c in frame.columns
        if str(c).lower().endswith("_id") and not _is_incident_id_column(c) and c != "geometry"
    ]
    ids = frame[id_columns[0]].astype(str).to_numpy() if id_columns else None
    return [
        f"feature {i + 1}" + (f" ({id_columns[0]} {_quote(ids[i])})" if ids is not None else "")
        for i in np.asarray(index, dtype=int).tolist()
    ]


def _quote(value: str) -> str:
    """A published id for a message: one line, at most 40 characters."""
    text = re.sub(r"\s+", " ", value).strip()
    return text if len(text) <= 40 else text[:39] + "…"


def _line_origins(text: str, starts: Sequence[int], what: str) -> list[str]:
    """``"a coordinate pair on line 12"`` for matches starting at ``starts``."""
    breaks = np.flatnonzero(np.frombuffer(text.encode("utf-32-le"), dtype="<u4") == 10)
    lines = np.searchsorted(breaks, np.asarray(starts, dtype=int)) + 1
    return [f"{what} on line {n}" for n in lines.tolist()]


def _rounding_slack_m(decimals: int) -> float:
    """Largest move (m) of a point rounded to ``decimals`` beyond the displacement's own margin
    (a kept position re-published with fewer decimals)."""
    half = 0.5 * 10.0**-decimals * 111_320.0 * np.sqrt(2.0)
    return float(max(half - 1.0, 0.0))


_INCIDENT_ID_COLUMN = re.compile(
    r"^(id_?)?incidente?s?(_?(id|ids|i|code|codigo))?$|^id_incidente?$"
)


def _is_incident_id_column(column: object) -> bool:
    """``incident_id`` and its spellings (``incident_i`` in a Shapefile, ``id_incidente``)."""
    name = str(column).strip().lower()
    return bool(_INCIDENT_ID_COLUMN.match(name)) and name not in ("incident", "incidents")


def _check_identity(
    name: str,
    frame: gpd.GeoDataFrame,
    withheld: Withheld,
    min_distance_m: float,
    findings: list[str],
    slack_m: float = 0.0,
) -> None:
    """Rows of displaced incidents must be at least their minimum distance from their true place.

    Rows are matched by incident id; an id shared by several records (duplicated ids) is
    satisfied by any of them. The minimum is each record's own (a position kept from an earlier
    release keeps its range), less ``slack_m`` for coarser rounding.
    """
    id_columns = [c for c in frame.columns if _is_incident_id_column(c)]
    if not id_columns or not len(withheld.restricted_ids) or not len(frame):
        return
    truth_ids = np.asarray(withheld.restricted_ids, dtype=object).astype(str)
    minimum = np.asarray(withheld.restricted_min_m, dtype=float)
    if len(minimum) != len(truth_ids):
        minimum = np.full(len(truth_ids), min_distance_m)
    ids = frame[id_columns[0]].astype(str).to_numpy()
    rows = np.flatnonzero(np.isin(ids, truth_ids))
    if not len(rows):
        return
    geoms = (
        frame.geometry.to_crs(4326).to_numpy()[rows]
        if frame.crs
        else frame.geometry.to_numpy()[rows]
    )
    centre = shapely.centroid(geoms)
    left = pd.DataFrame(
        {"row": rows, "id": ids[rows], "x": shapely.get_x(centre), "y": shapely.get_y(centre)}
    )
    right = pd.DataFrame(
        {
            "id": truth_ids,
            "tx": withheld.restricted_points[:, 0],
            "ty": withheld.restricted_points[:, 1],
            "minimum": minimum,
        }
    )
    pairs = left.merge(right, on="id")
    _, _, d = _GEOD.inv(
        pairs["x"].to_numpy(), pairs["y"].to_numpy(), pairs["tx"].to_numpy(), pairs["ty"].to_numpy()
    )
    pairs["d"] = np.asarray(d)
    pairs["ok"] = pairs["d"] >= pairs["minimum"] - slack_m
    ok = pairs.groupby("row")["ok"].any()
    if not ok.all():
        worst = pairs.loc[pairs["row"].isin(ok.index[~ok])]
        findings.append(
            f"{name}: a displaced restricted incident (column {id_columns[0]}) published "
            f"{worst['d'].min():.0f} m from its true place (minimum {worst['minimum'].min():.0f} m)"
        )


def _table_text(frame: pd.DataFrame) -> str:
    return "\n".join(text for _, text in _column_parts(frame))


def _id_cells(name: str, frame: pd.DataFrame, ids: set[str], findings: list[str]) -> None:
    """Ids of withheld records as a whole cell of an incident-id column (catches short ids).

    Only incident-id columns are compared: a numeric id of a withheld incident that is also a
    parcel's or territory's id, or a count, is an ordinary value there.
    """
    for column in frame.columns:
        if column == "geometry" or not _is_incident_id_column(column):
            continue
        values = frame[column].dropna().astype(str).str.strip()
        if values.isin(ids).any():
            findings.append(f"{name}: id of a withheld incident found in column {column}")


def check_bundle(
    root: Path,
    withheld: Withheld,
    published_points: np.ndarray,
    min_distance_m: float,
    secrets: Sequence[str] = (),
    boilerplate: str = "",
    *,
    public_text: str = "",
    decimals: int = 6,
) -> float:
    """Scan every file of a bundle for withheld values and too-precise locations.

    Text files (GeoJSON, CSV, HTML, Markdown, JSON, KML) are searched after undoing JSON, HTML
    and URL escapes and normalising the text once (:func:`geotools.privacy.normalise_text`:
    compatibility forms, invisible format characters such as soft hyphens and zero-width
    characters, Cyrillic/Greek look-alike letters, case, accents), words hyphenated across a line
    break joined; GeoPackage and Shapefile layers are read in full (every layer, every column).
    Looked for: every withheld text value as a whole phrase (values of four characters or more
    that are not also legitimately published), the first 40 characters of long ones, the words of
    personal names one by one (a surname alone; first and last name apart), ids of withheld
    records (as words, and as whole cells of incident-id columns), the displacement secret,
    coordinates within 2 m of the true place of a restricted or confidential incident, points
    within ``min_distance_m`` of a restricted incident's true place that are not published
    incident points, and displaced rows (by id) closer than their minimum to their true place.

    Parameters
    ----------
    root : pathlib.Path
        The bundle (staging) folder.
    withheld : Withheld
        What must not appear (:func:`geotools.privacy.generalise_incidents`).
    published_points : numpy.ndarray
        ``(n, 2)`` lon/lat of the incident points the bundle publishes.
    min_distance_m : float
        Minimum displacement.
    secrets : sequence of str
        Secrets that must appear nowhere.
    boilerplate : str
        Text the toolkit itself writes (README sentences); a withheld value that is a phrase of
        it (a description reading "outside every territory") is not searched for. The data
        dictionary, the vocabularies and the map labels are always allowed.
    public_text : str, optional
        Text of the layers the privacy rules publish (territory and community names, districts,
        holders...): a withheld value that is also such an ordinary public value ("Nuevo" of
        "Nuevo Progreso", a department name) is not a leak.
    decimals : int, default 6
        Published coordinate decimals (a kept position rounded to fewer decimals may move closer
        by the rounding).

    Returns
    -------
    float
        Seconds the check took.

    Raises
    ------
    LeakError
        Naming each file, the withheld field found and where (column or line), never the value,
        and how to resolve it.
    """
    start = time.perf_counter()
    allowed = "\n".join(
        [withheld.allowed_text, normalise_text(boilerplate), normalise_text(public_text),
         _static_text()]
    )
    needles = _compile_needles(withheld, secrets, allowed)
    slack = _rounding_slack_m(decimals)
    findings: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = str(path.relative_to(root))
        suffix = path.suffix.lower()
        if suffix in SKIPPED_SUFFIXES:
            continue
        if suffix in TABLE_SUFFIXES:
            with gdal_path(path) as gdal_name:
                layers = [str(row[0]) for row in pyogrio.list_layers(gdal_name)]
                frames = [pyogrio.read_dataframe(gdal_name, layer=n) for n in layers]
            for layer_name, frame in zip(layers, frames, strict=True):
                label = f"{name}:{layer_name}"
                where = functools.partial(_column_parts, frame)
                _search_text(label, _table_text(frame), needles, findings, where)
                _id_cells(label, frame, needles.id_set, findings)
                if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None:
                    geoms = frame.geometry.to_crs(4326).to_numpy()
                    _check_identity(label, frame, withheld, min_distance_m, findings, slack)
                    is_point = shapely.get_type_id(geoms) == 0
                    coords, index = shapely.get_coordinates(geoms, return_index=True)
                    _check_points(
                        label,
                        coords,
                        withheld,
                        published_points,
                        min_distance_m,
                        findings,
                        near=False,
                        origins=_feature_origins(frame, index),
                    )
                    _check_points(
                        label,
                        shapely.get_coordinates(geoms[is_point]),
                        withheld,
                        published_points,
                        min_distance_m,
                        findings,
                        near=True,
                    )
            continue
        if suffix not in TEXT_SUFFIXES:
            findings.append(f"{name}: a file the leak check cannot read (not allowed in a bundle)")
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        frame = None
        if suffix == ".csv":
            with open(path, "rb") as handle:  # a handle: pandas reads "file:..." as a URL
                frame = pd.read_csv(handle, dtype=str, keep_default_na=False)
        elif suffix == ".geojson":
            with gdal_path(path) as gdal_name:
                frame = gpd.read_file(gdal_name)

        def parts(table: pd.DataFrame | None = frame, raw: str = text) -> list[tuple[str, str]]:
            return _column_parts(table) if table is not None else _line_parts(raw)

        _search_text(name, text, needles, findings, parts)
        if frame is not None:
            _id_cells(name, frame, needles.id_set, findings)
        if suffix == ".geojson" and isinstance(frame, gpd.GeoDataFrame):
            _check_identity(name, frame, withheld, min_distance_m, findings, slack)
        matches = list(_NUMBER_PAIR.finditer(text))
        pairs = np.array(
            [(float(m.group(1)), float(m.group(2))) for m in matches], dtype=float
        ).reshape(-1, 2)
        swapped = pairs[:, ::-1]
        pair_origins = _line_origins(text, [m.start() for m in matches], "a coordinate pair")
        _check_points(
            name,
            np.r_[pairs, swapped],
            withheld,
            published_points,
            min_distance_m,
            findings,
            near=False,
            origins=pair_origins + pair_origins,
        )
        points: list[tuple[float, float]] = []
        origins: list[str] = []
        for pattern, lon, lat, what in (
            (_POINT_JSON, 1, 2, "a GeoJSON point"),
            (_POINT_KML, 1, 2, "a KML point"),
            (_LEAFLET_LATLON, 2, 1, "a map marker"),  # Leaflet writes [lat, lon]
        ):
            found = list(pattern.finditer(text))
            points += [(float(m.group(lon)), float(m.group(lat))) for m in found]
            origins += _line_origins(text, [m.start() for m in found], what)
        _check_points(
            name,
            np.array(points, dtype=float).reshape(-1, 2),
            withheld,
            published_points,
            min_distance_m,
            findings,
            near=True,
            origins=origins,
        )
    seconds = time.perf_counter() - start
    if findings:
        more = f" (and {len(findings) - 5} more)" if len(findings) > 5 else ""
        raise LeakError(
            "leak check failed, nothing was published: "
            + "; ".join(findings[:5])
            + more
            + ". "
            + (COINCIDENT_FIX + " " if any(_COINCIDENT in f for f in findings) else "")
            + LEAK_FIX
        )
    log.info("leak check: clean (%.2f s)", seconds)
    return seconds
