"""Per-territory statistics: tenure, concessions and incidents in one table (DESIGN §6)."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geotools.analysis.communities import CommunityResult, relate_community_layer
from geotools.analysis.incidents import merge_duplicate_incidents, summarise_incidents
from geotools.analysis.overlaps import (
    CONCESSION_KINDS,
    CONCESSION_STATUSES,
    OVERLAP_COLUMNS,
    build_overlap_table,
    concession_bits,
    prorate_weight,
    summarise_concessions,
    weight_column_name,
)
from geotools.analysis.risk import RiskConfig, compute_risk, compute_sensitivity
from geotools.analysis.tenure import (
    TENURE_CLASSES,
    clip_to_territories,
    project,
    summarise_tenure,
    tenure_bits,
)
from geotools.area import M2_PER_HA, area_crs_for, check_area_method, union_ha
from geotools.errors import SourceError, ValidationError
from geotools.geometry import dissolve_by_group, polygonal_part, union_by_group
from geotools.io import Layer, check_raster
from geotools.schema import DEFAULT_HALF_LIFE_YEARS, DEFAULT_NEARBY_KM
from geotools.validation import REJECTED

log = logging.getLogger(__name__)

#: Columns of territory_stats.csv, in order (concession_<kind>_ha follow concession_untitled_ha).
BASE_COLUMNS: tuple[str, ...] = (
    "territory_id",
    "name",
    "people",
    "claimed_ha",
    "titled_ha",
    "titled_pct",
    "secured_ha",
    "secured_pct",
    "untitled_ha",
    "untitled_pct",
    "in_process_ha",
    "in_process_pct",
    "concession_ha",
    "concession_pct",
    "concession_untitled_ha",
)
INCIDENT_COLUMNS: tuple[str, ...] = ("incidents_inside", "incidents_nearby")


@dataclass
class StatsResult:
    """Everything ``geotools stats`` computes.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per territory (``territory_stats.csv``), full precision.
    overlaps : pandas.DataFrame
        Territory x concession pairs (``overlaps.csv``).
    territories : geopandas.GeoDataFrame
        Territories with the statistics joined, EPSG:4326.
    outside : dict
        Parcels and concessions outside every territory: ``{"parcels": {"count", "ha"}, ...}``.
    area_crs : pyproj.CRS
        Equal-area CRS the hectares were measured in.
    area_check : dict
        Equal-area versus geodesic self-check on the largest territories.
    options : dict
        Options used (for provenance).
    untitled : geopandas.GeoDataFrame or None
        The untitled part of each territory (claimed minus secured), EPSG:4326.
    timeseries : pandas.DataFrame
        Long table, one row per territory and year with anything to report
        (``timeseries.csv``): ``territory_id, year`` and the yearly measures available
        (``forest_loss_ha``, ``forest_loss_untitled_ha``, incident counts).
    claimed_total : dict
        Totals counted once (:func:`summarise_claimed_total`): ``union_ha``, ``sum_of_rows_ha``,
        ``double_counted_ha``, ``territories``; ``titled_union_ha`` (None without parcels).
    communities : CommunityResult or None
        Community points related to the polygons (``community_*.csv``); None without points.
    regions : pandas.DataFrame or None
        ``region_stats.csv`` (:func:`geotools.analysis.regions.compute_region_stats`).
    """

    table: pd.DataFrame
    overlaps: pd.DataFrame
    territories: gpd.GeoDataFrame
    outside: dict[str, dict[str, float]]
    area_crs: CRS
    area_check: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    timeseries: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["territory_id", "year"])
    )
    incident_facts: dict[str, Any] = field(default_factory=dict)
    untitled: gpd.GeoDataFrame | None = None
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    claimed_total: dict[str, Any] = field(default_factory=dict)
    communities: CommunityResult | None = None
    regions: pd.DataFrame | None = None

    @property
    def nearby_km(self) -> float:
        """The "nearby" distance (km) the statistics used (read back from :attr:`options`; a
        result built by hand without it gets :data:`~geotools.schema.DEFAULT_NEARBY_KM`)."""
        return float(self.options.get("nearby_km", DEFAULT_NEARBY_KM))

    @property
    def half_life_years(self) -> float:
        """The risk score's half-life (years) the statistics used (read back from
        :attr:`options`, else :data:`~geotools.schema.DEFAULT_HALF_LIFE_YEARS`)."""
        risk = self.options.get("risk") or {}
        return float(risk.get("half_life_years", DEFAULT_HALF_LIFE_YEARS))


def _outside(
    frame: gpd.GeoDataFrame, geoms: np.ndarray, used_features: np.ndarray, label: str
) -> dict[str, float]:
    mask = np.ones(len(geoms), dtype=bool)
    mask[used_features] = False
    _, pieces = dissolve_by_group(geoms[mask], np.zeros(int(mask.sum()), dtype=np.intp))
    hectares = float(shapely.area(pieces).sum() / M2_PER_HA)
    ids = frame[f"{label}_id"].astype(str).to_numpy()[mask]
    if mask.any():
        log.debug("%d %ss (%.1f ha) lie outside every territory", mask.sum(), label, hectares)
    return {"count": int(mask.sum()), "ha": round(hectares, 4), "ids": ids.tolist()[:50]}


def summarise_claimed_total(t_geoms: np.ndarray) -> dict[str, Any]:
    """The total claimed area counted once: the union of all territories, beside the sum of rows.

    Territories may overlap each other (a reserve over communities, an extension drawn over
    its title): summing ``claimed_ha`` over rows counts that land twice; the union does not.

    Parameters
    ----------
    t_geoms : numpy.ndarray of shapely.Geometry
        Territories in an equal-area CRS (metres).

    Returns
    -------
    dict
        ``territories`` (rows), ``union_ha``, ``sum_of_rows_ha`` and ``double_counted_ha``
        (sum minus union), hectares rounded to 4 decimals.
    """
    areas = np.asarray(shapely.area(t_geoms), dtype=float)
    union = float(shapely.area(shapely.union_all(t_geoms))) if len(t_geoms) else 0.0
    total = {
        "territories": len(t_geoms),
        "union_ha": round(union / M2_PER_HA, 4),
        "sum_of_rows_ha": round(float(areas.sum()) / M2_PER_HA, 4),
    }
    total["double_counted_ha"] = round(total["sum_of_rows_ha"] - total["union_ha"], 4)
    log.info(
        "%d territories claim %s ha in all (union, counted once); their rows add up to %s ha "
        "(%s ha where territories overlap each other)",
        total["territories"],
        f"{total['union_ha']:,.1f}",
        f"{total['sum_of_rows_ha']:,.1f}",
        f"{total['double_counted_ha']:,.1f}",
    )
    return total


#: Drawn and legal titled areas differing by more than this (percent of the legal area) are
#: flagged (``legal_area_differs``): a boundary digitised at another scale, an extension drawn
#: in, or one part of a community carrying the whole community's legal area.
LEGAL_AREA_TOLERANCE_PCT = 20.0


def compare_legal_area(territories: pd.DataFrame, claimed_ha: np.ndarray) -> pd.DataFrame | None:
    """The legal titled area of each territory beside its drawn (polygon) area.

    Parameters
    ----------
    territories : pandas.DataFrame
        Canonical territories; ``legal_titled_ha`` (hectares, 0 or empty = unknown) when the
        source carries it.
    claimed_ha : numpy.ndarray of float
        Drawn area of each territory (geodesic hectares).

    Returns
    -------
    pandas.DataFrame or None
        ``legal_titled_ha`` (NaN where unknown), ``drawn_vs_legal_pct`` (100 x (drawn - legal)
        / legal) and ``legal_area_differs`` (beyond :data:`LEGAL_AREA_TOLERANCE_PCT`; NA where
        unknown); None when the territories carry no legal area.
    """
    if "legal_titled_ha" not in territories.columns:
        return None
    raw = territories["legal_titled_ha"].astype("string").str.replace(",", ".", regex=False)
    legal = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    legal = np.where(legal > 0, legal, np.nan)
    diff = 100.0 * (np.asarray(claimed_ha, dtype=float) - legal) / legal
    differs = pd.array(np.abs(diff) > LEGAL_AREA_TOLERANCE_PCT, dtype="boolean")
    differs[np.isnan(diff)] = pd.NA
    n_flagged = int(np.nansum(np.abs(diff) > LEGAL_AREA_TOLERANCE_PCT))
    if n_flagged:
        log.warning(
            "%d of %d territories: drawn area differs from the legal titled area by more than "
            "%g %% (legal_area_differs); check the boundaries, or group the parts of one "
            "community (--group-territories)",
            n_flagged,
            int(np.isfinite(legal).sum()),
            LEGAL_AREA_TOLERANCE_PCT,
        )
    return pd.DataFrame(
        {"legal_titled_ha": legal, "drawn_vs_legal_pct": diff, "legal_area_differs": differs}
    )


def unknown_tenure(claimed_m2: np.ndarray) -> pd.DataFrame:
    """The tenure columns of :func:`~geotools.analysis.tenure.summarise_tenure` when there is no
    tenure source: ``claimed_ha`` measured, every titled / secured / untitled figure NaN.

    Parameters
    ----------
    claimed_m2 : numpy.ndarray of float
        Area of each territory (m², equal-area CRS).

    Returns
    -------
    pandas.DataFrame
        ``claimed_ha`` and NaN ``titled``, ``secured``, ``in_process``, ``untitled`` ``_ha`` and
        ``_pct`` columns.
    """
    out = pd.DataFrame({"claimed_ha": np.asarray(claimed_m2, dtype=float) / M2_PER_HA})
    for name in (*TENURE_CLASSES, "untitled"):
        out[f"{name}_ha"] = np.nan
    for name in (*TENURE_CLASSES, "untitled"):
        out[f"{name}_pct"] = np.nan
    return out


def compute_territory_stats(
    territories: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame | None,
    concessions: gpd.GeoDataFrame | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    nearby_km: float = DEFAULT_NEARBY_KM,
    area_crs: CRS | None = None,
    forest_loss: str | os.PathLike[str] | None = None,
    infrastructure: gpd.GeoDataFrame | None = None,
    risk_config: RiskConfig | None = None,
    concession_weight: str | None = None,
) -> StatsResult:
    """Compute the per-territory table of DESIGN §6.

    Parameters
    ----------
    territories : geopandas.GeoDataFrame
        Canonical, validated territories (``territory_id``, ``name``...).
    parcels : geopandas.GeoDataFrame or None
        Canonical, validated parcels (``parcel_id``, ``tenure``). None when the study has no
        tenure source: ``titled``, ``secured``, ``in_process`` and ``untitled`` hectares and
        percentages, ``concession_untitled_ha``, the overlaps' ``on_*_ha`` and the forest loss
        by tenure are then NaN (unknown, never 0), the risk score lists tenure as missing and
        ``untitled`` is None.
    concessions : geopandas.GeoDataFrame, optional
        Canonical concessions (``concession_id``, ``kind``, ``status``, ``holder``).
    incidents : geopandas.GeoDataFrame, optional
        Canonical incident points.
    nearby_km : float, default 5.0
        Geodesic distance for ``incidents_nearby``.
    area_crs : pyproj.CRS, optional
        Equal-area CRS; chosen from the data's extent when omitted.
    forest_loss : str or path-like, optional
        Forest-loss GeoTIFF in Hansen ``lossyear`` coding (0 none, N loss in 2000+N): adds
        ``forest_loss_ha``, ``forest_loss_secured_ha``, ``forest_loss_untitled_ha`` and
        ``forest_loss_coverage`` (exact pixel coverage, true pixel areas; see
        :mod:`geotools.analysis.forest_loss`) and yearly rows to ``timeseries``.
    risk_config : RiskConfig, optional
        Weights, thresholds, half-life... of the risk score (``analysis.risk``); defaults
        otherwise. Adds ``risk_score``, ``risk_class``, one ``risk_<component>`` column each,
        ``risk_missing`` and ``risk_drivers``; the sensitivity table goes to ``sensitivity``.
    infrastructure : geopandas.GeoDataFrame, optional
        Pipelines and roads (``kind``): adds ``pipeline_km_inside/nearby``,
        ``road_km_inside/nearby`` (geodesic km) and ``spills_inside/nearby`` (incidents of kind
        spill), all within ``nearby_km``.
    concession_weight : str, optional
        A numeric column of ``concessions`` (e.g. a detection's mined hectares) to pro-rate by
        the share of each concession inside each territory
        (:func:`~geotools.analysis.overlaps.prorate_weight`): adds ``prorated_<column>`` to the
        table (active and in-process concessions) and to every overlap pair.

    Returns
    -------
    StatsResult
        Table, overlap matrix, joined territories and run facts.
    """
    crs = area_crs or area_crs_for(territories, parcels, concessions, incidents)
    log.debug("measuring areas in %s", crs.name)
    t_geoms = project(territories, crs)
    claimed = np.asarray(shapely.area(t_geoms), dtype=float)
    n = len(t_geoms)

    outside: dict[str, dict[str, Any]] = {}
    if parcels is not None:
        p_geoms = project(parcels, crs)
        values = parcels["tenure"].astype(str).to_numpy()
        p_clipped = clip_to_territories(t_geoms, p_geoms, tenure_bits(values))
        tenure = values[p_clipped.feature]
        tenure_table = summarise_tenure(claimed, p_clipped, tenure)
        outside["parcels"] = _outside(parcels, p_geoms, p_clipped.feature, "parcel")
        titled = p_clipped.union_pieces(np.isin(tenure, TENURE_CLASSES["titled"]))
        secured = p_clipped.union_pieces(np.isin(tenure, TENURE_CLASSES["secured"]))
    else:
        # No tenure source: titled, secured and untitled are unknown (NaN), never zero.
        tenure_table = unknown_tenure(claimed)
        titled = secured = (np.zeros(0, dtype=np.intp), np.zeros(0, dtype=object))
        log.info("no parcel layer: titled, secured and untitled land are unknown")

    if concessions is not None and len(concessions):
        c_geoms = project(concessions, crs)
        status = concessions["status"].astype(str).to_numpy()
        c_clipped = clip_to_territories(t_geoms, c_geoms, concession_bits(status))
        conc_table = summarise_concessions(claimed, concessions, c_clipped, secured)
        c_m2 = np.asarray(shapely.area(c_geoms), dtype=float)
        overlaps = build_overlap_table(
            territories, claimed, concessions, c_m2, c_clipped, titled, secured
        )
        if concession_weight is not None:
            name = weight_column_name(concession_weight)
            per_territory, per_pair = prorate_weight(
                n, concessions, c_m2, c_clipped, concession_weight
            )
            conc_table[name] = per_territory
            order = np.lexsort((c_clipped.feature, c_clipped.territory))
            overlaps[name] = per_pair[order]
        outside["concessions"] = _outside(concessions, c_geoms, c_clipped.feature, "concession")
        if parcels is None:
            conc_table["concession_untitled_ha"] = np.nan
            for column in ("on_titled_ha", "on_secured_ha", "on_untitled_ha"):
                overlaps[column] = np.nan
    else:
        columns = [
            "concession_ha",
            "concession_pct",
            "concession_untitled_ha",
            *[f"concession_{k}_ha" for k in (*CONCESSION_KINDS, *CONCESSION_STATUSES)],
        ]
        if concession_weight is not None:
            columns.append(weight_column_name(concession_weight))
        # No concession layer given: unknown (empty cells), never a plausible 0. A layer with
        # no concession in it gives real zeros.
        conc_table = pd.DataFrame(
            0.0 if concessions is not None else np.nan, index=range(n), columns=columns
        )
        if parcels is None:
            conc_table["concession_untitled_ha"] = np.nan
        overlaps = pd.DataFrame(columns=OVERLAP_COLUMNS)

    table = pd.DataFrame({"territory_id": territories["territory_id"].astype(str).to_numpy()})
    for column in ("name", "people"):
        values = territories[column] if column in territories.columns else None
        table[column] = values.to_numpy(dtype=object) if values is not None else None
    table = pd.concat([table, tenure_table, conc_table], axis=1)
    legal = compare_legal_area(territories, tenure_table["claimed_ha"].to_numpy())
    incident_facts: dict[str, Any] = {}
    incident_pairs: pd.DataFrame | None = None
    incident_years = pd.DataFrame(columns=["territory_id", "year"])
    if incidents is not None and len(incidents):
        merged, merges = merge_duplicate_incidents(incidents)
        summary = summarise_incidents(territories, merged, nearby_km=nearby_km)
        incident_pairs = summary.pairs
        per = summary.per_territory.drop(columns=["territory_id"]).reset_index(drop=True)
        table = pd.concat([table, per], axis=1)
        incident_years = summary.by_year.rename(
            columns={
                "inside": "incidents_inside",
                "nearby": "incidents_nearby",
                "uncertain": "incidents_uncertain",
                "severity_inside": "incident_severity_inside",
            }
        )
        incident_facts = {
            "read": len(incidents),
            "after_merging_duplicates": len(merged),
            "merged": merges.to_dict(orient="records"),
            "uncertain_assignments": len(summary.uncertain),
            "reference_date": summary.reference_date,
        }
    elif incidents is not None:  # a layer with no incident: truly none
        table["incidents_inside"] = np.zeros(n, dtype=np.int64)
        table["incidents_nearby"] = np.zeros(n, dtype=np.int64)
    else:  # no incident layer given: unknown, never a plausible 0
        table["incidents_inside"] = pd.array([pd.NA] * n, dtype="Int64")
        table["incidents_nearby"] = pd.array([pd.NA] * n, dtype="Int64")
    kinds = [
        c
        for c in table.columns
        if c.startswith("concession_") and c.endswith("_ha") and c not in BASE_COLUMNS
    ]
    rest = [c for c in table.columns if c not in (*BASE_COLUMNS, *kinds, *INCIDENT_COLUMNS)]
    table = table[[*BASE_COLUMNS, *kinds, *INCIDENT_COLUMNS, *rest]]
    if legal is not None:  # beside the drawn area
        at = list(table.columns).index("claimed_ha") + 1
        for offset, column in enumerate(legal.columns):
            table.insert(at + offset, column, legal[column].to_numpy())
    if infrastructure is not None and len(infrastructure):
        from geotools.analysis.infrastructure import compute_infrastructure_exposure

        spills = None
        if incidents is not None and "kind" in incidents.columns:
            spills = incidents[incidents["kind"].astype(str) == "spill"]
        exposure = compute_infrastructure_exposure(
            territories, infrastructure, spills, distance_km=nearby_km
        )
        table = pd.concat(
            [table, exposure.drop(columns=["territory_id"]).reset_index(drop=True)], axis=1
        )
    timeseries = pd.DataFrame(
        {"territory_id": pd.Series(dtype=str), "year": pd.Series(dtype="int64")}
    )
    if len(incident_years):
        timeseries = timeseries.merge(incident_years, on=["territory_id", "year"], how="outer")
    if forest_loss is not None:
        loss_columns, loss_years = summarise_forest_loss(
            table["territory_id"].to_numpy(),
            t_geoms,
            {"titled": titled, "secured": secured},
            crs,
            forest_loss,
        )
        if parcels is None:
            for column in (
                "forest_loss_titled_ha",
                "forest_loss_secured_ha",
                "forest_loss_untitled_ha",
            ):
                loss_columns[column] = np.nan
            loss_years["forest_loss_untitled_ha"] = np.nan
        table = pd.concat([table, loss_columns], axis=1)
        timeseries = timeseries.merge(loss_years, on=["territory_id", "year"], how="outer")
    # A year missing for one measure had none of it (not unknown): 0, except forest loss on
    # territories the raster does not cover, which stays unknown.
    for column in (
        "incidents_inside",
        "incidents_nearby",
        "incidents_uncertain",
        "incident_severity_inside",
    ):
        if column in timeseries.columns:
            timeseries[column] = timeseries[column].fillna(0).astype("int64")
    if forest_loss is not None:
        covered = table.loc[table["forest_loss_coverage"] != "outside", "territory_id"]
        known = timeseries["territory_id"].isin(covered)
        for column in ("forest_loss_ha", "forest_loss_untitled_ha"):
            if column == "forest_loss_untitled_ha" and parcels is None:
                continue  # unknown without a tenure source
            timeseries.loc[known, column] = timeseries.loc[known, column].fillna(0.0)
    timeseries = timeseries.sort_values(["territory_id", "year"], kind="stable").reset_index(
        drop=True
    )

    risk = compute_risk(table, incident_pairs, timeseries, risk_config)
    table = pd.concat([table, risk.drop(columns=["territory_id"]).reset_index(drop=True)], axis=1)
    sensitivity = compute_sensitivity(table, incident_pairs, timeseries, risk_config)
    # The joined layer (GeoPackage, map) carries every column of the table, risk included.
    joined = territories.to_crs(4326).drop(
        columns=[c for c in table.columns if c in territories.columns and c != "territory_id"]
    )
    joined = joined.merge(table.drop(columns=["name", "people"]), on="territory_id", how="left")
    for column in ("name", "people"):
        if column in territories.columns:
            joined[column] = territories[column].to_numpy()
    area_check = check_area_method(territories.geometry, crs)
    return StatsResult(
        table=table,
        overlaps=overlaps,
        territories=joined,
        outside=outside,
        area_crs=crs,
        area_check=area_check,
        options={
            "nearby_km": nearby_km,
            "area_crs": crs.srs,
            "forest_loss": str(forest_loss) if forest_loss is not None else None,
            "risk": describe_config(risk_config or RiskConfig()),
            "concession_weight": concession_weight,
            "tenure_source": "parcels" if parcels is not None else None,
        },
        incident_facts=incident_facts,
        timeseries=timeseries,
        untitled=(
            untitled_geometry(table["territory_id"].to_numpy(), t_geoms, secured, crs)
            if parcels is not None
            else None
        ),
        sensitivity=sensitivity,
        claimed_total=summarise_claimed_total(t_geoms)
        | {"titled_union_ha": union_ha(titled[1]) if parcels is not None else None},
    )


def untitled_geometry(
    territory_ids: np.ndarray,
    t_geoms: np.ndarray,
    secured: tuple[np.ndarray, np.ndarray],
    crs: CRS,
) -> gpd.GeoDataFrame:
    """Return the untitled part of each territory (claimed minus the secured union).

    Parameters
    ----------
    territory_ids : numpy.ndarray of str
        Territory ids, in table order.
    t_geoms : numpy.ndarray of shapely.Geometry
        Territories in the equal-area ``crs``.
    secured : tuple of numpy.ndarray
        ``(territory, pieces)`` of the secured union.
    crs : pyproj.CRS
        CRS of the geometries.

    Returns
    -------
    geopandas.GeoDataFrame
        ``territory_id, untitled_ha`` and the geometry, EPSG:4326.
    """
    geoms = np.asarray(t_geoms, dtype=object).copy()
    keys, unions = union_by_group(secured[1], secured[0])
    if len(keys):
        geoms[keys] = polygonal_part(shapely.difference(geoms[keys], unions))
    frame = gpd.GeoDataFrame(
        {"territory_id": territory_ids, "untitled_ha": shapely.area(geoms) / M2_PER_HA},
        geometry=geoms,
        crs=crs,
    )
    return frame.to_crs(4326)


def summarise_forest_loss(
    territory_ids: np.ndarray,
    t_geoms: np.ndarray,
    tenure_pieces: dict[str, tuple[np.ndarray, np.ndarray]],
    crs: CRS,
    raster: str | os.PathLike[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forest loss per territory, on its titled, secured and untitled land, and per year.

    Parameters
    ----------
    territory_ids : numpy.ndarray of str
        Territory ids, in table order.
    t_geoms : numpy.ndarray of shapely.Geometry
        Territories in the equal-area ``crs``.
    tenure_pieces : dict
        ``{"titled": (territory, pieces), "secured": (territory, pieces)}`` unions.
    crs : pyproj.CRS
        The equal-area CRS of the geometries.
    raster : str or path-like
        Loss-year GeoTIFF.

    Returns
    -------
    columns : pandas.DataFrame
        ``forest_loss_ha, forest_loss_titled_ha, forest_loss_secured_ha,
        forest_loss_untitled_ha, forest_loss_coverage`` aligned with ``territory_ids``; hectares
        are NaN for territories outside the raster (unknown, not zero).
    years : pandas.DataFrame
        ``territory_id, year, forest_loss_ha, forest_loss_untitled_ha``.
    """
    from geotools.analysis.forest_loss import compute_loss_by_year

    ids, geoms = [territory_ids], [t_geoms]
    for name, (groups, pieces) in tenure_pieces.items():
        keys, unions = union_by_group(pieces, groups)
        ids.append(np.array([f"{name}:{territory_ids[k]}" for k in keys], dtype=object))
        geoms.append(unions)
    zones = gpd.GeoDataFrame(
        {"zone_id": np.concatenate(ids)}, geometry=np.concatenate(geoms), crs=crs
    )
    result = compute_loss_by_year(zones, raster)
    by_zone = result.table.groupby("zone_id")["loss_ha"].sum()

    def loss(prefix: str) -> np.ndarray:
        keys = [f"{prefix}{t}" for t in territory_ids]
        return by_zone.reindex(keys).fillna(0.0).to_numpy()

    total, titled, secured = loss(""), loss("titled:"), loss("secured:")
    status = result.coverage.set_index("zone_id")["status"].reindex(territory_ids).to_numpy()
    unknown = status == "outside"
    columns = pd.DataFrame(
        {
            "forest_loss_ha": np.where(unknown, np.nan, total),
            "forest_loss_titled_ha": np.where(unknown, np.nan, titled),
            "forest_loss_secured_ha": np.where(unknown, np.nan, secured),
            "forest_loss_untitled_ha": np.where(unknown, np.nan, np.maximum(total - secured, 0.0)),
            "forest_loss_coverage": status,
        }
    )
    yearly = result.table
    whole = yearly[~yearly["zone_id"].str.contains(":")].rename(
        columns={"zone_id": "territory_id", "loss_ha": "forest_loss_ha"}
    )
    on_secured = yearly[yearly["zone_id"].str.startswith("secured:")].assign(
        territory_id=lambda f: f["zone_id"].str[len("secured:") :]
    )
    years = whole.merge(
        on_secured[["territory_id", "year", "loss_ha"]], on=["territory_id", "year"], how="left"
    )
    years["forest_loss_untitled_ha"] = np.maximum(
        years["forest_loss_ha"] - years["loss_ha"].fillna(0.0), 0.0
    )
    return columns, years[["territory_id", "year", "forest_loss_ha", "forest_loss_untitled_ha"]]


def describe_config(config: Any) -> dict[str, Any]:
    """Return a dataclass configuration as plain JSON-ready values (for provenance).

    Parameters
    ----------
    config : dataclass instance
        A configuration dataclass such as :class:`~geotools.analysis.risk.RiskConfig`.

    Returns
    -------
    dict of str to Any
        One entry per field: mappings become dicts, tuples become lists, other values are kept.
    """
    out: dict[str, Any] = {}
    for item in dataclasses.fields(config):
        value = getattr(config, item.name)
        out[item.name] = (
            dict(value)
            if isinstance(value, Mapping)
            else (list(value) if isinstance(value, tuple) else value)
        )
    return out


def format_ha(value: float) -> str:
    """Format hectares for a sentence: ``8,600``, ``200``, ``12.5``, ``0.4``.

    Parameters
    ----------
    value : float
        Area in hectares.

    Returns
    -------
    str
        ``"0"`` for zero, no decimals from 100 ha up, one decimal below, thousands separated by
        commas; ``"n/a"`` when ``value`` is NaN or infinite.
    """
    if not np.isfinite(value):
        return "n/a"
    if value == 0:
        return "0"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def describe_territory(row: pd.Series) -> str:
    """Return the plain sentence for one territory.

    Parameters
    ----------
    row : pandas.Series
        One row of the per-territory table: ``territory_id``, ``name`` (the id is used when the
        name is missing or blank), ``claimed_ha``, ``titled_ha``, ``titled_pct``,
        ``concession_ha``, ``concession_pct`` and, optionally, ``incidents_inside``,
        ``incidents_nearby`` and ``incidents_uncertain`` (counts; missing counts are 0).

    Returns
    -------
    str
        Titled and concession hectares with their percentages of the claim, and the incident
        counts (the uncertain count only when it is not 0).

    Examples
    --------
    >>> import pandas as pd
    >>> text = describe_territory(pd.Series({"territory_id": "T1",
    ...     "name": "Santa Clara de Uchunya", "claimed_ha": 8600.0, "titled_ha": 200.0,
    ...     "titled_pct": 2.3256, "concession_ha": 6000.0, "concession_pct": 69.77,
    ...     "incidents_inside": 3, "incidents_nearby": 1}))
    >>> text.split(", ")[0]
    'Santa Clara de Uchunya: 200 of 8,600 ha titled (2.3 %)'
    >>> text.split(", ", 1)[1]
    '6,000 ha under concessions (69.8 %), 3 incidents inside, 1 nearby'
    """
    name = row.get("name")
    label = str(name) if isinstance(name, str) and name.strip() else str(row["territory_id"])
    inside_value = row.get("incidents_inside", 0)
    if pd.isna(inside_value):  # no incident layer was given: unknown, not 0
        incidents = "incidents not analysed"
    else:
        inside = int(inside_value)
        nearby = int(row.get("incidents_nearby", 0))
        uncertain = row.get("incidents_uncertain", 0)
        uncertain = int(uncertain) if pd.notna(uncertain) else 0
        incidents = (
            f"{inside} incident{'s' if inside != 1 else ''} inside, {nearby} nearby"
            + (f", {uncertain} uncertain" if uncertain else "")
        )
    titled = row.get("titled_ha")
    tenure = (
        f"{format_ha(row['claimed_ha'])} ha claimed, tenure unknown"
        if titled is None or pd.isna(titled)
        else f"{format_ha(titled)} of {format_ha(row['claimed_ha'])} ha titled "
        f"({row['titled_pct']:.1f} %)"
    )
    concession_ha = row.get("concession_ha")
    concessions = (
        "concessions not analysed"
        if concession_ha is None or pd.isna(concession_ha)
        else f"{format_ha(concession_ha)} ha under concessions ({row['concession_pct']:.1f} %)"
    )
    return f"{label}: {tenure}, {concessions}, {incidents}"


HA_DECIMALS = 4
"""Decimals of hectares in CSV tables: 0.0001 ha = 1 m² (0.01 ha distorted small overlaps)."""


def round_table(
    table: pd.DataFrame, decimals: int = 2, ha_decimals: int = HA_DECIMALS
) -> pd.DataFrame:
    """Round hectare and percent columns for publication (the Python API keeps full precision).

    Parameters
    ----------
    table : pandas.DataFrame
        A statistics table.
    decimals : int, default 2
        Decimals of percentages, kilometres and the risk score (risk components get one more).
    ha_decimals : int, default HA_DECIMALS
        Decimals of hectare columns (``_ha``): 4 decimals are 1 m², so that a small overlap
        (0.05 ha) is not distorted by the rounding.

    Returns
    -------
    pandas.DataFrame
        A rounded copy; ``table`` is left unchanged.
    """
    out = table.copy()
    for column in out.columns:
        if column.endswith("_ha"):
            out[column] = out[column].astype(float).round(ha_decimals)
        elif column.endswith(("_pct", "_km")) or column.startswith(("pct_", "risk_score")):
            out[column] = out[column].astype(float).round(decimals)
        elif column.startswith("risk_") and pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(decimals + 1)  # components 0-1: three decimals
    return out


def _check_usable(layers: Mapping[str, Layer]) -> None:
    """Refuse, naming the file, layers no analysis can use: tables of nothing, exit 0, otherwise.

    Every territory rejected by validation would give empty tables; an infrastructure layer
    without a ``kind`` column would fail deep in the analysis with no file named.
    """
    territories = layers["territories"]
    if len(territories.frame) == 0:
        reasons = Counter(
            p.problem for p in territories.ledger.problems if p.action == REJECTED
        ).most_common(1)
        why = f"; most often: {reasons[0][0]}" if reasons else ""
        raise ValidationError(
            f"{territories.path}: no territory left to analyse ({territories.ledger.read} read, "
            f"all rejected{why}); check it with `geotools validate --as territories "
            f"{territories.path}` and fix the file"
        )
    lines = layers.get("infrastructure")
    if lines is not None and len(lines.frame) and "kind" not in lines.frame.columns:
        raise ValidationError(
            f"{lines.path}: the lines have no 'kind' column; add one with 'pipeline' or 'road' "
            "for every line, or map the column that says it (--map infrastructure.kind=COLUMN)"
        )


def compute_stats(
    layers: Mapping[str, Layer],
    nearby_km: float = DEFAULT_NEARBY_KM,
    forest_loss: str | os.PathLike[str] | None = None,
    risk_config: RiskConfig | None = None,
) -> StatsResult:
    """Run the analyses on layers from :func:`read_inputs` (and a forest-loss raster).

    Only ``territories`` is required; without ``parcels`` tenure is unknown (see
    :func:`compute_territory_stats`).

    Parameters
    ----------
    layers : mapping of str to Layer
        Layers by kind; ``territories`` is required, ``parcels``, ``concessions``,
        ``incidents`` and ``infrastructure`` are used when present.
    nearby_km : float, default 5.0
        Geodesic distance (km) within which incidents and infrastructure count as nearby.
    forest_loss : str or path-like, optional
        Forest-loss GeoTIFF in Hansen ``lossyear`` coding; adds the forest-loss columns.
    risk_config : RiskConfig, optional
        Settings of the risk score; defaults when omitted.

    Returns
    -------
    StatsResult
        The per-territory table and its companions (see :func:`compute_territory_stats`).

    Raises
    ------
    SourceError
        ``territories`` is missing from ``layers``, or ``forest_loss`` is not a file.
    """

    def frame(kind: str) -> gpd.GeoDataFrame | None:
        return layers[kind].frame if kind in layers else None

    if "territories" not in layers:
        raise SourceError("the territories layer is required")
    _check_usable(layers)
    result = compute_territory_stats(
        layers["territories"].frame,
        frame("parcels"),
        frame("concessions"),
        frame("incidents"),
        nearby_km=nearby_km,
        forest_loss=check_raster(forest_loss),
        infrastructure=frame("infrastructure"),
        risk_config=risk_config,
        concession_weight=layers["concessions"].weight if "concessions" in layers else None,
    )
    if "communities" in layers:
        result.communities = relate_community_layer(
            layers["communities"].frame,
            frame("territories"),
            frame("concessions"),
            frame("incidents"),
            nearby_km=nearby_km,
        )
    return result
