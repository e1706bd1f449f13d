"""geotools: titled-versus-claimed land, concession overlaps and incidents per territory.

The public API, one function per pipeline step::

    from geotools import read_layer, compute_territory_stats
    territories = read_layer("territories.gpkg", "territories")
    parcels = read_layer("parcels.shp", "parcels")
    result = compute_territory_stats(territories.frame, parcels.frame)
    result.table  # one row per territory, true hectares
"""

import logging

from geotools._version import __version__
from geotools.analysis.stats import StatsResult, compute_territory_stats, describe_territory
from geotools.analysis.tenure import compute_tenure_stats
from geotools.area import compute_area_ha, compute_geodesic_area_ha
from geotools.dates import parse_dates
from geotools.demo.run import run_demo
from geotools.errors import (
    CRSError,
    GeotoolsError,
    OutputExistsError,
    SourceError,
    ValidationError,
)
from geotools.io import Layer, read_frame, read_inputs, read_layer
from geotools.pipeline import run_stats, write_stats

# A library never configures logging: without this, records of WARNING and above would reach
# Python's last-resort handler in programs that did not set logging up (the CLI does).
logging.getLogger("geotools").addHandler(logging.NullHandler())

__all__ = [
    "CRSError",
    "GeotoolsError",
    "Layer",
    "OutputExistsError",
    "SourceError",
    "StatsResult",
    "ValidationError",
    "__version__",
    "compute_area_ha",
    "compute_geodesic_area_ha",
    "compute_tenure_stats",
    "compute_territory_stats",
    "describe_territory",
    "parse_dates",
    "read_frame",
    "read_inputs",
    "read_layer",
    "run_demo",
    "run_stats",
    "write_stats",
]
