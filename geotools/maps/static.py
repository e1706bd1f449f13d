"""Static PNG maps for printed reports: one overview and one map per territory.

:func:`build_overview_figure` and :func:`build_territory_figure` build
:class:`matplotlib.figure.Figure` objects (Agg canvas, no pyplot state, never shown);
:func:`write_static_maps` renders them all to PNG files, all or nothing.

Design
------
- Colours, vocabularies, labels and number formats are those of the interactive map
  (:mod:`geotools.maps`), so a printed report and its web map tell the same story.
- Maps are drawn in a projected CRS (:func:`choose_display_crs`): the UTM zone of the map's
  centre, or the equal-area CRS of :func:`geotools.crs.choose_area_crs` for wide extents. The scale
  bar is measured on the ground at the map centre (the projection's point scale factor is
  applied), and the caption names the CRS.
- No basemap tiles: the maps are drawn offline from the layers alone.
- Incidents pass :func:`geotools.maps.select_visible_incidents` before anything else is done with
  them: a ``public`` map never holds a restricted or confidential record, and says how many it
  left out.
- Every text taken from the data is drawn literally (mathtext is off on every text artist), so a
  name such as ``$x$`` cannot change or break the rendering.
- Output is deterministic: fixed fonts and style, no timestamps in the PNG metadata.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.patheffects import withStroke
from matplotlib.text import Text
from pyproj import CRS, Proj, Transformer

from geotools._version import __version__
from geotools.analysis.stats import StatsResult
from geotools.crs import WGS84, choose_area_crs, describe_crs
from geotools.errors import CRSError, ValidationError
from geotools.geometry import polygonal_part
from geotools.maps import (
    CONCESSION_STYLES,
    INCIDENT_COLOURS,
    INFRASTRUCTURE_STYLES,
    NO_DATA_COLOUR,
    PROFILES,
    RISK_COLOURS,
    STATUS_STYLES,
    TENURE_COLOURS,
    TERRITORY_OUTLINE,
    TEXT,
    VALUE_LABELS,
    _hectare_number,
    component_names,
    format_number,
    format_percent,
    select_visible_incidents,
)
from geotools.outputs import staged_outputs
from geotools.privacy import select_drawable
from geotools.schema import DEFAULT_SEVERITY

log = logging.getLogger(__name__)

#: Printable width of an A4 page (190 mm), in inches: figures are this wide.
A4_WIDTH_IN = 7.48
#: Size (inches) of the overview and of each territory's figure.
OVERVIEW_SIZE = (A4_WIDTH_IN, 7.0)
TERRITORY_SIZE = (A4_WIDTH_IN, 7.6)
#: Opacity of the risk-class fill of territories (as in the interactive map).
FILL_ALPHA = 0.7
#: Fill of the untitled part of a territory on territory maps (distinct from tenure colours).
UNTITLED_COLOUR = "#f1b6da"
#: Outline and dot hatching of titled parcels on the overview (over the risk colour).
TITLED_EDGE = "#00441b"
#: Name of the overview file; territory files are ``<sanitised territory_id>.png``.
OVERVIEW_NAME = "overview.png"
#: Legend labels are wrapped at this many characters.
LEGEND_WRAP = 30
#: Largest number of territory names printed on the overview (the largest territories first).
MAX_OVERVIEW_LABELS = 40
#: Widest extent (degrees of longitude) drawn in a single UTM zone; wider maps use Albers.
MAX_UTM_SPAN_DEG = 8.0
#: Matplotlib hatch of each concession-kind hatching angle of ``geotools.maps``.
HATCHES = {45: "////", -45: "\\\\\\\\", 0: "----", 90: "||||"}
#: Tag (``gid``) of the scatter collection of incidents, one offset per incident drawn.
INCIDENTS_GID = "incidents"
#: Tag (``gid``) of the scale bar's segments and labels.
SCALEBAR_GID = "scalebar"
#: Label of the map axes in each figure.
MAP_AXES_LABEL = "map"

#: Texts of the static maps not already in :data:`geotools.maps.TEXT`.
STATIC_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "overview_subtitle": "Claimed territories shaded by risk class",
        "territory_subtitle": "Titled and untitled land, concessions and incidents",
        "titled_land": "Titled land (parcels)",
        "untitled_land": "Untitled (claimed, not secured)",
        "territory_outline": "Claimed territory",
        "other_territories": "Other territories",
        "north": "N",
        "caption": "geotools {version} · {date} · CRS {crs}; scale true at the map centre · "
        "hectares measured in {area_crs}, not on this drawing · no basemap (drawn offline)",
        "data_as_of": "data as of {date}",
        "latest_record": "data: latest record {date}",
        "no_date": "data date unknown",
        "in_concessions_line": "Under concessions: {value}",
        "incidents_line": "Incidents: {value}",
        "drivers_note": "(drivers in English)",
    },
    "es": {
        "overview_subtitle": "Territorios reclamados según clase de riesgo",
        "territory_subtitle": "Tierra titulada y no titulada, concesiones e incidentes",
        "titled_land": "Tierra titulada (predios)",
        "untitled_land": "No titulada (reclamada, sin asegurar)",
        "territory_outline": "Territorio reclamado",
        "other_territories": "Otros territorios",
        "north": "N",
        "caption": "geotools {version} · {date} · SRC {crs}; escala exacta en el centro del "
        "mapa · hectáreas medidas en {area_crs}, no sobre este dibujo · sin mapa base "
        "(dibujado sin conexión)",
        "data_as_of": "datos al {date}",
        "latest_record": "datos: último registro {date}",
        "no_date": "fecha de los datos desconocida",
        "in_concessions_line": "En concesiones: {value}",
        "incidents_line": "Incidentes: {value}",
        "drivers_note": "(motivos en inglés)",
    },
}

#: Fixed style of every figure (fonts shipped with matplotlib, so output is the same anywhere).
_RC: Any = {
    "font.family": "DejaVu Sans",
    "font.size": 8.0,
    "text.usetex": False,
    "hatch.linewidth": 0.7,
    "axes.unicode_minus": True,
    "path.simplify": True,
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
    "lines.scale_dashes": True,
    "svg.hashsalt": "geotools",
}
_HALO = [withStroke(linewidth=2.2, foreground="white")]
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)


class _LayerLike(Protocol):
    """Anything with a ``frame`` (e.g. :class:`geotools.io.Layer`)."""

    frame: gpd.GeoDataFrame


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _style() -> Iterator[None]:
    with mpl.rc_context(_RC):
        yield


def _check_lang(lang: str) -> None:
    if lang not in STATIC_TEXT:
        raise ValueError(f"lang must be one of {', '.join(STATIC_TEXT)}; got {lang!r}.")


def _check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}.")


def _frame(layers: Mapping[str, Any], kind: str) -> gpd.GeoDataFrame | None:
    """The layer's frame in EPSG:4326 without empty geometries, or None when absent/empty."""
    layer = layers.get(kind)
    if layer is None:
        return None
    frame = layer.frame if hasattr(layer, "frame") else layer
    if frame is None or len(frame) == 0:
        return None
    if frame.crs is None:
        raise CRSError(
            f"The {kind} layer has no coordinate reference system; set one before drawing maps."
        )
    if not frame.crs.equals(WGS84):
        frame = frame.to_crs(WGS84)
    geoms = frame.geometry.to_numpy()
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return frame.loc[keep] if len(frame) and keep.any() else None


