"""Map files of a run: the HTML map, the PNG set and their inputs, each through the privacy gate.

:func:`write_map_html` and :func:`write_static_maps` (via :func:`write_static_map_files`) take
a run's statistics and layers, pass them through :func:`geotools.privacy.compute_shareable_view`
for the chosen profile, and write their files atomically. :func:`compute_map_hexagons` builds the
risk-surface layer from the incidents a profile may show, and :func:`describe_sources` the lines
of the sources box.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from matplotlib.figure import Figure

from geotools._version import __version__
from geotools.analysis.stats import StatsResult
from geotools.analysis.surface import (
    compute_risk_hexagons,
    compute_risk_surface,
    mask_risk_surface,
    territories_without_tenure,
)
from geotools.errors import ValidationError
from geotools.io import Layer, read_frame
from geotools.maps.assets import fetch_map_assets
from geotools.maps.incident_layer import select_visible_incidents
from geotools.maps.inline import find_asset_urls, inline_map_assets
from geotools.maps.outline import OUTLINE_FILE_SOURCE
from geotools.maps.page import compact_json_escapes
from geotools.maps.static import LayerLike, build_overview_figure, build_territory_figure
from geotools.maps.static_parts import _style
from geotools.maps.style import DEFAULT_BASEMAP, TEXT, check_lang, check_profile, layer_label
from geotools.maps.web import build_map
from geotools.outputs import atomic_path, staged_outputs
from geotools.privacy import (
    PrivacyPolicy,
    ShareableView,
    compute_shareable_view,
    region_frame,
    select_drawable,
)
from geotools.schema import Lang, Profile

log = logging.getLogger(__name__)


#: Name of the overview file; territory files are ``<sanitised territory_id>.png``.
OVERVIEW_NAME = "overview.png"


_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)


# --------------------------------------------------------------------------------------------
# The HTML map
# --------------------------------------------------------------------------------------------


def describe_sources(
    layers: Mapping[str, Layer], profile: str = "public", view: Any = None, lang: Lang = "es"
) -> list[str]:
    """Return one line per input layer for a map's sources box: layer, file, sources, licence.

    The ``source`` values of a layer (e.g. "INGEMMET", "Defensoría del Pueblo") are listed, at
    most five, and the licence or terms an importer recorded (e.g. ACLED's). For incidents, only
    the sources of the records the map's ``profile`` may publish are named: the source of a
    withheld record can say who reported it. With ``view`` (a
    :class:`geotools.privacy.ShareableView`) the names are the view's.

    Parameters
    ----------
    layers : mapping of str to Layer
        Input layers by kind, in the order to list.
    profile : str, default "public"
        Profile of the map (``"public"`` or ``"internal"``); decides whose incident sources are
        named when ``view`` is not given.
    view : ShareableView, optional
        The privacy gate's view of the map; its source names are used when given.
    lang : {"es", "en"}, default "es"
        Language of the map: the layer is named in it (:func:`geotools.maps.style.layer_label`,
        e.g. "Concesiones").

    Returns
    -------
    list of str
        ``"Layer: file — source; source... (+N) — licence"`` per layer (plain text).
    """
    check_lang(lang)
    lines = []
    for kind, layer in layers.items():
        files = " + ".join(path.name for path, _ in layer.files)
        parts = [f"{layer_label(kind, lang)}: {files}"]
        if view is not None:
            names = list(view.sources.get(kind, []))
        else:
            frame = layer.frame
            if kind == "incidents":
                frame = frame.loc[select_drawable(frame, profile)[0]]
            names = _source_values(frame)
        if names:
            more = f" (+{len(names) - 5})" if len(names) > 5 else ""
            parts.append("; ".join(names[:5]) + more)
        importer = layer.ledger.notes.get("importer") or layer.frame.attrs.get("geotools_import")
        licence = (importer or {}).get("licence")
        if licence:
            parts.append(str(licence))
        lines.append(" — ".join(parts))
    return lines


def _source_values(frame: gpd.GeoDataFrame) -> list[str]:
    if "source" not in frame.columns:
        return []
    values = frame["source"].dropna().astype(str).str.strip()
    return [str(v) for v in values[values != ""].value_counts().index]


def shareable_view(
    result: StatsResult,
    layers: Mapping[str, Layer],
    profile: str,
    regions: gpd.GeoDataFrame | None = None,
) -> Any:
    """Return the privacy gate's view for a map or PNG set.

    No displacement key is used: restricted incidents a publisher has not generalised are
    counted only in aggregates, never drawn.

    Parameters
    ----------
    result : StatsResult
        The statistics of the run.
    layers : mapping of str to Layer
        The layers the statistics were computed from.
    profile : str
        ``"public"`` or ``"internal"``.
    regions : geopandas.GeoDataFrame, optional
        The region polygons of ``result.regions`` (the view's figures by region).

    Returns
    -------
    ShareableView
        See :func:`geotools.privacy.compute_shareable_view`.
    """
    policy = PrivacyPolicy(restricted="aggregate")
    return compute_shareable_view(
        result, layers, profile=profile, policy=policy, regions=regions
    )


def _placeholders(count: int) -> gpd.GeoDataFrame:
    """Rows that stand for incidents the view does not draw: a map counts them as "not shown"
    and drops them before anything else; they carry nothing but ``sensitivity``."""
    return gpd.GeoDataFrame(
        {
            "incident_id": [f"withheld-{i}" for i in range(count)],
            "sensitivity": ["restricted"] * count,
        },
        geometry=gpd.GeoSeries([None] * count, crs=4326),
    )


def write_map_html(
    result: StatsResult,
    layers: Mapping[str, Layer],
    target: str | os.PathLike[str],
    *,
    lang: Lang = "es",
    overwrite: bool = False,
    profile: Profile = "public",
    title: str | None = None,
    offline: bool = False,
    hexagons: gpd.GeoDataFrame | None = None,
    attribution: str | None = None,
    basemap: str = DEFAULT_BASEMAP,
    regions: gpd.GeoDataFrame | None = None,
    shade_regions: str | None = None,
    outline: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    view: ShareableView | None = None,
) -> Path:
    """Build the risk map from a run and save it as one HTML file, atomically.

    Every layer and figure goes through the privacy gate
    (:func:`geotools.privacy.compute_shareable_view`) first: ``profile="public"`` (default)
    draws public incidents and those a publisher generalised, counts only those (at the place
    drawn) in every popup, risk score and drivers sentence, and keeps only the allow-listed
    columns of each layer; ``"internal"`` draws restricted incidents at their exact location
    (never share such a map). When ``result`` is already a view of ``profile``
    (``result.options["shareable_view"]``, e.g. inside a bundle) it is used as given.
    ``hexagons`` (from :func:`compute_map_hexagons`) adds the risk-surface layer.
    ``offline=True`` inlines Leaflet and the plugins
    (:func:`geotools.maps.inline_map_assets`) so the map opens with no network, basemap
    tiles aside. ``attribution`` (plain text, e.g. the terms of a source) is shown in the title
    box and listed with the sources.

    Parameters
    ----------
    result : StatsResult
        The statistics of the run (or a view of ``profile``).
    layers : mapping of str to Layer
        The layers the statistics were computed from.
    target : str or path-like
        HTML file to write.
    lang : {"es", "en"}, default "es"
        Language of the map's texts.
    overwrite : bool, default False
        Replace an existing ``target``.
    profile : {"public", "internal"}, default "public"
        Who the map is for (see above).
    title : str, optional
        Title shown on the map; a default title in ``lang`` otherwise.
    offline : bool, default False
        Inline the JavaScript and CSS (downloaded or cached by :func:`fetch_map_assets`: only
        the scripts and style sheets the page loads, Leaflet and its plugins).
    hexagons : geopandas.GeoDataFrame, optional
        Risk hexagons from :func:`compute_map_hexagons`.
    attribution : str, optional
        Plain-text attribution or terms to show.
    basemap : {"osm", "satellite", "none"}, default "osm"
        Basemap shown first; ``"none"`` requests no tiles at all (with ``offline=True`` the map
        then needs no network whatsoever) and draws a plain graticule and an outline instead.
    regions : geopandas.GeoDataFrame, optional
        The region polygons ``result.regions`` was computed from: drawn with their figures,
        as the privacy gate lets them out for ``profile`` (public: incident counts from the
        incidents the map may show, counts below the minimum as "fewer than N").
    shade_regions : str, optional
        ``region_stats`` column to shade the regions by (:mod:`geotools.maps.region_layer`).
    outline : str, path-like or geopandas.GeoDataFrame, optional
        Polygons (regions) whose boundaries are drawn as a thin grey outline under every layer
        (a file is read with :func:`geotools.io.read_frame` and named in the sources box);
        without it, a map with ``basemap="none"`` draws the packaged outline of Peru and its
        neighbours (Natural Earth 1:110m). Given ``regions`` are drawn as a layer of
        their own (with their figures), not as the outline.
    view : ShareableView, optional
        The gate's view of ``result`` for ``profile`` (with the same ``regions``), when the
        caller already has it (:func:`shareable_view`): one gate run serves the HTML map, the
        tiles and the PNGs of one command. Computed here when omitted.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    OutputExistsError
        ``target`` exists and ``overwrite`` is False.
    OutputError
        ``target`` is a symbolic link, locked by another run, or cannot be written.
    """
    extra_sources = [attribution] if attribution else []
    if outline is not None and not isinstance(outline, gpd.GeoDataFrame):
        extra_sources.append(OUTLINE_FILE_SOURCE[lang].format(name=Path(outline).name))
        outline = read_frame(outline)
    frames = {kind: layer.frame for kind, layer in layers.items()}
    region_view = (
        region_frame(regions, result.regions)
        if regions is not None and result.regions is not None
        else None
    )
    if result.options.get("shareable_view") != profile:
        if view is None:
            view = shareable_view(result, layers, profile, regions=regions)
        elif view.profile != profile:
            raise ValueError(f"view of profile {view.profile!r} given for a {profile!r} output")
        result, frames, region_view = view.result, dict(view.layers), view.regions
        if "incidents" in frames and view.withheld:
            frames["incidents"] = gpd.GeoDataFrame(
                pd.concat([frames["incidents"], _placeholders(view.withheld)], ignore_index=True),
                geometry="geometry",
                crs=4326,
            )
    fmap = build_map(
        result.territories,
        parcels=frames.get("parcels"),
        concessions=frames.get("concessions"),
        incidents=frames.get("incidents"),
        infrastructure=frames.get("infrastructure"),
        lang=lang,
        profile=profile,
        title=title,
        hexagons=hexagons,
        overlaps=result.overlaps,
        timeseries=result.timeseries,
        sources=describe_sources(layers, profile, view, lang) + extra_sources,
        attribution=attribution,
        basemap=basemap,
        communities=frames.get("communities"),
        community_tables=result.communities,
        nearby_km=result.nearby_km,
        regions=region_view,
        shade_regions=shade_regions,
        outline=outline,
    )
    page = compact_json_escapes(fmap.get_root().render())
    if offline:
        # Only what the page loads (Leaflet and its plugins), never the tile viewer's MapLibre.
        page = inline_map_assets(page, fetch_map_assets(urls=find_asset_urls(page)))
    path = Path(target)
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


def write_static_map_files(
    result: StatsResult,
    layers: Mapping[str, Layer],
    out_dir: str | os.PathLike[str],
    *,
    lang: Lang = "es",
    profile: Profile = "public",
    overwrite: bool = False,
    regions: gpd.GeoDataFrame | None = None,
    shade_regions: str | None = None,
    view: ShareableView | None = None,
) -> list[Path]:
    """Write the static PNG maps (overview and one per territory) for reports.

    Like :func:`write_map_html`, the figures are drawn from the privacy gate's view
    (:func:`write_static_maps` applies it).

    Parameters
    ----------
    result : StatsResult
        The statistics of the run.
    layers : mapping of str to Layer
        The layers the statistics were computed from.
    out_dir : str or path-like
        Folder to write the PNG files into.
    lang : {"es", "en"}, default "es"
        Language of titles and legends.
    profile : {"public", "internal"}, default "public"
        Who the maps are for; ``"internal"`` draws restricted incidents at their true place.
    overwrite : bool, default False
        Replace PNG files an earlier run wrote.
    regions : geopandas.GeoDataFrame, optional
        Region polygons of ``result.regions``, drawn on the overview through the gate.
    shade_regions : str, optional
        ``region_stats`` column to shade them by.
    view : ShareableView, optional
        The gate's view of ``result`` for ``profile`` (with the same ``regions``), when the
        caller already has it (:func:`shareable_view`): one gate run serves the HTML map, the
        tiles and the PNGs of one command. Computed here when omitted.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    return write_static_maps(
        result,
        layers,
        out_dir,
        lang=lang,
        profile=profile,
        overwrite=overwrite,
        regions=regions,
        shade_regions=shade_regions,
        view=view,
    )


#: Most risk hexagons a map carries (about 400 bytes each in the page); above it the resolution
#: is coarsened (H3 7 -> 6 -> 5, each about 7 times fewer hexagons) and, if still above, the
#: layer is left out with a warning rather than bloat the page.
MAP_HEXAGON_BUDGET = 2500
#: H3 resolutions tried in turn for the map's risk hexagons (7: about 5 km2 a hexagon).
MAP_HEXAGON_RESOLUTIONS = (7, 6, 5)


def compute_map_hexagons(
    result: StatsResult,
    layers: Mapping[str, Layer],
    profile: str = "public",
    cell_size_m: float = 1000.0,
    budget: int = MAP_HEXAGON_BUDGET,
) -> gpd.GeoDataFrame | None:
    """Compute the risk hexagons for a map from the incidents the map's ``profile`` may show.

    A public map's hexagons use public (and publisher-generalised) incidents only, so that no
    withheld incident shows through the surface; an internal map's use all but confidential.
    Hexagons are kept only where they mean something: within the run's "nearby" distance
    (``result.nearby_km``) of a territory or of a drawn incident
    (:func:`geotools.analysis.surface.mask_risk_surface`), never over the empty box between
    territories spread over a country. When more than ``budget`` hexagons remain, the H3
    resolution is coarsened (7, 6, 5); when even resolution 5 gives more, there is no hexagon
    layer (``None``) and a warning says so.

    Parameters
    ----------
    result : StatsResult
        The statistics of the run (its untitled land, nearby distance and risk half-life are
        used).
    layers : mapping of str to Layer
        The layers; ``territories`` is required (it bounds the grid), ``incidents`` and
        ``concessions`` are used when present.
    profile : str, default "public"
        ``"public"`` or ``"internal"``.
    cell_size_m : float, default 1000.0
        Side of the cells of the risk grid, in metres, before they are aggregated to H3
        hexagons (:func:`geotools.analysis.compute_risk_hexagons`).
    budget : int, default MAP_HEXAGON_BUDGET
        Most hexagons the layer may have.

    Returns
    -------
    geopandas.GeoDataFrame or None
        EPSG:4326 hexagons with ``h3``, ``risk``, the component columns and ``n_cells``
        (``attrs["h3_resolution"]`` says which resolution); ``None`` over the budget.
    """
    incidents = layers["incidents"].frame if "incidents" in layers else None
    if incidents is not None:
        incidents = select_visible_incidents(incidents, profile)
    territories = layers["territories"].frame
    surface = compute_risk_surface(
        incidents,
        layers["concessions"].frame if "concessions" in layers else None,
        result.untitled,
        territories,
        cell_size_m=cell_size_m,
        half_life_years=result.half_life_years,
        tenure_unknown=territories_without_tenure(territories, result.table),
    )
    surface = mask_risk_surface(surface, [territories, incidents], result.nearby_km * 1000.0)
    for resolution in MAP_HEXAGON_RESOLUTIONS:
        hexagons = compute_risk_hexagons(surface, resolution=resolution)
        if len(hexagons) <= budget:
            hexagons.attrs["h3_resolution"] = resolution
            if resolution != MAP_HEXAGON_RESOLUTIONS[0]:
                log.warning(
                    "risk hexagons: coarsened to H3 resolution %d (%d hexagons) to keep the "
                    "map under its budget of %d",
                    resolution, len(hexagons), budget,
                )
            return hexagons
    log.warning(
        "risk hexagons left out of the map: %d hexagons even at H3 resolution %d, over the "
        "budget of %d; the map is drawn without them",
        len(hexagons), MAP_HEXAGON_RESOLUTIONS[-1], budget,
    )
    return None


# --------------------------------------------------------------------------------------------
# The PNG set
# --------------------------------------------------------------------------------------------


def sanitise_filename(identifier: Any) -> str:
    """Return a file stem safe on any file system for a territory identifier.

    Letters, digits, ``.``, ``_`` and ``-`` are kept (accents are kept as letters); anything else
    becomes ``_``. Leading dots and trailing dots/spaces are removed, Windows device names get a
    leading ``_`` and the result is at most 100 characters; an empty result becomes ``territory``.

    Parameters
    ----------
    identifier : Any
        A territory identifier; converted with ``str``.

    Returns
    -------
    str
        A non-empty file stem.

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
    layers: Mapping[str, LayerLike],
    out_dir: str | os.PathLike[str],
    *,
    lang: Lang = "es",
    profile: Profile = "public",
    overwrite: bool = False,
    dpi: float = 200,
    data_date: str | None = None,
    regions: gpd.GeoDataFrame | None = None,
    shade_regions: str | None = None,
    view: ShareableView | None = None,
) -> list[Path]:
    """Write ``overview.png`` and one ``<territory_id>.png`` per territory into ``out_dir``.

    All files are rendered into a staging folder and moved into place only when every one
    succeeded, so a failure leaves no partial set. Identical inputs give byte-identical files.

    Parameters
    ----------
    result : geotools.analysis.stats.StatsResult
        Statistics of a run (:func:`geotools.analysis.stats.compute_stats`).
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
    regions : geopandas.GeoDataFrame, optional
        The region polygons ``result.regions`` was computed from: the overview draws them as
        the privacy gate lets them out for ``profile`` (as :func:`write_map_html`), with the
        community points of the view.
    shade_regions : str, optional
        ``region_stats`` column to shade the regions by (the web map's classes).
    view : ShareableView, optional
        The gate's view of ``result`` for ``profile`` (with the same ``regions``), when the
        caller already has it (:func:`shareable_view`): one gate run serves the HTML map, the
        tiles and the PNGs of one command. Computed here when omitted.

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
    check_lang(lang)
    check_profile(profile)
    region_view = (
        region_frame(regions, result.regions)
        if regions is not None and result.regions is not None
        else None
    )
    if result.options.get("shareable_view") != profile:
        if view is None:
            view = compute_shareable_view(
                result,
                layers,
                profile=profile,
                policy=PrivacyPolicy(restricted="aggregate"),
                regions=regions,
            )
        elif view.profile != profile:
            raise ValueError(f"view of profile {view.profile!r} given for a {profile!r} output")
        options = {**view.result.options, "shareable_withheld": view.withheld}
        result = replace(view.result, options=options)
        layers = dict(view.layers)
        region_view = view.regions
    out = Path(out_dir)
    ids = result.territories["territory_id"].tolist()
    names = territory_filenames(ids)
    all_names = [OVERVIEW_NAME, *names]
    total = len(ids)
    with staged_outputs(out, all_names, overwrite=overwrite) as stage:
        title = TEXT[lang]["title"]
        fig = build_overview_figure(
            result,
            layers,
            lang=lang,
            profile=profile,
            dpi=dpi,
            data_date=data_date,
            regions=region_view,
            shade_regions=shade_regions,
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
