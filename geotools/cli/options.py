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
import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from geotools.analysis.risk import RiskConfig
from geotools.area import DEFAULT_EDGES, EDGE_READINGS
from geotools.cli.terminal import echo
from geotools.errors import GeotoolsError
from geotools.io import LAYER_KINDS, XY_KEYS
from geotools.maps.style import BASEMAPS, DEFAULT_BASEMAP
from geotools.outputs import (
    WRITE_ERRNOS,
    check_replaceable,
    output_error,
    output_lock,
    refuse_symlink,
)
from geotools.schema import DEFAULT_NEARBY_KM, LANGS, PROFILES, check_field_names
from geotools.text import TerminalSafeFormatter, safe_stderr_handler, show_warning

log = logging.getLogger("geotools")

F = TypeVar("F", bound=Callable[..., Any])

EPILOG_LAYERS = (
    "Layers may be any file GDAL reads (GeoPackage, Shapefile or zipped Shapefile, GeoJSON, "
    "FlatGeobuf, KML), GeoParquet, or a CSV with longitude/latitude (or WKT) columns. Use "
    "FILE.gpkg:LAYER to pick a layer of a multi-layer file. Spanish field names such as nombre, "
    "nom_comuni, etnia, titular, estado are recognised."
)


def configure_logging(verbosity: int) -> None:
    """Send the ``geotools`` log to stderr at the level the command line asks for.

    INFO by default, WARNING with ``-q``, ERROR with ``-qq``, DEBUG (with level names) with
    ``-v``. Replaces any handler already on the ``geotools`` logger and stops propagation.
    Messages are escaped (:class:`geotools.text.TerminalSafeFormatter`): a record is one line
    and shows the controls in its data instead of sending them to the terminal.

    Parameters
    ----------
    verbosity : int
        Count of ``-v`` minus count of ``-q``: 0 is INFO, -1 WARNING, -2 or less ERROR, 1 or
        more DEBUG.
    """
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    if verbosity < -1:
        level = logging.ERROR
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        TerminalSafeFormatter("%(levelname)s: %(message)s" if verbosity > 0 else "%(message)s")
    )
    root = logging.getLogger("geotools")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # Other libraries' records (GDAL through pyogrio...) reach the last resort: escaped too.
    logging.lastResort = safe_stderr_handler()


#: Output options of each command: option -> "file", "folder" (replaced only when geotools
#: owns it) or "root" (a folder of output folders). Each is locked for the whole run.
OUTPUT_OPTIONS: dict[str, dict[str, str]] = {
    "stats": {"out_dir": "folder"},
    "publish_command": {"out_dir": "folder"},
    "map_command": {"out_file": "file", "png_dir": "folder", "tiles_dir": "folder"},
    "import_command": {"out": "file"},
    "locate_km_command": {"out": "file"},
    "validate": {"report": "file"},
    "run_command": {"out": "folder"},
    "demo": {"out": "root"},
}


