"""Importers on files with missing, empty or oddly typed columns: one-line errors, no crash.

``import acled`` on a file without ``event_type`` used to end on an ArrowTypeError (an
all-missing Arrow string column, mapped, becomes an Arrow ``null`` column on which ``isin``
fails). Every importer now names the missing columns and the columns it found, and reads
numbers where text is expected, all-null columns and Arrow strings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from geotools.errors import SourceError
from geotools.io.importers import import_file
from geotools.io.importers._common import normalised_text


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    lines = [",".join(header), *(",".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_geojson(path: Path, rows: list[dict], xy: tuple[float, float] = (-74.6, -8.4)) -> Path:
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(xy)}, "properties": p}
        for p in rows
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


def one_line(info: pytest.ExceptionInfo[SourceError]) -> str:
    message = str(info.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------------------------ acled

ACLED = ["event_id_cnty", "event_date", "event_type", "sub_event_type", "latitude", "longitude"]
ACLED_ROW = ["PER1", "2023-01-09", "Protests", "Peaceful protest", "-15.84", "-70.02"]


def test_acled_without_event_type_names_it_and_the_columns_found(tmp_path):
    keep = [i for i, c in enumerate(ACLED) if c != "event_type"]
    path = write_csv(tmp_path / "a.csv", [ACLED[i] for i in keep], [[ACLED_ROW[i] for i in keep]])
    with pytest.raises(SourceError) as info:
        import_file("acled", path)
    message = one_line(info)
    assert "not an ACLED export: missing column(s) event_type " in message
    assert "columns are event_id_cnty, event_date, sub_event_type, latitude, longitude" in message


def test_acled_names_every_missing_column_at_once(tmp_path):
    path = write_csv(tmp_path / "a.csv", ["event_id_cnty", "notes"], [["PER1", "x"]])
    expected = "missing column(s) event_date, event_type, latitude, longitude (columns are "
    with pytest.raises(SourceError, match=re.escape(expected + "event_id_cnty, notes)")) as info:
        import_file("acled", path)
    one_line(info)


def test_acled_empty_types_and_numbers_as_types(tmp_path):
    rows = [
        ["PER1", "2023-01-09", "", "", "-15.84", "-70.02"],  # no type at all
        ["PER2", "2023-01-10", "7", "", "-15.84", "-70.02"],  # a number as type
        ["PER3", "2023-01-11", "Riots", "", "-15.84", "-70.02"],
    ]
    _, frame = import_file("acled", write_csv(tmp_path / "a.csv", ACLED, rows))
    assert list(frame["incident_id"]) == ["PER1", "PER2", "PER3"]
    kinds = list(frame["kind"])
    assert pd.isna(kinds[0])
    assert kinds[1:] == ["7", "other"]  # unknown kept as given; riots -> other


def test_acled_all_sub_event_types_empty(tmp_path):
    rows = [["PER1", "2023-01-09", "Protests", "", "-15.84", "-70.02"]]
    _, frame = import_file("acled", write_csv(tmp_path / "a.csv", ACLED, rows))
    assert list(frame["kind"]) == ["other"]


# -------------------------------------------------------------------------------- defensoria


def test_defensoria_names_caso_and_coordinates_missing(tmp_path):
    path = write_csv(tmp_path / "conflictos_2024-03.csv", ["region", "vio_if"], [["Puno", "Sí"]])
    with pytest.raises(SourceError) as info:
        import_file("defensoria", path)
    message = one_line(info)
    assert "missing column(s) caso, longitude, latitude (columns are region, vio_if)" in message


@pytest.mark.parametrize("violence", [None, 1, "Sí"])
def test_defensoria_vio_if_empty_numeric_or_text(tmp_path, violence):
    path = write_geojson(
        tmp_path / "conflictos_2024-03.geojson", [{"caso": "Caso A", "vio_if": violence}]
    )
    _, frame = import_file("defensoria", path)
    assert list(frame["name"]) == ["Caso A"]
    expected = 3 if violence == "Sí" else None  # only 'Sí' says violence was reported
    got = frame["severity"].iloc[0]
    assert (pd.isna(got) and expected is None) or got >= expected


# -------------------------------------------------------------------------------- monitoring


def test_monitoring_names_every_missing_column(tmp_path):
    path = write_csv(tmp_path / "m.csv", ["codigo", "nota"], [["M1", "x"]])
    with pytest.raises(SourceError) as info:
        import_file("monitoring", path)
    message = one_line(info)
    assert "missing column(s) detecto, tipo_impacto, longitude, latitude" in message
    assert "(columns are codigo, nota)" in message


@pytest.mark.parametrize("federation", [None, 12, "FEDIQUEP"])
def test_monitoring_numbers_and_empty_columns_from_geojson(tmp_path, federation):
    rows = [
        {"codigo": 101, "detecto": "2018-03-23", "tipo_impacto": 5, "federacion": federation},
        {"codigo": 102, "detecto": None, "tipo_impacto": None, "federacion": federation},
    ]
    _, frame = import_file("monitoring", write_geojson(tmp_path / "m.geojson", rows))
    assert len(frame) == 2
    assert [str(v) for v in frame["incident_id"]] == ["101", "102"]
    if federation is not None:
        assert str(federation) in frame["source"].iloc[0]


# ------------------------------------------------------------------------------------- kobo


def test_kobo_without_geopoint_or_date_names_the_columns(tmp_path):
    path = write_csv(tmp_path / "k.csv", ["_id", "tipo"], [["1", "amenaza"]])
    with pytest.raises(SourceError) as info:
        import_file("kobo", path)
    assert "no geopoint found" in one_line(info)
    assert "columns are _id, tipo" in str(info.value)
    path = write_csv(
        tmp_path / "k2.csv", ["_id", "_gps_latitude", "_gps_longitude"], [["1", "-8.4", "-74.6"]]
    )
    with pytest.raises(SourceError) as info:
        import_file("kobo", path)
    assert "no date" in one_line(info)
    assert "columns are _id, _gps_latitude, _gps_longitude" in str(info.value)


def test_kobo_empty_columns(tmp_path):
    header = ["_id", "fecha", "tipo", "_gps_latitude", "_gps_longitude", "_submission_time"]
    rows = [["1", "", "", "-8.4", "-74.6", "2023-01-02T10:00:00"], ["2", "", "", "", "", ""]]
    _, frame = import_file("kobo", write_csv(tmp_path / "k.csv", header, rows))
    assert len(frame) == 2


# ------------------------------------------------------------------------------------ mapeo


@pytest.mark.parametrize("value", [None, 3, "deforestacion"])
def test_mapeo_numbers_and_nulls_in_tags(tmp_path, value):
    rows = [
        {
            "id": "a1",
            "created_at": "2023-09-15T16:40:00.000Z",
            "tags_type": value,
            "tags_notes": value,
        },
    ]
    _, frame = import_file("mapeo", write_geojson(tmp_path / "o.geojson", rows))
    assert len(frame) == 1


def test_mapeo_not_a_feature_collection(tmp_path):
    path = tmp_path / "o.geojson"
    path.write_text(json.dumps({"type": "Feature"}), "utf-8")
    with pytest.raises(SourceError, match="not a Mapeo GeoJSON export") as info:
        import_file("mapeo", path)
    one_line(info)


# --------------------------------------------------------------------------------- landmark

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-74.7, -8.5], [-74.6, -8.5], [-74.6, -8.4], [-74.7, -8.5]]],
}


def landmark(path: Path, props: list[dict]) -> Path:
    features = [{"type": "Feature", "geometry": SQUARE, "properties": p} for p in props]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


def test_landmark_without_name_names_the_columns(tmp_path):
    path = landmark(tmp_path / "l.geojson", [{"OBJECTID": 1, "Category": "x"}])
    with pytest.raises(SourceError) as info:
        import_file("landmark", path)
    message = one_line(info)
    assert "missing column(s) Name (columns are OBJECTID, Category)" in message


def test_landmark_numbers_and_empty_columns(tmp_path):
    props = [
        {
            "OBJECTID": 1,
            "Name": 42,
            "Category": None,
            "Ethncty_1": None,
            "Date_Data": 2019,
            "Area_Ofcl": "n/a",
        },
        {
            "OBJECTID": 2,
            "Name": "Ejemplo",
            "Category": None,
            "Ethncty_1": None,
            "Date_Data": None,
            "Area_Ofcl": None,
        },
    ]
    _, frame = import_file("landmark", landmark(tmp_path / "l.geojson", props))
    assert [str(v) for v in frame["name"]] == ["42", "Ejemplo"]


# ---------------------------------------------------------------------------------- generic


def test_generic_without_date_names_the_columns(tmp_path):
    path = write_csv(tmp_path / "g.csv", ["tipo", "lat", "lon"], [["amenaza", "-8", "-74"]])
    with pytest.raises(SourceError) as info:
        import_file("csv", path)
    assert "columns are tipo, lat, lon" in one_line(info)


@pytest.mark.parametrize("kind", [None, 4, "amenaza"])
def test_generic_numbers_and_empty_columns_from_geojson(tmp_path, kind):
    rows = [{"fecha": "2023-01-01", "tipo": kind, "id": 7}, {"fecha": None, "tipo": kind, "id": 8}]
    _, frame = import_file("csv", write_geojson(tmp_path / "g.geojson", rows))
    assert len(frame) == 2


# ----------------------------------------------------------------------------------- helper


def test_normalised_text_of_any_dtype():
    for series in (
        pd.Series([None, None], dtype=object).astype("string"),  # all-missing Arrow strings
        pd.Series([None, None], dtype="str"),
        pd.Series([float("nan"), float("nan")]),
    ):
        out = normalised_text(series)
        assert out.dtype == object and list(out) == [None, None]
        assert list(out.isin(("protests",))) == [False, False]
    out = normalised_text(pd.Series(["Violent demonstration", 3, None]))
    assert list(out) == ["violent_demonstration", "3", None]
