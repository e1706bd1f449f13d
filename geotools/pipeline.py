"""End-to-end runs: read -> validate -> analyse -> write; each step is a function usable alone."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geotools.analysis.risk import RiskConfig
from geotools.analysis.stats import StatsResult, compute_stats, round_table
from geotools.errors import OutputExistsError, SourceError
from geotools.export import compute_sha256, write_csv, write_geopackage, write_json
from geotools.io import Layer, check_raster, read_frame, read_inputs
from geotools.outputs import atomic_path, check_outputs_free, staged_outputs
from geotools.provenance import build_provenance, describe_area_crs
from geotools.publish import BundleReport, PublishOptions, publish_bundle
from geotools.schema import DEFAULT_NEARBY_KM

log = logging.getLogger(__name__)

STATS_OUTPUTS = [
    "territory_stats.csv",
    "overlaps.csv",
    "timeseries.csv",
    "risk_sensitivity.csv",
    "analysis.gpkg",
    "provenance.json",
    "qa",
]


@dataclass
class RunResult:
    """What a run produced.

    Attributes
    ----------
    stats : StatsResult
        The computed statistics.
    layers : dict of str to Layer
        Inputs as read and validated.
    written : list of pathlib.Path
        Files written.
    """

    stats: StatsResult
    layers: dict[str, Layer]
    written: list[Path] = field(default_factory=list)




def write_stats(
    result: StatsResult,
    layers: Mapping[str, Layer],
    out_dir: str | os.PathLike[str],
    overwrite: bool = False,
) -> list[Path]:
    """Write ``territory_stats.csv``, ``overlaps.csv``, ``analysis.gpkg``, ``provenance.json``
    and the QA ledgers (``qa/<layer>.json``) into ``out_dir``, all or nothing.

    Parameters
    ----------
    result : StatsResult
        Output of :func:`compute_stats`.
    layers : mapping of str to Layer
        The inputs (for the GeoPackage, QA ledgers and provenance).
    out_dir : str or path-like
        Output folder.
    overwrite : bool, default False
        Replace existing outputs.

    Returns
    -------
    list of pathlib.Path
        Final paths written.
    """
    out = Path(out_dir)
    with staged_outputs(out, STATS_OUTPUTS, overwrite, group="stats") as stage:
        write_csv(round_table(result.table), stage / "territory_stats.csv")
        write_csv(round_table(result.overlaps), stage / "overlaps.csv")
        write_csv(round_table(result.timeseries), stage / "timeseries.csv")
        write_csv(round_table(result.sensitivity), stage / "risk_sensitivity.csv")
        gpkg_layers: dict[str, gpd.GeoDataFrame] = {"territory_stats": result.territories}
        if result.untitled is not None:
            gpkg_layers["untitled"] = result.untitled
        for kind, layer in layers.items():
            gpkg_layers[kind] = layer.frame.to_crs(4326)
        write_geopackage(gpkg_layers, stage / "analysis.gpkg")
        for kind, layer in layers.items():
            write_json(layer.ledger.to_dict(), stage / "qa" / f"{kind}.json")
        facts = {
            "area_crs": describe_area_crs(result.area_crs),
            "area_check": result.area_check,
            "outside_every_territory": result.outside,
            "incidents": result.incident_facts,
            "territories": len(result.table),
        }
        rasters = []
        if result.options.get("forest_loss"):
            raster = Path(result.options["forest_loss"])
            rasters.append(
                {"layer": "forest_loss", "path": str(raster), "sha256": compute_sha256(raster)}
            )
        write_json(
            build_provenance(layers.values(), result.options, facts, rasters),
            stage / "provenance.json",
        )
    written = [out / name for name in STATS_OUTPUTS]
    log.debug("wrote %s", ", ".join(str(p) for p in written))
    return written


def run_stats(
    paths: Mapping[str, str | os.PathLike[str] | None],
    out_dir: str | os.PathLike[str],
    nearby_km: float = DEFAULT_NEARBY_KM,
    overwrite: bool = False,
    assume_crs: str | None = None,
    mappings: Mapping[str, Mapping[str, str]] | None = None,
    forest_loss: str | os.PathLike[str] | None = None,
    risk_config: RiskConfig | None = None,
) -> RunResult:
    """Read, analyse and write: the Python form of ``geotools stats``."""
    out = Path(out_dir)
    check_outputs_free(out, STATS_OUTPUTS, overwrite)  # fail before a long analysis, not after
    check_raster(forest_loss)
    layers = read_inputs(paths, assume_crs=assume_crs, mappings=mappings)
    result = compute_stats(
        layers, nearby_km=nearby_km, forest_loss=forest_loss, risk_config=risk_config
    )
    written = write_stats(result, layers, out, overwrite=overwrite)
    return RunResult(result, layers, written)


def describe_sources(
    layers: Mapping[str, Layer], profile: str = "public", view: Any = None
) -> list[str]:
    """One line per input layer for a map's sources box: kind, file name, sources, licence.

    The ``source`` values of a layer (e.g. "INGEMMET", "Defensoría del Pueblo") are listed, at
    most five, and the licence or terms an importer recorded (e.g. ACLED's). For incidents, only
    the sources of the records the map's ``profile`` may publish are named: the source of a
    withheld record can say who reported it. With ``view`` (a
    :class:`geotools.privacy.ShareableView`) the names are the view's.
    """
    from geotools.privacy import select_drawable

    lines = []
    for kind, layer in layers.items():
        parts = [f"{kind}: {layer.path.name}"]
        if view is not None:
            names = list(view.sources.get(kind, []))
        else:
            frame = layer.frame
            if kind == "incidents":
                frame = frame.loc[select_drawable(frame, profile)[0]]
            names = _source_values(frame)
        if names:
            more = f" (+{len(names) - 5})" if len(names) > 5 else ""
            parts.append("; ".join(names[:5]) + more)
        licence = (layer.frame.attrs.get("geotools_import") or {}).get("licence")
        if licence:
            parts.append(str(licence))
        lines.append(" — ".join(parts))
    return lines


def _source_values(frame: gpd.GeoDataFrame) -> list[str]:
    if "source" not in frame.columns:
        return []
    values = frame["source"].dropna().astype(str).str.strip()
    return [str(v) for v in values[values != ""].value_counts().index]


def compute_shareable_map_tables(
    result: StatsResult, layers: Mapping[str, Layer]
) -> tuple[gpd.GeoDataFrame, Any]:
    """Territory table and yearly table for a public map (from the privacy gate).

    A thin wrapper over :func:`geotools.privacy.compute_shareable_view`: every count, yearly
    row, risk score and drivers sentence is recomputed from the incidents the public map may
    draw (public ones and those a publisher generalised), never from restricted ones at their
    true place nor from confidential ones.

    Returns
    -------
    tuple
        ``(territories, timeseries)``.
    """
    view = shareable_view(result, layers, "public")
    return view.result.territories, view.result.timeseries


def shareable_view(result: StatsResult, layers: Mapping[str, Layer], profile: str) -> Any:
    """The privacy gate's view for a map or PNG set (no displacement key: restricted incidents
    a publisher has not generalised are counted only in aggregates, never drawn)."""
    from geotools.privacy import PrivacyPolicy, compute_shareable_view

    policy = PrivacyPolicy(restricted="aggregate")
    return compute_shareable_view(result, layers, profile=profile, policy=policy)


def _placeholders(count: int) -> gpd.GeoDataFrame:
    """Rows that stand for incidents the view does not draw: a map counts them as "not shown"
    and drops them before anything else; they carry nothing but ``sensitivity``."""
    return gpd.GeoDataFrame(
        {
            "incident_id": [f"withheld-{i}" for i in range(count)],
            "sensitivity": ["restricted"] * count,
        },
        geometry=gpd.GeoSeries([None] * count, crs=4326),
    )


def write_map_html(
    result: StatsResult,
    layers: Mapping[str, Layer],
    target: str | os.PathLike[str],
    lang: str = "es",
    overwrite: bool = False,
    profile: str = "public",
    title: str | None = None,
    offline: bool = False,
    hexagons: gpd.GeoDataFrame | None = None,
    attribution: str | None = None,
) -> Path:
    """Build the risk map from a run and save it as one HTML file, atomically.

    Every layer and figure goes through the privacy gate
    (:func:`geotools.privacy.compute_shareable_view`) first: ``profile="public"`` (default)
    draws public incidents and those a publisher generalised, counts only those (at the place
    drawn) in every popup, risk score and drivers sentence, and keeps only the allow-listed
    columns of each layer; ``"internal"`` draws restricted incidents at their exact location
    (never share such a map). When ``result`` is already a view of ``profile``
    (``result.options["shareable_view"]``, e.g. inside a bundle) it is used as given.
    ``hexagons`` (from :func:`compute_map_hexagons`) adds the risk-surface layer.
    ``offline=True`` inlines Leaflet and the plugins
    (:func:`geotools.map_assets.inline_map_assets`) so the map opens with no network, basemap
    tiles aside. ``attribution`` (plain text, e.g. the terms of a source) is shown in the title
    box and listed with the sources.
    """
    from geotools.maps import build_map, compact_json_escapes

    view = None
    frames = {kind: layer.frame for kind, layer in layers.items()}
    if result.options.get("shareable_view") != profile:
        view = shareable_view(result, layers, profile)
        result, frames = view.result, dict(view.layers)
        if "incidents" in frames and view.withheld:
            frames["incidents"] = gpd.GeoDataFrame(
                pd.concat([frames["incidents"], _placeholders(view.withheld)], ignore_index=True),
                geometry="geometry",
                crs=4326,
            )
    fmap = build_map(
        result.territories,
        parcels=frames.get("parcels"),
        concessions=frames.get("concessions"),
        incidents=frames.get("incidents"),
        infrastructure=frames.get("infrastructure"),
        lang=lang,
        profile=profile,
        title=title,
        hexagons=hexagons,
        overlaps=result.overlaps,
        timeseries=result.timeseries,
        sources=describe_sources(layers, profile, view)
        + ([attribution] if attribution else []),
        attribution=attribution,
    )
    page = compact_json_escapes(fmap.get_root().render())
    if offline:
        from geotools.map_assets import fetch_map_assets, inline_map_assets

        page = inline_map_assets(page, fetch_map_assets())
    path = Path(target)
    with atomic_path(path, overwrite) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


def write_static_map_files(
    result: StatsResult,
    layers: Mapping[str, Layer],
    out_dir: str | os.PathLike[str],
    lang: str = "es",
    profile: str = "public",
    overwrite: bool = False,
) -> list[Path]:
    """Write the static PNG maps (overview and one per territory) for reports.

    Like :func:`write_map_html`, the figures are drawn from the privacy gate's view
    (:func:`geotools.static_maps.write_static_maps` applies it).
    """
    from geotools.static_maps import write_static_maps

    return write_static_maps(
        result, layers, out_dir, lang=lang, profile=profile, overwrite=overwrite
    )


def compute_map_hexagons(
    result: StatsResult,
    layers: Mapping[str, Layer],
    profile: str = "public",
    cell_size_m: float = 1000.0,
) -> gpd.GeoDataFrame:
    """Risk hexagons for a map: from the incidents the map's ``profile`` may show.

    A public map's hexagons use public (and publisher-generalised) incidents only, so that no
    withheld incident shows through the surface; an internal map's use all but confidential.
    """
    from geotools.analysis.surface import compute_risk_hexagons, compute_risk_surface
    from geotools.maps import select_visible_incidents

    incidents = layers["incidents"].frame if "incidents" in layers else None
    if incidents is not None:
        incidents = select_visible_incidents(incidents, profile)
    surface = compute_risk_surface(
        incidents,
        layers["concessions"].frame if "concessions" in layers else None,
        result.untitled,
        layers["territories"].frame,
        cell_size_m=cell_size_m,
        half_life_years=result.half_life_years,
    )
    return compute_risk_hexagons(surface)


SURFACE_OUTPUTS = ["risk_surface.tif", "risk_hexagons.geojson"]


def write_risk_surface_outputs(
    result: StatsResult,
    layers: Mapping[str, Layer],
    out_dir: str | os.PathLike[str],
    overwrite: bool = False,
    cell_size_m: float = 1000.0,
) -> list[Path]:
    """Write the risk surface (GeoTIFF) and its H3 hexagons (GeoJSON) for a run.

    The surface combines time-decayed, severity-weighted incident density with the shares of
    land under concessions and untitled (see :mod:`~geotools.analysis.surface`). It is internal:
    built from every incident, exact locations included.
    """
    from geotools.analysis.surface import (
        compute_risk_hexagons,
        compute_risk_surface,
        write_risk_surface,
    )

    out = Path(out_dir)
    check_outputs_free(out, SURFACE_OUTPUTS, overwrite)

    def frame(kind: str) -> gpd.GeoDataFrame | None:
        return layers[kind].frame if kind in layers else None

    surface = compute_risk_surface(
        frame("incidents"),
        frame("concessions"),
        result.untitled,
        layers["territories"].frame,
        cell_size_m=cell_size_m,
        half_life_years=result.half_life_years,
    )
    tif = write_risk_surface(surface, out / "risk_surface.tif", overwrite=overwrite)
    hexagons = compute_risk_hexagons(surface)
    target = out / "risk_hexagons.geojson"
    with atomic_path(target, overwrite) as tmp:
        tmp.write_text(hexagons.to_json(drop_id=True), encoding="utf-8")
    return [tif, target]


def read_constraint(path: str | os.PathLike[str] | None, what: str) -> gpd.GeoDataFrame | None:
    """Read a districts or water layer (any vector format) for the displacement."""
    if path is None:
        return None
    frame = read_frame(path)
    if frame.crs is None:
        raise SourceError(f"{path}: the {what} layer has no CRS; set one before publishing")
    return frame


def run_publish(
    paths: Mapping[str, str | os.PathLike[str] | None],
    out_dir: str | os.PathLike[str],
    options: PublishOptions | None = None,
    nearby_km: float = DEFAULT_NEARBY_KM,
    assume_crs: str | None = None,
    mappings: Mapping[str, Mapping[str, str]] | None = None,
    forest_loss: str | os.PathLike[str] | None = None,
    risk_config: RiskConfig | None = None,
    districts: str | os.PathLike[str] | None = None,
    water: str | os.PathLike[str] | None = None,
) -> BundleReport:
    """Read, analyse and write a bundle: the Python form of ``geotools publish``."""
    options = options or PublishOptions()
    out = Path(out_dir)
    if out.exists() and out.is_dir() and any(out.iterdir()) and not options.overwrite:
        raise OutputExistsError(f"{out}: already exists; pass --overwrite to replace it")
    check_raster(forest_loss)
    layers = read_inputs(paths, assume_crs=assume_crs, mappings=mappings)
    return publish_bundle(
        layers,
        out,
        options,
        nearby_km=nearby_km,
        forest_loss=forest_loss,
        risk_config=risk_config,
        districts=read_constraint(districts, "districts"),
        water=read_constraint(water, "water"),
    )