def guard_outputs(command: str, kwargs: dict[str, Any], stack: contextlib.ExitStack) -> None:
    """Check and lock a command's outputs before any work is done.

    Refuses symlinked outputs, locks every output whose parent folder exists for the run, and
    refuses ``--overwrite`` of a folder holding other people's files.

    Parameters
    ----------
    command : str
        Name of the command's function, the key of :data:`OUTPUT_OPTIONS` (commands not listed
        there have nothing to guard).
    kwargs : dict of str to Any
        The command's arguments as click passes them (output options, ``overwrite``...).
    stack : contextlib.ExitStack
        Holds the output locks; they are released when it closes, at the end of the run.

    Raises
    ------
    OutputError
        An output is a symbolic link, or a lock file cannot be created.
    OutputLockedError
        Another process holds the lock of an output (a concurrent run on the same ``--out``).
    ForeignFilesError
        ``--overwrite`` was given and an output folder holds files geotools did not write.
    """
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
    """Add ``-v/--verbose`` and ``-q/--quiet`` and the handling every command shares.

    The wrapped command configures logging, guards its outputs for the run (see
    :data:`OUTPUT_OPTIONS`) and turns geotools errors, and failures to write (read-only or full
    disk), into one clean line on stderr and exit status 1; other exceptions are reported as
    unexpected (re-raised with ``-v``).

    Parameters
    ----------
    func : callable
        The click command callback; its name selects its outputs in :data:`OUTPUT_OPTIONS`.

    Returns
    -------
    callable
        The wrapped callback, taking ``verbose`` and ``quiet`` besides the command's own options.
    """

    @click.option("-v", "--verbose", count=True, help="More detail; -vv for debug, tracebacks.")
    @click.option("-q", "--quiet", count=True, help="Only warnings; -qq only errors.")
    @functools.wraps(func)
    def wrapper(*args: Any, verbose: int, quiet: int, **kwargs: Any) -> Any:
        verbosity = verbose - quiet
        configure_logging(verbosity)
        try:
            with contextlib.ExitStack() as stack:
                stack.enter_context(warnings.catch_warnings())
                warnings.showwarning = show_warning  # a library's warning may quote data
                guard_outputs(func.__name__, kwargs, stack)
                return func(*args, **kwargs)
        except GeotoolsError as exc:
            if verbosity > 0:
                log.exception("error")
            echo(f"error: {exc}", err=True)
            sys.exit(1)
        except (KeyboardInterrupt, click.exceptions.Exit, click.ClickException):
            raise
        except Exception as exc:
            if verbosity > 0:
                raise
            if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
                # A write failure no writer turned into an OutputError: still the user's to fix.
                echo(f"error: {output_error(exc.filename or 'output', exc)}", err=True)
                sys.exit(1)
            echo(
                f"error: unexpected {type(exc).__name__}: {exc} (run again with -v for details "
                "and report it at the project's issue tracker)",
                err=True,
            )
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


# -- Options shared by several commands: one definition each ---------------------------------


def overwrite_option(help_text: str = "Replace existing outputs.") -> Callable[[F], F]:
    """Return the ``--overwrite`` option: replace outputs an earlier run wrote.

    Parameters
    ----------
    help_text : str, default "Replace existing outputs."
        The option's ``--help`` text: which outputs the command replaces.

    Returns
    -------
    callable
        Decorator adding the flag (``overwrite``, a bool) to a click command.
    """
    return click.option("--overwrite", is_flag=True, help=help_text)


def out_option(
    help_text: str, *, folder: bool, dest: str = "out", required: bool = False
) -> Callable[[F], F]:
    """Return the ``--out`` option: where a command writes, a folder or a file.

    The value reaches the command as ``dest``, the name :data:`OUTPUT_OPTIONS` guards it by.

    Parameters
    ----------
    help_text : str
        The option's ``--help`` text.
    folder : bool
        True when the command writes a folder (the path may not be a file), False for a file
        (the path may not be a folder).
    dest : str, default "out"
        Name of the command's argument that receives the path.
    required : bool, default False
        Whether the option must be given.

    Returns
    -------
    callable
        Decorator adding the option to a click command.
    """
    kind = click.Path(file_okay=False) if folder else click.Path(dir_okay=False)
    return click.option("--out", dest, type=kind, required=required, help=help_text)


def lang_option(help_text: str | None = "Map language.") -> Callable[[F], F]:
    """Return the ``--lang`` option: the language of maps and their texts (``es`` by default).

    Parameters
    ----------
    help_text : str or None, default "Map language."
        The option's ``--help`` text; None for none.

    Returns
    -------
    callable
        Decorator adding the option, a choice of :data:`geotools.schema.LANGS`, to a click
        command.
    """
    return click.option(
        "--lang", type=click.Choice(LANGS), default="es", show_default=True, help=help_text
    )


def offline_option(func: F) -> F:
    """Add ``--offline``: inline Leaflet and its plugins so the map opens with no network.

    Parameters
    ----------
    func : callable
        The click command.

    Returns
    -------
    callable
        The command with the option (a flag, ``offline``).
    """
    return click.option(
        "--offline",
        is_flag=True,
        help="Inline Leaflet and its plugins so the map opens with no network (with "
        "--basemap none nothing at all is requested; otherwise tiles still need it). The files "
        "are fetched once from the npm registry into a local cache (geotools fetch-assets).",
    )(func)


