"""Static PNG maps for printed reports: one overview and one map per territory.

:func:`build_overview_figure` and :func:`build_territory_figure` build
:class:`matplotlib.figure.Figure` objects (Agg canvas, no pyplot state, never shown);
:func:`geotools.maps.write_static_maps` renders them all to PNG files, all or nothing.

Design
------
- Colours, vocabularies, labels and number formats are those of the interactive map
  (:mod:`geotools.maps.style`), so a printed report and its web map tell the same story.
- Maps are drawn in a projected CRS (:func:`geotools.maps.static_parts.choose_display_crs`):
  the UTM zone of the map's centre, or the equal-area CRS of :func:`geotools.crs.choose_area_crs`
  for wide extents. The scale bar is measured on the ground at the map centre (the projection's
  point scale factor is applied), and the caption names the CRS.
- No basemap tiles: the maps are drawn offline from the layers alone.
- Incidents pass :func:`geotools.maps.select_visible_incidents` before anything else is done with
  them: a ``public`` map never holds a restricted or confidential record, and says how many it
  left out.
- Every text taken from the data is drawn literally (mathtext is off on every text artist), so a
  name such as ``$x$`` cannot change or break the rendering.
- Output is deterministic: fixed fonts and style, no timestamps in the PNG metadata.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.patheffects import withStroke
from pyproj import CRS, Transformer

from geotools.analysis.stats import StatsResult
from geotools.crs import WGS84, describe_crs
from geotools.errors import CRSError
from geotools.geometry import polygonal_part
from geotools.maps.incident_layer import select_visible_incidents
from geotools.maps.static_parts import (
    _HALO,
    _caption,
    _caption_text,
    _dashes,
    _date_text,
    _gap,
    _legend,
    _legend_rows,
    _literal_texts,
    _map_rect,
    _new_figure,
    _north_arrow,
    _scale_bar,
    _set_extent,
    _style,
    _territory_header,
    _text_or,
    _title,
    choose_display_crs,
)
from geotools.maps.static_places import draw_communities, draw_regions, place_bounds
from geotools.maps.style import (
    CONCESSION_STYLES,
    FILL_ALPHA,
    HATCHES,
    INCIDENT_COLOURS,
    INFRASTRUCTURE_STYLES,
    NO_DATA_COLOUR,
    RISK_COLOURS,
    STATIC_TEXT,
    STATUS_STYLES,
    TENURE_COLOURS,
    TERRITORY_OUTLINE,
    TEXT,
    TITLED_EDGE,
    UNTITLED_COLOUR,
    VALUE_LABELS,
    check_lang,
    check_profile,
)
from geotools.privacy import select_drawable
from geotools.schema import DEFAULT_SEVERITY

log = logging.getLogger(__name__)


#: Printable width of an A4 page (190 mm), in inches: figures are this wide.
A4_WIDTH_IN = 7.48
#: Size (inches) of the overview and of each territory's figure.
OVERVIEW_SIZE = (A4_WIDTH_IN, 7.0)
TERRITORY_SIZE = (A4_WIDTH_IN, 7.6)


#: Largest number of territory names printed on the overview (the largest territories first).
MAX_OVERVIEW_LABELS = 40


#: Tag (``gid``) of the scatter collection of incidents, one offset per incident drawn.
INCIDENTS_GID = "incidents"


#: Label of the map axes in each figure.
MAP_AXES_LABEL = "map"


class LayerLike(Protocol):
    """Anything with a ``frame`` (e.g. :class:`geotools.io.Layer`)."""

    frame: gpd.GeoDataFrame


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


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
# Figures
# --------------------------------------------------------------------------------------------


def build_overview_figure(
    result: StatsResult,
    layers: Mapping[str, LayerLike],
    lang: str = "es",
    profile: str = "public",
    dpi: float = 200,
    title: str | None = None,
    data_date: str | None = None,
    regions: gpd.GeoDataFrame | None = None,
    shade_regions: str | None = None,
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
    regions : geopandas.GeoDataFrame, optional
        The privacy gate's region view (``ShareableView.regions``): drawn under everything,
        shaded by ``shade_regions`` as on the web map (:mod:`geotools.maps.static_places`).
        Community points (``layers["communities"]``) are drawn when present.
    shade_regions : str, optional
        Column of ``regions`` to shade by; outlines only when omitted.

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
    check_lang(lang)
    check_profile(profile)
    t, s = TEXT[lang], STATIC_TEXT[lang]
    incidents, withheld = _prepare_incidents(layers, profile, result)
    territories = result.territories
    if territories.crs is None:
        raise CRSError("result.territories has no coordinate reference system.")
    territories = territories.to_crs(WGS84)
    geoms = territories.geometry.to_numpy()
    territories = territories.loc[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    communities = _frame(layers, "communities")
    extent = shapely.union_all(
        [shapely.box(*territories.total_bounds)]
        + [shapely.box(*b) for b in place_bounds(regions, communities)]  # as the web map fits
    )
    crs = choose_display_crs(extent.bounds)
    view = shapely.box(*extent.bounds).buffer(0.25 * _span_deg(territories))

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
        _set_extent(ax, gpd.GeoSeries([extent], crs=WGS84).to_crs(crs).total_bounds, 0.06)
        place_rows = draw_regions(ax, regions, shade_regions, crs, lang)
        place_rows += draw_communities(ax, _in_view(communities, view), crs, lang)

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
        rows += place_rows
        headings |= {label for handle, label in place_rows if not handle.get_visible()}
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
    """Return the map coordinates of the incidents drawn on ``ax`` (the offsets of their scatter).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes of a static map.

    Returns
    -------
    numpy.ndarray of float
        ``(n, 2)`` x, y of every incident marker, in the axes' coordinates; ``(0, 2)`` when none
        was drawn.
    """
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
    layers: Mapping[str, LayerLike],
    territory_id: Any,
    lang: str = "es",
    profile: str = "public",
    dpi: float = 200,
    data_date: str | None = None,
) -> Figure:
    """Build the map of one territory: titled and untitled land, concessions and incidents.

    The territory is shown with a margin: its untitled part (``result.untitled``) and its
    parcels clipped to it, coloured by tenure; concessions hatched by kind; infrastructure; the
    incidents ``profile`` allows, inside and around it; the community points of
    ``layers["communities"]`` (the gate's view) in view; neighbouring territories outlined. The
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
    check_lang(lang)
    check_profile(profile)
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
        place_rows = draw_communities(
            ax, _in_view(_frame(layers, "communities"), view_ll), crs, lang
        )
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
        rows += place_rows
        headings |= {label for handle, label in place_rows if not handle.get_visible()}
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
    if result.untitled is None and parcels is None:
        return rows  # no tenure source: untitled land is unknown, not the whole territory
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
