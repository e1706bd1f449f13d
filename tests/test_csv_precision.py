"""CSV hectares keep 4 decimals (issue 13, item 12): 0.01 ha distorted small overlaps by 5 %."""

from __future__ import annotations

import pandas as pd
import pyogrio
from click.testing import CliRunner
from pyproj import Geod
from shapely import box

from geotools.cli import main
from tests.conftest import frame, km_box


def test_small_overlap_written_to_the_square_metre(tmp_path):
    # A 10 m x 123.4 m concession inside a 1 km square territory: 1,234 m² = 0.1234 ha.
    small = box(500, 500, 510, 623.4)
    layers = {
        "territories": frame(
            [{"territory_id": "T", "name": "Tee", "geometry": km_box(0, 0, 1, 1)}]
        ),
        "parcels": frame([{"parcel_id": "P", "tenure": "titled", "geometry": km_box(0, 0, 1, 1)}]),
        "concessions": frame(
            [{"concession_id": "C", "kind": "mining", "status": "active", "geometry": small}]
        ),
    }
    args = ["stats", "--out", str(tmp_path / "out")]
    for kind, layer in layers.items():
        path = tmp_path / f"{kind}.gpkg"
        pyogrio.write_dataframe(layer, path)
        args += [f"--{kind}", str(path)]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output

    wgs = frame([{"geometry": small}]).to_crs(4326).geometry.iloc[0]
    truth = abs(Geod(ellps="WGS84").geometry_area_perimeter(wgs)[0]) / 1e4
    assert abs(truth - 0.1234) < 1e-5  # the equal-area plane is true to 1e-5 ha here
    table = pd.read_csv(tmp_path / "out" / "territory_stats.csv")
    assert table.loc[0, "concession_ha"] == round(truth, 4)  # 0.1234, not 0.12 (-2.8 %)
    overlaps = pd.read_csv(tmp_path / "out" / "overlaps.csv")
    assert overlaps.loc[0, "overlap_ha"] == round(truth, 4)
    assert table.loc[0, "claimed_ha"] == 100.0
