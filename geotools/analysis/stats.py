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

from geotools.analysis.incidents import merge_duplicate_incidents, summarise_incidents
from geotools.analysis.overlaps import (
    CONCESSION_KINDS,
    CONCESSION_STATUSES,
    OVERLAP_COLUMNS,
    build_overlap_table,
    concession_bits,
    summarise_concessions,
)
from geotools.analysis.risk import RiskConfig, compute_risk, compute_sensitivity
from geotools.analysis.tenure import (
    TENURE_CLASSES,
    clip_to_territories,
    project,
    summarise_tenure,
    tenure_bits,
)
from geotools.area import M2_PER_HA, area_crs_for, check_area_method
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


def compute_territory_stats(
    territories: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    concessions: gpd.GeoDataFrame | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    nearby_km: float = DEFAULT_NEARBY_KM,
    area_crs: CRS | None = None,
    forest_loss: str | os.PathLike[str] | None = None,
    infrastructure: gpd.GeoDataFrame | None = None,
    risk_config: RiskConfig | None = None,
) -> StatsResult:
    """Compute the per-territory table of DESIGN §6.

    Parameters
    ----------
    territories : geopandas.GeoDataFrame
        Canonical, validated territories (``territory_id``, ``name``...).
    parcels : geopandas.GeoDataFrame
        Canonical, validated parcels (``parcel_id``, ``tenure``).
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

    p_geoms = project(parcels, crs)
    values = parcels["tenure"].astype(str).to_numpy()
    p_clipped = clip_to_territories(t_geoms, p_geoms, tenure_bits(values))
    tenure = values[p_clipped.feature]
    tenure_table = summarise_tenure(claimed, p_clipped, tenure)
    outside = {"parcels": _outside(parcels, p_geoms, p_clipped.feature, "parcel")}

    titled = p_clipped.union_pieces(np.isin(tenure, TENURE_CLASSES["titled"]))
    secured = p_clipped.union_pieces(np.isin(tenure, TENURE_CLASSES["secured"]))

    if concessions is not None and len(concessions):
        c_geoms = project(concessions, crs)
        status = concessions["status"].astype(str).to_numpy()
        c_clipped = clip_to_territories(t_geoms, c_geoms, concession_bits(status))
        conc_table = summarise_concessions(claimed, concessions, c_clipped, secured)
        overlaps = build_overlap_table(
            territories, claimed, concessions, shapely.area(c_geoms), c_clipped, titled, secured
        )
        outside["concessions"] = _outside(concessions, c_geoms, c_clipped.feature, "concession")
    else:
        columns = [
            "concession_ha",
            "concession_pct",
            "concession_untitled_ha",
            *[f"concession_{k}_ha" for k in (*CONCESSION_KINDS, *CONCESSION_STATUSES)],
        ]
        conc_table = pd.DataFrame(0.0, index=range(n), columns=columns)
        overlaps = pd.DataFrame(columns=OVERLAP_COLUMNS)

    table = pd.DataFrame({"territory_id": territories["territory_id"].astype(str).to_numpy()})
    for column in ("name", "people"):
        values = territories[column] if column in territories.columns else None
        table[column] = values.to_numpy(dtype=object) if values is not None else None
    table = pd.concat([table, tenure_table, conc_table], axis=1)
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
    else:
        table["incidents_inside"] = np.zeros(n, dtype=np.int64)
        table["incidents_nearby"] = np.zeros(n, dtype=np.int64)
    kinds = [
        c
        for c in table.columns
        if c.startswith("concession_") and c.endswith("_ha") and c not in BASE_COLUMNS
    ]
    rest = [c for c in table.columns if c not in (*BASE_COLUMNS, *kinds, *INCIDENT_COLUMNS)]
    table = table[[*BASE_COLUMNS, *kinds, *INCIDENT_COLUMNS, *rest]]
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
        },
        incident_facts=incident_facts,
        timeseries=timeseries,
        untitled=untitled_geometry(table["territory_id"].to_numpy(), t_geoms, secured, crs),
        sensitivity=sensitivity,
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
    """Return a dataclass configuration as plain JSON-ready values (for provenance)."""
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
    """Format hectares for a sentence: ``8,600``, ``200``, ``12.5``, ``0.4``."""
    if not np.isfinite(value):
        return "n/a"
    if value == 0:
        return "0"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def describe_territory(row: pd.Series) -> str:
    """Return the plain sentence for one territory.

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
    inside = int(row.get("incidents_inside", 0))
    nearby = int(row.get("incidents_nearby", 0))
    uncertain = row.get("incidents_uncertain", 0)
    uncertain = int(uncertain) if pd.notna(uncertain) else 0
    return (
        f"{label}: {format_ha(row['titled_ha'])} of {format_ha(row['claimed_ha'])} ha titled "
        f"({row['titled_pct']:.1f} %), {format_ha(row['concession_ha'])} ha under concessions "
        f"({row['concession_pct']:.1f} %), {inside} incident{'s' if inside != 1 else ''} inside, "
        f"{nearby} nearby" + (f", {uncertain} uncertain" if uncertain else "")
    )


def round_table(table: pd.DataFrame, decimals: int = 2) -> pd.DataFrame:
    """Round hectare and percent columns for publication (the Python API keeps full precision)."""
    out = table.copy()
    for column in out.columns:
        if column.endswith(("_ha", "_pct", "_km")) or column.startswith(("pct_", "risk_score")):
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
    """Run the analyses on layers from :func:`read_inputs` (and a forest-loss raster)."""

    def frame(kind: str) -> gpd.GeoDataFrame | None:
        return layers[kind].frame if kind in layers else None

    for required in ("territories", "parcels"):
        if required not in layers:
            raise SourceError(f"the {required} layer is required")
    _check_usable(layers)
    return compute_territory_stats(
        layers["territories"].frame,
        layers["parcels"].frame,
        frame("concessions"),
        frame("incidents"),
        nearby_km=nearby_km,
        forest_loss=check_raster(forest_loss),
        infrastructure=frame("infrastructure"),
        risk_config=risk_config,
    )
