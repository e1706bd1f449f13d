"""Risk surface: incident density, concession cover and untitled land on one equal-area grid.

:func:`compute_risk_surface` builds a regular grid over a ``bounds`` layer and computes three
components per cell, each on a 0-1 scale, then combines them with weights:

- ``violence``: kernel density of incidents, each weighted by ``severity x 0.5 ** (age /
  half_life)``, divided by its maximum on the grid (so the hottest cell is 1).
- ``concessions``: the fraction of the cell's area under active concessions (weight 1) plus the
  fraction under in-process concessions that are not also under an active one (weight 0.5);
  expired concessions count 0.
- ``tenure``: the fraction of the cell's area that is untitled claimed land, where tenure is
  known (see *Unknown tenure*).

``combined = sum(w_i * layer_i) / sum(w_i)`` where tenure is known.

Unknown tenure
--------------
Without a tenure source (``untitled`` is ``None``: no parcel layer) the untitled share is not
known anywhere; with ``tenure_unknown`` polygons (territories whose tenure is unknown) it is not
known in every cell that has any area inside one of them. In those cells the tenure component is
NaN (never a plausible 0), band ``tenure_known`` is 0 (1 elsewhere), and the combined value is
renormalised over the known components::

    combined = (w_violence * violence + w_concessions * concessions)
               / (w_violence + w_concessions)

(NaN when those two weights are 0: nothing is known there). Cells with known tenure keep exactly
the value of the full formula. The per-territory score (:mod:`geotools.analysis.risk`) handles a
missing component differently: it keeps the weight in the denominator (a lower bound) and gives
``risk_score_max``. ``meta["tenure_unknown_cells"]`` counts the cells without tenure.

Design choices
--------------
- **Equal-area grid.** The grid is laid out in the equal-area CRS chosen for the ``bounds``
  layer (:func:`geotools.area.area_crs_for`: :data:`geotools.crs.PERU_ALBERS` in Peru), so every
  cell has the same true area and area fractions are true-area fractions. Its extent is the
  bounds layer's extent plus a margin of ``2 x bandwidth_m``, snapped outwards to multiples of
  ``cell_size_m`` (grids of different runs line up). Every cell has a combined value (no
  nodata inside the grid), except where only tenure is weighted and tenure is unknown; the
  tenure band is NaN where tenure is unknown.
- **Kernel density.** Incident weights are deposited on the grid bilinearly ("cloud in cell":
  an incident's weight is split between the four nearest cell centres, so its centre of mass is
  kept to sub-cell precision; an incident at a cell centre goes entirely into that cell), then
  smoothed with :func:`scipy.ndimage.gaussian_filter`, ``sigma = bandwidth_m / cell_size_m``
  cells, truncated at 4 sigma. The deposit array has a halo of 4 sigma around the grid, so
  incidents just beyond the grid still contribute to the cells near its edge; incidents farther
  away cannot reach it and are dropped. The smoothed density is divided by its maximum.
- **Incident ages.** ``age = (reference_date - date)`` in years of 365.25 days. The reference
  date defaults to the latest incident date. Incidents dated after the reference date are left
  out (they had not happened yet); incidents with no date are counted with the age of the oldest
  dated incident (they are real, but not known to be recent); if no incident has a date, all
  ages are 0. Severities that are missing or outside 1-5 are dropped with a warning.
- **Exact area fractions.** Polygons are projected with geodesic edges
  (:func:`geotools.area.project_to_area_crs`), repaired, and dissolved per class so overlaps are
  not counted twice. Cells within a part's bounding box are tested against it (prepared
  geometries, vectorised): cells inside count 1, cells on the boundary get the exact area of
  their intersection with the part. Fractions are exact up to floating point (about 1e-12);
  they are clipped to 0-1.
- **Missing layers.** A missing incident or concession layer (``None`` or empty) gives a
  component of zeros, which still takes its weight in the combination so that surfaces of
  different runs stay comparable; a warning says so. A missing tenure source is unknown, not 0
  (see *Unknown tenure*); an empty ``untitled`` layer means no untitled land (known 0).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import affine
import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from pyproj import CRS, Transformer
from rasterio.enums import Resampling
from scipy import ndimage

from geotools.area import area_crs_for, project_to_area_crs
from geotools.gdalpath import gdal_write_path
from geotools.outputs import atomic_path

log = logging.getLogger(__name__)

#: Default weights of the components in the combined risk.
DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"violence": 0.5, "concessions": 0.3, "tenure": 0.2}
)
#: Component names, in band order (bands 2-4 of the GeoTIFF).
COMPONENTS = ("violence", "concessions", "tenure")
#: Name of the mask layer (band 5 of the GeoTIFF, hexagon column): 1 where tenure is known, 0
#: where it is not (the tenure component is NaN and the others are renormalised there).
TENURE_KNOWN = "tenure_known"
#: Weight of each concession status in the concessions component.
STATUS_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"active": 1.0, "in_process": 0.5, "expired": 0.0}
)
#: Gaussian kernel truncation, in standard deviations.
KERNEL_TRUNCATE = 4.0
DAYS_PER_YEAR = 365.25


@dataclass
class RiskSurface:
    """A combined risk grid and its components.

    Attributes
    ----------
    data : numpy.ndarray
        float32 ``(rows, cols)`` combined risk, 0-1 (no nodata inside the grid).
    layers : dict of str to numpy.ndarray
        float32 components ``violence``, ``concessions`` and ``tenure``, each 0-1 (``tenure``
        NaN where unknown), and ``tenure_known`` (1 known, 0 unknown).
    transform : affine.Affine
        Grid transform (north-up, square cells).
    crs : pyproj.CRS
        The equal-area CRS of the grid.
    meta : dict
        Parameters and counts (weights, reference date, incidents used/dropped, ...).
    """

    data: np.ndarray
    layers: dict[str, np.ndarray]
    transform: affine.Affine
    crs: CRS
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)`` of the grid."""
        rows, cols = self.data.shape
        return int(rows), int(cols)

    @property
    def cell_size(self) -> float:
        """Cell side in CRS units (metres)."""
        return float(self.transform.a)

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(x, y)`` arrays of cell centres, shape ``(rows, cols)``, in :attr:`crs`."""
        rows, cols = self.shape
        t = self.transform
        x = t.c + (np.arange(cols) + 0.5) * t.a
        y = t.f + (np.arange(rows) + 0.5) * t.e
        xx, yy = np.meshgrid(x, y)
        return xx, yy


@dataclass(frozen=True)
class _Grid:
    x0: float  # west edge
    y0: float  # north edge
    cell: float
    rows: int
    cols: int

    @property
    def transform(self) -> affine.Affine:
        return affine.Affine(self.cell, 0.0, self.x0, 0.0, -self.cell, self.y0)


def _check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    unknown = set(weights) - set(COMPONENTS)
    if unknown:
        raise ValueError(f"unknown weight(s) {sorted(unknown)}; expected some of {COMPONENTS}")
    clean = {name: float(weights.get(name, 0.0)) for name in COMPONENTS}
    if any(not math.isfinite(w) or w < 0 for w in clean.values()):
        raise ValueError(f"weights must be finite and non-negative, got {dict(weights)}")
    if sum(clean.values()) <= 0:
        raise ValueError("at least one weight must be positive")
    return clean


def _make_grid(bounds: gpd.GeoDataFrame, crs: CRS, cell: float, margin: float) -> _Grid:
    geoms = project_to_area_crs(bounds, crs)
    geoms = geoms[~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)]
    if len(geoms) == 0:
        raise ValueError("the bounds layer has no geometry")
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    x0 = math.floor((minx - margin) / cell) * cell
    y1 = math.floor((miny - margin) / cell) * cell
    x1 = math.ceil((maxx + margin) / cell) * cell
    y0 = math.ceil((maxy + margin) / cell) * cell
    cols = max(1, round((x1 - x0) / cell))
    rows = max(1, round((y0 - y1) / cell))
    log.info("risk grid: %d x %d cells of %.0f m", rows, cols, cell)
    return _Grid(x0=x0, y0=y0, cell=cell, rows=rows, cols=cols)


def _incident_weights(
    incidents: gpd.GeoDataFrame, half_life_years: float, reference_date: str | None
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Return ``(keep mask, weights of kept incidents, meta)``."""
    n = len(incidents)
    severity = (
        pd.to_numeric(incidents["severity"], errors="coerce").to_numpy(dtype=float)
        if "severity" in incidents
        else np.full(n, np.nan)
    )
    bad_sev = ~np.isfinite(severity) | (severity < 1) | (severity > 5)
    if bad_sev.any():
        log.warning("%d incident(s) without a severity in 1-5 left out", int(bad_sev.sum()))
    if "date" in incidents:
        dates = pd.to_datetime(incidents["date"], errors="coerce", format="ISO8601")
    else:
        dates = pd.Series(pd.NaT, index=incidents.index, dtype="datetime64[ns]")
    dated = dates.notna().to_numpy()
    ref: Any
    if reference_date is not None:
        ref = pd.Timestamp(reference_date)
    elif dated.any():
        ref = dates[dated].max()
    else:
        ref = pd.NaT
    if pd.isna(ref):
        age = np.zeros(n)
        future = np.zeros(n, dtype=bool)
    else:
        age = ((ref - dates).dt.total_seconds() / 86400.0 / DAYS_PER_YEAR).to_numpy(dtype=float)
        future = dated & (age < 0)
        usable = dated & ~future & ~bad_sev
        oldest = float(age[usable].max()) if usable.any() else 0.0
        age = np.where(dated, age, oldest)
    if future.any():
        log.warning("%d incident(s) dated after the reference date left out", int(future.sum()))
    undated = int((~dated & ~bad_sev).sum())
    if undated:
        log.warning("%d undated incident(s) counted with the oldest dated age", undated)
    geom = np.asarray(incidents.geometry.values, dtype=object)
    no_geom = shapely.is_missing(geom) | shapely.is_empty(geom)
    keep = ~bad_sev & ~future & ~no_geom
    weights = severity[keep] * 0.5 ** (age[keep] / half_life_years)
    meta = {
        "reference_date": None if pd.isna(ref) else ref.date().isoformat(),
        "incidents_bad_severity": int(bad_sev.sum()),
        "incidents_after_reference": int(future.sum()),
        "incidents_undated": undated,
    }
    return keep, weights, meta


