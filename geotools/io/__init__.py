"""Reading: files and tables into GeoDataFrames, canonical validated layers, importers.

``geotools.io.readers`` reads files (any GDAL vector format, GeoParquet, CSV/TSV/Excel) with a
checked CRS; ``geotools.io.layers`` turns them into canonical, validated :class:`Layer` objects;
``geotools.io.importers`` reads the formats of field and monitoring tools (Mapeo, Kobo/ODK,
ACLED...). Writing outputs is in :mod:`geotools.export` and :mod:`geotools.outputs`.
"""

from geotools.io.layers import (
    LAYER_KINDS,
    SOURCE_FILE_COLUMN,
    XY_KEYS,
    Layer,
    LayerPaths,
    check_layer_names,
    check_raster,
    check_study_layers,
    check_swapped_inputs,
    import_metadata,
    read_inputs,
    read_layer,
)
from geotools.io.readers import (
    LAT_NAMES,
    LON_NAMES,
    READ_REPAIRS,
    WKT_NAMES,
    find_column,
    find_swapped_points,
    parse_layer_argument,
    read_frame,
    read_table,
)

__all__ = [
    "LAT_NAMES",
    "LAYER_KINDS",
    "LON_NAMES",
    "READ_REPAIRS",
    "SOURCE_FILE_COLUMN",
    "WKT_NAMES",
    "XY_KEYS",
    "Layer",
    "LayerPaths",
    "check_layer_names",
    "check_raster",
    "check_study_layers",
    "check_swapped_inputs",
    "find_column",
    "find_swapped_points",
    "import_metadata",
    "parse_layer_argument",
    "read_frame",
    "read_inputs",
    "read_layer",
    "read_table",
]
