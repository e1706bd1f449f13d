"""Community points related to polygon layers (issue 14), numbers checked by hand."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import Point, box

from geotools.analysis.communities import add_area_layers, polygon_keys, relate_communities
from geotools.errors import ValidationError

GEOD = Geod(ellps="WGS84")


def lonlat(rows: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


@pytest.fixture
def case() -> dict[str, gpd.GeoDataFrame]:
    # Block B drawn in two overlapping parts (validation suffixed the second one B#2).
    concessions = lonlat(
        [
            {
                "concession_id": "B",
                "kind": "mining",
                "status": "active",
                "geometry": box(-75.0, -10.0, -74.9, -9.9),
            },
            {
                "concession_id": "B#2",
                "kind": "mining",
                "status": "active",
                "geometry": box(-74.95, -10.0, -74.85, -9.9),
            },
            {
                "concession_id": "L",
                "kind": "oil_gas",
                "status": "in_process",
                "geometry": box(-74.0, -10.0, -73.9, -9.9),
            },
        ]
    )
    territories = lonlat([{"territory_id": "T1", "geometry": box(-74.82, -9.98, -74.75, -9.92)}])
    communities = lonlat(
        [
            # In both parts of B: one membership, one count.
            {"community_id": "C1", "name": "Uno", "geometry": Point(-74.93, -9.95)},
            # 0.005 deg (~548 m) east of B, located to 1 km: possibly inside B.
            {
                "community_id": "C2",
                "name": "Dos",
                "precision": "approximate",
                "geometry": Point(-74.845, -9.95),
            },
            # Outside B, inside territory T1.
            {"community_id": "C3", "name": "Tres", "geometry": Point(-74.80, -9.95)},
        ]
    )
    incidents = lonlat([{"incident_id": "I1", "geometry": Point(-74.78, -9.95)}])
    return {"c": communities, "k": concessions, "t": territories, "i": incidents}


def test_polygon_keys_strip_only_validation_suffixes() -> None:
    keys = polygon_keys(pd.Series(["8", "8#2", "8#3", "X#2"]))
    assert keys.tolist() == ["8", "8", "8", "X#2"]  # X#2 has no X: a real id, kept


def test_membership_counts_a_point_once_per_polygon(case) -> None:
    result = relate_communities(
        case["c"],
        {"concessions": (case["k"], "concession_id"), "territories": (case["t"], "territory_id")},
        incidents=case["i"],
        nearby_km=5.0,
    )
    m = result.membership
    rows = set(zip(m["community_id"], m["layer"], m["feature_id"], m["relation"], strict=True))
    assert rows == {
        ("C1", "concessions", "B", "inside"),
        ("C2", "concessions", "B", "possibly inside"),
        ("C3", "territories", "T1", "inside"),
    }
    b = result.polygons.set_index("feature_id").loc["B"]
    assert (b["communities_inside"], b["communities_possibly_inside"]) == (1, 1)
    assert b["community_ids"] == "C1;C2"
    # C2 is 0.005 deg of longitude from B's east edge: ~548 m by pyproj.Geod.
    _, _, d2 = GEOD.inv(-74.85, -9.95, -74.845, -9.95)
    c2 = m[m["community_id"] == "C2"].iloc[0]
    assert c2["boundary_distance_m"] == pytest.approx(d2, abs=1.0)
    assert c2["kind"] == "mining" and c2["status"] == "active"


def test_per_community_table(case) -> None:
    result = relate_communities(
        case["c"],
        {"concessions": (case["k"], "concession_id"), "territories": (case["t"], "territory_id")},
        incidents=case["i"],
        nearby_km=5.0,
    )
    s = result.stats.set_index("community_id")
    assert s["in_concessions"].tolist() == [1, 0, 0]
    assert s["possibly_in_concessions"].tolist() == [0, 1, 0]
    assert s["territory_id"].tolist()[2] == "T1" and pd.isna(s.loc["C1", "territory_id"])
    # Nearest mining: 0 inside; C3 is 0.05 deg east of B's edge; oil block L by hand too.
    _, _, d3 = GEOD.inv(-74.85, -9.95, -74.80, -9.95)
    _, _, l3 = GEOD.inv(-74.80, -9.95, -74.0, -9.95)
    assert s.loc["C1", "nearest_mining_km"] == 0.0
    assert s.loc["C3", "nearest_mining_km"] == pytest.approx(d3 / 1000, abs=0.002)
    assert s.loc["C3", "nearest_oil_gas_km"] == pytest.approx(l3 / 1000, abs=0.002)
    # The incident is 0.02 deg (~2.2 km) east of C3, ~7.1 km from C2, ~16 km from C1.
    assert s["incidents_nearby"].tolist() == [0, 0, 1]


def test_no_incident_layer_is_not_zero(case) -> None:
    result = relate_communities(case["c"], {"concessions": (case["k"], "concession_id")})
    assert "incidents_nearby" not in result.stats
    assert "territory_id" not in result.stats


def test_polygon_table_lists_every_polygon_with_its_name(case) -> None:
    """community_polygons.csv: one row per (layer, polygon), zeros included, B's parts once."""
    territories = case["t"].assign(name="Territorio Uno")
    result = relate_communities(
        case["c"],
        {"concessions": (case["k"], "concession_id"), "territories": (territories, "territory_id")},
    )
    p = result.polygons
    assert list(p.columns) == [
        "layer",
        "feature_id",
        "name",
        "kind",
        "status",
        "communities_inside",
        "communities_possibly_inside",
        "community_ids",
    ]
    rows = p[["layer", "feature_id", "communities_inside", "communities_possibly_inside"]]
    assert [tuple(r) for r in rows.itertuples(index=False)] == [
        ("concessions", "B", 1, 1),
        ("concessions", "L", 0, 0),  # holds no community: a row with 0, not left out
        ("territories", "T1", 1, 0),
    ]
    assert p["community_ids"].tolist() == ["C1;C2", "", "C3"]
    assert p["name"].tolist()[2] == "Territorio Uno" and pd.isna(p["name"].iloc[0])
    assert p["kind"].tolist()[:2] == ["mining", "oil_gas"]
    assert p["status"].tolist()[:2] == ["active", "in_process"]


