"""Community points on the map and in the bundle, through the privacy gate (issue 14, part B).

A small case near Pucallpa, counted by hand: one territory (a 0.1-degree box), one oil-gas
concession overlapping it, two community points (A inside both, B 30 km east, in neither) and
three incidents around A: a public threat 1 km north, a restricted attack 0.5 km south and a
confidential killing at A itself. Within 5 km of A the internal view counts 3 incidents, a
public view 1 (the map's gate draws only the public one; the bundle's displaced attack lies
2-5 km from its true place, so it may or may not fall within 5 km of A: the bundle's count is
checked against its own published points).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from pyproj import Geod
from shapely.geometry import Point, box

from geotools.cli import main

GEOD = Geod(ellps="WGS84")
SECRET = "community-publish-secret-0123456789"
LEADER, PHONE, CONTACT = "Rosa Huaymacari Secreta", "+51 961 222 333", "rosa.h@example.org"
A = (-74.75, -8.45)
B = (-74.477, -8.45)


def _offset(point: tuple[float, float], north_m: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(point[0], point[1], 0.0 if north_m >= 0 else 180.0, abs(north_m))
    return float(lon), float(lat)


def build_inputs(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: folder / f"{kind}.geojson" for kind in ("territories", "concessions")}
    gpd.GeoDataFrame(
        {"territory_id": ["T1"], "name": ["Territorio Uno"]},
        geometry=[box(-74.80, -8.50, -74.70, -8.40)],
        crs=4326,
    ).to_file(paths["territories"])
    gpd.GeoDataFrame(
        {"concession_id": ["L108"], "kind": ["oil_gas"], "holder": ["Petrolera Ficticia"]},
        geometry=[box(-74.76, -8.46, -74.60, -8.30)],
        crs=4326,
    ).to_file(paths["concessions"])
    paths["communities"] = folder / "comunidades.geojson"
    gpd.GeoDataFrame(
        {
            "codigo": ["CN-A", "CN-B"],
            "nombre": ["Nueva Alianza", "San Pedro"],
            "etnia": ["Shipibo-Conibo", "Kakataibo"],
            "poblacion": [240, 85],
            "jefe_comunal": [LEADER, LEADER],
            "telefono": [PHONE, PHONE],
            "contacto": [CONTACT, None],
        },
        geometry=[Point(*A), Point(*B)],
        crs=4326,
    ).to_file(paths["communities"])
    north, south = _offset(A, 1000.0), _offset(A, -500.0)
    paths["incidents"] = folder / "incidents.csv"
    pd.DataFrame(
        {
            "incident_id": ["I1", "I2", "I3"],
            "date": ["2021-03-01", "2022-05-01", "2023-01-10"],
            "kind": ["threat", "attack", "killing"],
            "severity": [2, 4, 5],
            "source": ["Public report", "Monitors", "Federation"],
            "precision": ["exact", "exact", "exact"],
            "sensitivity": ["public", "restricted", "confidential"],
            "lon": [north[0], south[0], A[0]],
            "lat": [north[1], south[1], A[1]],
        }
    ).to_csv(paths["incidents"], index=False)
    return paths


def layer_args(paths: dict[str, Path]) -> list[str]:
    return [arg for kind, path in paths.items() for arg in (f"--{kind}", str(path))]


def run(args: list[str]) -> str:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def community_data(page: str) -> dict[str, Any]:
    """The community layer's data embedded in a map page."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"var D = ", page):
        value, _ = decoder.raw_decode(page, match.end())
        if "pts" in value:
            return value
    raise AssertionError("no community layer in the page")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_inputs(tmp_path_factory.mktemp("community_publish"))


