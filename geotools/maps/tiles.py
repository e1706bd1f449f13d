"""Vector tiles of a run for maps served from a web server: PMTiles archives and a viewer.

:func:`write_map_tiles` writes one PMTiles archive per layer a profile may show
(``territories.pmtiles``, ``hexagons.pmtiles``, ``parcels.pmtiles``, ``concessions.pmtiles``,
``infrastructure.pmtiles``, ``incidents.pmtiles``) and an ``index.html`` viewer (MapLibre GL JS
with the PMTiles protocol, :mod:`geotools.maps.tiles_viewer`) into one folder. The archives are
written by GDAL's PMTiles driver through :func:`pyogrio.write_dataframe`; no tile code here.

Like the HTML map (:func:`geotools.maps.write_map_html`), everything comes from the privacy
gate's view (:func:`geotools.privacy.compute_shareable_view`): counts and risk from the view's
statistics, only the incidents the profile may draw, and of each layer only the columns of
:data:`TILE_PROPERTIES` that the view kept. A tile archive is binary but not opaque: anyone
can read every property of every feature, shown in a popup or not, so nothing else goes in.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geotools.analysis.stats import StatsResult
from geotools.errors import OutputError
from geotools.gdalpath import gdal_write_path
from geotools.io import Layer
from geotools.maps.assets import ASSETS, MAPLIBRE, PMTILES, _cache, _package_file, fetch_map_assets
from geotools.maps.files import describe_sources, shareable_view
from geotools.maps.incident_layer import _date_texts, select_visible_incidents
from geotools.maps.style import (
    DEFAULT_BASEMAP,
    TEXT,
    check_basemap,
    check_lang,
    check_profile,
    format_number,
)
from geotools.maps.tile_places import (
    COMMUNITY_FIGURES,
    REGION_FIGURES,
    community_tiles,
    region_tiles,
)
from geotools.maps.tiles_viewer import VIEWER_ASSETS, build_viewer_page
from geotools.outputs import staged_outputs
from geotools.privacy import (
    GENERALISED_COLUMN,
    UNCERTAINTY_COLUMN,
    ShareableView,
    classify_sensitivity,
    parse_flag,
    region_frame,
)
from geotools.schema import Lang, Profile

log = logging.getLogger(__name__)

#: Layers in drawing order (bottom first); a layer is written when the view has features of it.
TILE_LAYERS = (
    "regions",
    "territories",
    "hexagons",
    "parcels",
    "concessions",
    "infrastructure",
    "communities",
    "incidents",
)

#: The only properties a tile archive may carry, per layer (a column must also be in the privacy
#: gate's view). ``exact`` (incidents, 0/1) and ``drivers`` (territories, in the map's language)
#: are derived here; ``description`` is kept for public, non-generalised incidents only.
TILE_PROPERTIES: dict[str, tuple[str, ...]] = {
    "territories": (
        "territory_id",
        "name",
        "people",
        "claimed_ha",
        "titled_ha",
        "titled_pct",
        "secured_ha",
        "secured_pct",
        "untitled_ha",
        "concession_ha",
        "concession_pct",
        "incidents_inside",
        "incidents_nearby",
        "forest_loss_ha",
        "risk_score",
        "risk_class",
        "drivers",
    ),
    "hexagons": ("risk", "violence", "concessions", "tenure", "tenure_known"),
    # The gate's region view (counts below the minimum as "<N"); shade and k: the shading.
    "regions": ("region_id", "region", *REGION_FIGURES, "shade", "k"),
    "communities": (*COMMUNITY_FIGURES, "exact"),
    "parcels": ("parcel_id", "tenure"),
    "concessions": ("concession_id", "kind", "status", "holder"),
    "infrastructure": ("kind", "name"),
    "incidents": (
        "incident_id",
        "date",
        "kind",
        "severity",
        "source",
        "precision",
        "description",
        "exact",
        "uncertainty_km",
    ),
}

#: Zoom levels of the archives. At zoom 10 a tile unit (1/4096 of a tile) is about 9.6 m at the
#: equator, as fine as the HTML map's display simplification (about 11 m); the viewer
#: over-zooms beyond it. Each level more multiplies the tiles of the top level by four (tier L
#: territories: 47 MB and 83 s at zoom 12).
TILE_MINZOOM = 0
TILE_MAXZOOM = 10
#: Above this many incidents (the HTML map's limit for one marker each), the incident archive
#: starts at :data:`DENSE_INCIDENT_MINZOOM`: a national view of a million points is a blur,
#: and its tiles would be thinned by GDAL anyway (200,000 points and 500 kB a tile at most).
DENSE_INCIDENTS = 20_000
DENSE_INCIDENT_MINZOOM = 6
#: GDAL's simplification of lines and polygons, in tile units (1/4096 of a tile): 2 below the
#: highest zoom, 1 at it (about 10 m at zoom 10). On tier L territories it cut the archive from
#: 23.6 to 15.1 MB and kept more tiles under GDAL's 500 kB cap (a tile over it is encoded at a
#: lower resolution): the 99th percentile of the area error at zoom 10 went from 0.17 to 0.09 %.
SIMPLIFICATION = 2.0
SIMPLIFICATION_MAX_ZOOM = 1.0
#: Largest tile of a line or polygon layer, compressed (GDAL's default is 500 kB). A tile over
#: it is encoded at a lower resolution: at the national view of tier L the territories of the
#: densest tiles were drawn as blocky squares. At 2 MB none is over (archive 15.1 -> 17.0 MB).
MAX_TILE_BYTES = 2_000_000


def layer_minzoom(kind: str, count: int) -> int:
    """Return the lowest zoom level of a tile layer of ``count`` features.

    Parameters
    ----------
    kind : str
        One of :data:`TILE_LAYERS`.
    count : int
        Number of features.

    Returns
    -------
    int
        :data:`DENSE_INCIDENT_MINZOOM` for incidents above :data:`DENSE_INCIDENTS`, else
        :data:`TILE_MINZOOM`.
    """
    if kind == "incidents" and count > DENSE_INCIDENTS:
        return DENSE_INCIDENT_MINZOOM
    return TILE_MINZOOM


#: Folder of the viewer's scripts and style sheets in an ``offline`` tile folder.
LIB_DIR = "lib"
VIEWER_NAME = "index.html"


def _round(values: pd.Series, decimals: int) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").round(decimals)


def tile_frame(
    frame: gpd.GeoDataFrame, kind: str, lang: Lang = "es", profile: Profile = "public"
) -> gpd.GeoDataFrame:
    """Return the features and properties of one tile layer (EPSG:4326), allow-listed.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        A layer of the privacy gate's view (for ``territories``, the view's statistics table).
    kind : str
        One of :data:`TILE_LAYERS`.
    lang : {"es", "en"}, default "es"
        Language of the risk drivers sentence.
    profile : {"public", "internal"}, default "public"
        Incidents the profile may not draw are dropped first.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns of :data:`TILE_PROPERTIES` ``[kind]`` that the view had (or that are derived),
        then ``geometry``; rows without geometry dropped.
    """
    if kind == "incidents":
        frame = select_visible_incidents(frame, profile)
    frame = frame.loc[frame.geometry.notna() & ~frame.geometry.is_empty]
    if frame.crs is None or not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs(4326)
    out = pd.DataFrame(index=frame.index)
    for column in TILE_PROPERTIES[kind]:
        if column in frame.columns:
            out[column] = frame[column]
    if kind == "territories":
        drivers = "risk_drivers_es" if lang == "es" else "risk_drivers"
        if drivers in frame.columns:
            out["drivers"] = frame[drivers]
        for column in out.columns:
            if column.endswith(("_ha", "_pct")) or column == "risk_score":
                out[column] = _round(out[column], 1)
    elif kind == "hexagons":
        for column in out.columns:
            out[column] = _round(out[column], 3)
    elif kind == "incidents":
        generalised = (
            parse_flag(frame[GENERALISED_COLUMN])
            if GENERALISED_COLUMN in frame.columns
            else np.zeros(len(frame), dtype=bool)
        )
        precision = frame["precision"] if "precision" in frame.columns else None
        exact = ~generalised
        if precision is not None:
            exact &= precision.fillna("exact").astype(str).str.strip().str.lower().eq("exact")
        out["exact"] = np.asarray(exact, dtype="int32")
        if UNCERTAINTY_COLUMN in frame.columns:
            km = pd.to_numeric(frame[UNCERTAINTY_COLUMN], errors="coerce") / 1000.0
            out["uncertainty_km"] = km.round(1).where(generalised)
        if "description" in out.columns:
            sensitivity = frame["sensitivity"] if "sensitivity" in frame.columns else None
            public = (
                classify_sensitivity(sensitivity) == "public"
                if sensitivity is not None
                else np.zeros(len(frame), dtype=bool)
            )
            out["description"] = out["description"].where(public & ~generalised, None)
        if "date" in out.columns:
            out["date"] = _date_texts(out["date"])  # as the HTML map's popups show it
        if "severity" in out.columns:
            out["severity"] = _round(out["severity"], 0)
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            text = out[column].astype(object)
            out[column] = text.where(text.notna(), None).map(
                lambda v: None if v is None else str(v)
            )
    tiles = gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=4326)
    return tiles.reset_index(drop=True)


def _check_driver() -> None:
    if "PMTiles" not in pyogrio.list_drivers(write=True):
        raise OutputError(
            f"GDAL {pyogrio.__gdal_version_string__}: no PMTiles driver to write vector tiles; "
            "install pyogrio built with GDAL 3.8 or newer (pip install -U pyogrio)"
        )


def write_tile_archive(
    frame: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    layer: str,
    *,
    minzoom: int = TILE_MINZOOM,
    maxzoom: int = TILE_MAXZOOM,
) -> Path:
    """Write one layer as a PMTiles archive with GDAL (through :func:`pyogrio.write_dataframe`).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Features and the only properties to write (see :func:`tile_frame`).
    path : str or path-like
        The ``.pmtiles`` file (it must not exist).
    layer : str
        Name of the vector layer inside the archive (the viewer's ``source-layer``).
    minzoom : int, default TILE_MINZOOM
        Lowest zoom level with tiles.
    maxzoom : int, default TILE_MAXZOOM
        Highest zoom level with tiles (full detail).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    _check_driver()
    target = Path(path)
    options = {
        "NAME": f"geotools {layer}",
        "DESCRIPTION": f"geotools {layer} layer",
        "MINZOOM": str(minzoom),
        "MAXZOOM": str(maxzoom),
        "TYPE": "overlay",
    }
    if len(frame) and not frame.geom_type.isin(["Point", "MultiPoint"]).all():
        options["SIMPLIFICATION"] = str(SIMPLIFICATION)
        options["SIMPLIFICATION_MAX_ZOOM"] = str(SIMPLIFICATION_MAX_ZOOM)
        options["MAX_SIZE"] = str(MAX_TILE_BYTES)
    with gdal_write_path(target) as name:
        pyogrio.write_dataframe(frame, name, driver="PMTiles", layer=layer, dataset_options=options)
    return target


def _copy_viewer_assets(lib: Path, cache_dir: str | os.PathLike[str] | None) -> None:
    """Copy MapLibre GL JS and the PMTiles protocol from the asset cache into ``lib``."""
    cache = fetch_map_assets(cache_dir, urls=list(VIEWER_ASSETS.values()))
    lib.mkdir()
    for name, url in VIEWER_ASSETS.items():
        asset = ASSETS[url]
        assert asset.package is not None
        data = _package_file(_cache(cache), asset.package, asset.path)
        # The source map is not shipped: its comment would make developer tools ask for it.
        text = re.sub(rb"(?m)^//# sourceMappingURL=\S*\s*$", b"", data)
        (lib / name).write_bytes(text)
    licence = _package_file(_cache(cache), MAPLIBRE, "LICENSE.txt")
    (lib / "maplibre-gl.LICENSE.txt").write_bytes(licence)
    log.debug("viewer assets of %s and %s copied into %s", MAPLIBRE.spec, PMTILES.spec, lib)


def _notes(
    frames: Mapping[str, gpd.GeoDataFrame], withheld: int, hexagons: gpd.GeoDataFrame | None
) -> dict[str, Any]:
    incidents = frames.get("incidents")
    generalised, radius = 0, 0.0
    if incidents is not None and "uncertainty_km" in incidents.columns:
        km = pd.to_numeric(incidents["uncertainty_km"], errors="coerce")
        generalised = int(km.notna().sum())
        radius = float(np.nanmax(km.to_numpy(dtype=float), initial=0.0))
    resolution = hexagons.attrs.get("h3_resolution") if hexagons is not None else None
    known = (
        pd.to_numeric(hexagons["tenure_known"], errors="coerce")
        if hexagons is not None and "tenure_known" in hexagons.columns
        else pd.Series(dtype=float)
    )
    return {
        "tenure_unknown": bool((known < 1).any()),
        "withheld": int(withheld),
        "generalised": generalised,
        "generalised_km": radius,
        "h3_resolution": resolution,
    }


def write_map_tiles(
    result: StatsResult,
    layers: Mapping[str, Layer],
    out_dir: str | os.PathLike[str],
    *,
    lang: Lang = "es",
    overwrite: bool = False,
    profile: Profile = "public",
    title: str | None = None,
    offline: bool = False,
    hexagons: gpd.GeoDataFrame | None = None,
    attribution: str | None = None,
    basemap: str = DEFAULT_BASEMAP,
    maxzoom: int = TILE_MAXZOOM,
    cache_dir: str | os.PathLike[str] | None = None,
    regions: gpd.GeoDataFrame | None = None,
    shade_regions: str | None = None,
    view: ShareableView | None = None,
) -> list[Path]:
    """Write the map of a run as vector tiles (PMTiles, one archive per layer) and a viewer.

    Everything goes through the privacy gate first (as :func:`geotools.maps.write_map_html`):
    ``profile="public"`` (default) writes only incidents that are public or were generalised
    by a publisher, recounts every figure from those, and keeps only the allow-listed columns
    (:data:`TILE_PROPERTIES`) that the view kept; ``"internal"`` adds restricted incidents at
    their exact place (never share it). The folder is written through
    :func:`geotools.outputs.staged_outputs`: all files appear at once, or none.

    The viewer (``index.html``) needs a web server that answers HTTP range requests (any
    static server does: nginx, Apache, Caddy, GitHub Pages, object storage); browsers do not
    let a page read ``file://`` archives.

    Parameters
    ----------
    result : StatsResult
        The statistics of the run (or a view of ``profile``).
    layers : mapping of str to Layer
        The layers the statistics were computed from.
    out_dir : str or path-like
        Folder to write (created if needed).
    lang : {"es", "en"}, default "es"
        Language of the viewer's texts.
    overwrite : bool, default False
        Replace the tiles an earlier run wrote into ``out_dir``.
    profile : {"public", "internal"}, default "public"
        Who the map is for (see above).
    title : str, optional
        Title of the viewer; a default per language otherwise.
    offline : bool, default False
        Copy MapLibre GL JS and the PMTiles protocol into ``out_dir/lib`` (from the asset
        cache, :func:`geotools.maps.fetch_map_assets`) instead of loading them from a CDN.
    hexagons : geopandas.GeoDataFrame, optional
        Risk hexagons from :func:`geotools.maps.compute_map_hexagons` (for ``profile``).
    attribution : str, optional
        Plain-text attribution or terms to show.
    basemap : {"osm", "satellite", "none"}, default "osm"
        Basemap shown under the tiles; ``"none"`` requests no tile server.
    maxzoom : int, default TILE_MAXZOOM
        Highest zoom level with tiles (the viewer over-zooms beyond it).
    cache_dir : str or path-like, optional
        Asset cache for ``offline``; default :func:`geotools.maps.default_cache_dir`.
    regions : geopandas.GeoDataFrame, optional
        The region polygons ``result.regions`` was computed from: ``regions.pmtiles`` with
        their figures as the gate lets them out (:mod:`geotools.maps.tile_places`). Community
        points of the view go into ``communities.pmtiles``.
    shade_regions : str, optional
        ``region_stats`` column to shade the regions by (the web map's classes).
    view : ShareableView, optional
        The gate's view of ``result`` for ``profile`` (with the same ``regions``), when the
        caller already has it (:func:`shareable_view`): one gate run serves the HTML map, the
        tiles and the PNGs of one command. Computed here when omitted.

    Returns
    -------
    list of pathlib.Path
        The archives, then ``index.html`` (and ``lib`` when ``offline``).

    Raises
    ------
    OutputExistsError
        Files of the tile set exist and ``overwrite`` is False.
    OutputError
        The folder cannot be written, or GDAL has no PMTiles driver.
    MapAssetError
        ``offline`` and the viewer's scripts are neither cached nor downloadable.
    """
    check_lang(lang)
    check_profile(profile)
    check_basemap(basemap)
    if not 0 <= maxzoom <= 22:
        raise ValueError(f"maxzoom must be between 0 and 22, not {maxzoom}.")
    _check_driver()
    if profile == "internal":
        log.warning(
            "tiles for the internal profile draw restricted incidents at their exact place: "
            "never serve %s on a public web server",
            out_dir,
        )
    withheld = 0
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
        result, frames, withheld = view.result, dict(view.layers), view.withheld
        region_view = view.regions
    else:
        withheld = int(result.options.get("shareable_withheld", 0) or 0)
    sources: dict[str, gpd.GeoDataFrame] = {"territories": result.territories}
    if hexagons is not None:
        sources["hexagons"] = hexagons
    for kind in ("parcels", "concessions", "infrastructure", "incidents"):
        if frames.get(kind) is not None:
            sources[kind] = frames[kind]
    places: dict[str, gpd.GeoDataFrame] = {}
    if region_view is not None and len(region_view):
        places["regions"] = region_tiles(region_view, shade_regions, lang)
    if frames.get("communities") is not None and len(frames["communities"]):
        stats = getattr(result.communities, "stats", None)
        places["communities"] = community_tiles(frames["communities"], stats)
        km = result.nearby_km
        places["communities"].attrs["nearby_label"] = TEXT[lang]["incidents_within"].format(
            km=format_number(km, lang, 0 if float(km).is_integer() else 1)
        )
    tiles: dict[str, gpd.GeoDataFrame] = {}
    for kind in TILE_LAYERS:
        if kind in places:
            frame = places[kind]
        elif kind in sources:
            frame = tile_frame(sources[kind], kind, lang, profile)
        else:
            continue
        if len(frame):
            tiles[kind] = frame
    if offline:
        fetch_map_assets(cache_dir, urls=list(VIEWER_ASSETS.values()))  # fail before writing
    out = Path(out_dir)
    names = [f"{kind}.pmtiles" for kind in tiles] + [VIEWER_NAME] + ([LIB_DIR] if offline else [])
    lines = describe_sources(layers, profile, view, lang)
    lines += [attribution] if attribution else []
    with staged_outputs(out, names, overwrite=overwrite, group="tiles") as stage:
        for kind, frame in tiles.items():
            minzoom = min(layer_minzoom(kind, len(frame)), maxzoom)
            write_tile_archive(
                frame, stage / f"{kind}.pmtiles", kind, minzoom=minzoom, maxzoom=maxzoom
            )
            log.info("tiles: %s.pmtiles, %d feature(s)", kind, len(frame))
        if offline:
            _copy_viewer_assets(stage / LIB_DIR, cache_dir)
        page = build_viewer_page(
            tiles,
            lang=lang,
            title=title,
            basemap=basemap,
            offline=offline,
            notes=_notes(tiles, withheld, hexagons),
            sources=lines,
            attribution=attribution,
            maxzoom=maxzoom,
            minzooms={k: min(layer_minzoom(k, len(f)), maxzoom) for k, f in tiles.items()},
        )
        (stage / VIEWER_NAME).write_text(page, encoding="utf-8")
    written = [out / name for name in names]
    log.info("tiles: %d archive(s) and a viewer in %s (%s, %s)", len(tiles), out, lang, profile)
    return written

