"""The privacy gate: :func:`compute_shareable_view`, the one input of every shared output.

Every map, PNG and bundle is built from the :class:`ShareableView` it returns: layers through
their allow-lists, incidents generalised (:mod:`geotools.privacy.generalise`), and every count,
yearly row, risk score and drivers sentence recomputed from the incidents published, at their
published positions (:func:`recount_incidents`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geotools.analysis.incidents import merge_duplicate_incidents, summarise_incidents
from geotools.analysis.infrastructure import compute_infrastructure_exposure
from geotools.analysis.risk import RiskConfig, compute_risk, compute_sensitivity
from geotools.privacy.generalise import GeneralisedIncidents, generalise_incidents
from geotools.privacy.keys import PositionStore
from geotools.privacy.places import region_frame, share_communities, share_regions
from geotools.privacy.rules import (
    _GATE_COLUMNS,
    GENERALISED_COLUMN,
    METHOD_COLUMN,
    PROFILES,
    UNCERTAINTY_COLUMN,
    PrivacyPolicy,
    allow_columns,
    check_public_policy,
    find_privacy_markers,
    parse_flag,
    resolve_sensitivity,
    select_drawable,
    suppress_counts,
)

log = logging.getLogger(__name__)


@dataclass
class ShareableView:
    """What one profile may show: the single input of every map, PNG and bundle.

    Attributes
    ----------
    profile : {"public", "internal"}
    result : geotools.analysis.stats.StatsResult
        Statistics recomputed from the incidents the view publishes (counts, by-year rows, risk
        score, class and drivers); ``options["shareable_view"]`` names the profile.
    layers : dict of str to geopandas.GeoDataFrame
        Every layer restricted to what the profile may hold (public: allow-listed columns; the
        incidents are those it may draw, at their published positions).
    withheld : int
        Non-confidential incidents not drawn (restricted ones not generalised): a map may say
        how many; confidential ones are never counted in it.
    hexagons : geopandas.GeoDataFrame or None
        Suppressed H3 counts of the records published only as aggregates.
    generalised : GeneralisedIncidents or None
        The generalisation of the incidents (public profile), for the leak check.
    sources : dict of str to list of str
        Source names each layer may show (incidents: only sources of published records).
    dropped_columns : dict of str to list of str
        Column names not published, per layer.
    confidential : dict of str to numpy.ndarray
        ``incidents_confidential_inside/nearby`` per territory (table order), suppressed.
    facts : dict
        Counts that may be published (never a total from which a withheld number follows).
    regions : geopandas.GeoDataFrame or None
        Region polygons with their ``region_stats`` columns (public: incident counts
        recounted from what is published and suppressed, :func:`share_regions`).
    """

    profile: str
    result: Any
    layers: dict[str, gpd.GeoDataFrame]
    withheld: int = 0
    hexagons: gpd.GeoDataFrame | None = None
    generalised: GeneralisedIncidents | None = None
    sources: dict[str, list[str]] = field(default_factory=dict)
    dropped_columns: dict[str, list[str]] = field(default_factory=dict)
    confidential: dict[str, np.ndarray] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    regions: gpd.GeoDataFrame | None = None


def _frame_of(layer: Any) -> gpd.GeoDataFrame:
    return layer.frame if hasattr(layer, "frame") else layer


_INCIDENT_TABLE_COLUMNS = frozenset(
    {
        "severity_inside",
        "severity_nearby",
        "killings_inside",
        "killings_nearby",
        "undated_inside",
        "last_incident_date",
        "first_incident_year",
        "days_since_last_incident",
        "spills_inside",
        "spills_nearby",
    }
)
_TIMESERIES_INCIDENT_COLUMNS = {
    "inside": "incidents_inside",
    "nearby": "incidents_nearby",
    "uncertain": "incidents_uncertain",
    "severity_inside": "incident_severity_inside",
}


def _is_incident_column(column: str) -> bool:
    return (
        (column.startswith("incidents_") and not column.startswith("incidents_confidential"))
        or column in _INCIDENT_TABLE_COLUMNS
    )


def _risk_config(options: dict[str, Any]) -> Any:

    given = options.get("risk")
    if not given:
        return RiskConfig()
    names = {f.name for f in dataclasses.fields(RiskConfig)}
    values: dict[str, Any] = {
        k: (tuple(v) if isinstance(v, list) else v) for k, v in given.items() if k in names
    }
    return RiskConfig(**values)


def recount_incidents(
    result: Any,
    territories: gpd.GeoDataFrame,
    counted: gpd.GeoDataFrame,
    infrastructure: gpd.GeoDataFrame | None = None,
) -> Any:
    """Return ``result`` with every incident-derived figure recomputed from ``counted`` only.

    Per-territory counts (inside, nearby, uncertain, by kind, severities, killings, dates,
    spills), the by-year rows and the risk score, class, components and drivers sentences are
    all recomputed, so that no figure of a shared output counts an incident the output does not
    publish. Rows of the yearly table that only withheld incidents filled are removed (a row of
    zeros would show that something happened that year).

    Parameters
    ----------
    result : geotools.analysis.stats.StatsResult
    territories : geopandas.GeoDataFrame
        The territories the statistics were computed on.
    counted : geopandas.GeoDataFrame
        The incidents to count, at the positions they are published at.
    infrastructure : geopandas.GeoDataFrame, optional
        Pipelines and roads (for the spill counts).

    Returns
    -------
    geotools.analysis.stats.StatsResult
    """

    nearby_km = result.nearby_km
    merged, _ = merge_duplicate_incidents(counted) if len(counted) else (counted, None)
    summary = summarise_incidents(territories, merged, nearby_km=nearby_km)
    per = summary.per_territory.set_index(summary.per_territory["territory_id"].astype(str))
    table = result.table.copy()
    ids = table["territory_id"].astype(str)
    for column in [c for c in table.columns if _is_incident_column(c)]:
        if column in per.columns:
            table[column] = ids.map(per[column]).to_numpy()
        elif column not in ("spills_inside", "spills_nearby"):
            table[column] = 0
    if "spills_inside" in table.columns and infrastructure is not None and len(infrastructure):
        spills = merged
        if "kind" in merged.columns:
            spills = merged[merged["kind"].astype(str) == "spill"]
        exposure = compute_infrastructure_exposure(
            territories, infrastructure, spills, distance_km=nearby_km
        ).set_index("territory_id")
        for column in ("spills_inside", "spills_nearby"):
            if column in exposure.columns:
                table[column] = ids.map(exposure[column]).to_numpy()

    timeseries = result.timeseries
    keep = [c for c in timeseries.columns if c not in _TIMESERIES_INCIDENT_COLUMNS.values()]
    measures = [c for c in keep if c not in ("territory_id", "year")]
    base = timeseries[keep]
    base = base.loc[base[measures].notna().any(axis=1)] if measures else base.iloc[0:0]
    by_year = summary.by_year.rename(columns=_TIMESERIES_INCIDENT_COLUMNS)
    by_year["territory_id"] = by_year["territory_id"].astype(str)
    base = base.assign(territory_id=base["territory_id"].astype(str))
    timeseries = base.merge(by_year, on=["territory_id", "year"], how="outer")
    for column in _TIMESERIES_INCIDENT_COLUMNS.values():
        if column in timeseries.columns:
            timeseries[column] = timeseries[column].fillna(0).astype("int64")
    timeseries = timeseries.sort_values(["territory_id", "year"], kind="stable").reset_index(
        drop=True
    )

    config = _risk_config(result.options)
    if "risk_score" in table.columns:
        risk_columns = [c for c in table.columns if c.startswith("risk_")]
        pairs = summary.pairs if len(counted) else None
        risk = compute_risk(table.drop(columns=risk_columns), pairs, timeseries, config)
        for column in risk.columns:
            if column != "territory_id":
                table[column] = risk[column].to_numpy()
        sensitivity = compute_sensitivity(
            table.drop(columns=risk_columns), pairs, timeseries, config
        )
    else:
        sensitivity = result.sensitivity
    joined = result.territories.copy()
    lookup = table.set_index(ids)
    jids = joined["territory_id"].astype(str)
    for column in table.columns:
        if column in joined.columns and column not in ("territory_id", "name", "people"):
            joined[column] = jids.map(lookup[column]).to_numpy()
    facts = dict(result.incident_facts)
    facts.pop("merged", None)
    facts.pop("read", None)
    facts.pop("after_merging_duplicates", None)
    return dataclasses.replace(
        result,
        table=table,
        territories=joined,
        timeseries=timeseries,
        sensitivity=sensitivity,
        incident_facts=facts,
    )


def _source_names(frame: pd.DataFrame, kind: str) -> list[str]:
    column = "claim_source" if kind == "territories" and "claim_source" in frame else "source"
    if column not in frame.columns:
        return []
    values = frame[column].dropna().astype(str).str.strip()
    counts = values[values != ""].value_counts()
    return [str(v) for v in counts.index]


def compute_shareable_view(
    result: Any,
    layers: Mapping[str, Any],
    *,
    profile: str = "public",
    policy: PrivacyPolicy | None = None,
    key: bytes | None = None,
    districts: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    decimals: int = 6,
    redistributable: bool = True,
    keep_columns: Sequence[str] = (),
    store: PositionStore | None = None,
    regions: gpd.GeoDataFrame | None = None,
) -> ShareableView:
    """Turn analysis results and layers into what ``profile`` may show (the privacy gate).

    Every shared output (interactive map, static PNGs, download bundle) is built from the view
    this function returns, so that they all agree.

    ``public``:

    - incidents: sensitivity resolved from every privacy marker (:func:`resolve_sensitivity`);
      public records as given; restricted ones displaced with ``key`` (or, with
      ``policy.restricted == "aggregate"``, only counted per H3 hexagon); restricted records a
      publisher already generalised (``location_generalised`` strictly true) as given;
      confidential records never published and counted only in suppressed per-territory totals;
    - every count, by-year row, risk score, class and drivers sentence is recomputed from the
      records published, at their published positions (:func:`recount_incidents`): a displaced
      incident is "nearby" a territory only if its published point is. Records of layers that
      may not be redistributed (``redistributable=False``) are counted at their place when
      public and published only as hexagon counts;
    - every layer is restricted to an allow-list of columns (:data:`PUBLIC_LAYER_COLUMNS` plus
      ``keep_columns``), personal-looking columns never;
    - the policy must respect the floors (:func:`check_public_policy`).

    ``internal``: everything as given; the map may draw all but confidential incidents.

    Parameters
    ----------
    result : geotools.analysis.stats.StatsResult
        Statistics of every incident (as computed by :func:`geotools.analysis.stats.compute_stats`).
    layers : mapping of str to Layer or GeoDataFrame
        Inputs by kind.
    profile : {"public", "internal"}, default "public"
    policy : PrivacyPolicy, optional
        Public-profile parameters (default :class:`PrivacyPolicy`).
    key : bytes, optional
        Displacement key (:func:`derive_key`); without it, restricted records must be
        aggregated (``policy.restricted == "aggregate"``) or :class:`PrivacyError` is raised.
    districts, water : geopandas.GeoDataFrame, optional
        Displacement constraints.
    decimals : int, default 6
        Published coordinate decimals.
    redistributable : bool, default True
        False when the incidents' licence forbids passing records on.
    keep_columns : sequence of str
        Extra columns the public profile may keep in any non-incident layer (never personal).
    store : PositionStore, optional
        Kept published positions: a record published before keeps its point in this view
        whatever the options (see :func:`generalise_incidents`).
    regions : geopandas.GeoDataFrame, optional
        The region polygons ``result.regions`` was computed from: the view's
        :attr:`ShareableView.regions` (public: incident counts from what is published, small
        counts suppressed). Community points, a layer like the others, are public places:
        published where they are, their incident counts recounted (:func:`share_communities`).

    Returns
    -------
    ShareableView

    Raises
    ------
    PrivacyError
        Policy below the floors, a privacy marker that cannot be read, or no key to displace.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}.")
    frames = {kind: _frame_of(layer) for kind, layer in layers.items()}
    incidents = frames.get("incidents")
    if profile == "internal":
        withheld = 0
        if incidents is not None:
            _, withheld = select_drawable(incidents, "internal")
            log.info(
                "privacy gate (internal): %d incident(s) drawn, %d confidential not drawn",
                len(incidents) - withheld,
                withheld,
            )
        options = {**result.options, "shareable_view": "internal"}
        return ShareableView(
            "internal",
            dataclasses.replace(result, options=options),
            dict(frames),
            withheld=withheld,
            sources={kind: _source_names(f, kind) for kind, f in frames.items()},
            regions=None if regions is None or result.regions is None
            else region_frame(regions, result.regions),
        )
    policy = policy or PrivacyPolicy()
    check_public_policy(policy)
    territories = frames["territories"]
    view_layers: dict[str, gpd.GeoDataFrame] = {}
    dropped: dict[str, list[str]] = {}
    stats_columns = [*result.table.columns, "incidents_confidential_inside",
                     "incidents_confidential_nearby"]
    for kind, frame in frames.items():
        if kind == "incidents":
            continue
        extra = [*keep_columns, *(stats_columns if kind == "territories" else ())]
        view_layers[kind], dropped[kind] = allow_columns(frame, kind, extra)

    generalised = None
    hexagons = None
    withheld = 0
    facts: dict[str, Any] = {}
    counted = gpd.GeoDataFrame(
        {"incident_id": pd.Series(dtype=str)}, geometry=gpd.GeoSeries([], crs=4326)
    )
    confidential_rows = None
    if incidents is not None:
        frame = incidents.to_crs(4326).reset_index(drop=True)
        klass = resolve_sensitivity(frame)
        frame = frame.assign(sensitivity=klass)
        given = np.zeros(len(frame), dtype=bool)
        if GENERALISED_COLUMN in frame.columns:
            given = parse_flag(frame[GENERALISED_COLUMN]) & (klass == "restricted")
        # Markers are read into ``sensitivity`` above; their values are vocabulary, not secrets.
        markers = find_privacy_markers([c for c in frame.columns if c != "geometry"])
        rest = frame.loc[~given].drop(
            columns=[c for c in (*_GATE_COLUMNS, *markers) if c in frame.columns]
        )
        generalised = generalise_incidents(
            rest, policy, key, territories=territories, districts=districts, water=water,
            decimals=decimals, redistributable=redistributable, store=store,
        )
        pre = frame.loc[given]
        pre_published, _ = allow_columns(pre, "incidents")
        pre_published = pre_published.assign(**{GENERALISED_COLUMN: True})
        if UNCERTAINTY_COLUMN not in pre_published.columns:
            pre_published[UNCERTAINTY_COLUMN] = np.nan
        if METHOD_COLUMN not in pre_published.columns:
            pre_published[METHOD_COLUMN] = "generalised by the publisher"
        if "description" in pre_published.columns:
            pre_published["description"] = None
        published = gpd.GeoDataFrame(
            pd.concat([generalised.published, pre_published], ignore_index=True),
            geometry="geometry",
            crs=4326,
        )
        published, dropped["incidents"] = allow_columns(published, "incidents")
        dropped["incidents"] = sorted(
            set(generalised.facts.get("dropped_columns", []))
            | set(dropped["incidents"])
            | set(markers)
        )
        view_layers["incidents"] = published
        # Counted: what is published, where it is published; public records of a layer that
        # may not be redistributed are counted at their place (their place is not secret).
        extra = rest.loc[(rest["sensitivity"] == "public").to_numpy()] if not redistributable \
            else rest.iloc[0:0]
        counted = gpd.GeoDataFrame(
            pd.concat([published, allow_columns(extra, "incidents")[0]], ignore_index=True),
            geometry="geometry",
            crs=4326,
        )
        hexagons = generalised.hexagons
        withheld = int(((klass == "restricted") & ~given).sum()) - int(
            generalised.facts.get("displaced", 0)
        )
        withheld = max(withheld, 0)
        confidential_rows = generalised.confidential
        gfacts = generalised.facts
        facts = {
            "public": int((klass == "public").sum()),
            "restricted": int((klass == "restricted").sum()),
            "generalised_by_publisher": int(given.sum()),
            "displaced": gfacts.get("displaced", 0),
            "not_displaceable": gfacts.get("not_displaceable", 0),
            "aggregated": gfacts.get("aggregated", 0),
            "published_points": len(published),
            "confidential": gfacts.get("confidential"),
            "displacement_range_km": gfacts.get("displacement_range_km"),
            "positions_kept": gfacts.get("positions_kept", 0),
            "withheld_published_before": gfacts.get("withheld_published_before", 0),
            "position_store": gfacts.get("position_store", False),
            "dropped_columns": dropped["incidents"],
            "redistributable": redistributable,
        }
    shared = recount_incidents(result, territories, counted, frames.get("infrastructure"))
    confidential = _confidential_counts(
        shared, territories, confidential_rows, policy.min_count
    )
    table = shared.table.copy()
    joined = shared.territories
    for name, values in confidential.items():
        table[name] = values
    joined, dropped_t = allow_columns(joined, "territories", [*keep_columns, *table.columns])
    joined = joined.copy()
    table_ids = table["territory_id"].astype(str).to_numpy()
    for name, values in confidential.items():
        lookup = dict(zip(table_ids, values, strict=True))
        joined[name] = (
            joined["territory_id"].astype(str).map(lookup).fillna(f"<{policy.min_count}")
        ).to_numpy(dtype=object)
    table, dropped_table = allow_columns(table, "territories", [*keep_columns, *table.columns])
    dropped["territories"] = sorted(
        set(dropped.get("territories", [])) | set(dropped_table) | set(dropped_t)
    )
    options = {**shared.options, "shareable_view": "public"}
    shared = dataclasses.replace(
        shared,
        table=table,
        territories=joined,
        options=options,
        communities=share_communities(
            result.communities, frames.get("communities"), counted, result.nearby_km
        ),
        regions=None if regions is None or result.regions is None
        else share_regions(result.regions, regions, counted, policy.min_count),
    )
    sources = {kind: _source_names(f, kind) for kind, f in view_layers.items()}
    if "incidents" in view_layers:
        sources["incidents"] = _source_names(counted, "incidents")
    facts["dropped_columns_by_layer"] = {k: v for k, v in dropped.items() if v}
    log.info(
        "privacy gate (public): %d incident(s) drawn, %d not drawn; columns not published: %s",
        len(view_layers.get("incidents", ())),
        withheld,
        "; ".join(f"{k}: {', '.join(v)}" for k, v in dropped.items() if v) or "none",
    )
    return ShareableView(
        "public",
        shared,
        view_layers,
        withheld=withheld,
        hexagons=hexagons,
        generalised=generalised,
        sources=sources,
        dropped_columns={k: v for k, v in dropped.items() if v},
        confidential=confidential,
        facts=facts,
        regions=None if shared.regions is None or regions is None
        else region_frame(regions, shared.regions),
    )


def _confidential_counts(
    result: Any,
    territories: gpd.GeoDataFrame,
    confidential: gpd.GeoDataFrame | None,
    minimum: int,
) -> dict[str, np.ndarray]:
    """Suppressed per-territory counts of confidential incidents (table order)."""

    n = len(result.table)
    names = ("incidents_confidential_inside", "incidents_confidential_nearby")
    if confidential is None or not len(confidential):
        return {name: suppress_counts(np.zeros(n), minimum).to_numpy() for name in names}
    summary = summarise_incidents(
        territories, confidential, nearby_km=result.nearby_km
    ).per_territory
    per = summary.set_index(summary["territory_id"].astype(str))
    ids = result.table["territory_id"].astype(str)
    return {
        name: suppress_counts(
            ids.map(per[name.replace("_confidential", "")]).fillna(0).to_numpy(), minimum
        ).to_numpy()
        for name in names
    }
