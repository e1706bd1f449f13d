"""Concession pressure per territory: union hectares by kind, and the territory x concession pairs.

Expired concessions are listed in the pair table (with their status) but never counted as pressure
in the per-territory totals. Concessions overlapping each other are counted once per territory.
"""

from __future__ import annotations

import logging
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geotools.analysis.tenure import ClippedLayer, percent
from geotools.area import M2_PER_HA
from geotools.geometry import intersect_area_by_group, intersect_area_per_item
from geotools.schema import VOCABULARIES

log = logging.getLogger(__name__)

CONCESSION_KINDS: tuple[str, ...] = VOCABULARIES["concessions"]["kind"]
CONCESSION_STATUSES: tuple[str, ...] = VOCABULARIES["concessions"]["status"]
#: Columns of overlaps.csv.
OVERLAP_COLUMNS: tuple[str, ...] = (
    "territory_id",
    "territory_name",
    "concession_id",
    "kind",
    "status",
    "holder",
    "granted_date",
    "overlap_ha",
    "pct_of_territory",
    "pct_of_concession",
    "on_titled_ha",
    "on_secured_ha",
    "on_untitled_ha",
)
#: Statuses that count as pressure.
PRESSURE_STATUSES: tuple[str, ...] = ("active", "in_process")


def summarise_concessions(
    claimed_m2: np.ndarray,
    concessions: gpd.GeoDataFrame,
    clipped: ClippedLayer,
    secured: tuple[np.ndarray, np.ndarray],
) -> pd.DataFrame:
    """Return per-territory concession columns.

    Parameters
    ----------
    claimed_m2 : numpy.ndarray of float
        Area of each territory (m²).
    concessions : geopandas.GeoDataFrame
        Canonical concessions (``kind``, ``status``), in the order ``clipped`` refers to.
    clipped : ClippedLayer
        Concessions clipped to the territories.
    secured : tuple of numpy.ndarray
        ``(territory, pieces)`` of the secured tenure union (titled ∪ cession in use).

    Returns
    -------
    pandas.DataFrame
        ``concession_ha, concession_pct, concession_untitled_ha, concession_<kind>_ha`` for every
        kind of the vocabulary and any other kind found, and ``concession_<status>_ha`` for
        active, in_process and expired (each the union of that status alone).
    """
    n = len(claimed_m2)
    status = concessions["status"].astype(str).to_numpy()[clipped.feature]
    kind = concessions["kind"].astype(str).to_numpy()[clipped.feature]
    pressing = np.isin(status, PRESSURE_STATUSES)
    groups, pieces = clipped.union_pieces(pressing)
    total = np.bincount(groups, weights=shapely.area(pieces), minlength=n)
    on_secured = intersect_area_by_group(pieces, groups, secured[1], secured[0], n)
    out = pd.DataFrame(
        {
            "concession_ha": total / M2_PER_HA,
            "concession_pct": percent(total, claimed_m2),
            "concession_untitled_ha": np.maximum(total - on_secured, 0.0) / M2_PER_HA,
        }
    )
    extra = sorted(set(kind[pressing]) - set(CONCESSION_KINDS))
    for name in (*CONCESSION_KINDS, *extra):
        out[f"concession_{name}_ha"] = clipped.union_area(pressing & (kind == name), n) / M2_PER_HA
    # By status, kept apart: active and in-process are pressure; expired is listed, never counted.
    for name in CONCESSION_STATUSES:
        out[f"concession_{name}_ha"] = clipped.union_area(status == name, n) / M2_PER_HA
    return out


def weight_column_name(column: str) -> str:
    """Output column of a pro-rated weight.

    Parameters
    ----------
    column : str
        The source column, e.g. ``Mined area (ha)``.

    Returns
    -------
    str
        ``prorated_`` and the column in lower case, other characters as ``_``.

    Examples
    --------
    >>> weight_column_name("Mined area (ha)")
    'prorated_mined_area_ha'
    """
    slug = re.sub(r"[^0-9a-z]+", "_", column.strip().lower()).strip("_") or "weight"
    return f"prorated_{slug}"