def _codes(frame: pd.DataFrame, column: str, known: Sequence[str], default: str) -> np.ndarray:
    """Vocabulary codes, normalised; unknown or missing values become ``default``."""
    if column not in frame.columns:
        return np.full(len(frame), default, dtype=object)
    values = frame[column].astype("string").str.strip().str.lower().fillna(default)
    return np.where(values.isin(list(known)).to_numpy(), values.to_numpy(object), default)


def choose_display_crs(bounds_lonlat: Sequence[float]) -> CRS:
    """Return the projected CRS a static map of ``bounds_lonlat`` is drawn in.

    Parameters
    ----------
    bounds_lonlat : sequence of float
        ``(min_lon, min_lat, max_lon, max_lat)`` of the map, in degrees.

    Returns
    -------
    pyproj.CRS
        The WGS 84 UTM zone of the centre (conformal: shapes and the scale bar are right in every
        direction) when the map spans at most :data:`MAX_UTM_SPAN_DEG` of longitude; otherwise
        the equal-area CRS of :func:`geotools.crs.choose_area_crs`.
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds_lonlat)
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        raise CRSError("Cannot choose a map projection: the layers have no finite extent.")
    if maxx - minx > MAX_UTM_SPAN_DEG:
        return choose_area_crs((minx, miny, maxx, maxy))
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    zone = min(max(int((lon + 180) // 6) + 1, 1), 60)
    return CRS.from_epsg((32700 if lat < 0 else 32600) + zone)


def _crs_label(crs: CRS) -> str:
    code = describe_crs(crs)
    return f"{crs.name} ({code})" if code.startswith("EPSG:") else str(crs.name)


def _nice_length(target: float) -> float:
    """Largest 1, 2 or 5 x 10^n not above ``target`` (> 0)."""
    power = 10 ** np.floor(np.log10(target))
    for step in (5, 2, 1):
        if step * power <= target:
            return float(step * power)
    return float(power)


def sanitise_filename(identifier: Any) -> str:
    """Return a file stem safe on any file system for a territory identifier.

    Letters, digits, ``.``, ``_`` and ``-`` are kept (accents are kept as letters); anything else
    becomes ``_``. Leading dots and trailing dots/spaces are removed, Windows device names get a
    leading ``_`` and the result is at most 100 characters; an empty result becomes ``territory``.

    Examples
    --------
    >>> sanitise_filename("T01")
    'T01'
    >>> sanitise_filename("../etc/passwd")
    'etc_passwd'
    >>> sanitise_filename("Comunidad Ñuñu / 2")
    'Comunidad_Ñuñu_2'
    >>> sanitise_filename("CON")
    '_CON'
    """
    text = re.sub(r"[^\w.\-]+", "_", str(identifier), flags=re.UNICODE)
    text = re.sub(r"_+", "_", text).strip("._ ")[:100].rstrip("._ ")
    if not text:
        return "territory"
    if text.split(".")[0].upper() in _WINDOWS_RESERVED:
        text = f"_{text}"
    return text


def territory_filenames(territory_ids: Sequence[Any]) -> list[str]:
    """Return ``<sanitised id>.png`` per territory, refusing names that would collide.

    Parameters
    ----------
    territory_ids : sequence
        Identifiers, in order.

    Returns
    -------
    list of str
        File names, in the same order.

    Raises
    ------
    geotools.errors.ValidationError
        When two identifiers give the same file name (compared ignoring case, as on Windows and
        macOS), or one gives ``overview.png``.
    """
    names = [f"{sanitise_filename(ident)}.png" for ident in territory_ids]
    seen: dict[str, Any] = {OVERVIEW_NAME.lower(): "(the overview map)"}
    for ident, name in zip(territory_ids, names, strict=True):
        key = name.lower()
        if key in seen:
            raise ValidationError(
                f"territory_id {ident!r} and {seen[key]!r} both give the map file name "
                f"{name!r}; make the territory ids distinct after removing characters other "
                "than letters, digits, '.', '_' and '-'."
            )
        seen[key] = ident
    return names


def _latest_date(frames: Sequence[tuple[gpd.GeoDataFrame | None, str]]) -> str | None:
    """Latest date (ISO) in the given ``(frame, column)`` pairs, or None."""
    latest: pd.Timestamp | None = None
    for frame, column in frames:
        if frame is None or column not in frame.columns or not len(frame):
            continue
        parsed = pd.to_datetime(frame[column].astype("string"), errors="coerce", format="mixed")
        if parsed.dt.tz is not None:
            parsed = parsed.dt.tz_localize(None)
        value = parsed.max()
        if pd.notna(value) and (latest is None or value > latest):
            latest = value
    return None if latest is None else latest.strftime("%Y-%m-%d")


def _date_text(
    lang: str, data_date: str | None, frames: Sequence[tuple[gpd.GeoDataFrame | None, str]]
) -> str:
    s = STATIC_TEXT[lang]
    if data_date:
        return s["data_as_of"].format(date=data_date)
    latest = _latest_date(frames)
    return s["latest_record"].format(date=latest) if latest else s["no_date"]


def _literal_texts(fig: Figure) -> None:
    """Turn mathtext off on every text of ``fig``: text from data is drawn as given."""
    for artist in fig.findobj(Text):
        artist.set_parse_math(False)
        artist.set_usetex(False)


def _new_figure(size: tuple[float, float], dpi: float) -> Figure:
    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _dashes(pattern: str | None, scale: float = 0.5) -> Any:
    """A Leaflet ``dashArray`` (``"8 5"``) as a matplotlib line style."""
    if not pattern:
        return "solid"
    return (0, tuple(float(v) * scale for v in pattern.split()))


def _plot(
    frame: gpd.GeoDataFrame | gpd.GeoSeries, ax: Axes, linestyle: Any = None, **kwargs: Any
) -> None:
    """``frame.plot`` on ``ax`` (aspect untouched); ``linestyle`` applies to the whole layer.

    GeoPandas would read a dash tuple such as ``(0, (4, 2))`` as one value per feature, so the
    line style is set on the collection(s) the call added.
    """
    before = len(ax.collections)
    frame.plot(ax=ax, aspect=None, **kwargs)
    if linestyle is not None:
        for collection in ax.collections[before:]:
            collection.set_linestyle(linestyle)


# --------------------------------------------------------------------------------------------
# Drawing layers (each a handful of vectorised .plot / .scatter calls)
# --------------------------------------------------------------------------------------------


def _prepare_incidents(
    layers: Mapping[str, Any], profile: str, result: StatsResult | None = None
) -> tuple[gpd.GeoDataFrame | None, int]:
    """Incidents the profile allows (in EPSG:4326), and how many were left out.

    Confidential records are never counted among those left out (the number is printed beside
    published counts: counting them would reveal them by subtraction). On a privacy-gate view
    (``result.options["shareable_view"]``) the number is the view's.
    """
    incidents = _frame(layers, "incidents")
    options = result.options if result is not None else {}
    gated = options.get("shareable_view") == profile
    withheld = int(options.get("shareable_withheld", 0)) if gated else 0
    if incidents is None:
        return None, withheld
    if not gated:
        _, withheld = select_drawable(incidents, profile)
    visible = select_visible_incidents(incidents, profile)
    return (visible if len(visible) else None), withheld


def _in_view(frame: gpd.GeoDataFrame | None, view: shapely.Geometry) -> gpd.GeoDataFrame | None:
    """Rows of ``frame`` (EPSG:4326) whose geometry intersects ``view`` (EPSG:4326)."""
    if frame is None:
        return None
    rows = frame.sindex.query(view, predicate="intersects")
    if not len(rows):
        return None
    return frame.iloc[np.sort(rows)]


def _draw_concessions(ax: Axes, frame: gpd.GeoDataFrame | None, crs: CRS) -> tuple[list, list]:
    """Concessions hatched and outlined by kind, outline dash by status; present kinds/statuses."""
    if frame is None:
        return [], []
    frame = frame.to_crs(crs)
    kinds = _codes(frame, "kind", list(CONCESSION_STYLES), "other")
    statuses = _codes(frame, "status", list(STATUS_STYLES), "active")
    # One call per style (at most 5 kinds x 3 statuses), each drawing all its features at once.
    for kind, (colour, angle) in CONCESSION_STYLES.items():
        for status, (dash, opacity) in STATUS_STYLES.items():
            mask = (kinds == kind) & (statuses == status)
            if mask.any():
                _plot(
                    frame.loc[mask],
                    ax,
                    facecolor="none",
                    edgecolor=colour,
                    hatch=HATCHES.get(angle, "////"),
                    linewidth=1.3,
                    linestyle=_dashes(dash, 0.6),
                    alpha=opacity,
                    zorder=3,
                )
    present_kinds = [k for k in CONCESSION_STYLES if (kinds == k).any()]
    present_statuses = [s for s in STATUS_STYLES if (statuses == s).any()]
    return present_kinds, present_statuses


def _draw_infrastructure(
    ax: Axes, frame: gpd.GeoDataFrame | None, crs: CRS, lang: str
) -> list[tuple[str, str | None]]:
    """Lines by kind; returns legend rows ``(label, style key)``."""
    if frame is None:
        return []
    frame = frame.to_crs(crs)
    keys = _codes(frame, "kind", [k for k in INFRASTRUCTURE_STYLES if k], "")
    labels = VALUE_LABELS["infrastructure_kind"][lang]
    rows = []
    for key in dict.fromkeys(keys.tolist()):
        colour, dash = INFRASTRUCTURE_STYLES.get(key or None, INFRASTRUCTURE_STYLES[None])
        _plot(
            frame.loc[keys == key],
            ax,
            color=colour,
            linewidth=1.6,
            linestyle=_dashes(dash),
            zorder=4,
        )
        rows.append((labels.get(key, TEXT[lang]["layer_infrastructure"]), key or None))
    return rows


def _draw_incidents(ax: Axes, frame: gpd.GeoDataFrame | None, crs: CRS) -> list[str]:
    """Incidents as one scatter (colour by kind, size by severity, hollow when not exact)."""
    if frame is None:
        return []
    points = frame.to_crs(crs)
    geoms = points.geometry.to_numpy()
    # Points only (a polygon incident is drawn at a point on its surface).
    geoms = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
    xy = shapely.get_coordinates(geoms)
    kinds = _codes(points, "kind", list(INCIDENT_COLOURS), "other")
    severity = (
        pd.to_numeric(points["severity"], errors="coerce").to_numpy(dtype=float)
        if "severity" in points.columns
        else np.full(len(points), np.nan)
    )
    default = np.array([DEFAULT_SEVERITY.get(k, 1) for k in kinds], dtype=float)
    level = np.clip(np.where(np.isfinite(severity), severity, default), 1, 5).round()
    exact = _codes(points, "precision", ["exact", "approximate", "locality", "district"], "exact")
    exact = exact == "exact"
    colours = mpl.colors.to_rgba_array([INCIDENT_COLOURS[k] for k in kinds])
    faces = colours.copy()
    faces[~exact, 3] = 0.25
    edges = np.where(exact[:, None], mpl.colors.to_rgba_array(["white"] * len(kinds)), colours)
    # Most severe on top.
    order = np.argsort(level, kind="stable")
    ax.scatter(
        xy[order, 0],
        xy[order, 1],
        s=(3.0 + 1.6 * level[order]) ** 2,
        c=faces[order],
        edgecolors=[tuple(e) for e in edges[order]],
        linewidths=np.where(exact[order], 0.8, 1.6).tolist(),
        zorder=9,
        gid=INCIDENTS_GID,
    )
    return [k for k in INCIDENT_COLOURS if (kinds == k).any()]


# --------------------------------------------------------------------------------------------
# Map furniture
# --------------------------------------------------------------------------------------------


def _set_extent(ax: Axes, bounds: Sequence[float], margin: float) -> None:
    """Show ``bounds`` (projected) with ``margin`` (fraction of the larger side) around them."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    pad = max(maxx - minx, maxy - miny, 100.0) * margin
    width, height = maxx - minx + 2 * pad, maxy - miny + 2 * pad
    # Widen the shorter side so that one map unit is as long across as up (equal aspect) in
    # the axes box as placed on the figure.
    box = ax.get_position()
    fig_w, fig_h = ax.get_figure().get_size_inches()  # type: ignore[union-attr]
    box_ratio = (box.height * fig_h) / (box.width * fig_w)
    if height / width < box_ratio:
        height = width * box_ratio
    else:
        width = height / box_ratio
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    ax.set_xlim(cx - width / 2, cx + width / 2)
    ax.set_ylim(cy - height / 2, cy + height / 2)
    ax.set_aspect("auto")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#555555")
        spine.set_linewidth(0.8)


