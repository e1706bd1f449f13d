"""The ``geotools`` commands: a thin layer over the Python API.

Errors are one line naming the file, the problem and the fix; exit code 1 (2 for usage errors);
tracebacks only with ``-v``. The options several commands share are in
:mod:`geotools.cli.options`.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click
import pandas as pd

from geotools._version import __version__
from geotools.analysis.communities import describe_communities
from geotools.analysis.community_study import NOT_ANALYSED_TERRITORIES, territories_analysed
from geotools.analysis.infrastructure import locate_km_marks
from geotools.analysis.regions import ADMIN_LEVELS, region_columns
from geotools.analysis.stats import describe_territory
from geotools.cli.options import (
    EPILOG_LAYERS,
    GROUP_TERRITORIES_HELP,
    assume_crs_option,
    basemap_option,
    common_options,
    default_option,
    group_territories_option,
    lang_option,
    layer_options,
    map_option,
    offline_option,
    out_option,
    overwrite_option,
    parse_assume_crs,
    parse_defaults,
    parse_mappings,
    parse_risk_config,
    parse_weights,
    pop_layer_paths,
    profile_option,
)
from geotools.cli.permission_options import parse_permissions, permission_option
from geotools.cli.study_options import (
    areas_option,
    check_study_options,
    parse_areas,
    regions_option,
    require_territories,
    shade_regions_option,
)
from geotools.cli.terminal import EscapingGroup, echo
from geotools.demo import run_demo
from geotools.errors import SourceError
from geotools.export import write_geopackage, write_json
from geotools.io import LAYER_KINDS, Layer, import_metadata, read_frame, read_layer
from geotools.io.importers import IMPORTERS
from geotools.maps import (
    build_embed_snippet,
    fetch_map_assets,
)
from geotools.outputs import atomic_path, check_outputs_free
from geotools.pipeline import RunResult, run_map, run_publish, run_stats
from geotools.privacy import PrivacyPolicy
from geotools.project import run_project
from geotools.publish import BundleError, PublishOptions, positions_path, read_secret
from geotools.schema import Lang, Profile, normalise_name

log = logging.getLogger("geotools")


@click.group(
    cls=EscapingGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Run 'geotools COMMAND --help' for a command's options. Start with 'geotools demo'.",
)
@click.version_option(__version__, "-V", "--version", prog_name="geotools")
def main() -> None:
    """geotools: titled-versus-claimed land, concessions and incidents per territory.

    Overlays ancestral territories, legal parcels, concessions and incident points and reports,
    per territory, how much is titled, how much lies under concessions and what happened in and
    near it, in true (geodesic) hectares.
    """


@main.command(epilog=EPILOG_LAYERS)
@layer_options
@out_option("Output folder.", folder=True, dest="out_dir", required=True)
@overwrite_option()
@regions_option(
    "Region polygons (INEI departments, provinces or districts): region_stats.csv and the "
    "region of each territory, incident (analysis.gpkg) and community."
)
@areas_option
@common_options
def stats(
    out_dir: str,
    overwrite: bool,
    regions: str | None,
    areas: tuple[str, ...],
    nearby_km: float,
    assume_crs: tuple[str, ...],
    **kwargs: Any,
) -> None:
    """Per-territory tenure, concession and incident statistics; per-community memberships.

    Writes OUT/territory_stats.csv (one row per territory), OUT/overlaps.csv (territory x
    concession pairs), OUT/analysis.gpkg, OUT/provenance.json and OUT/qa/<layer>.json, and prints
    one sentence per territory.

    Needs --territories, --communities or both. With community points and no territories (a
    community study: "which communities lie in oil block 108") the community tables,
    region_stats.csv (without territory columns), analysis.gpkg, provenance.json and qa/ are
    written; territory_stats.csv, overlaps.csv, timeseries.csv and risk_sensitivity.csv are not
    analysed, so not written (provenance.json says so). --parcels and --forest-loss need
    --territories.

    \b
    Examples:
      geotools stats --territories territories.gpkg --parcels parcels.shp \\
        --concessions concesiones.geojson --incidents incidents.csv --out results/
      geotools stats --communities comunidades-nativas.geojson \\
        --areas blocks=lotes-petroleros.geojson --regions departamentos.geojson --out obs/
    """
    area_files = parse_areas(areas)
    names = tuple(area_files)
    paths = pop_layer_paths(kwargs)
    check_study_options(paths)
    run = run_stats(
        paths,
        out_dir,
        nearby_km=nearby_km,
        overwrite=overwrite,
        assume_crs=parse_assume_crs(assume_crs, names),
        mappings=parse_mappings(kwargs.pop("field_map"), areas=names),
        defaults=parse_defaults(kwargs.pop("layer_defaults"), names),
        group_territories=kwargs.pop("group_territories"),
        weights=parse_weights(kwargs.pop("weights")),
        forest_loss=kwargs.pop("forest_loss"),
        risk_config=parse_risk_config(kwargs.pop("risk_weight")),
        edges=kwargs.pop("edges"),
        regions=regions,
        areas=area_files,
    )
    _print_summary(run)
    for _, row in run.stats.table.iterrows():
        echo(describe_territory(row))
    _print_analysed(run)
    echo(
        f"Wrote {out_dir}/"
        + ", ".join(path.name + ("/" if path.is_dir() else "") for path in run.written)
    )


def _print_analysed(run: RunResult) -> None:
    """Say which layers were analysed (features kept) and, without territories, what was not."""
    layers = {**run.layers, **run.areas}
    analysed = [f"{name} ({len(layer.frame):,})" for name, layer in layers.items()]
    if run.stats.regions is not None:
        analysed.append(f"regions ({len(run.stats.regions):,})")
    echo(f"Analysed: {', '.join(analysed)}")
    if not territories_analysed(run.stats):
        echo(f"Territories not analysed: {NOT_ANALYSED_TERRITORIES}")


def _print_summary(run: RunResult) -> None:
    """Log each layer's QA summary; say what lies outside every territory."""
    for layer in [*run.layers.values(), *run.areas.values()]:
        log.info("%s", layer.ledger.summary())
    for label, facts in run.stats.outside.items():
        if facts["count"]:
            echo(f"Outside every territory: {facts['count']} {label} ({facts['ha']:,.1f} ha)")
    if run.stats.communities is not None:
        for line in describe_communities(run.stats.communities):
            echo(line)


