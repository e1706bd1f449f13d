"""``--permission`` and ``--aggregate-only``: record-level publishing of layers whose terms
require the source's permission (:mod:`geotools.privacy.permission`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from geotools.io import LAYER_KINDS

F = TypeVar("F", bound=Callable[..., Any])


def permission_option(output: str) -> Callable[[F], F]:
    """The repeatable ``--permission LAYER="who granted, when"`` option.

    Parameters
    ----------
    output : str
        What the command writes ("bundle", or "map, tiles and PNGs"), for the help text.

    Returns
    -------
    callable
        A click decorator adding ``permissions`` (tuple of ``LAYER=TEXT`` strings).
    """
    recorded = (
        "Recorded in the bundle's README and datapackage.json."
        if output == "bundle"
        else "Shown in the map's attribution."
    )
    return click.option(
        "--permission",
        "permissions",
        multiple=True,
        metavar='LAYER="WHO, WHEN"',
        help=f"State that the source of LAYER allowed record-level publishing in this public "
        f"{output}: who granted it, when. Needed for a layer whose terms require permission "
        f"(ACLED, the indigenous monitors' federations, a licence note saying so). {recorded} "
        "Repeatable.",
    )


def parse_permissions(values: tuple[str, ...]) -> dict[str, str]:
    """``("incidents=FEDIQUEP, 2026-11-30", ...)`` -> ``{"incidents": "FEDIQUEP, 2026-11-30"}``.

    Parameters
    ----------
    values : tuple of str
        The ``--permission`` values.

    Returns
    -------
    dict of str to str
        Layer kind -> statement.

    Raises
    ------
    click.BadParameter
        A value without ``=``, an unknown layer, an empty statement or a layer given twice.
    """
    out: dict[str, str] = {}
    for value in values:
        kind, sep, statement = value.partition("=")
        kind = kind.strip().lower()
        if not sep or kind not in LAYER_KINDS or not statement.strip():
            raise click.BadParameter(
                f"{value!r}: use LAYER=\"who granted, when\" with LAYER one of "
                + ", ".join(LAYER_KINDS),
                param_hint="--permission",
            )
        if kind in out:
            raise click.BadParameter(f"{kind} given twice", param_hint="--permission")
        out[kind] = statement.strip()
    return out
