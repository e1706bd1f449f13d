"""End-to-end runs: read -> validate -> analyse -> write; each step is a function usable alone."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd

from geotools.analysis.communities import add_area_layers as relate_areas
from geotools.analysis.community_study import compute_community_study, territories_analysed
from geotools.analysis.region_run import attach_region_stats
from geotools.analysis.regions import label_points
from geotools.analysis.risk import RiskConfig
from geotools.analysis.stats import StatsResult, compute_stats, round_table
from geotools.analysis.surface import (
    compute_risk_hexagons,
    compute_risk_surface,
    territories_without_tenure,
    write_risk_surface,
)
from geotools.area import DEFAULT_EDGES
from geotools.errors import OutputExistsError, SourceError
from geotools.export import compute_sha256, write_csv, write_geopackage, write_json
from geotools.io import Layer, LayerPaths, check_raster, read_frame, read_inputs
from geotools.io.areas import AREAS_KEY, check_area_name, read_areas, split_area_settings
from geotools.maps import (
    compute_map_hexagons,
    shareable_view,
    write_map_html,
    write_map_tiles,
    write_static_map_files,
)
from geotools.maps.region_layer import check_shade_column
from geotools.maps.style import layer_label
from geotools.outputs import atomic_path, check_outputs_free, staged_outputs
from geotools.privacy import check_permissions
from geotools.privacy.permission import PERMISSION_STATED
from geotools.provenance import build_provenance, describe_area_crs
from geotools.publish import BundleReport, PublishOptions, publish_bundle
from geotools.schema import DEFAULT_NEARBY_KM, Lang, Profile

log = logging.getLogger(__name__)

STATS_OUTPUTS = [
    "territory_stats.csv",
    "overlaps.csv",
    "timeseries.csv",
    "risk_sensitivity.csv",
    "community_stats.csv",
    "community_membership.csv",
    "community_polygons.csv",
    "region_stats.csv",
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
    areas : dict of str to Layer
        Extra polygon layers for community membership (``--areas NAME=FILE``), by name.
    """

    stats: StatsResult
    layers: dict[str, Layer]
    written: list[Path] = field(default_factory=list)
    areas: dict[str, Layer] = field(default_factory=dict)



