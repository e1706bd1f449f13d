"""Furniture of the static maps: display CRS, extent, scale bar, north arrow, legend and texts.

Every text is drawn literally (mathtext off) and measured as drawn, so titles, headers and the
caption wrap to the page and never run into the map or into each other.
"""

from __future__ import annotations

import contextlib
import re
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
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
from geotools.errors import CRSError
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
    TERRITORY_OUTLINE,
    TEXT,
    VALUE_LABELS,
    check_lang,
    component_names,
    format_number,
    format_percent,
    hectare_number,
)

#: Legend labels are wrapped at this many characters.
LEGEND_WRAP = 30


#: Widest extent (degrees of longitude) drawn in a single UTM zone; wider maps use Albers.
MAX_UTM_SPAN_DEG = 8.0


#: Tag (``gid``) of the scale bar's segments and labels.
SCALEBAR_GID = "scalebar"


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


@contextlib.contextmanager
def _style() -> Iterator[None]:
    with mpl.rc_context(_RC):
        yield


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
    # Headings are bold and larger: wrapped shorter so that they fit the legend's width too.
    wrapped = [
        textwrap.fill(label, LEGEND_WRAP - 5 if label in headings else LEGEND_WRAP)
        for label in labels
    ]
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
        if text.get_text() in {textwrap.fill(h, LEGEND_WRAP - 5) for h in headings}:
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
# Header of a territory's map
# --------------------------------------------------------------------------------------------


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
    >>> titled_sentence({"titled_ha": None, "claimed_ha": 8600.0}, "en").replace("\\xa0", " ")
    '8,600 ha claimed; tenure unknown'
    """
    check_lang(lang)
    titled = row.get("titled_ha")
    if titled is None or pd.isna(titled):
        return TEXT[lang]["tenure_unknown_sentence"].format(
            claimed=hectare_number(row.get("claimed_ha"), lang)
        )
    return TEXT[lang]["titled_sentence"].format(
        titled=hectare_number(row.get("titled_ha"), lang),
        claimed=hectare_number(row.get("claimed_ha"), lang),
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
        value = f"{hectare_number(conceded, lang)}\u00a0ha"
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