@main.command()
@out_option(
    "Root folder for outputs (default: the checkout, i.e. data/processed/ and maps/).",
    folder=True,
)
@overwrite_option("Replace earlier demo outputs.")
@lang_option()
@common_options
def demo(out: str | None, overwrite: bool, lang: Lang) -> None:
    """Run the whole pipeline on the bundled (invented) Ucayali demo data.

    Writes data/processed/ (statistics, GeoPackage, provenance, QA) and maps/risk_map.html, in
    the checkout or under --out DIR.
    """
    done = run_demo(out, overwrite=overwrite, lang=lang)
    run = done["result"]
    _print_summary(run)
    for _, row in run.stats.table.iterrows():
        echo(describe_territory(row))
    echo(
        f"Wrote {done['processed']}/ (internal; the public bundle is in "
        f"{done['processed']}/public/), {done['map']} and its static PNGs in "
        f"{done['map'].parent}/static/"
    )


@main.command()
@click.argument("path", type=click.Path())
@click.option(
    "--as",
    "kind",
    required=True,
    type=click.Choice((*LAYER_KINDS, "areas", "regions")),
    help="Which canonical layer the file is: areas for a layer given to stats --areas, "
    "regions for --regions (its id and name columns and level are said).",
)
@click.option("--report", type=click.Path(dir_okay=False), help="Write the QA report as JSON.")
@assume_crs_option("CRS for a file that declares none.")
@map_option(
    "Field mapping of the layer, repeatable, as for stats: e.g. --map territories.name=NOMBRE "
    "(the layer must be the one of --as)."
)
@default_option()
@group_territories_option(
    "With --as territories: check the layer as stats, map and publish read it with the same "
    "option. " + GROUP_TERRITORIES_HELP
)
@overwrite_option("Replace an existing report.")
@common_options
def validate(
    path: str,
    kind: str,
    report: str | None,
    assume_crs: str | None,
    field_map: tuple[str, ...],
    layer_defaults: tuple[str, ...],
    group_territories: str | None,
    overwrite: bool,
) -> None:
    """Check a layer and say what would happen to every feature.

    Prints the QA summary; exits 1 when a feature had to be rejected.
    """
    if group_territories and kind != "territories":
        raise click.BadParameter(
            f"merges territories, but the file is read --as {kind}; use --as territories",
            param_hint="--group-territories",
        )
    if report:
        check_outputs_free(Path(report).parent, [Path(report).name], overwrite=overwrite)
    extra = ("areas",) if kind == "areas" else ()
    mappings = parse_mappings(field_map, areas=extra)
    defaults = parse_defaults(layer_defaults, extra)
    for option, table in (("--map", mappings), ("--default", defaults)):
        other = sorted(set(table) - {kind})
        if other:
            raise click.BadParameter(
                f"names layer {other[0]!r} but the file is read --as {kind}; use "
                f"{option} {kind}.COLUMN=...",
                param_hint=option,
            )
    if kind == "regions":
        layer = _validate_regions(path, assume_crs)
    else:
        layer = read_layer(
            path,
            kind,
            assume_crs=assume_crs,
            mapping=mappings.get(kind),
            defaults=defaults.get(kind),
            group_by=group_territories,
        )
    ledger = layer.ledger
    echo(ledger.summary())
    for problem in ledger.problems[:20]:
        echo(f"  {problem.feature}: {problem.problem} -> {problem.action}")
    if len(ledger.problems) > 20:
        echo(f"  ... {len(ledger.problems) - 20} more (see --report)")
    if report:
        write_json(ledger.to_dict(), Path(report), overwrite=overwrite)
    if ledger.count("rejected"):
        sys.exit(1)


