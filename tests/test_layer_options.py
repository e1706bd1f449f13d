"""Reading layers the way an analyst asks for them (issue 13, items 1, 2, 4, 5 and 8).

``--assume-crs`` only for layers without a CRS (and per layer), several files into one layer,
per-layer defaults and value mappings, typo-proof mappings with runnable hints, mappable and
decimal-comma coordinates, and whole files with latitude and longitude swapped.
"""

from __future__ import annotations

import json

import click
import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod

from geotools.cli import main
from geotools.cli.options import parse_assume_crs, parse_defaults, parse_mappings
from geotools.errors import SourceError, ValidationError
from geotools.io import read_inputs, read_layer
from geotools.project import read_project

GEOD = Geod(ellps="WGS84")


def geod_ha(polygon: shapely.Polygon) -> float:
    return abs(GEOD.geometry_area_perimeter(polygon)[0]) / 1e4


def write_geojson(path, rows, crs=4326):
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    path.write_text(frame.to_json(drop_id=True), encoding="utf-8")
    return path


SQUARE = shapely.box(-74.60, -8.40, -74.50, -8.30)  # about 11 x 11 km near Pucallpa


# -- 1. --assume-crs applies only to layers without a CRS ------------------------------------


def test_assume_crs_keeps_a_declared_crs_that_fits(tmp_path):
    path = write_geojson(tmp_path / "t.geojson", [{"territory_id": "t1", "geometry": SQUARE}])
    layer = read_layer(path, "territories", assume_crs="EPSG:32718")
    assert layer.frame.crs.to_epsg() == 4326
    # The degrees were read as degrees: the hectares are the geodesic ones (old code: 32718
    # metres, a 0.1 m square, 0.0 ha).
    geom = layer.frame.geometry.iloc[0]
    assert geod_ha(geom) == pytest.approx(geod_ha(SQUARE), rel=1e-9)
    assert geod_ha(SQUARE) == pytest.approx(12_200, rel=0.01)
    assert layer.ledger.notes["crs_assumption"] == "ignored: the file declares EPSG:4326"


def test_assume_crs_applies_to_a_file_whose_crs_cannot_hold_it(tmp_path):
    utm = shapely.box(500_000, 9_000_000, 501_000, 9_001_000)
    path = write_geojson(tmp_path / "c.geojson", [{"concession_id": "c1", "geometry": utm}], None)
    layer = read_layer(path, "concessions", assume_crs="EPSG:32718")
    assert layer.frame.crs.to_epsg() == 32718
    assert layer.ledger.notes["crs_assumption"].startswith("applied: the declared EPSG:4326")


def test_assume_crs_per_layer_on_the_command_line():
    assert parse_assume_crs(("EPSG:32718", "concessions=EPSG:32717")) == {
        "territories": "EPSG:32718",
        "parcels": "EPSG:32718",
        "concessions": "EPSG:32717",
        "incidents": "EPSG:32718",
        "infrastructure": "EPSG:32718",
        "communities": "EPSG:32718",
    }
    assert parse_assume_crs(("concessions=EPSG:32717",)) == {"concessions": "EPSG:32717"}
    assert parse_assume_crs(("+proj=utm +zone=17 +south",)) is not None  # '=' in a PROJ string
    with pytest.raises(click.BadParameter, match=r"unknown layer 'concesions'.*concessions"):
        parse_assume_crs(("concesions=EPSG:32717",))
    with pytest.raises(click.BadParameter, match="two CRSs"):
        parse_assume_crs(("EPSG:32717", "EPSG:32718"))


def test_per_layer_crs_reaches_only_its_layer(tmp_path):
    territories = write_geojson(
        tmp_path / "t.geojson", [{"territory_id": "t1", "geometry": SQUARE}]
    )
    # Concessions in UTM 18S metres, written without a CRS tag, inside the territory.
    utm = gpd.GeoSeries([shapely.box(-74.58, -8.38, -74.56, -8.36)], crs=4326).to_crs(32718)
    concessions = write_geojson(
        tmp_path / "c.geojson", [{"concession_id": "c1", "geometry": utm.iloc[0]}], None
    )
    parcels = write_geojson(tmp_path / "p.geojson", [{"parcel_id": "p1", "geometry": SQUARE}])
    layers = read_inputs(
        {"territories": territories, "parcels": parcels, "concessions": concessions},
        assume_crs={"concessions": "EPSG:32718"},
    )
    assert layers["territories"].frame.crs.to_epsg() == 4326
    assert layers["concessions"].frame.crs.to_epsg() == 32718
    with pytest.raises(SourceError, match="unknown layer 'concesions'"):
        read_inputs({"territories": territories, "parcels": parcels}, {"concesions": "EPSG:1"})


