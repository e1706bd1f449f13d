"""Titled versus claimed: the tenure statistics of each territory.

Definitions (DESIGN §6):

- claimed = the territory's area;
- titled = union of parcels with tenure ``titled``, clipped to the territory;
- secured = union of parcels with tenure ``titled`` or ``cession_in_use``, clipped;
- in_process = union of parcels with tenure ``in_process`` (titling or extension requested),
  clipped;
- untitled = claimed - secured.

Overlapping parcels are counted once (unions, never sums); a parcel crossing two territories
counts in each for its part; a parcel inside a hole of a territory counts for none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geotools.area import M2_PER_HA, area_crs_for, project_to_area_crs
from geotools.geometry import (
    clip_pairs,
    dissolve_by_group,
    find_overlapping_pairs,
    query_pairs,
    subset_pairs,
)

log = logging.getLogger(__name__)

#: Tenure classes measured, and the parcel tenures each one unions.
TENURE_CLASSES: dict[str, tuple[str, ...]] = {
    "titled": ("titled",),
    "secured": ("titled", "cession_in_use"),
    "in_process": ("in_process",),
}


@dataclass
class ClippedLayer:
    """Polygons of a layer clipped to territories (one row per territory x feature pair).

    Attributes
    ----------
    territory : numpy.ndarray of int
        Position of the territory.
    feature : numpy.ndarray of int
        Position of the feature in its layer.
    geoms : numpy.ndarray of shapely.Geometry
        Part of the feature inside the territory (planar, equal-area CRS).
    area_m2 : numpy.ndarray of float
        Area of each part.
    pairs : tuple of numpy.ndarray
        Pairs of parts (same territory) whose interiors overlap.
    """

    territory: np.ndarray
    feature: np.ndarray
    geoms: np.ndarray
    area_m2: np.ndarray
    pairs: tuple[np.ndarray, np.ndarray]
    _unions: dict[bytes, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    def union_pieces(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(territory, pieces)``: the union of the selected parts, per territory.

        Results are remembered per mask, so asking twice for the same union costs nothing.

        Parameters
        ----------
        mask : numpy.ndarray of bool
            Which parts (rows of this layer) to union; one value per part.

        Returns
        -------
        territory : numpy.ndarray of int
            Position of the territory of each piece.
        pieces : numpy.ndarray of shapely.Geometry
            Interior-disjoint pieces whose union, per territory, is the union of its selected parts
            (planar, equal-area CRS; see :func:`geotools.geometry.dissolve_by_group`).
        """
        key = np.packbits(mask).tobytes() + len(mask).to_bytes(8, "little")
        if key not in self._unions:
            left, right = subset_pairs(mask, *self.pairs)
            self._unions[key] = dissolve_by_group(
                self.geoms[mask], self.territory[mask], (left, right)
            )
        return self._unions[key]

    def union_area(self, mask: np.ndarray, n_territories: int) -> np.ndarray:
        """Return per territory the area (m²) of the union of the selected parts.

        Parameters
        ----------
        mask : numpy.ndarray of bool
            Which parts (rows of this layer) to union; one value per part.
        n_territories : int
            Number of territories: the length of the result.

        Returns
        -------
        numpy.ndarray of float
            Area (m²) of the union per territory position, 0 where no part was selected.
        """
        groups, pieces = self.union_pieces(mask)
        return np.bincount(groups, weights=shapely.area(pieces), minlength=n_territories)


def clip_to_territories(
    territory_geoms: np.ndarray, feature_geoms: np.ndarray, classes: np.ndarray | None = None
) -> ClippedLayer:
    """Clip every feature to every territory it overlaps (vectorised, see module docs).

    Parameters
    ----------
    territory_geoms : numpy.ndarray of shapely.Geometry
        Territories in the equal-area CRS.
    feature_geoms : numpy.ndarray of shapely.Geometry
        Parcels or concessions in the same CRS.
    classes : numpy.ndarray of int, optional
        Bit mask per feature of the unions it will take part in (see :func:`tenure_bits`);
        overlaps are only looked for between parts that share a bit.

    Returns
    -------
    ClippedLayer
        Parts with positive area, and their overlapping pairs.
    """
    t_idx, f_idx = query_pairs(territory_geoms, feature_geoms)
    parts = clip_pairs(territory_geoms, feature_geoms, t_idx, f_idx)
    area = shapely.area(parts)
    keep = area > 0
    t_idx, f_idx, parts, area = t_idx[keep], f_idx[keep], parts[keep], area[keep]
    pairs = find_overlapping_pairs(parts, t_idx, None if classes is None else classes[f_idx])
    return ClippedLayer(t_idx, f_idx, parts, area, pairs)


