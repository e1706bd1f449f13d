"""Extra polygon layers for community membership, given by name (``--areas NAME=FILE``).

Protected areas, oil blocks from another source, districts, logging permits: any polygon layer
a study wants community points related to. Each is read and validated like the canonical
layers (the ``areas`` kind of :data:`geotools.schema.LAYERS`: an ``area_id``, optionally
``name``, ``kind``, ``status``; CRS checked, invalid geometries repaired or rejected in its QA
ledger) and known by its name, which becomes the ``layer`` of ``community_membership.csv`` and
``community_polygons.csv`` and the ``in_<name>`` / ``nearest_<name>_km`` columns of
``community_stats.csv``.

A name is data: it must be a short lower-case identifier (:data:`AREA_NAME_PATTERN`), not a
layer kind, so it can never collide with another column, reach a file name as a path, or carry
markup into a table.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TypeVar

from geotools.area import DEFAULT_EDGES
from geotools.errors import ValidationError
from geotools.io.layers import LAYER_KINDS, Layer, LayerPaths, read_layer

log = logging.getLogger(__name__)

V = TypeVar("V")

#: What a name of an extra polygon layer may be: lower-case letters, digits and ``_``,
#: starting with a letter, at most 30 characters.
AREA_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,29}")
#: Key of the settings (``--map areas.name=...``) that apply to every extra polygon layer.
AREAS_KEY = "areas"
#: Names an extra layer may not take: the layer kinds, ``areas`` itself and ``regions``.
RESERVED_AREA_NAMES = frozenset({*LAYER_KINDS, AREAS_KEY, "regions"})


def check_area_name(name: str, where: str = "--areas") -> str:
    """Return ``name`` if it can name an extra polygon layer; refuse it otherwise.

    Parameters
    ----------
    name : str
        The name given, e.g. ``protected``.
    where : str, default "--areas"
        The option or project-file table, for the message ("" for none).

    Returns
    -------
    str
        The name, unchanged.

    Raises
    ------
    ValidationError
        The name is not a lower-case identifier (:data:`AREA_NAME_PATTERN`) or is reserved
        (:data:`RESERVED_AREA_NAMES`).
    """
    prefix = f"{where}: " if where else ""
    if not AREA_NAME_PATTERN.fullmatch(name):
        raise ValidationError(
            f"{prefix}layer name {name!r} is not allowed; use lower-case letters, digits and _ "
            "(starting with a letter, at most 30), e.g. --areas protected=anp.geojson"
        )
    if name in RESERVED_AREA_NAMES:
        raise ValidationError(
            f"{prefix}layer name {name!r} is taken by a layer kind; choose another, e.g. "
            f"{name}_extra (reserved: {', '.join(sorted(RESERVED_AREA_NAMES))})"
        )
    return name


def split_area_settings(
    table: Mapping[str, Mapping[str, V]] | None, names: list[str]
) -> tuple[dict[str, Mapping[str, V]], dict[str, dict[str, V]]]:
    """Split per-layer settings (``--map``, ``--default``) into the run's and each area's.

    Parameters
    ----------
    table : mapping of str to mapping, optional
        Layer -> ``{column: value}``; the keys may be layer kinds, ``areas`` (every extra
        layer) or a name of ``names`` (that layer; wins over ``areas``).
    names : list of str
        Names of the extra polygon layers.

    Returns
    -------
    main : dict
        The settings of the layer kinds (and ``areas`` when ``names`` is empty).
    per_area : dict of str to dict
        The settings of each extra layer.
    """
    given = dict(table or {})
    # Without extra layers, ``areas`` stays with the run's settings, to be refused there.
    main = {k: v for k, v in given.items() if k not in names and not (names and k == AREAS_KEY)}
    every: dict[str, V] = dict(given.get(AREAS_KEY, {}))
    per_area = {name: {**every, **dict(given.get(name, {}))} for name in names}
    return main, per_area


def read_areas(
    paths: Mapping[str, LayerPaths],
    assume_crs: str | Mapping[str, str] | None = None,
    mappings: Mapping[str, Mapping[str, str]] | None = None,
    defaults: Mapping[str, Mapping[str, object]] | None = None,
    edges: str = DEFAULT_EDGES,
) -> dict[str, Layer]:
    """Read and validate each extra polygon layer, by name.

    Parameters
    ----------
    paths : mapping of str to path or paths
        Name -> file, or several files read into one layer (:func:`read_layer`).
    assume_crs : str or mapping of str to str, optional
        CRS for files that declare none: one for every layer, or by name (``areas`` for every
        extra layer).
    mappings : mapping, optional
        Name -> ``{canonical column: source column}`` (columns of the ``areas`` kind).
    defaults : mapping, optional
        Name -> ``{canonical column: value}``.
    edges : {"geodesic", "lonlat"}, default "geodesic"
        How edges are read (:func:`read_layer`).

    Returns
    -------
    dict of str to Layer
        Each layer (kind ``areas``; its ledger's layer is the name), in the order given.

    Raises
    ------
    ValidationError
        A name is not allowed (:func:`check_area_name`), or a layer cannot be read.
    """
    out: dict[str, Layer] = {}
    for name, path in paths.items():
        check_area_name(name)
        if isinstance(assume_crs, Mapping):
            crs = assume_crs.get(name, assume_crs.get(AREAS_KEY))
        else:
            crs = assume_crs
        layer = read_layer(
            path,
            AREAS_KEY,
            mapping=(mappings or {}).get(name),
            assume_crs=crs,
            defaults=(defaults or {}).get(name),
            edges=edges,
        )
        layer.ledger.layer = name
        out[name] = layer
    return out
