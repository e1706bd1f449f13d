"""Overlaps weighted by an attribute (issue 13, item 15): the Amazon Mining Watch detections carry
"Mined area (ha)" inside a larger footprint; pro-rated by the share of each footprint inside a
community, they give mined hectares per community, not only footprints."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod

from geotools.cli import main

pytestmark = pytest.mark.realdata

AMW = "amazon-mining-watch/peru_indigenous_territories_mining_impacts_v2025-11-07.geojson"
DETECTIONS = "amazon-mining-watch/peru_mining_detections_2025Q4_new_gt11ha.geojson"
GEOD = Geod(ellps="WGS84")


def geod_ha(geom: shapely.Geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e4 if not geom.is_empty else 0.0


def test_mined_hectares_per_community(realdata, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "stats",
            "--territories",
            str(realdata / AMW),
            "--group-territories",
            "name",
            "--concessions",
            str(realdata / DETECTIONS),
            "--weight",
            "concessions=Mined area (ha)",
            "--out",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "territory_stats.csv").set_index("name")
    overlaps = pd.read_csv(out / "overlaps.csv")
    assert "prorated_mined_area_ha" in table.columns and "prorated_mined_area_ha" in overlaps

    # By hand: mined x (footprint inside / footprint), pyproj.Geod areas, per community.
    territories = gpd.read_file(realdata / AMW)
    detections = gpd.read_file(realdata / DETECTIONS)
    footprints = shapely.make_valid(detections.geometry.to_numpy())
    footprint_ha = np.array([geod_ha(g) for g in footprints])
    mined = detections["Mined area (ha)"].to_numpy(dtype=float)
    expected = {}
    for name, parts in territories.groupby("name_field"):
        land = shapely.union_all(shapely.make_valid(parts.geometry.to_numpy()))
        inside = np.array([geod_ha(shapely.intersection(g, land)) for g in footprints])
        expected[name] = float(np.sum(mined * inside / footprint_ha))
    expected = pd.Series(expected)
    assert (expected > 0).sum() == 11  # communities touched by 2025Q4 detections
    # 1e-3: the oracle cuts with edges straight in lon/lat, geotools along geodesics (a few
    # territory edges are longer than 2 km; docs/area.md).
    np.testing.assert_allclose(
        table.loc[expected.index, "prorated_mined_area_ha"], expected, rtol=1e-3, atol=2e-3
    )
    assert table.loc["TRES ISLAS", "prorated_mined_area_ha"] == pytest.approx(50.354, abs=0.01)
    # The footprint overlaps more than the mined area inside it.
    assert table.loc["TRES ISLAS", "concession_ha"] == pytest.approx(319.25, abs=0.01)
    # Pairs add up to the territory totals.
    by_territory = overlaps.groupby("territory_id")["prorated_mined_area_ha"].sum()
    per_id = table.reset_index().set_index("territory_id")["prorated_mined_area_ha"]
    np.testing.assert_allclose(per_id.loc[by_territory.index], by_territory, atol=1e-3)


def test_weight_must_be_a_numeric_column(realdata, tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "stats",
            "--territories",
            str(realdata / AMW),
            "--concessions",
            str(realdata / DETECTIONS),
            "--weight",
            "concessions=NOMBDEP",
            "--out",
            str(tmp_path / "x"),
        ],
    )
    assert result.exit_code == 1
    assert "column 'NOMBDEP' is not numeric ('CAJAMARCA')" in result.output
    assert not (tmp_path / "x").exists()