def tenure_bits(tenure: np.ndarray) -> np.ndarray:
    """Return per parcel a bit mask of the :data:`TENURE_CLASSES` its tenure belongs to.

    ``titled`` parcels take part in the titled and secured unions, ``cession_in_use`` in the
    secured one, ``in_process`` in its own; ``demarcated`` and unknown tenures in none.

    Parameters
    ----------
    tenure : numpy.ndarray of str
        Canonical tenure per parcel.

    Returns
    -------
    numpy.ndarray of int64
        Per parcel, bit ``k`` set when its tenure is a member of the ``k``-th class of
        :data:`TENURE_CLASSES` (titled 1, secured 2, in_process 4).
    """
    bits = np.zeros(len(tenure), dtype=np.int64)
    for k, members in enumerate(TENURE_CLASSES.values()):
        bits |= np.where(np.isin(tenure, members), 1 << k, 0)
    return bits


def project(frame: gpd.GeoDataFrame, crs: CRS) -> np.ndarray:
    """Return the frame's geometries in the equal-area ``crs``, edges along geodesics.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Layer with a CRS.
    crs : pyproj.CRS
        Equal-area target CRS.

    Returns
    -------
    numpy.ndarray of shapely.Geometry
        Geometries in ``crs`` (see :func:`geotools.area.project_to_area_crs`).

    Raises
    ------
    CRSError
        ``frame`` has no CRS.
    """
    return project_to_area_crs(frame, crs)


def compute_tenure_stats(
    territories: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    area_crs: CRS | None = None,
) -> pd.DataFrame:
    """Return claimed, titled, secured, in-process and untitled hectares per territory.

    Parameters
    ----------
    territories : geopandas.GeoDataFrame
        ``territory_id`` and valid polygon geometries, any CRS.
    parcels : geopandas.GeoDataFrame
        ``parcel_id``, ``tenure`` and valid polygon geometries, any CRS.
    area_crs : pyproj.CRS, optional
        Equal-area CRS; chosen from the data's extent when omitted.

    Returns
    -------
    pandas.DataFrame
        One row per territory, in input order: ``territory_id, claimed_ha, titled_ha, secured_ha,
        in_process_ha, untitled_ha`` and the matching ``_pct`` columns.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box

    Two titled parcels of 50 ha (in UTM grid units) overlapping by 25 ha: the union is 75 grid
    hectares, which near the central meridian of UTM 18S (scale factor 0.9996) is 75.06 true ha.

    >>> x, y = 500_000, 9_000_000
    >>> t = gpd.GeoDataFrame({"territory_id": ["A"]}, crs="EPSG:32718",
    ...                      geometry=[box(x, y, x + 1000, y + 1000)])
    >>> p = gpd.GeoDataFrame({"parcel_id": ["p1", "p2"], "tenure": ["titled", "titled"]},
    ...                      geometry=[box(x, y, x + 500, y + 1000),
    ...                                box(x + 250, y, x + 750, y + 1000)], crs="EPSG:32718")
    >>> round(float(compute_tenure_stats(t, p)["titled_ha"].iloc[0]), 2)
    75.06
    """
    crs = area_crs or area_crs_for(territories, parcels)
    t_geoms = project(territories, crs)
    values = parcels["tenure"].astype(str).to_numpy()
    clipped = clip_to_territories(t_geoms, project(parcels, crs), tenure_bits(values))
    tenure = values[clipped.feature]
    result = summarise_tenure(shapely.area(t_geoms), clipped, tenure)
    result.insert(0, "territory_id", territories["territory_id"].astype(str).to_numpy())
    return result


def summarise_tenure(
    claimed_m2: np.ndarray, clipped: ClippedLayer, tenure: np.ndarray
) -> pd.DataFrame:
    """Return the tenure columns from parcels already clipped to the territories.

    Parameters
    ----------
    claimed_m2 : numpy.ndarray of float
        Area of each territory (m², equal-area CRS).
    clipped : ClippedLayer
        Parcels clipped to the territories.
    tenure : numpy.ndarray of str
        Tenure of each clipped part.

    Returns
    -------
    pandas.DataFrame
        ``claimed_ha, titled_ha, secured_ha, in_process_ha, untitled_ha`` and ``_pct`` columns.
    """
    n = len(claimed_m2)
    table = {"claimed_ha": claimed_m2 / M2_PER_HA}
    for name, members in TENURE_CLASSES.items():
        table[f"{name}_ha"] = clipped.union_area(np.isin(tenure, members), n) / M2_PER_HA
    table["untitled_ha"] = np.maximum(table["claimed_ha"] - table["secured_ha"], 0.0)
    out = pd.DataFrame(table)
    for name in (*TENURE_CLASSES, "untitled"):
        out[f"{name}_pct"] = percent(out[f"{name}_ha"].to_numpy(), out["claimed_ha"].to_numpy())
    return out


def percent(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """Return ``100 * part / whole``, 0 where ``whole`` is 0, clipped to [0, 100].

    Parameters
    ----------
    part : numpy.ndarray
        Numerators (e.g. titled area).
    whole : numpy.ndarray
        Denominators in the same unit (e.g. claimed area), same shape as ``part``.

    Returns
    -------
    numpy.ndarray of float
        Percentages from 0 to 100.
    """
    part = np.asarray(part, dtype=float)
    whole = np.asarray(whole, dtype=float)
    safe = np.where(whole > 0, whole, 1.0)
    return np.clip(np.where(whole > 0, 100.0 * part / safe, 0.0), 0.0, 100.0)
