"""Infrastructure (pipelines, roads) in and near territories, and km marks placed along it.

Infrastructure layers have the canonical columns ``kind`` (``pipeline`` or ``road``), ``name``
and ``km_start`` (the kilometre mark of the line's first vertex), optionally ``km_end``, plus
any source columns (for the Oleoducto Norperuano: ``ramal``, ``tramo``, ``km_inicio``, ...).

Everything is measured on the WGS84 ellipsoid:

- **lengths** are sums of geodesic distances between consecutive vertices (``pyproj.Geod.inv``,
  vectorised over all segments of all lines). Pieces clipped in the equal-area plane are first
  densified to segments of at most :data:`MAX_SEGMENT_M`, so the sum follows the clipped line.
  Measuring in the Albers plane instead would be off by up to ~1 % over Peru, because an
  equal-area projection preserves area, not distance;
- **km marks** are placed by walking the geodesic vertex-to-vertex distances from the line's
  first vertex and then moving along the geodesic of the right segment (``Geod.fwd``), so
  ``km_start + 0.9`` lies 900 m along the line, on the ellipsoid;
- **nearby** lengths use a buffer drawn in a local azimuthal-equidistant projection centred on
  each territory (see :func:`nearby_zones` for the error bound).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Geod, Transformer

from geotools.analysis.incidents import count_incidents
from geotools.area import area_crs_for, project_to_area_crs
from geotools.errors import CRSError, ValidationError
from geotools.geometry import query_pairs
from geotools.schema import DEFAULT_NEARBY_KM

log = logging.getLogger(__name__)

_GEOD = Geod(ellps="WGS84")

#: Kinds of infrastructure measured by :func:`compute_infrastructure_exposure`.
KINDS = ("pipeline", "road")
#: Columns a mark's ``line`` value is compared with (case-insensitive, exact).
LINE_NAME_COLUMNS = ("name", "tramo", "ramal", "kind")
#: Longest segment (m) kept when clipped pieces are converted back to lon/lat to be measured.
MAX_SEGMENT_M = 1_000.0
#: Slack (km) when comparing a km mark with a line's range (rounding of km marks and vertices).
KM_TOLERANCE = 0.001
#: Largest gap (m) allowed between a buffer's true circular arc and its polygon chords.
BUFFER_SAGITTA_M = 0.25

_PLUS = r"(\d+)\s*\+\s*(\d{1,3}(?:[.,]\d+)?)"  # chainage: km + metres, as in 41+833
_NUM = r"(\d+(?:[.,]\d+)?)"
_KM = r"(?<![a-z])k\s*m\.?\s*"
_KM_PATTERNS: tuple[tuple[str, bool], ...] = (
    (_KM + _PLUS, True),  # 'km 41+833', 'Km. 306+100, Tramo II'
    (_KM + _NUM, False),  # 'KM 41.833', 'km 41,833'
    (r"(?<![\d.,])" + _PLUS, True),  # '41+833'
    (r"^\s*" + _NUM + r"\s*$", False),  # '41.833'
)


def _fmt_km(km: float) -> str:
    text = f"{km:.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _number(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.str.replace(",", ".", regex=False), errors="coerce")


def _parse_km_values(values: pd.Series) -> np.ndarray:
    """Return km marks as floats (NaN where a value holds no km mark)."""
    raw = pd.Series(values.to_numpy(dtype=object), dtype=object)
    is_text = raw.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    out = np.array(pd.to_numeric(raw.where(~is_text), errors="coerce"), dtype=float)
    if is_text.any():
        text = raw[is_text].astype(str)
        found = np.full(len(text), np.nan)
        for pattern, plus in _KM_PATTERNS:  # four regexes, each vectorised over all texts
            parts = text.str.extract(pattern, flags=re.IGNORECASE)
            value = _number(parts[0]).to_numpy(dtype=float)
            if plus:  # the part after '+' is metres
                value = value + _number(parts[1]).to_numpy(dtype=float) / 1000.0
            found = np.where(np.isnan(found), value, found)
        out[is_text] = found
    out[~np.isfinite(out) | (out < 0)] = np.nan
    return out


def parse_km_mark(text: str | float) -> float:
    """Read a kilometre mark (pipeline or road progressive) as km.

    Parameters
    ----------
    text : str or float
        ``'km 41+833'`` (km + metres), ``'41+833'``, ``'KM 41.833'``, ``'km 41,833'``, a number,
        or a label holding one of these (``'Km. 306+100, Tramo II'``: only the number part).

    Returns
    -------
    float
        The mark in km.

    Raises
    ------
    ValidationError
        When the text holds no km mark (or the number is negative or not finite).

    Examples
    --------
    >>> parse_km_mark("km 41+833")
    41.833
    >>> parse_km_mark("Km. 306+100, Tramo II")
    306.1
    >>> parse_km_mark(41.833)
    41.833
    """
    value = float(_parse_km_values(pd.Series([text], dtype=object))[0])
    if math.isnan(value):
        raise ValidationError(
            f"cannot read a km mark from {text!r}; write it like 'km 41+833', '41.833' or 41.833"
        )
    return value


def _flat_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the single-part geometries of ``geoms`` and the index of the geometry of each."""
    parts, owner = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    for _ in range(2):  # multi-parts nested in geometry collections
        multi = shapely.get_num_geometries(parts) > 1
        if not multi.any():
            break
        sub, sub_index = shapely.get_parts(parts, return_index=True)
        parts, owner = sub, owner[sub_index]
    return parts, owner


