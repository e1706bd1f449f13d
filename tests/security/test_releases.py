"""Issue 11, class 2: no number of public releases narrows a restricted incident's place.

The adversary holds every public release ever made (any options: other ``--min-km/--max-km``,
water or district layers added, rows reordered, ids missing or duplicated) and the source code.
For each restricted incident these tests do what that adversary would do: collect every point
published for it, take the ring each release says the truth lies in (the row's
``location_method``: "displaced A-B km"), intersect them, and compare the area left with one
release's ring. On the old code two ranges put both points on one ray from the truth and twelve
releases without ids gave twelve points; here every release publishes the one kept position.
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
import shapely
import shapely.ops
from click.testing import CliRunner
from pyproj import CRS, Geod, Transformer

from geotools.cli import main
from geotools.io import read_layer
from geotools.pipeline import run_publish
from geotools.privacy import (
    PositionStore,
    PrivacyPolicy,
    derive_key,
    displace_points,
    generalise_incidents,
)
from geotools.publish import PublishOptions

GEOD = Geod(ellps="WGS84")
SECRET = "release-test-secret-0123456789abcdef"
KEY = derive_key(SECRET)

#: Restricted incidents (true places), at least 40 km apart: any published point within 6 km of
#: one of them is that incident's, whatever its id says.
TRUTH = {
    "R1": (-74.850, -8.450),
    "R2": (-74.450, -8.450),
    "R3": (-74.650, -8.150),
}


def _incident_rows() -> pd.DataFrame:
    rows = [
        ("P1", "public", -74.950, -8.350, "threat", "Public report"),
        ("R1", "restricted", *TRUTH["R1"], "attack", "Restricted one"),
        ("R2", "restricted", *TRUTH["R2"], "arson", "Restricted two"),
        ("R3", "", *TRUTH["R3"], "threat", "No sensitivity given"),
        ("C1", "confidential", -74.750, -8.500, "killing", "Confidential"),
    ]
    frame = pd.DataFrame(
        rows, columns=["incident_id", "sensitivity", "lon", "lat", "kind", "description"]
    )
    frame["date"] = ["2022-05-0" + str(i + 1) for i in range(len(frame))]
    frame["source"] = "Test federation"
    frame["precision"] = "exact"
    return frame


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("release-inputs")
    territories = gpd.GeoDataFrame(
        {"territory_id": ["T1", "T2"], "name": ["Comunidad Uno", "Comunidad Dos"]},
        geometry=[shapely.box(-75.0, -8.6, -74.7, -8.3), shapely.box(-74.6, -8.6, -74.3, -8.3)],
        crs=4326,
    )
    parcels = gpd.GeoDataFrame(
        {"parcel_id": ["P1"], "tenure": ["titled"]},
        geometry=[shapely.box(-74.95, -8.55, -74.9, -8.5)],
        crs=4326,
    )
    paths = {
        "territories": folder / "territories.geojson",
        "parcels": folder / "parcels.geojson",
        "incidents": folder / "incidents.csv",
    }
    territories.to_file(paths["territories"])
    parcels.to_file(paths["parcels"])
    _incident_rows().to_csv(paths["incidents"], index=False)
    return paths


def _variant(
    inputs: dict[str, Path], folder: Path, name: str, frame: pd.DataFrame
) -> dict[str, Path]:
    """The inputs with another incidents table (rows reordered, ids removed...)."""
    path = folder / f"incidents-{name}.csv"
    frame.to_csv(path, index=False)
    return {**inputs, "incidents": path}


Point = tuple[float, float, float, float]


def _published(incidents: gpd.GeoDataFrame | pd.DataFrame) -> list[Point]:
    """``(lon, lat, min_m, max_m)`` of every displaced point, from the row's stated method."""
    out = []
    generalised = incidents.loc[incidents["location_generalised"].astype(bool)]
    for geom, method in zip(generalised.geometry, generalised["location_method"], strict=True):
        low, high = re.fullmatch(r"displaced ([\d.]+)-([\d.]+) km", method).groups()
        out.append((geom.x, geom.y, float(low) * 1000.0, float(high) * 1000.0))
    return out


