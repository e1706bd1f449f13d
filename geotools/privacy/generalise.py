"""Generalisation of incidents: keyed displacement, H3 aggregation, what is withheld.

:func:`generalise_incidents` turns an incidents layer into what the public profile may publish:
``public`` records as given, ``restricted`` ones (and those with no sensitivity) displaced
(:func:`displace_points`) or aggregated to H3 hexagons (:func:`aggregate_to_hexagons`),
``confidential`` ones left out, and the values withheld (:class:`Withheld`) for the leak check.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from geotools.analysis.incidents import UNCERTAINTY_KM
from geotools.errors import PrivacyError
from geotools.privacy.keys import PositionStore, _identity_grid, compute_seeds, draw_uniforms
from geotools.privacy.rules import (
    FREE_TEXT_COLUMNS,
    GENERALISED_COLUMN,
    METHOD_COLUMN,
    PUBLIC_INCIDENT_COLUMNS,
    ROUNDING_MARGIN_M,
    UNCERTAINTY_COLUMN,
    VOCABULARY_COLUMNS,
    PrivacyPolicy,
    classify_sensitivity,
    find_personal_columns,
    normalise_text,
    suppress_counts,
)

log = logging.getLogger(__name__)

_GEOD = Geod(ellps="WGS84")

#: Number of candidate offsets tried per record.
CANDIDATES = 64


def _membership(
    tree: shapely.STRtree, weights: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Count and order-free signature of the polygons each point lies in (vectorised)."""
    points = np.asarray(shapely.points(x, y), dtype=object)
    hit_point, hit_poly = tree.query(points, predicate="intersects")
    count = np.bincount(hit_point, minlength=len(points))
    signature = np.zeros(len(points), dtype=np.uint64)
    np.add.at(signature, hit_point, weights[hit_poly])
    return count, signature