def _segment_table(
    geoms: np.ndarray, to_lonlat: Transformer | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vertices of all parts in lon/lat, and the geodesic segments between them.

    Returns
    -------
    lonlat : (K, 2) array
        Vertices, geometry after geometry and part after part.
    owner : (K,) int array
        Index of the geometry of each vertex.
    seg_m : (K - 1,) array
        Geodesic length of the segment from vertex ``k`` to ``k + 1``; 0 between two parts.
    seg_az : (K - 1,) array
        Forward azimuth of each segment (degrees).
    """
    parts, part_owner = _flat_parts(geoms)
    coords, part_of = shapely.get_coordinates(parts, return_index=True)
    if to_lonlat is not None and len(coords):
        coords = np.column_stack(to_lonlat.transform(coords[:, 0], coords[:, 1]))
    owner = part_owner[part_of]
    if len(coords) < 2:
        return coords, owner, np.zeros(0), np.zeros(0)
    az, _, dist = _GEOD.inv(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])
    same_part = part_of[1:] == part_of[:-1]
    return coords, owner, np.where(same_part, dist, 0.0), np.asarray(az, dtype=float)


def _sum_by_owner(owner: np.ndarray, seg_m: np.ndarray, n: int) -> np.ndarray:
    if len(seg_m) == 0:
        return np.zeros(n)
    return np.bincount(owner[:-1], weights=seg_m, minlength=n)


def compute_geodesic_length_km(lines: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    """Return the geodesic length of each line in km (vertex-to-vertex, WGS84 ellipsoid).

    Edges are taken as geodesics between their vertices (the convention of
    :func:`geotools.area.project_to_area_crs`). Parts of a MultiLineString are summed; the jump
    between two parts is not counted.

    Parameters
    ----------
    lines : geopandas.GeoSeries or geopandas.GeoDataFrame
        Lines with a CRS (any CRS).

    Returns
    -------
    numpy.ndarray
        Km per feature (0 for missing, empty or point geometries).

    Examples
    --------
    >>> from shapely import LineString
    >>> one_degree = gpd.GeoSeries([LineString([(-74.5, -8.0), (-74.5, -9.0)])], crs=4326)
    >>> round(float(compute_geodesic_length_km(one_degree)[0]), 3)
    110.599
    """
    series = lines.geometry if isinstance(lines, gpd.GeoDataFrame) else lines
    if series.crs is None:
        raise CRSError("cannot measure lines with no CRS; set one first (e.g. EPSG:4326)")
    geoms = np.asarray(series.to_crs(4326).values, dtype=object)
    _, owner, seg_m, _ = _segment_table(geoms)
    return _sum_by_owner(owner, seg_m, len(geoms)) / 1000.0


def _planar_geodesic_length_m(geoms: np.ndarray, crs: CRS) -> np.ndarray:
    """Geodesic length (m) of geometries given in the planar ``crs``, densified first."""
    if len(geoms) == 0:
        return np.zeros(0)
    dense = shapely.segmentize(np.asarray(geoms, dtype=object), MAX_SEGMENT_M)
    to_lonlat = Transformer.from_crs(crs, 4326, always_xy=True)
    _, owner, seg_m, _ = _segment_table(dense, to_lonlat)
    return _sum_by_owner(owner, seg_m, len(geoms))


def _line_labels(lines: gpd.GeoDataFrame) -> list[str]:
    label = pd.Series([""] * len(lines), index=lines.index, dtype=object)
    for col in ("name", "tramo", "ramal"):
        if col in lines.columns:
            missing = label == ""
            label = label.where(~missing, lines[col].fillna("").astype(str))
    return [
        f"line {idx} '{text}'" if text else f"line {idx}"
        for idx, text in zip(lines.index, label, strict=True)
    ]


def _name_mask(lines: gpd.GeoDataFrame, wanted: pd.Series) -> np.ndarray:
    """(marks x lines) mask: True where the mark names no line or names this one."""
    want = wanted.to_numpy(dtype=object)
    named = pd.notna(want) & (pd.Series(want, dtype=object).astype(str).str.strip() != "")
    norm = pd.Series(want, dtype=object).astype(str).str.strip().str.lower().to_numpy(dtype=object)
    mask = np.zeros((len(want), len(lines)), dtype=bool)
    for col in LINE_NAME_COLUMNS:  # at most four columns; each test is over all pairs
        if col in lines.columns:
            values = lines[col].astype(object).where(lines[col].notna(), "")
            values = values.astype(str).str.strip().str.lower().to_numpy(dtype=object)
            mask |= norm[:, None] == values[None, :]
    mask[~named] = True
    return mask


def _check_crs(frame: gpd.GeoDataFrame, what: str) -> None:
    if frame.crs is None:
        raise CRSError(f"the {what} layer has no CRS; set one first (e.g. EPSG:4326)")


def _require(frame: pd.DataFrame, column: str, what: str, fix: str) -> None:
    if column not in frame.columns:
        raise ValidationError(f"the {what} have no '{column}' column; {fix}")


def locate_km_marks(
    lines: gpd.GeoDataFrame, marks: pd.DataFrame, *, calibrate: bool = False
) -> gpd.GeoDataFrame:
    """Turn kilometre marks (pipeline or road progressives) into points along their line.

    Each mark is placed by linear referencing on the matching line, measuring distance
    geodesically from the line's first vertex: on a line whose ``km_start`` is 306.1, km 307.0
    lies 900 m along it. A line covers ``[km_start, km_start + geodesic length]``.

    A mark is never dropped. One that cannot be placed gets a ``None`` geometry and a
    ``problem`` text: unreadable km, no line of that name, in the gap between two lines, before
    the first or beyond the end of the last line, or on several lines at once (give ``line``).
    A mark past the drawn end of a line but within its declared ``km_end`` (the drawn route is
    often a little shorter than the official progressives) is placed at the line's last vertex,
    with a ``problem`` saying so.

    Parameters
    ----------
    lines : geopandas.GeoDataFrame
        Infrastructure with ``km_start`` (and optionally ``km_end``); LineString or
        MultiLineString (parts are walked in order; the jump between parts is not counted);
        any CRS (edges are taken as geodesics between vertices).
    marks : pandas.DataFrame
        Column ``km`` (number or text such as ``'km 41+833'``, see :func:`parse_km_mark`) and
        optionally ``line``: a value compared case-insensitively with the lines' ``name``,
        ``tramo``, ``ramal`` and ``kind`` to restrict the mark to the lines it names. Where km
        ranges of different lines overlap (branches numbered from 0 each), ``line`` is needed.
    calibrate : bool, default False
        Stretch each line that has a ``km_end`` so that its drawn length spans
        ``[km_start, km_end]`` (offset = ``(km - km_start) / (km_end - km_start)`` x geodesic
        length). Use it when the drawing is generalised and shorter than the official
        progressives (the real Norperuano route is 0.5-5 % shorter than its km ranges): the
        default, pure geodesic distance from the first vertex, then drifts by kilometres
        towards the end of a long line. ``offset_m`` stays the geodesic distance along the line.

    Returns
    -------
    geopandas.GeoDataFrame
        ``marks``' columns and index, plus ``geometry`` (points, EPSG:4326), ``line_index``
        (index label of the line in ``lines``, missing when not placed), ``offset_m`` (geodesic
        metres from the line's first vertex) and ``problem`` (None when all is well).

    Raises
    ------
    ValidationError
        When ``lines`` has no ``km_start`` or ``marks`` no ``km`` column.
    CRSError
        When ``lines`` has no CRS.

    Examples
    --------
    >>> from shapely import LineString
    >>> lines = gpd.GeoDataFrame(
    ...     {"kind": ["pipeline"], "name": ["demo"], "km_start": [306.1]},
    ...     geometry=[LineString([(-74.5, -8.0), (-74.5, -9.0)])], crs=4326)
    >>> out = locate_km_marks(lines, pd.DataFrame({"km": ["km 307+000", 500.0]}))
    >>> out["offset_m"].round(3).tolist()
    [900.0, nan]
    >>> out["problem"].iloc[1]
    "km 500.0 is beyond the end of line 0 'demo' (km 416.699)"
    """
    _check_crs(lines, "lines")
    fix = "give the km mark of each line's first vertex (e.g. rename km_inicio to km_start)"
    _require(lines, "km_start", "lines", fix)
    _require(marks, "km", "marks", "add one with values like 'km 41+833' or 41.833")
    n_lines, n_marks = len(lines), len(marks)
    km_start = pd.to_numeric(lines["km_start"], errors="coerce").to_numpy(dtype=float)
    km_end = (
        pd.to_numeric(lines["km_end"], errors="coerce").to_numpy(dtype=float)
        if "km_end" in lines.columns
        else np.full(n_lines, np.nan)
    )
    geoms = np.asarray(lines.geometry.to_crs(4326).values, dtype=object)
    lonlat, owner, seg_m, seg_az = _segment_table(geoms)
    length_m = _sum_by_owner(owner, seg_m, n_lines)
    n_vertices = np.bincount(owner, minlength=n_lines)
    usable = np.isfinite(km_start) & (n_vertices >= 2)
    if (~usable).any():
        log.warning("%d line(s) without a km_start or a drawn line are skipped", (~usable).sum())

    km = _parse_km_values(marks["km"])
    wanted = marks["line"] if "line" in marks.columns else pd.Series([None] * n_marks)
    ok = _name_mask(lines, wanted) & usable[None, :]
    span = km_end - km_start
    stretch = calibrate & np.isfinite(span) & (span > 0)
    drawn_km = np.where(stretch, span, length_m / 1000.0)  # km covered by each line
    lo = km_start[None, :]
    hi = lo + drawn_km[None, :]
    k = km[:, None]
    tol = KM_TOLERANCE
    cover = ok & (k >= lo - tol) & (k <= hi + tol)
    inner = cover & (k < hi - tol)  # at a joint, prefer the line that starts there
    cover = np.where(inner.any(axis=1)[:, None], inner, cover)
    past = ok & (k > hi + tol) & (k <= km_end[None, :] + tol)
    snap = ~cover.any(axis=1) & (past.sum(axis=1) == 1)
    cover[snap] = past[snap]
    n_cover = cover.sum(axis=1)
    placed = n_cover == 1
    choice = np.argmax(cover, axis=1)

    # Walk the concatenated segments: line i's vertices are contiguous in `lonlat`.
    metres_per_km = np.where(stretch, length_m / np.where(stretch, span, 1.0), 1000.0)
    offset = np.clip((km - km_start[choice]) * metres_per_km[choice], 0.0, length_m[choice])
    lon = np.full(n_marks, np.nan)
    lat = np.full(n_marks, np.nan)
    rows = np.flatnonzero(placed)
    if len(rows):
        first = np.searchsorted(owner, np.arange(n_lines), side="left")
        last = np.searchsorted(owner, np.arange(n_lines), side="right") - 2  # last segment
        cum = np.cumsum(seg_m)
        before = cum - seg_m
        line = choice[rows]
        target = before[first[line]] + offset[rows]
        seg = np.clip(np.searchsorted(cum, target, side="left"), first[line], last[line])
        rest = np.clip(target - before[seg], 0.0, seg_m[seg])
        lon[rows], lat[rows], _ = _GEOD.fwd(lonlat[seg, 0], lonlat[seg, 1], seg_az[seg], rest)

    problems = _mark_problems(
        marks["km"], km, ok, cover, n_cover, snap, choice, km_start, km_end, hi[0], lines, wanted
    )
    points = np.empty(n_marks, dtype=object)
    points[rows] = shapely.points(lon[rows], lat[rows])
    out = gpd.GeoDataFrame(
        marks.drop(columns=["geometry"], errors="ignore").copy(),
        geometry=gpd.GeoSeries(points, index=marks.index, crs=4326),
        crs=4326,
    )
    line_index = pd.Series(lines.index[choice], index=marks.index).where(placed)
    out["line_index"] = (
        line_index.astype("Int64") if pd.api.types.is_integer_dtype(lines.index) else line_index
    )
    out["offset_m"] = np.where(placed, offset, np.nan)
    out["problem"] = pd.Series(problems, index=marks.index, dtype=object)
    n_problems = sum(p is not None for p in problems)
    if n_problems:
        log.warning(
            "%d of %d km marks have a problem (see the 'problem' column)", n_problems, n_marks
        )
    return out


def _mark_problems(
    raw: pd.Series,
    km: np.ndarray,
    ok: np.ndarray,
    cover: np.ndarray,
    n_cover: np.ndarray,
    snap: np.ndarray,
    choice: np.ndarray,
    km_start: np.ndarray,
    km_end: np.ndarray,
    drawn_end: np.ndarray,
    lines: gpd.GeoDataFrame,
    wanted: pd.Series,
) -> list[str | None]:
    """One problem text per mark (None when it was placed without a remark)."""
    labels = _line_labels(lines)
    end = np.fmax(drawn_end, km_end)
    k = km[:, None]
    prev_end = np.where(ok & (end[None, :] < k), end[None, :], -np.inf)
    prev = np.argmax(prev_end, axis=1)
    has_prev = np.isfinite(prev_end.max(axis=1, initial=-np.inf))
    next_start = np.where(ok & (km_start[None, :] > k), km_start[None, :], np.inf)
    nxt = np.argmin(next_start, axis=1) if len(lines) else np.zeros(len(km), dtype=int)
    has_next = np.isfinite(next_start.min(axis=1, initial=np.inf))
    any_line = np.asarray(ok.any(axis=1), dtype=bool)
    problems: list[str | None] = [None] * len(km)
    trouble = np.flatnonzero((n_cover != 1) | snap | np.isnan(km))
    raw_values = raw.to_numpy(dtype=object)
    wanted_values = wanted.to_numpy(dtype=object)
    for r in trouble:  # building texts: only for marks that have a problem
        if np.isnan(km[r]):
            problems[r] = f"cannot read a km mark from {raw_values[r]!r}"
            continue
        text = f"km {_fmt_km(km[r])}"
        if snap[r]:
            i = choice[r]
            problems[r] = (
                f"{text} is within the km range of {labels[i]} (km {_fmt_km(km_start[i])}-"
                f"{_fmt_km(km_end[i])}) but past its drawn end (km {_fmt_km(drawn_end[i])}); "
                "placed at its last vertex"
            )
        elif n_cover[r] > 1:
            names = ", ".join(labels[i] for i in np.flatnonzero(cover[r]))
            problems[r] = (
                f"{text} lies on {n_cover[r]} lines ({names}); give a 'line' value "
                "(name, tramo or ramal) to choose one"
            )
        elif not any_line[r]:
            which = wanted_values[r]
            problems[r] = (
                f"no line with a km_start matches line={which!r}"
                if pd.notna(which) and str(which).strip()
                else "no line has a km_start and a drawn geometry"
            )
        elif has_prev[r] and has_next[r]:
            a, b = prev[r], nxt[r]
            problems[r] = (
                f"{text} is in the gap between lines: {labels[a]} ends at km "
                f"{_fmt_km(end[a])} and {labels[b]} starts at km {_fmt_km(km_start[b])}"
            )
        elif has_prev[r]:
            a = prev[r]
            problems[r] = f"{text} is beyond the end of {labels[a]} (km {_fmt_km(end[a])})"
        else:
            b = nxt[r]
            problems[r] = f"{text} is before the start of {labels[b]} (km {_fmt_km(km_start[b])})"
    return problems


def _transform(
    geoms: np.ndarray, transformer: Transformer, *, inverse: bool = False
) -> np.ndarray:
    direction = "INVERSE" if inverse else "FORWARD"
    func: Callable[[np.ndarray], np.ndarray] = lambda xy: np.column_stack(  # noqa: E731
        transformer.transform(xy[:, 0], xy[:, 1], direction=direction)
    )
    return np.asarray(shapely.transform(geoms, func), dtype=object)


def _quad_segs(distance_m: float) -> int:
    """Buffer segments per quarter circle so chords stay within BUFFER_SAGITTA_M of the arc."""
    if distance_m <= BUFFER_SAGITTA_M:
        return 8
    angle = 2.0 * math.acos(1.0 - BUFFER_SAGITTA_M / distance_m)
    return max(8, math.ceil((math.pi / 2) / angle))


def nearby_zones(zones: np.ndarray, crs: CRS, distance_m: float) -> np.ndarray:
    """Return, for each zone, the band outside it within ``distance_m`` (geodesic).

    Each zone is buffered in an azimuthal-equidistant projection centred on it (one projection
    per zone: a Python loop over zones), then brought back to ``crs``; the zone is subtracted
    in ``crs`` so that zone and band share their boundary exactly.

    Parameters
    ----------
    zones : numpy.ndarray of shapely.Geometry
        Polygons in the planar ``crs`` (``None`` or empty for none).
    crs : pyproj.CRS
        Their CRS.
    distance_m : float
        Band width in metres.

    Returns
    -------
    numpy.ndarray of shapely.Geometry
        Bands in ``crs`` (empty polygons for missing zones).

    Notes
    -----
    Distances from the projection centre are exact; across, the scale is
    ``(ρ/R) / sin(ρ/R) ≈ 1 + ρ²/6R²`` at ``ρ`` from the centre: +0.016 % at 200 km, i.e.
    under 1 m on a 5 km band for a territory 400 km across. Arcs are drawn with chords within
    :data:`BUFFER_SAGITTA_M` of the circle (the band is that much too thin at most), and band
    edges are densified to 500 m before going back to ``crs``.
    """
    zones = np.asarray(zones, dtype=object)
    out = np.empty(len(zones), dtype=object)
    out[:] = [shapely.Polygon()] * len(zones)
    real = np.flatnonzero(~shapely.is_missing(zones) & ~shapely.is_empty(zones))
    if len(real) == 0 or distance_m <= 0:
        return out
    to_lonlat = Transformer.from_crs(crs, 4326, always_xy=True)
    from_lonlat = Transformer.from_crs(4326, crs, always_xy=True)
    lonlat = _transform(zones[real], to_lonlat)
    centres = shapely.get_coordinates(shapely.centroid(zones[real]))
    lon, lat = to_lonlat.transform(centres[:, 0], centres[:, 1])
    quad_segs = _quad_segs(distance_m)
    bands = np.empty(len(real), dtype=object)
    for j, (lon0, lat0) in enumerate(zip(lon, lat, strict=True)):  # one projection per zone
        # A bare pipeline: no CRS-to-CRS operation search (that costs ~40 ms per zone).
        local = Transformer.from_pipeline(
            "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
            f"+step +proj=aeqd +lat_0={lat0:.10f} +lon_0={lon0:.10f} +ellps=WGS84"
        )
        flat = _transform(lonlat[j : j + 1], local)
        band = shapely.segmentize(shapely.buffer(flat, distance_m, quad_segs=quad_segs), 500.0)
        bands[j] = _transform(band, local, inverse=True)[0]
    bands = _transform(bands, from_lonlat)
    out[real] = shapely.difference(bands, zones[real])
    return out


def _length_in_zones(
    zones: np.ndarray, lines: np.ndarray, codes: np.ndarray, crs: CRS, n_codes: int
) -> np.ndarray:
    """(zones x codes) geodesic metres of the lines of each code inside each zone."""
    out = np.zeros((len(zones), n_codes))
    zi, li = query_pairs(zones, lines, predicate="intersects")
    if len(zi) == 0:
        return out
    shapely.prepare(zones)
    whole = shapely.contains_properly(zones[zi], lines[li])
    pieces = lines[li].copy()
    cut = ~whole
    pieces[cut] = shapely.intersection(lines[li[cut]], zones[zi[cut]])
    metres = _planar_geodesic_length_m(pieces, crs)  # points from touching lines count 0
    flat = np.bincount(zi * n_codes + codes[li], weights=metres, minlength=len(zones) * n_codes)
    return flat.reshape(len(zones), n_codes)


def _valid_geoms(frame: gpd.GeoDataFrame) -> np.ndarray:
    geoms = np.asarray(frame.geometry.values, dtype=object)
    return ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)


def compute_infrastructure_exposure(
    territories: gpd.GeoDataFrame,
    lines: gpd.GeoDataFrame,
    spills: gpd.GeoDataFrame | None = None,
    distance_km: float = DEFAULT_NEARBY_KM,
) -> pd.DataFrame:
    """Measure pipelines, roads and spills inside and near each territory.

    Parameters
    ----------
    territories : geopandas.GeoDataFrame
        ``territory_id`` and polygons, any CRS.
    lines : geopandas.GeoDataFrame
        Infrastructure lines with ``kind`` (``pipeline`` or ``road``, case-insensitive; other
        kinds are ignored), any CRS. Overlapping features are each counted.
    spills : geopandas.GeoDataFrame, optional
        Points, e.g. incidents of kind spill or the output of :func:`locate_km_marks` (rows
        without a geometry are skipped). All rows count: select the spills beforehand.
    distance_km : float, default 5.0
        Width of the "nearby" band around each territory (km, geodesic).

    Returns
    -------
    pandas.DataFrame
        One row per territory, in input order: ``territory_id``, ``pipeline_km_inside``,
        ``pipeline_km_nearby``, ``road_km_inside``, ``road_km_nearby`` (geodesic km; nearby is
        the length outside the territory and within ``distance_km`` of it), ``spills_inside``
        and ``spills_nearby`` (outside, within ``distance_km``, geodesic).

    Raises
    ------
    ValidationError
        When a required column is missing or ``distance_km`` is negative.
    CRSError
        When a layer has no CRS.

    Notes
    -----
    Lines are clipped in the equal-area plane (after :func:`geotools.area.project_to_area_crs`,
    which makes long edges follow geodesics) and measured geodesically (see
    :func:`compute_geodesic_length_km`); the band is built by :func:`nearby_zones`.

    Examples
    --------
    >>> from shapely import LineString, box
    >>> territories = gpd.GeoDataFrame({"territory_id": ["T1"]},
    ...     geometry=[box(-74.6, -8.1, -74.4, -7.9)], crs=4326)
    >>> lines = gpd.GeoDataFrame({"kind": ["pipeline"]},
    ...     geometry=[LineString([(-74.5, -8.0), (-74.5, -8.3)])], crs=4326)
    >>> out = compute_infrastructure_exposure(territories, lines)
    >>> out[["pipeline_km_inside", "road_km_inside"]].round(1).values.tolist()
    [[11.1, 0.0]]
    """
    _check_crs(territories, "territories")
    _check_crs(lines, "lines")
    _require(territories, "territory_id", "territories", "add an identifier per territory")
    _require(lines, "kind", "lines", "add a 'kind' column with 'pipeline' or 'road'")
    if not math.isfinite(distance_km) or distance_km < 0:
        raise ValidationError(f"distance_km must be a number >= 0, got {distance_km!r}")
    if spills is not None:
        _check_crs(spills, "spills")
        spills = spills[_valid_geoms(spills)]
    crs = area_crs_for(territories, lines, spills)
    n = len(territories)

    zones = project_to_area_crs(territories, crs)
    ok_zone = np.asarray(~shapely.is_missing(zones) & ~shapely.is_empty(zones), dtype=bool)
    zones[~ok_zone] = shapely.Polygon()
    bad = ok_zone & ~shapely.is_valid(zones)
    if bad.any():
        log.warning("repairing %d invalid territory geometries with make_valid", bad.sum())
        zones[bad] = shapely.make_valid(zones[bad])

    kind = lines["kind"].astype(object).where(lines["kind"].notna(), "")
    kind = kind.astype(str).str.strip().str.lower().to_numpy(dtype=object)
    codes = np.full(len(lines), -1)
    for c, name in enumerate(KINDS):
        codes[kind == name] = c
    keep = (codes >= 0) & _valid_geoms(lines)
    if (~keep).any():
        log.info("ignoring %d line(s) of another kind or without geometry", (~keep).sum())
    line_geoms = np.empty(len(lines), dtype=object)
    line_geoms[keep] = project_to_area_crs(lines[keep], crs)

    inside = _length_in_zones(zones, line_geoms, np.maximum(codes, 0), crs, len(KINDS))
    nearby = np.zeros_like(inside)
    if distance_km > 0:
        bands = nearby_zones(zones, crs, distance_km * 1000.0)
        nearby = _length_in_zones(bands, line_geoms, np.maximum(codes, 0), crs, len(KINDS))

    spills_in = np.zeros(n, dtype=np.int64)
    spills_near = np.zeros(n, dtype=np.int64)
    if spills is not None and len(spills):
        points = project_to_area_crs(spills, crs)
        spills_in, spills_near = count_incidents(zones, points, crs, distance_km)
    return pd.DataFrame(
        {
            "territory_id": territories["territory_id"].to_numpy(),
            "pipeline_km_inside": inside[:, 0] / 1000.0,
            "pipeline_km_nearby": nearby[:, 0] / 1000.0,
            "road_km_inside": inside[:, 1] / 1000.0,
            "road_km_nearby": nearby[:, 1] / 1000.0,
            "spills_inside": spills_in,
            "spills_nearby": spills_near,
        }
    )