def _validate_regions(path: str, assume_crs: str | None) -> Layer:
    """Say which columns and level a region layer gives; check its polygons as an area layer."""
    frame = read_frame(path, assume_crs=assume_crs)
    id_column, name_column = region_columns(frame)
    level = ADMIN_LEVELS.get(normalise_name(id_column)) or "not known (no INEI id column)"
    echo(
        f"regions: {len(frame)} read; region_id from {id_column!r}, region from "
        f"{name_column!r}; administrative level {level}"
    )
    layer = read_layer(path, "areas", assume_crs=assume_crs, mapping={"area_id": id_column})
    layer.ledger.layer = "regions"
    return layer


@main.command("map", epilog=EPILOG_LAYERS)
@layer_options
@out_option(
    "HTML file to write (required unless --tiles is given).", folder=False, dest="out_file"
)
@lang_option(None)
@profile_option(
    "public: only incidents marked public (or already generalised) are drawn, and every "
    "count, risk score and sentence is computed from those alone; personal and unknown columns "
    "are left out (safe to share); internal: restricted incidents too, at their exact place "
    "(never share it).",
)
@offline_option
@basemap_option
@click.option(
    "--embed",
    is_flag=True,
    help="Also print an <iframe> snippet to paste into a web page or report (the map fills "
    "the frame's width and height).",
)
@click.option(
    "--hexagons/--no-hexagons",
    default=True,
    show_default=True,
    help="Add the risk surface averaged on H3 hexagons (hidden at first; built from the "
    "incidents the profile may show).",
)
@click.option("--title", help="Title of the map (default: a title per language).")
@regions_option(
    "Region polygons (INEI departments, provinces or districts), drawn with their figures "
    "(the columns of region_stats.csv) in popups."
)
@shade_regions_option(
    "Shade the regions by this column of region_stats.csv (e.g. incidents, killings, "
    "communities, claimed_ha, concession_oil_gas_ha); a public map shows counts of incidents "
    "below the minimum as 'fewer than 3'."
)
@click.option(
    "--outline",
    type=click.Path(dir_okay=False),
    default=None,
    help="Polygons (regions, departments; any vector file) drawn as a thin grey outline under "
    "the map, so that it reads without a basemap. Without it, --basemap none draws the borders "
    "of Peru and its neighbours (Natural Earth 1:110m).",
)
@click.option(
    "--png",
    "png_dir",
    type=click.Path(file_okay=False),
    help="Also write static PNG maps for reports into this folder: overview.png and one "
    "<territory_id>.png per territory (same profile and language).",
)
@click.option(
    "--tiles",
    "tiles_dir",
    type=click.Path(file_okay=False),
    help="Also (or, without --out, only) write the map as vector tiles for a web server: one "
    "<layer>.pmtiles per layer the profile may show and an index.html viewer (MapLibre; "
    "with --offline its scripts are copied into DIR/lib); serve the folder with any static "
    "server that answers range requests (docs/tiles.md).",
)
@permission_option("map, tiles and PNGs")
@overwrite_option("Replace an existing file.")
@common_options
def map_command(
    out_file: str | None,
    lang: Lang,
    profile: Profile,
    offline: bool,
    basemap: str,
    embed: bool,
    hexagons: bool,
    title: str | None,
    regions: str | None,
    shade_regions: str | None,
    outline: str | None,
    png_dir: str | None,
    tiles_dir: str | None,
    permissions: tuple[str, ...],
    overwrite: bool,
    nearby_km: float,
    assume_crs: tuple[str, ...],
    **kwargs: Any,
) -> None:
    """Interactive risk map (one HTML file): territories shaded by risk class or titled share,
    parcels, concessions, infrastructure, incidents (clustered icons, heat map, year slider),
    community points (clustered), regions shaded by a column of region_stats.csv and the risk
    hexagons, with search, legend and sources.

    \b
    Examples:
      geotools map --territories t.gpkg --parcels p.gpkg --incidents i.csv --out map.html
      geotools map ... --lang en --offline --embed --out map_en.html
      geotools map ... --communities comunidades.geojson --regions departamentos.geojson \\
        --shade-regions incidents --out map.html
      geotools map ... --offline --basemap none --tiles site/   # PMTiles + viewer

    Which incidents are drawn follows --profile (public by default: restricted and
    confidential incidents are not drawn, and the counts, risk scores and sentences come from
    the drawn incidents only; see docs/publish.md, "The privacy gate").
    """
    if not out_file and not tiles_dir:
        raise click.UsageError("give --out FILE.html, --tiles DIR or both.")
    target = Path(out_file) if out_file else None
    paths = pop_layer_paths(kwargs)
    require_territories(paths, "map", "shades each territory by its risk or titled share")
    run = run_map(
        paths,
        target,
        lang=lang,
        profile=profile,
        title=title,
        offline=offline,
        basemap=basemap,
        hexagons=hexagons,
        png_dir=png_dir,
        tiles_dir=tiles_dir,
        overwrite=overwrite,
        nearby_km=nearby_km,
        assume_crs=parse_assume_crs(assume_crs),
        mappings=parse_mappings(kwargs.pop("field_map")),
        defaults=parse_defaults(kwargs.pop("layer_defaults")),
        group_territories=kwargs.pop("group_territories"),
        weights=parse_weights(kwargs.pop("weights")),
        forest_loss=kwargs.pop("forest_loss"),
        risk_config=parse_risk_config(kwargs.pop("risk_weight")),
        edges=kwargs.pop("edges"),
        regions=regions,
        shade_regions=shade_regions,
        outline=outline,
        permissions=parse_permissions(permissions),
    )
    if target is not None:
        echo(f"Wrote {target}")
    if tiles_dir:
        archives = sum(path.suffix == ".pmtiles" for path in run.written)
        echo(f"Wrote {archives} PMTiles archive(s) and index.html to {tiles_dir}")
    if png_dir:
        pngs = sum(path.suffix == ".png" for path in run.written)
        echo(f"Wrote {pngs} PNG map(s) to {png_dir}")
    if embed and target is not None:
        echo(build_embed_snippet(target.name, title or ""))


