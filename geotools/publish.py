"""Download bundles journalists can trust and that endanger no one (``geotools publish``).

A bundle is one folder: the layers as RFC 7946 GeoJSON, ``territory_stats.csv``,
``overlaps.csv``, ``timeseries.csv``, ``analysis.gpkg``, the map, a ``README.md`` data dictionary,
a Frictionless ``datapackage.json`` and ``SHA256SUMS`` (Shapefile and KML on request). It is
written into a staging folder beside the target and renamed into place only when complete and,
for the ``public`` profile, only when the leak check (:func:`check_bundle`) finds nothing.

The privacy rules live in :mod:`geotools.privacy`; see ``docs/publish.md`` for the decisions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import html
import json
import logging
import os
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Geod

from geotools._version import __version__
from geotools.analysis.risk import RiskConfig
from geotools.analysis.stats import StatsResult, round_table
from geotools.errors import ForeignFilesError, GeotoolsError, OutputExistsError, SourceError
from geotools.io import (
    Layer,
    compute_sha256,
    mark_output_folder,
    read_frame,
    staged_outputs,
    write_csv,
    write_geopackage,
)
from geotools.privacy import (
    FLOOR_MAX_HEX_RESOLUTION,
    FLOOR_MIN_COUNT,
    FLOOR_MIN_DISTANCE_M,
    FLOOR_RING_WIDTH_M,
    GENERALISED_COLUMN,
    METHOD_COLUMN,
    POSITIONS_ENV,
    UNCERTAINTY_COLUMN,
    GeneralisedIncidents,
    PositionStore,
    PrivacyPolicy,
    ShareableView,
    Withheld,
    check_public_policy,
    compute_shareable_view,
    derive_key,
    find_personal_columns,
    normalise_text,
    select_drawable,
)
from geotools.provenance import AREA_METHOD, CAVEATS
from geotools.schema import DEFAULT_NEARBY_KM

log = logging.getLogger(__name__)

_GEOD = Geod(ellps="WGS84")

PROFILES = ("public", "internal")
FORMATS = ("shp", "kml")
SECRET_ENV = "GEOTOOLS_PUBLISH_SECRET"
#: Displacement key of the demo bundle. It is public, not a secret: anyone can undo the demo's
#: displacements, which is acceptable only because every demo location is invented. Never use
#: it for real data. (The value is kept so that demo outputs do not change.)
DEMO_KEY = "geotools-demo-secret-invented-locations-only"
#: Old name of :data:`DEMO_KEY`.
DEMO_SECRET = DEMO_KEY
#: Sources whose terms forbid passing raw records on (importer names).
NOT_REDISTRIBUTABLE_SOURCES = frozenset({"acled"})
_NO_REDISTRIBUTION = re.compile(
    r"forbid\w* redistribut|not (be )?redistribut|aggregates only", re.IGNORECASE
)


class LeakError(GeotoolsError):
    """The leak check found a withheld value or a too-precise location in a bundle file."""


class BundleError(GeotoolsError):
    """A bundle cannot be written (bad option, unsafe target folder...)."""


# --------------------------------------------------------------------------------------------
# Data dictionary
# --------------------------------------------------------------------------------------------

#: column -> (meaning, unit, vocabulary). Looked up exactly, then by the patterns below.
COLUMN_DOCS: dict[str, tuple[str, str, str]] = {
    "territory_id": ("Identifier of the territory (ancestral claim)", "", ""),
    "name": ("Name of the territory, or of the line (infrastructure), as given", "", ""),
    "territory_name": ("Name of the territory", "", ""),
    "people": ("Indigenous people(s) of the territory", "", ""),
    "community": ("Kind of community", "", ""),
    "claim_source": ("Source of the claim boundary", "", ""),
    "claim_date": ("Date of the claim", "date", ""),
    "parcel_id": ("Identifier of the legal tenure parcel", "", ""),
    "tenure": (
        "Legal tenure of the parcel",
        "",
        "titled, cession_in_use, demarcated, in_process",
    ),
    "title_date": ("Date of the title", "date", ""),
    "registry_ref": ("Public registry reference of the title", "", ""),
    "concession_id": ("Identifier of the concession", "", ""),
    "kind": (
        "Kind of concession, incident or infrastructure line",
        "",
        "concessions: mining, oil_gas, agribusiness, forestry, other; incidents: threat, attack, "
        "killing, arson, eviction, invasion, deforestation, spill, protest_casualty, "
        "criminalization, other; infrastructure: pipeline, road",
    ),
    "status": ("Status of the concession", "", "active, in_process, expired"),
    "holder": ("Holder of the concession (company), as in the public cadastre", "", ""),
    "granted_date": ("Date the concession was granted", "date", ""),
    "incident_id": ("Identifier of the incident record", "", ""),
    "date": (
        "Date of the incident (first day of the period when only a month/year is known)",
        "date (ISO 8601)",
        "",
    ),
    "date_end": ("Last day of the period the incident date stands for", "date (ISO 8601)", ""),
    "date_precision": ("How precise the date is", "", "day, month, year"),
    "date_raw": ("Date as written in the source", "", ""),
    "severity": ("Severity of the incident", "1-5 (default by kind)", ""),
    "description": (
        "Description of the incident; published only for incidents marked public",
        "",
        "",
    ),
    "victims": ("Who was affected (internal bundles only: a personal field)", "", ""),
    "reporter": ("Who reported (internal bundles only: a personal field)", "", ""),
    "phone": ("Contact phone (internal bundles only: a personal field)", "", ""),
    "source": ("Source of the record", "", ""),
    "precision": (
        "Precision of the original location (of the true place, before any generalisation); "
        "uncertainty radius exact 0, approximate 1 km, locality 5 km, district 20 km",
        "",
        "exact, approximate, locality, district",
    ),
    "sensitivity": (
        "Sensitivity of the record as given (missing = restricted)",
        "",
        "public, restricted, confidential",
    ),
    GENERALISED_COLUMN: (
        "True when the location was displaced for the safety of the people involved: the point "
        "is NOT where the incident happened",
        "",
        "true, false",
    ),
    UNCERTAINTY_COLUMN: (
        "Radius around the published point within which the true place lies (maximum "
        "displacement plus the original precision radius)",
        "m",
        "",
    ),
    METHOD_COLUMN: ("How the published location was obtained", "", "as given, displaced A-B km"),
    "km_start": ("Pipeline kilometre mark at the first vertex of the line", "km", ""),
    "km_end": ("Pipeline kilometre mark at the last vertex of the line", "km", ""),
    "year": ("Calendar year", "year", ""),
    "h3_cell": ("H3 cell index (hexagonal grid, h3geo.org)", "", ""),
    "h3_resolution": ("H3 resolution of the cell (6: about 36 km², edge about 3.7 km)", "", ""),
    "incidents": (
        "Incidents located in the cell; counts below the suppression minimum are shown as <N",
        "count or <N",
        "",
    ),
    "incidents_confidential_inside": (
        "Confidential incidents inside the territory (not otherwise published); values below "
        "the suppression minimum, zero included, are shown as <N",
        "count or <N",
        "",
    ),
    "incidents_confidential_nearby": (
        "Confidential incidents outside the territory within nearby_km of it; suppressed below "
        "the minimum (zero included) as <N",
        "count or <N",
        "",
    ),
    "claimed_ha": ("Area of the territory (holes excluded), geodesic", "ha", ""),
    "titled_ha": ("Union of parcels with tenure titled, clipped to the territory", "ha", ""),
    "secured_ha": ("Union of titled and cession_in_use parcels in the territory", "ha", ""),
    "untitled_ha": ("Claimed minus secured", "ha", ""),
    "in_process_ha": ("Union of parcels in_process (titling or extension requested)", "ha", ""),
    "concession_ha": ("Union of active and in-process concessions in the territory", "ha", ""),
    "concession_untitled_ha": ("Part of concession_ha on untitled land", "ha", ""),
    "concession_expired_ha": ("Union of expired concessions (never counted as pressure)", "ha", ""),
    "incidents_inside": (
        "Incidents located inside the territory (an imprecise one only when its whole "
        "uncertainty radius is inside); public bundles exclude confidential incidents",
        "count",
        "",
    ),
    "incidents_nearby": (
        "Incidents outside the territory within nearby_km of it (geodesic); public bundles "
        "exclude confidential incidents",
        "count",
        "",
    ),
    "incidents_uncertain": (
        "Incidents whose uncertainty radius straddles the boundary (they may be inside)",
        "count",
        "",
    ),
    "incident_severity_inside": ("Sum of severities of incidents inside that year", "1-5 sum", ""),
    "severity_inside": ("Sum of severities of incidents inside", "1-5 sum", ""),
    "severity_nearby": ("Sum of severities of incidents nearby", "1-5 sum", ""),
    "killings_inside": ("Incidents of kind killing or protest_casualty inside", "count", ""),
    "killings_nearby": ("Incidents of kind killing or protest_casualty nearby", "count", ""),
    "undated_inside": ("Incidents inside with no readable date", "count", ""),
    "last_incident_date": ("Latest incident date inside or nearby", "date", ""),
    "first_incident_year": ("Earliest incident year inside or nearby", "year", ""),
    "days_since_last_incident": (
        "Days from the last incident to the latest incident date in the layer",
        "days",
        "",
    ),
    "spills_inside": ("Incidents of kind spill inside", "count", ""),
    "spills_nearby": ("Incidents of kind spill nearby", "count", ""),
    "forest_loss_ha": ("Forest lost (all years, or that year in timeseries.csv)", "ha", ""),
    "forest_loss_titled_ha": ("Forest lost on titled land", "ha", ""),
    "forest_loss_secured_ha": ("Forest lost on secured land", "ha", ""),
    "forest_loss_untitled_ha": ("Forest lost on untitled land", "ha", ""),
    "forest_loss_coverage": (
        "Whether the forest-loss raster covers the territory (outside means unknown, not zero)",
        "",
        "inside, partial, outside",
    ),
    "risk_score": ("Transparent 0-100 risk index (docs/risk.md)", "0-100", ""),
    "risk_score_max": ("Risk score if every missing input were at its worst", "0-100", ""),
    "risk_class": ("Class of the risk score", "", "low, medium, high, critical"),
    "risk_missing": ("Risk components whose input was missing", "", ""),
    "risk_drivers": ("One sentence naming the main risk drivers with their numbers", "", ""),
    "overlap_ha": ("Area of the concession inside the territory", "ha", ""),
    "pct_of_territory": ("Overlap as a share of the territory's claimed area", "%", ""),
    "pct_of_concession": ("Overlap as a share of the concession's area", "%", ""),
    "on_titled_ha": ("Part of the overlap on titled land", "ha", ""),
    "on_secured_ha": ("Part of the overlap on secured land", "ha", ""),
    "on_untitled_ha": ("Part of the overlap on untitled land", "ha", ""),
}

_PATTERN_DOCS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[str, str, str]]]] = [
    (
        re.compile(r"(\w+)_pct$"),
        lambda m: (f"100 x {m.group(1)}_ha / claimed_ha", "%", ""),
    ),
    (
        re.compile(r"concession_(\w+)_ha$"),
        lambda m: (
            f"Union of concessions of kind or status '{m.group(1)}' in the territory "
            "(kinds can overlap each other)",
            "ha",
            "",
        ),
    ),
    (
        re.compile(r"incidents_(inside|nearby)_(\w+)$"),
        lambda m: (f"Incidents of kind {m.group(2)} {m.group(1)} the territory", "count", ""),
    ),
    (
        re.compile(r"(pipeline|road)_km_(inside|nearby)$"),
        lambda m: (f"Length of {m.group(1)} lines {m.group(2)} the territory (geodesic)", "km", ""),
    ),
    (
        re.compile(r"risk_(tenure|concessions|violence|deforestation|infrastructure)$"),
        lambda m: (f"Risk component {m.group(1)} (empty when its input is missing)", "0-1", ""),
    ),
]


def describe_column(column: str) -> tuple[str, str, str]:
    """Return ``(meaning, unit, vocabulary)`` of an output column.

    Columns the toolkit does not define are source columns kept as given.

    Examples
    --------
    >>> describe_column("titled_pct")[1]
    '%'
    """
    if column in COLUMN_DOCS:
        return COLUMN_DOCS[column]
    for pattern, make in _PATTERN_DOCS:
        match = pattern.fullmatch(column)
        if match:
            return make(match)
    return ("Column of the source layer, published as given (see Sources)", "", "")


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


# --------------------------------------------------------------------------------------------
# Licences
# --------------------------------------------------------------------------------------------


def describe_licence(layer: Layer) -> dict[str, Any]:
    """Return ``{"importer", "licence", "redistributable"}`` of a layer from its QA notes."""
    importer = layer.ledger.notes.get("importer") or {}
    source = importer.get("source")
    licence = importer.get("licence")
    redistributable = not (
        source in NOT_REDISTRIBUTABLE_SOURCES or (licence and _NO_REDISTRIBUTION.search(licence))
    )
    return {"importer": source, "licence": licence, "redistributable": bool(redistributable)}


# --------------------------------------------------------------------------------------------
# Options and results
# --------------------------------------------------------------------------------------------


@dataclass
class PublishOptions:
    """Options of a bundle.

    Attributes
    ----------
    profile : {"public", "internal"}
    formats : tuple of str
        Extra formats: ``shp``, ``kml``.
    decimals : int
        GeoJSON coordinate decimals.
    policy : PrivacyPolicy
        Parameters of the public profile.
    secret : str or None
        Displacement secret (never written anywhere).
    positions : str or path-like or None
        Position store kept with the key (:class:`geotools.privacy.PositionStore`): every
        restricted record keeps the position it was first published at, in every later release
        with any options. None: no store (positions are then a pure function of the key, the
        record and the range; a release with other options can publish other points, which
        narrows the true place down; ``geotools publish`` always keeps one).
    lang : str
        Map language.
    overwrite : bool
        Replace an existing bundle folder.
    created : str or None
        Date written into the README (default: today, UTC).
    keep_columns : tuple of str
        Extra columns a public bundle may keep in the non-incident layers (every other column
        outside the allow-list is dropped; personal-looking columns always are).

    A public profile's policy must respect the safe floors
    (:func:`geotools.privacy.check_public_policy`): it is refused otherwise.
    """

    profile: str = "public"
    formats: tuple[str, ...] = ()
    decimals: int = 6
    policy: PrivacyPolicy = field(default_factory=PrivacyPolicy)
    secret: str | None = None
    positions: str | os.PathLike[str] | None = None
    lang: str = "es"
    overwrite: bool = False
    created: str | None = None
    keep_columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.profile == "public":
            check_public_policy(self.policy)


@dataclass
class BundleReport:
    """What :func:`publish_bundle` wrote and measured.

    Attributes
    ----------
    out : pathlib.Path
        The bundle folder.
    files : list of str
        Files in the bundle (relative paths).
    bytes : int
        Total size.
    facts : dict
        Privacy facts (counts, displacement range measured) and the leak check runtime.
    """

    out: Path
    files: list[str]
    bytes: int
    facts: dict[str, Any]


# --------------------------------------------------------------------------------------------
# Staging
# --------------------------------------------------------------------------------------------


@contextmanager
def staged_bundle(out: Path, overwrite: bool) -> Iterator[Path]:
    """Yield a staging folder beside ``out``; on success it replaces ``out`` as a whole.

    A folder is replaced only with ``overwrite`` and only when it is empty or holds nothing but
    files geotools wrote (listed in its :data:`geotools.io.MARKER`): ``--overwrite`` never
    deletes a user's files, and nothing of the old bundle survives. The folder is locked for
    the run, a symbolic link is refused, and nothing of a failed run is left behind (a killed
    run's staging folder is removed by the next run). See :func:`geotools.io.staged_outputs`.
    """
    try:
        with staged_outputs(Path(out), [], overwrite, group="publish", whole=True) as stage:
            yield stage
    except ForeignFilesError as exc:
        raise BundleError(f"{exc}") from exc


# --------------------------------------------------------------------------------------------
# Leak check
# --------------------------------------------------------------------------------------------

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
    from geotools.schema import VOCABULARIES

    parts = [" | ".join(doc) for doc in COLUMN_DOCS.values()]
    parts += [*FILE_DESCRIPTIONS.values(), AREA_METHOD, *CAVEATS]
    parts += [" ".join(v) for layer in VOCABULARIES.values() for v in layer.values()]
    try:
        from geotools.maps import TEXT, VALUE_LABELS
        from geotools.static_maps import STATIC_TEXT

        for table in (TEXT, STATIC_TEXT):
            parts += [str(v) for texts in table.values() for v in texts.values()]
        parts += [
            str(v)
            for by_lang in VALUE_LABELS.values()
            for labels in by_lang.values()
            for v in labels.values()
        ]
    except ImportError:  # pragma: no cover - the map modules are part of the package
        pass
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


def _check_points(
    name: str,
    points: np.ndarray,
    withheld: Withheld,
    published: np.ndarray,
    min_distance_m: float,
    findings: list[str],
    near: bool,
) -> None:
    """Exact withheld coordinates anywhere; with ``near``, any point near a restricted place
    that is not one of the published points."""
    if not len(points):
        return
    points = np.asarray(points, dtype=float)
    if len(published):
        known, _, _ = _points_within(points, published, 2.0)
        own = np.zeros(len(points), bool)
        own[known] = True
        points = points[~own]
    if len(withheld.true_points):
        hit, _, _ = _points_within(points, withheld.true_points, 2.0)
        if len(hit):
            findings.append(
                f"{name}: {len(np.unique(hit))} coordinate(s) at the true place of a restricted "
                "or confidential incident"
            )
            return
    if near and len(withheld.restricted_points):
        hit, _, d = _points_within(points, withheld.restricted_points, min_distance_m)
        if len(hit):
            findings.append(
                f"{name}: a point {d.min():.0f} m from the true place of a restricted incident "
                f"(minimum {min_distance_m:.0f} m)"
            )


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
            for layer_name, *_ in pyogrio.list_layers(path):
                frame = pyogrio.read_dataframe(path, layer=layer_name)
                label = f"{name}:{layer_name}"
                where = functools.partial(_column_parts, frame)
                _search_text(label, _table_text(frame), needles, findings, where)
                _id_cells(label, frame, needles.id_set, findings)
                if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None:
                    geoms = frame.geometry.to_crs(4326).to_numpy()
                    _check_identity(label, frame, withheld, min_distance_m, findings, slack)
                    is_point = shapely.get_type_id(geoms) == 0
                    _check_points(
                        label,
                        shapely.get_coordinates(geoms),
                        withheld,
                        published_points,
                        min_distance_m,
                        findings,
                        near=False,
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
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        elif suffix == ".geojson":
            frame = gpd.read_file(path)

        def parts(table: pd.DataFrame | None = frame, raw: str = text) -> list[tuple[str, str]]:
            return _column_parts(table) if table is not None else _line_parts(raw)

        _search_text(name, text, needles, findings, parts)
        if frame is not None:
            _id_cells(name, frame, needles.id_set, findings)
        if suffix == ".geojson" and isinstance(frame, gpd.GeoDataFrame):
            _check_identity(name, frame, withheld, min_distance_m, findings, slack)
        pairs = np.array(
            [(float(a), float(b)) for a, b in _NUMBER_PAIR.findall(text)], dtype=float
        ).reshape(-1, 2)
        swapped = pairs[:, ::-1]
        _check_points(
            name,
            np.r_[pairs, swapped],
            withheld,
            published_points,
            min_distance_m,
            findings,
            near=False,
        )
        points = [(float(a), float(b)) for a, b in _POINT_JSON.findall(text)]
        points += [(float(a), float(b)) for a, b in _POINT_KML.findall(text)]
        points += [(float(b), float(a)) for a, b in _LEAFLET_LATLON.findall(text)]
        _check_points(
            name,
            np.array(points, dtype=float).reshape(-1, 2),
            withheld,
            published_points,
            min_distance_m,
            findings,
            near=True,
        )
    seconds = time.perf_counter() - start
    if findings:
        more = f" (and {len(findings) - 5} more)" if len(findings) > 5 else ""
        raise LeakError(
            "leak check failed, nothing was published: "
            + "; ".join(findings[:5])
            + more
            + ". "
            + LEAK_FIX
        )
    log.info("leak check: clean (%.2f s)", seconds)
    return seconds


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _table_schema(frame: pd.DataFrame) -> list[dict[str, str]]:
    fields = []
    for column in frame.columns:
        if column == "geometry":
            continue
        series = frame[column]
        if pd.api.types.is_bool_dtype(series):
            kind = "boolean"
        elif pd.api.types.is_integer_dtype(series):
            kind = "integer"
        elif pd.api.types.is_float_dtype(series):
            kind = "number"
        else:
            kind = "string"
        meaning, unit, vocabulary = describe_column(str(column))
        text = (
            meaning
            + (f" ({unit})" if unit else "")
            + (f"; values: {vocabulary}" if vocabulary else "")
        )
        fields.append({"name": str(column), "type": kind, "description": text})
    return fields


def _shapefile_names(columns: Sequence[str]) -> dict[str, str]:
    """Unique field names of at most 10 characters for a Shapefile (deterministic)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for column in columns:
        base = column[:10]
        name, i = base, 1
        while name.lower() in used:
            suffix = f"_{i}"
            name, i = base[: 10 - len(suffix)] + suffix, i + 1
        used.add(name.lower())
        out[column] = name
    return out


@dataclass
class _Bundle:
    """What goes into a bundle before it is written."""

    profile: str
    stats: StatsResult
    layers: dict[str, gpd.GeoDataFrame]
    hexagons: gpd.GeoDataFrame | None
    map_layers: dict[str, Layer]
    sources: list[dict[str, Any]]
    privacy: dict[str, Any]
    attribution: list[str]


def _layer_frame(layer: Layer) -> gpd.GeoDataFrame:
    return layer.frame.to_crs(4326).reset_index(drop=True)


def _describe_sources(
    layers: Mapping[str, Layer], profile: str, view: ShareableView | None = None
) -> list[dict[str, Any]]:
    """File, checksum, licence and source names of each layer; a public bundle names only the
    sources the privacy gate's ``view`` may show (incidents: sources of published records)."""
    sources = []
    for kind, layer in layers.items():
        entry: dict[str, Any] = {"layer": kind, "file": layer.path.name, "sha256": layer.sha256}
        entry.update(describe_licence(layer))
        frame = layer.frame
        column = "claim_source" if kind == "territories" else "source"
        if view is not None:
            names = view.sources.get(kind, [])
            if names:
                entry["sources"] = sorted(names)[:20]
        elif column in frame.columns:
            rows = frame
            if kind == "incidents" and profile == "public":
                rows = frame.loc[select_drawable(frame, "public")[0]]
            values = rows[column].dropna().astype(str).unique().tolist()
            entry["sources"] = sorted(values)[:20]
        sources.append(entry)
    return sources


def _prepare(
    layers: Mapping[str, Layer],
    options: PublishOptions,
    compute: Callable[[Mapping[str, Layer]], StatsResult],
    districts: gpd.GeoDataFrame | None,
    water: gpd.GeoDataFrame | None,
) -> tuple[_Bundle, GeneralisedIncidents | None]:
    policy = options.policy
    if options.profile == "internal":
        sources = _describe_sources(layers, options.profile)
        attribution = [f"{s['layer']}: {s['licence']}" for s in sources if s.get("licence")]
        stats = compute(layers)
        frames = {kind: _layer_frame(layer) for kind, layer in layers.items()}
        return (
            _Bundle(
                "internal",
                stats,
                frames,
                None,
                dict(layers),
                sources,
                {"profile": "internal"},
                attribution,
            ),
            None,
        )
    # One gate for every public file: statistics of every incident, then the view recounts
    # them from what is published, at the published places.
    redistributable = (
        describe_licence(layers["incidents"])["redistributable"] if "incidents" in layers else True
    )
    key = derive_key(options.secret) if options.secret else None
    view = compute_shareable_view(
        compute(layers),
        layers,
        profile="public",
        policy=policy,
        key=key,
        districts=districts,
        water=water,
        decimals=options.decimals,
        redistributable=redistributable,
        keep_columns=options.keep_columns,
        store=open_position_store(options, key),
    )
    frames = {kind: frame.reset_index(drop=True) for kind, frame in view.layers.items()}
    if not redistributable:
        frames.pop("incidents", None)
    map_layers = {kind: dataclasses.replace(layers[kind], frame=frames[kind]) for kind in frames}
    sources = _describe_sources(layers, "public", view)
    attribution = [f"{s['layer']}: {s['licence']}" for s in sources if s.get("licence")]
    generalised = view.generalised
    if generalised is not None:
        # Personal fields of the other layers must not appear anywhere either.
        for kind, layer in layers.items():
            if kind == "incidents":
                continue
            personal = find_personal_columns(
                [c for c in layer.frame.columns if c != layer.frame.geometry.name]
            )
            for column in personal:
                values = layer.frame[column].dropna().astype(str).str.strip()
                generalised.withheld.values += [
                    (f"personal field {column} of {kind}", v)
                    for v in values[values.str.len() >= 4].unique()
                ]
    facts = {k: v for k, v in view.facts.items() if k != "dropped_columns_by_layer"}
    privacy = {
        "profile": "public",
        "policy": dataclasses.asdict(policy),
        "incidents": facts,
        "columns_not_published": view.dropped_columns,
    }
    return (
        _Bundle(
            "public",
            view.result,
            frames,
            view.hexagons,
            map_layers,
            sources,
            privacy,
            attribution,
        ),
        generalised,
    )


def _write_tables(bundle: _Bundle, stage: Path, decimals: int) -> dict[str, pd.DataFrame]:
    written: dict[str, pd.DataFrame] = {}
    tables = {
        "territory_stats.csv": round_table(bundle.stats.table),
        "overlaps.csv": round_table(bundle.stats.overlaps),
        "timeseries.csv": round_table(bundle.stats.timeseries),
    }
    for name, table in tables.items():
        write_csv(table, stage / name)
        written[name] = table
    territories = round_table(pd.DataFrame(bundle.stats.territories))
    geo = {
        "territories.geojson": gpd.GeoDataFrame(
            territories, geometry="geometry", crs=bundle.stats.territories.crs
        ),
    }
    for kind in ("parcels", "concessions", "incidents", "infrastructure"):
        if kind in bundle.layers:
            geo[f"{kind}.geojson"] = bundle.layers[kind]
    if bundle.hexagons is not None:
        geo["incident_hexagons.geojson"] = bundle.hexagons
    for name, frame in geo.items():
        write_geojson(frame, stage / name, decimals)
        written[name] = frame
    gpkg: dict[str, gpd.GeoDataFrame] = {"territory_stats": geo["territories.geojson"]}
    if bundle.stats.untitled is not None:
        gpkg["untitled"] = bundle.stats.untitled
    for name, frame in geo.items():
        if name != "territories.geojson":
            gpkg[name.removesuffix(".geojson")] = frame.to_crs(4326)
    write_geopackage(gpkg, stage / "analysis.gpkg")
    return written


def _write_formats(
    frames: Mapping[str, pd.DataFrame], formats: Sequence[str], stage: Path
) -> dict[str, dict[str, str]]:
    names: dict[str, dict[str, str]] = {}
    for file, frame in frames.items():
        if not file.endswith(".geojson"):
            continue
        stem = file.removesuffix(".geojson")
        wgs = gpd.GeoDataFrame(frame).to_crs(4326)
        wgs = wgs.loc[~(wgs.geometry.isna() | wgs.geometry.is_empty)]
        columns = [c for c in wgs.columns if c != wgs.geometry.name]
        if "shp" in formats:
            rename = _shapefile_names(columns)
            names[stem] = {v: k for k, v in rename.items() if v != k}
            (stage / "shp").mkdir(exist_ok=True)
            pyogrio.write_dataframe(
                wgs.rename(columns=rename),
                stage / "shp" / f"{stem}.shp",
                driver="ESRI Shapefile",
                promote_to_multi=bool(wgs.geom_type.str.startswith("Multi").any()),
                encoding="UTF-8",
            )
        if "kml" in formats:
            (stage / "kml").mkdir(exist_ok=True)
            pyogrio.write_dataframe(wgs, stage / "kml" / f"{stem}.kml", driver="KML")
    return names


FILE_DESCRIPTIONS = {
    "territory_stats.csv": "One row per territory: tenure, concessions, incidents, forest loss, "
    "risk",
    "overlaps.csv": "One row per territory x concession pair that overlap",
    "timeseries.csv": "One row per territory and year with anything to report",
    "territories.geojson": "Territories with every column of territory_stats.csv",
    "parcels.geojson": "Legal tenure parcels",
    "concessions.geojson": "Concessions",
    "incidents.geojson": "Incidents that may be published (see Privacy)",
    "infrastructure.geojson": "Pipelines and roads",
    "incident_hexagons.geojson": "Incident counts per H3 hexagon (suppressed below the minimum)",
    "analysis.gpkg": "GeoPackage with the layers above (territory_stats, untitled, parcels, "
    "concessions, incidents, ...) in one file",
    "map.html": "Interactive map (open in any browser)",
    "README.md": "This data dictionary",
    "datapackage.json": "Frictionless Data Package descriptor (machine-readable dictionary)",
    "SHA256SUMS": "SHA-256 checksums of every file (sha256sum -c SHA256SUMS)",
}


def _privacy_section(bundle: _Bundle, options: PublishOptions) -> list[str]:
    if bundle.profile == "internal":
        return [
            "## Privacy",
            "",
            "**INTERNAL BUNDLE: DO NOT SHARE. It holds exact locations of restricted and "
            "confidential incidents and personal fields (victims, reporters). Publish with "
            "`--profile public` instead.**",
            "",
        ]
    policy = options.policy
    facts = bundle.privacy.get("incidents", {})
    lines = [
        "## Privacy: what was withheld and generalised",
        "",
        "This is a **public** bundle (geotools profile `public`). The people in the incident "
        "layer are at risk; the following rules were applied before anything was written, and a "
        "leak check scanned every file of this bundle before it was released.",
        "",
        "- Personal fields (victims, reporter, phone, contact, e-mail and any column named like "
        "one) are not published, in any file. Incidents are published through a whitelist of "
        "columns; free-text descriptions only for incidents marked public.",
        f"- Confidential incidents are left out. They appear only in the per-territory counts "
        f"`incidents_confidential_inside` and `incidents_confidential_nearby`, where any count "
        f"below {policy.min_count} (zero included) is shown as `<{policy.min_count}`. Overall: "
        f"{facts.get('confidential', f'<{policy.min_count}')} confidential incident(s).",
    ]
    if policy.restricted == "displace":
        lines.append(
            f"- Restricted incidents (and incidents with no sensitivity) are displaced: each "
            f"point is moved a geodesic distance between {policy.min_distance_m:,.0f} and "
            f"{policy.max_distance_m:,.0f} m (uniform over the area of that ring), in a random "
            "direction, staying inside the same territory (or outside every territory when it "
            "was outside all)"
            + (", the same district" if bundle.privacy.get("districts") else "")
            + (", and out of water" if bundle.privacy.get("water") else "")
            + ". "
            + _key_sentence(options)
            + " Their rows carry "
            f"`{GENERALISED_COLUMN}` = true and `{UNCERTAINTY_COLUMN}` = the maximum "
            "displacement plus the radius of the original precision: the true place is within "
            "that radius of the published point, never within the minimum distance of it."
        )
    else:
        lines.append(
            f"- Restricted incidents are not published as points: they are counted per H3 "
            f"hexagon of resolution {policy.hex_resolution} in `incident_hexagons.geojson`, "
            f"counts below {policy.min_count} shown as `<{policy.min_count}`."
        )
    # Only published numbers: no total of records read, from which the confidential number
    # would follow by subtraction.
    lines += [
        f"- Incidents published: {facts.get('public', 0)} public and "
        f"{facts.get('restricted', 0)} restricted ({facts.get('displaced', 0)} displaced, "
        f"{facts.get('not_displaceable', 0)} could not be displaced within the constraints and "
        f"are only in hexagon counts); {facts.get('aggregated', 0)} only in hexagon counts; "
        f"{facts.get('published_points', 0)} published as points.",
        "- Derived tables (territory_stats, timeseries, risk score and drivers, map popups) "
        "count only the incidents published, at the places published: a displaced incident "
        "counts as nearby a territory only if its published point is; restricted incidents not "
        "published as points are only in the hexagon counts; confidential incidents only in "
        "the suppressed confidential columns. Re-counting incidents.geojson gives the same "
        "numbers. The risk surface (risk_surface.tif, risk_hexagons.geojson) and the QA reports "
        "are not part of a public bundle: they are built from exact locations.",
        f"- Safe floors of the public profile (geotools refuses anything below them): "
        f"displacement at least {FLOOR_MIN_DISTANCE_M / 1000:g} km in a ring at least "
        f"{FLOOR_RING_WIDTH_M / 1000:g} km wide, counts below at least {FLOOR_MIN_COUNT} "
        f"suppressed, H3 hexagons of resolution {FLOOR_MAX_HEX_RESOLUTION} or coarser.",
    ]
    for layer, columns in sorted(bundle.privacy.get("columns_not_published", {}).items()):
        lines.append(
            f"- Columns of the {layer} layer not published ({len(columns)}): "
            + ", ".join(f"`{c}`" for c in columns)
            + "."
        )
    if not facts.get("redistributable", True):
        lines.append(
            "- The incidents layer may not be redistributed record by record (see Sources): it "
            "is published only as aggregates (per-territory counts and hexagon counts)."
        )
    lines.append("")
    return lines


def _key_sentence(options: PublishOptions) -> str:
    """How the offsets are keyed, in the README (the demo's key is public, not a secret)."""
    if options.secret is not None and options.secret.strip() == DEMO_KEY:
        return (
            "The offsets of this demo bundle are drawn with the public demo key "
            "(`geotools.publish.DEMO_KEY`), which anyone can use to undo them: acceptable only "
            "because every location in the demo data is invented."
        )
    return (
        "The offset of each record is drawn from a keyed hash of its true location under a "
        "secret key that is not published: re-publishing gives the same points, and the offset "
        "cannot be recomputed from the method and the record."
    )


def _positions_section(bundle: _Bundle, options: PublishOptions) -> list[str]:
    """README lines on kept positions and the stated (configured, never measured) range."""
    facts = bundle.privacy.get("incidents", {})
    if bundle.profile != "public" or not facts or not facts.get("restricted"):
        return []
    policy = options.policy
    configured = f"{policy.min_distance_m / 1000:g}-{policy.max_distance_m / 1000:g} km"
    kept = int(facts.get("positions_kept", 0))
    new = int(facts.get("displaced", 0)) - kept
    lines = ["### Published positions are kept", ""]
    if facts.get("position_store"):
        lines.append(
            "- Every restricted incident keeps the position it was first published at, in every "
            "later release made with the same key, whatever its options (displacement range, "
            "districts, water, row order, ids): a record is identified by a keyed hash of its "
            "true location, never by its row or id, and its position is never drawn twice. "
            f"This release: {kept} kept position(s), {new} drawn for the first time, "
            f"{facts.get('withheld_published_before', 0)} published before and withheld here "
            "because the kept position does not meet this release's options."
        )
    else:
        lines.append(
            "- No position store was used: positions are a pure function of the key, the "
            "record's location and the displacement range (the same options give the same "
            "points)."
        )
    lines += [
        f"- The displacement range configured for this release is {configured}; it applies to "
        "incidents displaced for the first time. Each displaced row states the range it was "
        "drawn under (`location_method`, `location_uncertainty_m`). The distances actually "
        "drawn are not published.",
        "- Records first published as hexagon counts stay in hexagon counts; records published "
        "as points are not also counted in hexagons.",
        "",
    ]
    return lines


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()|~&#!])")


def _md(value: object) -> str:
    """``value`` as literal Markdown text on one line: Markdown and HTML characters escaped."""
    text = re.sub(r"\s+", " ", str(value)).strip()
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_code(value: object) -> str:
    """``value`` as a code span when that is safe, else as escaped literal text."""
    text = str(value)
    if re.fullmatch(r"[^`|\s\\<>&]+", text):
        return f"`{text}`"
    return _md(text)


def _public_text(bundle: _Bundle) -> str:
    """Text values of the non-incident layers the privacy rules publish (for the leak check)."""
    parts = []
    for kind, frame in bundle.layers.items():
        if kind == "incidents":
            continue
        for column in frame.columns:
            if column == frame.geometry.name:
                continue
            values = frame[column].dropna()
            if values.dtype == object or pd.api.types.is_string_dtype(values):
                parts.extend(values.astype(str).unique().tolist())
    return "\n".join(parts)


def _write_readme(
    bundle: _Bundle,
    options: PublishOptions,
    stage: Path,
    frames: Mapping[str, pd.DataFrame],
    shp_names: Mapping[str, Mapping[str, str]],
    created: str,
) -> None:
    title = "# geotools download bundle" + (
        " (INTERNAL: DO NOT SHARE)" if bundle.profile == "internal" else ""
    )
    lines = [title, ""]
    if bundle.profile == "internal":
        lines += [
            "**This bundle must not be shared. It contains the exact locations of restricted and "
            "confidential incidents and personal data of people at risk.**",
            "",
        ]
    lines += [
        f"Made with geotools {__version__} on {created} (profile `{bundle.profile}`).",
        "",
        "## Files",
        "",
        "| file | contents |",
        "|---|---|",
    ]
    for name in sorted(p.name for p in stage.iterdir()):
        if (stage / name).is_dir():
            lines.append(f"| {name}/ | the GeoJSON layers as {name.upper()} (WGS84) |")
        else:
            lines.append(f"| {name} | {FILE_DESCRIPTIONS.get(name, '')} |")
    lines += [
        "| README.md | " + FILE_DESCRIPTIONS["README.md"] + " |",
        "| datapackage.json | " + FILE_DESCRIPTIONS["datapackage.json"] + " |",
        "| SHA256SUMS | " + FILE_DESCRIPTIONS["SHA256SUMS"] + " |",
        "",
    ]
    lines += _privacy_section(bundle, options)
    lines += _positions_section(bundle, options)
    lines += ["## Sources, licences and attribution", ""]
    for source in bundle.sources:
        lines.append(
            f"- **{_md(source['layer'])}**: file {_md_code(source['file'])} (SHA-256 "
            f"`{source['sha256'][:16]}…`)"
            + (f", imported with {_md_code(source['importer'])}" if source.get("importer") else "")
        )
        if source.get("licence"):
            lines.append(f"  - Licence / terms: {_md(source['licence'])}")
        if not source.get("redistributable", True):
            lines.append(
                "  - Not redistributable record by record: published as aggregates "
                "only, with the attribution above."
            )
        for value in source.get("sources", []):
            lines.append(f"  - Source: {_md(value)}")
    lines += [
        "",
        "Geometry and statistics: geotools (MIT licence). Cite the sources above when re-using "
        "the data.",
        "",
        "## Methods and caveats",
        "",
        AREA_METHOD,
        "",
        *[f"- {c}" for c in CAVEATS],
        "- GeoJSON files follow RFC 7946: WGS84 longitude/latitude, exterior rings "
        f"counterclockwise, holes clockwise, coordinates rounded to {options.decimals} decimals.",
        "- Hectares and percentages are rounded to 2 decimals in the tables.",
        "",
        "## Data dictionary",
        "",
    ]
    for name in sorted(frames):
        frame = frames[name]
        lines += [f"### {name}", "", "| column | meaning | unit | values |", "|---|---|---|---|"]
        for column in frame.columns:
            if column == "geometry":
                continue
            meaning, unit, vocab = describe_column(str(column))
            lines.append(f"| {_md_code(column)} | {_md(meaning)} | {_md(unit)} | {_md(vocab)} |")
        if name.endswith(".geojson"):
            lines.append("| (geometry) | Feature geometry, WGS84 longitude/latitude | degrees | |")
        lines.append("")
    if shp_names:
        lines += [
            "### Shapefile field names",
            "",
            "Shapefile fields are at most 10 characters; shortened names:",
            "",
            "| layer | shapefile field | column |",
            "|---|---|---|",
        ]
        for layer, mapping in sorted(shp_names.items()):
            lines += [
                f"| {_md(layer)} | {_md_code(short)} | {_md_code(full)} |"
                for short, full in mapping.items()
            ]
        lines.append("")
    lines += [
        "## Generated",
        "",
        f"geotools {__version__}, {_md(created)}. Options: nearby_km = "
        f"{_md(bundle.stats.nearby_km)}, "
        f"area CRS: {_md(bundle.stats.options.get('area_crs'))}.",
        "",
    ]
    (stage / "README.md").write_text("\n".join(lines), encoding="utf-8")


def _stated_privacy(bundle: _Bundle) -> dict[str, Any]:
    """The privacy statement of ``datapackage.json``: configured parameters and counts, never
    the offsets actually drawn."""
    privacy = json.loads(json.dumps(bundle.privacy, default=str))
    incidents = privacy.get("incidents") or {}
    for key in list(incidents):
        if key.startswith("displacement_") and key != "displacement_range_km":
            del incidents[key]  # measured extremes would give a single record's exact offset
    policy = privacy.get("policy") or {}
    if "min_distance_m" in policy and "max_distance_m" in policy:
        privacy["displacement"] = (
            f"configured range {policy['min_distance_m'] / 1000:g}-"
            f"{policy['max_distance_m'] / 1000:g} km for records displaced for the first time; "
            "kept positions state their own range per row (location_method)"
        )
    return privacy


def _write_datapackage(
    bundle: _Bundle, stage: Path, frames: Mapping[str, pd.DataFrame], created: str
) -> None:
    resources = []
    for name in sorted(frames):
        frame = frames[name]
        stem = re.sub(r"[^a-z0-9._-]", "-", name.lower().rsplit(".", 1)[0])
        path = stage / name
        resource: dict[str, Any] = {
            "name": stem + ("" if name.endswith(".csv") else "-geojson"),
            "path": name,
            "description": FILE_DESCRIPTIONS.get(name, ""),
            "bytes": path.stat().st_size,
            "hash": "sha256:" + compute_sha256(path),
            "encoding": "utf-8",
        }
        if name.endswith(".csv"):
            resource.update(
                {
                    "type": "table",
                    "format": "csv",
                    "mediatype": "text/csv",
                    "schema": {"fields": _table_schema(frame)},
                }
            )
        else:
            resource.update(
                {
                    "type": "json",
                    "format": "geojson",
                    "mediatype": "application/geo+json",
                    "schema": {"fields": _table_schema(pd.DataFrame(frame))},
                }
            )
        resources.append(resource)
    licences = sorted({s["licence"] for s in bundle.sources if s.get("licence")})
    package = {
        "name": "geotools-bundle-" + bundle.profile,
        "title": "geotools download bundle (" + bundle.profile + ")",
        "description": ("INTERNAL: DO NOT SHARE. " if bundle.profile == "internal" else "")
        + "Territories, tenure, concessions and incidents; see README.md.",
        "created": created + "T00:00:00Z",
        "version": __version__,
        "profile": "data-package",
        "keywords": ["land tenure", "indigenous territories", "geotools", bundle.profile],
        "sources": [{"title": f"{s['layer']}: {s['file']}"} for s in bundle.sources],
        "licenses": [{"name": "other-at", "title": text} for text in licences]
        or [{"name": "other-nc", "title": "See README.md: sources keep their own terms"}],
        "resources": resources,
        "geotools": {"privacy": _stated_privacy(bundle), "version": __version__},
    }
    (stage / "datapackage.json").write_text(
        json.dumps(package, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )


def _write_checksums(stage: Path) -> None:
    lines = [
        f"{compute_sha256(p)}  {p.relative_to(stage).as_posix()}"
        for p in sorted(stage.rglob("*"))
        if p.is_file() and p.name != "SHA256SUMS"
    ]
    (stage / "SHA256SUMS").write_text("\n".join(lines) + "\n", encoding="utf-8")


def publish_bundle(
    layers: Mapping[str, Layer],
    out_dir: str | os.PathLike[str],
    options: PublishOptions | None = None,
    nearby_km: float = DEFAULT_NEARBY_KM,
    forest_loss: str | os.PathLike[str] | None = None,
    risk_config: RiskConfig | None = None,
    districts: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
) -> BundleReport:
    """Write a download bundle of validated layers (``geotools publish``), all or nothing.

    Parameters
    ----------
    layers : mapping of str to Layer
        Layers from :func:`geotools.pipeline.read_inputs`.
    out_dir : str or path-like
        Bundle folder (replaced as a whole with ``options.overwrite``).
    options : PublishOptions, optional
        Profile, formats, privacy policy, secret...
    nearby_km, forest_loss, risk_config
        As for :func:`geotools.pipeline.compute_stats`; the statistics are computed here, for
        the public profile without confidential incidents.
    districts, water : geopandas.GeoDataFrame, optional
        Constraints of the displacement (public profile).

    Returns
    -------
    BundleReport

    Raises
    ------
    LeakError
        The public bundle failed the leak check (nothing is left behind).
    OutputExistsError, BundleError, geotools.privacy.PrivacyError
    """
    from geotools.pipeline import compute_stats, write_map_html

    options = options or PublishOptions()
    if options.profile not in PROFILES:
        raise BundleError(f"profile {options.profile!r}: use public or internal")
    unknown = set(options.formats) - set(FORMATS)
    if unknown:
        raise BundleError(f"format(s) {', '.join(sorted(unknown))}: use shp and/or kml")
    if not 0 <= options.decimals <= 8:
        raise BundleError(f"{options.decimals} decimals: use 0-8 (6 is about 0.1 m)")
    out = Path(out_dir)
    created = options.created or dt.datetime.now(dt.UTC).date().isoformat()

    def compute(chosen: Mapping[str, Layer]) -> StatsResult:
        return compute_stats(
            chosen, nearby_km=nearby_km, forest_loss=forest_loss, risk_config=risk_config
        )

    with staged_bundle(out, options.overwrite) as stage:
        bundle, generalised = _prepare(layers, options, compute, districts, water)
        bundle.privacy["districts"] = districts is not None
        bundle.privacy["water"] = water is not None
        frames = _write_tables(bundle, stage, options.decimals)
        shp_names = _write_formats(frames, options.formats, stage)
        attribution = (
            "; ".join(
                f"Incidents: {s['licence']}"
                for s in bundle.sources
                if s["layer"] == "incidents" and s.get("licence")
            )
            or None
        )
        write_map_html(
            bundle.stats,
            bundle.map_layers,
            stage / "map.html",
            lang=options.lang,
            profile=bundle.profile,
            attribution=attribution,
        )
        _write_readme(bundle, options, stage, frames, shp_names, created)
        _write_datapackage(bundle, stage, frames, created)
        facts: dict[str, Any] = dict(bundle.privacy.get("incidents", {}))
        if generalised is not None:
            published = shapely.get_coordinates(generalised.published.geometry.to_numpy())
            secrets = [options.secret.strip()] if options.secret else []
            facts["leak_check_s"] = check_bundle(
                stage,
                generalised.withheld,
                published,
                options.policy.min_distance_m,
                secrets,
                boilerplate="\n".join(
                    [*_privacy_section(bundle, options), *_positions_section(bundle, options)]
                ),
                public_text=_public_text(bundle),
                decimals=options.decimals,
            )
            _save_positions(generalised, options)
        # Only now, after the leak check: a bundle with a marker and SHA256SUMS has passed it.
        mark_output_folder(stage, "publish", extra=["SHA256SUMS"])
        _write_checksums(stage)
        files = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in stage.rglob("*") if p.is_file())
    log.info("wrote %s bundle %s (%d files, %.1f kB)", bundle.profile, out, len(files), size / 1024)
    return BundleReport(out=out, files=files, bytes=size, facts=facts)


def read_secret(secret_file: str | os.PathLike[str] | None = None) -> str | None:
    """Return the displacement secret from a file, else from ``GEOTOOLS_PUBLISH_SECRET``."""
    if secret_file is not None:
        path = Path(secret_file)
        if not path.is_file():
            raise SourceError(f"{path}: secret file not found")
        return path.read_text(encoding="utf-8").strip()
    return os.environ.get(SECRET_ENV) or None


def positions_path(
    secret_file: str | os.PathLike[str] | None = None,
    positions: str | os.PathLike[str] | None = None,
) -> Path | None:
    """Where the position store is kept: ``positions``, else ``GEOTOOLS_PUBLISH_POSITIONS``, else
    beside the secret file (``publish.key`` -> ``publish.positions.json``), else None."""
    if positions is not None:
        return Path(positions)
    if os.environ.get(POSITIONS_ENV):
        return Path(os.environ[POSITIONS_ENV])
    if secret_file is not None:
        path = Path(secret_file)
        return path.with_name(path.stem + ".positions.json")
    return None


def open_position_store(options: PublishOptions, key: bytes | None) -> PositionStore | None:
    """The position store of a public release (None without a key or a store path)."""
    if key is None or options.profile != "public":
        return None
    if options.positions is None:
        if options.secret is not None and options.secret.strip() != DEMO_KEY:
            log.warning(
                "no position store (--positions): a later release with other options would "
                "publish other points for the same incidents; keep one with the key"
            )
        return None
    return PositionStore.open(options.positions, key)


def _save_positions(generalised: GeneralisedIncidents, options: PublishOptions) -> None:
    """Save the store once the bundle passed its leak check (its path goes to the log only)."""
    store = generalised.store
    if store is None or store.path is None:
        return
    existed = store.existed
    path = store.save()
    if not existed:
        log.warning(
            "created the position store %s: keep it with the key and reuse both for every "
            "release of these data (it is not part of the bundle)",
            path,
        )


def read_constraint(path: str | os.PathLike[str] | None, what: str) -> gpd.GeoDataFrame | None:
    """Read a districts or water layer (any vector format) for the displacement."""
    if path is None:
        return None
    frame = read_frame(path)
    if frame.crs is None:
        raise SourceError(f"{path}: the {what} layer has no CRS; set one before publishing")
    return frame


def run_publish(
    paths: Mapping[str, str | os.PathLike[str] | None],
    out_dir: str | os.PathLike[str],
    options: PublishOptions | None = None,
    nearby_km: float = DEFAULT_NEARBY_KM,
    assume_crs: str | None = None,
    mappings: Mapping[str, Mapping[str, str]] | None = None,
    forest_loss: str | os.PathLike[str] | None = None,
    risk_config: RiskConfig | None = None,
    districts: str | os.PathLike[str] | None = None,
    water: str | os.PathLike[str] | None = None,
) -> BundleReport:
    """Read, analyse and write a bundle: the Python form of ``geotools publish``."""
    from geotools.pipeline import check_raster, read_inputs

    options = options or PublishOptions()
    out = Path(out_dir)
    if out.exists() and out.is_dir() and any(out.iterdir()) and not options.overwrite:
        raise OutputExistsError(f"{out}: already exists; pass --overwrite to replace it")
    check_raster(forest_loss)
    layers = read_inputs(paths, assume_crs=assume_crs, mappings=mappings)
    return publish_bundle(
        layers,
        out,
        options,
        nearby_km=nearby_km,
        forest_loss=forest_loss,
        risk_config=risk_config,
        districts=read_constraint(districts, "districts"),
        water=read_constraint(water, "water"),
    )