# -- 2. Several files, one layer ------------------------------------------------------------


def test_several_files_read_into_one_layer_with_unique_ids(tmp_path):
    a = shapely.box(-74.6, -8.4, -74.59, -8.39)
    b = shapely.box(-74.58, -8.4, -74.57, -8.39)
    c = shapely.box(-74.56, -8.4, -74.55, -8.39)
    q3 = write_geojson(tmp_path / "Q3.geojson", [{"src_index": 0, "geometry": a},
                                                 {"src_index": 1, "geometry": b}])
    q4 = write_geojson(tmp_path / "Q4.geojson", [{"src_index": 0, "geometry": c}])
    layer = read_layer([q3, q4], "concessions", mapping={"concession_id": "src_index"})
    frame = layer.frame
    assert frame["concession_id"].tolist() == ["0", "1", "0@Q4"]
    assert frame["source_file"].tolist() == ["Q3.geojson", "Q3.geojson", "Q4.geojson"]
    assert layer.ledger.read == 3
    assert layer.ledger.notes["files"] == {"Q3.geojson": 2, "Q4.geojson": 1}
    assert layer.ledger.notes["ids_renamed"] == 1
    (problem,) = layer.ledger.problems
    assert problem.feature == "0@Q4"
    assert "Q3.geojson" in problem.action
    assert [p.name for p, _ in layer.files] == ["Q3.geojson", "Q4.geojson"]
    assert layer.ledger.source == "Q3.geojson + Q4.geojson"


def test_repeated_layer_option_reads_every_file(tmp_path):
    territories = write_geojson(
        tmp_path / "t.geojson", [{"territory_id": "t1", "geometry": SQUARE}]
    )
    parcels = write_geojson(tmp_path / "p.geojson", [{"parcel_id": "p1", "geometry": SQUARE}])
    one = shapely.box(-74.60, -8.40, -74.58, -8.38)
    two = shapely.box(-74.52, -8.32, -74.50, -8.30)
    q3 = write_geojson(tmp_path / "Q3.geojson", [{"geometry": one}])
    q4 = write_geojson(tmp_path / "Q4.geojson", [{"geometry": two}])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "stats", "--territories", str(territories), "--parcels", str(parcels),
        "--concessions", str(q3), "--concessions", str(q4),
        "--default", "concessions.kind=mining", "--out", str(out),
    ])
    assert result.exit_code == 0, result.output
    row = gpd.pd.read_csv(out / "territory_stats.csv").iloc[0]
    expected = geod_ha(one) + geod_ha(two)  # both inside the territory, disjoint
    assert row["concession_ha"] == pytest.approx(expected, rel=1e-4)
    assert row["concession_mining_ha"] == pytest.approx(expected, rel=1e-4)
    assert row["concession_other_ha"] == 0
    provenance = json.loads((out / "provenance.json").read_text())
    (entry,) = [e for e in provenance["inputs"] if e["layer"] == "concessions"]
    assert [f["path"].rsplit("/", 1)[-1] for f in entry["files"]] == ["Q3.geojson", "Q4.geojson"]


