"""Statistics by region (issue 14), every number by hand.

Two regions side by side, 10 x 10 km each (1 km^2 = 100 ha in the equal-area plane):
Oeste x 0-10 km, Este x 10-20 km.

- T1 (x 2-8, y 2-8) lies in Oeste; T2 (x 7-15, y 2-8) has 18 km^2 in Oeste and 30 in Este, so
  Este by largest share. Claimed, as a union: Oeste x 2-10 = 48 km^2 = 4,800 ha (T1 and T2
  overlap on x 7-8: 600 ha counted once), Este x 10-15 = 3,000 ha.
- Titled parcels P1 (x 3-5, y 3-5) and P2 (x 4-6, y 3-5) overlap: union 600 ha; P3 in process.
- Concessions: C1 mining active across the border (1,000 ha each side), C2 mining expired
  (never counted), C3 oil_gas in process in Oeste (100 ha).
- A killing (2021) in Oeste, a threat (2022) in Este, and a threat located only to a locality
  (5 km) 1 km from the border: uncertain in both regions, counted in neither.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely import Point

from geotools.analysis.regions import compute_region_stats, label_territories, region_columns
from geotools.errors import ValidationError
from tests.conftest import KM, frame, km_box


def pt(x: float, y: float) -> Point:
    return Point(x * KM, y * KM)


def layers() -> dict:
    return {
        "regions": frame(
            [
                {"region_id": "R1", "region": "Oeste", "geometry": km_box(0, 0, 10, 10)},
                {"region_id": "R2", "region": "Este", "geometry": km_box(10, 0, 20, 10)},
            ]
        ),
        "territories": frame(
            [
                {"territory_id": "T1", "geometry": km_box(2, 2, 8, 8)},
                {"territory_id": "T2", "geometry": km_box(7, 2, 15, 8)},
            ]
        ),
        "parcels": frame(
            [
                {"parcel_id": "P1", "tenure": "titled", "geometry": km_box(3, 3, 5, 5)},
                {"parcel_id": "P2", "tenure": "titled", "geometry": km_box(4, 3, 6, 5)},
                {"parcel_id": "P3", "tenure": "in_process", "geometry": km_box(11, 3, 12, 4)},
            ]
        ),
        "concessions": frame(
            [
                {
                    "concession_id": "C1",
                    "kind": "mining",
                    "status": "active",
                    "geometry": km_box(9, 0, 11, 10),
                },
                {
                    "concession_id": "C2",
                    "kind": "mining",
                    "status": "expired",
                    "geometry": km_box(15, 0, 20, 10),
                },
                {
                    "concession_id": "C3",
                    "kind": "oil_gas",
                    "status": "in_process",
                    "geometry": km_box(0, 0, 1, 1),
                },
            ]
        ),
        "communities": frame(
            [
                {"community_id": "A", "geometry": pt(5, 5)},
                {"community_id": "B", "geometry": pt(12, 5)},
            ]
        ),
        "incidents": frame(
            [
                {
                    "incident_id": "I1",
                    "kind": "killing",
                    "date": "2021-05-01",
                    "precision": "exact",
                    "geometry": pt(3, 9),
                },
                {
                    "incident_id": "I2",
                    "kind": "threat",
                    "date": "2022-01-10",
                    "precision": "exact",
                    "geometry": pt(18, 1),
                },
                {
                    "incident_id": "I3",
                    "kind": "threat",
                    "date": "2022-02-10",
                    "precision": "locality",
                    "geometry": pt(9, 5),
                },
            ]
        ),
    }


def test_region_table_by_hand() -> None:
    given = layers()
    result = compute_region_stats(
        given["regions"],
        territories=given["territories"],
        parcels=given["parcels"],
        concessions=given["concessions"],
        communities=given["communities"],
        incidents=given["incidents"],
    )
    t = result.table.set_index("region")
    assert result.level is None
    assert t["territories"].to_dict() == {"Oeste": 1, "Este": 1}
    assert t["claimed_ha"].to_dict() == pytest.approx({"Oeste": 4_800, "Este": 3_000}, rel=1e-6)
    assert t["titled_ha"].to_dict() == pytest.approx({"Oeste": 600, "Este": 0}, abs=1e-6)
    assert t["concession_mining_ha"].to_dict() == pytest.approx(
        {"Oeste": 1_000, "Este": 1_000}, rel=1e-6
    )
    assert t["concession_oil_gas_ha"].to_dict() == pytest.approx({"Oeste": 100, "Este": 0})
    assert t["communities"].to_dict() == {"Oeste": 1, "Este": 1}
    assert t["incidents"].to_dict() == {"Oeste": 1, "Este": 1}
    assert t["incidents_uncertain"].to_dict() == {"Oeste": 1, "Este": 1}
    assert t["killings"].to_dict() == {"Oeste": 1, "Este": 0}
    assert t["incidents_threat"].to_dict() == {"Oeste": 0, "Este": 1}  # I3 is not counted
    assert t["incidents_2021"].to_dict() == {"Oeste": 1, "Este": 0}
    assert t["incidents_2022"].to_dict() == {"Oeste": 0, "Este": 1}
    i3 = result.incident_region[result.incident_region["incident_id"] == "I3"]
    assert sorted(i3["region_id"]) == ["R1", "R2"] and set(i3["relation"]) == {"uncertain"}
    labelled = label_territories(pd.DataFrame({"territory_id": ["T1", "T2"]}), result)
    assert labelled["region"].tolist() == ["Oeste", "Este"]


def test_absent_layers_are_absent_not_zero() -> None:
    result = compute_region_stats(layers()["regions"])
    assert list(result.table.columns) == ["region_id", "region"]


def test_region_columns() -> None:
    regions = layers()["regions"].rename(columns={"region_id": "FIRST_IDDP", "region": "NOMBDEP"})
    assert region_columns(regions) == ("FIRST_IDDP", "NOMBDEP")
    with pytest.raises(ValidationError, match="no name column"):
        region_columns(regions.rename(columns={"NOMBDEP": "x"}))


def test_project_file_with_communities_and_regions(tmp_path) -> None:
    from click.testing import CliRunner

    from geotools.cli import main

    given = layers()
    for kind in ("regions", "territories", "communities", "incidents"):
        given[kind].to_crs(4326).to_file(tmp_path / f"{kind}.geojson")
    (tmp_path / "study.toml").write_text(
        """
