"""QA ledger: every feature read is valid, repaired (with the repair) or rejected (with the reason).

The checks here are vectorised over the whole layer. Counts always add up:
``read == valid + repaired + rejected``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geotools.geometry import polygonal_part
from geotools.schema import LAYERS

log = logging.getLogger(__name__)

VALID, REPAIRED, REJECTED = "valid", "repaired", "rejected"


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
        """Return the number of features with ``status``."""
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
        new = REJECTED if action == REJECTED else REPAIRED
        current = self.status[rows]
        self.status[rows] = np.where(current == REJECTED, REJECTED, new)
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
            "problems": [p.__dict__ for p in self.problems],
            "notes": self.notes,
        }

    def summary(self) -> str:
        """Return one human line, e.g. ``parcels: 12 read, 10 valid, 1 repaired, 1 rejected``."""
        return (
            f"{self.layer} ({self.source}): {self.read} read, {self.count(VALID)} valid, "
            f"{self.count(REPAIRED)} repaired, {self.count(REJECTED)} rejected"
        )


def validate_layer(frame: gpd.GeoDataFrame, layer: str, ledger: Ledger) -> gpd.GeoDataFrame:
    """Check and repair a schema-normalised layer; return the features fit for analysis.

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
    geoms = np.asarray(frame.geometry.values, dtype=object)
    id_col = spec.id_column
    ids = (
        frame[id_col].astype(str).to_numpy()
        if id_col
        else np.array([f"#{i + 1}" for i in range(len(frame))], dtype=object)
    )
    rows = np.arange(len(frame))

    missing = shapely.is_missing(geoms)
    ledger.flag(rows[missing], ids[missing], "no geometry", REJECTED)
    empty = ~missing & shapely.is_empty(geoms)
    ledger.flag(rows[empty], ids[empty], "empty geometry", REJECTED)
    alive = ~(missing | empty)

    has_z = alive & shapely.has_z(geoms)
    if has_z.any():
        geoms[has_z] = shapely.force_2d(geoms[has_z])
        ledger.flag(rows[has_z], ids[has_z], "Z/M coordinates", "repaired: dropped to 2D")

    types = np.asarray(shapely.get_type_id(geoms))
    allowed_ids = [shapely.GeometryType[t.upper()].value for t in spec.geometry_types]
    collection = alive & (types == shapely.GeometryType.GEOMETRYCOLLECTION)
    if collection.any() and spec.geometry_types[0] == "Polygon":
        geoms[collection] = polygonal_part(geoms[collection])
        ledger.flag(
            rows[collection],
            ids[collection],
            "geometry collection",
            "repaired: kept the polygonal parts",
        )
        types = np.asarray(shapely.get_type_id(geoms))
        now_empty = collection & shapely.is_empty(geoms)
        ledger.flag(rows[now_empty], ids[now_empty], "no polygonal part", REJECTED)
        alive &= ~now_empty
    wrong = alive & ~np.isin(types, allowed_ids)
    if wrong.any():
        kinds = sorted(set(shapely.get_type_id(geoms[wrong]).tolist()))
        names = ", ".join(shapely.GeometryType(k).name.title() for k in kinds)
        ledger.flag(
            rows[wrong],
            ids[wrong],
            f"wrong geometry type ({names}; {layer} need {'/'.join(spec.geometry_types)})",
            REJECTED,
        )
        alive &= ~wrong

    if spec.geometry_types[0] == "Polygon":
        invalid = alive & ~shapely.is_valid(geoms)
        if invalid.any():
            reasons = shapely.is_valid_reason(geoms[invalid])
            before = np.abs(shapely.area(geoms[invalid]))  # the invalid ring's shoelace area
            fixed = polygonal_part(shapely.make_valid(geoms[invalid]))
            after = shapely.area(fixed)
            geoms[invalid] = fixed
            for row, fid, reason, a0, a1 in zip(
                rows[invalid], ids[invalid], reasons, before, after, strict=True
            ):
                change = (a1 - a0) / a0 * 100 if a0 else 0.0
                ledger.flag(
                    np.array([row]),
                    np.array([fid]),
                    f"invalid geometry: {reason}",
                    "repaired: make_valid, polygonal parts kept (planar area "
                    f"{change:+.3f} % against the invalid ring's shoelace area)",
                )
        zero = alive & (shapely.area(geoms) <= 0)
        ledger.flag(rows[zero], ids[zero], "zero area", REJECTED)
        alive &= ~zero

    if id_col:
        blank = alive & pd.Series(frame[id_col]).isna().to_numpy()
        ids_series = pd.Series(ids)
        dup = alive & ids_series.duplicated(keep="first").to_numpy() & ~blank
        if dup.any():
            occurrence = ids_series[dup].groupby(ids_series[dup]).cumcount().to_numpy() + 2
            new_ids = np.array([f"{i}#{k}" for i, k in zip(ids[dup], occurrence, strict=True)])
            ledger.flag(
                rows[dup],
                ids[dup],
                f"duplicate {id_col}",
                "repaired: suffixed #2, #3... to keep ids unique",
            )
            ids = ids.copy()
            ids[dup] = new_ids

    out = frame.copy()
    out = out.set_geometry(gpd.GeoSeries(geoms, crs=frame.crs, index=frame.index))
    if id_col:
        out[id_col] = ids
    return out.loc[alive].copy()
