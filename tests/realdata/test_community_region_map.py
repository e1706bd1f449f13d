"""The national map of issue 14 from the real files: 1,600 community points and the 25 INEI
departments shaded by the 81 Defensoría mining conflicts (March 2024), public profile.

The figures are those hand-checked in ``test_region_stats.py``: Cusco 10 conflicts (9 labelled
Cusco plus DP-2024-03-053, geocoded there), Áncash and Apurímac 9; Ucayali and Loreto none and
Madre de Dios 1, all three shown as "fewer than 3" (the conflicts are public records, so the
public map counts all 81; suppression still hides every count below the floor of 3, zero
included). 74 community points in Cusco, 580 in Loreto (``test_native_communities_by_
department``). The 1,600 points stay light: the community layer's data is about 0.27 MB.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from geotools.cli import main

pytestmark = pytest.mark.realdata

OAP = "observatorio-ambiental-peruano"
CONFLICTS = "defensoria-conflictos-mineros/conflictos_mineros_defensoria_2024-03.csv"
DEPARTMENTS = "peru-geojson-inei/peru_departamental_simple.geojson"


def _embedded(page: str, prefix: str) -> list[tuple[Any, int]]:
    decoder = json.JSONDecoder()
    found = []
    for match in re.finditer(re.escape(prefix), page):
        try:
            value, end = decoder.raw_decode(page, match.end())
        except json.JSONDecodeError:
            continue
        found.append((value, end - match.end()))
    return found


def test_national_map_of_communities_and_conflicts(realdata: Path, tmp_path: Path) -> None:
    conflicts = tmp_path / "conflicts.gpkg"
    runner = CliRunner()
    result = runner.invoke(
        main, ["import", "defensoria", str(realdata / CONFLICTS), "--out", str(conflicts)]
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "map.html"
    args = [
        "map", "--territories", realdata / OAP / "reservas-territoriales.geojson",
        "--concessions", realdata / OAP / "lotes-petroleros.geojson",
        "--default", "concessions.kind=oil_gas",
        "--communities", realdata / OAP / "comunidades-nativas.geojson",
        "--incidents", conflicts, "--regions", realdata / DEPARTMENTS,
        "--shade-regions", "incidents", "--no-hexagons", "--lang", "en", "--out", out,
    ]  # fmt: skip
    result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    (communities, size), = [(d, n) for d, n in _embedded(page, "var D = ") if "pts" in d]
    assert len(communities["pts"]) == 1600
    assert size < 320_000, size
    inside = [s for s in communities["inside"] if s]
    assert len(inside) == 423  # the Observatorio's 423 communities inside oil blocks
    assert sum("108 · " in s for s in inside) == 165  # block 108
    regions = next(
        {f["properties"]["tooltip"].split(":")[0]: f["properties"] for f in c["features"]}
        for c, _ in _embedded(page, "_add(")
        if any(f["properties"].get("tooltip", "").startswith("CUSCO") for f in c["features"])
    )
    assert len(regions) == 25
    tips = {name: p["tooltip"].split(": ", 1)[1] for name, p in regions.items()}
    assert (tips["CUSCO"], tips["ANCASH"], tips["APURIMAC"]) == ("10", "9", "9")
    for name in ("UCAYALI", "LORETO", "MADRE DE DIOS"):
        assert tips[name] == "fewer than 3"
    assert "<th>Community points</th><td>74</td>" in regions["CUSCO"]["popup"]
    assert "<th>Community points</th><td>580</td>" in regions["LORETO"]["popup"]


def test_departments_shaded_by_communities_have_integer_classes(
    realdata: Path, tmp_path: Path
) -> None:
    """The 25 departments shaded by their native-community points: breaks 0, 3, 84, 580 (the
    quantiles rounded up to whole numbers), read "0–2", "3–83", "84–580" (before: "0–3, 3–84,
    84–580", a department with 3 or 84 in two classes). Counted by hand from the tooltips:
    14 departments with 0 and Ayacucho with 2 in the first class; Cajamarca 4, Huánuco 13,
    Madre de Dios 24, San Martín 36, Cusco 74 in the second; Pasco 125, Junín 208, Amazonas 211,
    Ucayali 321, Loreto 580 in the third."""
    out = tmp_path / "map.html"
    args = [
        "map", "--territories", realdata / OAP / "reservas-territoriales.geojson",
        "--communities", realdata / OAP / "comunidades-nativas.geojson",
        "--regions", realdata / DEPARTMENTS, "--shade-regions", "communities",
        "--no-hexagons", "--basemap", "none", "--lang", "en", "--out", out,
    ]  # fmt: skip
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    section = re.search(r'gt-sec\\">Community points<\\/div>(.*?)gt-sec', page)
    assert section is not None
    legend = re.findall(r"</span>([^<]*)<", json.loads(f'"{section.group(1)}"'))
    assert legend == ["0–2", "3–83", "84–580"]
    regions = next(
        {f["properties"]["tooltip"]: f["properties"]["k"] for f in c["features"]}
        for c, _ in _embedded(page, "_add(")
        if any(f["properties"].get("tooltip", "").startswith("CUSCO") for f in c["features"])
    )
    by_class: dict[int, list[int]] = {}
    for tip, k in regions.items():
        by_class.setdefault(k, []).append(int(tip.split(": ")[1]))
    assert {k: sorted(v) for k, v in by_class.items()} == {
        0: [0] * 14 + [2],
        1: [4, 13, 24, 36, 74],
        2: [125, 208, 211, 321, 580],
    }


def test_national_tiles_carry_departments_and_community_points(
    realdata: Path, tmp_path: Path
) -> None:
    """The same national map as vector tiles (public): regions.pmtiles holds the 25
    departments with the counts of the HTML map (Cusco 10, Áncash 9; Ucayali, Loreto and Madre
    de Dios "<3", the "fewer than" class -2) and communities.pmtiles the 1,600 points with
    their recounted figures, both read back with GDAL."""
    import pyogrio

    conflicts = tmp_path / "conflicts.gpkg"
    runner = CliRunner()
    result = runner.invoke(
        main, ["import", "defensoria", str(realdata / CONFLICTS), "--out", str(conflicts)]
    )
    assert result.exit_code == 0, result.output
    site = tmp_path / "site"
    args = [
        "map", "--territories", realdata / OAP / "reservas-territoriales.geojson",
        "--communities", realdata / OAP / "comunidades-nativas.geojson",
        "--incidents", conflicts, "--regions", realdata / DEPARTMENTS,
        "--shade-regions", "incidents", "--no-hexagons", "--basemap", "none",
        "--lang", "en", "--tiles", site,
    ]  # fmt: skip
    result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    regions = pyogrio.read_dataframe(site / "regions.pmtiles", layer="regions", ZOOM_LEVEL=4)
    regions = regions.drop_duplicates("region_id").set_index("region")
    assert len(regions) == 25
    for name, count in (("CUSCO", "10"), ("ANCASH", "9"), ("APURIMAC", "9")):
        assert regions.loc[name, "incidents"] == count and regions.loc[name, "k"] >= 0
    for name in ("UCAYALI", "LORETO", "MADRE DE DIOS"):
        assert (regions.loc[name, "incidents"], regions.loc[name, "k"]) == ("<3", -2)
    assert regions.loc["LORETO", "communities"] == "580"
    # Zoom 0 is one tile: each point once (higher zooms repeat points in tile buffers).
    points = pyogrio.read_dataframe(
        site / "communities.pmtiles", layer="communities", ZOOM_LEVEL=0
    )
    assert len(points) == 1600
    assert set(points.columns) - {"mvt_id", "geometry"} <= {
        "name", "people", "population", "families", "incidents_nearby", "exact"
    }
    for kind in ("regions", "communities"):
        assert (site / f"{kind}.pmtiles").stat().st_size < 600_000