def _region(truth: tuple[float, float], points: list[tuple[float, float, float, float]]) -> Any:
    """Where the adversary can place the truth: the intersection of every stated ring, in an
    azimuthal equidistant plane centred on the truth (metres; rings drawn as 256-gons)."""
    plane = CRS.from_proj4(f"+proj=aeqd +lat_0={truth[1]} +lon_0={truth[0]} +datum=WGS84")
    to_plane = Transformer.from_crs(4326, plane, always_xy=True)
    region = None
    for lon, lat, low, high in points:
        x, y = to_plane.transform(lon, lat)
        centre = shapely.Point(x, y)
        ring = centre.buffer(high, 256).difference(centre.buffer(low, 256))
        region = ring if region is None else region.intersection(ring)
    return region


def _attribute(
    releases: list[list[tuple[float, float, float, float]]],
) -> dict[str, list[tuple[float, float, float, float]]]:
    """Each restricted incident's published points across releases (by distance, not by id)."""
    out: dict[str, list[tuple[float, float, float, float]]] = {k: [] for k in TRUTH}
    for points in releases:
        for point in points:
            for ident, (tx, ty) in TRUTH.items():
                _, _, d = GEOD.inv(tx, ty, point[0], point[1])
                if d <= point[3] + 1.0:
                    out[ident].append(point)
    return out


def _assert_not_narrowed(
    releases: list[list[tuple[float, float, float, float]]], expect: dict[str, int]
) -> None:
    """Intersect every release's ring per incident: at least one release's ring is left, and the
    truth is inside (the statement is honest); ``expect`` = releases publishing each one."""
    by_incident = _attribute(releases)
    for ident, points in by_incident.items():
        assert len(points) == expect[ident], (ident, len(points))
        # One position for the incident in every release that shows it.
        assert len({(round(p[0], 7), round(p[1], 7)) for p in points}) == 1, (ident, points)
        region = _region(TRUTH[ident], points)
        smallest = min(np.pi * (p[3] ** 2 - p[2] ** 2) for p in points)
        assert region.area >= 0.99 * smallest, (ident, region.area / smallest)
        assert region.buffer(1.0).contains(shapely.Point(0, 0))


def _core_release(
    frame: pd.DataFrame,
    tmp_path: Path,
    store_path: Path,
    policy: PrivacyPolicy | None = None,
    **constraints: Any,
) -> list[tuple[float, float, float, float]]:
    """One release through the validator and the privacy rules, keeping the store (the same
    code path as ``publish``, without writing a bundle)."""
    csv = tmp_path / "incidents.csv"
    frame.to_csv(csv, index=False)
    layer = read_layer(csv, "incidents")
    territories = read_layer(tmp_path / "territories.geojson", "territories").frame
    store = PositionStore.open(store_path, KEY)
    out = generalise_incidents(
        layer.frame, policy or PrivacyPolicy(), KEY, territories=territories, store=store,
        **constraints,
    )
    store.save()
    return _published(out.published)


@pytest.fixture
def core(tmp_path: Path, inputs: dict[str, Path]) -> Path:
    (tmp_path / "territories.geojson").write_bytes(inputs["territories"].read_bytes())
    return tmp_path


