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
import html
import json
import logging
import os
import re
import shutil
import tempfile
import time
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
from geotools.errors import GeotoolsError, OutputExistsError, SourceError
from geotools.io import Layer, compute_sha256, read_frame, write_csv
from geotools.privacy import (
    FLOOR_MAX_HEX_RESOLUTION,
    FLOOR_MIN_COUNT,
    FLOOR_MIN_DISTANCE_M,
    FLOOR_RING_WIDTH_M,
    GENERALISED_COLUMN,
    METHOD_COLUMN,
    UNCERTAINTY_COLUMN,
    GeneralisedIncidents,
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
from geotools.risk import RiskConfig
from geotools.stats import StatsResult, round_table

log = logging.getLogger(__name__)

_GEOD = Geod(ellps="WGS84")

PROFILES = ("public", "internal")
FORMATS = ("shp", "kml")
SECRET_ENV = "GEOTOOLS_PUBLISH_SECRET"
#: Displacement secret of the demo bundle. It is public, so the demo's displacements can be
#: undone: acceptable only because every demo location is invented. Never use it for real data.
DEMO_SECRET = "geotools-demo-secret-invented-locations-only"
#: Marker file that tells :func:`publish_bundle` a folder is a geotools bundle it may replace.
MARKER = "datapackage.json"
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

    A folder is replaced only with ``overwrite`` and only when it is empty or a geotools bundle
    (it holds ``datapackage.json``): ``--overwrite`` never deletes an unrelated folder. Nothing
    of a failed run is left behind.
    """
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise OutputExistsError(f"{out}: exists and is not a folder; choose another --out")
        contents = list(out.iterdir())
        if contents and not overwrite:
            raise OutputExistsError(f"{out}: already exists; pass --overwrite to replace it")
        if contents and not (out / MARKER).is_file():
            raise BundleError(
                f"{out}: not a geotools bundle (no {MARKER}); refusing to replace it, choose an "
                "empty or new folder"
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.part-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(stage, 0o777 & ~umask)  # mkdtemp makes it private; a bundle is for sharing
    try:
        yield stage
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / "bundle")
        os.replace(stage, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


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


def _static_text() -> str:
    """Normalised text of the data dictionary, file descriptions, methods and vocabularies."""
    from geotools.schema import VOCABULARIES

    parts = [" | ".join(doc) for doc in COLUMN_DOCS.values()]
    parts += [*FILE_DESCRIPTIONS.values(), AREA_METHOD, *CAVEATS]
    parts += [" ".join(v) for layer in VOCABULARIES.values() for v in layer.values()]
    return normalise_text("\n".join(parts))


def _mask(value: str) -> str:
    """Show a secret without revealing it: first two characters and the length."""
    return f"{value[:2]}… ({len(value)} characters)"


def _decode(text: str) -> str:
    text = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text).replace("\\/", "/")
    return normalise_text(html.unescape(text))


@dataclass
class _Needles:
    full: re.Pattern[str] | None
    prefix: re.Pattern[str] | None
    kinds: dict[str, str]
    id_set: set[str]


def _compile_needles(withheld: Withheld, secrets: Sequence[str], allowed: str) -> _Needles:
    kinds: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    for kind, value in withheld.values:
        norm = normalise_text(value)
        if len(norm) < 4 or not re.search(r"[^\W\d_]", norm):
            continue  # too short or only digits: protected by the column whitelist instead
        if re.search(rf"(?<!\w){re.escape(norm)}(?!\w)", allowed):
            continue  # also published legitimately (a public description says it)
        kinds.setdefault(norm, kind)
        if len(norm) > 40:
            prefixes.setdefault(norm[:40], kind)
    for ident in withheld.ids:
        norm = normalise_text(ident)
        if len(norm) >= 3 and re.search(r"[^\W\d_]", norm):
            kinds.setdefault(norm, "id of a withheld incident")
    for secret in secrets:
        kinds.setdefault(normalise_text(secret), "the displacement secret")

    def build(words: Mapping[str, str], right: bool) -> re.Pattern[str] | None:
        if not words:
            return None
        body = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        return re.compile(rf"(?<!\w)(?:{body})" + (r"(?!\w)" if right else ""))

    kinds.update({p: k for p, k in prefixes.items() if p not in kinds})
    full = build({k: v for k, v in kinds.items() if k not in prefixes}, right=True)
    return _Needles(full, build(prefixes, right=False), kinds, set(withheld.ids))


def _search_text(name: str, text: str, needles: _Needles, findings: list[str]) -> None:
    for pattern in (needles.full, needles.prefix):
        if pattern is None:
            continue
        for match in pattern.finditer(text):
            value = match.group(0)
            findings.append(f"{name}: {needles.kinds.get(value, 'withheld value')} {_mask(value)}")
            break


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


def _check_identity(
    name: str,
    frame: gpd.GeoDataFrame,
    withheld: Withheld,
    min_distance_m: float,
    findings: list[str],
) -> None:
    """Rows of displaced incidents must be at least ``min_distance_m`` from their true place."""
    if "incident_id" not in frame.columns or not len(withheld.restricted_ids) or not len(frame):
        return
    truth = dict(zip(withheld.restricted_ids, map(tuple, withheld.restricted_points), strict=True))
    ids = frame["incident_id"].astype(str).to_numpy()
    rows = np.flatnonzero(np.isin(ids, list(truth)))
    if not len(rows):
        return
    geoms = (
        frame.geometry.to_crs(4326).to_numpy()[rows]
        if frame.crs
        else frame.geometry.to_numpy()[rows]
    )
    centre = shapely.centroid(geoms)
    true = np.array([truth[i] for i in ids[rows]])
    _, _, d = _GEOD.inv(shapely.get_x(centre), shapely.get_y(centre), true[:, 0], true[:, 1])
    d = np.asarray(d)
    close = d < min_distance_m
    if close.any():
        findings.append(
            f"{name}: restricted incident {_mask(ids[rows][close][0])} published "
            f"{d[close].min():.0f} m from its true place (minimum {min_distance_m:.0f} m)"
        )


def _table_text(frame: pd.DataFrame) -> str:
    parts = [" ".join(map(str, frame.columns))]
    for column in frame.columns:
        if column == "geometry":
            continue
        parts.append("\n".join(frame[column].dropna().astype(str).tolist()))
    return "\n".join(parts)


def _id_cells(name: str, frame: pd.DataFrame, ids: set[str], findings: list[str]) -> None:
    """Ids of withheld records as a whole cell of any id-like column (catches short ids)."""
    for column in frame.columns:
        if column == "geometry" or not (str(column).endswith("id") or "incident" in str(column)):
            continue
        values = frame[column].dropna().astype(str)
        hit = values[values.isin(ids)]
        if len(hit):
            findings.append(
                f"{name}: column {column}: id of a withheld incident {_mask(hit.iloc[0])}"
            )


def check_bundle(
    root: Path,
    withheld: Withheld,
    published_points: np.ndarray,
    min_distance_m: float,
    secrets: Sequence[str] = (),
    boilerplate: str = "",
) -> float:
    """Scan every file of a bundle for withheld values and too-precise locations.

    Text files (GeoJSON, CSV, HTML, Markdown, JSON, KML) are searched after undoing HTML and
    JSON escapes, case and accents; GeoPackage and Shapefile layers are read in full (every
    layer, every column). Looked for: every withheld text value (whole words; values of four
    characters or more that are not also legitimately published), the first 40 characters of
    long ones, ids of withheld records, the displacement secret, coordinates within 2 m of the
    true place of a restricted or confidential incident, points within ``min_distance_m`` of a
    restricted incident's true place that are not published incident points, and displaced
    rows (by id) closer than ``min_distance_m`` to their true place.

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
        dictionary and the vocabularies are always allowed.

    Returns
    -------
    float
        Seconds the check took.

    Raises
    ------
    LeakError
        Naming the file and the kind of value found (never the value itself).
    """
    start = time.perf_counter()
    allowed = "\n".join([withheld.allowed_text, normalise_text(boilerplate), _static_text()])
    needles = _compile_needles(withheld, secrets, allowed)
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
                _search_text(label, _decode(_table_text(frame)), needles, findings)
                _id_cells(label, frame, needles.id_set, findings)
                if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None:
                    geoms = frame.geometry.to_crs(4326).to_numpy()
                    _check_identity(label, frame, withheld, min_distance_m, findings)
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
        _search_text(name, _decode(text), needles, findings)
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            _id_cells(name, frame, needles.id_set, findings)
        if suffix == ".geojson":
            frame = gpd.read_file(path)
            _id_cells(name, frame, needles.id_set, findings)
            _check_identity(name, frame, withheld, min_distance_m, findings)
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
        more = f" (and {len(findings) - 3} more)" if len(findings) > 3 else ""
        raise LeakError(
            "leak check failed, nothing was published: " + "; ".join(findings[:3]) + more
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
    target = stage / "analysis.gpkg"
    for layer_name, frame in gpkg.items():
        pyogrio.write_dataframe(
            frame, target, layer=layer_name, driver="GPKG", append=target.exists()
        )
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
            + ". The offset of "
            "each record is drawn from a keyed hash of its id under a secret key that is not "
            "published: re-publishing gives the same points, and the offset cannot be "
            "recomputed from the method and the id. Their rows carry "
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
    lines += ["## Sources, licences and attribution", ""]
    for source in bundle.sources:
        lines.append(
            f"- **{source['layer']}**: file `{source['file']}` (SHA-256 "
            f"`{source['sha256'][:16]}…`)"
            + (f", imported with `{source['importer']}`" if source.get("importer") else "")
        )
        if source.get("licence"):
            lines.append(f"  - Licence / terms: {source['licence']}")
        if not source.get("redistributable", True):
            lines.append(
                "  - Not redistributable record by record: published as aggregates "
                "only, with the attribution above."
            )
        for value in source.get("sources", []):
            lines.append(f"  - Source: {value}")
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
            lines.append(f"| `{column}` | {meaning} | {unit} | {vocab} |")
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
            lines += [f"| {layer} | `{short}` | `{full}` |" for short, full in mapping.items()]
        lines.append("")
    lines += [
        "## Generated",
        "",
        f"geotools {__version__}, {created}. Options: nearby_km = "
        f"{bundle.stats.options.get('nearby_km')}, "
        f"area CRS: {bundle.stats.options.get('area_crs')}.",
        "",
    ]
    (stage / "README.md").write_text("\n".join(lines), encoding="utf-8")


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
        "geotools": {"privacy": bundle.privacy, "version": __version__},
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
    nearby_km: float = 5.0,
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
    created = options.created or dt.datetime.now(dt.timezone.utc).date().isoformat()

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
        _write_checksums(stage)
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
                boilerplate="\n".join(_privacy_section(bundle, options)),
            )
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
    nearby_km: float = 5.0,
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