def test_extra_area_layers_by_hand(case) -> None:
    """add_area_layers: an ANP holding C3, a district holding nothing, nearest distances."""
    base = relate_communities(case["c"], {"concessions": (case["k"], "concession_id")})
    anp = lonlat(
        [
            {
                "area_id": "RC01",
                "name": "Reserva",
                "kind": "Reserva Comunal",
                "geometry": box(-74.81, -9.96, -74.79, -9.94),
            }
        ]
    )
    far = lonlat([{"area_id": "D1", "geometry": box(-74.0, -9.96, -73.9, -9.94)}])
    result = add_area_layers(base, case["c"], {"protected": anp, "district": far})
    s = result.stats.set_index("community_id")
    assert s["in_protected"].tolist() == [0, 0, 1]
    assert s["in_district"].tolist() == [0, 0, 0]
    assert s["in_concessions"].tolist() == [1, 0, 0]  # the run's columns are kept
    # C1 (-74.93) to the ANP's west edge (-74.81), C3 to the district's west edge (-74.0).
    _, _, d1 = GEOD.inv(-74.93, -9.95, -74.81, -9.95)
    _, _, d3 = GEOD.inv(-74.80, -9.95, -74.0, -9.95)
    assert s.loc["C1", "nearest_protected_km"] == pytest.approx(d1 / 1000, abs=0.002)
    assert s.loc["C3", "nearest_protected_km"] == 0.0
    assert s.loc["C3", "nearest_district_km"] == pytest.approx(d3 / 1000, abs=0.002)
    m = result.membership
    assert m[m["layer"] == "protected"][["community_id", "feature_id", "kind"]].values.tolist() == [
        ["C3", "RC01", "Reserva Comunal"]
    ]
    assert m["community_id"].is_monotonic_increasing  # sorted as the run's table was
    p = result.polygons.set_index(["layer", "feature_id"])
    assert p.loc[("protected", "RC01"), "community_ids"] == "C3"
    assert p.loc[("protected", "RC01"), "name"] == "Reserva"
    assert p.loc[("district", "D1"), "communities_inside"] == 0
    assert result.polygons["layer"].tolist() == ["concessions", "concessions", "district",
                                                 "protected"]  # fmt: skip


def test_area_layer_whose_columns_exist_is_refused(case) -> None:
    base = relate_communities(case["c"], {"concessions": (case["k"], "concession_id")})
    anp = lonlat([{"area_id": "X", "geometry": box(-74.81, -9.96, -74.79, -9.94)}])
    with pytest.raises(ValidationError, match="in_concessions"):
        add_area_layers(base, case["c"], {"concessions": anp})
