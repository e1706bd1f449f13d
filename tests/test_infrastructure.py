"""Infrastructure: km marks along pipelines, and pipeline/road/spill exposure of territories.

Every expected figure is built with ``pyproj.Geod`` (the WGS84 reference) so it can be checked
by hand: meridians are geodesics, so a line along one is exactly as long as ``Geod.inv`` says.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely import LineString, Point, Polygon

from geotools.analysis.infrastructure import (
    compute_geodesic_length_km,
    compute_infrastructure_exposure,
    locate_km_marks,
    parse_km_mark,
)
from geotools.errors import CRSError, ValidationError

GEOD = Geod(ellps="WGS84")
LON = -74.5
ONP = "observatorio-ambiental-peruano/oleoducto-norperuano.geojson"


def south_of(lon: float, lat: float, metres: float) -> float:
    """Latitude ``metres`` due south of (lon, lat) along the meridian."""
    return float(GEOD.fwd(lon, lat, 180.0, metres)[1])


def east_of(lon: float, lat: float, metres: float) -> float:
    return float(GEOD.fwd(lon, lat, 90.0, metres)[0])


# --- (1) parse_km_mark -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "km"),
    [
        ("km 41+833", 41.833),
        ("41+833", 41.833),
        ("KM 41.833", 41.833),
        (41.833, 41.833),
        ("Km. 306+100, Tramo II", 306.1),
        ("km 41,833", 41.833),
        ("Tramo II km 400", 400.0),
        ("  12  ", 12.0),
        (7, 7.0),
    ],
)
def test_parse_km_mark(text: str | float, km: float) -> None:
    assert parse_km_mark(text) == pytest.approx(km, abs=1e-9)


@pytest.mark.parametrize("text", ["Tramo II", "", "km", "abc 12", float("nan"), -3.0, "km -5"])
def test_parse_km_mark_refuses_text_without_a_mark(text: str | float) -> None:
    with pytest.raises(ValidationError, match="cannot read a km mark"):
        parse_km_mark(text)


# --- (2) locate_km_marks on synthetic lines ---------------------------------------------------


@pytest.fixture
def pipelines() -> gpd.GeoDataFrame:
    """ORN km 0 from -8 to -9 along a meridian; II km 306.1 further west; I km 0 again."""
    return gpd.GeoDataFrame(
        {
            "kind": ["pipeline"] * 3,
            "name": ["Ramal Norte", "Tramo II", "Tramo I"],
            "ramal": ["ORN", "II", "I"],
            "km_start": [0.0, 306.1, 0.0],
        },
        geometry=[
            LineString([(LON, -8.0), (LON, -9.0)]),
            LineString([(-75.0, -8.0), (-75.0, -8.25), (-75.0, -8.5)]),
            LineString([(-76.0, -8.0), (-76.0, -8.1)]),
        ],
        crs=4326,
    )


def test_km_mark_lies_geodesic_distance_along_a_meridian(pipelines: gpd.GeoDataFrame) -> None:
    out = locate_km_marks(pipelines.iloc[:1], pd.DataFrame({"km": ["km 55+500"]}))
    lon, lat = GEOD.fwd(LON, -8.0, 180.0, 55_500.0)[:2]
    point = out.geometry.iloc[0]
    assert out.crs.to_epsg() == 4326
    assert GEOD.inv(point.x, point.y, lon, lat)[2] < 1.0
    assert out["offset_m"].iloc[0] == pytest.approx(55_500.0)
    assert out["problem"].iloc[0] is None
    assert out["line_index"].iloc[0] == 0


def test_gap_and_beyond_the_end_are_reported_not_dropped(pipelines: gpd.GeoDataFrame) -> None:
    two = pipelines.iloc[:2]
    end_ii = 306.1 + compute_geodesic_length_km(two.iloc[[1]])[0]  # about 361.4
    marks = pd.DataFrame({"km": [200.0, 307.0, 400.0, "junk"], "id": ["a", "b", "c", "d"]})
    out = locate_km_marks(two, marks)
    assert list(out["id"]) == ["a", "b", "c", "d"]
    assert out.geometry.iloc[0] is None
    assert "km 200.0 is in the gap between lines" in out["problem"].iloc[0]
    assert "ends at km 110.599" in out["problem"].iloc[0]
    assert "starts at km 306.1" in out["problem"].iloc[0]
    # km 307.0 on the line starting at 306.1: 900 m from its first vertex
    point = out.geometry.iloc[1]
    assert out["line_index"].iloc[1] == 1
    assert GEOD.inv(-75.0, -8.0, point.x, point.y)[2] == pytest.approx(900.0, abs=0.01)
    assert out.geometry.iloc[2] is None
    assert out["problem"].iloc[2].startswith("km 400.0 is beyond the end of line 1 'Tramo II'")
    assert f"(km {end_ii:.3f})" in out["problem"].iloc[2]
    assert out["problem"].iloc[3] == "cannot read a km mark from 'junk'"
    assert out["line_index"].isna().tolist() == [True, False, True, True]


def test_line_value_picks_the_line(pipelines: gpd.GeoDataFrame) -> None:
    marks = pd.DataFrame(
        {"km": [5.0, 5.0, 5.0, 320.0, 320.0], "line": [None, "orn", "I", "II", "I"]}
    )
    out = locate_km_marks(pipelines, marks)
    # km 5 is on both ORN and Tramo I (each numbered from 0): ambiguous without `line`
    assert out.geometry.iloc[0] is None
    assert "lies on 2 lines" in out["problem"].iloc[0]
    assert out["line_index"].tolist()[1:4] == [0, 2, 1]
    assert out.geometry.iloc[1].x == pytest.approx(LON)
    assert out.geometry.iloc[2].x == pytest.approx(-76.0)
    assert out.geometry.iloc[3].x == pytest.approx(-75.0)
    assert "beyond the end of line 2 'Tramo I'" in out["problem"].iloc[4]
    unknown = locate_km_marks(pipelines, pd.DataFrame({"km": [5.0], "line": ["Tramo III"]}))
    assert unknown["problem"].iloc[0] == "no line with a km_start matches line='Tramo III'"


def test_mark_past_drawn_end_within_km_end_snaps_to_last_vertex() -> None:
    lines = gpd.GeoDataFrame(
        {"kind": ["pipeline"], "km_start": [0.0], "km_end": [112.0]},
        geometry=[LineString([(LON, -8.0), (LON, -9.0)])],  # 110.599 km drawn
        crs=4326,
    )
    out = locate_km_marks(lines, pd.DataFrame({"km": [111.5, 113.0]}))
    assert out.geometry.iloc[0].equals_exact(Point(LON, -9.0), 1e-9)
    assert "past its drawn end" in out["problem"].iloc[0]
    assert "beyond the end" in out["problem"].iloc[1]


def test_calibrate_stretches_the_drawn_line_over_its_km_range() -> None:
    drawn = GEOD.inv(LON, -8.0, LON, -9.0)[2]  # 110.599 km
    lines = gpd.GeoDataFrame(
        {"kind": ["pipeline"], "km_start": [0.0], "km_end": [2 * drawn / 1000]},
        geometry=[LineString([(LON, -8.0), (LON, -9.0)])],
        crs=4326,
    )
    marks = pd.DataFrame({"km": [drawn / 1000, 2 * drawn / 1000]})
    out = locate_km_marks(lines, marks, calibrate=True)
    assert out["offset_m"].tolist() == pytest.approx([drawn / 2, drawn])
    assert out["problem"].isna().all()
    middle = out.geometry.iloc[0]
    assert GEOD.inv(LON, -8.0, middle.x, middle.y)[2] == pytest.approx(drawn / 2, abs=0.01)


def test_locate_requires_km_start_and_crs(pipelines: gpd.GeoDataFrame) -> None:
    with pytest.raises(ValidationError, match="km_start"):
        locate_km_marks(pipelines.drop(columns="km_start"), pd.DataFrame({"km": [1.0]}))
    with pytest.raises(CRSError, match="no CRS"):
        locate_km_marks(pipelines.set_crs(None, allow_override=True), pd.DataFrame({"km": [1]}))


# --- (3) exposure -----------------------------------------------------------------------------

LAT_N = -8.0
LAT_S = south_of(LON, LAT_N, 10_000.0)  # 10 km south along the meridian
LON_W, LON_E = LON - 0.05, LON + 0.05


@pytest.fixture
def square() -> gpd.GeoDataFrame:
    """A ~11 x 10 km square; vertices where the pipeline meridian crosses its N and S edges."""
    ring = [
        (LON_W, LAT_N),
        (LON, LAT_N),
        (LON_E, LAT_N),
        (LON_E, LAT_S),
        (LON, LAT_S),
        (LON_W, LAT_S),
    ]
    return gpd.GeoDataFrame({"territory_id": ["T1"]}, geometry=[Polygon(ring)], crs=4326)


def test_exposure_lengths_are_geodesic(square: gpd.GeoDataFrame) -> None:
    north = GEOD.fwd(LON, LAT_N, 0.0, 3_000.0)[1]
    south = south_of(LON, LAT_S, 3_000.0)
    road_lon = east_of(LON_E, (LAT_N + LAT_S) / 2, 3_000.0)  # 3 km east of the east edge
    far_lon = east_of(LON_E, LAT_N, 20_000.0)
    lines = gpd.GeoDataFrame(
        {"kind": ["pipeline", "Road", "road", "canal"]},
        geometry=[
            LineString([(LON, north), (LON, south)]),  # 3 + 10 + 3 km along the meridian
            LineString([(road_lon, LAT_N), (road_lon, LAT_S)]),  # 3 km outside, alongside
            LineString([(far_lon, LAT_N), (far_lon, LAT_S)]),  # 20 km away
            LineString([(LON, LAT_N), (LON, LAT_S)]),  # not a measured kind
        ],
        crs=4326,
    )
    spills = gpd.GeoDataFrame(
        {"kind": ["spill"] * 4},
        geometry=[
            Point(LON + 0.01, -8.02),  # inside
            Point(east_of(LON_E, -8.03, 2_000.0), -8.03),  # 2 km outside
            Point(east_of(LON_E, -8.03, 8_000.0), -8.03),  # 8 km outside
            None,  # a km mark that could not be placed
        ],
        crs=4326,
    )
    out = compute_infrastructure_exposure(square.to_crs(32718), lines, spills, distance_km=5.0)
    row = out.iloc[0]
    assert row["territory_id"] == "T1"
    assert row["pipeline_km_inside"] == pytest.approx(10.0, abs=1e-3)  # < 1 m
    assert row["pipeline_km_nearby"] == pytest.approx(6.0, abs=1e-3)
    assert row["road_km_inside"] == 0.0
    road_km = GEOD.inv(road_lon, LAT_N, road_lon, LAT_S)[2] / 1000
    assert row["road_km_nearby"] == pytest.approx(road_km, abs=1e-3)
    assert (row["spills_inside"], row["spills_nearby"]) == (1, 1)


def test_nearby_band_is_round_at_corners(square: gpd.GeoDataFrame) -> None:
    # A road 3 km east of the east edge running 6 km beyond both corners: within 5 km of the
    # square for 10 km alongside plus sqrt(5² - 3²) = 4 km past each corner.
    road_lon = east_of(LON_E, LAT_N, 3_000.0)
    start = GEOD.fwd(road_lon, LAT_N, 0.0, 6_000.0)[1]
    end = south_of(road_lon, LAT_S, 6_000.0)
    lines = gpd.GeoDataFrame(
        {"kind": ["road"]}, geometry=[LineString([(road_lon, start), (road_lon, end)])], crs=4326
    )
    out = compute_infrastructure_exposure(square, lines, distance_km=5.0)
    assert out["road_km_nearby"].iloc[0] == pytest.approx(18.0, abs=0.005)
    assert out["road_km_inside"].iloc[0] == 0.0


def test_exposure_keeps_input_order_and_empty_territories(square: gpd.GeoDataFrame) -> None:
    territories = gpd.GeoDataFrame(
        {"territory_id": ["B", "X", "A"]},
        geometry=[square.geometry.iloc[0], None, square.geometry.iloc[0]],
        crs=4326,
    )
    lines = gpd.GeoDataFrame(
        {"kind": ["pipeline"]}, geometry=[LineString([(LON, LAT_N), (LON, LAT_S)])], crs=4326
    )
    out = compute_infrastructure_exposure(territories, lines, distance_km=0)
    assert out["territory_id"].tolist() == ["B", "X", "A"]
    assert out["pipeline_km_inside"].round(3).tolist() == [10.0, 0.0, 10.0]
    assert out["pipeline_km_nearby"].tolist() == [0.0, 0.0, 0.0]
    assert out["spills_inside"].tolist() == [0, 0, 0]


def test_exposure_requires_kind(square: gpd.GeoDataFrame) -> None:
    lines = gpd.GeoDataFrame(geometry=[LineString([(LON, LAT_N), (LON, LAT_S)])], crs=4326)
    with pytest.raises(ValidationError, match="'kind' column"):
        compute_infrastructure_exposure(square, lines)
    with pytest.raises(ValidationError, match="distance_km"):
        compute_infrastructure_exposure(square, lines.assign(kind="road"), distance_km=-1)


# --- (4) the real Oleoducto Norperuano --------------------------------------------------------


@pytest.fixture
def onp(realdata) -> gpd.GeoDataFrame:
    raw = gpd.read_file(realdata / ONP)
    return raw.assign(
        kind="pipeline", name=raw["tramo"], km_start=raw["km_inicio"], km_end=raw["km_fin"]
    )


def along_m(line: LineString, lon: float, lat: float) -> float:
    """Geodesic distance from the first vertex of ``line`` to a point on it (independent walk)."""
    xy = np.asarray(line.coords)
    seg = GEOD.inv(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])[2]
    to_start = GEOD.inv(xy[:-1, 0], xy[:-1, 1], np.full(len(seg), lon), np.full(len(seg), lat))[2]
    to_end = GEOD.inv(np.full(len(seg), lon), np.full(len(seg), lat), xy[1:, 0], xy[1:, 1])[2]
    k = int(np.argmin(to_start + to_end - seg))  # the segment the point lies on
    assert to_start[k] + to_end[k] - seg[k] < 1e-3  # on its geodesic, to the millimetre
    return float(seg[:k].sum() + to_start[k])


@pytest.mark.realdata
def test_real_norperuano_km_marks(onp: gpd.GeoDataFrame) -> None:
    marks = pd.DataFrame(
        {"km": ["km 41+833", "km 400", "km 280", "km 900"], "line": ["ORN", None, None, None]}
    )
    out = locate_km_marks(onp, marks)
    orn = onp[onp["ramal"] == "ORN"]
    point = out.geometry.iloc[0]
    assert out["line_index"].iloc[0] == orn.index[0]
    assert out["problem"].iloc[0] is None
    assert along_m(orn.geometry.iloc[0], point.x, point.y) == pytest.approx(41_833.0, abs=1.0)
    assert onp.loc[out["line_index"].iloc[1], "ramal"] == "II"
    assert out["problem"].iloc[1] is None
    assert out.geometry.iloc[2] is None
    assert "km 280.0 is in the gap between lines" in out["problem"].iloc[2]
    assert "Estación Andoas - Estación N° 5' ends at km 251.6" in out["problem"].iloc[2]
    assert "starts at km 306.1" in out["problem"].iloc[2]
    assert "beyond the end of" in out["problem"].iloc[3]
    # calibrated: km 400 is (400 - 306.1) / 212.4 of the way along the first Tramo II line
    first_ii = onp.loc[out["line_index"].iloc[1]]
    stretched = locate_km_marks(onp, marks.iloc[[1]], calibrate=True)
    length_m = compute_geodesic_length_km(onp.loc[[first_ii.name]])[0] * 1000
    expected = (400 - 306.1) / (first_ii["km_fin"] - first_ii["km_inicio"]) * length_m
    assert stretched["offset_m"].iloc[0] == pytest.approx(expected)


@pytest.mark.realdata
def test_real_norperuano_tramo_ii_length(onp: gpd.GeoDataFrame) -> None:
    tramo_ii = onp[onp["ramal"] == "II"]
    drawn = compute_geodesic_length_km(tramo_ii).sum()
    official = tramo_ii["km_fin"].max() - tramo_ii["km_inicio"].min()  # 855.4 - 306.1
    assert official == pytest.approx(549.3)
    assert abs(drawn - official) / official < 0.05, f"drawn {drawn:.1f} km vs {official} km"