@main.command("publish", epilog=EPILOG_LAYERS)
@layer_options
@out_option("Bundle folder.", folder=True, dest="out_dir", required=True)
@profile_option(
    "public: safe to share (personal fields withheld, confidential incidents left out, "
    "restricted ones displaced, leak-checked); internal: everything exact (never share it).",
)
@click.option(
    "--restricted",
    type=click.Choice(["displace", "aggregate"]),
    default="displace",
    show_default=True,
    help="Public profile: displace restricted incidents, or count them per H3 hexagon.",
)
@click.option("--min-km", type=click.FloatRange(min=0, min_open=True), default=2.0,
              show_default=True, help="Minimum displacement (geodesic km; public: at least 2).")
@click.option("--max-km", type=click.FloatRange(min=0, min_open=True), default=5.0,
              show_default=True,
              help="Maximum displacement (geodesic km; public: at least --min-km + 1).")
@click.option("--min-count", type=click.IntRange(min=1), default=3, show_default=True,
              help="Counts below this are published as <N (public: at least 3).")
@click.option("--hex-resolution", type=click.IntRange(0, 15), default=6, show_default=True,
              help="H3 resolution of incident aggregates (6: about 36 km2; public: 8 or less).")
@click.option("--keep-column", "keep_columns", multiple=True, metavar="NAME",
              help="Public profile: also publish this column of the territories, parcels, "
              "concessions or infrastructure (others outside the allow-list are dropped; "
              "personal-looking columns always are). Repeatable.")