def _violence_layer(
    incidents: gpd.GeoDataFrame | None,
    grid: _Grid,
    crs: CRS,
    bandwidth_m: float,
    half_life_years: float,
    reference_date: str | None,
) -> tuple[np.ndarray, dict[str, Any]]:
    meta: dict[str, Any] = {"incidents_used": 0, "violence_max_density": 0.0}
    layer = np.zeros((grid.rows, grid.cols), dtype=np.float64)
    if incidents is None or len(incidents) == 0:
        log.warning("no incidents: the violence component is 0 everywhere")
        return layer, meta
    keep, weights, wmeta = _incident_weights(incidents, half_life_years, reference_date)
    meta.update(wmeta)
    pts = incidents.geometry[keep]
    if pts.crs is None:
        raise ValueError("the incidents layer has no CRS")
    # Points (or the centroid of any other geometry) in the grid CRS.
    geoms = np.asarray(pts.values, dtype=object)
    if not np.all(shapely.get_type_id(geoms) == 0):
        geoms = shapely.centroid(geoms)
    xy = shapely.get_coordinates(geoms)
    x, y = Transformer.from_crs(pts.crs, crs, always_xy=True).transform(xy[:, 0], xy[:, 1])
    sigma = bandwidth_m / grid.cell
    halo = math.ceil(KERNEL_TRUNCATE * sigma) + 1
    # Continuous cell coordinates: 0 at the first cell centre, in the padded array.
    fc = (np.asarray(x) - grid.x0) / grid.cell - 0.5 + halo
    fr = (grid.y0 - np.asarray(y)) / grid.cell - 0.5 + halo
    prow, pcol = grid.rows + 2 * halo, grid.cols + 2 * halo
    inside = (
        np.isfinite(fc)
        & np.isfinite(fr)
        & (fc >= 0)
        & (fr >= 0)
        & (fc <= pcol - 1)
        & (fr <= prow - 1)
    )
    if (~inside).any():
        log.info("%d incident(s) too far from the grid to reach it left out", int((~inside).sum()))
    fc, fr, w = fc[inside], fr[inside], weights[inside]
    meta["incidents_used"] = int(inside.sum())
    meta["incidents_outside_grid"] = int((~inside).sum())
    c0 = np.minimum(np.floor(fc).astype(np.int64), pcol - 2 if pcol > 1 else 0)
    r0 = np.minimum(np.floor(fr).astype(np.int64), prow - 2 if prow > 1 else 0)
    dc, dr = fc - c0, fr - r0
    padded = np.zeros(prow * pcol, dtype=np.float64)
    for ddr, ddc, share in (
        (0, 0, (1 - dr) * (1 - dc)),
        (0, 1, (1 - dr) * dc),
        (1, 0, dr * (1 - dc)),
        (1, 1, dr * dc),
    ):
        rr = np.minimum(r0 + ddr, prow - 1)
        cc = np.minimum(c0 + ddc, pcol - 1)
        padded += np.bincount(rr * pcol + cc, weights=w * share, minlength=prow * pcol)
    density = ndimage.gaussian_filter(
        padded.reshape(prow, pcol),
        sigma=sigma,
        mode="constant",
        cval=0.0,
        truncate=KERNEL_TRUNCATE,
    )[halo : halo + grid.rows, halo : halo + grid.cols]
    peak = float(density.max()) if density.size else 0.0
    meta["violence_max_density"] = peak
    if peak > 0:
        layer = density / peak
    return np.clip(layer, 0.0, 1.0), meta


