"""Risk score of each territory: tenure, concessions, violence, deforestation, infrastructure.

Each of five components is scaled to 0-1 from the per-territory table (``territory_stats``),
optionally refined by the per-incident relation table ``pairs`` (so violence decays with age)
and the per-year ``timeseries`` (so deforestation is *recent* loss):

``tenure``
    untitled share of the claimed area, ``untitled_ha / claimed_ha`` (or ``untitled_pct / 100``).
``concessions``
    ``min(sum_kind kind_weight[kind] * concession_<kind>_ha, concession_ha) / claimed_ha`` times
    the status factor ``(active + in_process_weight * in_process) / (active + in_process)``,
    clipped to [0, 1]. The cap at ``concession_ha`` (the union) stops kinds that overlap each
    other from counting the same hectares twice. More active area never lowers it.
``violence``
    ``1 - exp(-s / violence_scale)`` of a weighted severity sum ``s``. With ``pairs``: each
    incident contributes ``severity * 0.5 ** (age / half_life_years) * relation weight``
    (inside 1, nearby ``nearby_weight``, uncertain ``uncertain_weight``); the age is counted to
    ``reference_date`` (default: the latest incident date in ``pairs``); undated incidents and
    incidents after the reference date do not decay (age 0: the conservative choice). Without
    ``pairs``: ``severity_inside + nearby_weight * severity_nearby`` from the table, with no decay
    (the table has no dates per incident), plus ``uncertain_weight * 3`` per uncertain incident
    (the table has no severity for them; 3 is the middle of the 1-5 scale).
``deforestation``
    forest lost in the last ``recent_years`` years of ``timeseries`` (or, without it, all of
    ``forest_loss_ha``) as a share of the claimed area, divided by ``deforestation_full_share``,
    clipped to 1.
``infrastructure``
    ``1 - exp(-km / infrastructure_km_scale)`` of ``pipeline_km_inside + nearby_weight *
    pipeline_km_nearby + spill_km * (spills_inside + nearby_weight * spills_nearby)``.

Missing inputs
--------------
A component whose input is missing (column absent; NaN such as forest loss outside the raster;
``forest_loss_coverage == 'outside'``; no claimed area) is NOT scored as zero: it is NA, listed in
``risk_missing``, and contributes nothing to the numerator while its weight stays in the
denominator::

    risk_score = 100 * sum_available(w_i * c_i) / sum_all(w_i)

so a missing component never raises the score (renormalising over the available components
would raise it whenever the missing component would have been low). The score and its class are
therefore a LOWER BOUND when inputs are missing; ``risk_score_max`` is the score if every missing
component were 1, so users see the range.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from geotools.schema import DEFAULT_HALF_LIFE_YEARS

log = logging.getLogger(__name__)

__all__ = ["COMPONENTS", "RISK_CLASSES", "RiskConfig", "compute_risk", "compute_sensitivity"]

#: Components of the score, in output order.
COMPONENTS: tuple[str, ...] = (
    "tenure",
    "concessions",
    "violence",
    "deforestation",
    "infrastructure",
)
#: Risk classes, from the lowest.
RISK_CLASSES: tuple[str, ...] = ("low", "medium", "high", "critical")
#: Concession kinds with a ``concession_<kind>_ha`` column.
CONCESSION_KINDS: tuple[str, ...] = ("mining", "oil_gas", "agribusiness", "forestry", "other")
#: Severity assumed for uncertain incidents counted from the table (no severity there), and for
#: incidents in ``pairs`` with no severity: the middle of the 1-5 scale.
DEFAULT_SEVERITY = 3.0
_DAYS_PER_YEAR = 365.25
_ROUND = 6  # decimals of risk_score: keeps 100 * 0.3 / 1.0 at exactly 30 (class boundaries)

_DEFAULT_WEIGHTS: dict[str, float] = {
    "tenure": 0.30,
    "concessions": 0.25,
    "violence": 0.30,
    "deforestation": 0.10,
    "infrastructure": 0.05,
}
_DEFAULT_KIND_WEIGHTS: dict[str, float] = {
    "mining": 1.0,
    "oil_gas": 1.0,
    "agribusiness": 1.0,
    "forestry": 0.7,
    "other": 0.5,
}
_KIND_LABELS: dict[str, str] = {
    "mining": "mining",
    "oil_gas": "oil and gas",
    "agribusiness": "agribusiness",
    "forestry": "forestry",
    "other": "other",
}


def _frozen(mapping: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType({str(k): float(v) for k, v in mapping.items()})


@dataclass(frozen=True)
class RiskConfig:
    """Parameters of :func:`compute_risk`; every default with its reason.

    Parameters
    ----------
    weights : Mapping[str, float]
        Weight of each component (keys from :data:`COMPONENTS`; an absent key weighs 0).
        Defaults: tenure 0.30 and violence 0.30 (a judgement, not an estimate: insecure tenure
        and violence against defenders are what this tool exists to document), concessions
        0.25 (the legal vehicle of most pressure), deforestation 0.10 (often the *consequence* of
        a concession already counted), infrastructure 0.05 (pipelines and spills matter in a
        minority of territories). They sum to 1, so a territory 100 % untitled and nothing else
        scores 30 (medium).
    kind_weights : Mapping[str, float]
        Concession kind -> 0..1. Mining, oil and gas and agribusiness 1 (they remove the forest
        or the people from the land); forestry 0.7 (selective logging leaves the land usable);
        other 0.5 (roads, hydro, unclassified: often linear or small).
    in_process_weight : float
        An in-process concession presses half as much as an active one (0.5): it is not yet a
        right, but the application already drives invasions and speculation.
    half_life_years : float
        Violence decays with age, halving every 10 years. The issue proposed 5; with 5 an arson
        nine years old would weigh under a third, while land conflicts in Peru often run for
        decades and threats recur, so a decade is the better half-life (a judgement; override
        it in the project file or with care).
    nearby_weight : float
        Incidents, pipelines and spills outside the territory but within ``--nearby-km`` count
        half (0.5): they threaten the community without happening on its land.
    uncertain_weight : float
        Incidents whose uncertainty radius straddles the boundary count half (0.5): they may be
        inside, so half is the expected value of an even chance.
    violence_scale : float
        Saturation ``1 - exp(-s / scale)`` of the decayed severity sum ``s``: 5 (the issue
        proposed 10), so one recent killing (severity 5) scores 0.63 and one recent threat
        (severity 2) 0.33. With 10 a killing scored 0.39, too little for the event that most
        clearly marks a territory in danger.
    recent_years : int
        Deforestation counts loss in the last 10 years of the data (the issue proposed 5):
        oil palm and cattle clear in pulses and then occupy the land, so a clearing finished
        eight years ago is still the pressure the community lives with.
    deforestation_full_share : float
        Recent loss of 20 % of the claimed area scores 1: beyond that the territory has lost a
        large part of the forest it lives from.
    infrastructure_km_scale : float
        Saturation of the pipeline-km equivalent: 10 km scores 0.63.
    spill_km : float
        One spill counts as 5 km of pipeline: it is realised, not potential, harm.
    thresholds : tuple[float, float, float]
        Class limits on the 0-100 score: low < 25 <= medium < 50 <= high < 75 <= critical
        (quartiles of the scale).
    """

    weights: Mapping[str, float] = field(default_factory=lambda: _frozen(_DEFAULT_WEIGHTS))
    kind_weights: Mapping[str, float] = field(
        default_factory=lambda: _frozen(_DEFAULT_KIND_WEIGHTS)
    )
    in_process_weight: float = 0.5
    half_life_years: float = DEFAULT_HALF_LIFE_YEARS
    nearby_weight: float = 0.5
    uncertain_weight: float = 0.5
    violence_scale: float = 5.0
    recent_years: int = 10
    deforestation_full_share: float = 0.2
    infrastructure_km_scale: float = 10.0
    spill_km: float = 5.0
    thresholds: tuple[float, float, float] = (25.0, 50.0, 75.0)

    def __post_init__(self) -> None:
        """Validate and freeze the mappings; raise ValueError on a bad value."""
        bad = sorted(set(self.weights) - set(COMPONENTS))
        if bad:
            raise ValueError(f"unknown risk weight(s) {bad}; known: {list(COMPONENTS)}")
        bad = sorted(set(self.kind_weights) - set(CONCESSION_KINDS))
        if bad:
            raise ValueError(f"unknown concession kind(s) {bad}; known: {list(CONCESSION_KINDS)}")
        object.__setattr__(self, "weights", _frozen(self.weights))
        object.__setattr__(self, "kind_weights", _frozen(self.kind_weights))
        values = [*self.weights.values(), *self.kind_weights.values()]
        if any(not math.isfinite(v) or v < 0 for v in values):
            raise ValueError("weights must be finite and >= 0")
        if sum(self.weights.values()) <= 0:
            raise ValueError("at least one risk weight must be > 0")
        if any(v > 1 for v in self.kind_weights.values()):
            raise ValueError("kind_weights must lie in [0, 1]")
        for name in ("in_process_weight", "nearby_weight", "uncertain_weight"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must lie in [0, 1]")
        for name in (
            "half_life_years",
            "violence_scale",
            "deforestation_full_share",
            "infrastructure_km_scale",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be > 0")
        if self.spill_km < 0:
            raise ValueError("spill_km must be >= 0")
        if int(self.recent_years) != self.recent_years or self.recent_years < 1:
            raise ValueError("recent_years must be a whole number >= 1")
        t = tuple(float(x) for x in self.thresholds)
        if len(t) != 3 or not (0 <= t[0] <= t[1] <= t[2] <= 100):
            raise ValueError("thresholds must be three increasing numbers in [0, 100]")
        object.__setattr__(self, "thresholds", t)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> RiskConfig:
        """Build a config from a project-file or CLI dict.

        ``weights`` and ``kind_weights`` given partially update the defaults (so
        ``{"weights": {"violence": 0.5}}`` changes only the violence weight).

        Parameters
        ----------
        mapping : Mapping[str, Any]
            Keys are field names of :class:`RiskConfig`.

        Returns
        -------
        RiskConfig

        Raises
        ------
        ValueError
            On an unknown key or an invalid value.

        Examples
        --------
        >>> RiskConfig.from_mapping({"weights": {"violence": 0.5}}).weights["violence"]
        0.5
        >>> RiskConfig.from_mapping({"colour": "red"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: unknown risk option(s) ['colour']; known: ['weights', ...]
        """
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(mapping) - set(known))
        if unknown:
            raise ValueError(f"unknown risk option(s) {unknown}; known: {known}")
        kwargs: dict[str, Any] = dict(mapping)
        if "weights" in kwargs:
            kwargs["weights"] = {**_DEFAULT_WEIGHTS, **dict(kwargs["weights"])}
        if "kind_weights" in kwargs:
            kwargs["kind_weights"] = {**_DEFAULT_KIND_WEIGHTS, **dict(kwargs["kind_weights"])}
        if "thresholds" in kwargs:
            kwargs["thresholds"] = tuple(kwargs["thresholds"])
        return cls(**kwargs)


# --------------------------------------------------------------------------------------------
# Components
# --------------------------------------------------------------------------------------------


def _num(table: pd.DataFrame, col: str) -> np.ndarray | None:
    """Column ``col`` as float64 (NaN for unreadable), or None when absent."""
    if col not in table.columns:
        return None
    return pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _claimed(table: pd.DataFrame) -> np.ndarray:
    claimed = _num(table, "claimed_ha")
    if claimed is None:
        return np.full(len(table), np.nan)
    return np.where(claimed > 0, claimed, np.nan)


def _tenure(table: pd.DataFrame, claimed: np.ndarray) -> np.ndarray:
    untitled = _num(table, "untitled_ha")
    share = untitled / claimed if untitled is not None else np.full(len(table), np.nan)
    pct = _num(table, "untitled_pct")
    if pct is not None:
        share = np.where(np.isnan(share), pct / 100.0, share)
    return np.clip(share, 0.0, 1.0)


def _concessions(
    table: pd.DataFrame, claimed: np.ndarray, config: RiskConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Concession component and the index of the dominant kind (-1 when none)."""
    n = len(table)
    weighted = np.zeros((n, len(CONCESSION_KINDS)))
    present = False
    known = np.zeros(n, dtype=bool)  # a row with no concession figure at all is unknown
    for j, kind in enumerate(CONCESSION_KINDS):  # loop over the 5 kinds, not over territories
        ha = _num(table, f"concession_{kind}_ha")
        if ha is not None:
            present = True
            known |= ~np.isnan(ha)
            weighted[:, j] = np.nan_to_num(ha) * config.kind_weights.get(kind, 0.0)
    union = _num(table, "concession_ha")
    if union is not None:
        known |= ~np.isnan(union)
    if present:
        pressed = weighted.sum(axis=1)
        if union is not None:
            pressed = np.where(np.isnan(union), pressed, np.minimum(pressed, union))
    elif union is not None:
        # No breakdown by kind: the lowest kind weight, so the score stays a lower bound.
        pressed = union * min(config.kind_weights.values(), default=0.0)
    else:
        return np.full(n, np.nan), np.full(n, -1)
    active, in_process = (
        _num(table, "concession_active_ha"),
        _num(table, "concession_in_process_ha"),
    )
    if active is None and in_process is None:
        factor = np.ones(n)
    else:
        a = np.zeros(n) if active is None else np.nan_to_num(active)
        p = np.zeros(n) if in_process is None else np.nan_to_num(in_process)
        total = a + p
        with np.errstate(invalid="ignore", divide="ignore"):
            factor = np.where(total > 0, (a + config.in_process_weight * p) / total, 1.0)
    dominant = np.where(weighted.max(axis=1) > 0, weighted.argmax(axis=1), -1)
    component = np.clip(pressed / claimed * factor, 0.0, 1.0)
    return np.where(known, component, np.nan), dominant


def _violence_from_pairs(
    table: pd.DataFrame,
    pairs: pd.DataFrame,
    config: RiskConfig,
    reference_date: str | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decayed severity sum, incident count and first year (NaN when undated) per territory."""
    missing = {"territory_id", "relation"} - set(pairs.columns)
    if missing:
        raise ValueError(f"pairs lacks column(s) {sorted(missing)}")
    relation_weight = {
        "inside": 1.0,
        "nearby": config.nearby_weight,
        "uncertain": config.uncertain_weight,
    }
    rel = pairs["relation"].astype("string").str.lower().map(relation_weight).astype(np.float64)
    unknown = rel.isna()
    if unknown.any():
        log.warning("risk: %d pairs with an unknown relation ignored", int(unknown.sum()))
    sev = (
        pd.to_numeric(pairs["severity"], errors="coerce").astype(np.float64)
        if "severity" in pairs.columns
        else pd.Series(np.nan, index=pairs.index)
    )
    sev = sev.fillna(DEFAULT_SEVERITY).clip(lower=0.0)
    dates = (
        pd.to_datetime(pairs["date"], format="ISO8601", errors="coerce")
        if "date" in pairs.columns
        else pd.Series(pd.NaT, index=pairs.index, dtype="datetime64[ns]")
    )
    ref: pd.Timestamp | None = None
    if reference_date is not None:
        ref = pd.Timestamp(reference_date)
    elif dates.notna().any():
        ref = pd.Timestamp(dates.max())
    if ref is None or pd.isna(ref):
        age = pd.Series(0.0, index=pairs.index)
    else:
        age = ((ref - dates).dt.days / _DAYS_PER_YEAR).fillna(0.0).clip(lower=0.0)
    contrib = sev * np.power(0.5, age / config.half_life_years) * rel.fillna(0.0)
    frame = pd.DataFrame(
        {
            "territory_id": pairs["territory_id"].to_numpy(),
            "s": contrib.to_numpy(dtype=np.float64),
            "n": (~unknown).to_numpy().astype(np.int64),
            "year": dates.dt.year.to_numpy(dtype=np.float64, na_value=np.nan),
        }
    )
    agg = frame.groupby("territory_id", sort=False).agg(
        s=("s", "sum"), n=("n", "sum"), year=("year", "min")
    )
    agg = agg.reindex(pd.Index(table["territory_id"]))
    s = agg["s"].fillna(0.0).to_numpy(dtype=np.float64)
    n = agg["n"].fillna(0).to_numpy(dtype=np.float64)
    year = agg["year"].to_numpy(dtype=np.float64, na_value=np.nan)
    return s, n, year


def _violence_from_table(
    table: pd.DataFrame, config: RiskConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undecayed severity sum, incident count and first year from the table's counts."""
    n_rows = len(table)
    sev_in, sev_near = _num(table, "severity_inside"), _num(table, "severity_nearby")
    n_in, n_near = _num(table, "incidents_inside"), _num(table, "incidents_nearby")
    n_unc = _num(table, "incidents_uncertain")
    if sev_in is None and n_in is None:
        nan = np.full(n_rows, np.nan)
        return nan, nan, nan
    if sev_in is None:  # counts only: each incident at the middle severity
        sev_in = n_in * DEFAULT_SEVERITY if n_in is not None else np.zeros(n_rows)
        sev_near = n_near * DEFAULT_SEVERITY if n_near is not None else None
    s = sev_in.copy()
    if sev_near is not None:
        s = s + config.nearby_weight * np.nan_to_num(sev_near)
    if n_unc is not None:
        s = s + config.uncertain_weight * DEFAULT_SEVERITY * np.nan_to_num(n_unc)
    count = sum(np.nan_to_num(c) for c in (n_in, n_near, n_unc) if c is not None)
    count = np.asarray(count, dtype=np.float64) + np.zeros(n_rows)
    year = _num(table, "first_incident_year")
    return s, count, np.full(n_rows, np.nan) if year is None else year


def _deforestation(
    table: pd.DataFrame,
    timeseries: pd.DataFrame | None,
    claimed: np.ndarray,
    config: RiskConfig,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Deforestation component, the hectares it counts, and the first recent year (or NaN)."""
    n = len(table)
    loss_all = _num(table, "forest_loss_ha")
    known = np.ones(n, dtype=bool) if loss_all is None else ~np.isnan(loss_all)
    if "forest_loss_coverage" in table.columns:
        cov = table["forest_loss_coverage"].astype("string").str.lower()
        known &= (cov != "outside").fillna(True).to_numpy(dtype=bool)
    first_year = math.nan
    if timeseries is not None and {"territory_id", "year", "forest_loss_ha"} <= set(
        timeseries.columns
    ):
        years = pd.to_numeric(timeseries["year"], errors="coerce")
        loss = pd.to_numeric(timeseries["forest_loss_ha"], errors="coerce").fillna(0.0)
        if years.notna().any():
            first_year = float(years.max()) - config.recent_years + 1
        recent = (
            loss[years >= first_year]
            .groupby(timeseries["territory_id"][years >= first_year], sort=False)
            .sum()
        )
        ha = recent.reindex(pd.Index(table["territory_id"])).fillna(0.0).to_numpy(np.float64)
    elif loss_all is not None:
        if timeseries is not None:
            log.warning("risk: timeseries lacks forest_loss_ha/year; using all-years forest loss")
        ha = loss_all
    else:
        nan = np.full(n, np.nan)
        return nan, nan, first_year
    ha = np.where(known, ha, np.nan)
    comp = np.clip(ha / claimed / config.deforestation_full_share, 0.0, 1.0)
    return comp, ha, first_year


def _infrastructure(table: pd.DataFrame, config: RiskConfig) -> tuple[np.ndarray, np.ndarray]:
    """Infrastructure component and pipeline km inside + nearby (for the explanation)."""
    n = len(table)
    parts = {
        c: _num(table, c)
        for c in ("pipeline_km_inside", "pipeline_km_nearby", "spills_inside", "spills_nearby")
    }
    given = [v for v in parts.values() if v is not None]
    if not given:
        nan = np.full(n, np.nan)
        return nan, nan
    available = np.any([~np.isnan(v) for v in given], axis=0)
    z = {k: np.zeros(n) if v is None else np.nan_to_num(v) for k, v in parts.items()}
    km = (
        z["pipeline_km_inside"]
        + config.nearby_weight * z["pipeline_km_nearby"]
        + config.spill_km * (z["spills_inside"] + config.nearby_weight * z["spills_nearby"])
    )
    comp = np.where(
        available, 1.0 - np.exp(-np.clip(km, 0.0, None) / config.infrastructure_km_scale), np.nan
    )
    return comp, z["pipeline_km_inside"] + z["pipeline_km_nearby"]


@dataclass
class _Parts:
    """Component matrix (n x 5, NaN = missing) and the facts the explanations quote."""

    components: np.ndarray
    untitled_share: np.ndarray
    concession_share: np.ndarray
    dominant_kind: np.ndarray
    incidents: np.ndarray
    first_year: np.ndarray
    loss_ha: np.ndarray
    loss_since: float
    pipeline_km: np.ndarray
    spills: np.ndarray


def _components(
    table: pd.DataFrame,
    pairs: pd.DataFrame | None,
    timeseries: pd.DataFrame | None,
    config: RiskConfig,
    reference_date: str | None,
) -> _Parts:
    if "territory_id" not in table.columns:
        raise ValueError("the territory table lacks a territory_id column")
    claimed = _claimed(table)
    tenure = _tenure(table, claimed)
    conc, dominant = _concessions(table, claimed, config)
    if pairs is not None:
        s, count, year = _violence_from_pairs(table, pairs, config, reference_date)
    else:
        s, count, year = _violence_from_table(table, config)
    violence = 1.0 - np.exp(-np.clip(s, 0.0, None) / config.violence_scale)
    defo, loss_ha, since = _deforestation(table, timeseries, claimed, config)
    infra, km = _infrastructure(table, config)
    spills = np.zeros(len(table))
    for col in ("spills_inside", "spills_nearby"):
        v = _num(table, col)
        if v is not None:
            spills = spills + np.nan_to_num(v)
    dom_ha = np.zeros(len(table))
    if (dominant >= 0).any():
        kind_ha = np.column_stack(
            [
                np.nan_to_num(v)
                if (v := _num(table, f"concession_{k}_ha")) is not None
                else np.zeros(len(table))
                for k in CONCESSION_KINDS
            ]
        )
        dom_ha = np.take_along_axis(kind_ha, np.clip(dominant, 0, None)[:, None], axis=1)[:, 0]
    return _Parts(
        components=np.column_stack([tenure, conc, violence, defo, infra]),
        untitled_share=tenure,
        concession_share=dom_ha / claimed,
        dominant_kind=dominant,
        incidents=count,
        first_year=year,
        loss_ha=loss_ha,
        loss_since=since,
        pipeline_km=km,
        spills=spills,
    )


# --------------------------------------------------------------------------------------------
# Score, class, explanation
# --------------------------------------------------------------------------------------------


def _score(components: np.ndarray, config: RiskConfig) -> tuple[np.ndarray, np.ndarray]:
    """Score (missing = 0, weight kept in the denominator) and score if missing were 1."""
    w = np.array([config.weights.get(c, 0.0) for c in COMPONENTS])
    total = w.sum()
    score = 100.0 * (np.nan_to_num(components, nan=0.0) @ w) / total
    best = 100.0 * (np.nan_to_num(components, nan=1.0) @ w) / total
    return np.round(np.clip(score, 0, 100), _ROUND), np.round(np.clip(best, 0, 100), _ROUND)


def _classify(score: np.ndarray, config: RiskConfig) -> np.ndarray:
    idx = np.searchsorted(np.asarray(config.thresholds), score, side="right")
    return np.asarray(RISK_CLASSES, dtype=object)[idx]


#: Words of the drivers sentence per language (``risk_drivers`` in English, ``risk_drivers_es``).
_DRIVER_WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "kinds": {**_KIND_LABELS, "unspecified": "unspecified"},
        "classes": {"low": "low", "medium": "medium", "high": "high", "critical": "critical"},
        "components": {c: c for c in COMPONENTS},
        "untitled": "{} % untitled",
        "concessions": "{} % under {} concessions",
        "incident": "{} incident in or near it",
        "incidents": "{} incidents in or near it",
        "since": " since {}",
        "loss": "{} ha of forest lost",
        "pipeline": "{} km of pipeline and {} spill(s)",
        "none": "no pressure recorded",
        "gap": " (missing: {}; up to {} if they were maximal)",
        "thousands": ",",
        "decimal": ".",
    },
    "es": {
        "kinds": {
            "mining": "mineras",
            "oil_gas": "de hidrocarburos",
            "agribusiness": "agroindustriales",
            "forestry": "forestales",
            "other": "de otro tipo",
            "unspecified": "de tipo no especificado",
        },
        "classes": {"low": "bajo", "medium": "medio", "high": "alto", "critical": "crítico"},
        "components": {
            "tenure": "tenencia",
            "concessions": "concesiones",
            "violence": "violencia",
            "deforestation": "deforestación",
            "infrastructure": "infraestructura",
        },
        "untitled": "{} % sin titular",
        "concessions": "{} % bajo concesiones {}",
        "incident": "{} incidente dentro o cerca",
        "incidents": "{} incidentes dentro o cerca",
        "since": " desde {}",
        "loss": "{} ha de bosque perdidas",
        "pipeline": "{} km de ducto y {} derrame(s)",
        "none": "sin presión registrada",
        "gap": " (faltan: {}; hasta {} si fueran máximos)",
        "thousands": "\u00a0",
        "decimal": ",",
    },
}


def _fmt(values: np.ndarray, spec: str, lang: str = "en") -> pd.Series:
    words = _DRIVER_WORDS[lang]

    def one(v: float) -> str:
        if not np.isfinite(v):
            return "?"
        text = format(v, spec)
        if lang == "en":
            return text
        # Spanish: thin no-break thousands separator, decimal comma.
        return text.replace(",", "\0").replace(".", words["decimal"]).replace(
            "\0", words["thousands"]
        )

    return pd.Series(values).map(one)


def _explain(
    parts: _Parts,
    score: np.ndarray,
    best: np.ndarray,
    classes: np.ndarray,
    config: RiskConfig,
    lang: str = "en",
) -> pd.Series:
    """One sentence per territory naming the 2-3 largest contributors with their numbers."""
    if len(score) == 0:
        return pd.Series([], dtype=object)
    words = _DRIVER_WORDS[lang]

    def fmt(values: np.ndarray, spec: str) -> pd.Series:
        return _fmt(values, spec, lang)

    def fill(template: str, *columns: pd.Series) -> np.ndarray:
        pieces = template.split("{}")
        out = pd.Series(pieces[0], index=columns[0].index, dtype=object)
        for column, piece in zip(columns, pieces[1:], strict=True):
            out = out + column + piece
        return out.to_numpy(dtype=object)

    kinds = np.asarray(
        [words["kinds"][k] for k in CONCESSION_KINDS] + [words["kinds"]["unspecified"]], object
    )
    incident_count = fmt(parts.incidents, ",.0f")
    incident_text = np.where(
        parts.incidents == 1,
        fill(words["incident"], incident_count),
        fill(words["incidents"], incident_count),
    )
    since_year = np.where(
        np.isnan(parts.first_year), "", fill(words["since"], fmt(parts.first_year, ".0f"))
    )
    loss_when = (
        "" if math.isnan(parts.loss_since) else words["since"].format(f"{parts.loss_since:.0f}")
    )
    phrases = np.column_stack(
        [
            fill(words["untitled"], fmt(100 * parts.untitled_share, ".0f")),
            fill(
                words["concessions"],
                fmt(100 * parts.concession_share, ".0f"),
                pd.Series(kinds[parts.dominant_kind], dtype=object),
            ),
            incident_text + since_year,
            fill(words["loss"], fmt(parts.loss_ha, ",.0f")) + loss_when,
            fill(words["pipeline"], fmt(parts.pipeline_km, ",.1f"), fmt(parts.spills, ",.0f")),
        ]
    ).astype(object)
    w = np.array([config.weights.get(c, 0.0) for c in COMPONENTS])
    contrib = np.nan_to_num(parts.components, nan=0.0) * w
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :3]
    top = np.take_along_axis(phrases, order, axis=1)
    top_c = np.take_along_axis(contrib, order, axis=1)
    top = np.where(top_c > 0, top, "")
    text = pd.Series(top[:, 0], dtype=object)
    for j in (1, 2):  # three columns, not territories
        col = pd.Series(top[:, j], dtype=object)
        text = text.where(col == "", text + ", " + col)
    text = text.where(text != "", words["none"])
    missing = pd.Series(_missing(parts.components, words["components"]), dtype=object)
    gap = pd.Series(
        np.where(missing != "", fill(words["gap"], missing, fmt(best, ".0f")), ""),
        dtype=object,
    )
    class_words = pd.Series(classes, dtype=object).map(lambda c: words["classes"].get(c, c))
    out: pd.Series = class_words + ": " + text + gap
    return out


def _missing(components: np.ndarray, names: dict[str, str] | None = None) -> np.ndarray:
    """Comma-separated names of the missing (NaN) components, "" when none (object array)."""
    text = np.full(components.shape[0], "", dtype=object)
    for j, code in enumerate(COMPONENTS):  # five components, vectorised over territories
        name = names[code] if names else code
        sep = np.where(text == "", "", ",").astype(object)
        text = np.where(np.isnan(components[:, j]), text + sep + name, text)
    return text


def _result(table: pd.DataFrame, parts: _Parts, config: RiskConfig) -> pd.DataFrame:
    score, best = _score(parts.components, config)
    classes = _classify(score, config)
    out = pd.DataFrame(
        {
            "territory_id": table["territory_id"].to_numpy(),
            "risk_score": score,
            "risk_score_max": best,
            "risk_class": pd.Series(classes, dtype=object),
        }
    )
    for j, name in enumerate(COMPONENTS):
        out[f"risk_{name}"] = parts.components[:, j]
    out["risk_missing"] = _missing(parts.components)
    out["risk_drivers"] = _explain(parts, score, best, classes, config).to_numpy(dtype=object)
    out["risk_drivers_es"] = _explain(parts, score, best, classes, config, "es").to_numpy(
        dtype=object
    )
    return out


def compute_risk(
    table: pd.DataFrame,
    pairs: pd.DataFrame | None = None,
    timeseries: pd.DataFrame | None = None,
    config: RiskConfig | None = None,
    reference_date: str | None = None,
) -> pd.DataFrame:
    """Score every territory's risk from 0 to 100 (module docstring: method).

    Parameters
    ----------
    table : pandas.DataFrame
        ``territory_stats``: one row per territory with ``territory_id``; columns for inputs not
        given are absent (docs/columns.md).
    pairs : pandas.DataFrame, optional
        One row per territory x incident: ``territory_id``, ``relation`` (``inside``,
        ``nearby``, ``uncertain``), ``severity`` (1-5), ``date`` (ISO text or NA), ``kind``.
        When given, violence comes from it (with decay) instead of the table's counts.
    timeseries : pandas.DataFrame, optional
        ``territory_id``, ``year``, ``forest_loss_ha``: deforestation becomes the loss of the
        last ``config.recent_years`` years of the data.
    config : RiskConfig, optional
        Parameters; default ``RiskConfig()``.
    reference_date : str, optional
        Date violence ages are counted to; default the latest incident date in ``pairs``.

    Returns
    -------
    pandas.DataFrame
        One row per territory, same order: ``territory_id``, ``risk_score`` (0-100, a lower
        bound when inputs are missing), ``risk_score_max`` (if every missing component were 1),
        ``risk_class`` (low, medium, high, critical), ``risk_tenure``, ``risk_concessions``,
        ``risk_violence``, ``risk_deforestation``, ``risk_infrastructure`` (0-1, NaN when the
        input is missing), ``risk_missing`` (comma-separated missing components, "" when none)
        and ``risk_drivers`` (one sentence).

    Examples
    --------
    >>> t = pd.DataFrame({"territory_id": ["A"], "claimed_ha": [100.0], "untitled_ha": [100.0],
    ...                   "concession_agribusiness_ha": [0.0], "severity_inside": [0],
    ...                   "forest_loss_ha": [0.0], "pipeline_km_inside": [0.0]})
    >>> r = compute_risk(t)
    >>> float(r.risk_score.iloc[0]), r.risk_class.iloc[0], r.risk_drivers.iloc[0]
    (30.0, 'medium', 'medium: 100 % untitled')
    """
    config = RiskConfig() if config is None else config
    parts = _components(table.reset_index(drop=True), pairs, timeseries, config, reference_date)
    out = _result(table.reset_index(drop=True), parts, config)
    counts = out["risk_class"].value_counts()
    log.info(
        "risk: %d territories scored (%s); %d with missing components",
        len(out),
        ", ".join(f"{c} {int(counts.get(c, 0))}" for c in RISK_CLASSES),
        int((out["risk_missing"] != "").sum()),
    )
    return out


def compute_sensitivity(
    table: pd.DataFrame,
    pairs: pd.DataFrame | None = None,
    timeseries: pd.DataFrame | None = None,
    config: RiskConfig | None = None,
    factor: float = 0.5,
    reference_date: str | None = None,
) -> pd.DataFrame:
    """Move each component weight down and up by ``factor`` and report the new classes.

    Each weight is multiplied by ``1 - factor`` and ``1 + factor`` (the others unchanged); the
    score is renormalised by the new sum of weights, as in :func:`compute_risk`.

    Parameters
    ----------
    table, pairs, timeseries, config, reference_date
        As in :func:`compute_risk`.
    factor : float
        Relative change of a weight, in [0, 1]; 0.5 is ±50 %.

    Returns
    -------
    pandas.DataFrame
        Long table, component by component, ``-`` before ``+``, territories in input order:
        ``territory_id``, ``weight`` (component name), ``change`` (``'-50%'``, ``'+50%'``),
        ``risk_score``, ``risk_class``, ``class_changed`` (bool, against the unchanged weights).
    """
    if not 0 <= factor <= 1:
        raise ValueError("factor must lie in [0, 1]")
    config = RiskConfig() if config is None else config
    table = table.reset_index(drop=True)
    parts = _components(table, pairs, timeseries, config, reference_date)
    base = _classify(_score(parts.components, config)[0], config)
    frames = []
    for name in COMPONENTS:  # 5 components x 2 directions, each vectorised over territories
        for sign in (-1, 1):
            weights = dict(config.weights)
            weights[name] = weights.get(name, 0.0) * (1 + sign * factor)
            if sum(weights.values()) <= 0:
                continue
            moved = replace(config, weights=weights)
            score = _score(parts.components, moved)[0]
            classes = _classify(score, moved)
            frames.append(
                pd.DataFrame(
                    {
                        "territory_id": table["territory_id"].to_numpy(),
                        "weight": name,
                        "change": f"{'-' if sign < 0 else '+'}{100 * factor:g}%",
                        "risk_score": score,
                        "risk_class": classes,
                        "class_changed": classes != base,
                    }
                )
            )
    columns = ["territory_id", "weight", "change", "risk_score", "risk_class", "class_changed"]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    log.info(
        "risk sensitivity: %d of %d cases change class", int(out["class_changed"].sum()), len(out)
    )
    return out[columns]
