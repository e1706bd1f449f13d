"""The incident layer of the web map: icons by kind, clusters, heat map, grid counts, years.

Incidents pass :func:`select_visible_incidents` (the privacy rule of
:func:`geotools.privacy.select_drawable`) before anything else is done with them, here and in
the static maps.
"""

from __future__ import annotations

import html
import logging
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geotools.maps.elements import IncidentLayers, escape_html
from geotools.maps.layers import _column, _escaped, _labels, _normalised, _numbers, _Overlay, _row
from geotools.maps.style import INCIDENT_COLOURS, TEXT, VALUE_LABELS, format_number
from geotools.privacy import (
    GENERALISED_COLUMN,
    UNCERTAINTY_COLUMN,
    classify_sensitivity,
    parse_flag,
    select_drawable,
)
from geotools.schema import DEFAULT_SEVERITY

log = logging.getLogger(__name__)


def select_visible_incidents(incidents: gpd.GeoDataFrame, profile: str) -> gpd.GeoDataFrame:
    """Drop the incidents a map of ``profile`` must not hold, before anything else touches them.

    The rule is :func:`geotools.privacy.select_drawable`: ``public`` keeps incidents marked
    public (a missing sensitivity means restricted) and restricted ones whose location a
    publisher has already generalised (``location_generalised`` strictly true: "false", "no",
    "0" or "" are not); ``internal`` keeps everything but confidential records. Confidential
    records are dropped by both profiles, generalised or not. Sensitivity is read from
    ``sensitivity`` and from any other privacy-marker column (``privacidad``, ``confidencial``...;
    :func:`geotools.privacy.resolve_sensitivity`): missing means restricted, a value outside the
    vocabulary counts as confidential, so a typo fails safe.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Incident points with ``sensitivity`` and, optionally, ``location_generalised``.
    profile : {"public", "internal"}
        Who the map is for.

    Returns
    -------
    geopandas.GeoDataFrame
        The rows that may be drawn, in input order.
    """
    keep, _ = select_drawable(incidents, profile)
    if (~keep).any():  # the privacy gate (compute_shareable_view) says it once per view
        log.debug("incidents: %d record(s) left off the %s map.", (~keep).sum(), profile)
    return incidents.loc[keep]


def _date_texts(values: pd.Series) -> pd.Series:
    """ISO dates (``YYYY-MM-DD``) where ``values`` parse as dates; the values as given elsewhere."""
    try:
        parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
        return parsed.dt.strftime("%Y-%m-%d").where(parsed.notna(), values)
    except (TypeError, ValueError, AttributeError):  # e.g. mixed time zones
        return values


#: White symbol drawn inside each incident kind's coloured disc (SVG, 24 x 24 view box).
INCIDENT_GLYPHS = {
    "killing": '<rect x="10.5" y="4.5" width="3" height="15"/>'
    '<rect x="6.5" y="8" width="11" height="3"/>',
    "protest_casualty": '<rect x="10.5" y="6" width="3" height="12"/>'
    '<rect x="6" y="10.5" width="12" height="3"/>',
    "attack": '<rect x="10.5" y="5" width="3" height="9"/><circle cx="12" cy="17.3" r="1.8"/>',
    "arson": '<path d="M12 4c1 3 5 5 5 9a5 5 0 0 1-10 0c0-2 1-3.5 2-4.5 0 2 1 3 2 3 '
    '0-3-1-5 1-7.5z"/>',
    "threat": '<path d="M12 5.5l6.5 12h-13z"/>',
    "eviction": '<path d="M12 5l7 6h-2v7h-10v-7h-2z"/>',
    "invasion": '<path d="M5 10.5h8v-4l6 5.5-6 5.5v-4h-8z"/>',
    "deforestation": '<path d="M12 4l5 7h-3l4 5h-5v3h-2v-3h-5l4-5h-3z"/>',
    "spill": '<path d="M12 4c3 5 5 7.5 5 10a5 5 0 0 1-10 0c0-2.5 2-5 5-10z"/>',
    "criminalization": '<path d="M7 5h7l3 3v11h-10z"/>',
    "other": '<circle cx="12" cy="12" r="3.5"/>',
}
#: Above this many incidents the map draws counts on a grid instead of one marker each.
MAX_INCIDENT_POINTS = 20_000
#: At most this many grid cells when incidents are drawn as counts.
MAX_INCIDENT_CELLS = 5_000