def _dissolve(geoms: np.ndarray) -> shapely.Geometry:
    """Union of the polygonal parts of ``geoms`` (repaired), as one geometry."""
    geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
    if len(geoms) == 0:
        return shapely.Polygon()
    geoms = shapely.make_valid(geoms)
    return shapely.union_all(_polygon_parts(geoms))


def _polygon_parts(geoms: np.ndarray | shapely.Geometry) -> np.ndarray:
    """Single polygons inside ``geoms`` (collections and multi-geometries exploded)."""
    parts = shapely.get_parts(shapely.get_parts(shapely.get_parts(geoms)))
    parts = parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)]
    return np.asarray(parts, dtype=object)


def _area_fraction(union: shapely.Geometry, grid: _Grid) -> np.ndarray:
    """Exact fraction of each grid cell covered by ``union`` (disjoint polygons)."""
    frac = np.zeros(grid.rows * grid.cols, dtype=np.float64)
    parts = _polygon_parts(union)
    if len(parts) == 0:
        return frac.reshape(grid.rows, grid.cols)
    b = shapely.bounds(parts)
    cell = grid.cell
    c0 = np.clip(np.floor((b[:, 0] - grid.x0) / cell), 0, grid.cols).astype(np.int64)
    c1 = np.clip(np.ceil((b[:, 2] - grid.x0) / cell), 0, grid.cols).astype(np.int64)
    r0 = np.clip(np.floor((grid.y0 - b[:, 3]) / cell), 0, grid.rows).astype(np.int64)
    r1 = np.clip(np.ceil((grid.y0 - b[:, 1]) / cell), 0, grid.rows).astype(np.int64)
    ncol = np.maximum(c1 - c0, 0)
    count = ncol * np.maximum(r1 - r0, 0)
    total = int(count.sum())
    if total == 0:
        return frac.reshape(grid.rows, grid.cols)
    # Every (part, cell) pair in each part's bounding-box window, without a Python loop.
    part = np.repeat(np.arange(len(parts)), count)
    local = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    row = r0[part] + local // ncol[part]
    col = c0[part] + local % ncol[part]
    xmin = grid.x0 + col * cell
    ymax = grid.y0 - row * cell
    cells = shapely.box(xmin, ymax - cell, xmin + cell, ymax)
    shapely.prepare(parts)
    pgeom = parts[part]
    hit = shapely.intersects(pgeom, cells)
    full = hit & shapely.contains_properly(pgeom, cells)
    edge = hit & ~full
    area = np.zeros(total, dtype=np.float64)
    area[full] = cell * cell
    area[edge] = shapely.area(shapely.intersection(pgeom[edge], cells[edge]))
    frac += np.bincount(row * grid.cols + col, weights=area, minlength=frac.size)
    log.debug(
        "area fractions: %d parts, %d cells inside, %d on edges",
        len(parts),
        int(full.sum()),
        int(edge.sum()),
    )
    return np.clip(frac / (cell * cell), 0.0, 1.0).reshape(grid.rows, grid.cols)


