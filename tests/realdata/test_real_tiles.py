"""Vector tiles of a real study: the Amazon Mining Watch communities and 2025 detections.

``geotools map --tiles`` on the 39 AMW territory features (21 communities once grouped by name)
and the Q3 and Q4 mining detections (219 each): every community and detection is in its
archive at the highest zoom, with the same figures as ``geotools stats`` computes, and the
whole folder of archives is small (measured: about 240 kB).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from geotools.cli import main
from geotools.maps import TILE_PROPERTIES
from geotools.maps.tiles import TILE_MAXZOOM

pytestmark = pytest.mark.realdata

AMW = "amazon-mining-watch"
TERRITORIES = f"{AMW}/peru_indigenous_territories_mining_impacts_v2025-11-07.geojson"
DETECTIONS = [f"{AMW}/peru_mining_detections_2025{q}_new_gt11ha.geojson" for q in ("Q3", "Q4")]


def test_amw_study_as_tiles(realdata: Path, tmp_path: Path) -> None:
    layers = [
        "--territories", str(realdata / TERRITORIES),
        "--concessions", str(realdata / DETECTIONS[0]),
        "--concessions", str(realdata / DETECTIONS[1]),
        "--default", "concessions.kind=mining", "--group-territories", "name",
    ]
    out = tmp_path / "site"
    runner = CliRunner()
    result = runner.invoke(main, ["map", *layers, "--lang", "en", "--tiles", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["stats", *layers, "--out", str(tmp_path / "stats")])
    assert result.exit_code == 0, result.output

    def read(kind: str) -> pd.DataFrame:
        return pyogrio.read_dataframe(
            out / f"{kind}.pmtiles", layer=kind, ZOOM_LEVEL=TILE_MAXZOOM, read_geometry=False
        )

    territories = read("territories").drop_duplicates("territory_id").set_index("territory_id")
    stats = pd.read_csv(tmp_path / "stats" / "territory_stats.csv").set_index("territory_id")
    assert len(territories) == len(stats) == 21
    joined = stats.join(territories.add_suffix("_tile"))
    pd.testing.assert_series_equal(
        joined["claimed_ha_tile"], joined["claimed_ha"].round(1), check_names=False, atol=0.051
    )
    pd.testing.assert_series_equal(
        joined["concession_ha_tile"], joined["concession_ha"].round(1), check_names=False,
        atol=0.051,
    )
    concessions = read("concessions")
    assert concessions["concession_id"].nunique() == 2 * 219
    assert set(concessions["kind"]) == {"mining"}
    for path in out.glob("*.pmtiles"):
        fields = set(pyogrio.read_info(path, layer=path.stem)["fields"]) - {"mvt_id"}
        assert fields <= set(TILE_PROPERTIES[path.stem])
    assert sum(path.stat().st_size for path in out.glob("*.pmtiles")) < 500_000
