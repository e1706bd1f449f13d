"""Map size budget on a small multi-region study (issue 15).

Four 2 x 2 km territories at the corners of Peru and two incidents: the old map computed risk
hexagons over the whole bounding box of the study (about 1,100 x 1,700 km: over 100,000
hexagons, a page of tens of MB). The map now keeps hexagons near the territories and incidents
only, under a budget; the page must stay small. Sizes, not timings.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point, box

from geotools import pipeline
from geotools.cli import main
from geotools.maps.files import MAP_HEXAGON_BUDGET, compute_map_hexagons

#: Page size a four-territory study may reach (the old page was about 49 MB; 100,726 bytes
#: with the hexagons trimmed, 99,072 with compact territory layers, issue 15 part C: most of
#: what is left is the risk-hexagon layer and Leaflet's plugins' tags).
SIZE_BUDGET = 120_000
CORNERS = [(-80.4, -4.0), (-69.6, -11.0), (-70.4, -17.6), (-73.6, -2.6)]


def study(tmp_path: Path) -> list[str]:
    d = 0.009  # about 1 km of latitude
    territories = gpd.GeoDataFrame(
        {
            "territory_id": [f"T{i}" for i in range(len(CORNERS))],
            "name": [f"Comunidad {i}" for i in range(len(CORNERS))],
        },
        geometry=[box(x - d, y - d, x + d, y + d) for x, y in CORNERS],
        crs=4326,
    )
    incidents = gpd.GeoDataFrame(
        {
            "incident_id": ["I1", "I2"],
            "date": ["2024-01-01", "2024-06-01"],
            "kind": ["threat", "invasion"],
            "severity": [3, 4],
            "sensitivity": ["public", "public"],
        },
        geometry=[Point(-80.38, -4.0), Point(-75.0, -9.0)],  # near T0; far from all
        crs=4326,
    )
    territories.to_file(tmp_path / "t.geojson")
    incidents.to_file(tmp_path / "i.geojson")
    return [
        "--territories", str(tmp_path / "t.geojson"),
        "--incidents", str(tmp_path / "i.geojson"),
    ]


def hexagon_features(page: str) -> int:
    """Number of features in the risk-hexagon layer (their tooltip starts with the combined
    risk label)."""
    return len(re.findall(r'"tooltip": "Combined risk \(0-1\): ', page))


def test_multi_region_map_stays_under_its_size_budget(tmp_path: Path) -> None:
    out = tmp_path / "map.html"
    result = CliRunner().invoke(
        main, ["map", *study(tmp_path), "--lang", "en", "--out", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert len(page.encode("utf-8")) <= SIZE_BUDGET
    # The hexagons are there, but only near the four territories and the far incident: each
    # 2 x 2 km territory (and the far incident) plus 5 km around is at most a disc of radius
    # 6.5 km, 133 km^2 of 1 km cells: 5 x 133 = 665 cells, which touch at most about
    # 665 / 5.2 + edges ~ 200 hexagons of resolution 7 (5.2 km^2); the old map had >100,000.
    count = hexagon_features(page)
    assert 0 < count <= 250 < MAP_HEXAGON_BUDGET
    assert json.dumps("Comunidad 3") in page


def test_withheld_incident_adds_no_hexagons_on_a_public_map(tmp_path: Path) -> None:
    """Hexagons are kept near drawn incidents; a restricted one far from everything must not
    make hexagons appear around its place (that would show where it is)."""
    args = study(tmp_path)
    plain, secret = tmp_path / "plain.html", tmp_path / "secret.html"
    CliRunner().invoke(main, ["map", *args, "--lang", "en", "--out", str(plain)])
    incidents = gpd.read_file(tmp_path / "i.geojson")
    extra = gpd.GeoDataFrame(
        {
            "incident_id": ["I3"],
            "date": ["2024-03-01"],
            "kind": ["threat"],
            "severity": [5],
            "sensitivity": ["restricted"],
        },
        geometry=[Point(-72.0, -14.0)],  # 300+ km from every territory and incident
        crs=4326,
    )
    gpd.GeoDataFrame(
        pd.concat([incidents, extra], ignore_index=True), crs=4326
    ).to_file(tmp_path / "i.geojson")
    result = CliRunner().invoke(
        main, ["map", *args, "--lang", "en", "--out", str(secret)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    before, after = plain.read_text(encoding="utf-8"), secret.read_text(encoding="utf-8")
    assert hexagon_features(after) == hexagon_features(before) > 0
    assert "-72.0" not in after and "-14.0," not in after


def test_over_budget_hexagons_are_coarsened_then_left_out_with_a_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = study(tmp_path)
    out = tmp_path / "map.html"
    for budget, expect in ((50, "coarse"), (1, "none")):
        monkeypatch.setattr(
            # The map command's orchestration is pipeline.run_map (issue 14).
            pipeline, "compute_map_hexagons", functools.partial(compute_map_hexagons, budget=budget)
        )
        result = CliRunner().invoke(
            main, ["map", *args, "--lang", "en", "--out", str(out), "--overwrite"],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        page = out.read_text(encoding="utf-8")
        count = hexagon_features(page)
        if expect == "coarse":
            # 138 hexagons at resolution 7 (5.2 km2); at resolution 6 (36 km2) at most 50.
            assert 0 < count <= 50
            assert "coarser hexagons (about 36 km" in page  # km² is \\u00b2 in the script
            assert "coarsened to H3 resolution 6" in result.output
        else:
            assert count == 0 and "coarser hexagons" not in page
            assert "risk hexagons left out of the map" in result.output
