"""Extra polygon layers for community membership: ``stats --areas NAME=FILE`` and
``[layers.areas.NAME]`` in project files (issue 14), numbers checked by hand.

Three community points on a line at y = 5 km: A at x = 5, B at x = 12, C at x = 25 (km, in the
equal-area plane of the test layers). Protected area P1 covers x 0-10 (A inside), drawn in a
second file P2 covers x 11-13 (B inside); district D1 covers x 30-40 (no one inside; C is 5 km
from its west edge).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from pyproj import Geod
from shapely import Point

from geotools.cli import main
from geotools.crs import PERU_ALBERS
from tests.conftest import KM, frame, km_box


def pt(x: float, y: float) -> Point:
    return Point(x * KM, y * KM)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    layers = {
        "territories": frame([{"territory_id": "T1", "geometry": km_box(4, 4, 6, 6)}]),
        "communities": frame(
            [
                {"community_id": "A", "nombre": "Alfa", "geometry": pt(5, 5)},
                {"community_id": "B", "nombre": "Beta", "geometry": pt(12, 5)},
                {"community_id": "C", "nombre": "Gamma", "geometry": pt(25, 5)},
            ]
        ),
        "anp1": frame(
            [
                {
                    "anp_codi": "P1",
                    # A hostile cell: a spreadsheet formula, and markup.
                    "anp_nomb": '=HYPERLINK("http://x.invalid","<b>Parque</b>")',
                    "anp_cate": "Parque Nacional",
                    "geometry": km_box(0, 0, 10, 10),
                }
            ]
        ),
        "anp2": frame(
            [{"anp_codi": "P2", "anp_nomb": "Reserva", "geometry": km_box(11, 0, 13, 10)}]
        ),
        "district": frame([{"DISTRITO": "Uno", "geometry": km_box(30, 0, 40, 10)}]),
    }
    out = {}
    for name, layer in layers.items():
        out[name] = tmp_path / f"{name}.geojson"
        layer.to_crs(4326).to_file(out[name])
    # A file name holding "=" is read as it is (everything after the first "=").
    odd = tmp_path / "dist=rito.geojson"
    odd.write_bytes(out["district"].read_bytes())
    out["odd"] = odd
    return out


def run(args: list[str]):
    return CliRunner().invoke(main, ["stats", *args])


def test_stats_areas_by_hand(files, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(
        [
            "--territories", str(files["territories"]),
            "--communities", str(files["communities"]),
            "--areas", f"protected={files['anp1']}",
            "--areas", f"protected={files['anp2']}",  # the same name: one layer of two files
            "--areas", f"district={files['odd']}",
            "--map", "district.name=DISTRITO",
            "--default", "areas.status=vigente",
            "--out", str(out),
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Communities: 2 of 3 inside protected (0 more possibly inside)" in result.output
    assert "Communities: 0 of 3 inside district (0 more possibly inside)" in result.output
    assert "community_polygons.csv" in result.output
    stats = pd.read_csv(out / "community_stats.csv").set_index("community_id")
    assert stats["in_protected"].tolist() == [1, 1, 0]
    assert stats["in_district"].tolist() == [0, 0, 0]
    # Geodesic distances by pyproj.Geod between the points as written in lon/lat: C to the
    # district's west edge (x 30 km) and to P2's east edge (x 13 km), along y = 5 km.
    lonlat = gpd.GeoSeries([pt(25, 5), pt(30, 5), pt(13, 5)], crs=PERU_ALBERS).to_crs(4326)
    x, y = lonlat.x.to_numpy(), lonlat.y.to_numpy()
    to_district = Geod(ellps="WGS84").inv(x[0], y[0], x[1], y[1])[2] / 1000
    to_p2 = Geod(ellps="WGS84").inv(x[0], y[0], x[2], y[2])[2] / 1000
    assert to_district == pytest.approx(5.04, abs=0.01)  # the Albers plane's scale here
    assert stats.loc["C", "nearest_district_km"] == pytest.approx(to_district, abs=0.01)
    assert stats.loc["C", "nearest_protected_km"] == pytest.approx(to_p2, abs=0.01)
    assert stats.loc["A", "nearest_protected_km"] == 0.0
    m = pd.read_csv(out / "community_membership.csv")
    assert m[["community_id", "layer", "feature_id"]].values.tolist() == [
        ["A", "protected", "P1"],
        ["A", "territories", "T1"],
        ["B", "protected", "P2"],
    ]
    p = pd.read_csv(out / "community_polygons.csv", dtype=str, keep_default_na=False)
    columns = ["layer", "feature_id", "name", "communities_inside", "community_ids"]
    assert p[columns].values.tolist() == [
        ["district", "area-1", "Uno", "0", ""],
        ["protected", "P1", '\'=HYPERLINK("http://x.invalid","<b>Parque</b>")', "1", "A"],
        ["protected", "P2", "Reserva", "1", "B"],
        ["territories", "T1", "", "1", "A"],
    ]  # fmt: skip
    assert p["kind"].tolist()[1] == "Parque Nacional"
    assert set(p.loc[p["layer"] != "territories", "status"]) == {"vigente"}
    # Each layer is read and validated like the others: its QA ledger and GeoPackage layer.
    ledger = json.loads((out / "qa" / "areas_protected.json").read_text(encoding="utf-8"))
    assert ledger["layer"] == "protected" and ledger["read"] == 2
    assert "areas_district" in set(gpd.list_layers(out / "analysis.gpkg")["name"])
    provenance = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert set(provenance["options"]["areas"]) == {"protected", "district"}
    inputs = {i["layer"]: i for i in provenance["inputs"]}
    assert inputs["areas_district"]["path"].endswith("dist=rito.geojson")
    assert len(inputs["areas_protected"]["files"]) == 2


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("../etc=x.geojson", "not allowed"),
        ("Protected=x.geojson", "not allowed"),
        ("<b>x</b>=x.geojson", "not allowed"),
        ("a b=x.geojson", "not allowed"),
        ("a\x1b[31mb=x.geojson", "'a\\x1b[31mb' is not allowed"),  # shown escaped, as data
        ("territories=x.geojson", "taken by a layer kind"),
        ("areas=x.geojson", "taken by a layer kind"),
        ("protected", "use NAME=FILE"),
        ("protected=", "use NAME=FILE"),
    ],
)
def test_bad_area_names_are_refused(files, tmp_path: Path, item: str, message: str) -> None:
    out = tmp_path / "refused"
    result = run(
        ["--territories", str(files["territories"]), "--communities", str(files["communities"]),
         "--areas", item, "--out", str(out)]
    )  # fmt: skip
    assert result.exit_code == 2 and message in result.output, result.output
    assert "\x1b" not in result.output  # no terminal escape reaches the screen
    assert not out.exists()


@pytest.mark.parametrize(
    "extra",
    [
        ["--map", "protectd.name=anp_nomb"],
        ["--default", "protectd.kind=ANP"],
        ["--assume-crs", "protectd=EPSG:32718"],
    ],
)
def test_typo_in_an_area_name_is_refused_with_the_valid_names(files, tmp_path, extra) -> None:
    result = run(
        ["--territories", str(files["territories"]), "--communities", str(files["communities"]),
         "--areas", f"protected={files['anp1']}", *extra, "--out", str(tmp_path / "o")]
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "unknown layer 'protectd'" in result.output and "protected" in result.output


def test_area_columns_are_checked(files, tmp_path) -> None:
    result = run(
        ["--territories", str(files["territories"]), "--communities", str(files["communities"]),
         "--areas", f"protected={files['anp1']}", "--map", "protected.nombre=anp_nomb",
         "--out", str(tmp_path / "o")]
    )  # fmt: skip
    assert result.exit_code == 2 and "areas columns are area_id, name, kind, status" in (
        result.output
    )


def test_areas_need_communities(files, tmp_path) -> None:
    result = run(
        ["--territories", str(files["territories"]), "--areas", f"protected={files['anp1']}",
         "--out", str(tmp_path / "o")]
    )  # fmt: skip
    assert result.exit_code == 1
    assert "give them with --communities FILE" in result.output


def test_project_file_areas(files, tmp_path: Path) -> None:
    (tmp_path / "study.toml").write_text(
        f"""
