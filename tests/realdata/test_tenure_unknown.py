"""No parcel layer: tenure unknown, never zero; legal titled area beside the drawn one
(issue 13, item 3), on the real Amazon Mining Watch communities."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod

from geotools.analysis.stats import compute_territory_stats
from geotools.cli import main
from geotools.io import read_layer
from geotools.maps.compact import page_popups

pytestmark = pytest.mark.realdata

AMW = "amazon-mining-watch/peru_indigenous_territories_mining_impacts_v2025-11-07.geojson"
DETECTIONS = "amazon-mining-watch/peru_mining_detections_2025Q4_new_gt11ha.geojson"
TENURE = ["titled", "secured", "untitled", "in_process"]


def test_stats_without_parcels_leave_tenure_unknown(realdata, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "stats",
            "--territories",
            str(realdata / AMW),
            "--concessions",
            str(realdata / DETECTIONS),
            "--out",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    raw = (out / "territory_stats.csv").read_text(encoding="utf-8").splitlines()
    header = raw[0].split(",")
    san_mateo = next(line for line in raw if ",SAN MATEO," in line).split(",")
    for name in TENURE:
        for suffix in ("_ha", "_pct"):
            assert san_mateo[header.index(name + suffix)] == "", name + suffix  # empty, not 0
    assert san_mateo[header.index("concession_untitled_ha")] == ""
    table = pd.read_csv(out / "territory_stats.csv")
    assert table[[f"{n}_ha" for n in TENURE]].isna().all().all()
    assert table["risk_missing"].str.contains("tenure").all()
    assert table["risk_tenure"].isna().all()
    assert "SAN MATEO: 21,797 ha claimed, tenure unknown, 0 ha under concessions" in result.output
    assert "ha titled" not in result.output
    overlaps = pd.read_csv(out / "overlaps.csv")
    assert len(overlaps) and overlaps["on_untitled_ha"].isna().all()
    qa_files = {p.name for p in (out / "qa").iterdir()}
    assert qa_files == {"territories.json", "concessions.json"}

    # Legal titled area (area_field, 0 = unknown) beside the drawn area, large gaps flagged.
    geod = Geod(ellps="WGS84")
    amw = gpd.read_file(realdata / AMW).set_index("id")
    by_id = table.set_index("territory_id")
    for tid, legal in (("PE953_0", 22270.5747), ("PE645_0", 4736.0)):
        drawn = abs(geod.geometry_area_perimeter(shapely.make_valid(amw.geometry[tid]))[0]) / 1e4
        assert amw.loc[tid, "area_field"] == legal
        assert by_id.loc[tid, "legal_titled_ha"] == legal
        assert by_id.loc[tid, "drawn_vs_legal_pct"] == pytest.approx(
            100 * (drawn - legal) / legal, abs=0.01
        )
    assert by_id.loc["PE953_0", "legal_area_differs"] == False  # SAN MATEO -2.1 %  # noqa: E712
    assert by_id.loc["PE645_0", "legal_area_differs"] == True  # SENSA +112.6 %  # noqa: E712
    assert np.isnan(by_id.loc["PE3281_0", "legal_titled_ha"])  # PUERTO LUZ: 0 = unknown
    assert header.index("legal_titled_ha") == header.index("claimed_ha") + 1


@pytest.mark.slow  # about 40 s: the risk surface spans Madre de Dios to Loreto at 1 km
def test_map_and_publish_without_parcels(realdata, tmp_path):
    common = ["--territories", str(realdata / AMW), "--concessions", str(realdata / DETECTIONS)]
    result = CliRunner().invoke(
        main, ["map", *common, "--lang", "en", "--out", str(tmp_path / "map.html")]
    )
    assert result.exit_code == 0, result.output
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    popups = "\n".join(page_popups(page))  # built in the browser from rows (issue 15)
    assert "ha claimed; tenure unknown" in popups
    assert "ha titled (" not in popups
    # The risk hexagons: tenure unknown, never a plausible 0 (issue 15).
    assert "Untitled share: n/a (tenure not known here)" in page
    assert "Untitled share: 0.00" not in page
    assert "Where tenure is not known, the risk surface leaves it out" in page
    result = CliRunner().invoke(main, ["publish", *common, "--out", str(tmp_path / "bundle")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "bundle" / "territory_stats.csv")
    assert table["titled_ha"].isna().all()
    # The totals, counted once, in the bundle (issue 15); titled unknown, not 0.
    totals = json.loads((tmp_path / "bundle" / "datapackage.json").read_text())["geotools"]
    totals = totals["totals"]
    assert totals["territories"] == len(table)
    assert totals["claimed_sum_of_rows_ha"] == pytest.approx(table["claimed_ha"].sum(), abs=0.01)
    assert 0 < totals["claimed_union_ha"] <= totals["claimed_sum_of_rows_ha"]
    assert totals["titled_union_ha"] is None and totals["titled_sum_of_rows_ha"] is None
    readme = (tmp_path / "bundle" / "README.md").read_text(encoding="utf-8")
    assert "| titled\\_union\\_ha | unknown |" in readme


def test_python_api_takes_no_parcels(realdata):
    territories = read_layer(realdata / AMW, "territories").frame
    result = compute_territory_stats(territories, None)
    assert result.table["untitled_pct"].isna().all()
    assert result.untitled is None
    assert json.dumps(result.claimed_total)  # stated even without tenure
