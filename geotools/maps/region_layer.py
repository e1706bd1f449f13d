"""The region choropleth of the web map: regions shaded by a column of ``region_stats``.

``geotools map --regions FILE --shade-regions COLUMN`` shades the regions (INEI departments,
provinces, districts) by one column of ``region_stats.csv`` in five classes
(:func:`compute_class_breaks`), with a legend and a popup listing every figure of the region.
The values are those of the privacy gate's view: in a public map the incident counts are
recounted from what the gate lets out and counts below its minimum arrive as ``"<N"``
(:func:`geotools.privacy.share_regions`); they are drawn in a class of their own, "fewer
than N", and never guessed back into a number here.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geotools.errors import ValidationError
from geotools.maps.elements import escape_html
from geotools.maps.layers import _add_layer, _column, _escaped, _Overlay, _row
from geotools.maps.style import (
    NO_DATA_COLOUR,
    REGION_COLOURS,
    SUPPRESSED_COLOUR,
    TEXT,
    VALUE_LABELS,
    format_hectares,
    format_number,
)

log = logging.getLogger(__name__)

#: Columns of ``region_stats`` that name a region rather than measure it.
REGION_KEYS = ("region_id", "region")
_SUPPRESSED = re.compile(r"^<(\d+)$")


def shade_columns(table: pd.DataFrame) -> list[str]:
    """Return the columns of a ``region_stats`` table a map can shade regions by.

    Parameters
    ----------
    table : pandas.DataFrame
        ``region_stats`` (or a view of it, with suppressed counts as ``"<N"``).

    Returns
    -------
    list of str
        Every column but :data:`REGION_KEYS`, in table order.
    """
    return [str(c) for c in table.columns if c not in REGION_KEYS and c != "geometry"]


def check_shade_column(table: pd.DataFrame | None, column: str) -> None:
    """Refuse a shading column ``region_stats`` does not have, naming those it has.

    Parameters
    ----------
    table : pandas.DataFrame or None
        ``region_stats`` of the run (None when no regions were given).
    column : str
        The column asked for (``--shade-regions``).

    Raises
    ------
    ValidationError
        No regions were given, or ``column`` is not one of :func:`shade_columns`.
    """
    if table is None:
        raise ValidationError(
            f"--shade-regions {column}: no regions were given; add --regions FILE (e.g. the "
            "INEI departments)"
        )
    valid = shade_columns(table)
    if column not in valid:
        raise ValidationError(
            f"--shade-regions {column}: region_stats has no such column; use one of "
            f"{', '.join(valid)}"
        )


def _nice(value: float, up: bool) -> float:
    """``value`` rounded to two significant digits (up or down)."""
    if value == 0 or not math.isfinite(value):
        return value
    step = 10.0 ** (math.floor(math.log10(abs(value))) - 1)
    return (math.ceil if up else math.floor)(value / step) * step


def compute_class_breaks(values: Sequence[float] | np.ndarray, classes: int = 5) -> list[float]:
    """Class breaks of a choropleth: quantiles of the values, rounded to two significant digits.

    Classes are closed on the left (as :data:`geotools.maps.style.TITLED_BREAKS`): a value
    ``v`` is in class ``i`` when ``breaks[i] <= v < breaks[i + 1]``, the last class closed on
    both sides. Counts get whole-number breaks.

    Parameters
    ----------
    values : array-like of float
        The values to shade (NaN ignored).
    classes : int, default 5
        Largest number of classes (fewer when the values do not spread over five).

    Returns
    -------
    list of float
        ``len(classes) + 1`` increasing breaks from at most the smallest value to at least
        the largest; ``[]`` without values.

    Examples
    --------
    >>> compute_class_breaks([0, 1, 2, 3, 10, 25, 81])
    [0.0, 2.0, 3.0, 8.0, 22.0, 81.0]
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return []
    low, high = float(v.min()), float(v.max())
    if low == high:
        return [low, high]
    whole = bool(np.all(v == np.round(v)))
    inner = np.quantile(v, np.linspace(0, 1, classes + 1)[1:-1])
    cuts = [_nice(float(q), up=False) for q in inner]
    if whole:
        cuts = [float(math.ceil(c)) for c in cuts]
    breaks = sorted({low, *[c for c in cuts if low < c < high], high})
    return [float(b) for b in breaks]


