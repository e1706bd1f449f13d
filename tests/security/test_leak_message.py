"""The leak check names the record whose true place a published coordinate sits on (issue 15).

An incident recorded exactly on a published place (a territory's vertex, label or search point)
refuses the bundle; the refusal must say which record (its published id, or its position in the
incidents layer when its id is withheld), which feature or line of which file it coincides with,
and what to do, without repeating the true coordinates or a withheld id.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geotools.pipeline import run_publish
from geotools.privacy import Withheld
from geotools.publish import LeakError, PublishOptions, check_bundle
from tests.test_publish import SECRET, build_inputs

CORNER = (-74.80, -8.40)  # south-west corner of territory T1 of build_inputs


def _coordinate_forms(lon: float, lat: float) -> list[str]:
    return [f"{lon}", f"{lat}", f"{lon:.2f}", f"{lat:.2f}", f"{lon:.6f}", f"{lat:.6f}"]


def _publish_with(tmp_path: Path, incident_id: str) -> str:
    paths = build_inputs(tmp_path / "in")
    incidents = pd.read_csv(paths["incidents"])
    incidents.loc[incidents["incident_id"] == incident_id, ["lon", "lat"]] = CORNER
    incidents.to_csv(paths["incidents"], index=False)
    with pytest.raises(LeakError) as caught:
        run_publish(paths, tmp_path / "out", PublishOptions(secret=SECRET, lang="en"))
    assert not (tmp_path / "out").exists()  # nothing published
    return str(caught.value)


def test_restricted_incident_on_a_territory_vertex_is_named(tmp_path: Path) -> None:
    message = _publish_with(tmp_path, "I2")
    # Which record (its published id) and which feature of which layer.
    assert "analysis.gpkg:territory_stats" in message
    assert "incident I2 (restricted, published displaced) at feature 1 (territory_id T1)" in message
    # What to do.
    assert "correct its coordinates in the incidents file" in message
    assert "mark it public" in message and "leave it out" in message
    # Never the true place.
    numbers = re.findall(r"-?\d+\.\d+", message)
    assert numbers == [], numbers
    assert not any(form in message for form in _coordinate_forms(*CORNER))


def test_confidential_incident_is_named_by_its_position_not_its_id(tmp_path: Path) -> None:
    message = _publish_with(tmp_path, "CONF-001")
    assert "a confidential incident (record 5 of the incidents layer; its id is not published)" \
        in message
    assert "at feature 1 (territory_id T1)" in message
    assert "CONF-001" not in message and "CONF" not in message
    assert not any(form in message for form in _coordinate_forms(*CORNER))


def test_a_search_point_in_a_text_file_is_named_by_line(tmp_path: Path) -> None:
    """A point of a GeoJSON file (a territory's label point) on a withheld true place: the
    message names the line and the record."""
    root = tmp_path / "bundle"
    root.mkdir()
    true = np.array([[-74.712345, -8.356789], [-74.6, -8.5]])
    features = [
        {"type": "Feature", "properties": {"territory_id": "T9"},
         "geometry": {"type": "Point", "coordinates": [-74.1, -8.1]}},
        {"type": "Feature", "properties": {"territory_id": "T1"},
         "geometry": {"type": "Point", "coordinates": [-74.712345, -8.356789]}},
    ]
    text = json.dumps({"type": "FeatureCollection", "features": features}, indent=1)
    (root / "labels.geojson").write_text(text, encoding="utf-8")
    withheld = Withheld(
        true_points=true,
        true_labels=["incident R7 (restricted, published displaced)", "a restricted incident"],
        restricted_ids=["R7"],
        restricted_points=true[:1],
    )
    with pytest.raises(LeakError) as caught:
        check_bundle(root, withheld, np.zeros((0, 2)), 2000.0)
    message = str(caught.value)
    found = re.search(
        r"incident R7 \(restricted, published displaced\) at a GeoJSON point on line (\d+)",
        message,
    )
    assert found, message
    lines = text.splitlines()
    at = int(found.group(1)) - 1
    assert '"coordinates"' in lines[at] and "-74.712345" in "".join(lines[at : at + 3])
    assert "a restricted incident" not in message  # only the record that is there is named
    assert "-74.71" not in message and "-8.35" not in message and "-8.36" not in message


def test_a_point_near_a_restricted_place_names_the_record(tmp_path: Path) -> None:
    """A point about 550 m from a displaced restricted incident's true place (minimum 2 km):
    refused, naming the record by its published id and the line, not the true place."""
    root = tmp_path / "bundle"
    root.mkdir()
    true = np.array([[-74.712345, -8.356789]])
    point = {"type": "Point", "coordinates": [-74.707345, -8.356789]}  # 0.005 deg east
    text = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"territory_id": "T1"}, "geometry": point}]})
    (root / "labels.geojson").write_text(text, encoding="utf-8")
    withheld = Withheld(
        true_points=true,
        true_labels=["incident R7 (restricted, published displaced)"],
        restricted_ids=["R7"],
        restricted_points=true,
    )
    with pytest.raises(LeakError) as caught:
        check_bundle(root, withheld, np.zeros((0, 2)), 2000.0)
    message = str(caught.value)
    found = re.search(
        r"labels\.geojson: a point at a GeoJSON point on line 1 (\d+) m from the true place of "
        r"incident R7 \(restricted, published displaced\) \(minimum 2000 m\)",
        message,
    )
    assert found, message
    assert 540 < int(found.group(1)) < 560  # 0.005 deg of longitude at 8.36 deg S: about 550 m
    assert "-74.71" not in message and "-8.35" not in message
