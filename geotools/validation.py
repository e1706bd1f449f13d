"""QA ledger: every feature read is valid, repaired (with the repair) or rejected (with the reason).

The checks here are vectorised over the whole layer. Counts always add up:
``read == valid + repaired + rejected``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geotools.dates import parse_dates
from geotools.geometry import polygonal_part, union_by_group
from geotools.schema import COARSEST_PRECISION, LAYERS, VOCABULARIES

log = logging.getLogger(__name__)

VALID, REPAIRED, REJECTED = "valid", "repaired", "rejected"
#: A feature folded into another row: an exact copy of a territory, or a part of a grouped one.
MERGED = "merged"


@dataclass
class Problem:
    """One thing found wrong with one feature.

    Attributes
    ----------
    feature : str
        Feature id (or ``#row`` when the id is unusable).
    problem : str
        What was wrong.
    action : str
        ``repaired: ...`` or ``rejected``.
    """

    feature: str
    problem: str
    action: str


@dataclass
class Ledger:
    """QA ledger of one layer.

    Attributes
    ----------
    layer : str
        Layer kind.
    source : str
        File read.
    read : int
        Number of features read.
    status : numpy.ndarray of str
        Final status of every feature read, in source order.
    problems : list of Problem
        Everything found, in source order.
    notes : dict
        Layer-level facts (CRS assumed, fields mapped, unknown vocabulary values).
    """

    layer: str
    source: str
    read: int
    status: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    problems: list[Problem] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.status) != self.read:
            self.status = np.full(self.read, VALID, dtype=object)

    def count(self, status: str) -> int:
        """Return the number of features with ``status``.

        Parameters
        ----------
        status : str
            ``"valid"``, ``"repaired"`` or ``"rejected"``.

        Returns
        -------
        int
            Number of features whose final status is ``status``.
        """
        return int(np.sum(self.status == status))

    def flag(self, rows: np.ndarray, ids: np.ndarray, problem: str, action: str) -> None:
        """Record ``problem`` for the features at positions ``rows``.

        Parameters
        ----------
        rows : numpy.ndarray of int
            Positions (0-based, source order) of the affected features.
        ids : numpy.ndarray of str
            Their ids, for the report.
        problem : str
            What is wrong.
        action : str
            ``"rejected"`` or a ``"repaired: how"`` text.
        """
        rows = np.asarray(rows, dtype=np.intp)
        if len(rows) == 0:
            return
        new = (
            REJECTED if action == REJECTED else (MERGED if action.startswith(MERGED) else REPAIRED)
        )
        current = self.status[rows]
        self.status[rows] = np.where(current == REJECTED, REJECTED, new)
        for fid in np.asarray(ids, dtype=object):
            self.problems.append(Problem(str(fid), problem, action))

    def note(self, ids: np.ndarray, problem: str, action: str) -> None:
        """Record a warning that does not change the features' status (``action`` says why).

        Parameters
        ----------
        ids : numpy.ndarray of str
            Ids of the affected features, for the report.
        problem : str
            What was found.
        action : str
            What was done about it, or why nothing was.
        """
        for fid in np.asarray(ids, dtype=object):
            self.problems.append(Problem(str(fid), problem, action))

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready report (``layer, read, valid, repaired, rejected, problems``)."""
        return {
            "layer": self.layer,
            "source": self.source,
            "read": self.read,
            "valid": self.count(VALID),
            "repaired": self.count(REPAIRED),
            "rejected": self.count(REJECTED),
            "merged": self.count(MERGED),
            "problems": [p.__dict__ for p in self.problems],
            "notes": self.notes,
        }

    def summary(self) -> str:
        """Return one human line, e.g. ``parcels: 12 read, 10 valid, 1 repaired, 1 rejected``
        (and ``, 3 merged into other rows`` when copies or parts were merged)."""
        merged = self.count(MERGED)
        return (
            f"{self.layer} ({self.source}): {self.read} read, {self.count(VALID)} valid, "
            f"{self.count(REPAIRED)} repaired, {self.count(REJECTED)} rejected"
            + (f", {merged} merged into other rows" if merged else "")
        )


@dataclass
class _Checks:
    """Working state of :func:`validate_layer`: geometries, ids and which features are alive."""

    frame: gpd.GeoDataFrame
    layer: str
    ledger: Ledger
    geoms: np.ndarray
    ids: np.ndarray
    alive: np.ndarray
    precision: np.ndarray | None = None

    @property
    def rows(self) -> np.ndarray:
        return np.arange(len(self.geoms))

    def alive_geoms(self) -> np.ndarray:
        """Geometries of alive features, None for the others."""
        out = np.full(len(self.geoms), None, dtype=object)
        out[self.alive] = self.geoms[self.alive]
        return out

    def reject(self, mask: np.ndarray, problem: str) -> None:
        self.ledger.flag(self.rows[mask], self.ids[mask], problem, REJECTED)
        self.alive &= ~mask

    def repair(self, mask: np.ndarray, problem: str, action: str) -> None:
        self.ledger.flag(self.rows[mask], self.ids[mask], problem, f"repaired: {action}")


def _check_ids(c: _Checks) -> None:
    id_col = LAYERS[c.layer].id_column
    if not id_col:
        return
    raw = pd.Series(c.frame[id_col].to_numpy(dtype=object))
    blank = (raw.isna() | (raw.astype(str).str.strip() == "")).to_numpy()
    ids = raw.astype(str).str.strip().to_numpy(dtype=object)
    if blank.any():
        ids[blank] = [f"{c.layer}-row-{i + 1}" for i in np.flatnonzero(blank)]
        c.ids = ids
        c.repair(blank, f"missing {id_col}", "given an id from its row number")
    series = pd.Series(ids)
    dup = series.duplicated(keep="first").to_numpy()
    if dup.any():
        occurrence = series[dup].groupby(series[dup]).cumcount().to_numpy() + 2
        c.ids = ids
        c.repair(dup, f"duplicate {id_col}", "suffixed #2, #3... to keep ids unique")
        ids = ids.copy()
        ids[dup] = [f"{i}#{k}" for i, k in zip(ids[dup], occurrence, strict=True)]
    c.ids = ids


def _check_presence(c: _Checks) -> None:
    missing = shapely.is_missing(c.geoms)
    c.reject(missing, "no geometry")
    c.reject(~missing & shapely.is_empty(c.geoms), "empty geometry")


#: Largest coordinate magnitude (metres) of any place on Earth in a projected CRS, with margin.
MAX_PROJECTED_M = 1e8


def _check_coordinates(c: _Checks) -> None:
    """Reject features with non-finite coordinates or coordinates that cannot be on Earth.

    Infinite, NaN or huge numbers (``1e300``) would otherwise travel into the projections and
    the analysis as infinities; each such feature is rejected with its reason, the rest of the
    layer is kept.
    """
    if not c.alive.any():
        return
    coords, index = shapely.get_coordinates(c.alive_geoms(), return_index=True)
    n = len(c.geoms)
    bad_finite = np.bincount(index, weights=~np.isfinite(coords).all(axis=1), minlength=n) > 0
    c.reject(c.alive & bad_finite, "coordinates not finite (infinite or NaN)")
    crs = c.frame.crs
    with np.errstate(invalid="ignore"):
        if crs is not None and crs.is_geographic:
            outside = (np.abs(coords[:, 0]) > 180.0001) | (np.abs(coords[:, 1]) > 90.0001)
            problem = "coordinates outside longitude ±180° / latitude ±90°"
        else:
            outside = np.asarray((np.abs(coords) > MAX_PROJECTED_M).any(axis=1), dtype=bool)
            problem = f"coordinates beyond any place on Earth (|value| > {MAX_PROJECTED_M:.0e} m)"
    bad_range = np.bincount(index, weights=outside, minlength=n) > 0
    c.reject(c.alive & bad_range, problem)


def _check_precision(c: _Checks) -> None:
    """Treat unknown location precisions as the coarsest one, per feature, in the ledger.

    A precision outside the vocabulary (``"GPS"``, ``"±50 m"``) cannot be given an uncertainty
    radius. The feature is kept as ``district`` (the coarsest), so it is never asserted inside
    or near a territory, nor placed in a public output, more precisely than is known; the
    ledger names the value and how to map it.
    """
    if "precision" not in c.frame.columns or "precision" not in VOCABULARIES.get(c.layer, {}):
        return
    allowed = VOCABULARIES[c.layer]["precision"]
    text = pd.Series(c.frame["precision"].to_numpy(dtype=object)).astype("string").str.strip()
    unknown = (text.notna() & (text != "") & ~text.isin(allowed)).to_numpy(dtype=bool)
    unknown &= c.alive
    if not unknown.any():
        return
    c.precision = text.to_numpy(dtype=object)
    c.precision[unknown] = COARSEST_PRECISION
    for value in sorted(set(text[unknown].tolist())):
        rows = unknown & (text == value).to_numpy(dtype=bool)
        c.repair(
            rows,
            f"unknown precision {value!r} (expected {', '.join(allowed)})",
            f"treated as {COARSEST_PRECISION!r}, the coarsest; map the value to one of the "
            "vocabulary to use it (project file: [layers.incidents.values.precision])",
        )


def _check_dimensions(c: _Checks) -> None:
    has_zm = c.alive & (shapely.has_z(c.geoms) | shapely.has_m(c.geoms))
    if has_zm.any():
        c.geoms[has_zm] = shapely.force_2d(c.geoms[has_zm])
        c.repair(has_zm, "Z/M coordinates", "dropped to 2D")


def _check_types(c: _Checks) -> None:
    spec = LAYERS[c.layer]
    polygonal = spec.geometry_types[0] == "Polygon"
    types = np.asarray(shapely.get_type_id(c.geoms))
    collection = c.alive & (types == shapely.GeometryType.GEOMETRYCOLLECTION)
    if collection.any() and polygonal:
        c.geoms[collection] = polygonal_part(c.geoms[collection])
        c.repair(collection, "geometry collection", "kept the polygonal parts")
        types = np.asarray(shapely.get_type_id(c.geoms))
        c.reject(collection & shapely.is_empty(c.geoms), "no polygonal part")
    allowed = [shapely.GeometryType[t.upper()].value for t in spec.geometry_types]
    wrong = c.alive & ~np.isin(types, allowed)
    if wrong.any():
        kinds = sorted(set(types[wrong].tolist()))
        names = ", ".join(shapely.GeometryType(k).name.title() for k in kinds)
        c.reject(
            wrong, f"wrong geometry type ({names}; {c.layer} need {'/'.join(spec.geometry_types)})"
        )


def _check_validity(c: _Checks) -> None:
    if LAYERS[c.layer].geometry_types[0] != "Polygon":
        return
    invalid = c.alive & ~shapely.is_valid(c.geoms)
    if invalid.any():
        reasons = shapely.is_valid_reason(c.geoms[invalid])
        before = np.abs(shapely.area(c.geoms[invalid]))  # the invalid ring's shoelace area
        fixed = polygonal_part(shapely.make_valid(c.geoms[invalid]))
        after = shapely.area(fixed)
        c.geoms[invalid] = fixed
        for row, reason, a0, a1 in zip(c.rows[invalid], reasons, before, after, strict=True):
            change = (a1 - a0) / a0 * 100 if a0 else 0.0
            c.ledger.flag(
                np.array([row]),
                c.ids[[row]],
                f"invalid geometry: {reason}",
                "repaired: make_valid, polygonal parts kept (planar area "
                f"{change:+.3f} % against the invalid ring's shoelace area)",
            )
    c.reject(c.alive & (shapely.area(c.geoms) <= 0), "zero area")


def _check_null_island(c: _Checks) -> None:
    crs = c.frame.crs
    if crs is None or not crs.is_geographic or LAYERS[c.layer].geometry_types[0] != "Point":
        return
    x = shapely.get_x(c.alive_geoms())
    y = shapely.get_y(c.alive_geoms())
    zero = (
        c.alive
        & (np.nan_to_num(np.abs(x), nan=1) < 1e-9)
        & (np.nan_to_num(np.abs(y), nan=1) < 1e-9)
    )
    c.reject(zero, "at 0°, 0° (missing coordinates written as zeros)")


def _check_duplicate_geometries(c: _Checks) -> None:
    if not c.alive.any():
        return
    keys = pd.Series(shapely.to_wkb(shapely.normalize(c.alive_geoms()), hex=True))
    keys[~c.alive] = None
    dup = (keys.duplicated(keep="first") & keys.notna()).to_numpy().copy()
    if not dup.any():
        return
    first_id = pd.Series(c.ids).groupby(keys).transform("first").to_numpy()
    if c.layer == "territories":
        # An exact copy (same geometry and name) is one territory listed twice: one row, so that
        # sums over rows do not count it twice.
        names = (
            c.frame["name"].astype("string").fillna("").to_numpy(dtype=object)
            if "name" in c.frame.columns
            else np.full(len(keys), "", dtype=object)
        )
        first_name = pd.Series(names).groupby(keys).transform("first").to_numpy()
        copy = dup & (names == first_name)
        for row in np.flatnonzero(copy):
            c.ledger.flag(
                np.array([row]),
                c.ids[[row]],
                f"exact copy of {first_id[row]} (same geometry and name)",
                f"{MERGED} into {first_id[row]} (one row)",
            )
        c.alive &= ~copy
        dup &= ~copy
    what = (
        "counted once by unions"
        if LAYERS[c.layer].geometry_types[0] == "Polygon"
        else ("kept; check whether it is the same record")
    )
    for row in np.flatnonzero(dup):
        c.ledger.note(c.ids[[row]], f"same geometry as {first_id[row]}", f"kept ({what})")


def validate_layer(frame: gpd.GeoDataFrame, layer: str, ledger: Ledger) -> gpd.GeoDataFrame:
    """Check and repair a schema-normalised layer; return the features fit for analysis.

    Checks, in order: ids (missing: numbered; duplicated: suffixed), missing or empty geometry,
    non-finite or impossible coordinates (rejected), Z/M coordinates, geometry type
    (collections reduced to their polygons), validity (``make_valid``), zero area, points at
    0°, 0°, duplicate geometries (territories: exact copies with the same name become one row,
    status ``merged``; otherwise noted, kept), unknown location precisions (treated as the
    coarsest, ``district``).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Layer with canonical columns, in source order (one row per feature read).
    layer : str
        Layer kind (see :data:`geotools.schema.LAYERS`).
    ledger : Ledger
        Ledger to record into; its ``read`` must equal ``len(frame)``.

    Returns
    -------
    geopandas.GeoDataFrame
        Valid and repaired features (rejected ones removed), geometries 2D and valid.
    """
    spec = LAYERS[layer]
    checks = _Checks(
        frame=frame,
        layer=layer,
        ledger=ledger,
        geoms=np.asarray(frame.geometry.values, dtype=object).copy(),
        ids=np.array([f"#{i + 1}" for i in range(len(frame))], dtype=object),
        alive=np.ones(len(frame), dtype=bool),
    )
    for check in (
        _check_ids,
        _check_presence,
        _check_coordinates,
        _check_dimensions,
        _check_types,
        _check_validity,
        _check_null_island,
        _check_duplicate_geometries,
        _check_precision,
    ):
        check(checks)
    out = frame.copy()
    if checks.precision is not None:
        out["precision"] = pd.Series(checks.precision, index=frame.index, dtype="string")
    out = out.set_geometry(gpd.GeoSeries(checks.geoms, crs=frame.crs, index=frame.index))
    if spec.id_column:
        out[spec.id_column] = checks.ids
    out = parse_date_columns(out, layer, ledger, checks.ids)
    return out.loc[checks.alive].copy()


def group_parts(
    frame: gpd.GeoDataFrame, column: str, ledger: Ledger, id_column: str = "territory_id"
) -> gpd.GeoDataFrame:
    """Merge the features sharing a value of ``column`` into one (parts of one territory).

    The first part in source order keeps its row, its id and its attributes (a legal area
    repeated on every part is taken once, not summed); its geometry becomes the union of the
    parts, and ``parts`` (count) and ``part_ids`` (ids joined by ``"; "``) say what was merged.
    Features with no value in ``column`` stay on their own. The others are recorded in the
    ledger as ``merged`` into the first.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        A validated layer (index = source row, as :func:`validate_layer` returns it).
    column : str
        The grouping key, e.g. ``name`` or a community code.
    ledger : Ledger
        The layer's ledger.
    id_column : str, default "territory_id"
        The layer's id column.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per group, in source order of the first part.
    """
    key = frame[column].astype("string").str.strip()
    key = key.where(key != "")
    ids = frame[id_column].astype(str).to_numpy(dtype=object)
    label = np.where(key.isna(), -1 - np.arange(len(frame)), pd.factorize(key)[0])
    first = ~pd.Series(label).duplicated().to_numpy()
    head_pos = pd.Series(np.arange(len(frame))).groupby(label).transform("first").to_numpy()
    keys, unions = union_by_group(np.asarray(frame.geometry.values, dtype=object), label)
    geoms = dict(zip(keys.tolist(), unions, strict=True))
    out = frame.loc[first].copy()
    out = out.set_geometry(
        gpd.GeoSeries(
            polygonal_part(np.array([geoms[k] for k in label[first].tolist()], dtype=object)),
            crs=frame.crs,
            index=out.index,
        )
    )
    joined = pd.Series(ids).groupby(label, sort=False).agg("; ".join)
    sizes = pd.Series(label).value_counts()
    out["parts"] = sizes.reindex(label[first]).to_numpy().astype("int64")
    out["part_ids"] = joined.reindex(label[first]).to_numpy()
    rest = np.flatnonzero(~first)
    for pos in rest:
        head = ids[head_pos[pos]]
        ledger.flag(
            np.array([frame.index[pos]]),
            ids[[pos]],
            f"part of {key.iloc[pos]!s} (grouped by {column})",
            f"{MERGED} into {head}",
        )
    if len(rest):
        log.info(
            "%s: %d parts merged into %d territories by %s",
            ledger.source,
            len(rest) + int((sizes > 1).sum()),
            int((sizes > 1).sum()),
            column,
        )
    return out


#: Date columns of each layer.
DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "territories": ("claim_date",),
    "parcels": ("title_date",),
    "concessions": ("granted_date",),
    "incidents": ("date",),
}