@pytest.mark.parametrize(("profile", "expected"), [("public", "1"), ("internal", "3")])
def test_map_counts_the_incidents_its_profile_may_show(
    inputs: dict[str, Path], tmp_path: Path, profile: str, expected: str
) -> None:
    """Within 5 km of A: the internal map counts all three (as its territory popups do: an
    internal map is never shared); the public map only the public threat, the one it draws."""
    out = tmp_path / "map.html"
    run(["map", *layer_args(inputs), "--profile", profile, "--lang", "en", "--out", str(out)])
    page = out.read_text(encoding="utf-8")
    data = community_data(page)
    assert data["names"] == ["Nueva Alianza", "San Pedro"]
    assert [data["people"][p[3]] for p in data["pts"]] == ["Shipibo-Conibo", "Kakataibo"]
    assert [p[:2] for p in data["pts"]] == [[A[1], A[0]], [B[1], B[0]]]  # not displaced
    column = data["labels"].index("Incidents within 5 km")
    assert [row[column] for row in data["values"]] == [expected, "0"]
    assert "Territorio Uno" in data["terr"][0] and data["terr"][1] == ""
    assert "Oil and gas: L108 · Petrolera Ficticia" in data["inside"][0]
    assert data["inside"][1] == ""
    near = data["labels"].index("Nearest concession of each kind")
    # A is inside L108 (listed above, not repeated as 0.0 km); B is 0.123 degrees east of the
    # block's eastern edge (-74.6) at the same latitude.
    _, _, metres = GEOD.inv(B[0], B[1], -74.6, B[1])
    assert data["values"][0][near] is None
    assert data["values"][1][near] == f"Oil and gas: {metres / 1000:.1f}\u00a0km"
    assert data["values"][1][near] == "Oil and gas: 13.5\u00a0km"
    for secret in (LEADER, PHONE, CONTACT):
        assert (secret in page) is False


def test_stats_table_counts_every_incident(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    """The stats table (internal, not a shared output) counts all three incidents."""
    out = tmp_path / "stats"
    run(["stats", *layer_args(inputs), "--out", str(out)])
    stats = pd.read_csv(out / "community_stats.csv")
    assert stats["incidents_nearby"].tolist() == [3, 0]


def test_public_bundle_publishes_communities_where_they_are_without_people(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    key = tmp_path / "key.txt"
    key.write_text(SECRET, encoding="utf-8")
    out = tmp_path / "bundle"
    output = run(
        ["publish", *layer_args(inputs), "--secret-file", str(key), "--out", str(out)]
    )
    # The confidential killing sits exactly on A and the restricted attack 500 m from it: the
    # community point is a public place, so the leak check passes.
    assert "Leak check: clean" in output
    points = gpd.read_file(out / "communities.geojson")
    assert points["name"].tolist() == ["Nueva Alianza", "San Pedro"]
    assert np.allclose(np.c_[points.geometry.x, points.geometry.y], [A, B], atol=1e-6)
    assert not {"jefe_comunal", "telefono", "contacto"} & set(points.columns)
    incidents = gpd.read_file(out / "incidents.geojson")
    assert "I3" not in set(incidents["incident_id"])
    _, _, d = GEOD.inv(
        incidents.geometry.x.to_numpy(),
        incidents.geometry.y.to_numpy(),
        np.full(len(incidents), A[0]),
        np.full(len(incidents), A[1]),
    )
    stats = pd.read_csv(out / "community_stats.csv")
    # Counted from the published points: the threat, and the attack only if its displaced
    # point lies within 5 km of A; never the confidential killing.
    assert stats["incidents_nearby"].tolist() == [int((d <= 5000).sum()), 0]
    assert points["incidents_nearby"].tolist() == stats["incidents_nearby"].tolist()
    membership = pd.read_csv(out / "community_membership.csv")
    assert membership[["community_id", "layer", "feature_id", "relation"]].values.tolist() == [
        ["CN-A", "concessions", "L108", "inside"],
        ["CN-A", "territories", "T1", "inside"],
    ]
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "### communities.geojson" in readme and "`nearest_oil_gas_km`" in readme
    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert {"communities-geojson", "community_stats", "community_membership"} <= {
        r["name"] for r in package["resources"]
    }
    for path in (p for p in out.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for secret in (LEADER, PHONE, CONTACT):
            assert secret.encode() not in data, (path.name, secret)