def _polygon_index(frame: gpd.GeoDataFrame | None) -> tuple[shapely.STRtree, np.ndarray] | None:
    if frame is None or not len(frame):
        return None
    geoms = np.asarray(frame.to_crs(4326).geometry.to_numpy(), dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    polygons = geoms[np.isin(shapely.get_type_id(geoms), [3, 6, 7])]
    if not len(polygons):
        return None
    weights = np.random.default_rng(7946).integers(1, 2**63, size=len(polygons), dtype=np.uint64)
    return shapely.STRtree(polygons), weights


@dataclass
class Displacement:
    """Displaced locations.

    Attributes
    ----------
    x, y : numpy.ndarray of float
        Published longitude and latitude, rounded to ``decimals`` (NaN where ``placed`` is False).
    distance_m : numpy.ndarray of float
        Geodesic distance from the true place to the published (rounded) one.
    placed : numpy.ndarray of bool
        False where no candidate met the constraints (the record is not published as a point).
    candidate : numpy.ndarray of int
        Index of the candidate used (-1 when not placed).
    """

    x: np.ndarray
    y: np.ndarray
    distance_m: np.ndarray
    placed: np.ndarray
    candidate: np.ndarray


def displace_points(
    x: np.ndarray,
    y: np.ndarray,
    ids: Sequence[object],
    key: bytes,
    policy: PrivacyPolicy,
    territories: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    decimals: int = 6,
    candidates: int = CANDIDATES,
) -> Displacement:
    """Displace points deterministically, keyed by record, within geodesic ``[min, max]`` metres.

    Every candidate is tested at once (``len(x) * candidates`` points): it must lie in exactly
    the same territories as the true point (none if the point is outside every territory), in the
    same districts when ``districts`` is given, not in a water polygon and at least
    ``policy.water_buffer_m`` from a water line. The first acceptable candidate is used.

    Parameters
    ----------
    x, y : numpy.ndarray of float
        True longitude and latitude (WGS84).
    ids : sequence
        Record identities (:func:`compute_identities`): with the key and the range, the seed of
        each record's offsets.
    key : bytes
        Secret key (:func:`derive_key`).
    policy : PrivacyPolicy
        Distance range.
    territories, districts, water : geopandas.GeoDataFrame, optional
        Constraint layers (any CRS).
    decimals : int, default 6
        Published coordinate decimals; distances are checked after rounding.
    candidates : int, default :data:`CANDIDATES`
        Candidate offsets per record.

    Returns
    -------
    Displacement
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    if n == 0:
        empty = np.zeros(0)
        return Displacement(empty, empty, empty, np.zeros(0, bool), np.zeros(0, np.int64))
    uniforms = draw_uniforms(compute_seeds(ids, key, context=range_context(policy)), 2 * candidates)
    bearing = uniforms[:, 0::2] * 360.0 - 180.0
    low = policy.min_distance_m + ROUNDING_MARGIN_M
    high = policy.max_distance_m - ROUNDING_MARGIN_M
    distance = np.sqrt(low**2 + uniforms[:, 1::2] * (high**2 - low**2))
    x0 = np.repeat(x, candidates)
    y0 = np.repeat(y, candidates)
    cx, cy, _ = _GEOD.fwd(x0, y0, bearing.ravel(), distance.ravel())
    cx = np.round(np.asarray(cx), decimals)
    cy = np.round(np.asarray(cy), decimals)
    _, _, moved = _GEOD.inv(x0, y0, cx, cy)
    moved = np.asarray(moved)
    valid = (moved >= policy.min_distance_m) & (moved <= policy.max_distance_m)
    valid &= _keeps_places(x, y, cx, cy, candidates, policy, territories, districts, water)
    valid = valid.reshape(n, candidates)
    placed = np.asarray(valid.any(axis=1), dtype=bool)
    pick = np.where(placed, valid.argmax(axis=1), -1)
    flat = np.arange(n) * candidates + np.maximum(pick, 0)
    nan = np.full(n, np.nan)
    if (~placed).any():
        log.warning(
            "%d restricted record(s) could not be displaced within the constraints; they are "
            "counted but not published as points",
            int((~placed).sum()),
        )
    return Displacement(
        x=np.where(placed, cx[flat], nan),
        y=np.where(placed, cy[flat], nan),
        distance_m=np.where(placed, moved[flat], nan),
        placed=placed,
        candidate=pick,
    )


def range_context(policy: PrivacyPolicy) -> str:
    """Return the seed context of a displacement range (draws under other ranges are independent).

    Parameters
    ----------
    policy : PrivacyPolicy
        The policy whose minimum and maximum displacement (m) make the range.

    Returns
    -------
    str
        ``"range:MIN:MAX"``, metres to three decimals, for :func:`compute_seeds`.
    """
    return f"range:{policy.min_distance_m:.3f}:{policy.max_distance_m:.3f}"


def _keeps_places(
    x: np.ndarray,
    y: np.ndarray,
    cx: np.ndarray,
    cy: np.ndarray,
    repeats: int,
    policy: PrivacyPolicy,
    territories: gpd.GeoDataFrame | None,
    districts: gpd.GeoDataFrame | None,
    water: gpd.GeoDataFrame | None,
) -> np.ndarray:
    """True where a moved point (``repeats`` per true point) lies in exactly the same territories
    and districts as its true point and not in or near water."""
    valid = np.ones(len(cx), dtype=bool)
    for layer in (territories, districts):
        index = _polygon_index(layer)
        if index is None:
            continue
        tree, weights = index
        count0, sig0 = _membership(tree, weights, x, y)
        count, sig = _membership(tree, weights, cx, cy)
        valid &= (count == np.repeat(count0, repeats)) & (sig == np.repeat(sig0, repeats))
    if water is not None and len(water):
        valid &= ~_near_water(cx, cy, water, policy.water_buffer_m)
    return valid


def _near_water(
    x: np.ndarray, y: np.ndarray, water: gpd.GeoDataFrame, buffer_m: float
) -> np.ndarray:
    """True where a point is in a water polygon or within ``buffer_m`` of a water line."""
    wgs = water.to_crs(4326)
    geoms = np.asarray(wgs.geometry.to_numpy(), dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    points = gpd.GeoSeries(shapely.points(x, y), crs=4326)
    metric = points.estimate_utm_crs()
    plane = np.asarray(points.to_crs(metric).to_numpy(), dtype=object)
    water_plane = np.asarray(gpd.GeoSeries(geoms, crs=4326).to_crs(metric).to_numpy(), dtype=object)
    out = np.zeros(len(x), dtype=bool)
    polygonal = np.isin(shapely.get_type_id(water_plane), [3, 6])
    if polygonal.any():
        hit, _ = shapely.STRtree(water_plane[polygonal]).query(plane, predicate="intersects")
        out[hit] = True
    if (~polygonal).any():
        hit, _ = shapely.STRtree(water_plane[~polygonal]).query(
            plane, predicate="dwithin", distance=buffer_m
        )
        out[hit] = True
    return out


def radius_of_precision(precision: pd.Series) -> np.ndarray:
    """Return the uncertainty radius (m) of each record's original precision.

    Missing is exact (0), as in the incident statistics; a value outside the vocabulary gets
    the largest radius (fail safe: never claim a place is known better than it is).

    Parameters
    ----------
    precision : pandas.Series
        Canonical ``precision`` of each incident (``exact``, ``locality``, ``district``...,
        keys of :data:`~geotools.analysis.incidents.UNCERTAINTY_KM`).

    Returns
    -------
    numpy.ndarray of float
        Radius in metres per record.
    """
    text = precision.astype("string")
    km = text.map(dict(UNCERTAINTY_KM)).astype("Float64")
    km = km.mask(text.notna() & km.isna(), max(UNCERTAINTY_KM.values())).fillna(0.0)
    return km.to_numpy(dtype=float) * 1000.0


def aggregate_to_hexagons(
    x: np.ndarray, y: np.ndarray, resolution: int, minimum: int, label: str = "incidents"
) -> gpd.GeoDataFrame:
    """Count points per H3 cell, counts below ``minimum`` suppressed (:func:`suppress_counts`).

    Parameters
    ----------
    x, y : numpy.ndarray of float
        Longitude and latitude.
    resolution : int
        H3 resolution.
    minimum : int
        Suppression threshold.
    label : str
        Name of the count column.

    Returns
    -------
    geopandas.GeoDataFrame
        ``h3_cell, h3_resolution, <label>`` and the cell polygon (EPSG:4326), sorted by cell.
    """

    cells = pd.Series(
        [h3.latlng_to_cell(lat, lon, resolution) for lon, lat in zip(x, y, strict=True)],
        dtype=object,
    )
    counts = cells.value_counts().sort_index()
    polygons = [
        shapely.Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(cell)])
        for cell in counts.index
    ]
    return gpd.GeoDataFrame(
        {
            "h3_cell": counts.index.astype(str),
            "h3_resolution": np.full(len(counts), resolution, dtype=np.int64),
            label: suppress_counts(counts.to_numpy(), minimum).to_numpy(),
        },
        geometry=polygons,
        crs=4326,
    )


@dataclass
class Withheld:
    """Everything a public bundle must not contain, for the leak check.

    Attributes
    ----------
    values : list of tuple
        ``(kind, value)``: text values of withheld fields and of confidential records; ``kind``
        names the field (``"personal field victims"``...). Personal-field values that look like
        names are also searched word by word (a surname alone is a leak).
    ids : list of str
        Ids of confidential (and unplaceable, aggregated, withheld) records.
    true_points : numpy.ndarray
        ``(n, 2)`` true lon/lat of restricted and confidential records.
    true_labels : list of str
        Row-aligned with ``true_points``: how the leak check names each record without
        repeating a withheld value (``incident I2 (restricted, published displaced)`` with its
        published id, or ``a confidential incident (record 5 of the incidents layer; its id is
        not published)``).
    restricted_ids : list of str
        Ids of displaced restricted records, row-aligned with ``restricted_points``.
    restricted_points : numpy.ndarray
        ``(n, 2)`` true lon/lat of the displaced restricted records.
    allowed_text : str
        Normalised text legitimately published (a withheld value found in it is not a secret).
    restricted_min_m : numpy.ndarray
        Minimum displacement of each displaced record, row-aligned with ``restricted_points``
        (a position kept from an earlier release keeps the range it was drawn under); empty: the
        release's minimum.
    """

    values: list[tuple[str, str]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    true_points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    true_labels: list[str] = field(default_factory=list)
    restricted_ids: list[str] = field(default_factory=list)
    restricted_points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    allowed_text: str = ""
    restricted_min_m: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class GeneralisedIncidents:
    """Incidents ready for a public bundle, and what was withheld.

    Attributes
    ----------
    published : geopandas.GeoDataFrame
        Public rows as given and displaced restricted rows (EPSG:4326), whitelisted columns plus
        ``location_generalised``, ``location_uncertainty_m`` and ``location_method``.
    counted : geopandas.GeoDataFrame
        Every non-confidential record at its true place (for aggregates computed by us).
    confidential : geopandas.GeoDataFrame
        Confidential records at their true place (for suppressed counts only).
    hexagons : geopandas.GeoDataFrame or None
        H3 counts of the records aggregated instead of drawn (restricted with
        ``--restricted aggregate``, restricted that could not be displaced, records of layers that
        may not be redistributed).
    withheld : Withheld
        For the leak check.
    facts : dict
        Counts and parameters for the README (never the measured offsets).
    store : PositionStore or None
        The position store, with this release's new positions entered (save it once the bundle
        passed its leak check).
    """

    published: gpd.GeoDataFrame
    counted: gpd.GeoDataFrame
    confidential: gpd.GeoDataFrame
    hexagons: gpd.GeoDataFrame | None
    withheld: Withheld
    facts: dict[str, Any]
    store: PositionStore | None = None


def _text_values(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for column in columns:
        if column not in frame.columns or column == "geometry":
            continue
        values = frame[column].dropna().astype(str).str.strip()
        out.extend((column, v) for v in values[values != ""].unique())
    return out


def _method(min_m: np.ndarray, max_m: np.ndarray) -> list[str]:
    return [f"displaced {a / 1000:g}-{b / 1000:g} km" for a, b in zip(min_m, max_m, strict=True)]


def generalise_incidents(
    incidents: gpd.GeoDataFrame,
    policy: PrivacyPolicy,
    key: bytes | None,
    *,
    territories: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    decimals: int = 6,
    redistributable: bool = True,
    store: PositionStore | None = None,
) -> GeneralisedIncidents:
    """Apply the public profile to an incidents layer.

    Restricted records are identified by :func:`compute_identities` (a keyed hash of the true
    location, never the row or the id). With a ``store``, a record published before keeps its
    stored form whatever the options: the same point (withheld, never redrawn, when that point
    no longer lies in the record's territories/districts or lies in water; also withheld from
    hexagon counts in ``aggregate`` mode, since a hexagon and a ring together narrow the place),
    or the same hexagon resolution. New records are displaced (or aggregated) and entered.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Canonical incidents (any CRS).
    policy : PrivacyPolicy
        Parameters.
    key : bytes or None
        Displacement key (:func:`derive_key`); required when restricted records are displaced.
    territories, districts, water : geopandas.GeoDataFrame, optional
        Displacement constraints.
    decimals : int, default 6
        Published coordinate decimals.
    redistributable : bool, default True
        False for layers whose licence forbids passing records on (ACLED): no record is published
        as a point; all non-confidential ones go to the hexagon counts.
    store : PositionStore, optional
        Positions of earlier releases (:meth:`PositionStore.open`); new positions are entered
        into it (the caller saves it). Without one, positions are a pure function of the key,
        the identity and the range: the same options give the same points, other options other
        points (see ``docs/publish.md``).

    Returns
    -------
    GeneralisedIncidents

    Raises
    ------
    PrivacyError
        When restricted records must be displaced and no key is given.
    """
    frame = incidents.to_crs(4326).reset_index(drop=True)
    n = len(frame)
    sensitivity = (
        frame["sensitivity"] if "sensitivity" in frame.columns else pd.Series([None] * n)
    )
    klass = classify_sensitivity(sensitivity)
    public = klass == "public"
    restricted = klass == "restricted"
    confidential = klass == "confidential"
    x = shapely.get_x(frame.geometry.to_numpy())
    y = shapely.get_y(frame.geometry.to_numpy())
    ids = frame["incident_id"].astype(str).to_numpy()
    radius = radius_of_precision(frame.get("precision", pd.Series([None] * n)))

    columns = [c for c in PUBLIC_INCIDENT_COLUMNS if c in frame.columns]
    out = pd.DataFrame(frame[columns]).copy()
    out["sensitivity"] = klass
    if "description" in out.columns:
        out["description"] = out["description"].where(public, None)
    out[GENERALISED_COLUMN] = False
    out[UNCERTAINTY_COLUMN] = radius
    out[METHOD_COLUMN] = "as given"
    px, py = np.round(x, decimals), np.round(y, decimals)

    displaced = np.zeros(n, dtype=bool)
    unplaced = np.zeros(n, dtype=bool)
    kept_back = np.zeros(n, dtype=bool)  # published before; this release cannot show it again
    hex_resolution = np.full(n, -1, dtype=np.int64)
    row_min = np.full(n, np.nan)
    row_max = np.full(n, np.nan)
    reused = 0
    to_points = public & redistributable
    if not redistributable:
        hex_resolution[~confidential] = policy.hex_resolution
    elif restricted.any():
        rows = np.flatnonzero(restricted)
        if key is None and policy.restricted == "displace":
            raise PrivacyError(
                "restricted incidents must be displaced but no secret key was given: pass "
                "--secret-file FILE or set GEOTOOLS_PUBLISH_SECRET (keep the same key to "
                "re-publish: a different key gives new points, and two sets of displaced points "
                "narrow the true place down)"
            )
        stored: list[dict[str, Any] | None] = [None] * len(rows)
        identities = np.array([""] * len(rows), dtype=object)
        if key is not None:
            grid = _identity_grid(x[rows], y[rows], key)
            identities = grid[:, 0]
            if store is not None:
                stored = store.find(grid)
        form = np.array([(e or {}).get("form", "") for e in stored], dtype=object)
        # Kept in hexagons: the form a record was first published in never changes.
        as_hexagon = form == "hexagon"
        hex_resolution[rows[as_hexagon]] = [
            int((stored[i] or {}).get("resolution", policy.hex_resolution))
            for i in np.flatnonzero(as_hexagon)
        ]
        as_point = form == "point"
        new = form == ""
        if policy.restricted == "displace":
            if as_point.any():
                take = np.flatnonzero(as_point)
                entries = [stored[i] or {} for i in take]
                sx = np.round(np.array([float(e["lon"]) for e in entries]), decimals)
                sy = np.round(np.array([float(e["lat"]) for e in entries]), decimals)
                ok = _keeps_places(
                    x[rows[take]], y[rows[take]], sx, sy, 1, policy, territories, districts, water
                )
                chosen = rows[take[ok]]
                px[chosen], py[chosen] = sx[ok], sy[ok]
                row_min[chosen] = [float(e["min_m"]) for e, k in zip(entries, ok, strict=True) if k]
                row_max[chosen] = [float(e["max_m"]) for e, k in zip(entries, ok, strict=True) if k]
                displaced[chosen] = True
                kept_back[rows[take[~ok]]] = True
                reused = int(ok.sum())
            if new.any():
                take = np.flatnonzero(new)
                assert key is not None
                displacement = displace_points(
                    x[rows[take]],
                    y[rows[take]],
                    identities[take].tolist(),
                    key,
                    policy,
                    territories,
                    districts,
                    water,
                    decimals,
                )
                placed = take[displacement.placed]
                chosen = rows[placed]
                px[chosen] = displacement.x[displacement.placed]
                py[chosen] = displacement.y[displacement.placed]
                row_min[chosen] = policy.min_distance_m
                row_max[chosen] = policy.max_distance_m
                displaced[chosen] = True
                unplaced[rows[take[~displacement.placed]]] = True
                hex_resolution[rows[take[~displacement.placed]]] = policy.hex_resolution
                if store is not None:
                    for i, lon, lat in zip(placed, px[chosen], py[chosen], strict=True):
                        store.add(
                            str(identities[i]),
                            {
                                "form": "point",
                                "lon": float(lon),
                                "lat": float(lat),
                                "min_m": float(policy.min_distance_m),
                                "max_m": float(policy.max_distance_m),
                            },
                        )
        else:
            # A record shown as a point before is not counted in a hexagon now (a hexagon and a
            # ring together narrow its place); it stays in the per-territory statistics.
            kept_back[rows[as_point]] = True
            hex_resolution[rows[new]] = policy.hex_resolution
        if store is not None:
            for i in np.flatnonzero(new):
                if hex_resolution[rows[i]] >= 0:
                    store.add(
                        str(identities[i]),
                        {"form": "hexagon", "resolution": int(hex_resolution[rows[i]])},
                    )
        out.loc[displaced, GENERALISED_COLUMN] = True
        out.loc[displaced, UNCERTAINTY_COLUMN] = row_max[displaced] + radius[displaced]
        out.loc[displaced, METHOD_COLUMN] = _method(row_min[displaced], row_max[displaced])
        to_points = to_points | displaced
    if kept_back.any():
        log.warning(
            "%d restricted record(s) published before are withheld from this release: their "
            "kept position does not meet this release's options (never redrawn)",
            int(kept_back.sum()),
        )
    aggregated = hex_resolution >= 0
    published = gpd.GeoDataFrame(
        out.loc[to_points].reset_index(drop=True),
        geometry=shapely.points(px[to_points], py[to_points]),
        crs=4326,
    )
    hexagons = None
    if aggregated.any():
        parts = [
            aggregate_to_hexagons(
                x[hex_resolution == res], y[hex_resolution == res], int(res), policy.min_count
            )
            for res in np.unique(hex_resolution[aggregated])
        ]
        hexagons = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=4326)

    # What must not appear anywhere in the bundle.
    withheld = Withheld()
    personal = [c for c in frame.columns if c in find_personal_columns(frame.columns)]
    dropped = [
        c for c in frame.columns if c not in (*columns, frame.geometry.name) and c not in personal
    ]
    withheld.values += [(f"personal field {c}", v) for c, v in _text_values(frame, personal)]
    hidden = ~public
    withheld.values += [
        (f"{c} of a non-public incident", v)
        for c, v in _text_values(frame.loc[hidden], list(FREE_TEXT_COLUMNS))
    ]
    text_columns = [
        c
        for c in frame.columns
        if c not in (*VOCABULARY_COLUMNS, *personal, frame.geometry.name, "incident_id")
    ]
    withheld.values += [
        (f"{c} of a confidential incident", v)
        for c, v in _text_values(frame.loc[confidential], text_columns)
    ]
    withheld.values += [
        (f"dropped column {c}", v)
        for c, v in _text_values(
            frame.loc[~public], [c for c in dropped if c not in ("lon", "lat")]
        )
    ]
    secret_rows = confidential | unplaced | kept_back | (aggregated & ~public)
    withheld.ids = sorted(set(ids[secret_rows]) - set(ids[to_points]))
    hidden_place = (restricted | confidential) & ~public
    withheld.true_points = np.column_stack([x[hidden_place], y[hidden_place]])
    withheld.true_labels = [
        f"incident {ids[i]} (restricted, published displaced)"
        if displaced[i]
        else f"a {'confidential' if confidential[i] else 'restricted'} incident (record {i + 1} "
        "of the incidents layer; its id is not published)"
        for i in np.flatnonzero(hidden_place)
    ]
    withheld.restricted_ids = ids[displaced].tolist()
    withheld.restricted_points = np.column_stack([x[displaced], y[displaced]])
    withheld.restricted_min_m = row_min[displaced]
    allowed = _text_values(frame.loc[public], [c for c in columns if c not in ("incident_id",)])
    allowed += _text_values(frame.loc[~confidential], ["source"])
    withheld.allowed_text = "\n".join(normalise_text(v) for _, v in allowed)

    facts = {
        "records": n,
        "public": int(public.sum()),
        "restricted": int(restricted.sum()),
        "confidential": suppress_counts([int(confidential.sum())], policy.min_count)[0],
        "displaced": int(displaced.sum()),
        "not_displaceable": int(unplaced.sum()),
        "aggregated": int(aggregated.sum()),
        "published_points": len(published),
        "displacement_range_km": (
            f"{policy.min_distance_m / 1000:g}-{policy.max_distance_m / 1000:g}"
        ),
        "positions_kept": reused,
        "withheld_published_before": int(kept_back.sum()),
        "position_store": store is not None,
        "dropped_columns": sorted({*personal, *dropped} - {"geometry"}),
        "redistributable": redistributable,
    }
    counted = frame.loc[~confidential].reset_index(drop=True)
    return GeneralisedIncidents(
        published=published,
        counted=counted,
        confidential=frame.loc[confidential].reset_index(drop=True),
        hexagons=hexagons,
        withheld=withheld,
        facts=facts,
        store=store,
    )