@click.option("--districts", type=click.Path(), help="Districts (polygons): displaced incidents "
              "stay in their district.")
@click.option("--water", type=click.Path(), help="Rivers and lakes (polygons or lines): displaced "
              "incidents never land in water.")
@click.option("--secret-file", type=click.Path(dir_okay=False),
              help="File holding the secret key of the displacement (else the "
              "GEOTOOLS_PUBLISH_SECRET variable). Keep it and reuse it: same key, same points.")
@click.option("--positions", "positions", type=click.Path(dir_okay=False),
              help="Position store kept with the key (else GEOTOOLS_PUBLISH_POSITIONS, else "
              "KEY.positions.json beside --secret-file; created by the first release): every "
              "restricted incident keeps its first published position in every later release.")
@click.option("--format", "formats", default="", metavar="shp,kml",
              help="Extra formats besides GeoJSON: shp, kml (comma-separated).")
@click.option("--decimals", type=click.IntRange(0, 8), default=6, show_default=True,
              help="GeoJSON coordinate decimals (6 is about 0.1 m).")
@regions_option(
    "Region polygons (INEI departments, provinces or districts): region_stats.csv and "
    "regions.geojson in the bundle (public: incident counts below --min-count as <N), drawn "
    "on its map."
)
@shade_regions_option("Shade the regions on the bundle's map by this column of region_stats.csv.")
@lang_option()
@offline_option
@basemap_option
@permission_option("bundle")
@click.option("--aggregate-only", is_flag=True,
              help="Public profile: publish the incidents of a layer whose terms require "
              "permission (and no --permission is given) only as aggregates: hexagon and "
              "territory counts, small ones suppressed.")
