"""Shared fixtures: small hand-checkable layers in the equal-area plane, and real-data paths."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely import Point, Polygon, box

from geotools.crs import PERU_ALBERS

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
KM = 1000.0


def km_box(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    """A box given in km in PERU_ALBERS (equal-area: a 1 km square is exactly 100 true ha).

    Vertices every 500 m, as digitised boundaries have: geotools reads edges as geodesics and
    densifies edges over 2 km along them, so a 10 km edge drawn straight in the Albers plane
    would differ from its geodesic by centimetres and spoil the hand-computed hectares.
    """
    return shapely.segmentize(box(x0 * KM, y0 * KM, x1 * KM, y1 * KM), 500)


def frame(rows: list[dict], crs=PERU_ALBERS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


@pytest.fixture
def realdata() -> Path:
    """Path of ../shared/realdata; skips when absent, except in CI where it must exist."""
    if not REALDATA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"real data expected at {REALDATA} in CI")
        pytest.skip("../shared/realdata not present")
    return REALDATA


@pytest.fixture
def case() -> dict[str, gpd.GeoDataFrame]:
    """The hand-computed case of tests/test_stats.py (see the docstring there)."""
    hole = shapely.segmentize(
        Polygon(
            [(30 * KM, 0), (40 * KM, 0), (40 * KM, 10 * KM), (30 * KM, 10 * KM)],
            [[(33 * KM, 3 * KM), (37 * KM, 3 * KM), (37 * KM, 7 * KM), (33 * KM, 7 * KM)]],
        ),
        500,
    )
    multi = km_box(50, 0, 52, 2).union(km_box(55, 0, 57, 2))
    territories = frame(
        [
            {"territory_id": "A", "name": "Alfa", "geometry": km_box(0, 0, 10, 10)},
            {"territory_id": "B", "name": "Beta", "geometry": km_box(10, 0, 20, 10)},
            {"territory_id": "C", "name": "Gamma (with a hole)", "geometry": hole},
            {"territory_id": "D", "name": "Delta (two parts)", "geometry": multi},
        ]
    )
    parcels = frame(
        [
            {"parcel_id": "P1", "tenure": "titled", "geometry": km_box(0, 0, 2, 10)},
            {"parcel_id": "P2", "tenure": "titled", "geometry": km_box(1, 0, 3, 10)},
            {"parcel_id": "P3", "tenure": "cession_in_use", "geometry": km_box(2, 0, 5, 10)},
            {"parcel_id": "P4", "tenure": "in_process", "geometry": km_box(6, 0, 8, 2)},
            {"parcel_id": "P5", "tenure": "titled", "geometry": km_box(8, 4, 12, 6)},
            {"parcel_id": "P6", "tenure": "titled", "geometry": km_box(34, 4, 36, 6)},
            {"parcel_id": "P7", "tenure": "titled", "geometry": km_box(30, 0, 32, 10)},
            {"parcel_id": "P8", "tenure": "titled", "geometry": km_box(51, 0, 56, 1)},
            {"parcel_id": "P9", "tenure": "titled", "geometry": km_box(100, 0, 101, 1)},
            {"parcel_id": "P10", "tenure": "titled", "geometry": km_box(-1, 0, 0, 10)},
        ]
    )
    concessions = frame(
        [
            {
                "concession_id": "C1",
                "kind": "agribusiness",
                "status": "active",
                "holder": "Palma Uno SAC",
                "geometry": km_box(4, 0, 9, 10),
            },
            {
                "concession_id": "C2",
                "kind": "agribusiness",
                "status": "active",
                "holder": "Palma Dos SAC",
                "geometry": km_box(7, 0, 12, 10),
            },
            {
                "concession_id": "C3",
                "kind": "oil_gas",
                "status": "expired",
                "holder": "Lote Viejo",
                "geometry": km_box(0, 0, 10, 10),
            },
            {
                "concession_id": "C4",
                "kind": "mining",
                "status": "in_process",
                "holder": "Minera Tres",
                "geometry": km_box(0, 0, 1, 1),
            },
        ]
    )
    incidents = frame(
        [
            {
                "incident_id": "I1",
                "date": "2017-09-01",
                "kind": "killing",
                "geometry": Point(5 * KM, 5 * KM),
            },
            {
                "incident_id": "I2",
                "date": "2014-01-15",
                "kind": "arson",
                "geometry": Point(-3 * KM, 5 * KM),
            },
            {
                "incident_id": "I3",
                "date": "2012-05-01",
                "kind": "threat",
                "geometry": Point(35 * KM, 5 * KM),
            },
            {
                "incident_id": "I4",
                "date": "2012-05-01",
                "kind": "threat",
                "geometry": Point(-8 * KM, 5 * KM),
            },
        ]
    )
    return {
        "territories": territories,
        "parcels": parcels,
        "concessions": concessions,
        "incidents": incidents,
    }