def parse_date_columns(
    frame: gpd.GeoDataFrame, layer: str, ledger: Ledger, ids: np.ndarray
) -> gpd.GeoDataFrame:
    """Parse the layer's date columns, keeping their precision; list what could not be read.

    Each date column becomes the ISO start date, with ``<column>_end`` (inclusive end of the
    period) and ``<column>_precision`` (``day``, ``month``, ``year`` or ``range``) beside it.
    The text as given is kept in ``<column>_raw`` when any value was rewritten. Unreadable and
    ambiguous values are listed in the ledger (the feature is kept).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Layer with canonical columns.
    layer : str
        Layer kind.
    ledger : Ledger
        Ledger to note problems in.
    ids : numpy.ndarray
        Feature ids, aligned with ``frame``.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with the date columns parsed.
    """
    out = frame.copy()
    for column in DATE_COLUMNS.get(layer, ()):
        if column not in out.columns:
            continue
        raw = out[column]
        parsed = parse_dates(raw)
        text = raw.astype("string")
        if (text.fillna("") != parsed["date"].fillna("")).any():
            out[f"{column}_raw"] = text
        out[column] = parsed["date"]
        out[f"{column}_end"] = parsed["date_end"]
        out[f"{column}_precision"] = parsed["precision"]
        problem = parsed["problem"].to_numpy(dtype=object)
        for row in np.flatnonzero(pd.notna(problem)):
            unread = pd.isna(parsed["date"].iloc[row])
            ledger.note(
                ids[[row]],
                f"{column}: {problem[row]}",
                "kept: date unknown" if unread else "kept: read as shown",
            )
        if layer == "incidents":
            undated = np.flatnonzero(raw.isna().to_numpy() & ~pd.notna(problem))
            for row in undated:
                ledger.note(ids[[row]], "no date", "kept: date unknown")
    return out


