"""Duplicate-incident merging on real points (issue 13, item 7).

The IBC/SICNA native-community points (observatorio-ambiental-peruano, 1,600 points) have five
pairs of records 0.5-1 km apart (same community name, distinct polygons' pseudo-centroids and
attributes, e.g. Alto Kiatari with 148 inhabitants and with 0). Read as same-day incidents
without a source, the old merge dropped five of them and logged "merged 5 ... into 10 events".
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from geotools.analysis.incidents import merge_duplicate_incidents

pytestmark = pytest.mark.realdata

COMMUNITIES = "observatorio-ambiental-peruano/comunidades-nativas.geojson"
# Pairs of distinct communities closer than 1 km (found with a brute-force Geod check below).
CLOSE_PAIRS = [(345, 951), (468, 753), (617, 703), (651, 721), (1050, 1196)]


def _incidents(points: gpd.GeoDataFrame, source: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "incident_id": [f"cn{i}" for i in range(len(points))],
            "date": "2024-01-01",
            "kind": "other",
            "source": pd.Series([source] * len(points), dtype="string"),
        },
        geometry=points.geometry.values,
        crs=points.crs,
    )


def test_records_without_source_are_never_merged(realdata, caplog):
    points = gpd.read_file(realdata / COMMUNITIES)
    assert len(points) == 1600
    geod = Geod(ellps="WGS84")
    for a, b in CLOSE_PAIRS:
        pa, pb = points.geometry.iloc[a], points.geometry.iloc[b]
        _, _, d = geod.inv(pa.x, pa.y, pb.x, pb.y)
        assert 500 < d < 1000, (a, b, d)
        assert points["nombre"].iloc[a] == points["nombre"].iloc[b]
    with caplog.at_level(logging.INFO, logger="geotools.analysis.incidents"):
        merged, merges = merge_duplicate_incidents(_incidents(points, pd.NA))
    assert len(merged) == 1600 and merges.empty
    assert "merged" not in caplog.text


def test_merge_message_counts_records_and_events(realdata, caplog):
    points = gpd.read_file(realdata / COMMUNITIES)
    two_sources = _incidents(points, "monitor A")
    two_sources.loc[[b for _, b in CLOSE_PAIRS], "source"] = "monitor B"
    with caplog.at_level(logging.INFO, logger="geotools.analysis.incidents"):
        merged, merges = merge_duplicate_incidents(two_sources)
    assert len(merged) == 1595
    assert sorted(merges["merged_id"]) == sorted(f"cn{b}" for _, b in CLOSE_PAIRS)
    np.testing.assert_array_less(merges["distance_km"], 1.0)
    # 10 records (5 pairs) became 5 events; 5 records were dropped.
    assert "merged 10 incident records into 5 events (5 duplicate records dropped)" in caplog.text
