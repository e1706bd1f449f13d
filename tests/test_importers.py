"""Source importers: hand-written samples of each export format, and the real Peruvian tables."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely import Polygon

from geotools.errors import SourceError
from geotools.io.importers import IMPORT_ATTR, IMPORTERS, import_file
from geotools.schema import LAYERS, normalise_schema

PERU_BBOX = (-81.4, -18.4, -68.6, 0.1)
DEFENSORIA = "defensoria-conflictos-mineros/conflictos_mineros_defensoria_2024-03"
MONITORING = "observatorio-ambiental-peruano/monitoreo-indigena_sample"


def write_csv(path: Path, rows: list[dict], delimiter: str = ",") -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def assert_canonical(frame: gpd.GeoDataFrame, layer: str, source: str) -> None:
    """Canonical columns first and complete; a second schema pass has nothing left to rename."""
    spec = LAYERS[layer]
    names = [*spec.required, *spec.optional]
    assert list(frame.columns[: len(names)]) == names
    assert frame.geometry.name == "geometry" and frame.columns[-1] == "geometry"
    info = frame.attrs[IMPORT_ATTR]
    assert info["source"] == source and info["licence"] == IMPORTERS[source].licence_note
    assert all(isinstance(note, str) and note for note in info["notes"])
    _, mapping = normalise_schema(frame, layer)
    assert mapping.renamed == {}
    assert not any(c.lower() in {"lat", "lon", "latitude", "longitude"} for c in frame.columns)


def values(series: pd.Series) -> list:
    """The values of a column, missing ones (None or NaN, whatever the dtype) as None."""
    return [None if pd.isna(v) else v for v in series]


def xy(frame: gpd.GeoDataFrame) -> list[tuple[float, float] | None]:
    return [None if g is None else (round(g.x, 5), round(g.y, 5)) for g in frame.geometry]


# --------------------------------------------------------------------------- registry


def test_registry_and_errors(tmp_path):
    assert set(IMPORTERS) == {
        "csv",
        "mapeo",
        "kobo",
        "acled",
        "defensoria",
        "monitoring",
        "landmark",
    }
    for name, importer in IMPORTERS.items():
        assert importer.name == name and importer.layer in ("incidents", "territories")
        assert importer.description and "\n" not in importer.description
        assert callable(importer.read)
    assert IMPORTERS["landmark"].layer == "territories"
    assert "ACLED" in IMPORTERS["acled"].licence_note
    with pytest.raises(SourceError, match="unknown importer 'oefa'"):
        import_file("oefa", tmp_path / "x.csv")
    with pytest.raises(SourceError, match=r"nothing\.csv: file not found"):
        import_file("acled", tmp_path / "nothing.csv")


# --------------------------------------------------------------------------- csv


def test_csv_generic_points(tmp_path):
    path = write_csv(
        tmp_path / "incidentes.csv",
        [
            {
                "codigo": "INC-01",
                "fecha": "12/03/2021",
                "tipo": "Amenaza",
                "descripcion": "Amenazas a dirigentes",
                "lat": "-8.39",
                "lon": "-74.61",
            },
            {
                "codigo": "INC-02",
                "fecha": "2021-04-02",
                "tipo": "Incendio",
                "descripcion": "Vivienda quemada",
                "lat": "",
                "lon": "",
            },
        ],
    )
    layer, frame = import_file("csv", path)
    assert layer == "incidents"
    assert_canonical(frame, "incidents", "csv")
    assert list(frame["incident_id"]) == ["INC-01", "INC-02"]
    assert list(frame["date"]) == ["12/03/2021", "2021-04-02"]  # raw text
    assert list(frame["kind"]) == ["threat", "arson"]
    assert list(frame["tipo"]) == ["Amenaza", "Incendio"]  # recoded: source kept
    assert xy(frame) == [(-74.61, -8.39), None]  # not dropped
    no_date = write_csv(tmp_path / "sin_fecha.csv", [{"tipo": "amenaza", "lat": "-8", "lon": "-7"}])
    with pytest.raises(SourceError, match=r"sin_fecha\.csv: no date column"):
        import_file("csv", no_date)


# --------------------------------------------------------------------------- acled

#: Column order of an ACLED export.
ACLED_COLUMNS = [
    *("event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type"),
    *("sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2"),
    *("interaction", "civilian_targeting", "iso", "region", "country", "admin1", "admin2"),
    *("admin3", "location", "latitude", "longitude", "geo_precision", "source", "source_scale"),
    *("notes", "fatalities", "tags", "timestamp"),
]

ACLED_ROWS = [
    # id, date, disorder, type, sub-type, actor1, actor2, admin1-3, location, lat, lon, geo,
    # source, notes, fatalities
    (
        "PER4101",
        "2023-01-09",
        "Political violence; Demonstrations",
        "Protests",
        "Excessive force against protesters",
        "Protesters (Peru)",
        "Police Forces of Peru (2022-)",
        "Puno",
        "San Roman",
        "Juliaca",
        "Juliaca",
        "-15.4997",
        "-70.1333",
        "1",
        "La Republica; Correo",
        "On 9 January 2023, police fired on protesters near the airport of Juliaca.",
        "17",
    ),
    (
        "PER4102",
        "2023-02-14",
        "Political violence",
        "Violence against civilians",
        "Attack",
        "Unidentified Armed Group (Peru)",
        "Civilians (Peru)",
        "Ucayali",
        "Coronel Portillo",
        "Nueva Requena",
        "Nueva Requena",
        "-8.3064",
        "-74.8561",
        "2",
        "Servindi",
        "Armed men threatened and beat two members of a Shipibo-Konibo community.",
        "0",
    ),
    (
        "PER4103",
        "2022-12-12",
        "Demonstrations",
        "Riots",
        "Violent demonstration",
        "Rioters (Peru)",
        "Police Forces of Peru (2022-)",
        "Apurimac",
        "Andahuaylas",
        "Andahuaylas",
        "Andahuaylas",
        "-13.6556",
        "-73.3872",
        "1",
        "El Comercio",
        "Rioters clashed with police in Andahuaylas; two people died.",
        "2",
    ),
    (
        "PER4104",
        "2023-03-05",
        "Strategic developments",
        "Strategic developments",
        "Looting/property destruction",
        "Unidentified Armed Group (Peru)",
        "Civilians (Peru)",
        "Madre de Dios",
        "Tambopata",
        "Inambari",
        "Madre de Dios",
        "-12.5933",
        "-69.1891",
        "3",
        "Inforegion",
        "Illegal miners destroyed a community guard post.",
        "0",
    ),
    (
        "PER4105",
        "2023-06-20",
        "Political violence",
        "Violence against civilians",
        "Attack",
        "Unidentified Armed Group (Peru)",
        "Civilians (Peru)",
        "Huanuco",
        "Puerto Inca",
        "Codo del Pozuzo",
        "Codo del Pozuzo",
        "-9.6705",
        "-75.4655",
        "2",
        "Mongabay Latam",
        "An indigenous forest guard was shot dead by suspected land traffickers.",
        "1",
    ),
]


def acled_file(path: Path, rows=ACLED_ROWS) -> Path:
    records = []
    for (
        eid,
        date,
        disorder,
        etype,
        sub,
        a1,
        a2,
        ad1,
        ad2,
        ad3,
        loc,
        lat,
        lon,
        geo,
        src,
        notes,
        deaths,
    ) in rows:
        record = dict.fromkeys(ACLED_COLUMNS, "")
        record.update(
            event_id_cnty=eid,
            event_date=date,
            year=date[:4],
            time_precision="1",
            disorder_type=disorder,
            event_type=etype,
            sub_event_type=sub,
            actor1=a1,
            actor2=a2,
            iso="604",
            region="South America",
            country="Peru",
            admin1=ad1,
            admin2=ad2,
            admin3=ad3,
            location=loc,
            latitude=lat,
            longitude=lon,
            geo_precision=geo,
            source=src,
            source_scale="National",
            notes=notes,
            fatalities=deaths,
            timestamp="1690000000",
        )
        records.append(record)
    return write_csv(path, records)


def test_acled_sample(tmp_path):
    layer, frame = import_file("acled", acled_file(tmp_path / "acled_peru.csv"))
    assert layer == "incidents"
    assert_canonical(frame, "incidents", "acled")
    assert list(frame["incident_id"]) == [r[0] for r in ACLED_ROWS]
    assert list(frame["date"]) == [
        "2023-01-09",
        "2023-02-14",
        "2022-12-12",
        "2023-03-05",
        "2023-06-20",
    ]
    # excessive force -> protest casualty; attack without deaths -> attack; riot with deaths ->
    # protest casualty; looting -> other; attack on civilians with a death -> killing
    assert list(frame["kind"]) == [
        "protest_casualty",
        "attack",
        "protest_casualty",
        "other",
        "killing",
    ]
    # geo_precision 1 -> locality (a town centroid, not GPS), 2 -> district, 3 -> district
    assert list(frame["precision"]) == ["locality", "district", "locality", "district", "district"]
    assert list(frame["victims"]) == [
        "17 fatalities",
        "0 fatalities",
        "2 fatalities",
        "0 fatalities",
        "1 fatality",
    ]
    assert set(frame["sensitivity"]) == {"public"}
    assert frame["source"].iloc[0] == "La Republica; Correo"
    assert frame["description"].iloc[1].startswith("Armed men threatened")
    assert list(frame["event_type"])[3] == "Strategic developments"  # recoded: source kept
    assert list(frame["fatalities"]) == ["17", "0", "2", "0", "1"]
    assert "notes" not in frame.columns and "event_id_cnty" not in frame.columns
    assert xy(frame)[0] == (-70.1333, -15.4997)
    assert frame.crs.to_epsg() == 4326
    assert "redistribut" in frame.attrs[IMPORT_ATTR]["licence"]
    # second pass through the schema: kinds and severities by kind
    out, mapping = normalise_schema(frame, "incidents")
    assert mapping.unknown_values == {}
    assert list(out["severity"]) == [5, 4, 5, 1, 5]


def test_acled_keeps_rows_without_coordinates_and_refuses_other_tables(tmp_path):
    row = list(ACLED_ROWS[1])
    row[11] = row[12] = ""
    _, frame = import_file("acled", acled_file(tmp_path / "a.csv", [ACLED_ROWS[0], tuple(row)]))
    assert len(frame) == 2 and frame.geometry.iloc[1] is None
    assert values(frame["precision"]) == ["locality", None]  # no location, no precision
    assert any("without usable coordinates" in n for n in frame.attrs[IMPORT_ATTR]["notes"])
    bad = write_csv(
        tmp_path / "not_acled.csv",
        [{"event_date": "2023-01-01", "latitude": "-9", "longitude": "-75"}],
    )
    with pytest.raises(SourceError, match=r"not_acled\.csv: not an ACLED export.*event_id_cnty"):
        import_file("acled", bad)


# --------------------------------------------------------------------------- kobo

KOBO_SPLIT = [
    {
        "start": "2023-05-14T09:02:11.000-05:00",
        "end": "2023-05-14T09:10:40.000-05:00",
        "fecha": "2023-05-14",
        "tipo": "amenaza",
        "descripcion": "Amenazas verbales a la junta directiva por parte de madereros",
        "victimas": "3",
        "ubicacion": "-8.3921 -74.6103 152.3 4.8",
        "_ubicacion_latitude": "-8.3921",
        "_ubicacion_longitude": "-74.6103",
        "_ubicacion_altitude": "152.3",
        "_ubicacion_precision": "4.8",
        "meta/instanceID": "uuid:5c1c6a4e-1b7d-4f7e-9a55-2f0c3e0d8a11",
        "_id": "181234501",
        "_uuid": "5c1c6a4e-1b7d-4f7e-9a55-2f0c3e0d8a11",
        "_submission_time": "2023-05-15T14:22:03",
        "_validation_status": "",
        "_notes": "[]",
        "_status": "submitted_via_web",
        "_submitted_by": "monitor_shipibo_01",
        "_tags": "[]",
        "_index": "1",
    },
    {
        "fecha": "",
        "tipo": "invasion",
        "descripcion": "Ingreso de traficantes de tierras al bosque comunal",
        "ubicacion": "-8.4177 -74.7012 160 120",
        "_ubicacion_latitude": "-8.4177",
        "_ubicacion_longitude": "-74.7012",
        "_ubicacion_altitude": "160",
        "_ubicacion_precision": "120",
        "meta/instanceID": "uuid:0f3b7c1e-8d3a-4e8e-b0e2-7a2c4d9e6b22",
        "_id": "181234502",
        "_uuid": "0f3b7c1e-8d3a-4e8e-b0e2-7a2c4d9e6b22",
        "_submission_time": "2023-06-02T08:01:47",
        "_submitted_by": "monitor_shipibo_02",
    },
    {
        "fecha": "2023-07-01",
        "tipo": "desalojo",
        "descripcion": "Sin señal GPS en la zona",
        "ubicacion": "",
        "_ubicacion_latitude": "",
        "_ubicacion_longitude": "",
        "_ubicacion_altitude": "",
        "_ubicacion_precision": "",
        "meta/instanceID": "uuid:9a8b7c6d-1111-4222-8333-944455566677",
        "_id": "181234503",
        "_uuid": "9a8b7c6d-1111-4222-8333-944455566677",
        "_submission_time": "2023-07-03T17:45:00",
        "_submitted_by": "monitor_shipibo_01",
    },
    {
        "fecha": "2023-07-09",
        "tipo": "ataque",
        "descripcion": "Punto marcado en el mapa (sin GPS)",
        "ubicacion": "-8.5012 -74.6550 0 0",
        "_ubicacion_latitude": "-8.5012",
        "_ubicacion_longitude": "-74.6550",
        "_ubicacion_altitude": "0",
        "_ubicacion_precision": "0",
        "meta/instanceID": "uuid:1b2c3d4e-5555-4666-8777-988899900011",
        "_id": "181234504",
        "_uuid": "1b2c3d4e-5555-4666-8777-988899900011",
        "_submission_time": "2023-07-10T10:00:00",
        "_submitted_by": "monitor_shipibo_03",
    },
]


def kobo_rows() -> list[dict]:
    columns = list(KOBO_SPLIT[0])
    return [{c: row.get(c, "") for c in columns} for row in KOBO_SPLIT]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_kobo_split_geopoint(tmp_path, suffix):
    path = tmp_path / f"incidentes_kobo{suffix}"
    if suffix == ".csv":
        write_csv(path, kobo_rows(), delimiter=";")  # Kobo's default CSV separator
    else:
        pytest.importorskip("openpyxl")
        pd.DataFrame(kobo_rows()).to_excel(path, index=False)
    layer, frame = import_file("kobo", path)
    assert layer == "incidents"
    assert_canonical(frame, "incidents", "kobo")
    assert list(frame["incident_id"]) == [r["_uuid"] for r in KOBO_SPLIT]
    # the fecha question wins; blank -> submission time
    assert list(frame["date"]) == ["2023-05-14", "2023-06-02T08:01:47", "2023-07-01", "2023-07-09"]
    assert list(frame["kind"]) == ["threat", "invasion", "eviction", "attack"]
    # 4.8 m -> exact; 120 m -> approximate; no point -> none; 0 m (placed by hand) -> approximate
    assert values(frame["precision"]) == ["exact", "approximate", None, "approximate"]
    assert xy(frame) == [(-74.6103, -8.3921), (-74.7012, -8.4177), None, (-74.655, -8.5012)]
    assert frame["victims"].iloc[0] == "3"
    assert frame["description"].iloc[1].startswith("Ingreso de traficantes")
    assert list(frame["gps_accuracy_m"].iloc[[0, 1]]) == [4.8, 120.0]
    # the submitting account is personal: reporter (dropped by public outputs)
    assert list(frame["reporter"]) == [r["_submitted_by"] for r in KOBO_SPLIT]
    assert "_submitted_by" not in frame.columns
    for gone in ("ubicacion", "_ubicacion_latitude", "_ubicacion_longitude", "_uuid", "fecha"):
        assert gone not in frame.columns
    assert "_id" in frame.columns and "_notes" in frame.columns and "tipo" in frame.columns
    assert frame.crs.to_epsg() == 4326


def test_kobo_single_column_geopoint(tmp_path):
    path = write_csv(
        tmp_path / "odk.csv",
        [
            {
                "today": "2024-02-10",
                "fecha_incidente": "10/02/2024",
                "grupo/afectados_tipo": "1 3",  # select_multiple: not a geopoint
                "grupo/ubicacion": "-8.39 -74.61 150 5",
                "grupo/tipo_incidente": "Derrame de petróleo",
                "grupo/detalle": "Mancha de crudo en la quebrada",
                "meta/instanceID": "uuid:aaaa-0001",
                "_submission_time": "2024-02-11T10:00:00",
            },
            {
                "today": "2024-02-12",
                "fecha_incidente": "12/02/2024",
                "grupo/afectados_tipo": "2 4",
                "grupo/ubicacion": "-8.41 -74.59 148 75",
                "grupo/tipo_incidente": "otro",
                "grupo/detalle": "Trocha nueva",
                "meta/instanceID": "uuid:aaaa-0002",
                "_submission_time": "2024-02-13T10:00:00",
            },
            {
                "today": "2024-02-14",
                "fecha_incidente": "",
                "grupo/afectados_tipo": "",
                "grupo/ubicacion": "",
                "grupo/tipo_incidente": "amenaza",
                "grupo/detalle": "",
                "meta/instanceID": "",
                "_submission_time": "2024-02-15T10:00:00",
            },
        ],
    )
    _, frame = import_file("kobo", path)
    assert_canonical(frame, "incidents", "kobo")
    assert list(frame["incident_id"]) == ["uuid:aaaa-0001", "uuid:aaaa-0002", "kobo-3"]
    assert list(frame["date"]) == ["10/02/2024", "12/02/2024", "2024-02-15T10:00:00"]
    assert list(frame["kind"]) == ["spill", "other", "threat"]
    assert values(frame["precision"]) == ["exact", "approximate", None]
    assert xy(frame) == [(-74.61, -8.39), (-74.59, -8.41), None]
    assert list(frame["gps_altitude_m"].iloc[:2]) == [150.0, 148.0]
    assert "grupo/ubicacion" not in frame.columns
    assert frame["grupo/afectados_tipo"].iloc[0] == "1 3"
    no_point = write_csv(tmp_path / "sin_gps.csv", [{"fecha": "2024-01-01", "_uuid": "x"}])
    with pytest.raises(SourceError, match=r"sin_gps\.csv: no geopoint found"):
        import_file("kobo", no_point)


# --------------------------------------------------------------------------- mapeo

MAPEO = {
    "type": "FeatureCollection",
    "features": [
        {  # Mapeo Desktop: nested tags, GPS metadata
            "type": "Feature",
            "id": "7f3c2a91b04d6e58",
            "geometry": {"type": "Point", "coordinates": [-74.6412, -8.5231]},
            "properties": {
                "id": "7f3c2a91b04d6e58",
                "version": "7f3c2a91b04d6e58@3",
                "created_at": "2023-08-02T14:21:09.123Z",
                "type": "observation",
                "tags": {
                    "categoryId": "amenaza",
                    "notes": "Hombres armados rodearon la casa comunal",
                    "type": "threat",
                },
                "attachments": [{"id": "a1b2c3d4e5f6.jpg", "type": "image/jpeg"}],
                "metadata": {
                    "location": {
                        "position": {
                            "timestamp": 1690986069000,
                            "coords": {"latitude": -8.5231, "longitude": -74.6412, "accuracy": 6.2},
                        }
                    },
                    "manualLocation": False,
                },
            },
        },
        {  # CoMapeo: docId/createdAt, date tag entered by the observer, public by the community
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-74.7003, -8.4478]},
            "properties": {
                "docId": "c0ffee12ab34cd56",
                "createdAt": "2023-09-01T11:00:00.000Z",
                "tags": {
                    "categoryId": "oil-spill",
                    "notes": "Derrame en la quebrada, peces muertos",
                    "fecha": "28/08/2023",
                    "sensibilidad": "Público",
                },
                "attachments": [],
            },
        },
        {  # flattened tags, coarse fix
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-74.5802, -8.6014]},
            "properties": {
                "id": "99aa88bb77cc66dd",
                "created_at": "2023-09-15T16:40:00.000Z",
                "tags_type": "deforestacion",
                "tags_notes": "Tala rasa para palma aceitera",
                "tags.rio": "Aguaytía",
                "metadata.location.position.coords.accuracy": 80,
            },
        },
        {  # no location
            "type": "Feature",
            "geometry": None,
            "properties": {
                "id": "0011223344556677",
                "created_at": "2023-10-01T08:00:00.000Z",
                "tags": {"categoryId": "desalojo", "notes": "Desalojo de familias"},
            },
        },
    ],
}


def test_mapeo_export(tmp_path):
    path = tmp_path / "observaciones.geojson"
    path.write_text(json.dumps(MAPEO, ensure_ascii=False), encoding="utf-8")
    layer, frame = import_file("mapeo", path)
    assert layer == "incidents"
    assert_canonical(frame, "incidents", "mapeo")
    assert list(frame["incident_id"]) == [
        "7f3c2a91b04d6e58",
        "c0ffee12ab34cd56",
        "99aa88bb77cc66dd",
        "0011223344556677",
    ]
    # a date tag (entered by the observer) wins over the creation time
    assert list(frame["date"]) == [
        "2023-08-02T14:21:09.123Z",
        "28/08/2023",
        "2023-09-15T16:40:00.000Z",
        "2023-10-01T08:00:00.000Z",
    ]
    assert list(frame["kind"]) == ["threat", "spill", "deforestation", "eviction"]
    assert frame["description"].iloc[2] == "Tala rasa para palma aceitera"
    assert xy(frame) == [(-74.6412, -8.5231), (-74.7003, -8.4478), (-74.5802, -8.6014), None]
    assert values(frame["precision"]) == ["exact", None, "approximate", None]
    # community-held: empty unless a tag says otherwise, so the schema default applies
    assert values(frame["sensitivity"]) == [None, "public", None, None]
    out, _ = normalise_schema(frame, "incidents")
    assert list(out["sensitivity"]) == ["restricted", "public", "restricted", "restricted"]
    assert list(frame["tag_categoryId"])[:2] == ["amenaza", "oil-spill"]
    assert frame["tag_rio"].iloc[2] == "Aguaytía"
    assert json.loads(frame["attachments"].iloc[0]) == [
        {"id": "a1b2c3d4e5f6.jpg", "type": "image/jpeg"}
    ]
    assert not [c for c in frame.columns if c.startswith("metadata")]  # exact GPS fix dropped
    assert frame.crs.to_epsg() == 4326
    bad = tmp_path / "no_features.geojson"
    bad.write_text('{"type": "Feature", "geometry": null}', encoding="utf-8")
    with pytest.raises(SourceError, match=r"no_features\.geojson: not a Mapeo GeoJSON export"):
        import_file("mapeo", bad)


# --------------------------------------------------------------------------- landmark


def test_landmark_territories(tmp_path):
    def square(x: float, y: float, d: float = 0.02) -> Polygon:
        return shapely.box(x, y, x + d, y + d)

    sample = gpd.GeoDataFrame(
        {
            "OBJECTID": [101, 102, 103],
            "Name": ["Santa Clara de Uchunya", "Comunidad Nativa Ejemplo Uno", "Ejemplo Dos"],
            "Ethncty_1": ["Shipibo-Conibo", "Shipibo-Conibo", "Cacataibo"],
            "Ethncty_2": [None, "Asháninka", None],
            "Identity": ["Indigenous", "Indigenous", "Indigenous"],
            "Category": ["Comunidad Nativa", "Comunidad Nativa", "Comunidad Nativa"],
            "Form_Rec": [
                "Acknowledged by govt",
                "Acknowledged by govt",
                "Not acknowledged by govt",
            ],
            "Doc_Status": [
                "Documented",
                "Documented",
                "Held or used with formal land claim submitted",
            ],
            "Area_Ofcl": [200.0, 1543.25, None],
            "Area_GIS": [8600.0, 1570.1, 912.4],
            "Country": ["Peru", "Peru", "Peru"],
            "Source": ["IBC - SICNA", "IBC - SICNA", "AIDESEP"],
            "Date_Data": ["2016-05-31", "2016-05-31", "2019"],
        },
        geometry=[square(-74.72, -8.52), square(-74.66, -8.47), square(-74.60, -8.41)],
        crs=4326,
    )
    path = tmp_path / "landmark_ucayali.geojson"
    sample.to_file(path, driver="GeoJSON")
    layer, frame = import_file("landmark", path)
    assert layer == "territories"
    assert_canonical(frame, "territories", "landmark")
    assert list(frame["territory_id"]) == ["101", "102", "103"]
    assert list(frame["name"]) == list(sample["Name"])
    assert list(frame["people"]) == ["Shipibo-Conibo", "Shipibo-Conibo", "Cacataibo"]
    assert set(frame["community"]) == {"Comunidad Nativa"}
    assert list(frame["claim_source"]) == ["IBC - SICNA", "IBC - SICNA", "AIDESEP"]
    assert list(frame["claim_date"]) == ["2016-05-31", "2016-05-31", "2019"]
    assert list(frame["form_rec"])[2] == "Not acknowledged by govt"
    assert list(frame["doc_status"])[2] == "Held or used with formal land claim submitted"
    assert frame["area_official_ha"].iloc[:2].tolist() == [200.0, 1543.25]
    assert pd.isna(frame["area_official_ha"].iloc[2])
    assert frame["Ethncty_2"].iloc[1] == "Asháninka" and "Area_GIS" in frame.columns
    for gone in ("Name", "Ethncty_1", "Category", "Source", "Date_Data", "OBJECTID", "Area_Ofcl"):
        assert gone not in frame.columns
    assert set(frame.geom_type) == {"Polygon"} and frame.crs.to_epsg() == 4326
    other = tmp_path / "parcelas.geojson"
    sample[["OBJECTID", "geometry"]].to_file(other, driver="GeoJSON")
    with pytest.raises(SourceError, match=r"parcelas\.geojson: not a LandMark layer"):
        import_file("landmark", other)


# --------------------------------------------------------------------------- real data


@pytest.mark.realdata
@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".geojson"])
def test_defensoria_real_table(realdata, suffix):
    if suffix == ".xlsx":
        pytest.importorskip("openpyxl")
    layer, frame = import_file("defensoria", realdata / f"{DEFENSORIA}{suffix}")
    assert layer == "incidents"
    assert_canonical(frame, "incidents", "defensoria")
    assert len(frame) == 81 and frame["incident_id"].is_unique
    assert frame["incident_id"].iloc[0] == "DP-2024-03-001"
    assert frame["incident_id"].iloc[-1] == "DP-2024-03-081"
    assert frame["name"].iloc[0] == "Río Blanco (ex Majaz)" == frame["description"].iloc[0]
    assert set(frame["date"]) == {"2024-03"}
    assert set(frame["kind"]) == {"other"}
    assert set(frame["precision"]) == {"district"} and set(frame["sensitivity"]) == {"public"}
    assert set(frame["source"]) == {
        "Defensoría del Pueblo, Reporte de Conflictos Sociales, marzo 2024 "
        "(via warthon-190399/conflictos_minas)"
    }
    violent = frame["vio_if"] == "Sí"
    assert violent.sum() == 58
    assert (frame.loc[violent, "severity"] == 3).all()
    assert frame.loc[~violent, "severity"].isna().all()
    assert frame.geometry.notna().all()
    minx, miny, maxx, maxy = frame.total_bounds
    assert PERU_BBOX[0] <= minx and maxx <= PERU_BBOX[2]
    assert PERU_BBOX[1] <= miny and maxy <= PERU_BBOX[3]
    assert frame.crs.to_epsg() == 4326


@pytest.mark.realdata
def test_defensoria_month_from_the_file_name_and_refusal_without_caso(realdata, tmp_path):
    table = pd.read_csv(realdata / f"{DEFENSORIA}.csv", dtype=str)
    table.to_csv(tmp_path / "conflictos_2023-11.csv", index=False)
    _, frame = import_file("defensoria", tmp_path / "conflictos_2023-11.csv")
    assert frame["incident_id"].iloc[0] == "DP-2023-11-001" and set(frame["date"]) == {"2023-11"}
    assert "noviembre 2023" in frame["source"].iloc[0]
    table.to_csv(tmp_path / "conflictos.csv", index=False)  # the repository's own name
    _, frame = import_file("defensoria", tmp_path / "conflictos.csv")
    assert frame["incident_id"].iloc[0] == "DP-2024-03-001"
    assert any("2024-03 assumed" in n for n in frame.attrs[IMPORT_ATTR]["notes"])
    path = tmp_path / "sin_caso.csv"
    table.drop(columns="caso").to_csv(path, index=False)
    with pytest.raises(SourceError, match=r"sin_caso\.csv: not the Defensoría .* caso"):
        import_file("defensoria", path)


@pytest.mark.realdata
@pytest.mark.parametrize("suffix", [".csv", ".geojson"])
def test_monitoring_real_sample(realdata, suffix):
    raw = pd.read_csv(realdata / f"{MONITORING}.csv", dtype=str)
    layer, frame = import_file("monitoring", realdata / f"{MONITORING}{suffix}")
    assert layer == "incidents"
    assert_canonical(frame, "incidents", "monitoring")
    assert len(frame) == 95
    assert list(frame["incident_id"]) == list(raw["codigo"]) and frame["incident_id"].is_unique
    assert list(frame["date"]) == list(raw["detecto"])  # raw text, mixed formats
    assert "19/05/2016" in set(frame["date"])
    # the data-entry person is not a reporter of the incident: renamed, never canonical
    assert "responsable" not in frame.columns
    assert values(frame["reporter"]) == values(raw["responsable"])
    people = set(raw["responsable"].dropna())
    canonical = LAYERS["incidents"].required + LAYERS["incidents"].optional
    for column in canonical:
        assert not set(frame[column].dropna().astype(str)) & people, column
    kinds = dict(zip(raw["tipo_impacto"], frame["kind"], strict=True))
    assert kinds["Derrame antiguo de petróleo"] == "spill"
    assert kinds["agua producida"] == kinds["aguas de producción"] == "spill"
    assert kinds["Botadero"] == "other" and kinds["Árboles talados"] == "deforestation"
    assert frame["kind"].value_counts().to_dict() == {"spill": 73, "other": 21, "deforestation": 1}
    assert set(frame["sensitivity"]) == {"restricted"} and set(frame["precision"]) == {"exact"}
    assert frame["source"].iloc[0].startswith("FEDIQUEP: monitoreo ambiental indígena")
    assert frame.geometry.notna().all()
    out, mapping = normalise_schema(frame, "incidents")
    assert mapping.unknown_values == {}
    assert out["severity"].value_counts().to_dict() == {3: 73, 1: 21, 2: 1}