def _project_polygons(layer: gpd.GeoDataFrame, crs: CRS) -> np.ndarray:
    if layer.crs is None:
        raise ValueError("a polygon layer has no CRS")
    return np.asarray(project_to_area_crs(layer, crs), dtype=object)


def _concession_layer(
    concessions: gpd.GeoDataFrame | None, grid: _Grid, crs: CRS
) -> tuple[np.ndarray, dict[str, Any]]:
    meta: dict[str, Any] = {"concessions_unknown_status": 0}
    if concessions is None or len(concessions) == 0:
        log.warning("no concessions: the concessions component is 0 everywhere")
        return np.zeros((grid.rows, grid.cols)), meta
    if "status" not in concessions:
        raise ValueError("the concessions layer needs a 'status' column")
    status = (
        concessions["status"]
        .astype("string")
        .str.strip()
        .str.lower()
        .str.replace(r"[\s\-]+", "_", regex=True)
        .fillna("")
        .to_numpy(dtype=object)
    )
    unknown = ~np.isin(status, list(STATUS_WEIGHTS))
    if unknown.any():
        log.warning(
            "%d concession(s) with an unknown status %s counted as 0",
            int(unknown.sum()),
            sorted(set(status[unknown]))[:5],
        )
    meta["concessions_unknown_status"] = int(unknown.sum())
    geoms = _project_polygons(concessions, crs)
    active = _dissolve(geoms[status == "active"])
    in_process = shapely.difference(_dissolve(geoms[status == "in_process"]), active)
    active_frac = _area_fraction(active, grid)
    in_process_frac = _area_fraction(in_process, grid)
    layer = STATUS_WEIGHTS["active"] * active_frac + STATUS_WEIGHTS["in_process"] * in_process_frac
    return np.clip(layer, 0.0, 1.0), meta


