"""Download bundles journalists can trust and that endanger no one (``geotools publish``).

A bundle is one folder: the layers as RFC 7946 GeoJSON, ``territory_stats.csv``,
``overlaps.csv``, ``timeseries.csv``, ``analysis.gpkg``, the map, a ``README.md`` data dictionary,
a Frictionless ``datapackage.json`` and ``SHA256SUMS`` (Shapefile and KML on request). It is
written into a staging folder beside the target and renamed into place only when complete and,
for the ``public`` profile, only when the leak check (:func:`check_bundle`) finds nothing.

The privacy rules live in :mod:`geotools.privacy`; see ``docs/publish.md`` for the decisions.

Options and key material in :mod:`geotools.publish.model`, the leak check in
:mod:`geotools.publish.leakcheck`, the README and ``datapackage.json`` in
:mod:`geotools.publish.readme`, the writing in :mod:`geotools.publish.bundle`. Reading the inputs
and running the whole command is :func:`geotools.pipeline.run_publish`.
"""

from geotools.errors import BundleError, LeakError
from geotools.publish.bundle import publish_bundle, staged_bundle
from geotools.publish.leakcheck import (
    COORD_TOLERANCE_DEG,
    LEAK_FIX,
    SKIPPED_SUFFIXES,
    STOPWORDS,
    TABLE_SUFFIXES,
    TEXT_SUFFIXES,
    check_bundle,
)
from geotools.publish.model import (
    DEMO_KEY,
    DEMO_SECRET,
    FORMATS,
    NOT_REDISTRIBUTABLE_SOURCES,
    SECRET_ENV,
    BundleReport,
    PublishOptions,
    describe_licence,
    open_position_store,
    positions_path,
    read_secret,
)
from geotools.publish.readme import COLUMN_DOCS, FILE_DESCRIPTIONS, describe_column
from geotools.schema import PROFILES

__all__ = [
    "COLUMN_DOCS",
    "COORD_TOLERANCE_DEG",
    "DEMO_KEY",
    "DEMO_SECRET",
    "FILE_DESCRIPTIONS",
    "FORMATS",
    "LEAK_FIX",
    "NOT_REDISTRIBUTABLE_SOURCES",
    "PROFILES",
    "SECRET_ENV",
    "SKIPPED_SUFFIXES",
    "STOPWORDS",
    "TABLE_SUFFIXES",
    "TEXT_SUFFIXES",
    "BundleError",
    "BundleReport",
    "LeakError",
    "PublishOptions",
    "check_bundle",
    "describe_column",
    "describe_licence",
    "open_position_store",
    "positions_path",
    "publish_bundle",
    "read_secret",
    "staged_bundle",
]
