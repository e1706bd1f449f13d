"""Duplicate and multi-part territories on the real Amazon Mining Watch layer (issue 13, item 6).

The 2025-11-07 layer has 39 rows: three communities (EL PILAR, BOCA DEL INAMBARI, PUERTO LUZ)
are listed twice with the same polygon under two ids (+71,336 ha, +5.2 % when rows are summed),
and eight communities come in 2-5 parts (KOTSIMBA: objectid 1050, 1210, 1211). Copies become
one row; ``--group-territories`` merges parts; every run states the union, counted once.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod

from geotools.cli import main
from tests.conftest import REALDATA

pytestmark = pytest.mark.realdata

AMW = "amazon-mining-watch/peru_indigenous_territories_mining_impacts_v2025-11-07.geojson"
GEOD = Geod(ellps="WGS84")


def geod_ha(geom: shapely.Geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e4


def run(args: list[str]) -> str:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def raw() -> gpd.GeoDataFrame:
    if not (REALDATA / AMW).exists():
        pytest.skip("real data absent")  # the realdata fixture fails first in CI
    frame = gpd.read_file(REALDATA / AMW)
    frame["geometry"] = shapely.make_valid(frame.geometry.to_numpy())
    frame["ha"] = [geod_ha(g) for g in frame.geometry]
    return frame


def test_exact_copies_become_one_row_and_the_union_is_stated(realdata, raw, tmp_path):
    # By hand: the three copies and the double count of summing rows.
    wkb = pd.Series(shapely.to_wkb(shapely.normalize(raw.geometry.to_numpy())))
    copies = wkb.duplicated().to_numpy()
    assert sorted(raw.loc[copies, "id"]) == ["PE3348_0", "PE3349_0", "PE3350_0"]
    assert raw.loc[copies, "ha"].sum() == pytest.approx(71_336.4, abs=0.5)
    union_ha = geod_ha(shapely.union_all(raw.geometry.to_numpy()))
    assert raw["ha"].sum() / union_ha - 1 == pytest.approx(0.0515, abs=5e-4)  # +5.2 % today

    out = tmp_path / "out"
    log = run(["stats", "--territories", str(realdata / AMW), "--out", str(out)])
    table = pd.read_csv(out / "territory_stats.csv")
    assert len(table) == 36
    assert not set(table["territory_id"]) & {"PE3348_0", "PE3349_0", "PE3350_0"}
    distinct = raw.loc[~copies].set_index("id")["ha"]
    got = table.set_index("territory_id")["claimed_ha"]
    np.testing.assert_allclose(got.loc[distinct.index], distinct, rtol=1e-5, atol=1e-4)
    assert got.sum() == pytest.approx(raw["ha"].sum() - 71_336.4, abs=1.0)

    qa = json.loads((out / "qa" / "territories.json").read_text())
    assert (qa["read"], qa["valid"], qa["merged"]) == (39, 36, 3)
    copied = {p["feature"]: p for p in qa["problems"] if "exact copy" in p["problem"]}
    assert copied["PE3350_0"]["problem"] == "exact copy of PE3281_0 (same geometry and name)"
    assert copied["PE3350_0"]["action"] == "merged into PE3281_0 (one row)"

    total = json.loads((out / "provenance.json").read_text())["facts"]["claimed_total"]
    assert total["territories"] == 36
    assert total["union_ha"] == pytest.approx(union_ha, rel=1e-5)
    # What is still counted twice over rows: parts that overlap each other (28 ha), not 71,336.
    assert total["sum_of_rows_ha"] - total["union_ha"] == pytest.approx(
        total["double_counted_ha"], abs=1e-3
    )
    assert 20 < total["double_counted_ha"] < 40
    assert "36 territories claim 1,385,01" in log and "(union, counted once)" in log


def test_group_territories_merges_parts_sharing_a_name(realdata, raw, tmp_path):
    out = tmp_path / "grouped"
    run(
        [
            "stats",
            "--territories",
            str(realdata / AMW),
            "--group-territories",
            "name_field",  # the source column; the canonical "name" works too
            "--out",
            str(out),
        ]
    )
    table = pd.read_csv(out / "territory_stats.csv")
    assert len(table) == 21  # 39 rows, 21 distinct names
    assert table["name"].is_unique
    by_name = table.set_index("name")
    for name in ("KOTSIMBA", "SAN JOSE DE KARENE", "NUEVO UNIDOS TAHUANTINSUYO", "TRES ISLAS"):
        parts = raw.loc[raw["name_field"] == name].geometry.to_numpy()
        assert by_name.loc[name, "claimed_ha"] == pytest.approx(
            geod_ha(shapely.union_all(parts)), rel=1e-5
        )
    assert by_name.loc["KOTSIMBA", "territory_id"] == "PE1050_0"  # first part keeps its id
    joined = pyogrio.read_dataframe(out / "analysis.gpkg", layer="territory_stats")
    kotsimba = joined.loc[joined["name"] == "KOTSIMBA"].iloc[0]
    assert kotsimba["parts"] == 3
    assert kotsimba["part_ids"] == "PE1050_0; PE1210_0; PE1211_0"
    qa = json.loads((out / "qa" / "territories.json").read_text())
    assert qa["merged"] == 18  # 3 copies + 15 further parts
    total = json.loads((out / "provenance.json").read_text())["facts"]["claimed_total"]
    union_ha = geod_ha(shapely.union_all(raw.geometry.to_numpy()))
    assert total["union_ha"] == pytest.approx(union_ha, rel=1e-5)  # same land, counted once
    assert total["territories"] == 21
    assert table["claimed_ha"].sum() == pytest.approx(total["sum_of_rows_ha"], abs=0.01)


def test_unknown_group_column_names_the_choices(realdata, tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "stats",
            "--territories",
            str(realdata / AMW),
            "--group-territories",
            "nmae",
            "--out",
            str(tmp_path / "x"),
        ],
    )
    assert result.exit_code == 1
    assert "no column 'nmae' to group territories by; use one of" in result.output
    assert "name_field" in result.output