@overwrite_option("Replace an existing bundle folder.")
@common_options
def publish_command(
    out_dir: str,
    profile: Profile,
    restricted: str,
    min_km: float,
    max_km: float,
    min_count: int,
    hex_resolution: int,
    keep_columns: tuple[str, ...],
    districts: str | None,
    water: str | None,
    secret_file: str | None,
    positions: str | None,
    formats: str,
    decimals: int,
    regions: str | None,
    shade_regions: str | None,
    lang: Lang,
    offline: bool,
    basemap: str,
    permissions: tuple[str, ...],
    aggregate_only: bool,
    overwrite: bool,
    nearby_km: float,
    assume_crs: tuple[str, ...],
    **kwargs: Any,
) -> None:
    """Write a download bundle: GeoJSON (RFC 7946), CSV, GeoPackage, map, README data
    dictionary, datapackage.json and SHA256SUMS (Shapefile/KML with --format).

    The public profile (default) withholds personal fields, leaves confidential incidents out
    (suppressed counts only), displaces restricted ones 2-5 km (keyed by --secret-file) and
    refuses to finish if its leak check finds anything. It refuses options below its safe
    floors (--min-km 2, ring 1 km wide, --min-count 3, --hex-resolution 8). See
    docs/publish.md.
    """
    paths = pop_layer_paths(kwargs)
    require_territories(paths, "publish", "builds its tables and map per territory")
    policy = PrivacyPolicy(
        min_distance_m=min_km * 1000.0,
        max_distance_m=max_km * 1000.0,
        min_count=min_count,
        restricted=restricted,
        hex_resolution=hex_resolution,
    )
    chosen = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
    options = PublishOptions(
        profile=profile,
        formats=chosen,
        decimals=decimals,
        policy=policy,
        secret=read_secret(secret_file),
        positions=positions_path(secret_file, positions),
        lang=lang,
        overwrite=overwrite,
        keep_columns=tuple(keep_columns),
        offline=offline,
        basemap=basemap,
        shade_regions=shade_regions,
        permissions=parse_permissions(permissions),
        aggregate_only=aggregate_only,
    )
    if (
        profile == "public"
        and options.secret is not None
        and options.positions is None
        and paths.get("incidents")
    ):
        raise BundleError(
            "no position store for the displaced incidents: pass --positions FILE (or set "
            "GEOTOOLS_PUBLISH_POSITIONS) and keep that file with the key; without it a release "
            "with other options would publish other points for the same incidents"
        )
    report = run_publish(
        paths,
        out_dir,
        options,
        nearby_km=nearby_km,
        assume_crs=parse_assume_crs(assume_crs),
        mappings=parse_mappings(kwargs.pop("field_map")),
        defaults=parse_defaults(kwargs.pop("layer_defaults")),
        group_territories=kwargs.pop("group_territories"),
        weights=parse_weights(kwargs.pop("weights")),
        forest_loss=kwargs.pop("forest_loss"),
        risk_config=parse_risk_config(kwargs.pop("risk_weight")),
        districts=districts,
        edges=kwargs.pop("edges"),
        water=water,
        regions=regions,
    )
    facts = report.facts
    if "displaced" in facts:
        echo(
            f"Incidents: {facts['published_points']} published as points "
            f"({facts['displaced']} displaced), {facts['aggregated']} only counted per hexagon, "
            f"confidential: {facts['confidential']}"
        )
    if facts.get("position_store"):
        kept = int(facts.get("positions_kept", 0))
        echo(
            f"Positions: {kept} kept from earlier releases, {facts['displaced'] - kept} new, "
            f"{facts.get('withheld_published_before', 0)} withheld (kept in {options.positions})"
        )
    if "leak_check_s" in facts:
        echo(f"Leak check: clean ({facts['leak_check_s']:.2f} s)")
    if profile == "internal":
        echo("INTERNAL bundle: exact locations and personal fields. Do not share it.")
    echo(f"Wrote {report.out}/ ({len(report.files)} files, {report.bytes / 1024:,.0f} kB)")


def _importer_help() -> str:
    """The ``import`` command's epilog: one line per importer."""
    lines = [f"{name}: {imp.description} ({imp.layer})" for name, imp in sorted(IMPORTERS.items())]
    return "\b\nSources:\n" + "\n".join(f"  {line}" for line in lines)


@main.command("import", epilog=_importer_help())
@click.argument("source", metavar="SOURCE")
@click.argument("path", type=click.Path())
@out_option(
    "GeoPackage to write (layer named after the canonical layer); the QA report "
    "goes beside it as FILE.qa.json.",
    folder=False,
    required=True,
)
@assume_crs_option("CRS for a file that declares none.")
@overwrite_option()
@common_options
def import_command(
    source: str, path: str, out: str, assume_crs: str | None, overwrite: bool
) -> None:
    """Import a known export (ACLED, KoboToolbox/ODK, Mapeo, Defensoría, monitors' records,
    LandMark...) into a canonical, validated GeoPackage layer.

    Every record read is accounted for in FILE.qa.json (valid, repaired or rejected, with the
    reason); the licence terms of the source, if any, are recorded there too, and in the
    GeoPackage itself, so that maps and bundles made from it carry them.
    """
    if source not in IMPORTERS:
        raise click.BadParameter(
            f"{source!r}; choose one of {', '.join(sorted(IMPORTERS))}", param_hint="SOURCE"
        )
    target = Path(out)
    report = target.with_suffix(".qa.json")
    check_outputs_free(target.parent, [target.name, report.name], overwrite=overwrite)
    kind = IMPORTERS[source].layer
    layer = read_layer(path, kind, source=source, assume_crs=assume_crs)
    write_geopackage(
        {kind: layer.frame}, target, overwrite=overwrite, metadata={kind: import_metadata(layer)}
    )
    write_json(layer.ledger.to_dict(), report, overwrite=overwrite)
    echo(layer.ledger.summary())
    licence = IMPORTERS[source].licence_note
    if licence:
        echo(f"Licence: {licence}")
    echo(f"Wrote {target} ({kind}) and {report}")