def _centre_lonlat(ax: Axes, crs: CRS) -> tuple[float, float]:
    x = float(np.mean(ax.get_xlim()))
    y = float(np.mean(ax.get_ylim()))
    lon, lat = Transformer.from_crs(crs, WGS84, always_xy=True).transform(x, y)
    return float(lon), float(lat)


def _scale_bar(ax: Axes, crs: CRS) -> None:
    """A two-segment scale bar in km at the lower left, true on the ground at the map centre."""
    ax.set_xlabel("")  # GeoPandas labels projected axes "Easting [metre]"; the frame is bare
    ax.set_ylabel("")
    lon, lat = _centre_lonlat(ax, crs)
    factor = float(Proj(crs).get_factors(lon, lat).parallel_scale)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    ground_width_m = (x1 - x0) / factor
    length_m = _nice_length(ground_width_m / 5)
    length = length_m * factor  # projected units
    left = x0 + 0.04 * (x1 - x0)
    bottom = y0 + 0.04 * (y1 - y0)
    height = 0.012 * (y1 - y0)
    ax.add_patch(
        Rectangle(
            (left - 0.015 * (x1 - x0), bottom - 0.02 * (y1 - y0)),
            length + 0.06 * (x1 - x0),
            0.075 * (y1 - y0),
            facecolor="white",
            edgecolor="none",
            alpha=0.8,
            zorder=9,
        )
    )
    for i, colour in enumerate(("#222222", "white")):
        ax.add_patch(
            Rectangle(
                (left + i * length / 2, bottom),
                length / 2,
                height,
                facecolor=colour,
                edgecolor="#222222",
                linewidth=0.7,
                zorder=10,
                gid=SCALEBAR_GID,
            )
        )
    km = length_m / 1000
    label = f"{km:g} km" if km >= 1 else f"{length_m:g} m"
    for x, text in ((left, "0"), (left + length, label)):
        ax.text(
            x,
            bottom + 1.6 * height,
            text,
            ha="center",
            va="bottom",
            fontsize=7,
            zorder=10,
            gid=SCALEBAR_GID,
        )


def _north_arrow(ax: Axes, crs: CRS) -> None:
    """An arrow to true north (grid convergence applied) at the upper right."""
    lon, lat = _centre_lonlat(ax, crs)
    fwd = Transformer.from_crs(WGS84, crs, always_xy=True)
    x0, y0 = fwd.transform(lon, lat)
    x1, y1 = fwd.transform(lon, lat + 0.01)
    direction = np.array([x1 - x0, y1 - y0], dtype=float)
    direction /= np.hypot(*direction)
    tail = tuple(-22.0 * direction)
    ax.annotate(
        STATIC_TEXT["en"]["north"],
        xy=(0.94, 0.90),
        xycoords="axes fraction",
        xytext=tail,
        textcoords="offset points",
        ha="center",
        va="center",
        fontsize=9,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "#222222", "linewidth": 1.4},
        bbox={"boxstyle": "circle,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        zorder=10,
    )


