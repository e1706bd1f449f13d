"""What every ``geotools`` command shares: logging, output guards, error handling, and each
option that more than one command takes, defined once.

Each shared option is a decorator factory (``overwrite_option(...)``, ``out_option(...)``...):
the flag, its type and its default live here; a command only says, where it must, what the
option means for it (its help text).
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

from geotools.analysis.risk import RiskConfig
from geotools.area import DEFAULT_EDGES, EDGE_READINGS
from geotools.errors import GeotoolsError
from geotools.io import LAYER_KINDS
from geotools.outputs import (
    WRITE_ERRNOS,
    check_replaceable,
    output_error,
    output_lock,
    refuse_symlink,
)
from geotools.schema import DEFAULT_NEARBY_KM, LANGS, PROFILES

log = logging.getLogger("geotools")

F = TypeVar("F", bound=Callable[..., Any])

EPILOG_LAYERS = (
    "Layers may be any file GDAL reads (GeoPackage, Shapefile or zipped Shapefile, GeoJSON, "
    "FlatGeobuf, KML), GeoParquet, or a CSV with longitude/latitude (or WKT) columns. Use "
    "FILE.gpkg:LAYER to pick a layer of a multi-layer file. Spanish field names such as nombre, "
    "nom_comuni, etnia, titular, estado are recognised."
)


def configure_logging(verbosity: int) -> None:
    """Send the ``geotools`` log to stderr: INFO by default, WARNING with ``-q``, ERROR with
    ``-qq``, DEBUG (with level names) with ``-v``."""
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


def guard_outputs(command: str, kwargs: dict[str, Any], stack: contextlib.ExitStack) -> None:
    """Refuse symlinked outputs, lock every output for the run, and refuse ``--overwrite`` of a
    folder holding other people's files before any work is done."""
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
        configure_logging(verbosity)
        try:
            with contextlib.ExitStack() as stack:
                guard_outputs(func.__name__, kwargs, stack)
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


# -- Options shared by several commands: one definition each ---------------------------------


def overwrite_option(help_text: str = "Replace existing outputs.") -> Callable[[F], F]:
    """``--overwrite``: replace outputs an earlier run wrote (``help_text`` says which)."""
    return click.option("--overwrite", is_flag=True, help=help_text)


def out_option(
    help_text: str, *, folder: bool, dest: str = "out", required: bool = False
) -> Callable[[F], F]:
    """``--out``: where a command writes; a folder (``folder=True``) or a file, passed to the
    command as ``dest`` (named in :data:`OUTPUT_OPTIONS`, which guards it)."""
    kind = click.Path(file_okay=False) if folder else click.Path(dir_okay=False)
    return click.option("--out", dest, type=kind, required=required, help=help_text)


def lang_option(help_text: str | None = "Map language.") -> Callable[[F], F]:
    """``--lang``: the language of maps and their texts (:data:`geotools.schema.LANGS`)."""
    return click.option(
        "--lang", type=click.Choice(LANGS), default="es", show_default=True, help=help_text
    )


def profile_option(help_text: str) -> Callable[[F], F]:
    """``--profile``: who an output is for (:data:`geotools.schema.PROFILES`), public by
    default; ``help_text`` says what each profile means for the command's output."""
    return click.option(
        "--profile",
        type=click.Choice(PROFILES),
        default="public",
        show_default=True,
        help=help_text,
    )


def assume_crs_option(
    help_text: str = "CRS for files that declare none, e.g. EPSG:32718.",
) -> Callable[[F], F]:
    """``--assume-crs``: the CRS of input files that declare none."""
    return click.option("--assume-crs", metavar="CRS", help=help_text)


def nearby_km_option() -> Callable[[F], F]:
    """``--nearby-km``: the "nearby" distance (:data:`geotools.schema.DEFAULT_NEARBY_KM`)."""
    return click.option(
        "--nearby-km",
        type=click.FloatRange(min=0),
        default=DEFAULT_NEARBY_KM,
        show_default=True,
        help="Geodesic distance for incidents_nearby.",
    )


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
        nearby_km_option(),
        assume_crs_option(),
        click.option(
            "--edges",
            type=click.Choice(EDGE_READINGS),
            default=DEFAULT_EDGES,
            show_default=True,
            help="How polygon and line edges are read, for areas, overlaps and "
            "point-in-polygon alike: along the geodesic, or straight in lon/lat (as "
            "GeoJSON/RFC 7946, geopandas and PostGIS geometry do). Differs only on long "
            "edges (docs/area.md).",
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


# -- Parsing of option values -------------------------------------------------------------------


def parse_mappings(items: tuple[str, ...]) -> dict[str, dict[str, str]]:
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


def parse_risk_config(items: tuple[str, ...]) -> RiskConfig | None:
    """Build a RiskConfig from ``COMPONENT=WEIGHT`` items (None when there are none)."""
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


def pop_layer_paths(kwargs: dict[str, Any]) -> dict[str, str | None]:
    """Take the layer files (``--territories`` ... ``--infrastructure``) out of ``kwargs``."""
    return {kind: kwargs.pop(kind) for kind in LAYER_KINDS}