def prorate_weight(
    n_territories: int,
    concessions: gpd.GeoDataFrame,
    concession_m2: np.ndarray,
    clipped: ClippedLayer,
    column: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Pro-rate a quantity carried by each concession by the share of it inside each territory.

    A detection polygon of 100 ha carrying "Mined area (ha)" = 40 with 25 ha inside a territory
    gives it 40 x 25 / 100 = 10 ha: the quantity is assumed spread evenly over its polygon.

    Parameters
    ----------
    n_territories : int
        Number of territories.
    concessions : geopandas.GeoDataFrame
        Concessions with the numeric ``column``.
    concession_m2 : numpy.ndarray of float
        Area of each concession (m², equal-area).
    clipped : ClippedLayer
        Concessions clipped to the territories.
    column : str
        The quantity to pro-rate.

    Returns
    -------
    per_territory : numpy.ndarray of float
        Sum over the territory's active and in-process concessions (expired ones are not
        pressure, as in ``concession_ha``); NaN where a contributing value is missing.
    per_pair : numpy.ndarray of float
        The pro-rated value of each clipped pair (every status), aligned with ``clipped``.
    """
    t, c = clipped.territory, clipped.feature
    values = pd.to_numeric(concessions[column], errors="coerce").to_numpy(dtype=float)
    share = np.divide(
        clipped.area_m2, concession_m2[c], out=np.zeros(len(c)), where=concession_m2[c] > 0
    )
    per_pair = values[c] * np.minimum(share, 1.0)
    status = concessions["status"].astype(str).to_numpy()[c]
    pressing = np.isin(status, PRESSURE_STATUSES)
    per_territory = np.bincount(
        t[pressing], weights=np.nan_to_num(per_pair[pressing]), minlength=n_territories
    )
    unknown = np.bincount(
        t[pressing], weights=np.isnan(per_pair[pressing]), minlength=n_territories
    )
    per_territory[unknown > 0] = np.nan
    return per_territory, per_pair


def concession_bits(status: np.ndarray) -> np.ndarray:
    """Return the bit mask of the unions a concession takes part in: pressure (1) or expired (2).

    Parameters
    ----------
    status : numpy.ndarray of str
        Canonical concession status per concession (``active``, ``in_process``, ``expired``...).

    Returns
    -------
    numpy.ndarray of int
        Per concession: 1 when the status is one of :data:`PRESSURE_STATUSES`, 2 when it is
        ``expired``, 0 for any other status.
    """
    return np.where(np.isin(status, PRESSURE_STATUSES), 1, 0) | np.where(status == "expired", 2, 0)


def build_overlap_table(
    territories: gpd.GeoDataFrame,
    claimed_m2: np.ndarray,
    concessions: gpd.GeoDataFrame,
    concession_m2: np.ndarray,
    clipped: ClippedLayer,
    titled: tuple[np.ndarray, np.ndarray] | None = None,
    secured: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Return one row per territory x concession pair that overlap (positive area).

    Parameters
    ----------
    territories : geopandas.GeoDataFrame
        Canonical territories.
    claimed_m2 : numpy.ndarray of float
        Territory areas (m²).
    concessions : geopandas.GeoDataFrame
        Canonical concessions.
    concession_m2 : numpy.ndarray of float
        Concession areas (m²).
    clipped : ClippedLayer
        Concessions clipped to territories.
    titled, secured : tuple of numpy.ndarray, optional
        ``(territory, pieces)`` of the titled and secured unions; when given, each pair gets
        ``on_titled_ha``, ``on_secured_ha`` and ``on_untitled_ha`` (= overlap - on secured).

    Returns
    -------
    pandas.DataFrame
        ``territory_id, territory_name, concession_id, kind, status, holder, granted_date,
        overlap_ha, pct_of_territory, pct_of_concession`` (+ the ``on_`` columns), sorted by
        territory then concession (input order).
    """
    t, c = clipped.territory, clipped.feature

    def column(frame: gpd.GeoDataFrame, name: str, index: np.ndarray) -> np.ndarray:
        if name not in frame.columns:
            return np.full(len(index), None, dtype=object)
        return frame[name].to_numpy(dtype=object)[index]

    table = pd.DataFrame(
        {
            "territory_id": territories["territory_id"].to_numpy()[t],
            "territory_name": column(territories, "name", t),
            "concession_id": concessions["concession_id"].to_numpy()[c],
            "kind": column(concessions, "kind", c),
            "status": column(concessions, "status", c),
            "holder": column(concessions, "holder", c),
            "granted_date": column(concessions, "granted_date", c),
            "overlap_ha": clipped.area_m2 / M2_PER_HA,
            "pct_of_territory": percent(clipped.area_m2, claimed_m2[t]),
            "pct_of_concession": percent(clipped.area_m2, concession_m2[c]),
        }
    )
    if titled is not None and secured is not None:
        on = {
            name: intersect_area_per_item(clipped.geoms, t, pieces[1], pieces[0])
            for name, pieces in (("titled", titled), ("secured", secured))
        }
        table["on_titled_ha"] = on["titled"] / M2_PER_HA
        table["on_secured_ha"] = on["secured"] / M2_PER_HA
        table["on_untitled_ha"] = np.maximum(clipped.area_m2 - on["secured"], 0.0) / M2_PER_HA
    order = np.lexsort((c, t))
    return table.iloc[order].reset_index(drop=True)