def _heading(label: str) -> tuple[Patch, str]:
    return Patch(visible=False), label


def _legend(
    lax: Axes,
    rows: list[tuple[Any, str]],
    headings: set[str],
) -> None:
    """A categorical legend in its own axes, with bold section headings."""
    lax.set_axis_off()
    if not rows:
        return
    handles, labels = zip(*rows, strict=True)
    wrapped = [textwrap.fill(label, LEGEND_WRAP) for label in labels]
    legend = lax.legend(
        handles,
        wrapped,
        loc="upper left",
        bbox_to_anchor=(0.0, 1.0),
        frameon=False,
        fontsize=7,
        handlelength=2.2,
        handleheight=1.1,
        borderaxespad=0.0,
        labelspacing=0.45,
    )
    for text in legend.get_texts():
        if text.get_text() in {textwrap.fill(h, LEGEND_WRAP) for h in headings}:
            text.set_fontweight("bold")
            text.set_fontsize(7.5)


def _legend_rows(
    lang: str,
    risk_classes: Sequence[str] = (),
    risk_no_data: bool = False,
    land: Sequence[tuple[Any, str]] = (),
    concession_kinds: Sequence[str] = (),
    statuses: Sequence[str] = (),
    incident_kinds: Sequence[str] = (),
    infrastructure: Sequence[tuple[str, str | None]] = (),
) -> tuple[list[tuple[Any, str]], set[str]]:
    t = TEXT[lang]
    rows: list[tuple[Any, str]] = []
    headings: set[str] = set()

    def head(label: str) -> None:
        rows.append(_heading(label))
        headings.add(label)

    if risk_classes:
        head(t["risk_class"])
        labels = VALUE_LABELS["risk_class"][lang]
        rows.extend(
            (
                Patch(
                    facecolor=RISK_COLOURS[k],
                    alpha=FILL_ALPHA,
                    edgecolor=TERRITORY_OUTLINE,
                    linewidth=0.8,
                ),
                labels[k].capitalize(),
            )
            for k in risk_classes
        )
        if risk_no_data:
            rows.append(
                (Patch(facecolor=NO_DATA_COLOUR, edgecolor=TERRITORY_OUTLINE), t["no_data"])
            )
    if land:
        head(t["tenure"])
        rows.extend(land)
    if concession_kinds:
        head(t["layer_concessions"])
        labels = VALUE_LABELS["concession_kind"][lang]
        for k in concession_kinds:
            colour, angle = CONCESSION_STYLES[k]
            rows.append(
                (
                    Patch(
                        facecolor="none",
                        edgecolor=colour,
                        hatch=HATCHES.get(angle, "////"),
                        linewidth=1.2,
                    ),
                    labels[k],
                )
            )
        if len(statuses) > 1 or (statuses and statuses[0] != "active"):
            labels = VALUE_LABELS["status"][lang]
            for s in statuses:
                dash, opacity = STATUS_STYLES[s]
                rows.append(
                    (
                        Line2D(
                            [],
                            [],
                            color="#444444",
                            linewidth=1.3,
                            alpha=opacity,
                            linestyle=_dashes(dash, 0.6),
                        ),
                        f"{t['concession_status']}: {labels[s]}",
                    )
                )
    if incident_kinds:
        head(t["layer_incidents"])
        labels = VALUE_LABELS["incident_kind"][lang]
        rows.extend(
            (
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker="o",
                    markersize=6,
                    markerfacecolor=INCIDENT_COLOURS[k],
                    markeredgecolor="white",
                ),
                labels[k],
            )
            for k in incident_kinds
        )
        rows.append(
            (
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker="o",
                    markersize=6,
                    markerfacecolor=(0.4, 0.4, 0.4, 0.25),
                    markeredgecolor="#666666",
                    markeredgewidth=1.4,
                ),
                t["hollow_note"],
            )
        )
        rows.append((Patch(visible=False), t["size_note"]))
    if infrastructure:
        head(t["layer_infrastructure"])
        for label, key in infrastructure:
            colour, dash = INFRASTRUCTURE_STYLES.get(key, INFRASTRUCTURE_STYLES[None])
            rows.append(
                (Line2D([], [], color=colour, linewidth=1.6, linestyle=_dashes(dash)), label)
            )
    return rows, headings


#: Left and right margin of the figure texts (figure fraction) and the gap between stacked
#: texts, and between the texts and the map (inches).
TEXT_LEFT = 0.03
TEXT_RIGHT = 0.985
TEXT_GAP_IN = 0.05
#: Font size of the caption (points), and the smallest it may shrink to so that it fits.
CAPTION_SIZE = 5.8
MIN_CAPTION_SIZE = 4.0


