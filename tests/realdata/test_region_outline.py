"""The INEI departments and districts as a map outline (issue 15.4), from the real files.

``peru-geojson-inei`` (INEI 2007 limits, simplified; MPL-2.0) holds 25 departments and 1,834
districts. Drawn as the outline of a map with no basemap, each shared border is drawn once, the
lines stay within the outline's size budget, and a study in Ucayali gets the Ucayali borders.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geotools.maps.outline import OUTLINE_BUDGET, outline_box, outline_lines

pytestmark = pytest.mark.realdata

INEI = "peru-geojson-inei"
#: The four corners of Peru of tests/test_map_size.py, and a study near Pucallpa (Ucayali).
PERU_WIDE = (-80.4, -17.6, -69.6, -2.6)
UCAYALI = (-74.6, -8.5, -74.4, -8.3)


def test_departments_outline_draws_each_border_once(realdata: Path) -> None:
    departments = gpd.read_file(realdata / INEI / "peru_departamental_simple.geojson")
    assert len(departments) == 25
    geometry = outline_lines(PERU_WIDE, departments)
    assert geometry is not None
    text = json.dumps(geometry)
    assert len(text) <= OUTLINE_BUDGET
    lines = shapely.from_geojson(text)
    # Every department's boundary counted separately draws each inner border twice; the
    # outline draws it once: its length is the coast and outer borders plus the inner ones
    # once, i.e. (sum of boundaries + outer boundary) / 2, within the simplification.
    boundaries = shapely.length(shapely.boundary(departments.geometry.values)).sum()
    outer = shapely.union_all(shapely.make_valid(departments.geometry.values)).boundary.length
    assert lines.length == pytest.approx((boundaries + outer) / 2, rel=0.05)


@pytest.mark.parametrize("name", ["peru_departamental_simple", "peru_distrital_simple"])
def test_region_outline_stays_within_budget_and_box(realdata: Path, name: str) -> None:
    regions = gpd.read_file(realdata / INEI / f"{name}.geojson")
    for extent in (PERU_WIDE, UCAYALI):
        geometry = outline_lines(extent, regions)
        assert geometry is not None
        assert len(json.dumps(geometry)) <= OUTLINE_BUDGET
        west, south, east, north = outline_box(extent)
        lines = shapely.from_geojson(json.dumps(geometry))
        x0, y0, x1, y1 = lines.bounds
        assert west <= x0 and x1 <= east and south <= y0 and y1 <= north


def test_ucayali_study_gets_the_ucayali_borders(realdata: Path) -> None:
    departments = gpd.read_file(realdata / INEI / "peru_departamental_simple.geojson")
    geometry = outline_lines(UCAYALI, departments)
    assert geometry is not None
    lines = shapely.from_geojson(json.dumps(geometry))
    ucayali = departments.loc[departments["NOMBDEP"] == "UCAYALI", "geometry"].iloc[0]
    # Ucayali's borders inside the box (with Huánuco, Pasco, Loreto) are on the outline:
    # no point of them is farther from it than the simplification (box 5 degrees wide:
    # 0.0025 degrees, rounded to 0.001).
    borders = shapely.clip_by_rect(ucayali.boundary, *outline_box(UCAYALI))
    assert borders.length > 1.0
    far = max(
        lines.distance(shapely.Point(xy))
        for xy in shapely.get_coordinates(shapely.segmentize(borders, 0.01))
    )
    assert far < 0.005
