"""Maps: the interactive web map, the static PNG maps for reports, and their files.

- :mod:`geotools.maps.style`: palettes, class breaks, texts in Spanish and English, number
  formats, shared by both kinds of map so that a printed report and its web map agree.
- :mod:`geotools.maps.web` (:func:`build_map`), with its layers in :mod:`geotools.maps.layers`
  and :mod:`geotools.maps.incident_layer`, and its Leaflet elements in
  :mod:`geotools.maps.elements`; :mod:`geotools.maps.page` compacts a rendered page and embeds it.
- :mod:`geotools.maps.static` (:func:`build_overview_figure`, :func:`build_territory_figure`),
  with the scale bar, legend, caption and other furniture in :mod:`geotools.maps.static_parts`.
- :mod:`geotools.maps.assets` (pinned npm copies of the scripts folium loads from CDNs) and
  :mod:`geotools.maps.inline` (putting them into a page, for maps that open offline).
- :mod:`geotools.maps.files`: the map files of a run (:func:`write_map_html`,
  :func:`write_static_maps`), each drawn from the privacy gate's view of the run.
- :mod:`geotools.maps.tiles` (:func:`write_map_tiles`): the run as PMTiles vector tiles for a
  web server, with a MapLibre viewer (:mod:`geotools.maps.tiles_viewer`).

Imports go one way: ``files`` -> ``web`` | ``static`` -> ``layers`` | ``static_parts`` ->
``style`` | ``elements``; nothing here imports the pipeline, publishing or the CLI.
"""

from geotools.errors import MapAssetError
from geotools.maps.assets import (
    ASSETS,
    CACHE_ENV,
    REGISTRY_ENV,
    asset_bytes,
    default_cache_dir,
    fetch_map_assets,
)
from geotools.maps.elements import escape_html
from geotools.maps.files import (
    OVERVIEW_NAME,
    compute_map_hexagons,
    describe_sources,
    sanitise_filename,
    shareable_view,
    territory_filenames,
    write_map_html,
    write_static_map_files,
    write_static_maps,
)
from geotools.maps.incident_layer import MAX_INCIDENT_POINTS, select_visible_incidents
from geotools.maps.inline import find_asset_urls, inline_map_assets
from geotools.maps.layers import (
    MAX_DISPLAY_AREA_ERROR_PCT,
    MAX_DISPLAY_VERTICES,
    compute_display_area_error,
)
from geotools.maps.page import build_embed_snippet, compact_json_escapes
from geotools.maps.static import build_overview_figure, build_territory_figure
from geotools.maps.static_parts import choose_display_crs, titled_sentence
from geotools.maps.style import (
    CONCESSION_STYLES,
    INCIDENT_COLOURS,
    INFRASTRUCTURE_STYLES,
    RISK_COLOURS,
    STATIC_TEXT,
    TENURE_COLOURS,
    TEXT,
    VALUE_LABELS,
    component_names,
    format_hectares,
    format_number,
    format_percent,
)
from geotools.maps.tiles import TILE_PROPERTIES, write_map_tiles
from geotools.maps.web import build_map

__all__ = [
    "ASSETS",
    "CACHE_ENV",
    "CONCESSION_STYLES",
    "INCIDENT_COLOURS",
    "INFRASTRUCTURE_STYLES",
    "MAX_DISPLAY_AREA_ERROR_PCT",
    "MAX_DISPLAY_VERTICES",
    "MAX_INCIDENT_POINTS",
    "OVERVIEW_NAME",
    "REGISTRY_ENV",
    "RISK_COLOURS",
    "STATIC_TEXT",
    "TENURE_COLOURS",
    "TEXT",
    "TILE_PROPERTIES",
    "VALUE_LABELS",
    "MapAssetError",
    "asset_bytes",
    "build_embed_snippet",
    "build_map",
    "build_overview_figure",
    "build_territory_figure",
    "choose_display_crs",
    "compact_json_escapes",
    "component_names",
    "compute_display_area_error",
    "compute_map_hexagons",
    "default_cache_dir",
    "describe_sources",
    "escape_html",
    "fetch_map_assets",
    "find_asset_urls",
    "format_hectares",
    "format_number",
    "format_percent",
    "inline_map_assets",
    "sanitise_filename",
    "select_visible_incidents",
    "shareable_view",
    "territory_filenames",
    "titled_sentence",
    "write_map_html",
    "write_map_tiles",
    "write_static_map_files",
    "write_static_maps",
]