def _text_width_in(fig: Figure, text: str, size: float, weight: str = "normal") -> float:
    """Width (inches) of one line of ``text`` as the Agg renderer draws it (no mathtext)."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    width, _, _ = renderer.get_text_width_height_descent(
        text, FontProperties(size=size, weight=weight), ismath=False
    )
    return float(width) / fig.dpi


def _wrap(
    fig: Figure, text: str, size: float, weight: str = "normal", right: float = TEXT_RIGHT
) -> str:
    """``text`` with line breaks so that no line, as drawn, runs past ``right`` (figure fraction).

    Lines are measured with the figure's renderer; a word too long for a line on its own is cut.
    """
    limit = (right - TEXT_LEFT) * float(fig.get_figwidth())
    out: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if _text_width_in(fig, candidate, size, weight) <= limit:
                line = candidate
                continue
            if line:
                out.append(line)
            line = word
            while len(line) > 1 and _text_width_in(fig, line, size, weight) > limit:
                cut = len(line) - 1
                while cut > 1 and _text_width_in(fig, line[:cut], size, weight) > limit:
                    cut = max(1, cut * 3 // 4) if cut > 8 else cut - 1
                out.append(line[:cut])
                line = line[cut:]
        out.append(line)
    return "\n".join(out)


def _figure_text(fig: Figure, y: float, text: str, **kwargs: Any) -> Text:
    """A text at the left margin, drawn literally (no mathtext, no TeX)."""
    return fig.text(TEXT_LEFT, y, text, parse_math=False, usetex=False, **kwargs)


def _bottom_of(fig: Figure, artist: Text) -> float:
    """Bottom edge of ``artist`` as drawn (figure fraction)."""
    box = artist.get_window_extent(fig.canvas.get_renderer())  # type: ignore[attr-defined]
    return float(box.y0) / float(fig.bbox.height)


def _top_of(fig: Figure, artist: Text) -> float:
    """Top edge of ``artist`` as drawn (figure fraction)."""
    box = artist.get_window_extent(fig.canvas.get_renderer())  # type: ignore[attr-defined]
    return float(box.y1) / float(fig.bbox.height)


def _gap(fig: Figure) -> float:
    """:data:`TEXT_GAP_IN` as a fraction of the figure height."""
    return TEXT_GAP_IN / float(fig.get_figheight())


def _stack(fig: Figure, texts: Sequence[Text], top: float) -> float:
    """Place top-aligned ``texts`` one under the other from ``top``; return the bottom reached.

    Each text goes :data:`TEXT_GAP_IN` below the measured bottom of the one above, so no two
    overlap however many lines they wrap to.
    """
    y = top
    for artist in texts:
        artist.set_y(y)
        y = _bottom_of(fig, artist) - _gap(fig)
    return y + _gap(fig)


def _caption_text(lang: str, crs: CRS, result: StatsResult, date_text: str, withheld: int) -> str:
    s = STATIC_TEXT[lang]
    text = s["caption"].format(
        version=__version__,
        date=date_text,
        crs=_crs_label(crs),
        area_crs=getattr(result.area_crs, "name", str(result.area_crs)),
    )
    if withheld:
        text += "\n" + TEXT[lang]["not_shown"].format(n=withheld)
    return text


def _caption(fig: Figure, text: str, room_top: float | None = None) -> float:
    """Draw the caption at the bottom, wrapped to the page; return its top (figure fraction).

    With ``room_top``, the font shrinks (down to :data:`MIN_CAPTION_SIZE`) until the caption's
    top stays below it: the caption never runs into the map above.
    """
    size = CAPTION_SIZE
    artist = _figure_text(
        fig, 0.012, _wrap(fig, text, size), fontsize=size, color="#444444", va="bottom"
    )
    while room_top is not None and _top_of(fig, artist) > room_top and size > MIN_CAPTION_SIZE:
        size = max(MIN_CAPTION_SIZE, size - 0.4)
        artist.set_fontsize(size)
        artist.set_text(_wrap(fig, text, size))
    return _top_of(fig, artist)


def _title(fig: Figure, title: str, subtitle: str, top: float = 0.975) -> float:
    """Title and subtitle, wrapped to the page and stacked; returns the bottom they reach."""
    texts = [
        _figure_text(
            fig, top, _wrap(fig, title, 13, "bold"), fontsize=13, fontweight="bold", va="top"
        ),
        _figure_text(fig, top, _wrap(fig, subtitle, 8.5), fontsize=8.5, color="#444444", va="top"),
    ]
    return _stack(fig, texts, top)


def _map_rect(
    fig: Figure,
    left: float,
    bottom: float,
    width: float,
    top: float,
    header: float,
    caption: float,
) -> tuple[float, float, float, float]:
    """Axes rectangle from ``bottom`` to ``top``, shrunk to clear the header and the caption."""
    low = max(bottom, caption + _gap(fig))
    high = min(top, header - _gap(fig))
    return (left, low, width, max(high - low, 0.2))


def _text_or(value: Any, fallback: str) -> str:
    return str(value) if isinstance(value, str) and value.strip() else fallback


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def build_overview_figure(
    result: StatsResult,
    layers: Mapping[str, _LayerLike],
    lang: str = "es",
    profile: str = "public",
    dpi: float = 200,
    title: str | None = None,
    data_date: str | None = None,
) -> Figure:
    """Build the overview map: every territory shaded by risk class, with its context.

    Territories are filled with the risk-class colours of the interactive map
    (:data:`geotools.maps.RISK_COLOURS`) and labelled with their names (the
    :data:`MAX_OVERVIEW_LABELS` largest when there are more); titled parcels, concessions (hatched
    and outlined by kind, outline dash by status), infrastructure and the incidents ``profile``
    allows are drawn on top. A legend, a scale bar in km, a north arrow, a title and a caption
    (version, data date, CRS, withheld incidents) complete the page.

    Parameters
    ----------
    result : geotools.analysis.stats.StatsResult
        Statistics of a run (``result.territories`` with ``risk_class`` etc., EPSG:4326).
    layers : mapping of str to Layer
        Inputs by kind (``parcels``, ``concessions``, ``incidents``, ``infrastructure``); each
        has a ``.frame``. Missing kinds are skipped.
    lang : {"es", "en"}, default "es"
        Language of every label and number.
    profile : {"public", "internal"}, default "public"
        Which incidents may be drawn (:func:`geotools.maps.select_visible_incidents`).
    dpi : float, default 200
        Resolution of the figure (and of the PNG written from it).
    title : str, optional
        Title; the interactive map's default title in ``lang`` when omitted.
    data_date : str, optional
        Date the data describe, for the caption; otherwise the latest date found in the drawn
        layers.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (Agg canvas), :data:`OVERVIEW_SIZE` inches at ``dpi``; never shown.

    Raises
    ------
    ValueError
        If ``lang`` or ``profile`` is unknown.
    geotools.errors.CRSError
        If a layer has no CRS or the territories have no extent.
    """
    _check_lang(lang)
    _check_profile(profile)
    t, s = TEXT[lang], STATIC_TEXT[lang]
    incidents, withheld = _prepare_incidents(layers, profile, result)
    territories = result.territories
    if territories.crs is None:
        raise CRSError("result.territories has no coordinate reference system.")
    territories = territories.to_crs(WGS84)
    geoms = territories.geometry.to_numpy()
    territories = territories.loc[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    crs = choose_display_crs(territories.total_bounds)
    view = shapely.box(*territories.total_bounds).buffer(0.25 * _span_deg(territories))

    with _style():
        fig = _new_figure(OVERVIEW_SIZE, dpi)
        # Texts first, measured: the map and legend take the room between header and caption.
        header = _title(fig, title if title is not None else t["title"], s["overview_subtitle"])
        date_text = _date_text(
            lang,
            data_date,
            [
                (incidents, "date"),
                (_in_view(_frame(layers, "parcels"), view), "title_date"),
                (_frame(layers, "concessions"), "granted_date"),
                (territories, "claim_date"),
            ],
        )
        caption = _caption(fig, _caption_text(lang, crs, result, date_text, withheld), 0.5)
        rect = _map_rect(fig, 0.03, 0.085, 0.66, 0.9, header, caption)
        ax = fig.add_axes(rect, label=MAP_AXES_LABEL)
        lax = fig.add_axes((0.715, rect[1], 0.27, rect[3]), label="legend")
        projected = territories.to_crs(crs)
        _set_extent(ax, projected.total_bounds, 0.06)

        codes = _codes(projected, "risk_class", list(RISK_COLOURS), "")
        fills = [RISK_COLOURS.get(c, NO_DATA_COLOUR) for c in codes]
        projected.plot(
            ax=ax,
            facecolor=fills,
            edgecolor="none",
            alpha=FILL_ALPHA,
            aspect=None,
            zorder=1,
        )
        projected.boundary.plot(
            ax=ax, color=TERRITORY_OUTLINE, linewidth=1.0, aspect=None, zorder=5
        )

        land_rows: list[tuple[Any, str]] = []
        parcels = _in_view(_frame(layers, "parcels"), view)
        if parcels is not None:
            titled = _codes(parcels, "tenure", list(TENURE_COLOURS), "titled") == "titled"
            if titled.any():
                _plot(
                    parcels.loc[titled].to_crs(crs),
                    ax,
                    facecolor="none",
                    edgecolor=TITLED_EDGE,
                    hatch="...",
                    linewidth=1.1,
                    zorder=2,
                )
                land_rows.append(
                    (
                        Patch(facecolor="none", edgecolor=TITLED_EDGE, hatch="...", linewidth=1.1),
                        s["titled_land"],
                    )
                )
        kinds, statuses = _draw_concessions(ax, _in_view(_frame(layers, "concessions"), view), crs)
        infra = _draw_infrastructure(
            ax, _in_view(_frame(layers, "infrastructure"), view), crs, lang
        )
        shown_incidents = _in_view(incidents, shapely.box(*_view_lonlat(ax, crs)))
        incident_kinds = _draw_incidents(ax, shown_incidents, crs)
        _label_territories(ax, projected, incident_points(ax))
        _scale_bar(ax, crs)
        _north_arrow(ax, crs)

        rows, headings = _legend_rows(
            lang,
            risk_classes=list(RISK_COLOURS),
            risk_no_data=bool((codes == "").any()),
            land=land_rows,
            concession_kinds=kinds,
            statuses=statuses,
            incident_kinds=incident_kinds,
            infrastructure=infra,
        )
        _legend(lax, rows, headings)
        _literal_texts(fig)
    log.debug(
        "overview: %d territories, %d incident(s) drawn, %d withheld, CRS %s",
        len(projected),
        0 if shown_incidents is None else len(shown_incidents),
        withheld,
        describe_crs(crs),
    )
    return fig


def _span_deg(frame: gpd.GeoDataFrame) -> float:
    minx, miny, maxx, maxy = frame.total_bounds
    return float(max(maxx - minx, maxy - miny, 0.01))


def _view_lonlat(ax: Axes, crs: CRS) -> tuple[float, float, float, float]:
    """The axes' extent as a lon/lat box (densified corners)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    ring = shapely.segmentize(shapely.box(x0, y0, x1, y1), (x1 - x0) / 20)
    xy = shapely.get_coordinates(ring)
    lon, lat = Transformer.from_crs(crs, WGS84, always_xy=True).transform(xy[:, 0], xy[:, 1])
    return float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))


