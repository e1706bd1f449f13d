"""Odd values are handled per feature in the ledger; `validate` and `stats` agree (issue 11, 7).

An unknown location precision ("GPS") used to crash `stats` after `validate` had accepted the
file; an infinite or 1e300 coordinate made the whole layer fail as "not degrees" (or crashed the
analysis). Each must become one feature's fate in the QA ledger: valid, repaired (how) or
rejected (why), with the rest of the layer analysed.
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from geotools.analysis.stats import compute_territory_stats
from geotools.cli import main
from geotools.errors import CRSError
from geotools.io import read_layer
from geotools.privacy import radius_of_precision

# A 0.1° square near Santa Clara (Ucayali) and a parcel covering its south-west quarter.
TERRITORY = Polygon([(-74.6, -8.5), (-74.5, -8.5), (-74.5, -8.4), (-74.6, -8.4)])
PARCEL = Polygon([(-74.6, -8.5), (-74.55, -8.5), (-74.55, -8.45), (-74.6, -8.45)])

ROWS = [
    # id, precision, lon, lat, expected fate
    ("I1", "GPS", "-74.55", "-8.45", "repaired"),
    ("I2", "exact", "inf", "-8.45", "rejected"),
    ("I3", "exact", "1e300", "-8.45", "rejected"),
    ("I4", "exact", "-74.56", "1e300", "rejected"),
    ("I5", "approximate", "-74.56", "-8.44", "valid"),
    ("I6", "exact", "-inf", "-8.44", "rejected"),
    ("I7", "±50 m", "-74.52", "-8.42", "repaired"),
    ("I8", "exact", "-74.53", "-1e300", "rejected"),
]


def _write_layers(tmp_path):
    gpd.GeoDataFrame(
        {"territory_id": ["T1"], "name": ["A"]}, geometry=[TERRITORY], crs=4326
    ).to_file(tmp_path / "terr.geojson")
    gpd.GeoDataFrame({"parcel_id": ["P1"]}, geometry=[PARCEL], crs=4326).to_file(
        tmp_path / "parc.geojson"
    )
    lines = ["incident_id,date,kind,precision,sensitivity,lon,lat"]
    lines += [
        f"{i},2020-01-0{k + 1},threat,{p},public,{x},{y}" for k, (i, p, x, y, _) in enumerate(ROWS)
    ]
    (tmp_path / "inc.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_validate_reports_each_odd_value_per_feature(tmp_path):
    _write_layers(tmp_path)
    result = CliRunner().invoke(
        main,
        [
            "validate",
            str(tmp_path / "inc.csv"),
            "--as",
            "incidents",
            "--report",
            str(tmp_path / "qa.json"),
        ],
    )
    assert result.exit_code == 1, result.output  # features had to be rejected
    assert "Traceback" not in result.output
    report = json.loads((tmp_path / "qa.json").read_text())
    assert (report["read"], report["valid"], report["repaired"], report["rejected"]) == (8, 1, 2, 5)
    fate = {p["feature"]: p for p in report["problems"]}
    for fid, _, _, _, expected in ROWS:
        if expected == "valid":
            assert fid not in fate
        elif expected == "rejected":
            assert fate[fid]["action"] == "rejected"
        else:
            assert fate[fid]["action"].startswith("repaired: treated as 'district'")
            assert "unknown precision" in fate[fid]["problem"]
    assert "not finite" in fate["I2"]["problem"] and "not finite" in fate["I6"]["problem"]
    assert "outside longitude" in fate["I3"]["problem"]
    assert "outside longitude" in fate["I4"]["problem"]


def test_stats_accepts_what_validate_accepts_and_counts_unknown_precision_as_uncertain(tmp_path):
    _write_layers(tmp_path)
    runner = CliRunner()
    validate = runner.invoke(
        main,
        [
            "validate",
            str(tmp_path / "inc.csv"),
            "--as",
            "incidents",
            "--report",
            str(tmp_path / "qa.json"),
        ],
    )
    stats = runner.invoke(
        main,
        [
            "stats",
            "--territories",
            str(tmp_path / "terr.geojson"),
            "--parcels",
            str(tmp_path / "parc.geojson"),
            "--incidents",
            str(tmp_path / "inc.csv"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert stats.exit_code == 0, stats.output
    assert "unexpected" not in stats.output
    from_validate = json.loads((tmp_path / "qa.json").read_text())
    from_stats = json.loads((tmp_path / "out" / "qa" / "incidents.json").read_text())
    for key in ("read", "valid", "repaired", "rejected", "problems"):
        assert from_stats[key] == from_validate[key], key
    assert validate.exit_code == 1
    table = pd.read_csv(tmp_path / "out" / "territory_stats.csv")
    # I5 (approximate, 1 km) is 4 km inside the square: inside. I1 ("GPS", treated as district,
    # 20 km) and I7 ("±50 m") are within 20 km of the edge: uncertain, never asserted inside.
    assert table.loc[0, "incidents_inside"] == 1
    assert table.loc[0, "incidents_uncertain"] == 2


FLOATS = st.one_of(
    st.floats(min_value=-80, max_value=-70),
    st.sampled_from([math.inf, -math.inf, math.nan, 1e300, -1e300, 1e20, 500.0, -95.0]),
)
LATS = st.one_of(
    st.floats(min_value=-12, max_value=-5),
    st.sampled_from([math.inf, -math.inf, math.nan, 1e300, -1e300, 1e20, 95.0, -91.0]),
)
PRECISIONS = st.one_of(
    st.sampled_from(["exact", "approximate", "locality", "district", None]),
    st.text(min_size=1, max_size=8).filter(lambda t: t.strip() != ""),
)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.tuples(FLOATS, LATS, PRECISIONS), min_size=1, max_size=12))
def test_any_odd_values_are_accounted_and_never_crash_the_analysis(tmp_path, rows):
    lines = ["incident_id,date,kind,precision,lon,lat"]
    for k, (x, y, p) in enumerate(rows):
        text = "" if p is None else '"' + p.replace('"', '""') + '"'
        lines.append(f"I{k},2020-01-01,threat,{text},{x!r},{y!r}")
    path = tmp_path / "odd.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    x = np.array([r[0] for r in rows])
    y = np.array([r[1] for r in rows])
    with np.errstate(invalid="ignore"):
        usable = np.isfinite(x) & np.isfinite(y) & (np.abs(x) < 1e8) & (np.abs(y) < 1e8)
        degrees = usable & (np.abs(x) <= 180) & (np.abs(y) <= 90)
    try:
        layer = read_layer(path, "incidents")
    except CRSError:
        # Only a layer whose typical rows are not degrees may fail as a whole (projected
        # numbers labelled as degrees); a minority of odd rows never does.
        assert degrees.sum() * 2 <= usable.sum()
        return
    ledger = layer.ledger
    assert ledger.read == len(rows)
    assert ledger.count("valid") + ledger.count("repaired") + ledger.count("rejected") == len(rows)
    frame = layer.frame
    assert len(frame) == ledger.count("valid") + ledger.count("repaired")
    if len(frame):
        xy = np.column_stack([frame.geometry.x, frame.geometry.y])
        assert np.isfinite(xy).all()
        assert (np.abs(xy[:, 0]) <= 180).all() and (np.abs(xy[:, 1]) <= 90).all()
        assert (
            frame["precision"].dropna().isin(["exact", "approximate", "locality", "district"]).all()
        )
    territories = gpd.GeoDataFrame({"territory_id": ["T1"]}, geometry=[TERRITORY], crs=4326)
    parcels = gpd.GeoDataFrame(
        {"parcel_id": ["P1"], "tenure": ["titled"]}, geometry=[PARCEL], crs=4326
    )
    result = compute_territory_stats(territories, parcels, incidents=frame, nearby_km=5)
    inside = result.table["incidents_inside"].iloc[0]
    assert 0 <= inside <= len(frame)


def test_unknown_precision_never_shrinks_the_published_uncertainty():
    radius = radius_of_precision(pd.Series(["exact", "GPS", None, "district"], dtype="string"))
    assert radius.tolist() == [0.0, 20_000.0, 0.0, 20_000.0]
