"""Regions shaded on the map by a column of region_stats, through the privacy gate (issue 14).

Counted by hand. Two regions split the small case of ``test_community_publish``: Oeste (west
of -74.72) holds community A and, around it, a public threat 1 km north, a restricted attack
0.5 km south, a confidential killing at A and two more public incidents (an invasion and a
threat, 2022); Este holds community B and a public killing 1 km north of it.

=========  ========  ========  =========  ==================  ==================
region     internal  public    killings   public killings     public attack col.
=========  ========  ========  =========  ==================  ==================
Oeste      5         3         1          fewer than 3 (0)    gone (only withheld)
Este       1         <3 (1)    1          fewer than 3 (1)
=========  ========  ========  =========  ==================  ==================

The internal map counts what ``compute_region_stats`` counts from every incident (the
confidential killing included: an internal map is never shared); the public map counts only the
incidents the gate lets it draw and writes every count below the floor of 3 (``--min-count``,
:data:`geotools.privacy.FLOOR_MIN_COUNT`) as "fewer than 3", zero included.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import box
from test_community_publish import A, B, _offset, build_inputs, layer_args

from geotools.cli import main
from geotools.maps.region_layer import class_labels, compute_class_breaks


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("region_map")
    paths = build_inputs(folder)
    incidents = pd.read_csv(paths["incidents"])
    more = [
        ("I4", "2022-02-01", "invasion", _offset(A, 2000.0)),
        ("I5", "2022-08-01", "threat", _offset(A, -3000.0)),
        ("I6", "2023-04-01", "killing", _offset(B, 1000.0)),
    ]
    rows = pd.DataFrame(
        {
            "incident_id": [m[0] for m in more],
            "date": [m[1] for m in more],
            "kind": [m[2] for m in more],
            "severity": [3, 2, 5],
            "source": ["Public report"] * 3,
            "precision": ["exact"] * 3,
            "sensitivity": ["public"] * 3,
            "lon": [m[3][0] for m in more],
            "lat": [m[3][1] for m in more],
        }
    )
    pd.concat([incidents, rows], ignore_index=True).to_csv(paths["incidents"], index=False)
    regions = folder / "regiones.geojson"
    gpd.GeoDataFrame(
        {"region_id": ["W", "E"], "region": ["Oeste", "Este"]},
        geometry=[box(-74.9, -8.6, -74.72, -8.3), box(-74.72, -8.6, -74.4, -8.3)],
        crs=4326,
    ).to_file(regions)
    return {**paths, "regions": regions}


def _map(inputs: dict[str, Path], out: Path, *extra: str) -> Any:
    layers = {k: v for k, v in inputs.items() if k != "regions"}
    args = ["map", *layer_args(layers), "--regions", str(inputs["regions"]), "--lang", "en",
            "--out", str(out), *extra]  # fmt: skip
    return CliRunner().invoke(main, args)


def _region_features(page: str) -> dict[str, dict[str, Any]]:
    """The region layer's features by region name (from their tooltips)."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"_add\(", page):
        try:
            value, _ = decoder.raw_decode(page, match.end())
        except json.JSONDecodeError:
            continue
        tips = [f["properties"].get("tooltip", "") for f in value.get("features", [])]
        if any(t.startswith("Oeste") for t in tips):
            return {t.split(":")[0]: f["properties"] for t, f in
                    zip(tips, value["features"], strict=True)}
    raise AssertionError("no region layer")


@pytest.mark.parametrize(
    ("profile", "oeste", "este", "killings"),
    [
        ("public", "3", "fewer than 3", ("fewer than 3", "fewer than 3")),
        ("internal", "5", "1", ("1", "1")),
    ],
)
def test_regions_shaded_by_incidents_as_the_gate_lets_them_out(
    inputs: dict[str, Path],
    tmp_path: Path,
    profile: str,
    oeste: str,
    este: str,
    killings: tuple[str, str],
) -> None:
    out = tmp_path / "map.html"
    result = _map(inputs, out, "--profile", profile, "--shade-regions", "incidents")
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    regions = _region_features(page)
    assert regions["Oeste"]["tooltip"] == f"Oeste: {oeste}"
    assert regions["Este"]["tooltip"] == f"Este: {este}"
    for name, value in zip(("Oeste", "Este"), killings, strict=True):
        assert f"<th>Killings</th><td>{value}</td>" in regions[name]["popup"]
    assert "<th>Community points</th><td>1</td>" in regions["Oeste"]["popup"]
    # A kind only a withheld record had is not listed in public (its column would say so).
    assert ("Incidents: Attack" in regions["Oeste"]["popup"]) is (profile == "internal")
    if profile == "public":
        assert regions["Este"]["k"] == -2  # the "fewer than" class, not a colour class
        assert "fewer than 3" in page and "counts below 3 are not shown (privacy)" in page
    else:
        assert regions["Este"]["k"] >= 0


