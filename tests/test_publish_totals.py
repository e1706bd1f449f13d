"""geotools publish states its totals (claimed and titled hectares counted once) in the bundle.

Two territories of 200 ha each overlap on 100 ha (all in PERU_ALBERS, equal-area, so the numbers
are checked by hand): claimed 300 ha counted once, 400 ha summed over rows, 100 ha counted twice.
One titled parcel of 100 ha lies across the overlap: 100 ha in the first territory, 50 ha in the
second, so titled is 100 ha counted once and 150 ha summed over rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geotools.pipeline import run_publish
from geotools.publish import PublishOptions
from tests.conftest import frame, km_box


def _inputs(folder: Path, parcels: bool) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"territories": folder / "territories.gpkg"}
    frame(
        [
            {"territory_id": "T1", "name": "Uno | *bold* <b>x</b>", "geometry": km_box(0, 0, 2, 1)},
            {"territory_id": "T2", "name": "Dos", "geometry": km_box(1, 0, 3, 1)},
        ]
    ).to_file(paths["territories"])
    if parcels:
        paths["parcels"] = folder / "parcels.gpkg"
        titled = {"parcel_id": "P1", "tenure": "titled", "geometry": km_box(0.5, 0, 1.5, 1)}
        frame([titled]).to_file(paths["parcels"])
    return paths


def _publish(tmp_path: Path, parcels: bool) -> tuple[str, dict]:
    out = tmp_path / "bundle"
    options = PublishOptions(lang="en", created="2024-01-01")
    run_publish(_inputs(tmp_path / "in", parcels), out, options)
    readme = (out / "README.md").read_text(encoding="utf-8")
    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    return readme, package


def test_totals_in_readme_and_datapackage(tmp_path: Path) -> None:
    readme, package = _publish(tmp_path, parcels=True)
    totals = package["geotools"]["totals"]
    assert totals["territories"] == 2
    assert totals["claimed_union_ha"] == pytest.approx(300.0, abs=1e-3)
    assert totals["claimed_sum_of_rows_ha"] == pytest.approx(400.0, abs=1e-3)
    assert totals["claimed_double_counted_ha"] == pytest.approx(100.0, abs=1e-3)
    assert totals["titled_union_ha"] == pytest.approx(100.0, abs=1e-3)
    assert totals["titled_sum_of_rows_ha"] == pytest.approx(150.0, abs=1e-3)
    assert "counted once" in totals["meaning"]["claimed_union_ha"]
    assert "2 territories claim 300.0000 ha counted once (400.0000 ha summed over rows); " \
        "titled: 100.0000 ha counted once." in package["description"]
    # The README's table: every total with what it is, as Markdown table rows.
    section = readme.split("## Totals", 1)[1].split("\n## ", 1)[0]
    rows = {line.split(" | ")[0].strip("| ").replace("\\_", "_"): line
            for line in section.splitlines() if line.startswith("| ")}
    assert "300.0000 ha" in rows["claimed_union_ha"]
    assert "400.0000 ha" in rows["claimed_sum_of_rows_ha"]
    assert "150.0000 ha" in rows["titled_sum_of_rows_ha"]
    assert all(line.count(" | ") == 2 for line in rows.values())  # no cell breaks the table


def test_unknown_titled_total_is_unknown_not_0(tmp_path: Path) -> None:
    readme, package = _publish(tmp_path, parcels=False)
    totals = package["geotools"]["totals"]
    assert totals["claimed_union_ha"] == pytest.approx(300.0, abs=1e-3)
    assert totals["titled_union_ha"] is None and totals["titled_sum_of_rows_ha"] is None
    assert "titled: unknown." in package["description"]
    section = readme.split("## Totals", 1)[1].split("\n## ", 1)[0]
    titled = [line for line in section.splitlines() if "titled\\_union\\_ha" in line]
    assert len(titled) == 1 and "| unknown |" in titled[0] and "0.0000" not in titled[0]
