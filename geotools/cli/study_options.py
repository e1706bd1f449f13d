"""Options of a study's shape: which layers make a study, extra polygon layers (``--areas``)
and regions (``--regions``, ``--shade-regions``), shared by ``stats``, ``map`` and ``publish``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from geotools.errors import GeotoolsError, SourceError
from geotools.io import check_study_layers
from geotools.io.areas import check_area_name

F = TypeVar("F", bound=Callable[..., Any])


def regions_option(help_text: str) -> Callable[[F], F]:
    """Return the ``--regions FILE`` option: region polygons (departments, provinces...).

    Parameters
    ----------
    help_text : str
        What the command does with the regions.

    Returns
    -------
    callable
        A decorator adding the option (``regions``, a path or None).
    """
    return click.option("--regions", type=click.Path(), default=None, help=help_text)


def shade_regions_option(help_text: str) -> Callable[[F], F]:
    """Return the ``--shade-regions COLUMN`` option: the ``region_stats`` column a map shades
    the regions by (checked against the table once computed).

    Parameters
    ----------
    help_text : str
        Help of the option.

    Returns
    -------
    callable
        A decorator adding the option (``shade_regions``, a column name or None).
    """
    return click.option("--shade-regions", metavar="COLUMN", default=None, help=help_text)


def areas_option(func: F) -> F:
    """Add ``--areas NAME=FILE``: extra polygon layers for community membership, repeatable.

    Parameters
    ----------
    func : callable
        The click command.

    Returns
    -------
    callable
        The command with the option (``areas``, a tuple of ``NAME=FILE`` strings; see
        :func:`parse_areas`).
    """
    return click.option(
        "--areas",
        metavar="NAME=FILE",
        multiple=True,
        help="Another polygon layer to relate the --communities points to, by name, "
        "repeatable: e.g. --areas protected=anp.geojson --areas blocks=lotes.geojson (the same "
        "NAME twice reads both files into one layer). Gives community_membership.csv rows, "
        "in_NAME and nearest_NAME_km in community_stats.csv and the layer's rows in "
        "community_polygons.csv. NAME: lower-case letters, digits, _. Settings per layer: "
        "--map NAME.name=COLUMN, --default NAME.kind=VALUE, --assume-crs NAME=CRS (or areas "
        "for all of them).",
    )(func)


def parse_areas(items: tuple[str, ...]) -> dict[str, list[str]]:
    """Parse ``--areas NAME=FILE`` items into ``{name: [files]}``.

    The file is everything after the first ``=`` (a file name may hold ``=``); the same name
    given twice reads both files into one layer.

    Parameters
    ----------
    items : tuple of str
        The option's values, e.g. ``("protected=anp.geojson",)``.

    Returns
    -------
    dict of str to list of str
        Name -> files, in the order given.

    Raises
    ------
    click.BadParameter
        An item is not ``NAME=FILE`` or its name is not allowed
        (:func:`geotools.io.areas.check_area_name`).
    """
    out: dict[str, list[str]] = {}
    for item in items:
        name, sep, path = item.partition("=")
        name = name.strip()
        if not sep or not name or not path:
            raise click.BadParameter(
                f"{item!r}: use NAME=FILE, e.g. protected=anp.geojson", param_hint="--areas"
            )
        try:
            check_area_name(name, "")
        except GeotoolsError as exc:
            raise click.BadParameter(str(exc), param_hint="--areas") from exc
        out.setdefault(name, []).append(path)
    return out


def check_study_options(paths: dict[str, list[str] | None]) -> None:
    """Refuse, as a usage error (exit 2), layer options no study can be made of.

    Parameters
    ----------
    paths : dict of str to list of str or None
        Layer kind -> files given (:func:`pop_layer_paths`).

    Raises
    ------
    click.UsageError
        Neither ``--territories`` nor ``--communities`` is given, or ``--parcels`` without
        ``--territories`` (:func:`geotools.io.check_study_layers`).
    """
    try:
        check_study_layers([kind for kind, files in paths.items() if files])
    except SourceError as exc:
        raise click.UsageError(str(exc)) from exc


def require_territories(paths: dict[str, list[str] | None], command: str, why: str) -> None:
    """Refuse, as a usage error (exit 2), a ``map`` or ``publish`` without ``--territories``.

    Parameters
    ----------
    paths : dict of str to list of str or None
        Layer kind -> files given (:func:`pop_layer_paths`).
    command : str
        The command's name, for the message.
    why : str
        What the command builds from the territories, for the message.

    Raises
    ------
    click.UsageError
        ``--territories`` is not given.
    """
    if not paths.get("territories"):
        raise click.UsageError(
            f"Missing option '--territories': geotools {command} {why}; a study of community "
            "points alone (no territories) is `geotools stats --communities FILE`"
        )