def _incident_icon(kind: str, exact: bool = True, size: int = 16) -> str:
    """The incident icon of ``kind`` as inline SVG (same drawing as on the map)."""
    colour = INCIDENT_COLOURS.get(kind, INCIDENT_COLOURS["other"])
    fill, ink, stroke = (colour, "#ffffff", "#ffffff") if exact else ("#ffffff", colour, colour)
    return (
        f'<svg width="{size}" height="{size}" viewBox="0 0 24 24" aria-hidden="true">'
        f'<circle cx="12" cy="12" r="10.5" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="{1.5 if exact else 3}"/><g fill="{ink}">'
        f"{INCIDENT_GLYPHS.get(kind, INCIDENT_GLYPHS['other'])}</g></svg>"
    )


def _incident_years(frame: pd.DataFrame) -> np.ndarray:
    """Year of each incident's (ISO) date as float, NaN where unknown."""
    text = _column(frame, "date").astype("string").str.slice(0, 4)
    years = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    return np.where((years >= 1900) & (years <= 2100), years, np.nan)


def _incident_labels(lang: str, cell_km: float | None = None) -> dict[str, str]:
    t = TEXT[lang]
    labels = {
        "title": t["slider_title"],
        "only": t["slider_only"],
        "all": t["slider_all"],
        "until": t["slider_until"],
        "only_year": t["slider_only_year"],
        "shown": t["slider_shown"],
        "locale": "es-PE" if lang == "es" else "en-GB",
        "cell": "",
    }
    if cell_km is not None:
        labels["cell"] = html.escape(t["cell_popup"].replace("{km}", format_number(cell_km, lang)))
    return labels


def _incident_points(frame: gpd.GeoDataFrame, lang: str, kinds: list[str]) -> dict[str, Any]:
    """Marker rows, popups and tooltips of each incident (``points`` mode)."""
    t = TEXT[lang]
    kind_labels = [
        label or t["incident"]
        for label in _labels(_column(frame, "kind"), VALUE_LABELS["incident_kind"][lang])
    ]
    precision_codes = _normalised(_column(frame, "precision")).fillna("exact").to_list()
    precision_labels = _labels(_column(frame, "precision"), VALUE_LABELS["precision"][lang])
    public = classify_sensitivity(_column(frame, "sensitivity")) == "public"
    generalised = (
        parse_flag(frame[GENERALISED_COLUMN])
        if GENERALISED_COLUMN in frame.columns
        else np.zeros(len(frame), dtype=bool)
    )
    uncertainty_km = _numbers(frame, UNCERTAINTY_COLUMN) / 1000.0
    precision_labels = [
        t["generalised"].format(km=format_number(km, lang, 1) if np.isfinite(km) else "?")
        if gen
        else label
        for label, gen, km in zip(precision_labels, generalised, uncertainty_km, strict=True)
    ]
    # Descriptions are read for public incidents only; victims are never read at all.
    descriptions = _escaped(_column(frame, "description").where(public & ~generalised))
    sources = _escaped(_column(frame, "source"))
    dates = _escaped(_date_texts(_column(frame, "date")))
    severity = _numbers(frame, "severity")
    severity_text = [f"{format_number(s, lang)}/5" if np.isfinite(s) else "" for s in severity]
    default = np.array([DEFAULT_SEVERITY.get(k, 1) for k in kinds], dtype=float)
    level = np.clip(np.where(np.isfinite(severity), severity, default), 1, 5).round().astype(int)
    exact = np.array([p == "exact" for p in precision_codes], dtype=bool) & ~generalised
    popups = [
        f'<div class="gt-popup"><div class="gt-h">{kind}</div><table>'
        + _row(t["date"], date)
        + _row(t["severity"], sev)
        + _row(t["source"], source)
        + _row(t["precision"], precision)
        + "</table>"
        + (
            f'<div class="gt-desc">{desc}</div>'
            if is_public and not gen
            else f'<div class="gt-note">{t["withheld"]}</div>'
        )
        + "</div>"
        for kind, date, sev, source, precision, desc, is_public, gen in zip(
            kind_labels,
            dates,
            severity_text,
            sources,
            precision_labels,
            descriptions,
            public,
            generalised,
            strict=True,
        )
    ]
    tooltips = [
        f"{kind} · {date}" if date else kind for kind, date in zip(kind_labels, dates, strict=True)
    ]
    order = list(INCIDENT_COLOURS)
    kind_index = np.array([order.index(k) for k in kinds], dtype=int)
    years = _incident_years(frame)
    lat = np.round(shapely.get_y(frame.geometry.to_numpy()), 5)
    lon = np.round(shapely.get_x(frame.geometry.to_numpy()), 5)
    rows = [
        [float(y), float(x), int(k), None if np.isnan(year) else int(year), int(lv), int(e)]
        for y, x, k, year, lv, e in zip(lat, lon, kind_index, years, level, exact, strict=True)
    ]
    return {
        "points": rows,
        "popups": popups,
        "tips": tooltips,
        "generalised": int(generalised.sum()),
    }


