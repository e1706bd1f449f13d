"""The bundled demo data: headline numbers checked independently of the geotools analyses.

Areas are measured here with ``pyproj.Geod(ellps="WGS84").geometry_area_perimeter`` on shapely
unions and intersections in longitude/latitude; nothing from geotools but the writer is used.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Geod
from shapely.ops import nearest_points

from geotools.demo.data import write_demo_data
from geotools.errors import OutputExistsError

GEOD = Geod(ellps="WGS84")
FILES = (
    "territories.geojson",
    "parcels.geojson",
    "concessions.geojson",
    "incidents.csv",
    "infrastructure.geojson",
    "forest_loss.tif",
    "README.md",
)
ILLUSTRATIVE = "ILLUSTRATIVE DEMO DATA"
INCIDENT_COLUMNS = [
    "incident_id",
    "date",
    "kind",
    "severity",
    "description",
    "victims",
    "source",
    "precision",
    "sensitivity",
    "lon",
    "lat",
]


def geodesic_ha(geom: shapely.Geometry) -> float:
    """True area in hectares of a lon/lat geometry on the WGS84 ellipsoid."""
    oriented = shapely.orient_polygons(geom, exterior_cw=False)
    return abs(GEOD.geometry_area_perimeter(oriented)[0]) / 10_000.0


def union_within(parts: list[shapely.Geometry], zone: shapely.Geometry) -> float:
    """Hectares of the union of ``parts`` clipped to ``zone``."""
    if not parts:
        return 0.0
    return geodesic_ha(shapely.intersection(shapely.union_all(parts), zone))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "raw"
    write_demo_data(out)
    return out


@pytest.fixture(scope="module")
def layers(demo: Path) -> dict[str, gpd.GeoDataFrame]:
    return {
        name: gpd.read_file(demo / f"{name}.geojson")
        for name in ("territories", "parcels", "concessions", "infrastructure")
    }


@pytest.fixture(scope="module")
def incidents(demo: Path) -> list[dict[str, str]]:
    with open(demo / "incidents.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def territory(layers: dict[str, gpd.GeoDataFrame], tid: str) -> shapely.Geometry:
    frame = layers["territories"]
    return frame.loc[frame["territory_id"] == tid].geometry.iloc[0]


def parcels_of(layers: dict[str, gpd.GeoDataFrame], *tenures: str) -> list[shapely.Geometry]:
    frame = layers["parcels"]
    return list(frame.loc[frame["tenure"].isin(tenures)].geometry)


def test_files_written_small_and_returned(tmp_path: Path) -> None:
    paths = write_demo_data(tmp_path / "raw")
    assert sorted(p.name for p in paths.values()) == sorted(FILES)
    assert all(p.is_file() and p.parent == tmp_path / "raw" for p in paths.values())
    assert sum(p.stat().st_size for p in paths.values()) < 1_000_000
    assert paths["forest_loss"].stat().st_size < 300_000
    assert not [p for p in (tmp_path / "raw").iterdir() if p.name not in FILES]


def test_byte_identical_on_every_run(tmp_path: Path, demo: Path) -> None:
    write_demo_data(tmp_path / "again")
    for name in FILES:
        assert (tmp_path / "again" / name).read_bytes() == (demo / name).read_bytes(), name


def test_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    out.mkdir()
    (out / "parcels.geojson").write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputExistsError):
        write_demo_data(out)
    assert (out / "parcels.geojson").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in out.iterdir()) == ["parcels.geojson"]
    write_demo_data(out, overwrite=True)
    assert (out / "parcels.geojson").read_text(encoding="utf-8").startswith("{")


def test_layers_are_wgs84_with_expected_columns(layers: dict[str, gpd.GeoDataFrame]) -> None:
    expected = {
        "territories": [
            "territory_id",
            "name",
            "people",
            "community",
            "claim_source",
            "claim_date",
        ],
        "parcels": ["parcel_id", "tenure", "territory_id", "title_date", "registry_ref", "source"],
        "concessions": ["concession_id", "kind", "status", "holder", "granted_date", "source"],
        "infrastructure": ["kind", "name", "km_start", "source"],
    }
    for name, columns in expected.items():
        frame = layers[name]
        assert frame.crs.to_epsg() == 4326, name
        assert [c for c in frame.columns if c != "geometry"] == columns, name
        assert frame.geometry.is_valid.all(), name
        minx, miny, maxx, maxy = frame.total_bounds
        assert -75.0 < minx < maxx < -74.3 and -8.7 < miny < maxy < -8.0, name
    for name, id_column in (
        ("territories", "territory_id"),
        ("parcels", "parcel_id"),
        ("concessions", "concession_id"),
    ):
        assert layers[name][id_column].is_unique, name
    assert set(layers["parcels"]["tenure"]) == {
        "titled",
        "cession_in_use",
        "demarcated",
        "in_process",
    }
    assert set(layers["concessions"]["kind"]) <= {
        "mining",
        "oil_gas",
        "agribusiness",
        "forestry",
        "other",
    }
    assert set(layers["concessions"]["status"]) == {"active", "in_process", "expired"}
    assert set(layers["infrastructure"]["kind"]) == {"pipeline", "road"}
    types = set(layers["territories"].geom_type)
    assert types == {"Polygon", "MultiPolygon"}
    holes = [len(g.interiors) for g in layers["territories"].geometry if g.geom_type == "Polygon"]
    assert max(holes) >= 1


def test_santa_clara_claimed_and_titled(layers: dict[str, gpd.GeoDataFrame]) -> None:
    terr = layers["territories"]
    row = terr.loc[terr["name"] == "Santa Clara de Uchunya"].iloc[0]
    assert row["people"] == "Shipibo-Conibo"
    sc = row.geometry
    assert geodesic_ha(sc) == pytest.approx(8600.0, abs=0.5)

    parcels = layers["parcels"]
    titled = parcels.loc[
        (parcels["territory_id"] == row["territory_id"]) & (parcels["tenure"] == "titled")
    ]
    assert len(titled) == 2
    a, b = titled.geometry
    assert shapely.intersection(a, b).area > 0  # they overlap: summing would overstate
    union = union_within(list(titled.geometry), sc)
    assert union == pytest.approx(200.0, abs=0.5)
    assert sum(geodesic_ha(g) for g in titled.geometry) > union + 10


def test_palm_oil_covers_most_of_the_untitled_land(layers: dict[str, gpd.GeoDataFrame]) -> None:
    sc = territory(layers, "T01")
    untitled = shapely.difference(sc, shapely.union_all(parcels_of(layers, "titled")))
    conc = layers["concessions"]
    palm = conc.loc[(conc["kind"] == "agribusiness") & (conc["status"] == "active")]
    palm = palm.loc[palm.intersects(sc)]
    assert 2 <= len(palm) <= 3
    share = union_within(list(palm.geometry), untitled) / geodesic_ha(untitled)
    assert 0.70 <= share <= 0.90
    outside = [geodesic_ha(shapely.difference(g, sc)) for g in palm.geometry]
    assert sum(ha > 100 for ha in outside) == 1  # exactly one reaches outside the territory
    pairs = [(i, j) for i in range(len(palm)) for j in range(i + 1, len(palm))]
    assert any(
        shapely.intersection(palm.geometry.iloc[i], palm.geometry.iloc[j]).area > 0
        for i, j in pairs
    )


def test_other_situations_are_present(layers: dict[str, gpd.GeoDataFrame]) -> None:
    terr = layers["territories"]
    others = terr.loc[terr["territory_id"] != "T01"]
    assert 4 <= len(others) <= 6
    titled_share = {
        tid: union_within(parcels_of(layers, "titled"), territory(layers, tid))
        / geodesic_ha(territory(layers, tid))
        for tid in others["territory_id"]
    }
    assert any(0.85 <= s <= 0.95 for s in titled_share.values())  # one mostly titled

    # Titled plus cession in use, overlapping slightly: secured is their union.
    parcels = layers["parcels"]
    cession = parcels.loc[parcels["tenure"] == "cession_in_use"].geometry.iloc[0]
    host = next(g for g in terr.geometry if shapely.intersection(g, cession).area > 0)
    titled_here = union_within(parcels_of(layers, "titled"), host)
    secured = union_within(parcels_of(layers, "titled", "cession_in_use"), host)
    overlap = titled_here + geodesic_ha(shapely.intersection(cession, host)) - secured
    assert 1.0 < overlap < 0.05 * secured

    # A parcel crossing the shared boundary of two adjacent territories counts in each.
    crossing = [
        p
        for p in parcels.geometry
        if sum(shapely.intersection(p, t).area > 0 for t in terr.geometry) == 2
    ]
    assert len(crossing) == 1
    # A parcel and a concession outside every territory.
    everything = shapely.union_all(list(terr.geometry))
    assert any(not p.intersects(everything) for p in parcels.geometry)
    assert any(not c.intersects(everything) for c in layers["concessions"].geometry)

    conc = layers["concessions"]
    for kind in ("oil_gas", "forestry"):
        live = conc.loc[(conc["kind"] == kind) & (conc["status"] == "active")]
        assert any(union_within([g], t) > 100 for g in live.geometry for t in others.geometry)
    expired = conc.loc[conc["status"] == "expired"]
    assert len(expired) >= 1
    assert any(g.intersects(everything) for g in expired.geometry)


def test_every_feature_says_it_is_illustrative(
    demo: Path, layers: dict[str, gpd.GeoDataFrame], incidents: list[dict[str, str]]
) -> None:
    assert layers["territories"]["claim_source"].str.startswith(ILLUSTRATIVE).all()
    for name in ("parcels", "concessions", "infrastructure"):
        assert layers[name]["source"].str.startswith(ILLUSTRATIVE).all(), name
    assert all(row["source"].startswith(ILLUSTRATIVE) for row in incidents)
    assert layers["concessions"]["holder"].str.contains("(fictional)", regex=False).all()
    with rasterio.open(demo / "forest_loss.tif") as src:
        assert src.tags()["source"].startswith(ILLUSTRATIVE)
    readme = (demo / "README.md").read_text(encoding="utf-8")
    assert "INVENTED" in readme
    assert "python scripts/make_demo_data.py" in readme
    assert "EPSG:4326" in readme


def test_incidents_table(incidents: list[dict[str, str]], demo: Path) -> None:
    with open(demo / "incidents.csv", encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == INCIDENT_COLUMNS  # no name-like field besides `victims`
    assert len({row["incident_id"] for row in incidents}) == len(incidents)
    kinds = {
        "threat",
        "attack",
        "killing",
        "arson",
        "eviction",
        "invasion",
        "deforestation",
        "spill",
        "protest_casualty",
        "criminalization",
        "other",
    }
    for row in incidents:
        assert row["kind"] in kinds
        assert row["precision"] in {"exact", "approximate", "locality", "district"}
        assert row["sensitivity"] in {"public", "restricted", "confidential", ""}
        assert re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", row["date"]), row["date"]
        assert 1 <= int(row["severity"]) <= 5
        # Victims are counts or roles in lower case, never names.
        assert re.fullmatch(r"(\d+ )?[a-z ]*", row["victims"]), row["victims"]
        float(row["lon"]), float(row["lat"])
    assert sum(row["sensitivity"] == "" for row in incidents) == 1
    assert {"public", "restricted", "confidential"} <= {row["sensitivity"] for row in incidents}
    assert any("<script>alert(1)</script>" in row["description"] for row in incidents)


def test_nueva_requena_killing_is_near_but_outside_santa_clara(
    layers: dict[str, gpd.GeoDataFrame], incidents: list[dict[str, str]]
) -> None:
    killing = next(r for r in incidents if r["kind"] == "killing")
    assert killing["victims"] == "6 farmers"
    assert killing["date"].startswith("2017-09")
    assert (killing["sensitivity"], killing["precision"]) == ("public", "locality")
    point = shapely.Point(float(killing["lon"]), float(killing["lat"]))
    sc = territory(layers, "T01")
    assert not sc.contains(point)
    nearest = nearest_points(sc.boundary, point)[0]
    metres = GEOD.inv(point.x, point.y, nearest.x, nearest.y)[2]
    assert 0 < metres < 5000


def test_forest_loss_raster(demo: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    with rasterio.open(demo / "forest_loss.tif") as src:
        assert src.count == 1
        assert src.dtypes[0] == "uint8"
        assert src.nodata == 255
        assert src.crs.to_epsg() == 4326
        assert src.transform.b == src.transform.d == 0.0  # north-up
        assert src.compression.name.lower() == "deflate"
        data = src.read(1)
        transform = src.transform
    assert set(np.unique(data).tolist()) <= set(range(0, 25)) | {255}
    # True pixel areas: the geodesic area of each row's pixel (all pixels of a row are equal).
    height, width = data.shape
    row_ha = np.empty(height)
    x0, x1 = transform.c, transform.c + transform.a
    for row in range(height):
        y0, y1 = transform.f + row * transform.e, transform.f + (row + 1) * transform.e
        row_ha[row] = abs(GEOD.polygon_area_perimeter([x0, x1, x1, x0], [y0, y0, y1, y1])[0])
    row_ha /= 10_000.0
    areas = np.repeat(row_ha[:, None], width, axis=1)
    main = (data >= 12) & (data <= 15)
    total = float(areas[main].sum())
    assert 6500.0 <= total <= 7500.0
    assert all(areas[data == year].sum() > 500 for year in (12, 13, 14, 15))
    other = (data > 0) & (data < 255) & ~main
    assert 0 < float(areas[other].sum()) < 0.1 * total  # a little loss in other years

    # Mostly inside the palm-oil concessions on Santa Clara's untitled land.
    sc = territory(layers, "T01")
    untitled = shapely.difference(sc, shapely.union_all(parcels_of(layers, "titled")))
    conc = layers["concessions"]
    palm = shapely.union_all(list(conc.loc[conc["kind"] == "agribusiness"].geometry))
    zone = shapely.intersection(palm, untitled)
    rows, cols = np.nonzero(main)
    lon = transform.c + (cols + 0.5) * transform.a
    lat = transform.f + (rows + 0.5) * transform.e
    inside = shapely.contains_xy(zone, lon, lat)
    assert areas[rows[inside], cols[inside]].sum() / total > 0.75
