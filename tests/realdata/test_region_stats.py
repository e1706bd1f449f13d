"""Region table over the real INEI departments from the real Defensoría conflicts (issue 14).

The 81 mining conflicts of March 2024 (``defensoria-conflictos-mineros``, imported with the
``defensoria`` importer: kind ``other``, precision ``district``, dated 2024-03) are placed in
the 25 departments of ``peru-geojson-inei/peru_departamental_simple.geojson`` by location.
District precision is exact at department level (a district lies in one department), so no
conflict is left uncertain. Checked by hand against the source's own ``departamento`` column:
78 of 81 agree. Three points lie in another department than their label (the extraction's
geocoding, not geotools): DP-2024-03-053 (labelled Huancavelica, district Vilca) is at
-71.2196, -14.0046 in Cusco, 348 km from Huancavelica; DP-2024-03-057 (Junín, San José de
Quero) is 6.7 km outside Junín, in Huancavelica; DP-2024-03-020 (Arequipa, Choco) is in Puno,
67 km from Arequipa. geotools counts by location, as the issue asks.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geotools.analysis.regions import compute_region_stats
from geotools.io import read_layer
from geotools.schema import normalise_name

pytestmark = pytest.mark.realdata

CONFLICTS = "defensoria-conflictos-mineros/conflictos_mineros_defensoria_2024-03.csv"
DEPARTMENTS = "peru-geojson-inei/peru_departamental_simple.geojson"
#: Source label counts (departamento column), then the 3 moves explained above.
BY_LABEL = {
    "CUSCO": 9, "APURIMAC": 9, "ANCASH": 9, "PUNO": 5, "HUANCAVELICA": 5, "JUNIN": 5,
    "CAJAMARCA": 5, "AYACUCHO": 5, "MOQUEGUA": 5, "AREQUIPA": 4, "LA LIBERTAD": 4,
    "HUANUCO": 4, "LIMA": 4, "PASCO": 3, "AMAZONAS": 2, "PIURA": 1, "MADRE DE DIOS": 1,
    "TACNA": 1,
}  # fmt: skip
MOVES = {"DP-2024-03-053": ("HUANCAVELICA", "CUSCO"), "DP-2024-03-057": ("JUNIN", "HUANCAVELICA"),
         "DP-2024-03-020": ("AREQUIPA", "PUNO")}  # fmt: skip


def test_departments_from_defensoria_conflicts(realdata: Path) -> None:
    conflicts = read_layer(realdata / CONFLICTS, "incidents", source="defensoria").frame
    departments = gpd.read_file(realdata / DEPARTMENTS)
    labels = conflicts["departamento"].map(lambda s: normalise_name(s).replace("_", " ").upper())
    assert labels.value_counts().to_dict() == BY_LABEL
    expected = dict(BY_LABEL)
    for old, new in MOVES.values():
        expected[old] -= 1
        expected[new] += 1
    result = compute_region_stats(departments, incidents=conflicts)
    assert result.level == "department"
    table = result.table.set_index("region")
    assert len(table) == 25 and table["incidents"].sum() == 81
    assert table["incidents_uncertain"].sum() == 0  # district precision, department regions
    counts = table.loc[table["incidents"] > 0, "incidents"].to_dict()
    assert counts == expected
    assert table.loc["CUSCO", "incidents"] == 10 and table.loc["UCAYALI", "incidents"] == 0
    assert (table["incidents_2024"] == table["incidents"]).all()  # one monthly snapshot
    assert (table["incidents_other"] == table["incidents"]).all()  # no kind in the source
    assert table["killings"].sum() == 0
    # Each incident's department: the three moves, every other one its label.
    placed = result.incident_region.merge(
        result.table[["region_id", "region"]], on="region_id"
    ).set_index("incident_id")["region"]
    label = dict(zip(conflicts["incident_id"], labels, strict=True))
    differ = {i: (label[i], r) for i, r in placed.items() if label[i] != r}
    assert differ == MOVES
    # As a 20 km disc (no admin level known), 42 conflicts near a department border are
    # uncertain: that is what "precision honoured" costs at an unknown level.
    renamed = departments.rename(columns={"FIRST_IDDP": "region_id"})
    fuzzy = compute_region_stats(renamed, incidents=conflicts)
    assert fuzzy.level is None
    assert int(fuzzy.table["incidents"].sum()) == 39
    uncertain = fuzzy.incident_region.loc[fuzzy.incident_region["relation"] == "uncertain"]
    assert uncertain["incident_id"].nunique() == 81 - 39


def test_native_communities_by_department(realdata: Path) -> None:
    """The 1,600 IBC/SICNA points by department, as SOURCE.md lists them from the registry."""
    communities = read_layer(
        realdata / "observatorio-ambiental-peruano/comunidades-nativas.geojson", "communities"
    ).frame
    departments = gpd.read_file(realdata / DEPARTMENTS)
    table = compute_region_stats(departments, communities=communities).table.set_index("region")
    expected = {
        "LORETO": 580, "UCAYALI": 321, "AMAZONAS": 211, "JUNIN": 208, "PASCO": 125,
        "CUSCO": 74, "SAN MARTIN": 36, "MADRE DE DIOS": 24, "HUANUCO": 13,
    }  # fmt: skip
    assert table.loc[list(expected), "communities"].to_dict() == expected
    assert table["communities_uncertain"].sum() == 0  # exact points
    # Two points on the Putumayo border (Yabuyanos, Santa Mercedes) lie 1,514 m and 575 m
    # outside the simplified 2007 department limits: in no department, not forced into one.
    assert table["communities"].sum() == 1600 - 2


def test_stats_command_with_regions(realdata: Path, tmp_path: Path) -> None:
    """The cookbook recipe: region_stats.csv and the region of each territory."""
    from click.testing import CliRunner

    from geotools.cli import main

    oap = realdata / "observatorio-ambiental-peruano"
    out = tmp_path / "out"
    args = [
        "stats", "--territories", oap / "reservas-territoriales.geojson",
        "--concessions", oap / "lotes-petroleros.geojson", "--default", "concessions.kind=oil_gas",
        "--communities", oap / "comunidades-nativas.geojson",
        "--regions", realdata / DEPARTMENTS, "--out", out,
    ]  # fmt: skip
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Communities: 423 of 1,600 inside concessions" in result.output
    regions = pd.read_csv(out / "region_stats.csv", dtype={"region_id": str}).set_index("region")
    assert regions.loc["LORETO", ["territories", "communities"]].tolist() == [5, 580]
    assert "incidents" not in regions  # no incident layer: not analysed, not 0
    territories = pd.read_csv(out / "territory_stats.csv", dtype={"region_id": str})
    assert territories["region"].value_counts().to_dict() == {
        "LORETO": 5, "UCAYALI": 4, "MADRE DE DIOS": 1, "CUSCO": 1, "HUANUCO": 1,
    }  # fmt: skip
    # Territories counted once: the per-region counts add up to the 12 reserves.
    assert regions["territories"].sum() == len(territories) == 12


def test_each_conflict_gains_its_department(realdata: Path, tmp_path: Path) -> None:
    """analysis.gpkg: every Defensoría conflict with its department, agreeing with region_stats.

    District precision is exact at department level, so all 81 are ``inside`` one department;
    per department they are the counts of the test above (the source's labels, the three moves
    applied), and the same as ``region_stats.csv``'s ``incidents`` column.
    """
    from click.testing import CliRunner

    from geotools.cli import main

    runner = CliRunner()
    gpkg = tmp_path / "defensoria.gpkg"
    done = runner.invoke(
        main, ["import", "defensoria", str(realdata / CONFLICTS), "--out", str(gpkg)]
    )
    assert done.exit_code == 0, done.output
    oap = realdata / "observatorio-ambiental-peruano"
    out = tmp_path / "out"
    args = [
        "stats", "--territories", oap / "reservas-territoriales.geojson",
        "--incidents", gpkg, "--regions", realdata / DEPARTMENTS, "--out", out,
    ]  # fmt: skip
    result = runner.invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    incidents = gpd.read_file(out / "analysis.gpkg", layer="incidents")
    assert len(incidents) == 81 and set(incidents["region_relation"]) == {"inside"}
    assert incidents["regions_possible"].isna().all()
    expected = dict(BY_LABEL)
    for old, new in MOVES.values():
        expected[old] -= 1
        expected[new] += 1
    assert incidents["region"].value_counts().to_dict() == expected
    moved = incidents.set_index("incident_id").loc[list(MOVES), "region"].to_dict()
    assert moved == {key: new for key, (_, new) in MOVES.items()}
    regions = pd.read_csv(out / "region_stats.csv").set_index("region")
    assert regions.loc[regions["incidents"] > 0, "incidents"].to_dict() == expected
