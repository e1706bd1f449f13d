"""The ``geotools`` command line: a thin layer over the Python API.

Errors are one line naming the file, the problem and the fix; exit code 1 (2 for usage errors);
tracebacks only with ``-v``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from geotools._version import __version__
from geotools.errors import GeotoolsError

log = logging.getLogger("geotools")

F = TypeVar("F", bound=Callable[..., Any])

EPILOG_LAYERS = (
    "Layers may be any file GDAL reads (GeoPackage, Shapefile or zipped Shapefile, GeoJSON, "
    "FlatGeobuf, KML), GeoParquet, or a CSV with longitude/latitude (or WKT) columns. Use "
    "FILE.gpkg:LAYER to pick a layer of a multi-layer file. Spanish field names such as nombre, "
    "nom_comuni, etnia, titular, estado are recognised."
)


def _configure_logging(verbosity: int) -> None:
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    if verbosity < -1:
        level = logging.ERROR
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(levelname)s: %(message)s" if verbosity > 0 else "%(message)s")
    )
    root = logging.getLogger("geotools")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


#: Output options of each command: option -> "file", "folder" (replaced only when geotools
#: owns it) or "root" (a folder of output folders). Each is locked for the whole run.
OUTPUT_OPTIONS: dict[str, dict[str, str]] = {
    "stats": {"out_dir": "folder"},
    "publish_command": {"out_dir": "folder"},
    "map_command": {"out_file": "file", "png_dir": "folder"},
    "import_command": {"out": "file"},
    "locate_km_command": {"out": "file"},
    "validate": {"report": "file"},
    "run_command": {"out": "folder"},
    "demo": {"out": "root"},
}


def _guard_outputs(command: str, kwargs: dict[str, Any], stack: contextlib.ExitStack) -> None:
    """Refuse symlinked outputs, lock every output for the run, and refuse ``--overwrite`` of a
    folder holding other people's files before any work is done."""
    from geotools.outputs import check_replaceable, output_lock, refuse_symlink

    for option, kind in OUTPUT_OPTIONS.get(command, {}).items():
        value = kwargs.get(option)
        if not value:
            continue
        path = Path(value)
        refuse_symlink(path)
        if path.parent.is_dir():
            stack.enter_context(output_lock(path))
        if kind == "folder" and kwargs.get("overwrite"):
            check_replaceable(path)