def test_project_file_takes_a_list_of_paths_and_defaults(tmp_path):
    write_geojson(tmp_path / "t.geojson", [{"territory_id": "t1", "geometry": SQUARE}])
    write_geojson(tmp_path / "p.geojson", [{"parcel_id": "p1", "geometry": SQUARE}])
    write_geojson(tmp_path / "Q3.geojson", [{"geometry": shapely.box(-74.6, -8.4, -74.59, -8.39)}])
    write_geojson(tmp_path / "Q4.geojson", [{"geometry": shapely.box(-74.5, -8.4, -74.49, -8.39)}])
    project = tmp_path / "study.toml"
    project.write_text(
        '[layers.territories]\npath = "t.geojson"\n[layers.parcels]\npath = "p.geojson"\n'
        '[layers.concessions]\npath = ["Q3.geojson", "Q4.geojson"]\n'
        '[layers.concessions.defaults]\nkind = "minería"\n',
        encoding="utf-8",
    )
    spec = read_project(project)
    assert [p.name for p in spec.layers["concessions"].path] == ["Q3.geojson", "Q4.geojson"]
    result = CliRunner().invoke(main, ["run", str(project), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    gpkg = gpd.read_file(tmp_path / "out" / "analysis.gpkg", layer="concessions")
    assert gpkg["kind"].tolist() == ["mining", "mining"]  # the default, recoded by the vocabulary
    assert gpkg["source_file"].tolist() == ["Q3.geojson", "Q4.geojson"]


# -- 4. Defaults and value mappings ---------------------------------------------------------


def test_default_fills_a_missing_column_and_empty_cells(tmp_path):
    path = write_geojson(tmp_path / "c.geojson", [
        {"concession_id": "c1", "tipo": None, "geometry": SQUARE},
        {"concession_id": "c2", "tipo": "oil_gas", "geometry": SQUARE.buffer(-0.01)},
    ])
    layer = read_layer(path, "concessions", defaults={"kind": "mining"})
    assert layer.frame["kind"].tolist() == ["mining", "oil_gas"]
    assert layer.ledger.notes["fields"]["defaulted"]["kind"] == "mining (in 1 empty cell(s))"


def test_value_mapping_of_a_defaulted_column_is_honoured(tmp_path):
    path = write_geojson(tmp_path / "c.geojson", [{"concession_id": "c1", "geometry": SQUARE}])
    layer = read_layer(path, "concessions", values={"kind": {"other": "mining"}})
    assert layer.frame["kind"].tolist() == ["mining"]  # old code: the vocabulary's 'other' won
    territories = write_geojson(
        tmp_path / "t.geojson", [{"territory_id": "t1", "etnia": "ASHANINKA", "geometry": SQUARE}]
    )
    layer = read_layer(territories, "territories", values={"people": {"ashaninka": "Asháninka"}})
    assert layer.frame["people"].tolist() == ["Asháninka"]  # not a vocabulary column: honoured too


def test_defaults_on_the_command_line_are_checked():
    assert parse_defaults(("concessions.kind=mining",)) == {"concessions": {"kind": "mining"}}
    with pytest.raises(click.BadParameter, match=r"unknown column 'knd'.*did you mean 'kind'"):
        parse_defaults(("concessions.knd=mining",))


# -- 5. Typos refused, hints runnable, coordinates mappable ----------------------------------


def test_map_typos_are_refused_with_the_valid_names():
    with pytest.raises(click.BadParameter, match=r"unknown column 'nmae'.*did you mean 'name'.*"
                       r"territory_id, name, people"):
        parse_mappings(("territories.nmae=NOMBRE",))
    with pytest.raises(
        click.BadParameter, match=r"unknown layer 'territorios'.*territories, parcels"
    ):
        parse_mappings(("territorios.name=NOMBRE",))
    assert parse_mappings(("incidents.lon=X", "incidents.lat=Y")) == {
        "incidents": {"lon": "X", "lat": "Y"}
    }


def test_cli_refuses_a_map_typo_before_reading(tmp_path):
    result = CliRunner().invoke(main, [
        "stats", "--territories", "t.gpkg", "--parcels", "p.gpkg", "--map",
        "territories.nmae=NOMBRE", "--out", str(tmp_path / "o"),
    ])
    assert result.exit_code == 2
    assert "did you mean 'name'" in result.output


def test_project_mapping_typo_is_refused(tmp_path):
    project = tmp_path / "study.toml"
    project.write_text(
        '[layers.territories]\npath = "t.geojson"\n[layers.territories.mapping]\n'
        'nmae = "NOMBRE"\n[layers.parcels]\npath = "p.geojson"\n',
        encoding="utf-8",
    )
    with pytest.raises(ValidationError, match=r"unknown column 'nmae'.*territory_id, name"):
        read_project(project)


def test_missing_column_hint_runs_as_written_in_validate(tmp_path):
    path = tmp_path / "incidents.csv"
    path.write_text("id,cuando,lon,lat\na,2024-03-01,-74.55,-8.35\n", encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(main, ["validate", str(path), "--as", "incidents"])
    assert first.exit_code == 1
    hint = first.output.split("such as ")[1].split()[:2]
    assert hint == ["--map", "incidents.date=SOURCE_COLUMN"]
    fixed = runner.invoke(main, ["validate", str(path), "--as", "incidents",
                                 hint[0], hint[1].replace("SOURCE_COLUMN", "cuando")])
    assert fixed.exit_code == 0, fixed.output
    assert "1 valid" in fixed.output
    other = runner.invoke(main, ["validate", str(path), "--as", "incidents",
                                 "--map", "parcels.tenure=x"])
    assert other.exit_code == 2
    assert "--as incidents" in other.output


def test_coordinate_columns_mappable_and_decimal_comma_read(tmp_path):
    path = tmp_path / "incidents.csv"
    path.write_text(
        'id;fecha;coordX_wgs;coordY_wgs\na;2024-03-01;-74,55;-8,35\nb;2024-03-02;-74.5;-8.3\n',
        encoding="utf-8",
    )
    with pytest.raises(SourceError, match="no coordinate columns"):
        read_layer(path, "incidents", mapping={"date": "fecha"})
    layer = read_layer(path, "incidents",
                       mapping={"date": "fecha", "lon": "coordX_wgs", "lat": "coordY_wgs"})
    xy = shapely.get_coordinates(layer.frame.geometry.to_numpy())
    np.testing.assert_array_equal(xy, [[-74.55, -8.35], [-74.5, -8.3]])
    assert layer.ledger.notes["coordinates"] == {"lon": "coordX_wgs", "lat": "coordY_wgs"}
    with pytest.raises(ValidationError, match="names lon but not lat"):
        read_layer(path, "incidents", mapping={"date": "fecha", "lon": "coordX_wgs"})


# -- 8. A whole file with latitude and longitude swapped -------------------------------------


def swapped_csv(tmp_path):
    """Ten Ucayali incidents, the latitude typed into the longitude column and vice versa."""
    rng = np.random.default_rng(13)
    lon = -74.6 + rng.uniform(-0.3, 0.3, 10)
    lat = -8.4 + rng.uniform(-0.3, 0.3, 10)
    rows = "\n".join(f"i{i},2024-01-0{i % 9 + 1},{la:.5f},{lo:.5f}" for i, (lo, la)
                     in enumerate(zip(lon, lat, strict=True)))
    path = tmp_path / "incidents.csv"
    path.write_text("id,date,lon,lat\n" + rows + "\n", encoding="utf-8")
    return path, lon, lat


def test_whole_file_swapped_is_refused_with_a_runnable_fix(tmp_path):
    path, lon, lat = swapped_csv(tmp_path)
    with pytest.raises(ValidationError, match=r"swapped in the whole incidents layer.*south of "
                       r"60°S.*--map incidents.lon=lat --map incidents.lat=lon"):
        read_layer(path, "incidents")
    fixed = read_layer(path, "incidents", mapping={"lon": "lat", "lat": "lon"})
    xy = shapely.get_coordinates(fixed.frame.geometry.to_numpy())
    np.testing.assert_allclose(xy[:, 0], lon, atol=1e-5)
    np.testing.assert_allclose(xy[:, 1], lat, atol=1e-5)


def test_whole_file_swapped_is_found_from_the_other_layers(tmp_path):
    # A study in Spain: swapped points (lon 40, lat -4) are in the Indian Ocean, north of 60°S,
    # so only the other layers' extent gives them away.
    spain = shapely.box(-4.0, 40.0, -3.0, 41.0)
    territories = write_geojson(tmp_path / "t.geojson", [{"territory_id": "t1", "geometry": spain}])
    parcels = write_geojson(tmp_path / "p.geojson", [{"parcel_id": "p1", "geometry": spain}])
    points = [shapely.Point(40.2 + i / 10, -3.5) for i in range(5)]
    incidents = write_geojson(tmp_path / "i.geojson", [
        {"incident_id": f"i{i}", "date": "2024-01-01", "geometry": p} for i, p in enumerate(points)
    ])
    assert len(read_layer(incidents, "incidents").frame) == 5  # alone it cannot be told
    with pytest.raises(ValidationError, match=r"i.geojson: .*far outside the other layers' area "
                       r"while 5 fall inside it swapped.*Swap X and Y"):
        read_inputs({"territories": territories, "parcels": parcels, "incidents": incidents})


def test_project_value_mapping_of_a_defaulted_column_is_honoured(tmp_path):
    write_geojson(tmp_path / "t.geojson", [{"territory_id": "t1", "geometry": SQUARE}])
    write_geojson(tmp_path / "p.geojson", [{"parcel_id": "p1", "geometry": SQUARE}])
    write_geojson(tmp_path / "lotes.geojson", [{"lote": "8", "geometry": SQUARE.buffer(-0.02)}])
    project = tmp_path / "study.toml"
    project.write_text(
        '[layers.territories]\npath = "t.geojson"\n[layers.parcels]\npath = "p.geojson"\n'
        '[layers.concessions]\npath = "lotes.geojson"\n'
        '[layers.concessions.values.kind]\nother = "oil_gas"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(project), "--out", str(out)])
    assert result.exit_code == 0, result.output
    row = gpd.pd.read_csv(out / "territory_stats.csv").iloc[0]
    inner = SQUARE.buffer(-0.02)
    assert row["concession_oil_gas_ha"] == pytest.approx(geod_ha(inner), rel=1e-4)
    assert row["concession_other_ha"] == 0  # old code: the vocabulary's 'other' won
