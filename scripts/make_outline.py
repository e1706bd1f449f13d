"""Derive geotools/maps/data/peru_outline.geojson from Natural Earth 1:110m (public domain).

The outline a map without a basemap draws (``--basemap none``): the borders and coasts of Peru
and its neighbours (Ecuador, Colombia, Brazil, Bolivia, Chile), as lines, each border once,
clipped to Peru's bounding box plus a margin and rounded to 3 decimals (about 100 m, far finer
than the 1:110m source). Run once; the file is committed as package data (see SOURCE.md there).

The source is the copy of Natural Earth's ``ne_110m_admin_0_countries`` ("naturalearth_lowres",
copied from GeoPandas, public domain) that ships with pyogrio's tests::

    python scripts/make_outline.py [path/to/naturalearth_lowres.shp]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "geotools" / "maps" / "data" / "peru_outline.geojson"
COUNTRIES = ["PER", "ECU", "COL", "BRA", "BOL", "CHL"]
#: Peru's bounding box (-81.4, -18.4, -68.7, -0.0) plus about 4 degrees.
CLIP = (-85.5, -22.5, -64.5, 4.0)
DECIMALS = 3


def default_source() -> Path:
    """The naturalearth_lowres shapefile in pyogrio's test fixtures."""
    base = Path(pyogrio.__file__).parent / "tests" / "fixtures" / "naturalearth_lowres"
    return base / "naturalearth_lowres.shp"


def derive(source: Path) -> dict:
    """The outline as a GeoJSON FeatureCollection: one MultiLineString of borders and coasts."""
    countries = gpd.read_file(source)
    chosen = countries[countries["iso_a3"].isin(COUNTRIES)].to_crs(4326)
    lines = shapely.union_all(shapely.boundary(chosen.geometry.values))  # shared borders once
    lines = shapely.line_merge(shapely.clip_by_rect(lines, *CLIP))
    lines = shapely.set_precision(lines, 10.0**-DECIMALS)
    geometry = json.loads(shapely.to_geojson(lines))
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "source": "Natural Earth 1:110m Cultural Vectors, Admin 0 - Countries",
                    "licence": "public domain",
                    "countries": ",".join(COUNTRIES),
                },
                "geometry": geometry,
            }
        ],
    }


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else default_source()
    data = derive(src)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {TARGET} ({TARGET.stat().st_size:,} bytes) from {src}")