@dataclass(frozen=True)
class RegionShading:
    """How regions are shaded by one column: the same classes on the web map, the static PNG
    maps and the vector tiles.

    Attributes
    ----------
    classes : numpy.ndarray
        Class of each region: ``0 .. len(colours) - 1``, ``-1`` no data, ``-2`` a suppressed
        count (``"<N"``: the "fewer than N" class).
    breaks : list of float
        Class breaks (:func:`compute_class_breaks`, of the shown values only).
    colours : list of str
        Fill colour of each class.
    labels : list of str
        Legend text of each class (:func:`class_labels`, plain text).
    floor : int or None
        ``N`` of the suppressed counts (``"<N"``), None when none is suppressed.
    """

    classes: np.ndarray
    breaks: list[float]
    colours: list[str]
    labels: list[str]
    floor: int | None


def shade_classes(values: pd.Series, column: str, lang: str) -> RegionShading:
    """Classes, colours and legend texts of regions shaded by ``values`` (a column of the
    gate's region view).

    Parameters
    ----------
    values : pandas.Series
        The column's values: numbers, ``"<N"`` (suppressed counts) or missing.
    column : str
        The column's name (``*_ha`` read as hectares).
    lang : {"es", "en"}
        Language of the legend texts.

    Returns
    -------
    RegionShading
        Suppressed counts are a class of their own and never enter the breaks.
    """
    raw = values.astype("string").str.strip()
    suppressed = raw.str.fullmatch(r"<\d+").fillna(False).to_numpy(dtype=bool)
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    breaks = compute_class_breaks(numbers[~suppressed])
    classes = np.full(len(values), -1)
    known = np.isfinite(numbers) & ~suppressed
    if breaks:
        classes[known] = np.clip(
            np.searchsorted(breaks, numbers[known], side="right") - 1, 0, len(breaks) - 2
        )
    classes[suppressed] = -2
    whole = bool(np.all(numbers[known] == np.round(numbers[known])))
    floor = int(str(raw[suppressed].iloc[0]).lstrip("<")) if suppressed.any() else None
    return RegionShading(
        classes,
        breaks,
        _ramp(len(breaks) - 1),
        class_labels(breaks, column, lang, whole=whole) if breaks else [],
        floor,
    )


def class_labels(
    breaks: Sequence[float], column: str, lang: str, *, whole: bool = False
) -> list[str]:
    """Legend texts of the classes of :func:`compute_class_breaks` (plain text, unescaped).

    Classes are closed on the left, the last on both sides. Whole-number values (counts) get
    whole-number classes that do not overlap: breaks ``[0, 3, 84, 580]`` read "0–2", "3–83",
    "84–580" (a class holding one whole number reads as that number). Other values read
    "low–high", the upper end belonging to the next class.

    Parameters
    ----------
    breaks : sequence of float
        Increasing class breaks (``len(classes) + 1`` of them).
    column : str
        The ``region_stats`` column shaded (``*_ha`` columns read as hectares).
    lang : {"es", "en"}
        Language of the number format.
    whole : bool, default False
        The values are whole numbers (counts).

    Returns
    -------
    list of str
        One text per class, e.g. ``["0–2", "3–83", "84–580"]``.
    """
    labels = []
    last = len(breaks) - 2
    for k in range(last + 1):
        low, high = float(breaks[k]), float(breaks[k + 1])
        if whole and low.is_integer() and high.is_integer() and k < last:
            high -= 1.0
        low_text = _plain_value(low, column, lang)
        labels.append(low_text if high <= low else f"{low_text}–{_plain_value(high, column, lang)}")
    return labels


def _plain_value(value: float, column: str, lang: str) -> str:
    """A class break as plain text (hectares or a number)."""
    if column.endswith("_ha"):
        return format_hectares(value, lang)
    return format_number(value, lang, 0 if float(value).is_integer() else 1)


def region_label(column: str, lang: str) -> str:
    """The label of a ``region_stats`` column in ``lang`` (plain text; the column name when
    unknown).

    Parameters
    ----------
    column : str
        A column of ``region_stats``.
    lang : {"es", "en"}
        Language.

    Returns
    -------
    str
        E.g. ``"Incidents in 2024"``, ``"Concessions: Oil and gas"``.
    """
    t = TEXT[lang]
    if f"region_{column}" in t:
        return t[f"region_{column}"]
    kinds = VALUE_LABELS["concession_kind"][lang]
    match = re.fullmatch(r"concession_(\w+)_ha", column)
    if match:
        return t["region_concession"].format(kind=kinds.get(match.group(1), match.group(1)))
    match = re.fullmatch(r"incidents_(\d{4})", column)
    if match:
        return t["region_incidents_year"].format(year=match.group(1))
    match = re.fullmatch(r"incidents_(\w+)", column)
    if match:
        labels = VALUE_LABELS["incident_kind"][lang]
        return t["region_incidents_kind"].format(kind=labels.get(match.group(1), match.group(1)))
    return column


