"""A study of community points without territory polygons ("which communities lie in block 108").

:func:`compute_community_study` is :func:`geotools.analysis.stats.compute_stats` for a run given
``--communities`` and no ``--territories``: the community tables are computed as in a full run
(concessions, ``--areas`` layers, incidents nearby), and every per-territory output is **not
analysed**: its tables are empty, the files made only of them (:data:`TERRITORY_OUTPUTS`) are not
written, ``region_stats.csv`` has no territory columns (not zeros), and ``provenance.json`` says
so under ``options.not_analysed``. :func:`territories_analysed` tells the two kinds of result
apart.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from geotools.analysis.communities import relate_community_layer
from geotools.analysis.overlaps import OVERLAP_COLUMNS
from geotools.analysis.risk import RiskConfig
from geotools.analysis.stats import StatsResult
from geotools.area import area_crs_for
from geotools.errors import SourceError, ValidationError
from geotools.io import Layer
from geotools.schema import DEFAULT_NEARBY_KM

log = logging.getLogger(__name__)

#: Outputs made only of per-territory rows: not written by a study without territories.
TERRITORY_OUTPUTS: tuple[str, ...] = (
    "territory_stats.csv",
    "overlaps.csv",
    "timeseries.csv",
    "risk_sensitivity.csv",
)
#: What ``provenance.json`` (``options.not_analysed.territories``) and the CLI say.
NOT_ANALYSED_TERRITORIES = (
    "no territory layer given (--territories): territory_stats.csv, overlaps.csv, "
    "timeseries.csv and risk_sensitivity.csv are not written, region_stats.csv has no "
    "territory columns, community tables no territory_id"
)


def territories_analysed(result: StatsResult) -> bool:
    """Say whether a result has per-territory statistics (False for a community study).

    Parameters
    ----------
    result : StatsResult
        Output of :func:`~geotools.analysis.stats.compute_stats` or
        :func:`compute_community_study`.

    Returns
    -------
    bool
        False when the territories were not analysed (no territory layer).
    """
    return "territories" not in (result.options.get("not_analysed") or {})


def compute_community_study(
    layers: Mapping[str, Layer],
    nearby_km: float = DEFAULT_NEARBY_KM,
    forest_loss: str | os.PathLike[str] | None = None,
    risk_config: RiskConfig | None = None,
) -> StatsResult:
    """Relate community points to concessions and incidents, with no territory layer.

    Parameters
    ----------
    layers : mapping of str to Layer
        Layers by kind (:func:`geotools.io.read_inputs`): ``communities`` is required,
        ``territories`` and ``parcels`` must be absent; ``concessions`` and ``incidents`` are
        used when present (``infrastructure`` is only carried to the GeoPackage).
    nearby_km : float, default 5.0
        Geodesic distance (km) within which incidents count as nearby a community.
    forest_loss : str or path-like, optional
        Must be None: forest loss is measured per territory.
    risk_config : RiskConfig, optional
        Not used (the risk score is per territory); a warning says so when it is not the
        default.

    Returns
    -------
    StatsResult
        ``communities`` set; ``table``, ``overlaps``, ``timeseries``, ``sensitivity`` and
        ``territories`` empty (with their id columns), ``outside`` empty, and
        ``options["not_analysed"]["territories"]`` saying what is not analysed.

    Raises
    ------
    SourceError
        ``communities`` is missing, ``territories`` or ``parcels`` is given (use
        :func:`~geotools.analysis.stats.compute_stats`), or ``forest_loss`` is given.
    ValidationError
        Every community point was rejected by validation.
    """
    if "communities" not in layers or "territories" in layers or "parcels" in layers:
        raise SourceError(
            "a community study takes --communities without --territories or --parcels; "
            "with territories, use compute_stats"
        )
    if forest_loss is not None:
        raise SourceError(
            f"--forest-loss {forest_loss}: forest loss is measured per territory; give "
            "--territories FILE too, or leave the raster out"
        )
    if risk_config is not None and risk_config != RiskConfig():
        log.warning("risk settings: the risk score is per territory; not used without territories")
    points = layers["communities"]
    if len(points.frame) == 0:
        raise ValidationError(
            f"{points.path}: no community point left to analyse ({points.ledger.read} read, all "
            f"rejected); check it with `geotools validate --as communities {points.path}`"
        )

    def frame(kind: str) -> gpd.GeoDataFrame | None:
        return layers[kind].frame if kind in layers else None

    crs = area_crs_for(*[layer.frame for layer in layers.values()])
    communities = relate_community_layer(
        points.frame, None, frame("concessions"), frame("incidents"), nearby_km=nearby_km
    )
    return StatsResult(
        table=pd.DataFrame({"territory_id": pd.Series(dtype=str)}),
        overlaps=pd.DataFrame({c: pd.Series(dtype=object) for c in OVERLAP_COLUMNS}),
        territories=gpd.GeoDataFrame(
            {"territory_id": pd.Series(dtype=str)}, geometry=gpd.GeoSeries(crs=4326)
        ),
        outside={},
        area_crs=crs,
        area_check={},
        options={
            "nearby_km": nearby_km,
            "area_crs": crs.srs,
            "forest_loss": None,
            "not_analysed": {"territories": NOT_ANALYSED_TERRITORIES},
        },
        communities=communities,
    )