def test_two_ranges_rows_reordered_ids_removed_and_water_added(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    """Four real bundles (two through the CLI, whose store lives beside the key file)."""
    key_file = tmp_path / "publish.key"
    key_file.write_text(SECRET)
    args = [f"--{kind}={path}" for kind, path in inputs.items()]
    runner = CliRunner()
    bundles = []
    ranges = (("a", ["--min-km", "2", "--max-km", "5"]), ("b", ["--min-km", "3", "--max-km", "6"]))
    for name, extra in ranges:
        out = tmp_path / name
        result = runner.invoke(
            main, ["publish", *args, "--out", str(out), "--secret-file", str(key_file), *extra]
        )
        assert result.exit_code == 0, result.output
        bundles.append(gpd.read_file(out / "incidents.geojson"))
    store = tmp_path / "publish.positions.json"
    assert store.is_file()
    assert "Positions: 3 kept from earlier releases, 0 new" in result.output

    # Rows reordered, ids removed, 2-5 km again: the validator numbers the rows anew.
    shuffled = _incident_rows().sample(frac=1.0, random_state=3).reset_index(drop=True)
    shuffled.loc[shuffled["sensitivity"] != "public", "incident_id"] = None
    variant = _variant(inputs, tmp_path, "noid", shuffled)
    out = tmp_path / "c"
    run_publish(variant, out, PublishOptions(secret=SECRET, positions=store, created="2024-01-01"))
    bundles.append(gpd.read_file(out / "incidents.geojson"))

    # Water added over R1's published point (and a river elsewhere): R1 is withheld, not redrawn.
    r1 = [p for p in _published(bundles[0]) if GEOD.inv(*TRUTH["R1"], p[0], p[1])[2] < 5001]
    water = gpd.GeoDataFrame(
        geometry=[
            shapely.Point(r1[0][0], r1[0][1]).buffer(0.002),
            shapely.LineString([(-74.6, -8.7), (-74.6, -8.0)]),
        ],
        crs=4326,
    )
    water_path = tmp_path / "water.geojson"
    water.to_file(water_path)
    out = tmp_path / "d"
    report = run_publish(
        inputs,
        out,
        PublishOptions(secret=SECRET, positions=store, created="2024-01-01"),
        water=water_path,
    )
    assert report.facts["withheld_published_before"] == 1
    bundles.append(gpd.read_file(out / "incidents.geojson"))
    hexagons = out / "incident_hexagons.geojson"
    assert not hexagons.exists()  # a withheld kept point is not put in a hexagon either

    _assert_not_narrowed(
        [_published(b) for b in bundles], {"R1": 3, "R2": 4, "R3": 4}
    )
    # The store keeps positions, never true coordinates.
    text = store.read_text(encoding="utf-8")
    for lon, lat in TRUTH.values():
        assert f"{lon:.3f}" not in text and f"{lat:.3f}" not in text


def test_twelve_releases_without_ids_publish_one_position(core: Path) -> None:
    """12 releases, rows shuffled and ids blank each time (on the old code each release seeded
    the record by its row number and the 12 points narrowed it to about 100 m)."""
    store = core / "positions.json"
    releases = []
    for seed in range(12):
        frame = _incident_rows().sample(frac=1.0, random_state=seed).reset_index(drop=True)
        frame["incident_id"] = None
        releases.append(_core_release(frame, core, store))
    _assert_not_narrowed(releases, {"R1": 12, "R2": 12, "R3": 12})


def test_duplicated_ids_ranges_and_districts(core: Path) -> None:
    """Ids duplicated (every row "X"), four ranges, a district layer added (one district that
    cuts R2 off from its kept point: withheld) and an aggregate release (kept points are not
    put in hexagons)."""
    store = core / "positions.json"
    base = _incident_rows()
    releases = [_core_release(base, core, store)]
    dup = base.copy()
    dup["incident_id"] = "X"
    for low, high in ((1.0, 4.0), (3.0, 6.0), (5.0, 9.0), (2.0, 5.0)):
        policy = PrivacyPolicy(min_distance_m=low * 1000, max_distance_m=high * 1000)
        releases.append(_core_release(dup, core, store, policy))
    # A district boundary between R2's truth and its kept point.
    r2 = next(p for p in releases[0] if GEOD.inv(*TRUTH["R2"], p[0], p[1])[2] < 5001)
    dx, dy = r2[0] - TRUTH["R2"][0], r2[1] - TRUTH["R2"][1]
    mid_x, mid_y = TRUTH["R2"][0] + dx / 2, TRUTH["R2"][1] + dy / 2
    scale = 3.0 / np.hypot(dx, dy)  # a 6-degree line across the box, perpendicular
    cut = shapely.LineString(
        [(mid_x - dy * scale, mid_y + dx * scale), (mid_x + dy * scale, mid_y - dx * scale)]
    )
    halves = shapely.get_parts(shapely.ops.split(shapely.box(-75.5, -9.0, -74.0, -7.5), cut))
    assert len(halves) == 2
    districts = gpd.GeoDataFrame({"district": ["A", "B"]}, geometry=list(halves), crs=4326)
    releases.append(_core_release(base, core, store, districts=districts))
    csv = core / "incidents.csv"
    layer = read_layer(csv, "incidents")
    aggregated = generalise_incidents(
        layer.frame,
        PrivacyPolicy(restricted="aggregate"),
        KEY,
        store=PositionStore.open(store, KEY),
    )
    assert aggregated.hexagons is None and aggregated.facts["withheld_published_before"] == 3
    _assert_not_narrowed(releases, {"R1": 6, "R2": 5, "R3": 6})


def _distances(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Old draw: distance sqrt(low^2 + u (high^2 - low^2)), 1 m margin, ranges 2-5 and 3-6 km."""
    d1 = np.sqrt(2001.0**2 + u * (4999.0**2 - 2001.0**2))
    d2 = np.sqrt(3001.0**2 + u * (5999.0**2 - 3001.0**2))
    return d1, d2


def _ray_roots(x1: float, y1: float, x2: float, y2: float) -> list[float]:
    _, _, gap = GEOD.inv(x1, y1, x2, y2)
    grid = np.linspace(0.0, 1.0, 20001)
    d1, d2 = _distances(grid)
    f = d2 - d1 - gap
    return [float(grid[i]) for i in np.flatnonzero(np.sign(f[:-1]) != np.sign(f[1:]))]


def _ray_attack(x1: float, y1: float, x2: float, y2: float, u: float) -> tuple[float, float]:
    azimuth, _, _ = GEOD.inv(x1, y1, x2, y2)
    d1, _ = _distances(np.array([u]))
    tx, ty, _ = GEOD.fwd(x1, y1, azimuth + 180.0, float(d1[0]))
    return float(tx), float(ty)


def test_without_a_store_two_ranges_are_independent_draws() -> None:
    """Even with no store, a release under another range is not on the same ray: the direction
    and distance are drawn from a seed keyed by the range too (on the old code the bearings of
    the two releases were identical for every record, so two points gave the truth back)."""
    rng = np.random.default_rng(11)
    n = 300
    x = -74.7 + rng.uniform(-0.5, 0.5, n)
    y = -8.3 + rng.uniform(-0.5, 0.5, n)
    ids = [f"identity-{i}" for i in range(n)]
    a = displace_points(x, y, ids, KEY, PrivacyPolicy(2000, 5000))
    b = displace_points(x, y, ids, KEY, PrivacyPolicy(3000, 6000))
    # The ray attack that recovered the truth to under 1 m on the old code: assume both points
    # lie on one ray, solve for the shared uniform draw, step back from the first point.
    recovered = [
        min((GEOD.inv(*_ray_attack(a.x[i], a.y[i], b.x[i], b.y[i], u), x[i], y[i])[2]
             for u in _ray_roots(a.x[i], a.y[i], b.x[i], b.y[i])), default=np.inf)
        for i in range(60)
    ]
    assert np.mean(np.array(recovered) < 50.0) < 0.05, sorted(recovered)[:5]
    bearing_a, _, _ = GEOD.inv(x, y, a.x, a.y)
    bearing_b, _, _ = GEOD.inv(x, y, b.x, b.y)
    turn = np.abs((np.asarray(bearing_a) - np.asarray(bearing_b) + 180) % 360 - 180)
    assert (turn < 1.0).mean() < 0.03  # independent bearings: about 1 in 180
    # The same range gives the same points (re-publishing does not average out).
    again = displace_points(x, y, ids, KEY, PrivacyPolicy(2000, 5000))
    assert np.array_equal(a.x, again.x) and np.array_equal(a.y, again.y)


def test_store_belongs_to_its_key(core: Path) -> None:
    store = core / "positions.json"
    _core_release(_incident_rows(), core, store)
    with pytest.raises(Exception, match="another publish key"):
        PositionStore.open(store, derive_key("some other secret of enough length"))


def test_no_measured_offset_in_datapackage_or_readme(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    """With one restricted incident, min = max = its exact offset: the old datapackage.json gave
    it to the millimetre. Only the configured range may be stated."""
    one = _incident_rows()
    one = one.loc[one["incident_id"].isin(["P1", "R2"])]
    variant = _variant(inputs, tmp_path, "one", one)
    out = tmp_path / "bundle"
    run_publish(variant, out, PublishOptions(secret=SECRET, created="2024-01-01"))
    incidents = gpd.read_file(out / "incidents.geojson").set_index("incident_id")
    point = incidents.geometry["R2"]
    _, _, offset = GEOD.inv(*TRUTH["R2"], point.x, point.y)
    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    privacy = json.dumps(package["geotools"])
    readme = (out / "README.md").read_text(encoding="utf-8")
    for text in (privacy, readme):
        numbers = [float(v.replace(",", "")) for v in re.findall(r"\d[\d,]*\.?\d*", text)]
        near = [v for v in numbers if abs(v - offset) < 5.0 or abs(v * 1000 - offset) < 5.0]
        assert near == [], near
    assert "2-5 km" in readme and "2-5 km" in privacy
