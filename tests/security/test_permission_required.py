"""Licence terms that require permission stop record-level publishing (branch q1).

Attack: a layer imported from the indigenous monitors (terms: "ask them before republishing
record-level data") or any source whose licence note says permission is required, published
in a public bundle. The old code recognised only ACLED-style wording, so the monitors' records
left as (displaced) points in ``incidents.geojson``. Now the bundle is refused with one line
naming the layer, the terms and both ways out, unless a permission is stated (recorded as data
in README.md and datapackage.json) or aggregates only are asked for.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from geotools.io import read_layer
from geotools.io.importers import IMPORTERS
from geotools.privacy import PermissionRequiredError, check_permissions, needs_permission
from geotools.publish import PublishOptions, publish_bundle
from tests.test_publish import SECRET, build_inputs

MONITORS = IMPORTERS["monitoring"].licence_note


@pytest.mark.parametrize(
    ("source", "licence", "expected"),
    [
        ("monitoring", None, True),
        ("acled", None, True),
        ("mapeo", None, True),
        (None, MONITORS, True),  # the wording alone, without the importer's name
        (None, IMPORTERS["acled"].licence_note, True),
        (None, IMPORTERS["mapeo"].licence_note, True),  # free, prior and informed consent
        (None, "Datos de la federación: solicitar permiso antes de publicar", True),
        (None, "Uso con autorización previa de la comunidad", True),
        (None, "CC-BY 4.0 [Permission-Required] for point data", True),  # explicit flag
        (None, "Permission required for record-level use", True),
        (None, "Do not republish the records", True),
        (None, IMPORTERS["defensoria"].licence_note, False),
        (None, IMPORTERS["landmark"].licence_note, False),
        (None, "CC-BY 4.0", False),
        ("csv", None, False),
    ],
)
def test_permission_terms_are_recognised(source, licence, expected) -> None:
    assert needs_permission(source, licence) is expected


def _monitors_layers(tmp_path: Path) -> dict:
    layers = {k: read_layer(p, k) for k, p in build_inputs(tmp_path / "in").items()}
    # The notes geotools import stores with a monitors' layer (io.layers.import_metadata).
    layers["incidents"].ledger.notes["importer"] = {
        "source": None, "notes": [], "licence": MONITORS + " \x1b[2J\u202e<script>x</script>"
    }
    return layers


def test_public_bundle_of_monitors_records_is_refused(tmp_path: Path) -> None:
    layers = _monitors_layers(tmp_path)
    out = tmp_path / "bundle"
    with pytest.raises(PermissionRequiredError) as caught:
        publish_bundle(layers, out, PublishOptions(secret=SECRET, created="2024-01-01"))
    message = str(caught.value)
    assert "\n" not in message
    # The licence text is data: control and bidi characters shown as escapes, once.
    assert "\x1b" not in message and "\u202e" not in message
    assert "record-level data \\x1b[2J\\u202e<script>x</script>\")" in message
    assert message.startswith("incidents (incidents.csv): its terms require permission")
    assert "ask them before republishing record-level data" in message
    assert '--permission incidents="who granted, when"' in message and "--aggregate-only" in message
    assert not out.exists()


def test_stated_permission_is_recorded_escaped(tmp_path: Path) -> None:
    layers = _monitors_layers(tmp_path)
    out = tmp_path / "bundle"
    statement = "FEDIQUEP <img src=x onerror=alert(1)> [link](http://x) 2026-11-30"
    options = PublishOptions(
        secret=SECRET, created="2024-01-01", permissions={"incidents": statement}
    )
    publish_bundle(layers, out, options)
    assert (out / "incidents.geojson").exists()
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert re.search(r"(?<!\\)<img", readme) is None  # every < escaped
    assert re.search(r"(?<!\\)\]\(http", readme) is None  # no live link
    assert "the publisher states: FEDIQUEP \\<img" in readme
    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert {"title": "incidents: incidents.csv", "permission": statement} in package["sources"]


def test_aggregate_only_publishes_no_record(tmp_path: Path) -> None:
    layers = _monitors_layers(tmp_path)
    out = tmp_path / "bundle"
    options = PublishOptions(secret=SECRET, created="2024-01-01", aggregate_only=True)
    publish_bundle(layers, out, options)
    assert not (out / "incidents.geojson").exists()
    assert (out / "incident_hexagons.geojson").exists()


def test_permission_for_a_layer_not_in_the_run_is_refused(tmp_path: Path) -> None:
    layers = _monitors_layers(tmp_path)
    with pytest.raises(PermissionRequiredError, match="no such layer"):
        check_permissions(layers, {"communities": "x"})
    with pytest.raises(PermissionRequiredError, match="empty statement"):
        check_permissions(layers, {"incidents": "  "})
