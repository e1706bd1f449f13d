"""Writing a bundle (``geotools publish``): :func:`publish_bundle`, all or nothing.

A bundle is one folder: the layers as RFC 7946 GeoJSON, ``territory_stats.csv``,
``overlaps.csv``, ``timeseries.csv``, ``analysis.gpkg``, the map, a ``README.md`` data dictionary,
a Frictionless ``datapackage.json`` and ``SHA256SUMS`` (Shapefile and KML on request). It is
written into a staging folder beside the target and renamed into place only when complete and,
for the ``public`` profile, only when the leak check (:func:`check_bundle`) finds nothing.

The privacy rules live in :mod:`geotools.privacy`; see ``docs/publish.md`` for the decisions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geotools.analysis.region_run import attach_region_stats
from geotools.analysis.risk import RiskConfig
from geotools.analysis.stats import StatsResult, compute_stats, round_table
from geotools.errors import BundleError, ForeignFilesError
from geotools.export import compute_sha256, write_csv, write_geojson, write_geopackage
from geotools.gdalpath import gdal_write_path
from geotools.io import Layer
from geotools.maps import write_map_html
from geotools.maps.region_layer import check_shade_column
from geotools.maps.style import layer_label
from geotools.outputs import mark_output_folder, staged_outputs
from geotools.privacy import (
    GeneralisedIncidents,
    ShareableView,
    check_permissions,
    compute_shareable_view,
    derive_key,
    find_personal_columns,
    region_frame,
    select_drawable,
)
from geotools.privacy.permission import PERMISSION_STATED
from geotools.publish.leakcheck import check_bundle
from geotools.publish.model import (
    FORMATS,
    BundleReport,
    PublishOptions,
    _Bundle,
    _save_positions,
    describe_licence,
    open_position_store,
)
from geotools.publish.readme import (
    _positions_section,
    _privacy_section,
    _public_text,
    _write_datapackage,
    _write_readme,
)
from geotools.schema import DEFAULT_NEARBY_KM, PROFILES

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Staging
# --------------------------------------------------------------------------------------------


@contextmanager
def staged_bundle(out: Path, *, overwrite: bool) -> Iterator[Path]:
    """Yield a staging folder beside ``out``; on success it replaces ``out`` as a whole.

    A folder is replaced only with ``overwrite`` and only when it is empty or holds nothing but
    files geotools wrote (listed in its :data:`geotools.outputs.MARKER`): ``--overwrite`` never
    deletes a user's files, and nothing of the old bundle survives. The folder is locked for
    the run, a symbolic link is refused, and nothing of a failed run is left behind (a killed
    run's staging folder is removed by the next run). See :func:`geotools.outputs.staged_outputs`.

    Parameters
    ----------
    out : pathlib.Path
        The bundle folder.
    overwrite : bool
        Whether an existing bundle folder may be replaced.

    Yields
    ------
    pathlib.Path
        The staging folder to write the bundle into.

    Raises
    ------
    BundleError
        With ``overwrite``, ``out`` holds files geotools did not write (nothing is touched).
    OutputExistsError
        ``out`` is a file, or a non-empty folder and ``overwrite`` is False.
    OutputError
        ``out`` is a symbolic link, locked by another run, or cannot be written.
    """
    try:
        with staged_outputs(
            Path(out), [], overwrite=overwrite, group="publish", whole=True
        ) as stage:
            yield stage
    except ForeignFilesError as exc:
        raise BundleError(f"{exc}") from exc


def _shapefile_names(columns: Sequence[str]) -> dict[str, str]:
    """Unique field names of at most 10 characters for a Shapefile (deterministic)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for column in columns:
        base = column[:10]
        name, i = base, 1
        while name.lower() in used:
            suffix = f"_{i}"
            name, i = base[: 10 - len(suffix)] + suffix, i + 1
        used.add(name.lower())
        out[column] = name
    return out


def _layer_frame(layer: Layer) -> gpd.GeoDataFrame:
    return layer.frame.to_crs(4326).reset_index(drop=True)


def _describe_sources(
    layers: Mapping[str, Layer], profile: str, view: ShareableView | None = None
) -> list[dict[str, Any]]:
    """File, checksum, licence and source names of each layer; a public bundle names only the
    sources the privacy gate's ``view`` may show (incidents: sources of published records)."""
    sources = []
    for kind, layer in layers.items():
        entry: dict[str, Any] = {"layer": kind, "file": layer.path.name, "sha256": layer.sha256}
        entry.update(describe_licence(layer))
        frame = layer.frame
        column = "claim_source" if kind == "territories" else "source"
        if view is not None:
            names = view.sources.get(kind, [])
            if names:
                entry["sources"] = sorted(names)[:20]
        elif column in frame.columns:
            rows = frame
            if kind == "incidents" and profile == "public":
                rows = frame.loc[select_drawable(frame, "public")[0]]
            values = rows[column].dropna().astype(str).unique().tolist()
            entry["sources"] = sorted(values)[:20]
        sources.append(entry)
    return sources


def _prepare(
    layers: Mapping[str, Layer],
    options: PublishOptions,
    compute: Callable[[Mapping[str, Layer]], StatsResult],
    districts: gpd.GeoDataFrame | None,
    water: gpd.GeoDataFrame | None,
    regions: gpd.GeoDataFrame | None = None,
) -> tuple[_Bundle, GeneralisedIncidents | None]:
    policy = options.policy
    if options.profile == "internal":
        sources = _describe_sources(layers, options.profile)
        attribution = [f"{s['layer']}: {s['licence']}" for s in sources if s.get("licence")]
        stats = compute(layers)
        frames = {kind: _layer_frame(layer) for kind, layer in layers.items()}
        return (
            _Bundle(
                "internal",
                stats,
                frames,
                None,
                dict(layers),
                sources,
                {"profile": "internal"},
                attribution,
                None if regions is None or stats.regions is None
                else region_frame(regions, stats.regions),
            ),
            None,
        )
    # One gate for every public file: statistics of every incident, then the view recounts
    # them from what is published, at the published places.
    # A layer whose terms require permission: records only with a stated permission,
    # else aggregates (--aggregate-only, incidents) or a one-line refusal.
    allowed = check_permissions(
        layers, options.permissions, aggregate_only=options.aggregate_only, output="bundle"
    )
    redistributable = allowed.get("incidents", True)
    key = derive_key(options.secret) if options.secret else None
    view = compute_shareable_view(
        compute(layers),
        layers,
        profile="public",
        policy=policy,
        key=key,
        districts=districts,
        water=water,
        decimals=options.decimals,
        redistributable=redistributable,
        keep_columns=options.keep_columns,
        store=open_position_store(options, key),
        regions=regions,
    )
    frames = {kind: frame.reset_index(drop=True) for kind, frame in view.layers.items()}
    if not redistributable:
        frames.pop("incidents", None)
    map_layers = {kind: dataclasses.replace(layers[kind], frame=frames[kind]) for kind in frames}
    sources = _describe_sources(layers, "public", view)
    for entry in sources:
        if entry["layer"] in options.permissions:
            entry["redistributable"] = True
            entry["permission"] = str(options.permissions[entry["layer"]]).strip()
    attribution = [f"{s['layer']}: {s['licence']}" for s in sources if s.get("licence")]
    generalised = view.generalised
    if generalised is not None:
        # Personal fields of the other layers must not appear anywhere either.
        for kind, layer in layers.items():
            if kind == "incidents":
                continue
            personal = find_personal_columns(
                [c for c in layer.frame.columns if c != layer.frame.geometry.name]
            )
            for column in personal:
                values = layer.frame[column].dropna().astype(str).str.strip()
                generalised.withheld.values += [
                    (f"personal field {column} of {kind}", v)
                    for v in values[values.str.len() >= 4].unique()
                ]
    facts = {k: v for k, v in view.facts.items() if k != "dropped_columns_by_layer"}
    privacy = {
        "profile": "public",
        "policy": dataclasses.asdict(policy),
        "incidents": facts,
        "columns_not_published": view.dropped_columns,
    }
    return (
        _Bundle(
            "public",
            view.result,
            frames,
            view.hexagons,
            map_layers,
            sources,
            privacy,
            attribution,
            view.regions,
        ),
        generalised,
    )


def community_files(
    points: gpd.GeoDataFrame, tables: Any
) -> tuple[gpd.GeoDataFrame, dict[str, pd.DataFrame]]:
    """The community layer of a bundle and its tables (already through the privacy gate).

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        The community points as the profile may publish them (public: allow-listed columns;
        positions as given: communities are public places).
    tables : geotools.analysis.communities.CommunityResult or None
        The view's community tables (public: incidents nearby counted from what is published).

    Returns
    -------
    points : geopandas.GeoDataFrame
        The points with the per-community figures joined (``communities.geojson``).
    tables : dict of str to pandas.DataFrame
        ``community_stats.csv`` and ``community_membership.csv`` (none without tables).
    """
    if tables is None:
        return points, {}
    stats = round_table(tables.stats)
    extra = [c for c in stats.columns if c not in points.columns or c == "community_id"]
    ids = points["community_id"].astype(str)
    keyed = stats[extra].drop_duplicates("community_id").set_index(
        stats[extra].drop_duplicates("community_id")["community_id"].astype(str)
    )
    joined = points.copy()
    for column in extra:
        if column != "community_id":
            joined[column] = ids.map(keyed[column]).to_numpy()
    membership = tables.membership.round({"boundary_distance_m": 1})
    return joined, {"community_stats.csv": stats, "community_membership.csv": membership}


def _write_tables(bundle: _Bundle, stage: Path, decimals: int) -> dict[str, pd.DataFrame]:
    written: dict[str, pd.DataFrame] = {}
    tables = {
        "territory_stats.csv": round_table(bundle.stats.table),
        "overlaps.csv": round_table(bundle.stats.overlaps),
        "timeseries.csv": round_table(bundle.stats.timeseries),
    }
    for name, table in tables.items():
        write_csv(table, stage / name)
        written[name] = table
    territories = round_table(pd.DataFrame(bundle.stats.territories))
    geo = {
        "territories.geojson": gpd.GeoDataFrame(
            territories, geometry="geometry", crs=bundle.stats.territories.crs
        ),
    }
    for kind in ("parcels", "concessions", "incidents", "infrastructure"):
        if kind in bundle.layers:
            geo[f"{kind}.geojson"] = bundle.layers[kind]
    if "communities" in bundle.layers:
        points, community_tables = community_files(bundle.layers["communities"],
                                                   bundle.stats.communities)
        geo["communities.geojson"] = points
        for name, table in community_tables.items():
            write_csv(table, stage / name)
            written[name] = table
    if bundle.hexagons is not None:
        geo["incident_hexagons.geojson"] = bundle.hexagons
    if bundle.regions is not None and bundle.stats.regions is not None:
        # Public: incident counts recounted from what is published, small ones as "<N".
        write_csv(round_table(bundle.stats.regions), stage / "region_stats.csv")
        written["region_stats.csv"] = bundle.stats.regions
        geo["regions.geojson"] = bundle.regions
    for name, frame in geo.items():
        write_geojson(frame, stage / name, decimals)
        written[name] = frame
    gpkg: dict[str, gpd.GeoDataFrame] = {"territory_stats": geo["territories.geojson"]}
    if bundle.stats.untitled is not None:
        gpkg["untitled"] = bundle.stats.untitled
    for name, frame in geo.items():
        if name != "territories.geojson":
            gpkg[name.removesuffix(".geojson")] = frame.to_crs(4326)
    write_geopackage(gpkg, stage / "analysis.gpkg")
    return written


def _write_formats(
    frames: Mapping[str, pd.DataFrame], formats: Sequence[str], stage: Path
) -> dict[str, dict[str, str]]:
    names: dict[str, dict[str, str]] = {}
    for file, frame in frames.items():
        if not file.endswith(".geojson"):
            continue
        stem = file.removesuffix(".geojson")
        wgs = gpd.GeoDataFrame(frame).to_crs(4326)
        wgs = wgs.loc[~(wgs.geometry.isna() | wgs.geometry.is_empty)]
        columns = [c for c in wgs.columns if c != wgs.geometry.name]
        if "shp" in formats:
            rename = _shapefile_names(columns)
            names[stem] = {v: k for k, v in rename.items() if v != k}
            (stage / "shp").mkdir(exist_ok=True)
            with gdal_write_path(stage / "shp" / f"{stem}.shp") as shp:
                pyogrio.write_dataframe(
                    wgs.rename(columns=rename),
                    shp,
                    driver="ESRI Shapefile",
                    promote_to_multi=bool(wgs.geom_type.str.startswith("Multi").any()),
                    encoding="UTF-8",
                )
        if "kml" in formats:
            (stage / "kml").mkdir(exist_ok=True)
            with gdal_write_path(stage / "kml" / f"{stem}.kml") as kml:
                pyogrio.write_dataframe(wgs, kml, driver="KML")
    return names


def _write_checksums(stage: Path) -> None:
    lines = [
        f"{compute_sha256(p)}  {p.relative_to(stage).as_posix()}"
        for p in sorted(stage.rglob("*"))
        if p.is_file() and p.name != "SHA256SUMS"
    ]
    (stage / "SHA256SUMS").write_text("\n".join(lines) + "\n", encoding="utf-8")


def publish_bundle(
    layers: Mapping[str, Layer],
    out_dir: str | os.PathLike[str],
    options: PublishOptions | None = None,
    nearby_km: float = DEFAULT_NEARBY_KM,
    forest_loss: str | os.PathLike[str] | None = None,
    risk_config: RiskConfig | None = None,
    districts: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    regions: gpd.GeoDataFrame | None = None,
) -> BundleReport:
    """Write a download bundle of validated layers (``geotools publish``), all or nothing.

    Parameters
    ----------
    layers : mapping of str to Layer
        Layers from :func:`geotools.io.read_inputs`.
    out_dir : str or path-like
        Bundle folder (replaced as a whole with ``options.overwrite``).
    options : PublishOptions, optional
        Profile, formats, privacy policy, secret...
    nearby_km, forest_loss, risk_config
        As for :func:`geotools.analysis.stats.compute_stats`; the statistics are computed here, for
        the public profile without confidential incidents.
    districts, water : geopandas.GeoDataFrame, optional
        Constraints of the displacement (public profile).
    regions : geopandas.GeoDataFrame, optional
        Region polygons (INEI departments...): ``region_stats.csv`` and ``regions.geojson``
        as the privacy gate lets them out (public: incident counts from the published
        incidents, below ``policy.min_count`` as ``"<N"``), drawn on the map.

    Returns
    -------
    BundleReport

    Raises
    ------
    LeakError
        The public bundle failed the leak check (nothing is left behind).
    OutputExistsError, BundleError, PrivacyError
    """
    options = options or PublishOptions()
    if options.profile not in PROFILES:
        raise BundleError(f"profile {options.profile!r}: use public or internal")
    unknown = set(options.formats) - set(FORMATS)
    if unknown:
        raise BundleError(f"format(s) {', '.join(sorted(unknown))}: use shp and/or kml")
    if not 0 <= options.decimals <= 8:
        raise BundleError(f"{options.decimals} decimals: use 0-8 (6 is about 0.1 m)")
    out = Path(out_dir)
    created = options.created or dt.datetime.now(dt.UTC).date().isoformat()

    def compute(chosen: Mapping[str, Layer]) -> StatsResult:
        result = compute_stats(
            chosen, nearby_km=nearby_km, forest_loss=forest_loss, risk_config=risk_config
        )
        if regions is not None:
            attach_region_stats(result, {k: v.frame for k, v in chosen.items()}, regions)
            if options.shade_regions is not None:
                check_shade_column(result.regions, options.shade_regions)
        return result

    with staged_bundle(out, overwrite=options.overwrite) as stage:
        if options.shade_regions is not None and regions is None:
            check_shade_column(None, options.shade_regions)
        bundle, generalised = _prepare(layers, options, compute, districts, water, regions)
        bundle.privacy["districts"] = districts is not None
        bundle.privacy["water"] = water is not None
        frames = _write_tables(bundle, stage, options.decimals)
        shp_names = _write_formats(frames, options.formats, stage)
        attribution = (
            "; ".join(
                [
                    f"{layer_label('incidents', options.lang)}: {s['licence']}"
                    for s in bundle.sources
                    if s["layer"] == "incidents" and s.get("licence")
                ]
                + [
                    PERMISSION_STATED[options.lang].format(
                        layer=layer_label(s["layer"], options.lang), statement=s["permission"]
                    )
                    for s in bundle.sources
                    if s.get("permission")
                ]
            )
            or None
        )
        write_map_html(
            bundle.stats,
            bundle.map_layers,
            stage / "map.html",
            lang=options.lang,
            profile=bundle.profile,
            attribution=attribution,
            offline=options.offline,
            basemap=options.basemap,
            regions=regions,
            shade_regions=options.shade_regions,
        )
        _write_readme(bundle, options, stage, frames, shp_names, created)
        _write_datapackage(bundle, stage, frames, created)
        facts: dict[str, Any] = dict(bundle.privacy.get("incidents", {}))
        if generalised is not None:
            published = shapely.get_coordinates(generalised.published.geometry.to_numpy())
            if "communities" in bundle.layers:
                # Community points are public places (registry positions), published where
                # they are: a point near a restricted incident's true place is not a leak.
                places = bundle.layers["communities"].to_crs(4326).geometry.to_numpy()
                published = np.r_[published, shapely.get_coordinates(places)]
            secrets = [options.secret.strip()] if options.secret else []
            facts["leak_check_s"] = check_bundle(
                stage,
                generalised.withheld,
                published,
                options.policy.min_distance_m,
                secrets,
                boilerplate="\n".join(
                    [*_privacy_section(bundle, options), *_positions_section(bundle, options)]
                ),
                public_text=_public_text(bundle),
                decimals=options.decimals,
            )
            _save_positions(generalised, options)
        # Only now, after the leak check: a bundle with a marker and SHA256SUMS has passed it.
        mark_output_folder(stage, "publish", extra=["SHA256SUMS"])
        _write_checksums(stage)
        files = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in stage.rglob("*") if p.is_file())
    log.info("wrote %s bundle %s (%d files, %.1f kB)", bundle.profile, out, len(files), size / 1024)
    return BundleReport(out=out, files=files, bytes=size, facts=facts)