def _value_text(value: object, column: str, lang: str) -> str:
    """One figure of a region for a popup (escaped): ``"<3"`` as "fewer than 3"."""
    text = str(value) if value is not None else ""
    suppressed = _SUPPRESSED.match(text.strip())
    if suppressed:
        return escape_html(TEXT[lang]["fewer_than"].format(n=suppressed.group(1)))
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    if pd.isna(number):
        return escape_html(text) if text and text != "nan" else TEXT[lang]["na"]
    if column.endswith("_ha"):
        return format_hectares(number, lang)
    return format_number(number, lang, 0 if float(number).is_integer() else 1)


def _region_layer(
    m: folium.Map,
    frame: gpd.GeoDataFrame,
    lang: str,
    overlays: list[_Overlay],
    column: str | None,
) -> str:
    """Add the regions (display frame with the ``region_stats`` columns), shaded by
    ``column`` or outlined only; return the legend section (constants and numbers only)."""
    t = TEXT[lang]
    figures = [c for c in shade_columns(frame) if not c.startswith("_")]
    names = _escaped(_column(frame, "region").fillna(_column(frame, "region_id")))
    texts = {c: [_value_text(v, c, lang) for v in frame[c]] for c in figures}
    popups = [
        f'<div class="gt-popup"><div class="gt-h">{name}</div><table>'
        + "".join(_row(escape_html(region_label(c, lang)), texts[c][i]) for c in figures)
        + "</table></div>"
        for i, name in enumerate(names)
    ]
    label = region_label(column, lang) if column else t["regions_outline"]
    if column is None:
        keys = [0] * len(frame)
        styles = {0: {"fillOpacity": 0.0, "color": "#555555", "weight": 1.2, "opacity": 0.8}}
        tooltips = names
        legend = (
            f'<div class="gt-sec">{escape_html(label)}</div><div class="gt-row"><span '
            'class="gt-sw" style="background:none;border:1.5px solid #555"></span>'
            f"{escape_html(label)}</div>"
        )
    else:
        shading = shade_classes(frame[column], column, lang)
        classes = shading.classes
        colours = shading.colours
        styles = {
            k: {
                "fillColor": colours[k] if k >= 0 else (
                    SUPPRESSED_COLOUR if k == -2 else NO_DATA_COLOUR
                ),
                "fillOpacity": 0.6,
                "color": "#555555",
                "weight": 1.0,
                "opacity": 0.8,
            }
            for k in range(-2, len(colours))
        }
        keys = classes.tolist()
        tooltips = [
            f"{name}: {texts[column][i]}" for i, name in enumerate(names)
        ]
        rows = []
        for colour, span in zip(colours, shading.labels, strict=True):
            rows.append(
                f'<div class="gt-row"><span class="gt-sw" style="background:{colour}"></span>'
                f"{escape_html(span)}</div>"
            )
        if shading.floor is not None:
            floor = shading.floor
            rows.append(
                f'<div class="gt-row"><span class="gt-sw" style="background:{SUPPRESSED_COLOUR}">'
                f"</span>{escape_html(t['fewer_than'].format(n=floor))}</div>"
                f'<div class="gt-note">{escape_html(t["region_suppressed_note"].format(n=floor))}'
                "</div>"
            )
        if (classes == -1).any():
            rows.append(
                f'<div class="gt-row"><span class="gt-sw" style="background:{NO_DATA_COLOUR}">'
                f"</span>{t['no_data']}</div>"
            )
        legend = f'<div class="gt-sec">{escape_html(label)}</div>' + "".join(rows)
    _add_layer(
        m,
        frame,
        {"popup": popups, "tooltip": tooltips, "k": keys},
        styles,
        t["layer_regions"].format(column=label) if column else label,
        overlays,
        t["group_communities"],
        highlight={"weight": 2.5, "color": "#000000"},
    )
    log.debug("regions: %d drawn, shaded by %s", len(frame), column)
    return legend


def _ramp(n: int) -> list[str]:
    """``n`` colours of :data:`REGION_COLOURS`, spread from the lightest to the darkest."""
    if n <= 0:
        return []
    index = np.round(np.linspace(0, len(REGION_COLOURS) - 1, n)).astype(int)
    return [REGION_COLOURS[i] for i in index]
