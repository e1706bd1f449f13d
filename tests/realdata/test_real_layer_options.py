"""Real layers read the way an analyst asks (issue 13, items 1, 2, 4, 5 and 8), through the CLI.

The INGEMMET cadastre (UTM 17S, no CRS tag) over the Amazon Mining Watch communities (GeoJSON in
degrees) with one ``--assume-crs``; both quarters of the AMW mining detections as one mining
layer; the oil blocks as ``oil_gas``; the monitors' records with their coordinates swapped.
Hectares are checked by hand with ``pyproj.Geod`` (intersections in longitude/latitude).
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod

from geotools.cli import main
from geotools.errors import ValidationError
from geotools.io import read_layer

pytestmark = pytest.mark.realdata

GEOD = Geod(ellps="WGS84")
AMW = "amazon-mining-watch/peru_indigenous_territories_mining_impacts_v2025-11-07.geojson"
Q3 = "amazon-mining-watch/peru_mining_detections_2025Q3_new_gt11ha.geojson"
Q4 = "amazon-mining-watch/peru_mining_detections_2025Q4_new_gt11ha.geojson"
CADASTRE_UTM = "ingemmet-catastro-minero-17s/catastro_minero_17s_2026-03-10_utm17s.geojson"
OIL = "observatorio-ambiental-peruano/lotes-petroleros.geojson"
MONITORS = "observatorio-ambiental-peruano/monitoreo-indigena_sample.csv"


def geod_ha(geometry) -> float:
    """Geodesic area (ha) of a lon/lat (multi)polygon, part by part."""
    parts = shapely.get_parts(np.asarray([geometry], dtype=object))
    return sum(abs(GEOD.geometry_area_perimeter(p)[0]) for p in parts) / 1e4


@pytest.fixture
def parcels(tmp_path):
    """One tiny parcel far from every territory (the CLI still asks for a parcel layer)."""
    path = tmp_path / "parcels.geojson"
    frame = gpd.GeoDataFrame(
        {"parcel_id": ["p1"]}, geometry=[shapely.box(-70.0, -20.0, -69.99, -19.99)], crs=4326
    )
    path.write_text(frame.to_json(drop_id=True), encoding="utf-8")
    return path


def run_stats(args: list[str], out) -> pd.DataFrame:
    result = CliRunner().invoke(main, ["stats", *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return pd.read_csv(out / "territory_stats.csv", dtype={"territory_id": str})


@pytest.mark.parametrize("crs_option", ["EPSG:32717", "concessions=EPSG:32717"])
def test_cadastre_without_crs_over_communities_in_degrees(realdata, parcels, tmp_path, crs_option):
    """Item 1: one --assume-crs for the run (or for the cadastre only) reaches only the file
    that declares no CRS; the communities keep their degrees (before: read as UTM metres,
    every claimed_ha 0.0, exit 0)."""
    out = tmp_path / "out"
    table = run_stats(
        ["--territories", str(realdata / AMW), "--parcels", str(parcels),
         "--concessions", str(realdata / CADASTRE_UTM), "--assume-crs", crs_option,
         "--default", "concessions.kind=mining"],
        out,
    )
    territories = gpd.read_file(realdata / AMW)
    by_id = dict(zip(territories["id"].astype(str), territories.geometry, strict=True))
    expected = np.array([geod_ha(by_id[i]) for i in table["territory_id"]])
    np.testing.assert_allclose(table["claimed_ha"], expected, rtol=1e-4, atol=0.005)  # 0.01 ha CSV
    assert table["claimed_ha"].min() > 1  # nothing read as metres

    # The cadastre's overlap, by hand: its polygons in degrees, unioned, cut by the community.
    cadastre = gpd.read_file(realdata / CADASTRE_UTM).set_crs(32717, allow_override=True)
    cadastre = shapely.union_all(shapely.make_valid(cadastre.to_crs(4326).geometry.to_numpy()))
    row = table.set_index("name").loc["AMPLIACION TUNAS"]
    tunas = by_id[row["territory_id"]]
    hand = geod_ha(shapely.intersection(tunas, cadastre))
    assert hand == pytest.approx(4013, abs=1)  # 40.6 % of its 9,885 ha
    assert row["concession_ha"] == pytest.approx(hand, rel=1e-3)
    assert row["concession_mining_ha"] == pytest.approx(hand, rel=1e-3)
    touched = table[table["concession_ha"] > 0]["name"].tolist()
    assert touched == ["AMPLIACION TUNAS"]

    qa_t = json.loads((out / "qa" / "territories.json").read_text())["notes"]
    qa_c = json.loads((out / "qa" / "concessions.json").read_text())["notes"]
    if crs_option == "EPSG:32717":
        assert qa_t["crs_assumption"] == "ignored: the file declares EPSG:4326"
    else:
        assert "crs_assumption" not in qa_t
    assert qa_t["crs"] == "EPSG:4326"
    assert qa_c["crs"] == "EPSG:32717"
    assert qa_c["crs_assumption"].startswith("applied")
    assert qa_c["fields"]["defaulted"]["kind"] == "mining"


def test_both_detection_quarters_as_one_mining_layer(realdata, parcels, tmp_path):
    """Items 2 and 4: --concessions Q3 --concessions Q4 reads both (before: only Q4), kind
    mining for the whole layer (before: other), src_index ids made unique across files."""
    out = tmp_path / "out"
    table = run_stats(
        ["--territories", str(realdata / AMW), "--parcels", str(parcels),
         "--concessions", str(realdata / Q3), "--concessions", str(realdata / Q4),
         "--default", "concessions.kind=mining",
         "--map", "concessions.concession_id=src_index"],
        out,
    )
    qa = json.loads((out / "qa" / "concessions.json").read_text())
    assert qa["read"] == 219 + 219
    assert qa["notes"]["files"] == {Q3.split("/")[1]: 219, Q4.split("/")[1]: 219}
    assert qa["notes"]["ids_renamed"] == 150  # src_index 0..312 of Q4 shared with Q3's 0..345
    assert qa["valid"] + qa["repaired"] + qa["rejected"] == 438
    gpkg = gpd.read_file(out / "analysis.gpkg", layer="concessions")
    assert gpkg["concession_id"].is_unique
    counts = gpkg["source_file"].value_counts()
    assert set(counts.index) == {Q3.split("/")[1], Q4.split("/")[1]}
    assert counts.min() >= 200 and counts.sum() == len(gpkg)
    assert set(gpkg["kind"]) == {"mining"}

    # By hand: both quarters, made valid, unioned, cut by each community, geodesic hectares.
    detections = pd.concat([gpd.read_file(realdata / Q3), gpd.read_file(realdata / Q4)])
    mined = shapely.union_all(shapely.make_valid(detections.geometry.to_numpy()))
    territories = gpd.read_file(realdata / AMW)
    by_id = dict(zip(territories["id"].astype(str), territories.geometry, strict=True))
    expected = np.array(
        [geod_ha(shapely.intersection(by_id[i], mined)) for i in table["territory_id"]]
    )
    np.testing.assert_allclose(table["concession_mining_ha"], expected, rtol=1e-3, atol=0.01)
    np.testing.assert_allclose(table["concession_ha"], expected, rtol=1e-3, atol=0.01)
    assert (table["concession_other_ha"] == 0).all()
    q4_only = shapely.union_all(shapely.make_valid(gpd.read_file(realdata / Q4).geometry.values))
    only_q4 = sum(geod_ha(shapely.intersection(by_id[i], q4_only)) for i in table["territory_id"])
    assert table["concession_ha"].sum() > only_q4 + 100  # Q3 counted too


def test_oil_blocks_are_oil_gas_with_a_layer_default(realdata):
    """Item 4: the oil blocks carry no kind column; a layer default makes them oil_gas."""
    before = read_layer(realdata / OIL, "concessions")
    assert set(before.frame["kind"]) == {"other"}
    layer = read_layer(realdata / OIL, "concessions", defaults={"kind": "oil_gas"})
    assert set(layer.frame["kind"]) == {"oil_gas"}
    assert len(layer.frame) == 78


def test_map_typo_on_real_territories_is_refused(realdata, parcels, tmp_path):
    """Item 5: a typo in --map was silently ignored (names lost); now exit 2 with the names."""
    result = CliRunner().invoke(main, [
        "stats", "--territories", str(realdata / AMW), "--parcels", str(parcels),
        "--map", "territories.nmae=name_field", "--out", str(tmp_path / "out"),
    ])
    assert result.exit_code == 2
    assert "unknown column 'nmae'" in result.output
    assert "did you mean 'name'" in result.output
    assert not (tmp_path / "out").exists()


def test_monitors_records_with_swapped_columns_are_refused(realdata, tmp_path):
    """Item 8: the monitors' 95 Loreto records with the lon/lat headers exchanged land at
    latitude -76.6..-75.1 (off Antarctica), all within ±90°; refused with a runnable fix."""
    table = pd.read_csv(realdata / MONITORS, dtype=str)
    swapped = table.rename(columns={"lon": "lat", "lat": "lon"})
    path = tmp_path / "monitoreo_swapped.csv"
    swapped.to_csv(path, index=False)
    common = ["validate", str(path), "--as", "incidents",
              "--map", "incidents.incident_id=codigo", "--map", "incidents.date=detecto"]
    refused = CliRunner().invoke(main, common)
    assert refused.exit_code == 1
    assert "latitude and longitude look swapped in the whole incidents layer" in refused.output
    assert "south of 60°S" in refused.output
    fix = "--map incidents.lon=lat --map incidents.lat=lon"
    assert fix in refused.output
    fixed = CliRunner().invoke(main, [*common, *fix.split()])
    assert fixed.exit_code == 0, fixed.output
    assert "look swapped" not in fixed.output
    layer = read_layer(path, "incidents", mapping={"incident_id": "codigo", "date": "detecto",
                                                   "lon": "lat", "lat": "lon"})
    original = table.set_index("codigo")
    xy = shapely.get_coordinates(layer.frame.geometry.to_numpy())
    ids = layer.frame["incident_id"].to_numpy()
    np.testing.assert_allclose(xy[:, 0], original.loc[ids, "lon"].astype(float))
    np.testing.assert_allclose(xy[:, 1], original.loc[ids, "lat"].astype(float))
    assert len(ids) > 80
    with pytest.raises(ValidationError, match="swapped in the whole incidents layer"):
        read_layer(path, "incidents", source="monitoring")