def write_stats(
    result: StatsResult,
    layers: Mapping[str, Layer],
    out_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
) -> list[Path]:
    """Write ``territory_stats.csv``, ``overlaps.csv``, ``analysis.gpkg``, ``provenance.json``
    and the QA ledgers (``qa/<layer>.json``) into ``out_dir``, all or nothing.

    A study without territories (:func:`~geotools.analysis.community_study.territories_analysed`
    False) writes none of the per-territory files
    (:data:`~geotools.analysis.community_study.TERRITORY_OUTPUTS`; those of an earlier run in
    ``out_dir`` are removed with the rest of it) and no ``territory_stats`` GeoPackage layer.

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
    per_territory = territories_analysed(result)
    with staged_outputs(out, STATS_OUTPUTS, overwrite=overwrite, group="stats") as stage:
        if per_territory:
            write_csv(round_table(result.table), stage / "territory_stats.csv")
            write_csv(round_table(result.overlaps), stage / "overlaps.csv")
            write_csv(round_table(result.timeseries), stage / "timeseries.csv")
            write_csv(round_table(result.sensitivity), stage / "risk_sensitivity.csv")
        if result.communities is not None:
            write_csv(round_table(result.communities.stats), stage / "community_stats.csv")
            membership = result.communities.membership.round({"boundary_distance_m": 1})
            write_csv(membership, stage / "community_membership.csv")
            write_csv(result.communities.polygons, stage / "community_polygons.csv")
        if result.regions is not None:
            write_csv(round_table(result.regions), stage / "region_stats.csv")
        gpkg_layers: dict[str, gpd.GeoDataFrame] = {}
        if per_territory:
            gpkg_layers["territory_stats"] = result.territories
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
            "territories": len(result.table) if per_territory else None,
            "claimed_total": result.claimed_total,
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
    written = [out / name for name in STATS_OUTPUTS if (out / name).exists()]
    log.debug("wrote %s", ", ".join(str(p) for p in written))
    return written


def add_region_stats(
    result: StatsResult,
    layers: Mapping[str, Layer],
    regions: gpd.GeoDataFrame,
    areas: Mapping[str, Layer] | None = None,
) -> dict[str, Layer]:
    """Set ``result.regions`` (``region_stats.csv``) and the region of each territory.

    The region of each territory goes into ``territory_stats.csv`` (and its GeoPackage layer)
    and ``overlaps.csv``; communities get the region they are surely in (and those possible);
    each polygon of ``community_polygons.csv`` the region of its largest share.

    Parameters
    ----------
    result : StatsResult
        Output of :func:`compute_stats`, changed in place.
    layers : mapping of str to Layer
        The layers it was computed from.
    regions : geopandas.GeoDataFrame
        Region polygons (:func:`geotools.analysis.regions.compute_region_stats`).
    areas : mapping of str to Layer, optional
        The run's extra polygon layers (``--areas``), for ``community_polygons.csv``.

    Returns
    -------
    dict of str to Layer
        ``layers`` for the GeoPackage: incidents and communities gain ``region_id``,
        ``region``, ``region_relation`` and ``regions_possible``
        (:func:`geotools.analysis.regions.label_points`); the layers themselves are unchanged.
    """
    frames = {kind: layer.frame for kind, layer in layers.items()}
    area_frames = {name: layer.frame for name, layer in (areas or {}).items()}
    by_region = attach_region_stats(result, frames, regions, area_frames)
    labelled = dict(layers)
    for kind, pairs, id_column in (
        ("incidents", by_region.incident_region, "incident_id"),
        ("communities", by_region.community_region, "community_id"),
    ):
        if kind in layers and pairs is not None:
            frame = label_points(layers[kind].frame, pairs, id_column, by_region)
            labelled[kind] = replace(layers[kind], frame=frame)
    return labelled


def add_area_layers(
    result: StatsResult, layers: Mapping[str, Layer], areas: Mapping[str, Layer]
) -> None:
    """Relate the run's community points to extra polygon layers (``--areas NAME=FILE``).

    Parameters
    ----------
    result : StatsResult
        Output of :func:`compute_stats`, changed in place (``result.communities``).
    layers : mapping of str to Layer
        The layers it was computed from; ``communities`` is required when ``areas`` is not
        empty.
    areas : mapping of str to Layer
        Extra polygon layers by name (:func:`geotools.io.areas.read_areas`).

    Raises
    ------
    SourceError
        Extra polygon layers are given without community points.
    """
    if not areas:
        return
    if result.communities is None or "communities" not in layers:
        raise SourceError(
            f"--areas {', '.join(areas)}: the extra polygon layers relate community points; "
            "give them with --communities FILE"
        )
    result.communities = relate_areas(
        result.communities,
        layers["communities"].frame,
        {name: layer.frame for name, layer in areas.items()},
    )
    result.options["areas"] = {name: str(layer.path) for name, layer in areas.items()}


def area_outputs(layers: Mapping[str, Layer], areas: Mapping[str, Layer]) -> dict[str, Layer]:
    """Return ``layers`` with the extra polygon layers as ``areas_<name>`` (for writing).

    Parameters
    ----------
    layers : mapping of str to Layer
        The run's layers by kind.
    areas : mapping of str to Layer
        Extra polygon layers by name.

    Returns
    -------
    dict of str to Layer
        What :func:`write_stats` writes: GeoPackage layers, ``qa/<key>.json`` and the inputs of
        ``provenance.json``, each extra layer named ``areas_<name>`` there.
    """
    named = {f"areas_{name}": replace(layer, kind=f"areas_{name}") for name, layer in areas.items()}
    return {**layers, **named}


def run_stats(
    paths: Mapping[str, LayerPaths | None],
    out_dir: str | os.PathLike[str],
    *,
    nearby_km: float = DEFAULT_NEARBY_KM,
    overwrite: bool = False,
    assume_crs: str | Mapping[str, str] | None = None,
    mappings: Mapping[str, Mapping[str, str]] | None = None,
    defaults: Mapping[str, Mapping[str, object]] | None = None,
    forest_loss: str | os.PathLike[str] | None = None,
    risk_config: RiskConfig | None = None,
    group_territories: str | None = None,
    weights: Mapping[str, str] | None = None,
    edges: str = DEFAULT_EDGES,
    regions: str | os.PathLike[str] | None = None,
    areas: Mapping[str, LayerPaths] | None = None,
) -> RunResult:
    """Read, analyse and write: the Python form of ``geotools stats``.

    Parameters
    ----------
    paths : mapping of str to path or None
        Layer kind -> file or files (``None`` for absent optional layers). ``territories``
        or ``communities`` is required: without ``parcels`` tenure is unknown; without
        territories the per-territory tables are not analysed (a community study,
        :func:`~geotools.analysis.community_study.compute_community_study`).
    out_dir : str or path-like
        Output folder (see :func:`write_stats` for what is written).
    nearby_km : float, default 5.0
        Geodesic distance (km) within which incidents and infrastructure count as nearby.
    overwrite : bool, default False
        Replace the outputs of an earlier run.
    assume_crs : str or mapping of str to str, optional
        CRS for files that declare none (or whose coordinates cannot be in the one declared),
        e.g. ``"EPSG:32718"``, or per layer kind ``{"concessions": "EPSG:32717"}``.
    mappings : mapping, optional
        Layer kind -> ``{canonical column: source column}``.
    defaults : mapping, optional
        Layer kind -> ``{canonical column: value}`` for columns missing or empty in the file
        (e.g. ``{"concessions": {"kind": "mining"}}``).
    group_territories : str, optional
        Merge territories sharing a value of this column into one (parts of one community).
    weights : mapping of str to str, optional
        Layer kind -> numeric column to pro-rate by overlap share (``concessions`` only).
    edges : {"geodesic", "lonlat"}, default "geodesic"
        How every layer's edges are read (see :func:`geotools.io.read_layer`).
    forest_loss : str or path-like, optional
        Forest-loss GeoTIFF in Hansen ``lossyear`` coding.
    risk_config : RiskConfig, optional
        Settings of the risk score; defaults when omitted.
    regions : str or path-like, optional
        Region polygons (INEI departments, provinces, districts): ``region_stats.csv`` and the
        region of each territory, incident and community.
    areas : mapping of str to path or paths, optional
        Extra polygon layers for community membership by name (``--areas NAME=FILE``); needs
        ``communities``. ``assume_crs``, ``mappings`` and ``defaults`` may name them (or
        ``areas`` for all of them).

    Returns
    -------
    RunResult
        The statistics, the layers read and the files written.

    Raises
    ------
    OutputExistsError
        An output exists and ``overwrite`` is False (checked before reading anything).
    SourceError
        A required layer is missing, or an input file (the raster included) is not found.
    CRSError
        A layer has no CRS (and none was assumed), or coordinates that cannot be in its CRS.
    """
    out = Path(out_dir)
    # Fail before a long analysis, not after.
    check_outputs_free(out, STATS_OUTPUTS, overwrite=overwrite)
    check_raster(forest_loss)
    region_frame = read_constraint(regions, "regions")
    names = list(areas or {})
    for name in names:
        check_area_name(name)
    if names and not paths.get("communities"):
        raise SourceError(
            f"--areas {', '.join(names)}: the extra polygon layers relate community points; "
            "give them with --communities FILE"
        )
    mappings, area_mappings = split_area_settings(mappings, names)
    defaults, area_defaults = split_area_settings(defaults, names)
    main_crs = assume_crs
    if isinstance(assume_crs, Mapping):
        main_crs = {k: v for k, v in assume_crs.items() if k != AREAS_KEY and k not in names}
    layers = read_inputs(
        paths,
        assume_crs=main_crs,
        mappings=mappings,
        defaults=defaults,
        group_territories=group_territories,
        weights=weights,
        edges=edges,
    )
    area_layers = read_areas(
        areas or {},
        assume_crs=assume_crs,
        mappings=area_mappings,
        defaults=area_defaults,
        edges=edges,
    )
    compute = compute_stats if "territories" in layers else compute_community_study
    result = compute(layers, nearby_km=nearby_km, forest_loss=forest_loss, risk_config=risk_config)
    add_area_layers(result, layers, area_layers)
    labelled: Mapping[str, Layer] = layers
    if region_frame is not None:
        labelled = add_region_stats(result, layers, region_frame, area_layers)
    written = write_stats(result, area_outputs(labelled, area_layers), out, overwrite=overwrite)
    return RunResult(result, layers, written, area_layers)


SURFACE_OUTPUTS = ["risk_surface.tif", "risk_hexagons.geojson"]


def write_risk_surface_outputs(
    result: StatsResult,
    layers: Mapping[str, Layer],
    out_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    cell_size_m: float = 1000.0,
) -> list[Path]:
    """Write the risk surface (GeoTIFF) and its H3 hexagons (GeoJSON) for a run.

    The surface combines time-decayed, severity-weighted incident density with the shares of
    land under concessions and untitled (see :mod:`~geotools.analysis.surface`). It is internal:
    built from every incident, exact locations included.

    Parameters
    ----------
    result : StatsResult
        The statistics of the run (its untitled land and risk half-life are used).
    layers : mapping of str to Layer
        The layers; ``territories`` is required (it bounds the grid), ``incidents`` and
        ``concessions`` are used when present.
    out_dir : str or path-like
        Output folder.
    overwrite : bool, default False
        Replace the outputs of an earlier run.
    cell_size_m : float, default 1000.0
        Side of the grid cells, in metres.

    Returns
    -------
    list of pathlib.Path
        ``risk_surface.tif`` and ``risk_hexagons.geojson`` in ``out_dir``.

    Raises
    ------
    OutputExistsError
        An output exists and ``overwrite`` is False.
    """
    out = Path(out_dir)
    check_outputs_free(out, SURFACE_OUTPUTS, overwrite=overwrite)

    def frame(kind: str) -> gpd.GeoDataFrame | None:
        return layers[kind].frame if kind in layers else None

    surface = compute_risk_surface(
        frame("incidents"),
        frame("concessions"),
        result.untitled,
        layers["territories"].frame,
        cell_size_m=cell_size_m,
        half_life_years=result.half_life_years,
        tenure_unknown=territories_without_tenure(layers["territories"].frame, result.table),
    )
    tif = write_risk_surface(surface, out / "risk_surface.tif", overwrite=overwrite)
    hexagons = compute_risk_hexagons(surface)
    target = out / "risk_hexagons.geojson"
    with atomic_path(target, overwrite=overwrite) as tmp:
        tmp.write_text(hexagons.to_json(drop_id=True), encoding="utf-8")
    return [tif, target]


def read_constraint(path: str | os.PathLike[str] | None, what: str) -> gpd.GeoDataFrame | None:
    """Read a districts or water layer (any vector format) for the displacement.

    Parameters
    ----------
    path : str or path-like or None
        The layer's file, or None when not given.
    what : str
        ``"districts"`` or ``"water"``, for the error message.

    Returns
    -------
    geopandas.GeoDataFrame or None
        The layer as read; None when ``path`` is None.

    Raises
    ------
    SourceError
        The file is missing or unreadable.
    CRSError
        The layer has no CRS, or coordinates that cannot be in its CRS.
    """
    if path is None:
        return None
    frame = read_frame(path)
    if frame.crs is None:
        raise SourceError(f"{path}: the {what} layer has no CRS; set one before publishing")
    return frame


def run_publish(
    paths: Mapping[str, LayerPaths | None],
    out_dir: str | os.PathLike[str],
    options: PublishOptions | None = None,
    *,
    nearby_km: float = DEFAULT_NEARBY_KM,
    assume_crs: str | Mapping[str, str] | None = None,
    mappings: Mapping[str, Mapping[str, str]] | None = None,
    defaults: Mapping[str, Mapping[str, object]] | None = None,
    forest_loss: str | os.PathLike[str] | None = None,
    risk_config: RiskConfig | None = None,
    districts: str | os.PathLike[str] | None = None,
    water: str | os.PathLike[str] | None = None,
    group_territories: str | None = None,
    weights: Mapping[str, str] | None = None,
    edges: str = DEFAULT_EDGES,
    regions: str | os.PathLike[str] | None = None,
) -> BundleReport:
    """Read, analyse and write a bundle: the Python form of ``geotools publish``.

    Parameters
    ----------
    paths : mapping of str to path or None
        Layer kind -> file or files (``None`` for absent optional layers). Only
        ``territories`` is required (a bundle is built per territory): without ``parcels``
        tenure is unknown.
    out_dir : str or path-like
        Bundle folder.
    options : PublishOptions, optional
        Profile, formats, privacy policy, secret...; defaults when omitted.
    nearby_km : float, default 5.0
        Geodesic distance (km) within which incidents and infrastructure count as nearby.
    assume_crs : str or mapping of str to str, optional
        CRS for files that declare none (or whose coordinates cannot be in the one declared),
        e.g. ``"EPSG:32718"``, or per layer kind ``{"concessions": "EPSG:32717"}``.
    mappings : mapping, optional
        Layer kind -> ``{canonical column: source column}``.
    defaults : mapping, optional
        Layer kind -> ``{canonical column: value}`` for columns missing or empty in the file
        (e.g. ``{"concessions": {"kind": "mining"}}``).
    group_territories : str, optional
        Merge territories sharing a value of this column into one (parts of one community).
    weights : mapping of str to str, optional
        Layer kind -> numeric column to pro-rate by overlap share (``concessions`` only).
    edges : {"geodesic", "lonlat"}, default "geodesic"
        How every layer's edges are read (see :func:`geotools.io.read_layer`).
    forest_loss : str or path-like, optional
        Forest-loss GeoTIFF in Hansen ``lossyear`` coding.
    risk_config : RiskConfig, optional
        Settings of the risk score; defaults when omitted.
    districts, water : str or path-like, optional
        Vector layers constraining the displacement of generalised incidents (public profile).
    regions : str or path-like, optional
        Region polygons: ``region_stats.csv`` and ``regions.geojson`` in the bundle, as the
        privacy gate lets them out, and drawn on its map (``options.shade_regions``).

    Returns
    -------
    BundleReport
        What :func:`publish_bundle` wrote and measured.

    Raises
    ------
    OutputExistsError
        ``out_dir`` is a non-empty folder and ``options.overwrite`` is False (checked before
        reading anything).
    SourceError
        A required layer is missing, or an input file is not found or unreadable.
    CRSError
        A layer has no CRS (and none was assumed), or coordinates that cannot be in its CRS.
    LeakError
        The public bundle failed the leak check (nothing is left behind).
    """
    options = options or PublishOptions()
    out = Path(out_dir)
    if out.exists() and out.is_dir() and any(out.iterdir()) and not options.overwrite:
        raise OutputExistsError(f"{out}: already exists; pass --overwrite to replace it")
    if not paths.get("territories"):
        raise SourceError(
            "publish needs --territories FILE: the bundle is built per territory; a study of "
            "community points alone is `geotools stats --communities FILE`"
        )
    check_raster(forest_loss)
    layers = read_inputs(
        paths,
        assume_crs=assume_crs,
        mappings=mappings,
        defaults=defaults,
        group_territories=group_territories,
        weights=weights,
        edges=edges,
    )
    return publish_bundle(
        layers,
        out,
        options,
        nearby_km=nearby_km,
        forest_loss=forest_loss,
        risk_config=risk_config,
        districts=read_constraint(districts, "districts"),
        water=read_constraint(water, "water"),
        regions=read_constraint(regions, "regions"),
    )


def _stated_permissions(
    permissions: Mapping[str, str], layers: Mapping[str, Layer], lang: Lang
) -> str | None:
    """The map's attribution line for the stated permissions (plain text; the map escapes it)."""
    lines = [
        PERMISSION_STATED[lang].format(layer=layer_label(kind, lang), statement=statement)
        for kind, statement in permissions.items()
        if kind in layers
    ]
    return "; ".join(lines) or None