def _tenure_layer(
    untitled: gpd.GeoDataFrame | None,
    unknown: gpd.GeoDataFrame | None,
    grid: _Grid,
    crs: CRS,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(untitled fraction, tenure known)``; the fraction is NaN where not known."""
    shape = (grid.rows, grid.cols)
    if untitled is None:
        log.warning(
            "no tenure source (no parcel layer): tenure is unknown, so the risk surface leaves "
            "its tenure component out and renormalises the other weights in every cell"
        )
        return np.full(shape, np.nan), np.zeros(shape, dtype=bool)
    fraction = (
        _area_fraction(_dissolve(_project_polygons(untitled, crs)), grid)
        if len(untitled)
        else np.zeros(shape)
    )
    known = np.ones(shape, dtype=bool)
    if unknown is not None and len(unknown):
        known = _area_fraction(_dissolve(_project_polygons(unknown, crs)), grid) <= 0.0
        log.warning(
            "tenure unknown in %d territory(ies): %d risk-surface cell(s) leave the tenure "
            "component out and renormalise the other weights",
            len(unknown),
            int((~known).sum()),
        )
    return np.where(known, fraction, np.nan), known


def _combine(
    layers: Mapping[str, np.ndarray], known: np.ndarray, weights: Mapping[str, float]
) -> np.ndarray:
    """Weighted mean of the components; without tenure where it is not known."""
    rest = weights["violence"] * layers["violence"] + weights["concessions"] * layers["concessions"]
    full = (rest + weights["tenure"] * np.nan_to_num(layers["tenure"])) / sum(weights.values())
    rest_weight = weights["violence"] + weights["concessions"]
    partial = rest / rest_weight if rest_weight > 0 else np.full(known.shape, np.nan)
    return np.where(known, full, partial)


def territories_without_tenure(
    territories: gpd.GeoDataFrame, table: pd.DataFrame
) -> gpd.GeoDataFrame | None:
    """The territories whose untitled share is unknown (``untitled_ha`` NaN in the stats table).

    Parameters
    ----------
    territories : geopandas.GeoDataFrame
        Territories with ``territory_id``.
    table : pandas.DataFrame
        ``territory_stats`` (``territory_id``, ``untitled_ha``).

    Returns
    -------
    geopandas.GeoDataFrame or None
        Those territories (for ``tenure_unknown`` of :func:`compute_risk_surface`), or None when
        every territory's tenure is known.
    """
    if "untitled_ha" not in table.columns or "territory_id" not in territories.columns:
        return None
    unknown = table.loc[table["untitled_ha"].isna(), "territory_id"].astype(str)
    rows = territories[territories["territory_id"].astype(str).isin(set(unknown))]
    return rows if len(rows) else None


def compute_risk_surface(
    incidents: gpd.GeoDataFrame | None,
    concessions: gpd.GeoDataFrame | None,
    untitled: gpd.GeoDataFrame | None,
    bounds: gpd.GeoDataFrame,
    cell_size_m: float = 1000.0,
    bandwidth_m: float = 5000.0,
    half_life_years: float = 5.0,
    reference_date: str | None = None,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    tenure_unknown: gpd.GeoDataFrame | None = None,
) -> RiskSurface:
    """Compute the combined risk grid and its three components.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame or None
        Points with ``severity`` (1-5) and ``date`` (ISO text or NA), any CRS.
    concessions : geopandas.GeoDataFrame or None
        Polygons with ``status``: ``active`` (weight 1), ``in_process`` (0.5) or ``expired`` (0).
    untitled : geopandas.GeoDataFrame or None
        Polygons of the untitled part of territories (claimed minus secured), any CRS. ``None``
        when there is no tenure source: tenure is then unknown in every cell (left out of the
        combination, the other weights renormalised); an empty layer means no untitled land.
    bounds : geopandas.GeoDataFrame
        Layer whose extent, plus a margin of ``2 x bandwidth_m``, defines the grid.
    cell_size_m : float, default 1000
        Cell side in metres.
    bandwidth_m : float, default 5000
        Standard deviation of the Gaussian kernel of incident density, metres.
    half_life_years : float, default 5
        An incident this much older than the reference date weighs half as much.
    reference_date : str, optional
        ISO date the ages are measured from; default the latest incident date.
    weights : mapping of str to float
        Weights of ``violence``, ``concessions`` and ``tenure`` (missing names weigh 0).
    tenure_unknown : geopandas.GeoDataFrame, optional
        Polygons (territories) whose tenure is unknown: every cell with area inside one of them
        has no tenure component (NaN, ``tenure_known`` 0) and the other weights renormalised.

    Returns
    -------
    RiskSurface
        float32 combined risk and components, 0-1, on a grid in an equal-area CRS.

    Raises
    ------
    ValueError
        Non-positive sizes, bad weights, layers without a CRS or an empty ``bounds``.
    """
    for name, value in (
        ("cell_size_m", cell_size_m),
        ("bandwidth_m", bandwidth_m),
        ("half_life_years", half_life_years),
    ):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be positive, got {value}")
    clean = _check_weights(weights)
    if bounds.crs is None:
        raise ValueError("the bounds layer has no CRS")
    crs = area_crs_for(bounds)
    grid = _make_grid(bounds, crs, float(cell_size_m), 2.0 * bandwidth_m)
    violence, vmeta = _violence_layer(
        incidents, grid, crs, bandwidth_m, half_life_years, reference_date
    )
    conc, cmeta = _concession_layer(concessions, grid, crs)
    tenure, known = _tenure_layer(untitled, tenure_unknown, grid, crs)
    combined = _combine({"violence": violence, "concessions": conc, "tenure": tenure}, known, clean)
    layers = {
        "violence": violence.astype(np.float32),
        "concessions": conc.astype(np.float32),
        "tenure": tenure.astype(np.float32),
        TENURE_KNOWN: known.astype(np.float32),
    }
    meta: dict[str, Any] = {
        "tenure_unknown_cells": int((~known).sum()),
        "weights": clean,
        "cell_size_m": float(cell_size_m),
        "bandwidth_m": float(bandwidth_m),
        "half_life_years": float(half_life_years),
        **vmeta,
        **cmeta,
    }
    return RiskSurface(
        data=np.clip(combined, 0.0, 1.0).astype(np.float32),
        layers=layers,
        transform=grid.transform,
        crs=crs,
        meta=meta,
    )


def _overview_factors(rows: int, cols: int) -> list[int]:
    factors = []
    factor = 2
    while max(rows, cols) / factor >= 2:
        factors.append(factor)
        factor *= 2
    return factors or [2]


def write_risk_surface(
    surface: RiskSurface, path: str | Path, *, overwrite: bool = False
) -> Path:
    """Write a risk surface as a 5-band GeoTIFF, atomically.

    Band 1 is the combined risk, bands 2-4 the components (``violence``, ``concessions``,
    ``tenure``; tenure NaN where unknown), band 5 ``tenure_known`` (1 known, 0 not known: the
    risk there is renormalised over violence and concessions), each with its band description.
    float32, nodata NaN declared, DEFLATE compression, 256 x 256 tiles, internal overviews
    (average), CRS and transform set.

    Parameters
    ----------
    surface : RiskSurface
        The surface to write.
    path : str or pathlib.Path
        Target file.
    overwrite : bool, default False
        Replace an existing file; otherwise :class:`geotools.errors.OutputExistsError`.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    target = Path(path)
    rows, cols = surface.shape
    bands = [("risk", surface.data)] + [(n, surface.layers[n]) for n in COMPONENTS]
    known = surface.layers.get(TENURE_KNOWN)
    if known is None:  # a surface built by hand: tenure known wherever it is a number
        known = np.where(np.isfinite(surface.data), np.isfinite(surface.layers["tenure"]), np.nan)
    bands.append((TENURE_KNOWN, known))
    profile = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": len(bands),
        "dtype": "float32",
        "nodata": float("nan"),
        "crs": surface.crs,
        "transform": surface.transform,
        "compress": "deflate",
        "predictor": 3,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    tags = {
        "weights": str(surface.meta.get("weights", "")),
        "reference_date": str(surface.meta.get("reference_date", "")),
        "bandwidth_m": str(surface.meta.get("bandwidth_m", "")),
        "half_life_years": str(surface.meta.get("half_life_years", "")),
        "tenure_unknown_cells": str(surface.meta.get("tenure_unknown_cells", "")),
        "tenure_unknown_rule": "where band tenure_known is 0 the tenure band is NaN and risk is "
        "renormalised over violence and concessions",
    }
    with (
        atomic_path(target, overwrite=overwrite) as tmp,
        gdal_write_path(tmp) as gdal_tmp,
        rasterio.open(gdal_tmp, "w", **profile) as dst,
    ):
        for index, (name, array) in enumerate(bands, start=1):
            dst.write(np.asarray(array, dtype=np.float32), index)
            dst.set_band_description(index, name)
        dst.update_tags(**tags)
        dst.build_overviews(_overview_factors(rows, cols), Resampling.average)
        dst.update_tags(ns="rio_overview", resampling="average")
    log.info("wrote risk surface %s (%d x %d)", target, rows, cols)
    return target


def _h3_cells_of_points(lon: np.ndarray, lat: np.ndarray, resolution: int) -> np.ndarray:
    """H3 cell (string id) of each point.

    h3-py has no array form of ``latlng_to_cell``, so this is a loop over points (about a
    microsecond each). It used to list the hexagons over the points' whole extent and match
    points to them with an STR-tree, which for territories spread over a country meant building
    hundreds of thousands of hexagons over empty land; the cells of a masked surface
    (:func:`mask_risk_surface`) are few, and the loop gives H3's exact cell.
    """
    import h3

    result: np.ndarray = np.array(
        [h3.latlng_to_cell(float(y), float(x), resolution) for x, y in zip(lon, lat, strict=True)],
        dtype=object,
    )
    return result


def compute_risk_hexagons(surface: RiskSurface, resolution: int = 7) -> gpd.GeoDataFrame:
    """Aggregate a risk surface to H3 hexagons for map display.

    Each grid cell is assigned to the hexagon containing its centre; a hexagon's values are the
    means over its cells (all cells have equal true area, so these are area-weighted means).
    ``tenure`` is the mean over the cells where tenure is known (NaN when none is), and
    ``tenure_known`` the share of the hexagon's cells where it is (0-1; below 1 the hexagon's
    ``risk`` is renormalised without tenure in part or all of it).

    Parameters
    ----------
    surface : RiskSurface
        The surface.
    resolution : int, default 7
        H3 resolution (7: about 5 km^2 per hexagon).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 polygons with columns ``h3`` (cell id), ``risk``, ``violence``,
        ``concessions``, ``tenure``, ``tenure_known`` and ``n_cells``; only hexagons with at
        least one cell.
    """
    import h3

    columns = ["h3", "risk", *COMPONENTS, TENURE_KNOWN, "n_cells"]
    xx, yy = surface.cell_centres()
    valid = np.isfinite(surface.data).ravel()
    if not valid.any():
        return gpd.GeoDataFrame(columns=[*columns, "geometry"], geometry="geometry", crs=4326)
    lon, lat = Transformer.from_crs(surface.crs, 4326, always_xy=True).transform(
        xx.ravel()[valid], yy.ravel()[valid]
    )
    ids = _h3_cells_of_points(np.asarray(lon), np.asarray(lat), resolution)
    hexes, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
    table: dict[str, Any] = {"h3": hexes.astype(str)}
    for name, array in (("risk", surface.data), *((n, surface.layers[n]) for n in COMPONENTS)):
        values = np.asarray(array, dtype=np.float64).ravel()[valid]
        present = np.isfinite(values)
        sums = np.bincount(inverse, weights=np.where(present, values, 0.0), minlength=len(hexes))
        n = np.bincount(inverse, weights=present.astype(np.float64), minlength=len(hexes))
        with np.errstate(invalid="ignore", divide="ignore"):
            table[name] = np.where(n > 0, sums / np.maximum(n, 1), np.nan)
    known = np.isfinite(np.asarray(surface.layers["tenure"], dtype=np.float64).ravel()[valid])
    table[TENURE_KNOWN] = np.bincount(inverse, weights=known.astype(float), minlength=len(hexes))
    table[TENURE_KNOWN] = table[TENURE_KNOWN] / counts
    table["n_cells"] = counts.astype(np.int64)
    geometry = [shapely.Polygon([(p[1], p[0]) for p in h3.cell_to_boundary(c)]) for c in hexes]
    log.info("risk hexagons: %d at resolution %d", len(hexes), resolution)
    return gpd.GeoDataFrame(table, geometry=geometry, crs=4326)[[*columns, "geometry"]]


def mask_risk_surface(
    surface: RiskSurface,
    near: Sequence[gpd.GeoDataFrame | gpd.GeoSeries | None],
    distance_m: float,
) -> RiskSurface:
    """Keep the cells of a surface near some geometries; the others become NaN (no data).

    A surface is computed over the extent of its ``bounds`` layer; between territories spread
    over a country most of that box says nothing (no territory, no incident). This keeps the
    cells whose centre lies within ``distance_m`` of a cell that a geometry of ``near`` touches
    (territories, incidents...), so to within one cell of ``distance_m`` from the geometry
    itself. Distances are measured on the grid (equal-area CRS) with
    :func:`scipy.ndimage.distance_transform_edt`, vectorised over cells.

    Parameters
    ----------
    surface : RiskSurface
        The surface (:func:`compute_risk_surface`).
    near : sequence of geopandas.GeoDataFrame or GeoSeries or None
        Layers with a CRS whose geometries (points, lines, polygons) the kept cells are near;
        ``None`` or empty layers are skipped.
    distance_m : float
        How far from them cells are kept, metres (e.g. the "nearby" distance of the run).

    Returns
    -------
    RiskSurface
        A copy with ``data`` and every component NaN outside; ``meta["masked_cells"]`` counts
        the cells set to NaN. With no geometry at all, every cell is NaN.
    """
    if not (math.isfinite(distance_m) and distance_m >= 0):
        raise ValueError(f"distance_m must be non-negative, got {distance_m}")
    from rasterio.features import rasterize

    rows, cols = surface.shape
    t = surface.transform
    seed = np.zeros((rows, cols), dtype=bool)
    for layer in near:
        if layer is None or len(layer) == 0:
            continue
        geoms = project_to_area_crs(layer, surface.crs)
        geoms = geoms[~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)]
        points = shapely.get_type_id(geoms) == 0
        if points.any():
            col = np.floor((shapely.get_x(geoms[points]) - t.c) / t.a).astype(np.int64)
            row = np.floor((shapely.get_y(geoms[points]) - t.f) / t.e).astype(np.int64)
            inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
            seed[row[inside], col[inside]] = True
        shapes = [(g, 1) for g in geoms[~points]]
        if shapes:
            seed |= rasterize(
                shapes, out_shape=(rows, cols), transform=t, all_touched=True, dtype="uint8"
            ).astype(bool)
    if seed.any():
        distance = ndimage.distance_transform_edt(~seed) * abs(t.a)
        keep = distance <= distance_m
    else:
        keep = seed
    data = np.where(keep, surface.data, np.nan).astype(np.float32)
    layers = {
        name: np.where(keep, array, np.nan).astype(np.float32)
        for name, array in surface.layers.items()
    }
    meta = {**surface.meta, "masked_cells": int((~keep).sum()), "mask_distance_m": distance_m}
    log.info(
        "risk surface: %d of %d cells kept (within %.0f m of territories or incidents)",
        int(keep.sum()), keep.size, distance_m,
    )
    return RiskSurface(data=data, layers=layers, transform=t, crs=surface.crs, meta=meta)
