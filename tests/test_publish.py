"""geotools publish: safe public bundles (issue 7)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod

from geotools.cli import main
from geotools.errors import GeotoolsError, OutputExistsError
from geotools.io import read_layer
from geotools.pipeline import run_publish
from geotools.privacy import PrivacyPolicy, derive_key, generalise_incidents
from geotools.publish import BundleError, LeakError, PublishOptions, check_bundle, publish_bundle

GEOD = Geod(ellps="WGS84")
SECRET = "test-secret-0123456789abcdef"

#: Values that must never leave in a public bundle.
VICTIM = "María Quispe Ramos"
REPORTER = "Juan Carlos Huamán Ríos"
PHONE = "+51 987 654 321"
EMAIL = "lideresa.shipibo@example.org"
CONF_TEXT = "Secret meeting of Asháninka leaders at Nueva Esperanza"
RESTRICTED_TEXT = "Testimony of the night the house burned near the old sawmill"
CONF_ID = "CONF-001"
NOTE = "internal witness list kept by the federation"


def _ring(x0: float, y0: float, size: float, clockwise: bool) -> list[tuple[float, float]]:
    ring = [(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size), (x0, y0)]
    return ring[::-1] if clockwise else ring


def build_inputs(folder: Path) -> dict[str, Path]:
    """Two territories (one with a hole, rings wound the wrong way on purpose), parcels, a
    concession and incidents with personal fields and every sensitivity."""
    folder.mkdir(parents=True, exist_ok=True)
    t1 = shapely.Polygon(
        _ring(-74.80, -8.40, 0.12, clockwise=True), [_ring(-74.70, -8.38, 0.01, clockwise=False)]
    )
    t2 = shapely.Polygon(_ring(-74.68, -8.40, 0.10, clockwise=True))
    territories = gpd.GeoDataFrame(
        {
            "territory_id": ["T1", "T2"],
            "name": ["Comunidad Uno", "Comunidad Dos"],
            "contact_phone": ["+51 999 000 111", None],
        },
        geometry=[t1, t2],
        crs=4326,
    )
    parcels = gpd.GeoDataFrame(
        {"parcel_id": ["P1", "P2"], "tenure": ["titled", "in_process"]},
        geometry=[
            shapely.box(-74.79, -8.39, -74.75, -8.35),
            shapely.box(-74.66, -8.38, -74.6, -8.33),
        ],
        crs=4326,
    )
    concessions = gpd.GeoDataFrame(
        {"concession_id": ["C1"], "kind": ["mining"], "holder": ["Minera Ficticia S.A."]},
        geometry=[shapely.box(-74.74, -8.36, -74.62, -8.31)],
        crs=4326,
    )
    rows = [
        ("I1", "public", -74.760, -8.370, VICTIM, REPORTER, PHONE, "Public report of a threat"),
        ("I2", "restricted", -74.740, -8.330, VICTIM, REPORTER, None, RESTRICTED_TEXT),
        ("I3", "", -74.640, -8.350, None, None, PHONE, "Unmarked record"),
        ("I4", "restricted", -74.500, -8.200, None, REPORTER, None, "Road blockade by loggers"),
        (CONF_ID, "confidential", -74.770, -8.320, VICTIM, REPORTER, PHONE, CONF_TEXT),
        (
            "CONF-002",
            "confidential",
            -74.650,
            -8.380,
            "Rosa Elvira Sánchez",
            None,
            None,
            CONF_TEXT + " again",
        ),
        ("I7", "restricted", -74.720, -8.350, "Edwin Chota Valera", None, None, "Arson"),
    ]
    incidents = pd.DataFrame(
        rows,
        columns=[
            "incident_id",
            "sensitivity",
            "lon",
            "lat",
            "victims",
            "reporter",
            "phone",
            "description",
        ],
    )
    incidents["date"] = ["2021-03-0" + str(i + 1) for i in range(len(rows))]
    incidents["kind"] = ["threat", "arson", "threat", "invasion", "threat", "attack", "arson"]
    incidents["email"] = EMAIL
    incidents["notes"] = NOTE
    incidents["source"] = "Test federation"
    incidents["precision"] = "exact"
    paths = {
        "territories": folder / "territories.geojson",
        "parcels": folder / "parcels.gpkg",
        "concessions": folder / "concessions.gpkg",
        "incidents": folder / "incidents.csv",
    }
    territories.to_file(paths["territories"])
    parcels.to_file(paths["parcels"])
    concessions.to_file(paths["concessions"])
    incidents.to_csv(paths["incidents"], index=False)
    return paths


TRUE = {
    "I2": (-74.740, -8.330),
    "I3": (-74.640, -8.350),
    "I4": (-74.500, -8.200),
    "I7": (-74.720, -8.350),
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_inputs(tmp_path_factory.mktemp("inputs"))


@pytest.fixture(scope="module")
def bundle(inputs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundles") / "public"
    options = PublishOptions(secret=SECRET, formats=("shp", "kml"), lang="en", created="2024-01-01")
    report = run_publish(inputs, out, options)
    assert report.facts["displaced"] == 4
    assert report.facts["leak_check_s"] < 10
    return out


def _layers(inputs: dict[str, Path]) -> dict[str, Any]:
    return {kind: read_layer(path, kind) for kind, path in inputs.items()}


def _withheld(inputs: dict[str, Path]) -> Any:
    layers = _layers(inputs)
    return generalise_incidents(
        layers["incidents"].frame,
        PrivacyPolicy(),
        derive_key(SECRET),
        territories=layers["territories"].frame,
    )


def _all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_bundle_files(bundle: Path) -> None:
    names = {p.relative_to(bundle).as_posix() for p in _all_files(bundle)}
    for name in (
        "territories.geojson",
        "parcels.geojson",
        "concessions.geojson",
        "incidents.geojson",
        "territory_stats.csv",
        "overlaps.csv",
        "analysis.gpkg",
        "map.html",
        "README.md",
        "datapackage.json",
        "SHA256SUMS",
        "shp/incidents.shp",
        "kml/territories.kml",
    ):
        assert name in names
    assert "risk_surface.tif" not in names
    assert not list(bundle.parent.glob(".public.*"))  # no staging left


@pytest.mark.parametrize(
    "secret",
    [
        VICTIM,
        REPORTER,
        PHONE,
        EMAIL,
        CONF_TEXT,
        RESTRICTED_TEXT,
        CONF_ID,
        "CONF-002",
        NOTE,
        "Rosa Elvira",
        "Edwin Chota",
        "+51 999 000 111",
        SECRET,
    ],
)
def test_no_withheld_value_in_any_file(bundle: Path, secret: str) -> None:
    # Independent of the leak check: raw bytes of every file (SQLite and DBF store text as is),
    # plus the JSON-escaped form folium and json.dumps use for non-ASCII text.
    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    for path in _all_files(bundle):
        data = path.read_bytes()
        for form in forms:
            assert form.encode("utf-8") not in data, f"{form!r} in {path.name}"
            assert form.encode("latin-1", "ignore") not in data or len(form) < 4


def test_no_restricted_point_within_2_km_of_its_true_place(bundle: Path) -> None:
    for source in (
        bundle / "incidents.geojson",
        bundle / "analysis.gpkg",
        bundle / "shp" / "incidents.shp",
        bundle / "kml" / "incidents.kml",
    ):
        layer = "incidents" if source.suffix == ".gpkg" else None
        frame = gpd.read_file(source, layer=layer).to_crs(4326)
        frame = frame.set_index(frame.columns[frame.columns.str.startswith("incident")][0])
        assert CONF_ID not in frame.index and "CONF-002" not in frame.index
        for ident, (x, y) in TRUE.items():
            point = frame.geometry[ident]
            _, _, d = GEOD.inv(x, y, point.x, point.y)
            assert 2000.0 <= d <= 5000.0, (source.name, ident, d)
    # The map draws exactly the published points (5 decimals), none at a hidden true place.
    text = (bundle / "map.html").read_text(encoding="utf-8")
    # Incident markers are rows [lat, lon, kind, year, severity level, exact] (geotools.maps).
    drawn = {
        (round(float(lon), 5), round(float(lat), 5))
        for lat, lon in re.findall(
            r"\[(-?[\d.]+), (-?[\d.]+), \d+, (?:\d+|null), \d, [01]\]", text
        )
    }
    published = gpd.read_file(bundle / "incidents.geojson")
    # Matched within 1.1e-5 degrees: the map's 5-decimal formatting and Python's round() can
    # differ by one unit in the last place on a point that ends in 5 at the 6th decimal.
    exact = np.array([(p.x, p.y) for p in published.geometry])
    shown = np.array(sorted(drawn))
    assert len(shown) == len(exact) == 5  # I1 public + 4 displaced
    gaps = np.abs(shown[:, None, :] - exact[None, :, :]).max(axis=2)
    assert (gaps.min(axis=1) <= 1.1e-5).all() and (gaps.min(axis=0) <= 1.1e-5).all()
    hidden = [*TRUE.values(), (-74.770, -8.320), (-74.650, -8.380)]
    assert not drawn & {(round(x, 5), round(y, 5)) for x, y in hidden}


def test_displaced_points_stay_in_their_territory(bundle: Path) -> None:
    incidents = gpd.read_file(bundle / "incidents.geojson").set_index("incident_id")
    territories = gpd.read_file(bundle / "territories.geojson").set_index("territory_id")
    t1, t2 = territories.geometry["T1"], territories.geometry["T2"]
    assert t1.contains(incidents.geometry["I2"]) and t1.contains(incidents.geometry["I7"])
    assert t2.contains(incidents.geometry["I3"])
    assert not t1.union(t2).intersects(incidents.geometry["I4"])


def test_republishing_gives_identical_points(
    inputs: dict[str, Path], bundle: Path, tmp_path: Path
) -> None:
    out = tmp_path / "again"
    run_publish(inputs, out, PublishOptions(secret=SECRET, lang="en", created="2024-01-01"))
    for name in ("incidents.geojson", "territories.geojson", "territory_stats.csv"):
        assert (out / name).read_bytes() == (bundle / name).read_bytes()


def test_rfc7946_independent_validator(bundle: Path) -> None:
    geojson_validator = pytest.importorskip("geojson_validator")
    criteria = ("unclosed", "less_three_unique_nodes", "exterior_not_ccw", "interior_not_cw")
    problems = (
        "inner_and_exterior_ring_intersect",
        "self_intersection",
        "duplicate_nodes",
        "3d_coordinates",
        "outside_lat_lon_boundaries",
        "crosses_antimeridian",
        "excessive_coordinate_precision",
    )
    files = sorted(bundle.glob("*.geojson"))
    assert len(files) == 4
    holes = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bNaN\b|\bInfinity\b", text), path.name
        data = json.loads(text)
        assert "crs" not in data
        assert geojson_validator.validate_structure(data, check_crs=True) == {}
        result = geojson_validator.validate_geometries(
            data, criteria_invalid=criteria, criteria_problematic=problems
        )
        assert result["invalid"] == {} and result["problematic"] == {}, (path.name, result)
        for feature in data["features"]:
            geometry = feature["geometry"]
            for value in np.ravel(
                np.asarray(shapely.get_coordinates(shapely.geometry.shape(geometry)))
            ):
                assert round(value, 6) == value
            if geometry["type"] == "Polygon":
                holes += len(geometry["coordinates"]) - 1
    assert holes == 1  # T1's hole survived and is wound clockwise (checked above)


def test_every_column_is_documented(bundle: Path) -> None:
    readme = (bundle / "README.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"### (\S+)\n(.*?)(?=\n### |\n## |\Z)", readme, re.S))
    for path in [*bundle.glob("*.csv"), *bundle.glob("*.geojson")]:
        if path.suffix == ".csv":
            columns = pd.read_csv(path, nrows=0).columns
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
            columns = pd.Index(sorted({k for f in data["features"] for k in f["properties"]}))
        section = sections[path.name]
        for column in columns:
            assert f"| `{column}` |" in section, (path.name, column)
    assert "incidents_confidential_inside" in sections["territory_stats.csv"]
    assert "`<3`" in readme and "2,000 and 5,000 m" in readme


def test_datapackage_is_valid_frictionless(bundle: Path) -> None:
    frictionless = pytest.importorskip("frictionless")
    package = json.loads((bundle / "datapackage.json").read_text(encoding="utf-8"))
    assert {r["path"] for r in package["resources"]} >= {"territory_stats.csv", "incidents.geojson"}
    report = frictionless.validate(bundle / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_checksums(bundle: Path) -> None:
    lines = (bundle / "SHA256SUMS").read_text().splitlines()
    listed = {}
    for line in lines:
        digest, name = line.split("  ", 1)
        listed[name] = digest
    files = {p.relative_to(bundle).as_posix() for p in _all_files(bundle)} - {"SHA256SUMS"}
    assert set(listed) == files
    for name, digest in listed.items():
        assert hashlib.sha256((bundle / name).read_bytes()).hexdigest() == digest


def test_confidential_counts_are_suppressed(bundle: Path) -> None:
    table = pd.read_csv(bundle / "territory_stats.csv", dtype=str).set_index("territory_id")
    assert set(table["incidents_confidential_inside"]) == {"<3"}
    # Public counts exclude confidential incidents: T1 holds I1, I2, I7 (public + restricted).
    assert table.loc["T1", "incidents_inside"] == "3"
    assert table.loc["T2", "incidents_inside"] == "1"


def _plant(bundle: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    return copy


def test_leak_check_passes_the_clean_bundle(inputs: dict[str, Path], bundle: Path) -> None:
    generalised = _withheld(inputs)
    published = shapely.get_coordinates(generalised.published.geometry.to_numpy())
    assert check_bundle(bundle, generalised.withheld, published, 2000.0, [SECRET]) < 10


def test_leak_check_catches_a_victim_name_in_the_html(
    inputs: dict[str, Path], bundle: Path, tmp_path: Path
) -> None:
    copy = _plant(bundle, tmp_path)
    page = copy / "map.html"
    escaped = json.dumps("Víctima: " + VICTIM)  # as folium would embed it: \u00ed escapes
    page.write_text(
        page.read_text(encoding="utf-8") + f"<script>var x = {escaped};</script>", encoding="utf-8"
    )
    generalised = _withheld(inputs)
    published = shapely.get_coordinates(generalised.published.geometry.to_numpy())
    with pytest.raises(LeakError, match=r"map\.html: personal field victims") as caught:
        check_bundle(copy, generalised.withheld, published, 2000.0)
    assert VICTIM not in str(caught.value)
    assert isinstance(caught.value, GeotoolsError)


def test_leak_check_catches_a_restricted_point_at_its_true_place(
    inputs: dict[str, Path], bundle: Path, tmp_path: Path
) -> None:
    copy = _plant(bundle, tmp_path)
    path = copy / "incidents.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    for feature in data["features"]:
        if feature["properties"]["incident_id"] == "I2":
            feature["geometry"]["coordinates"] = [-74.74, -8.33]
    path.write_text(json.dumps(data), encoding="utf-8")
    generalised = _withheld(inputs)
    published = shapely.get_coordinates(generalised.published.geometry.to_numpy())
    with pytest.raises(LeakError, match=r"incidents\.geojson: .*true place"):
        check_bundle(copy, generalised.withheld, published, 2000.0)


def test_leak_check_catches_a_point_moved_too_little(
    inputs: dict[str, Path], bundle: Path, tmp_path: Path
) -> None:
    copy = _plant(bundle, tmp_path)
    path = copy / "incidents.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    for feature in data["features"]:
        if feature["properties"]["incident_id"] == "I7":
            feature["geometry"]["coordinates"] = [-74.72, -8.34]  # 1.1 km from the truth
    path.write_text(json.dumps(data), encoding="utf-8")
    generalised = _withheld(inputs)
    published = shapely.get_coordinates(generalised.published.geometry.to_numpy())
    with pytest.raises(LeakError, match=r"incidents\.geojson: .* m from"):
        check_bundle(copy, generalised.withheld, published, 2000.0)


def test_leak_check_catches_a_confidential_id_in_a_csv(
    inputs: dict[str, Path], bundle: Path, tmp_path: Path
) -> None:
    copy = _plant(bundle, tmp_path)
    path = copy / "overlaps.csv"
    table = pd.read_csv(path)
    table["note"] = CONF_ID
    table.to_csv(path, index=False)
    generalised = _withheld(inputs)
    published = shapely.get_coordinates(generalised.published.geometry.to_numpy())
    with pytest.raises(LeakError, match=r"overlaps\.csv: .*id of a withheld incident") as caught:
        check_bundle(copy, generalised.withheld, published, 2000.0)
    assert CONF_ID not in str(caught.value)


def test_leak_check_reads_every_geopackage_layer(
    inputs: dict[str, Path], bundle: Path, tmp_path: Path
) -> None:
    copy = _plant(bundle, tmp_path)
    planted = gpd.GeoDataFrame(
        {"remark": [f"seen by {REPORTER}"]}, geometry=[shapely.Point(0, 0)], crs=4326
    )
    pyogrio.write_dataframe(planted, copy / "analysis.gpkg", layer="extra", append=True)
    generalised = _withheld(inputs)
    published = shapely.get_coordinates(generalised.published.geometry.to_numpy())
    with pytest.raises(LeakError, match=r"analysis\.gpkg:extra: personal field reporter"):
        check_bundle(copy, generalised.withheld, published, 2000.0)


def test_a_leak_stops_the_run_and_leaves_nothing(
    inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import geotools.publish.bundle

    original = geotools.publish.bundle.write_map_html

    def leaky(*args: Any, **kwargs: Any) -> Path:
        path = original(*args, **kwargs)
        path.write_text(path.read_text(encoding="utf-8") + VICTIM, encoding="utf-8")
        return path

    monkeypatch.setattr(geotools.publish.bundle, "write_map_html", leaky)
    out = tmp_path / "bundle"
    with pytest.raises(LeakError, match=r"map\.html"):
        run_publish(inputs, out, PublishOptions(secret=SECRET))
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_never_overwrites_without_permission(inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    run_publish(inputs, out, PublishOptions(profile="internal"))
    with pytest.raises(OutputExistsError):
        run_publish(inputs, out, PublishOptions(secret=SECRET))
    # --overwrite never deletes a file geotools did not write (issue 11: a user's notes in a
    # bundle folder were deleted); it refuses, and the file stays.
    (out / "extra.txt").write_text("a user's note")
    with pytest.raises(BundleError, match=r"extra\.txt"):
        run_publish(inputs, out, PublishOptions(secret=SECRET, overwrite=True))
    assert (out / "extra.txt").read_text() == "a user's note"
    # Once the user moved it away, --overwrite replaces the whole folder: nothing of the
    # internal bundle survives.
    (out / "extra.txt").unlink()
    run_publish(inputs, out, PublishOptions(secret=SECRET, overwrite=True))
    assert VICTIM.encode() not in (out / "incidents.geojson").read_bytes()
    unrelated = tmp_path / "documents"
    unrelated.mkdir()
    (unrelated / "thesis.docx").write_text("precious")
    with pytest.raises(BundleError):
        run_publish(inputs, unrelated, PublishOptions(secret=SECRET, overwrite=True))
    assert (unrelated / "thesis.docx").exists()


def test_internal_profile_is_exact_and_says_so(inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "internal"
    report = run_publish(inputs, out, PublishOptions(profile="internal"))
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "**This bundle must not be shared." in readme
    incidents = gpd.read_file(out / "incidents.geojson").set_index("incident_id")
    assert incidents.loc[CONF_ID, "victims"] == VICTIM
    assert incidents.geometry["I2"].equals(shapely.Point(-74.74, -8.33))
    assert "leak_check_s" not in report.facts


ACLED_CSV = "\n".join(
    [
        "event_id_cnty,event_date,event_type,sub_event_type,latitude,longitude,geo_precision,"
        "fatalities,notes,source",
        "PER100,2023-01-10,Protests,Peaceful protest,-8.33,-74.74,,0,"
        "Protest named Luis Alberto Ortega,La Republica",
        "PER101,2023-03-11,Protests,Peaceful protest,-8.331,-74.741,,0,March,RPP",
        "PER102,2023-02-11,Riots,Violent demonstration,-8.35,-74.64,2,1,Clash,RPP",
        "",
    ]
)


def test_not_redistributable_layer_is_published_as_aggregates(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    acled = tmp_path / "acled.csv"
    acled.write_text(ACLED_CSV, encoding="utf-8")
    layers = _layers({k: v for k, v in inputs.items() if k != "incidents"})
    layers["incidents"] = read_layer(acled, "incidents", source="acled")
    out = tmp_path / "bundle"
    # ACLED's terms require permission: without a statement the publisher must choose
    # aggregates explicitly (otherwise the bundle is refused, tests/test_permission_terms.py).
    options = PublishOptions(secret=SECRET, created="2024-01-01", aggregate_only=True)
    publish_bundle(layers, out, options)
    assert not (out / "incidents.geojson").exists()
    hexagons = json.loads((out / "incident_hexagons.geojson").read_text(encoding="utf-8"))
    assert sorted(f["properties"]["incidents"] for f in hexagons["features"]) == ["<3", "<3"]
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "ACLED" in readme and "aggregates only" in readme
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "acleddata.com" in page
    assert "Incidentes: ACLED terms of use" in page  # the layer named in the map's language
    assert "Incidents: ACLED" not in page
    assert b"Luis Alberto Ortega" not in b"".join(p.read_bytes() for p in _all_files(out))
    table = pd.read_csv(out / "territory_stats.csv").set_index("territory_id")
    assert table.loc["T1", "incidents_inside"] == 2  # aggregates still count every event


def test_cli_publish(inputs: dict[str, Path], tmp_path: Path) -> None:
    secret = tmp_path / "key.txt"
    secret.write_text(SECRET)
    args = [f"--{kind}={path}" for kind, path in inputs.items()]
    out = tmp_path / "cli"
    runner = CliRunner()
    result = runner.invoke(main, ["publish", *args, "--out", str(out)])
    assert result.exit_code == 1
    assert "secret" in result.output and "Traceback" not in result.output
    assert not out.exists()
    result = runner.invoke(
        main, ["publish", *args, "--out", str(out), "--secret-file", str(secret), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert "Leak check: clean" in result.output
    result = runner.invoke(
        main, ["publish", *args, "--out", str(out), "--secret-file", str(secret)]
    )
    assert result.exit_code == 1 and "--overwrite" in result.output


def test_demo_writes_a_public_bundle(tmp_path: Path) -> None:
    from geotools.demo import run_demo

    run_demo(tmp_path, lang="en")
    public = tmp_path / "data" / "processed" / "public"
    assert (public / "incidents.geojson").exists() and (public / "map.html").exists()
    incidents = gpd.read_file(public / "incidents.geojson").set_index("incident_id")
    truth = pd.read_csv(Path(__file__).parents[1] / "data" / "raw" / "incidents.csv")
    truth = truth.set_index("incident_id")
    assert "I04" not in incidents.index  # the confidential one
    restricted = truth.index[truth["sensitivity"].fillna("restricted") == "restricted"]
    assert len(restricted) == 5
    for ident in restricted:
        point = incidents.geometry[ident]
        _, _, d = GEOD.inv(truth.loc[ident, "lon"], truth.loc[ident, "lat"], point.x, point.y)
        assert 2000.0 <= d <= 5000.0
    everything = b"".join(p.read_bytes() for p in _all_files(public))
    assert b"community leader" not in everything  # victims of I02/I04 and I04's description
