"""Reading layers from any format, alias mapping, and clear errors for bad files."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from geotools.errors import CRSError, SourceError, ValidationError
from geotools.io import read_layer

FORMATS = {
    "gpkg": ("GPKG", ".gpkg"),
    "shp": ("ESRI Shapefile", ".shp"),
    "geojson": ("GeoJSON", ".geojson"),
    "fgb": ("FlatGeobuf", ".fgb"),
    "kml": ("KML", ".kml"),
}


@pytest.fixture
def spanish_territories(case):
    t = (
        case["territories"]
        .to_crs(4326)
        .rename(columns={"territory_id": "codigo", "name": "nom_comuni"})
    )
    t["etnia"] = ["Shipibo-Conibo", "Cacataibo", "Asháninka", "Yine"]
    return t


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_read_every_format_with_spanish_fields(tmp_path, spanish_territories, fmt):
    driver, suffix = FORMATS[fmt]
    path = tmp_path / f"territorios{suffix}"
    pyogrio.write_dataframe(spanish_territories, path, driver=driver)
    layer = read_layer(path, "territories")
    frame = layer.frame.sort_values("territory_id")  # FlatGeobuf stores features in index order
    assert list(frame["territory_id"]) == ["A", "B", "C", "D"]
    assert frame["people"].iloc[2] == "Asháninka"
    assert frame["name"].iloc[0] == "Alfa"
    assert layer.ledger.read == 4 and layer.ledger.count("valid") == 4
    assert len(layer.sha256) == 64


def test_read_zipped_shapefile_and_geoparquet(tmp_path, spanish_territories):
    shp = tmp_path / "t.shp"
    pyogrio.write_dataframe(spanish_territories, shp)
    archive = tmp_path / "t.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in tmp_path.glob("t.*"):
            if part.suffix != ".zip":
                zf.write(part, part.name)
    assert len(read_layer(archive, "territories").frame) == 4
    parquet = tmp_path / "t.parquet"
    spanish_territories.to_parquet(parquet)
    assert len(read_layer(parquet, "territories").frame) == 4


def test_layer_of_a_multilayer_geopackage(tmp_path, case):
    path = tmp_path / "all.gpkg"
    pyogrio.write_dataframe(case["territories"], path, layer="territorios")
    pyogrio.write_dataframe(case["parcels"], path, layer="predios", append=False)
    with pytest.raises(SourceError, match="holds 2 layers"):
        read_layer(path, "parcels")
    assert len(read_layer(f"{path}:predios", "parcels").frame) == 10


def test_csv_points_with_lat_lon_columns(tmp_path):
    path = tmp_path / "incidentes.csv"
    pd.DataFrame(
        {
            "id": ["a", "b"],
            "fecha": ["2017-09-01", "2014-01-15"],
            "tipo": ["asesinato", "incendio"],
            "latitud": [-8.4, -8.5],
            "longitud": [-74.6, -74.7],
        }
    ).to_csv(path, index=False)
    layer = read_layer(path, "incidents")
    frame = layer.frame
    assert list(frame["kind"]) == ["killing", "arson"]
    assert list(frame["sensitivity"]) == ["restricted", "restricted"]  # private by default
    assert list(frame["severity"]) == [5, 4]
    assert frame.geometry.iloc[0].equals(shapely.Point(-74.6, -8.4))
    assert layer.ledger.notes["fields"]["recoded"]["kind"] == {
        "asesinato": "killing",
        "incendio": "arson",
    }


def test_missing_crs_is_a_clear_error(tmp_path, case):
    path = tmp_path / "sin_prj.shp"
    pyogrio.write_dataframe(case["territories"], path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match=r"no coordinate reference system.*--assume-crs"):
        read_layer(path, "territories")
    layer = read_layer(path, "territories", assume_crs=case["territories"].crs)
    assert len(layer.frame) == 4


def test_geojson_with_projected_numbers_suggests_utm(tmp_path):
    path = tmp_path / "utm.geojson"
    frame = gpd.GeoDataFrame(
        {"id": ["x"]}, geometry=[shapely.box(500_000, 9_000_000, 501_000, 9_001_000)]
    )
    path.write_text(frame.to_json())
    with pytest.raises(CRSError, match=r"not degrees.*32717, 32718 or 32719"):
        read_layer(path, "concessions")
    assert len(read_layer(path, "concessions", assume_crs="EPSG:32718").frame) == 1


def test_missing_file_and_garbage_file(tmp_path):
    with pytest.raises(SourceError, match="file not found"):
        read_layer(tmp_path / "nope.gpkg", "territories")
    bad = tmp_path / "broken.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(SourceError, match="cannot read"):
        read_layer(bad, "territories")


def test_missing_required_column_names_the_fix(tmp_path):
    path = tmp_path / "incidents.geojson"
    frame = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.Point(-74, -8)], crs=4326)
    path.write_text(frame.to_json())
    with pytest.raises(ValidationError, match=r"required column.*date.*--map incidents.date="):
        read_layer(path, "incidents")


def test_ledger_accounts_for_every_feature(tmp_path):
    x, y = 500_000, 9_000_000  # UTM 18S metres near Pucallpa
    bowtie = shapely.Polygon([(x, y), (x + 100, y + 100), (x + 100, y), (x, y + 100)])
    geoms = [
        shapely.box(x, y, x + 100, y + 100),
        bowtie,
        None,
        shapely.Point(x, y),
        shapely.box(x + 200, y, x + 300, y + 100),
        shapely.Polygon(),
    ]
    frame = gpd.GeoDataFrame(
        {"parcel_id": ["a", "b", "c", "d", "a", "f"]}, geometry=geoms, crs=32718
    )
    path = tmp_path / "p.gpkg"
    pyogrio.write_dataframe(frame, path)
    layer = read_layer(path, "parcels")
    ledger = layer.ledger.to_dict()
    assert ledger["read"] == 6
    assert ledger["valid"] + ledger["repaired"] + ledger["rejected"] == 6
    assert ledger["rejected"] == 3  # no geometry, a point, empty
    assert ledger["repaired"] == 2  # bow-tie made valid, duplicate id suffixed
    assert sorted(layer.frame["parcel_id"]) == ["a", "a#2", "b"]
    problems = {p["problem"].split(":")[0] for p in ledger["problems"]}
    assert {"invalid geometry", "duplicate parcel_id", "no geometry"} <= problems
    assert len(layer.frame) == 3


def test_unknown_vocabulary_values_are_kept_and_listed(tmp_path):
    frame = gpd.GeoDataFrame(
        {"codigou": ["1", "2"], "estado": ["VIGENTE", "RARO"], "titular": ["Minera X", "Y"]},
        geometry=[
            shapely.box(500_000, 9_000_000, 501_000, 9_001_000),
            shapely.box(502_000, 9_000_000, 503_000, 9_001_000),
        ],
        crs=32718,
    )
    path = tmp_path / "c.gpkg"
    pyogrio.write_dataframe(frame, path)
    layer = read_layer(path, "concessions")
    assert list(layer.frame["status"]) == ["active", "RARO"]
    assert list(layer.frame["holder"]) == ["Minera X", "Y"]
    assert layer.ledger.notes["fields"]["unknown_values"] == {"status": ["RARO"]}


def test_missing_ids_null_island_and_duplicate_geometries(tmp_path):
    frame = gpd.GeoDataFrame(
        {"incident_id": ["i1", None, "i3", "i4"], "date": ["2017-09-01"] * 4},
        geometry=[shapely.Point(-74.6, -8.4), shapely.Point(-74.7, -8.5),
                  shapely.Point(0, 0), shapely.Point(-74.6, -8.4)],
        crs=4326,
    )
    path = tmp_path / "i.gpkg"
    pyogrio.write_dataframe(frame, path)
    layer = read_layer(path, "incidents")
    report = layer.ledger.to_dict()
    assert (report["valid"], report["repaired"], report["rejected"]) == (2, 1, 1)
    assert list(layer.frame["incident_id"]) == ["i1", "incidents-row-2", "i4"]
    problems = {(p["feature"], p["problem"]) for p in report["problems"]}
    assert ("incidents-row-2", "missing incident_id") in problems
    assert ("i3", "at 0°, 0° (missing coordinates written as zeros)") in problems
    assert ("i4", "same geometry as i1") in problems  # noted, kept


def test_swapped_lat_lon_rows_in_a_table_are_swapped_back(tmp_path):
    path = tmp_path / "monitoreo.csv"
    pd.DataFrame({
        "codigo": ["m1", "m2", "m3", "m4", "m5", "m6"],
        "fecha": ["2018-03-23"] * 6,
        "lat": [-2.80, -2.85, -76.10, -2.90, -2.75, -95.0],
        "lon": [-76.05, -76.20, -2.82, -76.15, -76.00, -3.0],
    }).to_csv(path, index=False)
    layer = read_layer(path, "incidents")
    xy = shapely.get_coordinates(layer.frame.geometry.to_numpy())
    assert (xy[:, 0] < -70).all()
    assert (xy[:, 1] > -4).all()
    swapped = [p["feature"] for p in layer.ledger.to_dict()["problems"]
               if p["problem"] == "lat and lon swapped"]
    assert swapped == ["m3", "m6"]  # m3 by the cluster rule, m6 (latitude -95) as impossible


def test_degrees_labelled_as_metres_are_refused(tmp_path, case):
    path = tmp_path / "wrong.gpkg"
    frame = case["territories"].to_crs(4326).set_crs(32718, allow_override=True)
    pyogrio.write_dataframe(frame, path)
    with pytest.raises(CRSError, match=r"look like degrees.*--assume-crs EPSG:4326"):
        read_layer(path, "territories")
    assert len(read_layer(path, "territories", assume_crs="EPSG:4326").frame) == 4


@pytest.mark.parametrize(("encoding", "keep_cpg"), [("UTF-8", False), ("ISO-8859-1", False),
                                                    ("ISO-8859-1", True), ("UTF-8", True)])
def test_shapefile_text_encodings(tmp_path, encoding, keep_cpg):
    name = "Comunidad Nativa Ñuñu (Asháninka)"
    frame = gpd.GeoDataFrame({"codigo": ["c1"], "nombre": [name]},
                             geometry=[shapely.box(-74.7, -8.4, -74.6, -8.3)], crs=4326)
    path = tmp_path / "comunidades.shp"
    pyogrio.write_dataframe(frame, path, encoding=encoding)
    if not keep_cpg:
        path.with_suffix(".cpg").unlink()
    layer = read_layer(path, "territories")
    assert layer.frame["name"].iloc[0] == name


def test_incident_dates_parsed_with_precision_and_problems_listed(tmp_path):
    path = tmp_path / "incidentes.csv"
    pd.DataFrame({
        "codigo": ["a", "b", "c", "d"],
        "fecha": ["2017-09", "16-19/06/2016", "31/02/2016", None],
        "lat": [-8.4] * 4, "lon": [-74.6, -74.61, -74.62, -74.63],
    }).to_csv(path, index=False)
    layer = read_layer(path, "incidents")
    frame = layer.frame.set_index("incident_id")
    assert frame.loc["a", ["date", "date_end", "date_precision"]].tolist() == [
        "2017-09-01", "2017-09-30", "month"]
    assert frame.loc["b", "date_precision"] == "range"
    assert pd.isna(frame.loc["c", "date"])
    assert frame.loc["c", "date_raw"] == "31/02/2016"
    problems = {p.feature: p.problem for p in layer.ledger.problems}
    assert problems["c"].startswith("date: unparsed")
    assert problems["d"] == "no date"
    assert layer.ledger.count("valid") == 4  # undated incidents are kept, and listed


def test_field_documentation_is_in_sync():
    from pathlib import Path

    from geotools.schema import describe_field_mapping

    doc = Path(__file__).resolve().parents[1] / "docs" / "fields.md"
    assert doc.read_text(encoding="utf-8") == describe_field_mapping(), (
        "run python scripts/write_field_docs.py")


def test_user_mapping_wins_over_an_existing_canonical_column(tmp_path):
    frame = gpd.GeoDataFrame({"territory_id": ["A"], "name": ["old label"],
                              "NOMBRE_CN": ["Santa Clara de Uchunya"]},
                             geometry=[shapely.box(-74.7, -8.4, -74.6, -8.3)], crs=4326)
    path = tmp_path / "t.gpkg"
    pyogrio.write_dataframe(frame, path)
    layer = read_layer(path, "territories", mapping={"name": "NOMBRE_CN"})
    assert layer.frame["name"].tolist() == ["Santa Clara de Uchunya"]
    assert layer.frame["name_original"].tolist() == ["old label"]
    assert list(layer.frame.columns).count("name") == 1


def test_z_and_m_coordinates_are_dropped_to_2d():
    from geotools.validation import Ledger, validate_layer

    x, y = 500_000, 9_000_000
    square = [(x, y), (x + 100, y), (x + 100, y + 100), (x, y + 100)]
    z = shapely.Polygon([(x, y, 150.0) for x, y in square])
    m = shapely.from_wkt("POLYGON M ((500000 9000000 1, 500100 9000000 2, 500100 9000100 3, "
                         "500000 9000100 4, 500000 9000000 1))")
    frame = gpd.GeoDataFrame({"parcel_id": ["z", "m", "plain"], "tenure": ["titled"] * 3},
                             geometry=[z, m, shapely.Polygon(square)], crs=32718)
    ledger = Ledger("parcels", "memory", 3)
    out = validate_layer(frame, "parcels", ledger)
    assert not shapely.has_z(out.geometry.to_numpy()).any()
    assert not shapely.has_m(out.geometry.to_numpy()).any()
    assert (ledger.count("valid"), ledger.count("repaired")) == (1, 2)