@main.command("locate-km")
@click.option(
    "--infrastructure",
    type=click.Path(),
    required=True,
    help="Lines with km_start (km_inicio) and, if known, km_end (km_fin).",
)
@click.option(
    "--marks",
    type=click.Path(dir_okay=False),
    required=True,
    help="CSV with a km column ('km 41+833', '41.833') and optionally a line column "
    "naming the line (matched against name, tramo, ramal, kind).",
)
@out_option(
    "GeoJSON of the located points (marks that cannot be placed keep a null "
    "geometry and a problem).",
    folder=False,
    required=True,
)
@click.option(
    "--calibrate",
    is_flag=True,
    help="Stretch each line's drawn length over its km_start..km_end range "
    "(drawn routes are usually generalised and shorter than the pipe).",
)
@assume_crs_option("CRS for a lines file that declares none.")
@overwrite_option("Replace an existing file.")
@common_options
def locate_km_command(
    infrastructure: str,
    marks: str,
    out: str,
    calibrate: bool,
    assume_crs: str | None,
    overwrite: bool,
) -> None:
    """Turn pipeline kilometre marks (progressives such as "km 41+833") into points.

    Distances are geodesic along the line from its first vertex, which is at km_start; with
    --calibrate the drawn length is stretched over the line's km range instead.
    """
    target = Path(out)
    check_outputs_free(target.parent, [target.name], overwrite=overwrite)
    lines = read_layer(infrastructure, "infrastructure", assume_crs=assume_crs)
    try:
        with open(marks, "rb") as handle:  # a handle: pandas reads "file:a.csv" as a URL
            table = pd.read_csv(handle, dtype=str)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(f"{marks}: not a readable CSV ({exc})") from exc
    if "km" not in table.columns:
        raise SourceError(f"{marks}: needs a 'km' column (e.g. 'km 41+833' or 41.833)")
    located = locate_km_marks(lines.frame, table, calibrate=calibrate)
    with atomic_path(target, overwrite=overwrite) as tmp:
        tmp.write_text(located.to_json(na="null", drop_id=True), encoding="utf-8")
    placed = int(located.geometry.notna().sum())
    echo(f"{placed} of {len(located)} marks located; wrote {target}")
    for _, row in located[located["problem"].notna()].iterrows():
        echo(f"  km {row['km']}: {row['problem']}")


@main.command("run")
@click.argument("project", type=click.Path(dir_okay=False))
@out_option("Write the outputs here instead of the project's own out folder.", folder=True)
@overwrite_option("Replace earlier outputs.")
@common_options
def run_command(project: str, out: str | None, overwrite: bool) -> None:
    """Run a whole study from a project file (TOML).

    The project file names the layers (paths relative to it), their field and value mappings,
    importers and options, so a study is re-run with one command. A commented example:
    data/raw/demo_project.toml.
    """
    spec, run = run_project(project, overwrite=overwrite, out=out)
    _print_summary(run)
    for _, row in run.stats.table.iterrows():
        echo(describe_territory(row))
    if not territories_analysed(run.stats):
        _print_analysed(run)
    echo(f"Wrote {spec.out}/" + (f" and {spec.map}" if spec.map else ""))


@main.command("fetch-assets")
@click.option(
    "--cache",
    type=click.Path(file_okay=False),
    help="Cache folder (default: $GEOTOOLS_ASSET_CACHE, else $XDG_CACHE_HOME/geotools/map-assets, "
    "else ~/.cache/geotools/map-assets).",
)
@common_options
def fetch_assets_command(cache: str | None) -> None:
    """Download all the JavaScript and CSS that maps load from CDNs, once: Leaflet and its
    plugins (the HTML map) and MapLibre GL JS with the PMTiles protocol (the --tiles viewer;
    MapLibre alone is about 6.5 MB).

    The files come from pinned npm packages (checked against their sha512 integrity) and are
    kept in a local cache, from which maps can be made to work offline (basemap tiles aside) and
    browser tests run without internet. Needs the npm registry only on the first run. Other
    commands fetch only what they need: 'map --offline' Leaflet and its plugins, 'map --tiles
    DIR --offline' MapLibre and PMTiles.
    """
    where = fetch_map_assets(cache)
    echo(f"Map assets cached in {where}")