def incident_points(ax: Axes) -> np.ndarray:
    """Map coordinates of the incidents drawn on ``ax`` (the offsets of their scatter)."""
    offsets = [
        np.asarray(c.get_offsets(), dtype=float)
        for c in ax.collections
        if c.get_gid() == INCIDENTS_GID
    ]
    return np.concatenate(offsets) if offsets else np.empty((0, 2))


def _label_territories(ax: Axes, projected: gpd.GeoDataFrame, avoid: np.ndarray) -> None:
    """Names inside each territory, largest territories first, with a white halo.

    A name goes at the centre of the largest circle inside its territory once the surroundings of
    the incidents drawn (``avoid``, map coordinates) are taken out, so it does not hide them.
    """
    names = [
        _text_or(name, str(ident))
        for name, ident in zip(
            projected.get("name", pd.Series(None, index=projected.index)),
            projected["territory_id"],
            strict=True,
        )
    ]
    geoms = projected.geometry.to_numpy()
    order = np.argsort(-shapely.area(geoms), kind="stable")[:MAX_OVERVIEW_LABELS]
    if len(geoms) > MAX_OVERVIEW_LABELS:
        log.info(
            "overview: %d territory name(s) left off (only the %d largest are labelled).",
            len(geoms) - MAX_OVERVIEW_LABELS,
            MAX_OVERVIEW_LABELS,
        )
    texts = [textwrap.fill(names[i], 22) for i in order]
    targets = geoms[order]
    # Map units per typographic point, and the rough half-size of each label around its centre:
    # a label centred outside the boxes around incidents and earlier labels does not cover them.
    box = ax.get_window_extent()
    per_point = float(np.diff(ax.get_xlim())[0]) / (box.width * 72 / ax.figure.dpi)
    split = [t.split("\n") for t in texts]
    half_w = np.array([max(map(len, ls)) * 0.33 * 7.5 + 4 for ls in split]) * per_point
    half_h = np.array([len(ls) * 0.62 * 7.5 + 4 for ls in split]) * per_point
    placed: list[tuple[float, float]] = []
    for j, target in enumerate(targets):  # one label at a time (at most MAX_OVERVIEW_LABELS)
        centres = np.vstack([avoid.reshape(-1, 2), np.asarray(placed).reshape(-1, 2)])
        extra_w = np.r_[np.zeros(len(avoid)), half_w[: len(placed)]]
        extra_h = np.r_[np.zeros(len(avoid)), half_h[: len(placed)]]
        keep_out = shapely.union_all(
            shapely.box(
                centres[:, 0] - half_w[j] - extra_w,
                centres[:, 1] - half_h[j] - extra_h,
                centres[:, 0] + half_w[j] + extra_w,
                centres[:, 1] + half_h[j] + extra_h,
            )
        )
        if len(centres) and shapely.intersects(target, keep_out):
            trimmed = shapely.difference(target, keep_out)
            if shapely.area(trimmed) > 0.02 * shapely.area(target):
                target = trimmed
        (x, y), *_ = shapely.get_coordinates(_label_points(np.array([target])))
        placed.append((float(x), float(y)))
    anchors = np.asarray(placed).reshape(-1, 2)
    for (x, y), text in zip(anchors, texts, strict=True):
        ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=7.5,
            fontweight="bold",
            color="#1a1a1a",
            path_effects=_HALO,
            clip_on=True,
            zorder=7,
        )


def _label_points(geoms: np.ndarray) -> np.ndarray:
    """A well-inside point per polygon (centre of the largest inscribed circle)."""
    try:
        circles = shapely.maximum_inscribed_circle(geoms)
        return shapely.get_point(circles, 0)
    except (AttributeError, shapely.errors.GEOSException):  # shapely < 2.1
        return shapely.point_on_surface(geoms)