def _incident_cells(frame: gpd.GeoDataFrame, year_list: list[int]) -> tuple[list, float]:
    """Incident counts per year on the coarsest-needed regular grid (``cells`` mode).

    The cell size starts at 0.05 degrees (about 5.5 km) and doubles until at most
    :data:`MAX_INCIDENT_CELLS` cells hold incidents. Returns the rows and the cell size in km.
    """
    lon = shapely.get_x(frame.geometry.to_numpy())
    lat = shapely.get_y(frame.geometry.to_numpy())
    years = _incident_years(frame)
    year_index = np.full(len(frame), len(year_list), dtype=np.int64)  # last column: no year
    known = np.isfinite(years)
    if year_list:
        year_index[known] = np.searchsorted(year_list, years[known].astype(int))
    size = 0.05
    while True:
        col = np.floor(lon / size).astype(np.int64)
        row = np.floor(lat / size).astype(np.int64)
        cells, inverse = np.unique(np.column_stack([col, row]), axis=0, return_inverse=True)
        if len(cells) <= MAX_INCIDENT_CELLS:
            break
        size *= 2
    inverse = inverse.ravel()
    width = len(year_list) + 1
    counts = np.bincount(inverse * width + year_index, minlength=len(cells) * width)
    counts = counts.reshape(len(cells), width)
    centre_lon = np.round((cells[:, 0] + 0.5) * size, 4)
    centre_lat = np.round((cells[:, 1] + 0.5) * size, 4)
    rows = [
        [float(y), float(x), *map(int, c)]
        for y, x, c in zip(centre_lat, centre_lon, counts, strict=True)
    ]
    return rows, size * 111.32


def _incident_layer(
    m: folium.Map,
    frame: gpd.GeoDataFrame,
    lang: str,
    overlays: list[_Overlay],
    max_points: int = MAX_INCIDENT_POINTS,
) -> tuple[list[str], int, float | None]:
    """Incidents as clustered icons and heat map with a year slider.

    Returns the kinds present (for the legend), the number of generalised locations drawn, and
    the grid cell size in km when incidents were drawn as counts (too many for one marker
    each), else None.
    """
    t = TEXT[lang]
    kind_codes = _normalised(_column(frame, "kind")).fillna("").to_list()
    kinds = [k if k in INCIDENT_COLOURS else "other" for k in kind_codes]
    years = _incident_years(frame)
    year_list = sorted({int(y) for y in years[np.isfinite(years)]})
    data: dict[str, Any] = {
        "colours": list(INCIDENT_COLOURS.values()),
        "glyphs": [INCIDENT_GLYPHS[k] for k in INCIDENT_COLOURS],
        "years": year_list,
    }
    generalised = 0
    cell_km: float | None = None
    if len(frame) > max_points:
        rows, cell_km = _incident_cells(frame, year_list)
        data.update(mode="cells", cells=rows)
        labels = _incident_labels(lang, cell_km)
        log.info(
            "incidents: %d records drawn as counts on %d grid cells of about %.0f km.",
            len(frame),
            len(rows),
            cell_km,
        )
    else:
        points = _incident_points(frame, lang, kinds)
        generalised = points.pop("generalised")
        data.update(mode="points", **points)
        labels = _incident_labels(lang)
    element = IncidentLayers(data, labels)
    m.add_child(element)
    group = t["group_incidents"]
    overlays.append(_Overlay(group, escape_html(t["layer_incidents"]), element.points_name))
    overlays.append(_Overlay(group, escape_html(t["layer_heat"]), element.heat_name, False))
    return [k for k in INCIDENT_COLOURS if k in set(kinds)], generalised, cell_km