def test_every_count_suppressed(inputs: dict[str, Path], tmp_path: Path) -> None:
    """Public killings: 0 and 1, both below the floor: every region in the "fewer than" class,
    no colour class at all (nothing to shade by)."""
    out = tmp_path / "map.html"
    result = _map(inputs, out, "--shade-regions", "killings")
    assert result.exit_code == 0, result.output
    regions = _region_features(out.read_text(encoding="utf-8"))
    assert [(p["tooltip"], p["k"]) for p in regions.values()] == [
        ("Oeste: fewer than 3", -2),
        ("Este: fewer than 3", -2),
    ]


def test_shade_column_is_checked_and_named(inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "map.html"
    result = _map(inputs, out, "--shade-regions", "deaths")
    assert result.exit_code == 1
    assert "--shade-regions deaths: region_stats has no such column; use one of" in result.output
    for name in ("incidents", "killings", "communities", "concession_oil_gas_ha"):
        assert name in result.output
    assert not out.exists()
    layers = {k: v for k, v in inputs.items() if k != "regions"}
    args = ["map", *layer_args(layers), "--shade-regions", "incidents", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "add --regions FILE" in result.output


def test_outline_only_without_shade(inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "map.html"
    result = _map(inputs, out, "--lang", "es")
    assert result.exit_code == 0, result.output
    regions = _region_features(out.read_text(encoding="utf-8"))
    assert set(regions) == {"Oeste", "Este"}
    assert "<th>Incidentes</th><td>3</td>" in regions["Oeste"]["popup"]


def test_class_breaks_by_hand() -> None:
    # Quantiles 1.2, 2.4, 7.2, 22 of the seven counts, rounded to two significant digits and
    # up to whole numbers: classes [0, 2), [2, 3), [3, 8), [8, 22), [22, 81].
    assert compute_class_breaks([0, 1, 2, 3, 10, 25, 81]) == [0, 2, 3, 8, 22, 81]
    assert compute_class_breaks([4, 4]) == [4, 4]
    assert compute_class_breaks([]) == []


def test_class_labels_of_counts_do_not_overlap() -> None:
    """Breaks [0, 3, 84, 580] of community counts (the INEI departments): classes [0, 3),
    [3, 84), [84, 580] hold the whole numbers 0-2, 3-83 and 84-580, and say so; hectares keep
    the continuous "low-high" reading; a class of one whole number reads as that number."""
    assert class_labels([0, 3, 84, 580], "communities", "en", whole=True) == [
        "0–2", "3–83", "84–580",
    ]
    assert class_labels([0, 1, 2, 3, 10], "incidents", "en", whole=True) == [
        "0", "1", "2", "3–10",
    ]
    assert class_labels([1000, 2500, 12000], "claimed_ha", "en") == [
        "1,000\u00a0ha–2,500\u00a0ha", "2,500\u00a0ha–12,000\u00a0ha",
    ]
    assert class_labels([0.5, 1.5, 4], "ratio", "es") == ["0,5–1,5", "1,5–4"]
    assert class_labels([4, 4], "incidents", "en", whole=True) == ["4"]


def test_legend_has_integer_classes_and_a_suppressed_entry(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    """Internal: Oeste 5, Este 1 incidents -> breaks [1, 2, 3, 4, 5] (quantiles 1.8, 2.6, 3.4,
    4.2 up to whole numbers): classes 1, 2, 3 and 4-5, none overlapping. Public: Oeste 3,
    Este "<3" -> the class "3" and the entry "fewer than 3" of its own (grey), with the note."""
    for profile, rows in (
        ("internal", ["1", "2", "3", "4–5"]),
        ("public", ["3", "fewer than 3"]),
    ):
        out = tmp_path / f"{profile}.html"
        result = _map(inputs, out, "--profile", profile, "--shade-regions", "incidents")
        assert result.exit_code == 0, result.output
        page = out.read_text(encoding="utf-8")
        section = re.search(r'gt-sec\\">Incidents(?:</div>|<\\/div>)(.*?)gt-sec', page)
        assert section is not None
        body = json.loads(f'"{section.group(1)}"')
        texts = re.findall(r"</span>([^<]*)<", body)
        assert texts == rows, texts


def test_the_gate_decides_what_of_regions_is_public(inputs: dict[str, Path]) -> None:
    """``compute_shareable_view`` recounts and suppresses region counts; without the region
    polygons a public view carries no region table at all (nothing unrecounted slips out)."""
    from geotools.analysis.stats import compute_stats
    from geotools.io import read_inputs
    from geotools.pipeline import add_region_stats
    from geotools.privacy import PrivacyPolicy, compute_shareable_view

    layers = read_inputs({k: [str(v)] for k, v in inputs.items() if k != "regions"})
    result = compute_stats(layers)
    regions = gpd.read_file(inputs["regions"])
    add_region_stats(result, layers, regions)
    assert result.regions is not None
    assert result.regions["incidents"].tolist() == [5, 1]
    policy = PrivacyPolicy(restricted="aggregate")
    public = compute_shareable_view(result, layers, policy=policy, regions=regions)
    assert public.regions is not None and public.result.regions is not None
    table = public.result.regions.set_index("region")
    assert table.loc[["Oeste", "Este"], "incidents"].tolist() == ["3", "<3"]
    assert table.loc[["Oeste", "Este"], "killings"].tolist() == ["<3", "<3"]
    assert table.loc[["Oeste", "Este"], "incidents_2022"].tolist() == ["<3", "<3"]  # I4, I5
    assert "incidents_attack" not in table  # only the withheld attack had that kind
    assert table.loc["Oeste", "communities"] == 1  # public places: not suppressed
    assert public.regions.crs.to_epsg() == 4326 and len(public.regions) == 2
    blind = compute_shareable_view(result, layers, policy=policy)
    assert blind.regions is None and blind.result.regions is None
    internal = compute_shareable_view(result, layers, profile="internal", regions=regions)
    assert internal.regions is not None
    assert internal.regions["incidents"].tolist() == [5, 1]


def test_public_bundle_with_regions(inputs: dict[str, Path], tmp_path: Path) -> None:
    """``publish --regions``: region_stats.csv and regions.geojson count the incidents the
    bundle publishes (the restricted attack at its displaced point, which may lie on either
    side of the -74.72 border) and write counts below 3 as <3."""
    key = tmp_path / "key.txt"
    key.write_text("region-bundle-secret-0123456789abcdef", encoding="utf-8")
    out = tmp_path / "bundle"
    layers = {k: v for k, v in inputs.items() if k != "regions"}
    args = ["publish", *layer_args(layers), "--regions", str(inputs["regions"]),
            "--shade-regions", "incidents", "--secret-file", str(key), "--out", str(out)]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Leak check: clean" in result.output
    published = gpd.read_file(out / "incidents.geojson")
    west = int((published.geometry.x < -74.72).sum())
    east = len(published) - west
    assert len(published) == 5  # I1, I2 (displaced), I4, I5, I6; never the confidential I3

    def shown(n: int) -> str:
        return str(n) if n >= 3 else "<3"

    table = pd.read_csv(out / "region_stats.csv", dtype=str).set_index("region")
    assert table.loc[["Oeste", "Este"], "incidents"].tolist() == [shown(west), shown(east)]
    assert table.loc[["Oeste", "Este"], "killings"].tolist() == ["<3", "<3"]
    polygons = gpd.read_file(out / "regions.geojson").set_index("region")
    assert polygons.loc[["Oeste", "Este"], "incidents"].astype(str).tolist() == [
        shown(west),
        shown(east),
    ]
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "### region_stats.csv" in readme and "| region_stats.csv |" in readme
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "Regiones: Incidentes" in page


@pytest.mark.parametrize(
    ("profile", "legend", "fills"),
    [
        # Public: Oeste 3 (the one class "3"), Este "<3": the "fewer than 3" class of its own.
        ("public", ["3", "fewer than 3"], ["#feedde", "#f0f0f0"]),
        # Internal: Oeste 5, Este 1 -> classes 1, 2, 3, 4-5 (the lightest and darkest colours).
        ("internal", ["1", "2", "3", "4–5"], ["#a63603", "#feedde"]),
    ],
)
def test_png_overview_draws_regions_and_communities_through_the_gate(
    inputs: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    profile: str,
    legend: list[str],
    fills: list[str],
) -> None:
    """``map --png`` shades the regions in the web map's classes (same gate view) and draws
    the two community points, each with its legend entries."""
    import matplotlib.colors as mcolors

    import geotools.maps.files as files

    figures: dict[str, Any] = {}
    saved = files._save
    monkeypatch.setattr(
        files, "_save", lambda fig, path, title: (figures.__setitem__(path.name, fig),
                                                  saved(fig, path, title))
    )
    pngs = tmp_path / "png"
    result = _map(inputs, tmp_path / "map.html", "--profile", profile,
                  "--shade-regions", "incidents", "--png", str(pngs))
    assert result.exit_code == 0, result.output
    assert (pngs / "overview.png").stat().st_size > 10_000
    fig = figures["overview.png"]
    texts = [t.get_text().replace("\n", " ") for t in next(
        ax for ax in fig.axes if ax.get_label() == "legend").get_legend().get_texts()]
    start = texts.index("Regions: Incidents")
    assert texts[start + 1: start + 1 + len(legend)] == legend
    assert texts[start + 1 + len(legend)] == "Communities (points)"
    assert texts[start + 2 + len(legend)] == "Communities"
    ax = next(ax for ax in fig.axes if ax.get_label() == "map")
    shaded = next(c for c in ax.collections if c.get_zorder() == 0.5)
    assert [mcolors.to_hex(c) for c in shaded.get_facecolor()] == fills
    points = [c for c in ax.collections if c.get_zorder() == 6]
    assert sum(len(c.get_offsets()) for c in points) == 2  # communities A and B
    # T1's own map: community A inside it (B, 30 km east, is out of its view).
    own = next(ax for ax in figures["T1.png"].axes if ax.get_label() == "map")
    assert sum(len(c.get_offsets()) for c in own.collections if c.get_zorder() == 6) == 1


@pytest.mark.parametrize(
    ("profile", "incidents", "classes", "nearby"),
    [
        # Public: Oeste 3 incidents, Este "<3" (class -2); killings "<3" in both (0 and 1);
        # near A the public threat (1 km), invasion (2 km) and threat (3 km): 3; near B the
        # public killing 1 km north: 1.
        ("public", ["3", "<3"], [0, -2], [3, 1]),
        # Internal: 5 and 1 (classes 1, 2, 3, 4-5: Oeste in the last, Este in the first);
        # near A also the restricted attack (0.5 km) and the confidential killing at A: 5.
        ("internal", ["5", "1"], [3, 0], [5, 1]),
    ],
)
def test_tiles_carry_regions_and_communities_as_the_gate_lets_them_out(
    inputs: dict[str, Path],
    tmp_path: Path,
    profile: str,
    incidents: list[str],
    classes: list[int],
    nearby: list[int],
) -> None:
    """``map --tiles`` writes regions.pmtiles and communities.pmtiles, read back with GDAL:
    only allow-listed properties, the figures of the gate's view (suppressed counts as the
    text "<3", as the web map), the web map's classes; the viewer draws and lists both."""
    import pyogrio

    from geotools.maps import TILE_PROPERTIES

    site = tmp_path / "site"
    result = _map(inputs, tmp_path / "map.html", "--profile", profile,
                  "--shade-regions", "incidents", "--tiles", str(site))
    assert result.exit_code == 0, result.output
    for kind in ("regions", "communities"):
        fields = set(pyogrio.read_info(site / f"{kind}.pmtiles", layer=kind)["fields"])
        assert fields - {"mvt_id"} <= set(TILE_PROPERTIES[kind]), fields
    regions = pyogrio.read_dataframe(site / "regions.pmtiles", layer="regions", ZOOM_LEVEL=10)
    regions = regions.drop_duplicates("region_id").set_index("region").loc[["Oeste", "Este"]]
    assert regions["incidents"].tolist() == incidents
    assert regions["shade"].tolist() == incidents
    assert regions["k"].tolist() == classes
    killings = ["<3", "<3"] if profile == "public" else ["1", "1"]
    assert regions["killings"].tolist() == killings
    assert regions["communities"].tolist() == ["1", "1"]
    points = pyogrio.read_dataframe(
        site / "communities.pmtiles", layer="communities", ZOOM_LEVEL=10
    ).to_crs(4326)
    points = points.assign(lon=points.geometry.representative_point().x).sort_values("lon")
    assert points["incidents_nearby"].tolist() == nearby
    assert points["exact"].tolist() == [1, 1]
    assert abs(points["lon"].iloc[0] - A[0]) < 1e-4 and abs(points["lon"].iloc[1] - B[0]) < 1e-4
    page = (site / "index.html").read_text(encoding="utf-8")
    config = json.loads(re.search(
        r'<script type="application/json" id="gt-config">(.*?)</script>', page, re.S
    ).group(1))
    ids = [layer["id"] for layer in config["style"]["layers"]]
    assert {"regions-fill", "regions-line", "communities-circle"} <= set(ids)
    assert ids.index("regions-fill") < ids.index("territories-titled")  # under the territories
    legend = {s["title"]: [r["label"] for r in s["rows"]] for s in config["legend"]}
    expected = ["3", "fewer than 3"] if profile == "public" else ["1", "2", "3", "4–5"]
    assert legend["Regions: Incidents"] == expected
    assert legend["Communities (points)"] == ["Communities"]
