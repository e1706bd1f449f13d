"""File names GDAL, pyogrio or rasterio would read as another file are opened as named.

pyogrio parses every path as a URL: ``a;b.geojson`` opened the file ``a`` (``;`` starts URL
parameters), ``a!b.geojson`` opened ``b.geojson`` (``!`` separates archive and member); GDAL
took a relative ``GPKG:a.gpkg`` for the driver prefix and opened ``a.gpkg``; rasterio took
``file:a.tif`` for ``a.tif``. Each test puts such a decoy beside the hostile name: the old code
read the decoy (or wrote a stray file such as ``.a`` and ended on FileNotFoundError); now each
command reads and writes exactly the file named, and its output equals that of the same data
under a plain name.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from click.testing import CliRunner

from geotools.analysis.forest_loss import compute_loss_by_year
from geotools.cli import main
from geotools.errors import SourceError
from geotools.export import write_geopackage
from geotools.gdalpath import gdal_path, gdal_reads_as_given, gdal_write_path
from geotools.io.readers import read_frame

RAW = Path(__file__).resolve().parents[2] / "data" / "raw"
SECRET = "hostile-names-test-secret-0123456789abcdef"

#: Stems each followed by a suffix; the comment says what the old code opened instead.
HOSTILE = [
    "a;b",  # "a" (pyogrio: URL parameters)
    "a!b",  # "b.<suffix>" (pyogrio: archive!member)
    "zip:a",  # "/vsizip/a.<suffix>"
    "file:a",  # rasterio: "a.<suffix>"
    "GPKG:a",  # GDAL driver prefix: "a.gpkg"
    "GeoJSON:a",  # GDAL driver prefix
    "CSV:a",  # GDAL driver prefix
    "PG:a",  # PostgreSQL connection string
    "-a",  # looks like an option
    "a b",
    "Ñuñoa",
    "a?b#c",
    "a,b[1]*",
]


def decoy_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"territory_id": ["DECOY"], "name": ["DECOY"]},
        geometry=[shapely.box(-75, -9, -74.9, -8.9)],
        crs=4326,
    )


def plant_decoys(folder: Path, suffix: str) -> None:
    """Files a reinterpreted name would open instead of the one named."""
    for name in ("a", "b", "c", f"a{suffix}", f"b{suffix}", f"c{suffix}", "a.gpkg", "b.gpkg"):
        target = folder / name
        if target.exists():
            continue
        if name.endswith(".tif"):
            shutil.copy(RAW / "forest_loss.tif", target)  # same size, values changed below
            with rasterio.open(target, "r+") as ds:
                ds.write(np.zeros((ds.height, ds.width), ds.dtypes[0]), 1)
        elif name.endswith(".zip"):
            with gdal_write_path(folder / "decoy.shp") as gdal_name:
                pyogrio.write_dataframe(decoy_frame(), gdal_name)
            with zipfile.ZipFile(target, "w") as archive:
                for part in sorted(folder.glob("decoy.*")):
                    archive.write(part, part.name)
                    part.unlink()
        elif name.endswith((".csv", ".xlsx")):
            target.write_text("longitude,latitude,name\n-75,-9,DECOY\n", encoding="utf-8")
        else:
            driver = "GPKG" if name.endswith(".gpkg") else "GeoJSON"
            with gdal_write_path(target) as gdal_name:  # the folder itself may be hostile
                pyogrio.write_dataframe(decoy_frame(), gdal_name, driver=driver)


def run(args: list[str], cwd: Path) -> tuple[int, str]:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, args, catch_exceptions=False)
    finally:
        os.chdir(old)
    return result.exit_code, result.output


# --- reading: every input kind --------------------------------------------------------------


def _write_kind(kind: str, path: Path) -> None:
    territories = gpd.read_file(RAW / "territories.geojson")
    if kind == "geojson":
        shutil.copy(RAW / "territories.geojson", path)
    elif kind == "gpkg":
        pyogrio.write_dataframe(territories, path.parent / "plain.gpkg", driver="GPKG")
        os.replace(path.parent / "plain.gpkg", path)
    elif kind == "shp":
        stage = path.parent / "stage"
        stage.mkdir()
        pyogrio.write_dataframe(territories, stage / "plain.shp", encoding="UTF-8")
        stem = path.name.removesuffix(".shp")
        for part in stage.iterdir():
            os.replace(part, path.parent / f"{stem}{part.suffix}")
        stage.rmdir()
    elif kind == "zip":
        stage = path.parent / "stage"
        stage.mkdir()
        pyogrio.write_dataframe(territories, stage / "t.shp", encoding="UTF-8")
        with zipfile.ZipFile(path, "w") as archive:
            for part in sorted(stage.iterdir()):
                archive.write(part, part.name)
        shutil.rmtree(stage)
    elif kind == "csv":
        shutil.copy(RAW / "incidents.csv", path)
    elif kind == "xlsx":
        pd.read_csv(RAW / "incidents.csv", dtype=str).to_excel(path, index=False)


KINDS = {"geojson": ".geojson", "gpkg": ".gpkg", "shp": ".shp", "zip": ".zip", "csv": ".csv",
         "xlsx": ".xlsx"}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("stem", HOSTILE)
def test_read_frame_reads_the_file_named_not_a_decoy(tmp_path, monkeypatch, stem, kind):
    if kind == "xlsx":
        pytest.importorskip("openpyxl")
    suffix = KINDS[kind]
    plain = tmp_path / "plain"
    plain.mkdir()
    _write_kind(kind, plain / f"t{suffix}")
    expected = read_frame(plain / f"t{suffix}")
    _write_kind(kind, tmp_path / f"{stem}{suffix}")
    plant_decoys(tmp_path, suffix)
    monkeypatch.chdir(tmp_path)
    for given in (f"{stem}{suffix}", tmp_path / f"{stem}{suffix}"):  # relative and absolute
        got = read_frame(given)
        assert "DECOY" not in got.to_string()
        assert len(got) == len(expected)
        assert got.geometry.geom_equals_exact(expected.geometry, 1e-9).all()


def test_gdal_path_names_a_missing_file_in_one_line(tmp_path):
    (tmp_path / "a").write_text("decoy")  # what "a;b.geojson" would have opened
    with pytest.raises(SourceError) as info, gdal_path(tmp_path / "a;b.geojson"):
        pass
    assert str(info.value) == f"{tmp_path / 'a;b.geojson'}: file not found"


def test_gdal_path_gives_plain_absolute_paths_unchanged(tmp_path):
    plain = tmp_path / "t.geojson"
    plain.write_text("{}")
    with gdal_path(plain) as name:
        assert name == str(plain)
    assert gdal_reads_as_given(str(plain))
    for stem in ("a;b", "a!b", "a?b"):
        assert not gdal_reads_as_given(str(tmp_path / f"{stem}.geojson"))
    assert not gdal_reads_as_given("/vsicurl/http://example.invalid/t.geojson")
    assert not gdal_reads_as_given("GPKG:t.gpkg")  # relative: a driver prefix to GDAL


# --- the forest-loss raster -----------------------------------------------------------------


@pytest.mark.parametrize("stem", ["a;b", "a!b", "file:a", "zip:a", "GTiff:a", "Ñuñoa", "a?b#c"])
def test_forest_loss_reads_the_raster_named(tmp_path, monkeypatch, stem):
    zones = gpd.read_file(RAW / "territories.geojson").rename(columns={"territory_id": "zone_id"})
    expected = compute_loss_by_year(zones, RAW / "forest_loss.tif")
    assert expected.table["loss_ha"].sum() > 0  # the decoys (all zero) would give none
    shutil.copy(RAW / "forest_loss.tif", tmp_path / f"{stem}.tif")
    plant_decoys(tmp_path, ".tif")
    monkeypatch.chdir(tmp_path)
    got = compute_loss_by_year(zones, f"{stem}.tif")
    pd.testing.assert_frame_equal(got.table, expected.table)
    pd.testing.assert_frame_equal(got.coverage, expected.coverage)


# --- commands: stats, validate, import, publish, map ----------------------------------------


def _stats_table(folder: Path) -> str:
    return (folder / "territory_stats.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize("stem", ["a;b", "a!b", "GPKG:a", "file:a", "Ñuñoa b"])
def test_stats_and_validate_read_the_files_named(tmp_path, stem):
    plain = tmp_path / "plain"
    plain.mkdir()
    base = [("territories", "territories.geojson"), ("incidents", "incidents.csv"),
            ("forest-loss", "forest_loss.tif")]  # fmt: skip
    code, output = run(["stats", *[f"--{k}={RAW / f}" for k, f in base], "--out", "st"], plain)
    assert code == 0, output
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    args = []
    for kind, file in base:
        suffix = Path(file).suffix
        shutil.copy(RAW / file, hostile / f"{stem}{suffix}")
        args.append(f"--{kind}={stem}{suffix}")
    plant_decoys(hostile, ".geojson")
    plant_decoys(hostile, ".tif")
    code, output = run(["stats", *args, "--out", f"{stem} out"], hostile)
    assert code == 0, output
    assert _stats_table(hostile / f"{stem} out") == _stats_table(plain / "st")
    code, plain_report = run(
        ["validate", "--as", "territories", str(RAW / "territories.geojson")], plain
    )
    code, report = run(["validate", "--as", "territories", f"{stem}.geojson"], hostile)
    assert code == 0, report
    assert "DECOY" not in report
    assert "5 read, 5 valid, 0 repaired, 0 rejected" in plain_report
    assert report.replace(f"{stem}.geojson", "T") == plain_report.replace(
        "territories.geojson", "T"
    )


ACLED_CSV = (
    "event_id_cnty,event_date,year,disorder_type,event_type,sub_event_type,actor1,country,"
    "admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,notes,fatalities\n"
    "PER1,2023-01-09,2023,Demonstrations,Protests,Peaceful protest,Protesters (Peru),Peru,"
    "Puno,Puno,Puno,Puno,-15.84,-70.02,1,La Republica,,0\n"
)


@pytest.mark.parametrize("stem", ["a;b", "a!b", "GPKG:a", "zip:a"])
def test_import_reads_and_writes_the_files_named(tmp_path, stem):
    (tmp_path / f"{stem}.csv").write_text(ACLED_CSV, encoding="utf-8")
    code, output = run(["import", "acled", f"{stem}.csv", "--out", f"{stem}.gpkg"], tmp_path)
    assert code == 0, output
    written = read_frame(tmp_path / f"{stem}.gpkg")
    assert len(written) == 1
    assert written.geometry.iloc[0].equals_exact(shapely.Point(-70.02, -15.84), 1e-9)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([f"{stem}.csv", f"{stem}.gpkg", f"{stem}.qa.json"])


@pytest.mark.parametrize("stem", ["a;b", "a!b"])
def test_publish_with_shapefile_and_kml_under_hostile_names(tmp_path, stem):
    (tmp_path / "key.txt").write_text(SECRET)
    shutil.copy(RAW / "territories.geojson", tmp_path / f"{stem}.geojson")
    plant_decoys(tmp_path, ".geojson")
    args = ["publish", f"--territories={stem}.geojson", f"--incidents={RAW / 'incidents.csv'}",
            "--format", "shp,kml", "--secret-file", "key.txt", "-q"]  # fmt: skip
    code, output = run([*args, "--out", f"{stem} pub"], tmp_path)
    assert code == 0, output
    out = tmp_path / f"{stem} pub"
    assert "DECOY" not in (out / "territory_stats.csv").read_text(encoding="utf-8")
    with gdal_path(out / "shp" / "territories.shp") as name:
        shp = gpd.read_file(name)
    with gdal_path(out / "kml" / "territories.kml") as name:
        kml = pyogrio.read_dataframe(name)
    assert len(shp) == len(kml) == len(gpd.read_file(RAW / "territories.geojson"))
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"key.txt", f"{stem}.geojson", f"{stem} pub", "key.positions.json"} | {
        n for n in names if n.startswith(("a", "b", "c")) and "DECOY" in _text(tmp_path / n)
    }


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


# --- writing: exactly the file named, nothing beside it ------------------------------------


@pytest.mark.parametrize("stem", HOSTILE)
def test_geopackage_is_written_under_the_name_given(tmp_path, monkeypatch, stem):
    monkeypatch.chdir(tmp_path)
    frame = decoy_frame().assign(name="kept")
    write_geopackage({"one": frame, "two": frame}, Path(f"{stem}.gpkg"))
    assert os.listdir(tmp_path) == [f"{stem}.gpkg"]
    with gdal_path(tmp_path / f"{stem}.gpkg") as name:
        assert [str(r[0]) for r in pyogrio.list_layers(name)] == ["one", "two"]


def test_gdal_write_path_moves_sidecars_and_drops_them_on_error(tmp_path):
    frame = decoy_frame()
    with gdal_write_path(tmp_path / "a;b.shp") as name:
        pyogrio.write_dataframe(frame, name)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"a;b.{ext}" for ext in ("cpg", "dbf", "prj", "shp", "shx")
    ]

    def failing_writer() -> None:
        with gdal_write_path(tmp_path / "c!d.gpkg") as name:
            pyogrio.write_dataframe(frame, name, driver="GPKG")
            raise RuntimeError("writer failed")

    with pytest.raises(RuntimeError):
        failing_writer()
    assert not (tmp_path / "c!d.gpkg").exists()


@pytest.mark.parametrize("stem", ["a;b", "a!b"])
def test_map_and_tiles_read_and_write_the_names_given(tmp_path, stem):
    shutil.copy(RAW / "territories.geojson", tmp_path / f"{stem}.geojson")
    plant_decoys(tmp_path, ".geojson")
    before = set(os.listdir(tmp_path))
    args = ["map", f"--territories={stem}.geojson", f"--incidents={RAW / 'incidents.csv'}"]
    code, output = run([*args, "--out", f"{stem}.html", "--tiles", f"{stem} tiles"], tmp_path)
    assert code == 0, output
    assert set(os.listdir(tmp_path)) - before == {f"{stem}.html", f"{stem} tiles"}
    assert "DECOY" not in (tmp_path / f"{stem}.html").read_text(encoding="utf-8")
    tiles = sorted(os.listdir(tmp_path / f"{stem} tiles"))
    assert [t for t in tiles if t.endswith(".pmtiles")] == [
        "hexagons.pmtiles",
        "incidents.pmtiles",
        "territories.pmtiles",
    ]


@pytest.mark.parametrize(
    "given",
    ["/vsicurl/https://example.invalid/t.geojson", "/vsimem/t.geojson", "PG:dbname=geo"],
)
def test_gdal_only_names_are_refused_in_one_line(tmp_path, monkeypatch, given):
    """Virtual file systems and connection strings are not files: nothing is opened."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SourceError) as info:
        read_frame(given)
    message = str(info.value)
    assert message.startswith(given[:8])
    assert message.endswith(": file not found") and "\n" not in message