[project]
name = "regions"
out = "out"
[layers.territories]
path = "territories.geojson"
[layers.communities]
path = "communities.geojson"
[layers.incidents]
path = "incidents.geojson"
[layers.regions]
path = "regions.geojson"
""",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["run", str(tmp_path / "study.toml")])
    assert result.exit_code == 0, result.output
    regions = pd.read_csv(tmp_path / "out" / "region_stats.csv").set_index("region")
    assert regions["territories"].to_dict() == {"Oeste": 1, "Este": 1}
    assert regions["incidents_uncertain"].to_dict() == {"Oeste": 1, "Este": 1}
    communities = pd.read_csv(tmp_path / "out" / "community_stats.csv")
    assert communities["territory_id"].tolist() == ["T1", "T2"]
    assert communities["incidents_nearby"].tolist() == [2, 1]  # I3 4.0 km, I1 4.5 km from A
    assert communities["region_id"].tolist() == ["R1", "R2"]


def test_incidents_and_communities_gain_their_region(tmp_path) -> None:
    """analysis.gpkg: each incident's region by location, honouring its precision.

    I1 (3, 9) is in Oeste, I2 (18, 1) in Este; I3, located to a locality (5 km) 1 km from the
    border, may be in either: no region_id, both listed. I4 (25, 5) lies east of every region.
    Territories and overlaps take the region of the territory's largest share (T2: Este).
    """
    from geotools.pipeline import run_stats

    given = layers()
    extra = frame([{"incident_id": "I4", "kind": "threat", "date": "2022-03-01",
                    "precision": "exact", "geometry": pt(25, 5)}])  # fmt: skip
    given["incidents"] = pd.concat([given["incidents"], extra], ignore_index=True)
    paths = {}
    for kind in ("regions", "territories", "concessions", "communities", "incidents"):
        paths[kind] = tmp_path / f"{kind}.geojson"
        given[kind].to_crs(4326).to_file(paths[kind])
    regions = paths.pop("regions")
    # Block K drawn in three parts: 50 km^2 in Oeste, 30 + 30 in Este. Its parts' shares add up:
    # Este (60), though its largest single part lies in Oeste.
    parts = [km_box(5, 0, 10, 10), km_box(10, 0, 13, 10), km_box(13, 0, 16, 10)]
    blocks = frame([{"area_id": "K", "geometry": part} for part in parts])
    blocks.to_crs(4326).to_file(tmp_path / "blocks.geojson")
    run = run_stats(
        paths, tmp_path / "out", regions=regions, areas={"blocks": tmp_path / "blocks.geojson"}
    )
    gpkg = tmp_path / "out" / "analysis.gpkg"
    incidents = gpd.read_file(gpkg, layer="incidents").set_index("incident_id")
    assert incidents["region_id"].fillna("").to_dict() == {"I1": "R1", "I2": "R2", "I3": "",
                                                           "I4": ""}  # fmt: skip
    assert incidents["region"].fillna("").tolist() == ["Oeste", "Este", "", ""]
    assert incidents["region_relation"].tolist() == ["inside", "inside", "uncertain", "outside"]
    assert incidents["regions_possible"].fillna("").tolist() == ["", "", "R1;R2", ""]
    communities = gpd.read_file(gpkg, layer="communities")
    assert communities["region"].tolist() == ["Oeste", "Este"]
    table = pd.read_csv(tmp_path / "out" / "community_stats.csv")
    assert table[["region_id", "region", "region_relation"]].values.tolist() == [
        ["R1", "Oeste", "inside"],
        ["R2", "Este", "inside"],
    ]
    territories = gpd.read_file(gpkg, layer="territory_stats")
    assert territories["region"].tolist() == ["Oeste", "Este"]
    overlaps = pd.read_csv(tmp_path / "out" / "overlaps.csv").set_index("concession_id")
    assert overlaps.loc["C1", "territory_id"] == "T2" and overlaps.loc["C1", "region"] == "Este"
    polygons = pd.read_csv(tmp_path / "out" / "community_polygons.csv")
    region = polygons.set_index(["layer", "feature_id"])["region"].to_dict()
    assert region[("territories", "T1")] == "Oeste" and region[("territories", "T2")] == "Este"
    assert region[("concessions", "C3")] == "Oeste" and region[("concessions", "C2")] == "Este"
    assert region[("blocks", "K")] == "Este"
    # A (5, 5) lies on K's west edge (a boundary is inside), B (12, 5) in its second part.
    assert polygons.set_index("feature_id").loc["K", "community_ids"] == "A;B"
    # The layers themselves are not changed (the map and bundle read them): only the tables.
    assert "region_id" not in run.layers["incidents"].frame