def common_options(func: F) -> F:
    """Add ``-v/--verbose`` and ``-q/--quiet``, guard the outputs for the run (see
    :data:`OUTPUT_OPTIONS`) and turn geotools errors, and failures to write (read-only or full
    disk), into one clean line."""

    @click.option("-v", "--verbose", count=True, help="More detail; -vv for debug, tracebacks.")
    @click.option("-q", "--quiet", count=True, help="Only warnings; -qq only errors.")
    @functools.wraps(func)
    def wrapper(*args: Any, verbose: int, quiet: int, **kwargs: Any) -> Any:
        verbosity = verbose - quiet
        _configure_logging(verbosity)
        try:
            with contextlib.ExitStack() as stack:
                _guard_outputs(func.__name__, kwargs, stack)
                return func(*args, **kwargs)
        except GeotoolsError as exc:
            if verbosity > 0:
                log.exception("error")
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except (KeyboardInterrupt, click.exceptions.Exit, click.ClickException):
            raise
        except Exception as exc:
            if verbosity > 0:
                raise
            from geotools.outputs import WRITE_ERRNOS, output_error

            if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
                # A write failure no writer turned into an OutputError: still the user's to fix.
                click.echo(f"error: {output_error(exc.filename or 'output', exc)}", err=True)
                sys.exit(1)
            click.echo(
                f"error: unexpected {type(exc).__name__}: {exc} (run again with -v for details "
                "and report it at the project's issue tracker)",
                err=True,
            )
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def layer_options(func: F) -> F:
    """The layer options shared by ``stats``, ``map`` and ``publish``."""
    options = [
        click.option(
            "--territories",
            type=click.Path(),
            required=True,
            help="Ancestral territories / claims (polygons).",
        ),
        click.option(
            "--parcels",
            type=click.Path(),
            required=True,
            help="Legal tenure parcels (polygons; tenure titled|cession_in_use|"
            "demarcated|in_process, missing column = titled).",
        ),
        click.option(
            "--concessions",
            type=click.Path(),
            help="Concessions (polygons; kind mining|oil_gas|agribusiness|forestry|other,"
            " status active|in_process|expired).",
        ),
        click.option("--incidents", type=click.Path(), help="Incident points."),
        click.option(
            "--infrastructure", type=click.Path(), help="Pipelines and roads (lines); used by maps."
        ),
        click.option(
            "--nearby-km",
            type=click.FloatRange(min=0),
            default=5.0,
            show_default=True,
            help="Geodesic distance for incidents_nearby.",
        ),
        click.option(
            "--assume-crs", metavar="CRS", help="CRS for files that declare none, e.g. EPSG:32718."
        ),
        click.option(
            "--forest-loss",
            type=click.Path(dir_okay=False),
            help="Forest-loss GeoTIFF in Hansen lossyear coding (0 none, N loss in 2000+N).",
        ),
        click.option(
            "--risk-weight",
            metavar="COMPONENT=WEIGHT",
            multiple=True,
            help="Override a risk weight (tenure, concessions, violence, deforestation, "
            "infrastructure), e.g. --risk-weight violence=0.4. Defaults: docs/risk.md.",
        ),
        click.option(
            "--map",
            "field_map",
            metavar="LAYER.COLUMN=SOURCE",
            multiple=True,
            help="Field mapping, repeatable: e.g. --map territories.name=NOMBRE_CN "
            "--map parcels.tenure=SITUACION.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _mappings(items: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Parse ``LAYER.COLUMN=SOURCE`` items into ``{layer: {column: source}}``."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        target, sep, source = item.partition("=")
        layer, dot, column = target.partition(".")
        if not sep or not dot or not source or not column:
            raise click.BadParameter(
                f"{item!r}: use LAYER.COLUMN=SOURCE, e.g. territories.name=NOMBRE",
                param_hint="--map",
            )
        out.setdefault(layer.strip(), {})[column.strip()] = source.strip()
    return out


def _risk_config(items: tuple[str, ...]) -> Any:
    """Build a RiskConfig from ``COMPONENT=WEIGHT`` items (None when there are none)."""
    from geotools.analysis.risk import RiskConfig

    if not items:
        return None
    weights: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise click.BadParameter(
                f"{item!r}: use COMPONENT=WEIGHT, e.g. violence=0.4", param_hint="--risk-weight"
            )
    try:
        return RiskConfig.from_mapping({"weights": weights})
    except (ValueError, TypeError) as exc:
        raise click.BadParameter(str(exc), param_hint="--risk-weight") from exc


def _paths(kwargs: dict[str, Any]) -> dict[str, str | None]:
    return {
        k: kwargs.pop(k)
        for k in ("territories", "parcels", "concessions", "incidents", "infrastructure")
    }


@click.group(
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
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output folder."
)
@click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
@common_options
def stats(
    out_dir: str, overwrite: bool, nearby_km: float, assume_crs: str | None, **kwargs: Any
) -> None:
    """Per-territory tenure, concession and incident statistics.

    Writes OUT/territory_stats.csv (one row per territory), OUT/overlaps.csv (territory x
    concession pairs), OUT/analysis.gpkg, OUT/provenance.json and OUT/qa/<layer>.json, and prints
    one sentence per territory.

    \b
    Example:
      geotools stats --territories territories.gpkg --parcels parcels.shp \\
        --concessions concesiones.geojson --incidents incidents.csv --out results/
    """
    from geotools.analysis.stats import describe_territory
    from geotools.pipeline import run_stats

    run = run_stats(
        _paths(kwargs),
        out_dir,
        nearby_km=nearby_km,
        overwrite=overwrite,
        assume_crs=assume_crs,
        mappings=_mappings(kwargs.pop("field_map")),
        forest_loss=kwargs.pop("forest_loss"),
        risk_config=_risk_config(kwargs.pop("risk_weight")),
    )
    _print_summary(run)
    for _, row in run.stats.table.iterrows():
        click.echo(describe_territory(row))
    click.echo(
        f"Wrote {out_dir}/territory_stats.csv, overlaps.csv, timeseries.csv, analysis.gpkg, "
        "provenance.json, qa/"
    )


def _print_summary(run: Any) -> None:
    for layer in run.layers.values():
        log.info("%s", layer.ledger.summary())
    for label, facts in run.stats.outside.items():
        if facts["count"]:
            click.echo(f"Outside every territory: {facts['count']} {label} ({facts['ha']:,.1f} ha)")


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Root folder for outputs (default: the checkout, i.e. data/processed/ and maps/).",
)
@click.option("--overwrite", is_flag=True, help="Replace earlier demo outputs.")
@click.option(
    "--lang", type=click.Choice(["es", "en"]), default="es", show_default=True, help="Map language."
)
@common_options
def demo(out: str | None, overwrite: bool, lang: str) -> None:
    """Run the whole pipeline on the bundled (invented) Ucayali demo data.

    Writes data/processed/ (statistics, GeoPackage, provenance, QA) and maps/risk_map.html, in
    the checkout or under --out DIR.
    """
    from geotools.analysis.stats import describe_territory
    from geotools.pipeline import run_demo

    done = run_demo(out, overwrite=overwrite, lang=lang)
    run = done["result"]
    _print_summary(run)
    for _, row in run.stats.table.iterrows():
        click.echo(describe_territory(row))
    click.echo(
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
    type=click.Choice(["territories", "parcels", "concessions", "incidents", "infrastructure"]),
    help="Which canonical layer the file is.",
)
@click.option("--report", type=click.Path(dir_okay=False), help="Write the QA report as JSON.")
@click.option("--assume-crs", metavar="CRS", help="CRS for a file that declares none.")
@click.option("--overwrite", is_flag=True, help="Replace an existing report.")
@common_options
def validate(
    path: str, kind: str, report: str | None, assume_crs: str | None, overwrite: bool
) -> None:
    """Check a layer and say what would happen to every feature.

    Prints the QA summary; exits 1 when a feature had to be rejected.
    """
    from geotools.export import write_json
    from geotools.io import read_layer
    from geotools.outputs import check_outputs_free

    if report:
        check_outputs_free(Path(report).parent, [Path(report).name], overwrite)
    layer = read_layer(path, kind, assume_crs=assume_crs)
    ledger = layer.ledger
    click.echo(ledger.summary())
    for problem in ledger.problems[:20]:
        click.echo(f"  {problem.feature}: {problem.problem} -> {problem.action}")
    if len(ledger.problems) > 20:
        click.echo(f"  ... {len(ledger.problems) - 20} more (see --report)")
    if report:
        write_json(ledger.to_dict(), Path(report), overwrite=overwrite)
    if ledger.count("rejected"):
        sys.exit(1)


@main.command("map", epilog=EPILOG_LAYERS)
@layer_options
@click.option(
    "--out", "out_file", type=click.Path(dir_okay=False), required=True, help="HTML file to write."
)
@click.option("--lang", type=click.Choice(["es", "en"]), default="es", show_default=True)
@click.option(
    "--profile",
    type=click.Choice(["public", "internal"]),
    default="public",
    show_default=True,
    help="public: only incidents marked public (or already generalised) are drawn, and every "
    "count, risk score and sentence is computed from those alone; personal and unknown columns "
    "are left out (safe to share); internal: restricted incidents too, at their exact place "
    "(never share it).",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Inline Leaflet and its plugins so the map opens with no network (basemap tiles "
    "aside). The files are fetched once from the npm registry into a local cache "
    "(geotools fetch-assets).",
)
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
@click.option(
    "--png",
    "png_dir",
    type=click.Path(file_okay=False),
    help="Also write static PNG maps for reports into this folder: overview.png and one "
    "<territory_id>.png per territory (same profile and language).",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
@common_options
def map_command(
    out_file: str,
    lang: str,
    profile: str,
    offline: bool,
    embed: bool,
    hexagons: bool,
    title: str | None,
    png_dir: str | None,
    overwrite: bool,
    nearby_km: float,
    assume_crs: str | None,
    **kwargs: Any,
) -> None:
    """Interactive risk map (one HTML file): territories shaded by risk class or titled share,
    parcels, concessions, infrastructure, incidents (clustered icons, heat map, year slider)
    and the risk hexagons, with search, legend and sources.

    \b
    Examples:
      geotools map --territories t.gpkg --parcels p.gpkg --incidents i.csv --out map.html
      geotools map ... --lang en --offline --embed --out map_en.html

    Which incidents are drawn follows --profile (public by default: restricted and
    confidential incidents are not drawn, and the counts, risk scores and sentences come from
    the drawn incidents only; see docs/publish.md, "The privacy gate").
    """
    from geotools.io import read_inputs
    from geotools.outputs import check_outputs_free
    from geotools.pipeline import compute_stats, write_map_html

    target = Path(out_file)
    check_outputs_free(target.parent, [target.name], overwrite)
    layers = read_inputs(
        _paths(kwargs), assume_crs=assume_crs, mappings=_mappings(kwargs.pop("field_map"))
    )
    result = compute_stats(
        layers,
        nearby_km=nearby_km,
        forest_loss=kwargs.pop("forest_loss"),
        risk_config=_risk_config(kwargs.pop("risk_weight")),
    )
    from geotools.pipeline import compute_map_hexagons

    cells = compute_map_hexagons(result, layers, profile=profile) if hexagons else None
    write_map_html(
        result,
        layers,
        target,
        lang=lang,
        overwrite=overwrite,
        profile=profile,
        title=title,
        offline=offline,
        hexagons=cells,
    )
    click.echo(f"Wrote {target}")
    if png_dir:
        from geotools.pipeline import write_static_map_files

        pngs = write_static_map_files(
            result, layers, png_dir, lang=lang, profile=profile, overwrite=overwrite
        )
        click.echo(f"Wrote {len(pngs)} PNG map(s) to {png_dir}")
    if embed:
        from geotools.maps import build_embed_snippet

        click.echo(build_embed_snippet(target.name, title or ""))


@main.command("publish", epilog=EPILOG_LAYERS)
@layer_options
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Bundle folder."
)
@click.option(
    "--profile",
    type=click.Choice(["public", "internal"]),
    default="public",
    show_default=True,
    help="public: safe to share (personal fields withheld, confidential incidents left out, "
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
@click.option("--lang", type=click.Choice(["es", "en"]), default="es", show_default=True,
              help="Map language.")
@click.option("--overwrite", is_flag=True, help="Replace an existing bundle folder.")
@common_options
def publish_command(
    out_dir: str,
    profile: str,
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
    lang: str,
    overwrite: bool,
    nearby_km: float,
    assume_crs: str | None,
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
    from geotools.pipeline import run_publish
    from geotools.privacy import PrivacyPolicy
    from geotools.publish import BundleError, PublishOptions, positions_path, read_secret

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
    )
    if (
        profile == "public"
        and options.secret is not None
        and options.positions is None
        and kwargs.get("incidents")
    ):
        raise BundleError(
            "no position store for the displaced incidents: pass --positions FILE (or set "
            "GEOTOOLS_PUBLISH_POSITIONS) and keep that file with the key; without it a release "
            "with other options would publish other points for the same incidents"
        )
    report = run_publish(
        _paths(kwargs),
        out_dir,
        options,
        nearby_km=nearby_km,
        assume_crs=assume_crs,
        mappings=_mappings(kwargs.pop("field_map")),
        forest_loss=kwargs.pop("forest_loss"),
        risk_config=_risk_config(kwargs.pop("risk_weight")),
        districts=districts,
        water=water,
    )
    facts = report.facts
    if "displaced" in facts:
        click.echo(
            f"Incidents: {facts['published_points']} published as points "
            f"({facts['displaced']} displaced), {facts['aggregated']} only counted per hexagon, "
            f"confidential: {facts['confidential']}"
        )
    if facts.get("position_store"):
        kept = int(facts.get("positions_kept", 0))
        click.echo(
            f"Positions: {kept} kept from earlier releases, {facts['displaced'] - kept} new, "
            f"{facts.get('withheld_published_before', 0)} withheld (kept in {options.positions})"
        )
    if "leak_check_s" in facts:
        click.echo(f"Leak check: clean ({facts['leak_check_s']:.2f} s)")
    if profile == "internal":
        click.echo("INTERNAL bundle: exact locations and personal fields. Do not share it.")
    click.echo(f"Wrote {report.out}/ ({len(report.files)} files, {report.bytes / 1024:,.0f} kB)")


def _importer_help() -> str:
    from geotools.io.importers import IMPORTERS

    lines = [f"{name}: {imp.description} ({imp.layer})" for name, imp in sorted(IMPORTERS.items())]
    return "\b\nSources:\n" + "\n".join(f"  {line}" for line in lines)


@main.command("import", epilog=_importer_help())
@click.argument("source", metavar="SOURCE")
@click.argument("path", type=click.Path())
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    required=True,
    help="GeoPackage to write (layer named after the canonical layer); the QA report "
    "goes beside it as FILE.qa.json.",
)
@click.option("--assume-crs", metavar="CRS", help="CRS for a file that declares none.")
@click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
@common_options
def import_command(
    source: str, path: str, out: str, assume_crs: str | None, overwrite: bool
) -> None:
    """Import a known export (ACLED, KoboToolbox/ODK, Mapeo, Defensoría, monitors' records,
    LandMark...) into a canonical, validated GeoPackage layer.

    Every record read is accounted for in FILE.qa.json (valid, repaired or rejected, with the
    reason); the licence terms of the source, if any, are recorded there too.
    """
    from geotools.export import write_geopackage, write_json
    from geotools.io import read_layer
    from geotools.io.importers import IMPORTERS
    from geotools.outputs import check_outputs_free

    if source not in IMPORTERS:
        raise click.BadParameter(
            f"{source!r}; choose one of {', '.join(sorted(IMPORTERS))}", param_hint="SOURCE"
        )
    target = Path(out)
    report = target.with_suffix(".qa.json")
    check_outputs_free(target.parent, [target.name, report.name], overwrite)
    kind = IMPORTERS[source].layer
    layer = read_layer(path, kind, source=source, assume_crs=assume_crs)
    write_geopackage({kind: layer.frame}, target, overwrite=overwrite)
    write_json(layer.ledger.to_dict(), report, overwrite=overwrite)
    click.echo(layer.ledger.summary())
    licence = IMPORTERS[source].licence_note
    if licence:
        click.echo(f"Licence: {licence}")
    click.echo(f"Wrote {target} ({kind}) and {report}")


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
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    required=True,
    help="GeoJSON of the located points (marks that cannot be placed keep a null "
    "geometry and a problem).",
)
@click.option(
    "--calibrate",
    is_flag=True,
    help="Stretch each line's drawn length over its km_start..km_end range "
    "(drawn routes are usually generalised and shorter than the pipe).",
)
@click.option("--assume-crs", metavar="CRS", help="CRS for a lines file that declares none.")
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
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
    import pandas as pd

    from geotools.analysis.infrastructure import locate_km_marks
    from geotools.errors import SourceError
    from geotools.io import read_layer
    from geotools.outputs import atomic_path, check_outputs_free

    target = Path(out)
    check_outputs_free(target.parent, [target.name], overwrite)
    lines = read_layer(infrastructure, "infrastructure", assume_crs=assume_crs)
    try:
        table = pd.read_csv(marks, dtype=str)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(f"{marks}: not a readable CSV ({exc})") from exc
    if "km" not in table.columns:
        raise SourceError(f"{marks}: needs a 'km' column (e.g. 'km 41+833' or 41.833)")
    located = locate_km_marks(lines.frame, table, calibrate=calibrate)
    with atomic_path(target, overwrite) as tmp:
        tmp.write_text(located.to_json(na="null", drop_id=True), encoding="utf-8")
    placed = int(located.geometry.notna().sum())
    click.echo(f"{placed} of {len(located)} marks located; wrote {target}")
    for _, row in located[located["problem"].notna()].iterrows():
        click.echo(f"  km {row['km']}: {row['problem']}")


@main.command("run")
@click.argument("project", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Write the outputs here instead of the project's own out folder.",
)
@click.option("--overwrite", is_flag=True, help="Replace earlier outputs.")
@common_options
def run_command(project: str, out: str | None, overwrite: bool) -> None:
    """Run a whole study from a project file (TOML).

    The project file names the layers (paths relative to it), their field and value mappings,
    importers and options, so a study is re-run with one command. A commented example:
    data/raw/demo_project.toml.
    """
    from geotools.analysis.stats import describe_territory
    from geotools.project import run_project

    spec, run = run_project(project, overwrite=overwrite, out=out)
    _print_summary(run)
    for _, row in run.stats.table.iterrows():
        click.echo(describe_territory(row))
    click.echo(f"Wrote {spec.out}/" + (f" and {spec.map}" if spec.map else ""))


@main.command("fetch-assets")
@click.option(
    "--cache",
    type=click.Path(file_okay=False),
    help="Cache folder (default: $GEOTOOLS_ASSET_CACHE, else $XDG_CACHE_HOME/geotools/map-assets, "
    "else ~/.cache/geotools/map-assets).",
)
@common_options
def fetch_assets_command(cache: str | None) -> None:
    """Download the JavaScript and CSS that maps load from CDNs (Leaflet and its plugins), once.

    The files come from pinned npm packages (checked against their sha512 integrity) and are
    kept in a local cache, from which maps can be made to work offline (basemap tiles aside) and
    browser tests run without internet. Needs the npm registry only on the first run.
    """
    from geotools.map_assets import fetch_map_assets

    where = fetch_map_assets(cache)
    click.echo(f"Map assets cached in {where}")


if __name__ == "__main__":  # pragma: no cover
    main()