def build_territory_figure(
    result: StatsResult,
    layers: Mapping[str, _LayerLike],
    territory_id: Any,
    lang: str = "es",
    profile: str = "public",
    dpi: float = 200,
    data_date: str | None = None,
) -> Figure:
    """Build the map of one territory: titled and untitled land, concessions and incidents.

    The territory is shown with a margin: its untitled part (``result.untitled``) and its
    parcels clipped to it, coloured by tenure; concessions hatched by kind; infrastructure; the
    incidents ``profile`` allows, inside and around it; neighbouring territories outlined. The
    header holds the interactive map's headline sentence (``"200 de 8 600 ha tituladas
    (2,3 %)"``), the risk class, score and drivers, and the concession and incident figures.

    Parameters
    ----------
    result : geotools.analysis.stats.StatsResult
        Statistics of a run.
    layers : mapping of str to Layer
        Inputs by kind, each with a ``.frame``.
    territory_id : object
        Value of ``territory_id`` in ``result.territories``.
    lang : {"es", "en"}, default "es"
        Language.
    profile : {"public", "internal"}, default "public"
        Which incidents may be drawn.
    dpi : float, default 200
        Resolution.
    data_date : str, optional
        Date the data describe, for the caption.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, :data:`TERRITORY_SIZE` inches at ``dpi``; never shown.

    Raises
    ------
    KeyError
        If ``territory_id`` is not in ``result.territories``.
    """
    _check_lang(lang)
    _check_profile(profile)
    incidents, withheld = _prepare_incidents(layers, profile, result)
    territories = result.territories.to_crs(WGS84)
    ids = territories["territory_id"]
    match = np.flatnonzero((ids == territory_id).to_numpy())
    if not len(match):
        raise KeyError(f"territory_id {territory_id!r} is not in result.territories")
    row = territories.iloc[int(match[0])]
    geom = row.geometry
    if geom is None or geom.is_empty:
        raise CRSError(f"territory {territory_id!r} has no geometry to draw.")
    crs = choose_display_crs(geom.bounds)
    own = gpd.GeoSeries([geom], crs=WGS84).to_crs(crs)
    extent = own.total_bounds
    nearby_m = 1000.0 * result.nearby_km
    if incidents is not None:  # widen the view to the drawable incidents nearby
        xy = incidents.to_crs(crs).geometry
        close = xy.loc[shapely.distance(xy.to_numpy(), own.iloc[0]) <= nearby_m]
        if len(close):
            b = close.total_bounds
            extent = np.r_[np.minimum(extent[:2], b[:2]), np.maximum(extent[2:], b[2:])]
    t, s = TEXT[lang], STATIC_TEXT[lang]
    with _style():
        fig = _new_figure(TERRITORY_SIZE, dpi)
        # Texts first, measured: the map and legend take the room between header and caption.
        # The caption's date depends on what the map shows, so its room is measured with the
        # longest date text it can have; the caption is drawn into that room at the end.
        header = _territory_header(fig, row, lang)
        longest = max(
            (
                _date_text(lang, data_date, []),
                STATIC_TEXT[lang]["latest_record"].format(date="0000-00-00"),
            ),
            key=len,
        )
        probe = _caption(fig, _caption_text(lang, crs, result, longest, withheld), 0.5)
        fig.texts.pop()
        rect = _map_rect(fig, 0.03, 0.08, 0.66, 0.78, header, probe)
        ax = fig.add_axes(rect, label=MAP_AXES_LABEL)
        lax = fig.add_axes((0.715, rect[1], 0.27, rect[3]), label="legend")
        _set_extent(ax, extent, 0.10)
        view_ll = shapely.box(*_view_lonlat(ax, crs))
        context = {
            kind: _in_view(_frame(layers, kind), view_ll)
            for kind in ("parcels", "concessions", "infrastructure")
        }

        others = _in_view(territories.drop(territories.index[int(match[0])]), view_ll)
        if others is not None:
            _plot(
                others.to_crs(crs).boundary,
                ax,
                color="#8c8c8c",
                linewidth=0.8,
                linestyle=(0, (4, 2)),
                zorder=1,
            )
        land_rows = _draw_land(ax, result, row, own.iloc[0], context["parcels"], crs, lang)
        own.boundary.plot(ax=ax, color=TERRITORY_OUTLINE, linewidth=1.8, aspect=None, zorder=5)
        kinds, statuses = _draw_concessions(ax, context["concessions"], crs)
        infra = _draw_infrastructure(ax, context["infrastructure"], crs, lang)
        incident_kinds = _draw_incidents(ax, _in_view(incidents, view_ll), crs)
        _scale_bar(ax, crs)
        _north_arrow(ax, crs)
        land_rows.insert(
            0,
            (
                Patch(facecolor="none", edgecolor=TERRITORY_OUTLINE, linewidth=1.8),
                s["territory_outline"],
            ),
        )
        if others is not None:
            land_rows.append(
                (
                    Line2D([], [], color="#8c8c8c", linewidth=0.8, linestyle=(0, (4, 2))),
                    s["other_territories"],
                )
            )
        rows, headings = _legend_rows(
            lang,
            land=land_rows,
            concession_kinds=kinds,
            statuses=statuses,
            incident_kinds=incident_kinds,
            infrastructure=infra,
        )
        _legend(lax, rows, headings)
        date_text = _date_text(
            lang,
            data_date,
            [
                (incidents, "date"),
                (context["parcels"], "title_date"),
                (context["concessions"], "granted_date"),
            ],
        )
        _caption(fig, _caption_text(lang, crs, result, date_text, withheld), rect[1] - _gap(fig))
        _literal_texts(fig)
    log.debug("territory %r: CRS %s (%s)", territory_id, describe_crs(crs), t["title"])
    return fig


def _draw_land(
    ax: Axes,
    result: StatsResult,
    row: pd.Series,
    own: shapely.Geometry,
    parcels: gpd.GeoDataFrame | None,
    crs: CRS,
    lang: str,
) -> list[tuple[Any, str]]:
    """Untitled part and parcels (clipped to the territory) by tenure; returns legend rows."""
    s = STATIC_TEXT[lang]
    tenure_labels = VALUE_LABELS["tenure"][lang]
    rows: list[tuple[Any, str]] = []
    untitled = None
    if result.untitled is not None and len(result.untitled):
        part = result.untitled.loc[result.untitled["territory_id"] == row["territory_id"]]
        if len(part):
            untitled = part.to_crs(crs)
    if untitled is None:  # no untitled geometry: fill the territory; secured parcels cover it
        untitled = gpd.GeoDataFrame(geometry=[own], crs=crs)
    untitled.plot(ax=ax, facecolor=UNTITLED_COLOUR, edgecolor="none", aspect=None, zorder=1)
    rows.append((Patch(facecolor=UNTITLED_COLOUR, edgecolor="none"), s["untitled_land"]))
    if parcels is None:
        return rows
    projected = parcels.to_crs(crs)
    clipped = polygonal_part(shapely.intersection(projected.geometry.to_numpy(), own))
    keep = ~shapely.is_empty(clipped) & (shapely.area(clipped) > 0)
    if not keep.any():
        return rows
    projected = projected.loc[keep]
    projected = projected.set_geometry(gpd.GeoSeries(clipped[keep], index=projected.index, crs=crs))
    tenure = _codes(projected, "tenure", list(TENURE_COLOURS), "titled")
    secured = np.isin(tenure, ["titled", "cession_in_use"])
    if secured.any():
        projected.loc[secured].plot(
            ax=ax,
            facecolor=[TENURE_COLOURS[k] for k in tenure[secured]],
            edgecolor="#00441b",
            linewidth=0.6,
            alpha=0.9,
            aspect=None,
            zorder=2,
        )
    if (~secured).any():  # demarcated, in process: still untitled; outlined in their colour
        _plot(
            projected.loc[~secured],
            ax,
            facecolor="none",
            edgecolor=[TENURE_COLOURS[k] for k in tenure[~secured]],
            linewidth=2.0,
            linestyle=(0, (3, 1.5)),
            path_effects=[withStroke(linewidth=3.2, foreground="#444444")],
            zorder=2,
        )
    for k in TENURE_COLOURS:
        if (tenure == k).any():
            handle = (
                Patch(facecolor=TENURE_COLOURS[k], edgecolor="#00441b", linewidth=0.6, alpha=0.9)
                if k in ("titled", "cession_in_use")
                else Patch(
                    facecolor="none",
                    edgecolor=TENURE_COLOURS[k],
                    linewidth=2.0,
                    linestyle="--",
                    path_effects=[withStroke(linewidth=3.2, foreground="#444444")],
                )
            )
            rows.append((handle, tenure_labels[k]))
    return rows


def titled_sentence(row: Mapping[str, Any] | pd.Series, lang: str) -> str:
    """The interactive map's headline, e.g. ``"200 of 8,600 ha titled (2.3 %)"``.

    Parameters
    ----------
    row : mapping
        ``titled_ha``, ``claimed_ha`` and ``titled_pct`` of one territory.
    lang : {"es", "en"}
        Language (no-break spaces as in :mod:`geotools.maps`).

    Returns
    -------
    str
        The sentence.

    Examples
    --------
    >>> row = {"titled_ha": 200.0, "claimed_ha": 8600.0, "titled_pct": 2.3256}
    >>> titled_sentence(row, "en").replace("\\xa0", " ")
    '200 of 8,600 ha titled (2.3 %)'
    >>> titled_sentence(row, "es").replace("\\xa0", " ")
    '200 de 8 600 ha tituladas (2,3 %)'
    """
    _check_lang(lang)
    return TEXT[lang]["titled_sentence"].format(
        titled=_hectare_number(row.get("titled_ha"), lang),
        claimed=_hectare_number(row.get("claimed_ha"), lang),
        pct=format_percent(row.get("titled_pct"), lang),
    )


