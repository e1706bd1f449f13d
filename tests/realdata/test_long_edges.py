"""Long edges read as geodesics (default) or straight in lon/lat (issue 13, item 14).

The real oil blocks (observatorio-ambiental-peruano/lotes-petroleros.geojson, simplified by the
source's ETL) have edges up to 168.7 km: block 76 (Madre de Dios) runs from (-71.51078,
-12.9009) to (-70.11536, -13.57729) in one edge. Its geodesic and its straight line in lon/lat
are 149 m apart at the middle. ``--edges lonlat`` reads edges as RFC 7946 GeoJSON, geopandas and
PostGIS ``geometry`` do, for areas, overlaps and point-in-polygon alike.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod

from geotools.area import compute_area_ha
from geotools.cli import main
from geotools.io import read_layer

pytestmark = pytest.mark.realdata

OAP = "observatorio-ambiental-peruano"
BLOCKS = f"{OAP}/lotes-petroleros.geojson"
RESERVES = f"{OAP}/reservas-territoriales.geojson"
PARCELS = Path(__file__).resolve().parents[2] / "data" / "raw" / "parcels.geojson"
GEOD = Geod(ellps="WGS84")
DIFF_76_HA = -1_527.0  # block 76 is 1,527 ha smaller with lon/lat-straight edges
PIP_76 = {"geodesic": 1, "lonlat": 0}  # the point is inside one reading only
WEST, EAST = (-71.51078, -12.9009), (-70.11536, -13.57729)  # the 168.7 km edge of block 76


def run(args: list[object]):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def geod_ha(geom: shapely.Geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))[0]) / 1e4


def test_the_long_edge_and_how_far_apart_its_readings_are() -> None:
    azimuth, _, length = GEOD.inv(*WEST, *EAST)
    mid_lon, mid_lat, _ = GEOD.fwd(*WEST, azimuth, length / 2)
    _, _, apart = GEOD.inv(mid_lon, mid_lat, (WEST[0] + EAST[0]) / 2, (WEST[1] + EAST[1]) / 2)
    assert length == pytest.approx(168_735, abs=1)
    assert apart == pytest.approx(148.7, abs=0.1)


def test_block_area_under_each_reading_matches_pyproj(realdata: Path) -> None:
    readings = {
        e: read_layer(realdata / BLOCKS, "concessions", edges=e) for e in ("geodesic", "lonlat")
    }
    raw = readings["geodesic"].frame
    row = int(np.flatnonzero(raw["concession_id"] == "76")[0])
    polygon = raw.geometry.iloc[row]
    assert readings["lonlat"].ledger.notes["edges"] == "lonlat"
    ha = {e: float(compute_area_ha(layer.frame.iloc[[row]])[0]) for e, layer in readings.items()}
    # By hand: pyproj.Geod (geodesic edges) on the polygon as drawn, and on the polygon with a
    # vertex every 0.001 deg (about 110 m) along its lon/lat-straight edges.
    assert ha["geodesic"] == pytest.approx(geod_ha(polygon), rel=1e-6)
    assert ha["lonlat"] == pytest.approx(geod_ha(shapely.segmentize(polygon, 0.001)), rel=1e-6)
    assert ha["lonlat"] - ha["geodesic"] == pytest.approx(DIFF_76_HA, abs=1)


def test_overlaps_follow_the_reading(realdata: Path, tmp_path: Path) -> None:
    overlap = {}
    for edges in ("geodesic", "lonlat"):
        out = tmp_path / edges
        result = run(
            [
                "stats",
                "--territories",
                realdata / RESERVES,
                "--parcels",
                PARCELS,
                "--concessions",
                realdata / BLOCKS,
                "--edges",
                edges,
                "--out",
                out,
            ]
        )
        assert result.exit_code == 0, result.output
        table = pd.read_csv(out / "overlaps.csv")
        pair = table.loc[
            (table["territory_name"] == "Sierra del Divisor Occidental")
            & (table["concession_id"] == "31-B"),
            "overlap_ha",
        ]
        overlap[edges] = float(pair.iloc[0])
    assert overlap["geodesic"] == pytest.approx(13_306.12, abs=0.01)
    assert overlap["lonlat"] == pytest.approx(13_299.40, abs=0.01)


def test_point_in_polygon_follows_the_reading(realdata: Path, tmp_path: Path) -> None:
    # Halfway between the two readings of the long edge: 74 m from each line.
    azimuth, _, length = GEOD.inv(*WEST, *EAST)
    mid_lon, mid_lat, _ = GEOD.fwd(*WEST, azimuth, length / 2)
    lon = (mid_lon + (WEST[0] + EAST[0]) / 2) / 2
    lat = (mid_lat + (WEST[1] + EAST[1]) / 2) / 2
    incidents = tmp_path / "incidents.csv"
    incidents.write_text(
        f"incident_id,date,lon,lat,sensitivity\nP1,2024-01-01,{lon:.7f},{lat:.7f},public\n",
        encoding="utf-8",
    )
    inside = {}
    for edges in ("geodesic", "lonlat"):
        out = tmp_path / edges
        result = run(
            [
                "stats",
                "--territories",
                realdata / BLOCKS,
                "--map",
                "territories.territory_id=lote",
                "--parcels",
                PARCELS,
                "--incidents",
                incidents,
                "--edges",
                edges,
                "--out",
                out,
                "--nearby-km",
                "0",
            ]
        )
        assert result.exit_code == 0, result.output
        table = pd.read_csv(out / "territory_stats.csv", dtype={"territory_id": str})
        inside[edges] = int(table.loc[table["territory_id"] == "76", "incidents_inside"].iloc[0])
    assert inside == PIP_76


def test_project_files_choose_the_reading_per_layer(realdata: Path, tmp_path: Path) -> None:
    def study(concession_edges: str) -> Path:
        project = tmp_path / f"study_{concession_edges}.toml"
        project.write_text(
            f"""
[project]
out = "out_{concession_edges}"
[options]
edges = "geodesic"
cell_size_m = 20000.0
[layers.territories]
path = "{realdata / RESERVES}"
[layers.parcels]
path = "{PARCELS}"
[layers.concessions]
path = "{realdata / BLOCKS}"
edges = "{concession_edges}"
""",
            encoding="utf-8",
        )
        return project

    result = run(["run", study("lonlat")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "out_lonlat" / "overlaps.csv")
    pair = table.loc[(table["territory_name"] == "Sierra del Divisor Occidental")
                     & (table["concession_id"] == "31-B"), "overlap_ha"]
    # Only the block's edges change reading (most of the 6.72 ha above is the reserve's).
    assert float(pair.iloc[0]) == pytest.approx(13_306.44, abs=0.01)
    refused = run(["run", study("straight")])
    assert refused.exit_code == 1
    assert "edges = 'straight' in [layers.concessions]; use one of geodesic, lonlat" in (
        refused.output
    )