[project]
name = "areas"
out = "out"
[layers.territories]
path = "{files['territories'].name}"
[layers.communities]
path = "{files['communities'].name}"
[layers.areas.protected]
path = ["{files['anp1'].name}", "{files['anp2'].name}"]
defaults = {{kind = "ANP"}}
[layers.areas.district]
path = "{files['district'].name}"
mapping = {{name = "DISTRITO"}}
""",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["run", str(tmp_path / "study.toml")])
    assert result.exit_code == 0, result.output
    stats = pd.read_csv(tmp_path / "out" / "community_stats.csv")
    assert stats["in_protected"].tolist() == [1, 1, 0]
    p = pd.read_csv(tmp_path / "out" / "community_polygons.csv").set_index("feature_id")
    assert p.loc["area-1", "name"] == "Uno" and p.loc["P2", "kind"] == "ANP"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[layers.areas."../x"]\npath = "a.geojson"', "is not allowed"),
        ('[layers.areas.concessions]\npath = "a.geojson"', "taken by a layer kind"),
        ('[layers.areas.p]\npath = "a.geojson"\nweight = "x"', "applies to concessions only"),
        ('[layers.areas.p]\npath = "a.geojson"\nmapping = {nombre = "x"}', "unknown column"),
    ],
)
def test_project_file_bad_areas(tmp_path: Path, table: str, message: str) -> None:
    from geotools.errors import ValidationError
    from geotools.project import read_project

    (tmp_path / "study.toml").write_text(
        '[layers.territories]\npath = "t.geojson"\n[layers.communities]\npath = "c.geojson"\n'
        + table,
        encoding="utf-8",
    )
    with pytest.raises(ValidationError, match=message):
        read_project(tmp_path / "study.toml")


def test_validate_as_areas_and_regions(files, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main, ["validate", str(files["district"]), "--as", "areas", "--map", "areas.name=DISTRITO"]
    )
    assert result.exit_code == 0, result.output
    assert "areas (district.geojson): 1 read, 1 valid, 0 repaired, 0 rejected" in result.output
    regions = frame(
        [
            {"FIRST_IDDP": "25", "NOMBDEP": "UCAYALI", "geometry": km_box(0, 0, 10, 10)},
            {"FIRST_IDDP": "16", "NOMBDEP": "LORETO", "geometry": None},
        ]
    )
    regions.to_crs(4326).to_file(tmp_path / "dep.geojson")
    result = runner.invoke(main, ["validate", str(tmp_path / "dep.geojson"), "--as", "regions"])
    assert result.exit_code == 1  # a region without geometry is rejected, and said
    assert (
        "regions: 2 read; region_id from 'FIRST_IDDP', region from 'NOMBDEP'; administrative "
        "level department" in result.output
    )
    assert "16: no geometry -> rejected" in result.output


def test_assume_crs_for_one_area_layer(files, tmp_path: Path) -> None:
    """A WKT table in UTM 18S metres: refused with the fix, then read with --assume-crs NAME=."""
    utm = gpd.read_file(files["anp1"]).to_crs(32718)
    table = tmp_path / "anp_utm.csv"
    pd.DataFrame({"codigo": ["U1"], "wkt": [utm.geometry.iloc[0].wkt]}).to_csv(table, index=False)
    base = ["--territories", str(files["territories"]), "--communities", str(files["communities"]),
            "--areas", f"zone={table}"]  # fmt: skip
    refused = run([*base, "--out", str(tmp_path / "o1")])
    assert refused.exit_code == 1 and "--assume-crs" in refused.output
    result = run([*base, "--assume-crs", "zone=EPSG:32718", "--out", str(tmp_path / "o2")])
    assert result.exit_code == 0, result.output
    assert "Communities: 1 of 3 inside zone" in result.output  # A, as in P1
    ledger = json.loads((tmp_path / "o2" / "qa" / "areas_zone.json").read_text(encoding="utf-8"))
    assert ledger["notes"]["crs_assumed"] == "EPSG:32718"