def _territory_header(fig: Figure, row: pd.Series, lang: str) -> float:
    """Name, people, headline sentence, risk class, score and drivers, other figures.

    The texts are wrapped to the page and stacked as measured; returns the bottom they reach.
    """
    t, s = TEXT[lang], STATIC_TEXT[lang]
    name = _text_or(row.get("name"), str(row["territory_id"]))
    people = _text_or(row.get("people"), "")
    subtitle = " · ".join(p for p in (people, f"{t['id']} {row['territory_id']}") if p)
    top = _title(fig, name, subtitle) - _gap(fig)
    headline = _figure_text(
        fig,
        top,
        _wrap(fig, titled_sentence(row, lang), 11.5, "bold"),
        fontsize=11.5,
        fontweight="bold",
        va="top",
    )

    code = str(row.get("risk_class", "")).strip().lower()
    colour = RISK_COLOURS.get(code, NO_DATA_COLOUR)
    label = VALUE_LABELS["risk_class"][lang].get(code, t["na"])
    score = pd.to_numeric(pd.Series([row.get("risk_score")]), errors="coerce").iloc[0]
    risk = t["risk_line"].format(label=label)
    if np.isfinite(score):
        risk += t["risk_score"].format(score=format_number(score, lang))
    risk_text = fig.text(
        0.058,
        top,
        _wrap(fig, risk, 9.5, "bold"),
        fontsize=9.5,
        fontweight="bold",
        va="top",
        parse_math=False,
        usetex=False,
    )

    lines = []
    spanish = lang == "es" and _text_or(row.get("risk_drivers_es"), "")
    drivers = _text_or(row.get("risk_drivers_es" if spanish else "risk_drivers"), "")
    if drivers:
        # risk.py writes "<class>: <drivers>"; the class is shown above, in the map's language.
        drivers = re.sub(
            r"^\s*(low|medium|high|critical|bajo|medio|alto|crítico)\s*:\s*", "", drivers
        )
        note = f" {s['drivers_note']}" if lang != "en" and not spanish else ""
        lines.append(f"{t['drivers']}: {drivers}{note}")
    missing = component_names(row.get("risk_missing"), lang)
    if missing:
        lines.append(t["risk_missing"].format(missing=missing))
    conceded = pd.to_numeric(pd.Series([row.get("concession_ha")]), errors="coerce").iloc[0]
    figures = []
    if np.isfinite(conceded):
        value = f"{_hectare_number(conceded, lang)}\u00a0ha"
        pct = pd.to_numeric(pd.Series([row.get("concession_pct")]), errors="coerce").iloc[0]
        if np.isfinite(pct):
            value += f" ({format_percent(pct, lang)})"
        figures.append(s["in_concessions_line"].format(value=value))
    inside = row.get("incidents_inside")
    nearby = row.get("incidents_nearby")
    if inside is not None and pd.notna(inside):
        figures.append(
            s["incidents_line"].format(
                value=t["incidents_value"].format(
                    inside=format_number(inside, lang), nearby=format_number(nearby, lang)
                )
            )
        )
    if figures:
        lines.append(" · ".join(figures))
    body = _figure_text(
        fig,
        top,
        "\n".join(_wrap(fig, line, 7.5) for line in lines),
        fontsize=7.5,
        color="#222222",
        va="top",
        linespacing=1.35,
    )
    bottom = _stack(fig, [headline, risk_text, body] if lines else [headline, risk_text], top)
    if not lines:
        body.set_visible(False)
    # The swatch of the risk class, beside the first line of the risk text.
    first = (_top_of(fig, risk_text) + _bottom_of(fig, risk_text)) / 2
    if "\n" in risk_text.get_text():
        first = _top_of(fig, risk_text) - 0.009
    fig.patches.append(
        Rectangle(
            (0.03, first - 0.009),
            0.022,
            0.018,
            transform=fig.transFigure,
            figure=fig,
            facecolor=colour,
            edgecolor="#333333",
            linewidth=0.6,
        )
    )
    return bottom


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _metadata(title: str) -> dict[str, str | None]:
    """PNG text chunks: fixed strings only (no timestamp), so output bytes are reproducible."""
    return {
        "Title": title,
        "Software": f"geotools {__version__}",
        "Source": "geotools static_maps",
    }


def _save(fig: Figure, path: Path, title: str) -> None:
    with _style():
        fig.savefig(path, format="png", dpi="figure", metadata=_metadata(title))


def write_static_maps(
    result: StatsResult,
    layers: Mapping[str, _LayerLike],
    out_dir: str | os.PathLike[str],
    lang: str = "es",
    profile: str = "public",
    overwrite: bool = False,
    dpi: float = 200,
    data_date: str | None = None,
) -> list[Path]:
    """Write ``overview.png`` and one ``<territory_id>.png`` per territory into ``out_dir``.

    All files are rendered into a staging folder and moved into place only when every one
    succeeded, so a failure leaves no partial set. Identical inputs give byte-identical files.

    Parameters
    ----------
    result : geotools.analysis.stats.StatsResult
        Statistics of a run (:func:`geotools.pipeline.compute_stats`).
    layers : mapping of str to Layer
        Inputs by kind, each with a ``.frame``.
    out_dir : str or path-like
        Output folder (created if needed).
    lang : {"es", "en"}, default "es"
        Language of labels and numbers.
    profile : {"public", "internal"}, default "public"
        ``public`` maps draw only public (or already generalised) incidents and say how many were
        left out; ``internal`` ones draw restricted incidents at their given location too (never
        share them). Confidential incidents are never drawn.
    overwrite : bool, default False
        Replace existing files; otherwise :class:`geotools.errors.OutputExistsError` is raised
        before anything is drawn.
    dpi : float, default 200
        Resolution: 200 dpi gives 1496 px wide images for an A4 page width (190 mm).
    data_date : str, optional
        Date the data describe, for the caption (default: latest date found in the layers).

    Returns
    -------
    list of pathlib.Path
        The files written: the overview first, then territories in table order.

    Raises
    ------
    geotools.errors.OutputExistsError
        If a file exists and ``overwrite`` is False.
    geotools.errors.ValidationError
        If two territory ids give the same file name.
    """
    _check_lang(lang)
    _check_profile(profile)
    if result.options.get("shareable_view") != profile:
        from geotools.privacy import PrivacyPolicy, compute_shareable_view

        view = compute_shareable_view(
            result, layers, profile=profile, policy=PrivacyPolicy(restricted="aggregate")
        )
        options = {**view.result.options, "shareable_withheld": view.withheld}
        result = replace(view.result, options=options)
        layers = dict(view.layers)
    out = Path(out_dir)
    ids = result.territories["territory_id"].tolist()
    names = territory_filenames(ids)
    all_names = [OVERVIEW_NAME, *names]
    total = len(ids)
    with staged_outputs(out, all_names, overwrite) as stage:
        title = TEXT[lang]["title"]
        fig = build_overview_figure(
            result, layers, lang=lang, profile=profile, dpi=dpi, data_date=data_date
        )
        _save(fig, stage / OVERVIEW_NAME, title)
        log.info("static maps: overview written (%d territories to go).", total)
        step = max(1, total // 10)
        for done, (ident, name) in enumerate(zip(ids, names, strict=True), start=1):
            fig = build_territory_figure(
                result, layers, ident, lang=lang, profile=profile, dpi=dpi, data_date=data_date
            )
            _save(fig, stage / name, f"{title}: {ident}")
            if done % step == 0 or done == total:
                log.info("static maps: %d/%d territories drawn.", done, total)
    written = [out / name for name in all_names]
    log.info("static maps: %d PNG file(s) in %s (%s, %s).", len(written), out, lang, profile)
    return written