def flag_far_outside(
    layers: Mapping[str, tuple[gpd.GeoDataFrame, Ledger]], reference: str = "territories"
) -> None:
    """Note features lying far outside the area of the reference layer (usually a typo).

    A feature is "far outside" when its representative point lies beyond the reference layer's
    longitude/latitude box widened by half its size (at least 1°). Such features are kept (they
    may be legitimate) but listed in their ledger with the distance, so a digit dropped from a
    coordinate does not go unnoticed.

    Parameters
    ----------
    layers : mapping of str to (GeoDataFrame, Ledger)
        Analysis-ready layers by kind and their ledgers.
    reference : str, default "territories"
        Kind of the layer whose extent is the study area.
    """
    if reference not in layers or len(layers[reference][0]) == 0:
        return
    ref = layers[reference][0].to_crs(4326)
    minx, miny, maxx, maxy = ref.total_bounds
    margin = max(1.0, 0.5 * max(maxx - minx, maxy - miny))
    box = (minx - margin, miny - margin, maxx + margin, maxy + margin)
    for kind, (frame, ledger) in layers.items():
        if kind == reference or len(frame) == 0:
            continue
        points = shapely.point_on_surface(np.asarray(frame.to_crs(4326).geometry.values))
        x, y = shapely.get_x(points), shapely.get_y(points)
        dx = np.maximum(np.maximum(box[0] - x, x - box[2]), 0)
        dy = np.maximum(np.maximum(box[1] - y, y - box[3]), 0)
        far = (dx > 0) | (dy > 0)
        if not far.any():
            continue
        id_col = LAYERS[kind].id_column
        ids = frame[id_col].to_numpy() if id_col else np.array([f"#{i}" for i in range(len(x))])
        km = np.hypot(dx, dy) * 111.0  # degrees to km, rough: the message only needs the scale
        for fid, dist in zip(ids[far], km[far], strict=True):
            ledger.note(
                np.array([fid]),
                f"far outside the {reference} (about {dist:,.0f} km beyond their area)",
                "kept: check its coordinates",
            )
        log.warning(
            "%s: %d feature(s) far outside the %s; see the QA report",
            kind,
            int(far.sum()),
            reference,
        )