def basemap_option(func: F) -> F:
    """Add ``--basemap osm|satellite|none``: the basemap the map opens on.

    Parameters
    ----------
    func : callable
        The click command.

    Returns
    -------
    callable
        The command with the option (``basemap``, one of :data:`geotools.maps.style.BASEMAPS`).
    """
    return click.option(
        "--basemap",
        type=click.Choice(BASEMAPS),
        default=DEFAULT_BASEMAP,
        show_default=True,
        help="Basemap the map opens on (the other selectable): OpenStreetMap, satellite "
        "imagery, or none: no tiles requested at all, a plain background with a 1-degree "
        "graticule and the borders and coasts of Peru and its neighbours (Natural Earth; for "
        "maps read offline).",
    )(func)


def profile_option(help_text: str) -> Callable[[F], F]:
    """Return the ``--profile`` option: who an output is for, ``public`` by default.

    Parameters
    ----------
    help_text : str
        The option's ``--help`` text: what each profile means for the command's output.

    Returns
    -------
    callable
        Decorator adding the option, a choice of :data:`geotools.schema.PROFILES`, to a click
        command.
    """
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
    """Return the ``--assume-crs`` option: the CRS of input files that declare none.

    Parameters
    ----------
    help_text : str, default "CRS for files that declare none, e.g. EPSG:32718."
        The option's ``--help`` text.

    Returns
    -------
    callable
        Decorator adding the option (a CRS string, None when not given) to a click command.
    """
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


def map_option(help_text: str) -> Callable[[F], F]:
    """Return the ``--map LAYER.COLUMN=SOURCE`` option: field mapping, repeatable.

    ``lon``/``lat`` name a table's coordinate columns.

    Parameters
    ----------
    help_text : str
        The option's help, for the command it decorates.

    Returns
    -------
    callable
        A click decorator.
    """
    return click.option(
        "--map", "field_map", metavar="LAYER.COLUMN=SOURCE", multiple=True, help=help_text
    )


def default_option() -> Callable[[F], F]:
    """``--default LAYER.COLUMN=VALUE``: a value for a whole layer, repeatable."""
    return click.option(
        "--default",
        "layer_defaults",
        metavar="LAYER.COLUMN=VALUE",
        multiple=True,
        help="Value of a column for a whole layer where the file has none (or leaves it "
        "empty), repeatable: e.g. --default concessions.kind=mining for a mining cadastre.",
    )


GROUP_TERRITORIES_HELP = (
    "Merge territories sharing a value of COLUMN (e.g. name, or a community code) into one "
    "territory, the union of its parts. Exact copies are always one row."
)


def group_territories_option(help_text: str = GROUP_TERRITORIES_HELP) -> Callable[[F], F]:
    """Return the ``--group-territories COLUMN`` option: merge a territory's parts into one.

    Parameters
    ----------
    help_text : str, default :data:`GROUP_TERRITORIES_HELP`
        The option's ``--help`` text.

    Returns
    -------
    callable
        Decorator adding the option (``group_territories``, a column name or None) to a click
        command.
    """
    return click.option("--group-territories", metavar="COLUMN", help=help_text)


LAYER_FILES_HELP = " Repeat the option to read several files into one layer."