def run_map(
    paths: Mapping[str, LayerPaths | None],
    target: str | os.PathLike[str] | None,
    *,
    lang: Lang = "es",
    profile: Profile = "public",
    title: str | None = None,
    offline: bool = False,
    basemap: str = "osm",
    hexagons: bool = True,
    png_dir: str | os.PathLike[str] | None = None,
    tiles_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    nearby_km: float = DEFAULT_NEARBY_KM,
    assume_crs: str | Mapping[str, str] | None = None,
    mappings: Mapping[str, Mapping[str, str]] | None = None,
    defaults: Mapping[str, Mapping[str, object]] | None = None,
    forest_loss: str | os.PathLike[str] | None = None,
    risk_config: RiskConfig | None = None,
    group_territories: str | None = None,
    weights: Mapping[str, str] | None = None,
    edges: str = DEFAULT_EDGES,
    regions: str | os.PathLike[str] | None = None,
    shade_regions: str | None = None,
    outline: str | os.PathLike[str] | None = None,
    permissions: Mapping[str, str] | None = None,
) -> RunResult:
    """Read, analyse and draw: the Python form of ``geotools map``.

    Parameters
    ----------
    paths : mapping of str to path or None
        Layer kind -> file or files (``None`` for absent optional layers).
    target : str or path-like or None
        HTML file to write; None writes no HTML map (then ``tiles_dir`` is needed).
    lang : {"es", "en"}, default "es"
        Language of the map.
    profile : {"public", "internal"}, default "public"
        Who the map is for (:func:`geotools.maps.write_map_html`).
    title : str, optional
        Title of the map.
    offline : bool, default False
        Inline the scripts and style sheets.
    basemap : {"osm", "satellite", "none"}, default "osm"
        Basemap shown first.
    hexagons : bool, default True
        Add the risk hexagons (built from the incidents the profile may show).
    png_dir : str or path-like, optional
        Also write the static PNG maps into this folder.
    tiles_dir : str or path-like, optional
        Also (or only) write vector tiles and their viewer into this folder
        (:func:`geotools.maps.write_map_tiles`).
    overwrite : bool, default False
        Replace existing outputs.
    nearby_km : float, default 5.0
        Geodesic distance (km) within which incidents and infrastructure count as nearby.
    assume_crs : str or mapping of str to str, optional
        CRS for files that declare none.
    mappings : mapping, optional
        Layer kind -> ``{canonical column: source column}``.
    defaults : mapping, optional
        Layer kind -> ``{canonical column: value}``.
    forest_loss : str or path-like, optional
        Forest-loss GeoTIFF in Hansen ``lossyear`` coding.
    risk_config : RiskConfig, optional
        Settings of the risk score.
    group_territories : str, optional
        Merge territories sharing a value of this column into one.
    weights : mapping of str to str, optional
        Layer kind -> numeric column to pro-rate by overlap share.
    edges : {"geodesic", "lonlat"}, default "geodesic"
        How every layer's edges are read.
    regions : str or path-like, optional
        Region polygons (INEI departments, provinces, districts), drawn with their
        ``region_stats`` figures.
    shade_regions : str, optional
        ``region_stats`` column to shade the regions by; checked against the table before
        anything is written (:func:`geotools.maps.region_layer.check_shade_column`).
    outline : str or path-like, optional
        Polygons drawn as a thin grey outline under the map (default with ``basemap="none"``:
        the packaged outline of Peru and its neighbours).
    permissions : mapping of str to str, optional
        Layer kind -> the publisher's statement that the source allowed record-level
        publishing; a public map refuses a layer whose terms require it without one
        (:func:`geotools.privacy.check_permissions`).

    Returns
    -------
    RunResult
        The statistics, the layers read and the files written (the map, the tiles folder's
        files, then the PNGs).

    Raises
    ------
    OutputExistsError
        The map exists and ``overwrite`` is False (checked before reading anything).
    ValidationError
        ``shade_regions`` without ``regions``, or a column ``region_stats`` does not have.
    """
    if target is None and tiles_dir is None:
        raise SourceError("run_map: give an HTML file (target), a tiles folder (tiles_dir) or both")
    out = Path(target) if target is not None else None
    if out is not None:
        check_outputs_free(out.parent, [out.name], overwrite=overwrite)
    if shade_regions is not None and regions is None:
        check_shade_column(None, shade_regions)
    region_frame = read_constraint(regions, "regions")
    layers = read_inputs(
        paths,
        assume_crs=assume_crs,
        mappings=mappings,
        defaults=defaults,
        group_territories=group_territories,
        weights=weights,
        edges=edges,
    )
    if profile == "public":
        check_permissions(layers, permissions or {}, output="map")
    result = compute_stats(
        layers, nearby_km=nearby_km, forest_loss=forest_loss, risk_config=risk_config
    )
    if region_frame is not None:
        add_region_stats(result, layers, region_frame)
        if shade_regions is not None:
            check_shade_column(result.regions, shade_regions)
    cells = compute_map_hexagons(result, layers, profile=profile) if hexagons else None
    # One pass through the privacy gate for every output of the command.
    view = shareable_view(result, layers, profile, regions=region_frame)
    written: list[Path] = []
    if out is not None:
        written.append(
            write_map_html(
                result,
                layers,
                out,
                lang=lang,
                overwrite=overwrite,
                profile=profile,
                title=title,
                offline=offline,
                hexagons=cells,
                basemap=basemap,
                regions=region_frame,
                shade_regions=shade_regions,
                outline=outline,
                attribution=_stated_permissions(permissions or {}, layers, lang),
                view=view,
            )
        )
    if tiles_dir is not None:
        written += write_map_tiles(
            result,
            layers,
            tiles_dir,
            lang=lang,
            overwrite=overwrite,
            profile=profile,
            title=title,
            offline=offline,
            hexagons=cells,
            basemap=basemap,
            regions=region_frame,
            shade_regions=shade_regions,
            view=view,
        )
    if png_dir is not None:
        written += write_static_map_files(
            result,
            layers,
            png_dir,
            lang=lang,
            profile=profile,
            overwrite=overwrite,
            regions=region_frame,
            shade_regions=shade_regions,
            view=view,
        )
    return RunResult(result, layers, written)
