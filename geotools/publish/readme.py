"""What a bundle says about itself: the README data dictionary and ``datapackage.json``.

:data:`COLUMN_DOCS` and :func:`describe_column` document every column, :data:`FILE_DESCRIPTIONS`
every file; the privacy section states what was withheld, displaced or aggregated (never a number
from which a withheld one follows); user values are escaped for Markdown.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from geotools._version import __version__
from geotools.export import compute_sha256
from geotools.privacy import (
    FLOOR_MAX_HEX_RESOLUTION,
    FLOOR_MIN_COUNT,
    FLOOR_MIN_DISTANCE_M,
    FLOOR_RING_WIDTH_M,
    GENERALISED_COLUMN,
    METHOD_COLUMN,
    UNCERTAINTY_COLUMN,
)
from geotools.provenance import AREA_METHOD, CAVEATS
from geotools.publish.model import DEMO_KEY, PublishOptions, _Bundle
from geotools.publish.totals import (
    TOTAL_MEANINGS,
    describe_totals,
    totals_section,
    totals_sentence,
)

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Data dictionary
# --------------------------------------------------------------------------------------------

#: column -> (meaning, unit, vocabulary). Looked up exactly, then by the patterns below.
COLUMN_DOCS: dict[str, tuple[str, str, str]] = {
    "territory_id": ("Identifier of the territory (ancestral claim)", "", ""),
    "name": (
        "Name of the territory, of the community point, or of the line (infrastructure), as "
        "given",
        "",
        "",
    ),
    "territory_name": ("Name of the territory", "", ""),
    "people": ("Indigenous people(s) of the territory or community", "", ""),
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
        "Incidents located in the cell (incident_hexagons) or region (region_stats); in public "
        "files counts below the suppression minimum are shown as <N",
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
    "claimed_ha": (
        "Area of the territory (holes excluded), geodesic; in region_stats, the union of the "
        "territories clipped to the region (overlapping claims counted once)",
        "ha",
        "",
    ),
    "legal_titled_ha": (
        "Legal titled area given by the territories layer (empty: 0 or missing, unknown)",
        "ha",
        "",
    ),
    "drawn_vs_legal_pct": (
        "100 x (claimed_ha - legal_titled_ha) / legal_titled_ha: drawn against legal area",
        "%",
        "",
    ),
    "legal_area_differs": (
        "Drawn and legal areas differ by more than 20 % (empty: legal area unknown)",
        "",
        "True, False",
    ),
    "titled_ha": (
        "Union of parcels with tenure titled, clipped to the territory (empty without a parcel "
        "layer: unknown)",
        "ha",
        "",
    ),
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
        "Incidents outside the territory within nearby_km of it (geodesic; of a community "
        "point: within nearby_km of the point); public bundles count only the incidents they "
        "publish, at their published places",
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
    "community_id": ("Identifier of the community point", "", ""),
    "population": ("Population of the community, as the registry gives it", "people", ""),
    "families": ("Families of the community, as the registry gives it", "families", ""),
    "river": ("River the community lies on, as the registry gives it", "", ""),
    "layer": ("Polygon layer holding the community point", "", "territories, concessions..."),
    "feature_id": ("Identifier of the polygon (territory_id, concession_id...)", "", ""),
    "relation": (
        "Whether the point lies inside the polygon, or only possibly (approximate location)",
        "",
        "inside, possibly inside",
    ),
    "boundary_distance_m": ("Distance of the point from the polygon's boundary", "m", ""),
    "region_id": (
        "Identifier of the region (INEI ubigeo, else its name); in territory and community "
        "tables, the region the territory (largest share) or point (surely) lies in",
        "",
        "",
    ),
    "region": ("Name of the region", "", ""),
    "territories": ("Territories whose largest share lies in the region", "count", ""),
    "communities": ("Community points surely in the region", "count", ""),
    "communities_uncertain": (
        "Community points whose approximate location crosses the region's boundary",
        "count",
        "",
    ),
    "killings": (
        "Killings and protest casualties located in the region (public: published incidents; "
        "below the minimum count as <N)",
        "count",
        "",
    ),
    "regions_possible": ("Regions its approximate location may lie in (;-separated)", "", ""),
    "pct_of_territory": ("Overlap as a share of the territory's claimed area", "%", ""),
    "pct_of_concession": ("Overlap as a share of the concession's area", "%", ""),
    "on_titled_ha": ("Part of the overlap on titled land", "ha", ""),
    "on_secured_ha": ("Part of the overlap on secured land", "ha", ""),
    "on_untitled_ha": ("Part of the overlap on untitled land", "ha", ""),
}

_PATTERN_DOCS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[str, str, str]]]] = [
    (
        re.compile(r"prorated_(\w+)$"),
        lambda m: (
            f"Concession column '{m.group(1)}' pro-rated by the share of each concession inside "
            "the territory (--weight; the quantity assumed spread evenly over its polygon)",
            "as the column",
            "",
        ),
    ),
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
        re.compile(r"(possibly_in|in)_(\w+)$"),
        lambda m: (
            f"Polygons of layer {m.group(2)} the community point is "
            + ("only possibly inside (approximate location)" if m.group(1) != "in" else "inside"),
            "count",
            "",
        ),
    ),
    (
        re.compile(r"nearest_(\w+)_km$"),
        lambda m: (
            f"Geodesic distance to the nearest concession of kind {m.group(1)} (0 inside)",
            "km",
            "",
        ),
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

    Parameters
    ----------
    column : str
        Name of a column of a published table or layer.

    Returns
    -------
    meaning : str
        What the column holds (English).
    unit : str
        Its unit (``ha``, ``%``, ``km``...), ``""`` when none.
    vocabulary : str
        Its allowed values, ``""`` when free.

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
    "region_stats.csv": "One row per region: territories, hectares, community points, incidents "
    "by kind and year, killings (public: counts of published incidents, below the minimum as <N)",
    "regions.geojson": "Region polygons with every column of region_stats.csv",
    "communities.geojson": "Community points (public places, not displaced) with every column "
    "of community_stats.csv",
    "community_stats.csv": "One row per community point: polygons holding it, nearest "
    "concession of each kind, incidents nearby (published incidents only in a public bundle)",
    "community_membership.csv": "One row per community point x polygon holding it (inside or "
    "possibly inside)",
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
            + ", ".join(_md_code(c) for c in columns)
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
    frames = dict(bundle.layers)
    if bundle.regions is not None:
        frames["regions"] = bundle.regions
    for kind, frame in frames.items():
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
    lines += totals_section(describe_totals(bundle.stats), _md)
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
        if source.get("permission"):
            lines.append(
                "  - Its terms require permission for record-level publishing; the publisher "
                f"states: {_md(source['permission'])}"
            )
        elif not source.get("redistributable", True):
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
        "- Hectares are written with 4 decimals (1 m²), percentages and kilometres with 2.",
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
    totals = describe_totals(bundle.stats)
    package = {
        "name": "geotools-bundle-" + bundle.profile,
        "title": "geotools download bundle (" + bundle.profile + ")",
        "description": ("INTERNAL: DO NOT SHARE. " if bundle.profile == "internal" else "")
        + "Territories, tenure, concessions and incidents; see README.md. "
        + totals_sentence(totals),
        "created": created + "T00:00:00Z",
        "version": __version__,
        "profile": "data-package",
        "keywords": ["land tenure", "indigenous territories", "geotools", bundle.profile],
        "sources": [
            {"title": f"{s['layer']}: {s['file']}"}
            | ({"permission": s["permission"]} if s.get("permission") else {})
            for s in bundle.sources
        ],
        "licenses": [{"name": "other-at", "title": text} for text in licences]
        or [{"name": "other-nc", "title": "See README.md: sources keep their own terms"}],
        "resources": resources,
        "geotools": {
            "privacy": _stated_privacy(bundle),
            "version": __version__,
            "totals": {**totals, "meaning": dict(TOTAL_MEANINGS)},
        },
    }
    (stage / "datapackage.json").write_text(
        json.dumps(package, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