def layer_options(func: F) -> F:
    """Add the layer options shared by ``stats``, ``map`` and ``publish``.

    Parameters
    ----------
    func : callable
        The click command callback.

    Returns
    -------
    callable
        ``func`` with ``--territories``, ``--parcels``, ``--concessions``, ``--incidents``,
        ``--infrastructure``, ``--nearby-km``, ``--assume-crs``, ``--forest-loss``,
        ``--risk-weight`` and ``--map`` added, in that order in ``--help``.
    """
    options = [
        click.option(
            "--territories",
            type=click.Path(),
            multiple=True,
            help="Ancestral territories / claims (polygons). Required by map and publish; stats "
            "needs --territories, --communities or both." + LAYER_FILES_HELP,
        ),
        click.option(
            "--parcels",
            type=click.Path(),
            multiple=True,
            help="Legal tenure parcels (polygons; tenure titled|cession_in_use|"
            "demarcated|in_process, missing column = titled). Optional: without it titled, "
            "secured and untitled land are unknown (empty cells), never 0.",
        ),
        click.option(
            "--concessions",
            type=click.Path(),
            multiple=True,
            help="Concessions (polygons; kind mining|oil_gas|agribusiness|forestry|other,"
            " status active|in_process|expired). Repeatable: --concessions Q3.geojson "
            "--concessions Q4.geojson reads both into one layer (column source_file).",
        ),
        click.option(
            "--incidents", type=click.Path(), multiple=True, help="Incident points."
        ),
        click.option(
            "--infrastructure",
            type=click.Path(),
            multiple=True,
            help="Pipelines and roads (lines); used by maps.",
        ),
        click.option(
            "--communities",
            type=click.Path(),
            multiple=True,
            help="Community points (name, people, population...; no date or sensitivity "
            "needed): which concessions and territories hold each, distances, incidents "
            "nearby (community_stats.csv, community_membership.csv).",
        ),
        nearby_km_option(),
        click.option(
            "--assume-crs",
            metavar="[LAYER=]CRS",
            multiple=True,
            help="CRS of files that declare none, e.g. EPSG:32718 (every layer) or "
            "concessions=EPSG:32717 (one layer); repeatable. A layer whose declared CRS fits "
            "its coordinates keeps it.",
        ),
        default_option(),
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
        group_territories_option(),
        click.option(
            "--weight",
            "weights",
            metavar="LAYER=COLUMN",
            multiple=True,
            help="Pro-rate a numeric column of the concessions by the share inside each "
            "territory, e.g. --weight 'concessions=Mined area (ha)' adds "
            "prorated_mined_area_ha (docs/columns.md).",
        ),
        map_option(
            "Field mapping, repeatable: e.g. --map territories.name=NOMBRE_CN "
            "--map parcels.tenure=SITUACION; --map incidents.lon=X --map incidents.lat=Y "
            "name a table's coordinate columns."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


# -- Parsing of option values -------------------------------------------------------------------


def parse_mappings(
    items: tuple[str, ...],
    option: str = "--map",
    example: str = "territories.name=NOMBRE",
    areas: tuple[str, ...] = (),
) -> dict[str, dict[str, str]]:
    """Parse ``LAYER.COLUMN=SOURCE`` items into ``{layer: {column: source}}``.

    Parameters
    ----------
    items : tuple of str
        Values of the repeated option, e.g. ``("territories.name=NOMBRE_CN",)``; spaces
        around the names are dropped.
    option : str, default "--map"
        The option, for messages (``--default`` parses the same way).
    example : str
        A valid item, for messages.
    areas : tuple of str, default ()
        Names of the extra polygon layers (``--areas``): valid layers too, as is ``areas``
        (every one of them); their columns are those of the ``areas`` kind.

    Returns
    -------
    dict of str to dict of str to str
        Layer kind (or area name) -> ``{canonical column: source column}``; a later item for
        the same column wins.

    Raises
    ------
    click.BadParameter
        An item is not ``LAYER.COLUMN=VALUE``, or names an unknown layer or column (the message
        lists the valid names).
    """
    out: dict[str, dict[str, str]] = {}
    for item in items:
        target, sep, source = item.partition("=")
        layer, dot, column = target.partition(".")
        layer, column, source = layer.strip(), column.strip(), source.strip()
        if not sep or not dot or not source or not column:
            raise click.BadParameter(
                f"{item!r}: use LAYER.COLUMN={'SOURCE' if option == '--map' else 'VALUE'}, "
                f"e.g. {example}",
                param_hint=option,
            )
        valid = (*LAYER_KINDS, *areas, "areas") if areas else LAYER_KINDS
        if layer not in valid:
            raise click.BadParameter(
                f"{item!r}: unknown layer {layer!r}; layers are {', '.join(valid)}",
                param_hint=option,
            )
        if not (option == "--map" and column in XY_KEYS):
            try:
                kind = layer if layer in LAYER_KINDS else "areas"
                check_field_names(kind, {column: source}, f"{option} option")
            except GeotoolsError as exc:
                extra = " (and lon, lat for a table's coordinates)" if option == "--map" else ""
                raise click.BadParameter(f"{item!r}: {exc}{extra}", param_hint=option) from exc
        out.setdefault(layer, {})[column] = source
    return out


def parse_defaults(
    items: tuple[str, ...], areas: tuple[str, ...] = ()
) -> dict[str, dict[str, object]]:
    """Parse ``--default LAYER.COLUMN=VALUE`` items into ``{layer: {column: value}}``.

    Parameters
    ----------
    items : tuple of str
        Values of the repeated ``--default`` option, e.g. ``("concessions.kind=mining",)``.
    areas : tuple of str, default ()
        Names of the extra polygon layers (``--areas``), valid layers too.

    Returns
    -------
    dict of str to dict of str to object
        Layer kind -> ``{canonical column: value}``.

    Raises
    ------
    click.BadParameter
        An item is malformed or names an unknown layer or column (the valid names are listed).
    """
    parsed = parse_mappings(items, "--default", "concessions.kind=mining", areas)
    return {layer: dict(columns) for layer, columns in parsed.items()}


def parse_assume_crs(
    items: tuple[str, ...], areas: tuple[str, ...] = ()
) -> dict[str, str] | None:
    """Parse ``--assume-crs`` items: ``CRS`` for every layer, ``LAYER=CRS`` for one (wins).

    Parameters
    ----------
    items : tuple of str
        The option's values, e.g. ``("EPSG:32718", "concessions=EPSG:32717")``.
    areas : tuple of str, default ()
        Names of the extra polygon layers (``--areas``): valid layers too, as is ``areas``.

    Returns
    -------
    dict of str to str or None
        CRS by layer kind (None when the option was not given).

    Raises
    ------
    click.BadParameter
        Two CRSs for every layer, or a ``NAME=CRS`` naming an unknown layer.
    """
    if not items:
        return None
    every: str | None = None
    per_layer: dict[str, str] = {}
    for item in items:
        head, sep, tail = item.partition("=")
        head = head.strip()
        valid = (*LAYER_KINDS, *areas, "areas") if areas else LAYER_KINDS
        if sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", head):
            if head not in valid:
                raise click.BadParameter(
                    f"{item!r}: unknown layer {head!r}; layers are {', '.join(valid)} "
                    "(e.g. --assume-crs concessions=EPSG:32717)",
                    param_hint="--assume-crs",
                )
            per_layer[head] = tail.strip()
        elif every is not None and every != item:
            raise click.BadParameter(
                f"two CRSs for every layer ({every}, {item}); name the layer of one, e.g. "
                f"concessions={item}",
                param_hint="--assume-crs",
            )
        else:
            every = item
    out = {kind: per_layer[kind] for kind in per_layer}
    if every is not None:
        kinds = (*LAYER_KINDS, "areas") if areas else LAYER_KINDS
        out.update({kind: every for kind in kinds if kind not in per_layer})
    return out


def parse_weights(items: tuple[str, ...]) -> dict[str, str]:
    """Parse ``LAYER=COLUMN`` items (``--weight``) into ``{layer: column}``.

    Parameters
    ----------
    items : tuple of str
        The option's values, e.g. ``("concessions=Mined area (ha)",)``.

    Returns
    -------
    dict of str to str
        Layer kind -> column.
    """
    out: dict[str, str] = {}
    for item in items:
        layer, sep, column = item.partition("=")
        if not sep or not layer.strip() or not column.strip():
            raise click.BadParameter(
                f"{item!r}: use LAYER=COLUMN, e.g. concessions=mined_ha", param_hint="--weight"
            )
        out[layer.strip()] = column.strip()
    return out


def parse_risk_config(items: tuple[str, ...]) -> RiskConfig | None:
    """Build a RiskConfig from ``COMPONENT=WEIGHT`` items (None when there are none).

    Parameters
    ----------
    items : tuple of str
        Values of the repeated ``--risk-weight`` option, e.g. ``("violence=0.4",)``.

    Returns
    -------
    RiskConfig or None
        Defaults with the given weights replaced; None when ``items`` is empty.

    Raises
    ------
    click.BadParameter
        An item is not ``COMPONENT=WEIGHT`` with a number, or names an unknown component or an
        invalid weight.
    """
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


def pop_layer_paths(kwargs: dict[str, Any]) -> dict[str, list[str] | None]:
    """Take the layer files (``--territories`` ... ``--infrastructure``) out of ``kwargs``.

    Each layer option is repeatable: every file given is read into the one layer.

    Parameters
    ----------
    kwargs : dict of str to Any
        The command's arguments; the layer options are removed from it.

    Returns
    -------
    dict of str to list of str or None
        Layer kind -> files given, None for layers not given, for every kind in
        :data:`geotools.io.LAYER_KINDS`.
    """
    return {kind: list(kwargs.pop(kind) or ()) or None for kind in LAYER_KINDS}