def test_project_file_in_a_hostile_folder_reads_and_writes_the_names_given(tmp_path):
    folder = tmp_path / "d;a!ta"
    folder.mkdir()
    shutil.copy(RAW / "territories.geojson", folder / "t;x!y.geojson")
    shutil.copy(RAW / "incidents.csv", folder / "i;n.csv")
    plant_decoys(folder, ".geojson")
    (folder / "p;x!.toml").write_text(
        '[project]\nname = "hostile"\nout = "o;ut!"\n\n[layers.territories]\n'
        'path = "t;x!y.geojson"\n\n[layers.incidents]\npath = "i;n.csv"\n',
        encoding="utf-8",
    )
    code, output = run(["run", "p;x!.toml"], folder)
    assert code == 0, output
    table = pd.read_csv(folder / "o;ut!" / "territory_stats.csv")
    expected = gpd.read_file(RAW / "territories.geojson")
    assert sorted(table["territory_id"]) == sorted(expected["territory_id"])
    assert (folder / "o;ut!" / "risk_surface.tif").is_file()  # rasterio write, same folder


def test_locate_km_reads_the_marks_table_named(tmp_path):
    """pandas took "file:m.csv" for the URL of m.csv."""
    (tmp_path / "file:m.csv").write_text("km,name\n1.5,real\n", encoding="utf-8")
    (tmp_path / "m.csv").write_text("km,name\n2.5,DECOY\n", encoding="utf-8")
    args = ["locate-km", f"--infrastructure={RAW / 'infrastructure.geojson'}"]
    code, output = run([*args, "--marks", "file:m.csv", "--out", "l;x.geojson"], tmp_path)
    assert code == 0, output
    text = (tmp_path / "l;x.geojson").read_text(encoding="utf-8")
    assert '"name": "real"' in text and "DECOY" not in text


@pytest.mark.parametrize("stem", ["bad;x", "bad!x"])
def test_unreadable_files_are_named_as_given_not_by_their_link(tmp_path, monkeypatch, stem):
    monkeypatch.chdir(tmp_path)
    (tmp_path / f"{stem}.geojson").write_text("not json", encoding="utf-8")
    (tmp_path / f"{stem}.tif").write_text("not a raster", encoding="utf-8")
    zones = gpd.read_file(RAW / "territories.geojson").rename(columns={"territory_id": "zone_id"})
    for call, file in (
        (lambda: read_frame(f"{stem}.geojson"), f"{stem}.geojson"),
        (lambda: compute_loss_by_year(zones, f"{stem}.tif"), f"{stem}.tif"),
    ):
        with pytest.raises(SourceError) as info:
            call()
        message = str(info.value)
        assert message.startswith(f"{file}: cannot ")
        assert "geotools-input-" not in message and "\n" not in message
