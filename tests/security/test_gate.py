"""Attack tests of the privacy gate (issue 11, class 3): one rule for every public output.

Each test plays an adversary who holds every public artefact (the public map, the static PNGs,
the download bundle: README, datapackage.json, CSV, GeoJSON, GeoPackage, Shapefile, KML) and
checks one way the old, scattered rules disagreed:

- confidential incidents counted in the risk score, drivers sentence, counts, by-year rows or
  sources of a public output;
- ``location_generalised`` = "false"/"no"/"0"/"" read as true, drawing a restricted incident at
  its exact place;
- a sensitivity kept under another column name (``privacidad``, ``confidencial``) dropped
  silently, publishing a confidential killing;
- personal columns of the territories (``telf``, ``correo``, ``jefe_comunal``, ``presidente``)
  published;
- README totals from which the confidential number follows by subtraction;
- options below the public profile's floors accepted;
- per-territory nearby counts taken at the true place of a displaced incident.
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
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from matplotlib.text import Text
from pyproj import Geod

import geotools.maps.files as map_files
import geotools.maps.static as static_maps
from geotools.analysis.incidents import summarise_incidents
from geotools.analysis.stats import compute_stats
from geotools.cli import main
from geotools.io import Layer, read_layer
from geotools.maps import write_map_html, write_static_map_files
from geotools.maps.compact import page_popups
from geotools.privacy import (
    PrivacyError,
    PrivacyPolicy,
    compute_identities,
    compute_shareable_view,
    derive_key,
    displace_points,
    parse_flag,
)
from geotools.publish import PublishOptions, publish_bundle
from geotools.schema import normalise_schema

GEOD = Geod(ellps="WGS84")
SECRET = "gate-test-secret-0123456789abcdef"
NEARBY_KM = 5.0

# Values that must never appear in a public artefact.
CONF_SOURCE = "Fuente Reservada Quispe"
CONF_TEXT = "Reunion secreta de la federacion en la quebrada"
KILLING_TEXT = "Asesinato del defensor en la trocha norte"
KILLING_ID = "K-PRIV-1"
TERRITORY_PERSONAL = {
    "telf": "+51 961 222 333",
    "correo": "jefa.comunal@example.org",
    "jefe_comunal": "Wilder Sanchez Odicio",
    "presidente": "Rosa Mamani Huaman",
}
# Public incidents (drawn as given).
PUBLIC = {"P1": (-74.750, -8.350), "P2": (-74.550, -8.350)}
# Restricted incidents whose location_generalised is a false-looking string.
FLAGGED = {"G1": "false", "G2": "no", "G3": "0", "G4": ""}
FLAGGED_AT = {
    "G1": (-74.560, -8.330),
    "G2": (-74.540, -8.370),
    "G3": (-74.530, -8.320),
    "G4": (-74.570, -8.380),
}
CONFIDENTIAL_AT = (-74.760, -8.360)
KILLING_AT = (-74.740, -8.330)
# The restricted incident whose nearby count is attacked: its true place (chosen below) is
# 4.3 km east of T1 and outside every territory (T1 spans lon -74.80..-74.70).
NEAR_ID = "R-near"


def t1() -> shapely.Polygon:
    return shapely.box(-74.80, -8.40, -74.70, -8.30)


def t2() -> shapely.Polygon:
    return shapely.box(-74.60, -8.40, -74.50, -8.30)


def territories_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "territory_id": ["T1", "T2"],
            "name": ["Comunidad Uno", "Comunidad Dos"],
            **{column: [value, None] for column, value in TERRITORY_PERSONAL.items()},
            "comentario_interno": ["lindero en disputa con el fundo", None],
        },
        geometry=[t1(), t2()],
        crs=4326,
    )


def distance_to_t1_m(x: float, y: float) -> float:
    """Geodesic distance (m) from a point to T1's nearest edge (T1 is a lon/lat box)."""
    cx = min(max(x, -74.80), -74.70)
    cy = min(max(y, -8.40), -8.30)
    return float(GEOD.inv(x, y, cx, cy)[2])


def choose_near_place() -> tuple[float, float]:
    """A true place 4.3 km east of T1 whose keyed displacement goes beyond 5 km of T1 (the
    published point is not nearby although the true place is): found with the public
    algorithm and the key. Displacement is seeded by the record's identity, a keyed hash of its
    true location, so the place is searched along T1's eastern side."""
    policy = PrivacyPolicy()
    key = derive_key(SECRET)
    x = -74.70 + 4.3 / 110.0
    for i in range(400):
        y = -8.39 + 0.0002 * i
        identity = compute_identities(np.array([x]), np.array([y]), key)
        moved = displace_points(
            np.array([x]),
            np.array([y]),
            identity.tolist(),
            key,
            policy,
            territories=territories_frame(),
        )
        if moved.placed[0] and distance_to_t1_m(moved.x[0], moved.y[0]) > 5300.0:
            return (x, y)
    raise AssertionError("no place found")


NEAR_AT = choose_near_place()


def incidents_table() -> pd.DataFrame:
    rows: list[dict[str, Any]] = []

    def add(ident: str, at: tuple[float, float], **values: Any) -> None:
        row = {
            "incident_id": ident,
            "lon": at[0],
            "lat": at[1],
            "date": "2020-05-01",
            "kind": "threat",
            "sensitivity": "restricted",
            "privacidad": "",
            "location_generalised": "",
            "source": "Radio Comunal",
            "description": "",
            "precision": "exact",
        }
        row.update(values)
        rows.append(row)

    add("P1", PUBLIC["P1"], sensitivity="public", kind="attack", date="2020-05-01")
    add("P2", PUBLIC["P2"], sensitivity="public", date="2021-02-01")
    add(
        "C1",
        CONFIDENTIAL_AT,
        sensitivity="confidential",
        kind="killing",
        date="2015-07-09",
        source=CONF_SOURCE,
        description=CONF_TEXT,
    )
    # Marked public in `sensitivity` but confidential in `privacidad`: the most restrictive wins.
    add(
        KILLING_ID,
        KILLING_AT,
        sensitivity="public",
        privacidad="confidencial",
        kind="killing",
        date="2016-03-03",
        source=CONF_SOURCE,
        description=KILLING_TEXT,
    )
    for ident, flag in FLAGGED.items():
        add(ident, FLAGGED_AT[ident], location_generalised=flag, date="2019-01-01")
    add(NEAR_ID, NEAR_AT, kind="attack", date="2018-06-01")
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("gate_inputs")
    parcels = gpd.GeoDataFrame(
        {"parcel_id": ["P-1"], "tenure": ["titled"]},
        geometry=[shapely.box(-74.79, -8.39, -74.77, -8.37)],
        crs=4326,
    )
    paths = {
        "territories": folder / "territories.geojson",
        "parcels": folder / "parcels.geojson",
        "incidents": folder / "incidents.csv",
    }
    territories_frame().to_file(paths["territories"])
    parcels.to_file(paths["parcels"])
    incidents_table().to_csv(paths["incidents"], index=False)
    return paths


@pytest.fixture(scope="module")
def layers(inputs: dict[str, Path]) -> dict[str, Layer]:
    return {kind: read_layer(path, kind) for kind, path in inputs.items()}


@pytest.fixture(scope="module")
def result(layers: dict[str, Layer]) -> Any:
    return compute_stats(layers, nearby_km=NEARBY_KM)


@pytest.fixture(scope="module")
def public_map(result: Any, layers: dict[str, Layer], tmp_path_factory) -> str:
    target = tmp_path_factory.mktemp("gate_map") / "map.html"
    write_map_html(result, layers, target, lang="en")
    return target.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pngs(result: Any, layers: dict[str, Layer], tmp_path_factory) -> dict[str, Figure]:
    """The static PNG set, with each figure kept (the PNG itself holds no readable text)."""
    figures: dict[str, Figure] = {}
    original = map_files._save

    def keep(fig: Figure, path: Path, title: str) -> None:
        figures[path.name] = fig
        original(fig, path, title)

    mp = pytest.MonkeyPatch()
    mp.setattr(map_files, "_save", keep)
    try:
        write_static_map_files(
            result, layers, tmp_path_factory.mktemp("gate_png") / "png", lang="en"
        )
    finally:
        mp.undo()
    return figures


@pytest.fixture(scope="module")
def bundle(layers: dict[str, Layer], tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gate_bundle") / "public"
    options = PublishOptions(secret=SECRET, formats=("shp", "kml"), lang="en", created="2024-01-01")
    publish_bundle(layers, out, options, nearby_km=NEARBY_KM)
    return out


def decoded(page: str) -> str:
    page = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)
    return page.replace("<\\/", "</").replace("\xa0", " ")


def figure_text(fig: Figure) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(Text)).replace("\xa0", " ")


def bundle_bytes(bundle: Path) -> dict[str, bytes]:
    return {
        p.relative_to(bundle).as_posix(): p.read_bytes() for p in bundle.rglob("*") if p.is_file()
    }


def drawn(page: str, x: float, y: float) -> bool:
    """True when the page holds a coordinate pair within about 10 m of (x, y), either order."""
    pairs = re.findall(r"(-?\d{1,3}\.\d+)\s*,\s*(-?\d{1,3}\.\d+)", page)
    if not pairs:
        return False
    values = np.array(pairs, dtype=float)
    near = lambda a, b: np.abs(a - b) < 1e-4  # noqa: E731
    return bool(
        (near(values[:, 0], y) & near(values[:, 1], x)).any()
        or (near(values[:, 0], x) & near(values[:, 1], y)).any()
    )


def territory_row(bundle: Path, ident: str) -> pd.Series:
    table = pd.read_csv(bundle / "territory_stats.csv", dtype={"territory_id": str})
    return table.set_index("territory_id").loc[ident]


def published_incidents(bundle: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(bundle / "incidents.geojson")


# ------------------------------------------------------------------------------------------
# 1. Confidential incidents: not counted, not mentioned, anywhere public
# ------------------------------------------------------------------------------------------


def oracle_stats(layers: dict[str, Layer], keep: list[str]) -> Any:
    """Statistics computed (by the ordinary analysis) from the given incidents only."""
    frame = layers["incidents"].frame
    chosen = {
        **layers,
        "incidents": Layer(
            "incidents",
            frame.loc[frame["incident_id"].isin(keep)].reset_index(drop=True),
            layers["incidents"].ledger,
            layers["incidents"].path,
            layers["incidents"].sha256,
        ),
    }
    return compute_stats(chosen, nearby_km=NEARBY_KM)


def test_public_map_counts_and_risk_come_from_drawn_incidents_only(
    result: Any, layers: dict[str, Layer], public_map: str
) -> None:
    # The page and the popups its script builds from the territories' rows (issue 15).
    page = decoded(public_map) + "\n".join(page_popups(public_map))
    # What an analyst recomputes from the incidents the public map draws (P1, P2 only: the
    # restricted ones are not generalised, C1 and the privacidad killing are confidential).
    oracle = oracle_stats(layers, ["P1", "P2"]).table.set_index("territory_id")
    internal = result.table.set_index("territory_id")
    # The attack needs the internal score to differ (the killings push T1 up).
    assert internal.loc["T1", "risk_score"] > oracle.loc["T1", "risk_score"]
    assert internal.loc["T1", "killings_inside"] == 2
    assert "<th>Incidents</th><td>1 inside, 0 nearby</td>" in page  # T1: P1 only
    assert f"({oracle.loc['T1', 'risk_score']:.0f}/100)" in page
    assert f"({internal.loc['T1', 'risk_score']:.0f}/100)" not in page
    assert oracle.loc["T1", "risk_drivers"].split(": ", 1)[1] in page
    assert "killing" not in page.lower().replace("killings", "")
    # Yearly rows: 2015 and 2016 only held the confidential killings.
    assert "2015" not in page and "2016" not in page
    assert CONF_SOURCE not in page and CONF_TEXT not in page and KILLING_TEXT not in page


def test_public_pngs_never_count_or_mention_confidential(
    layers: dict[str, Layer], pngs: dict[str, Figure]
) -> None:
    oracle = oracle_stats(layers, ["P1", "P2"]).table.set_index("territory_id")
    text = figure_text(pngs["T1.png"])
    assert "1 inside, 0 nearby" in text
    assert f"({oracle.loc['T1', 'risk_score']:.0f}/100)" in text
    assert "killing" not in text.lower()
    for fig in pngs.values():
        text = figure_text(fig)
        assert CONF_SOURCE not in text and KILLING_TEXT not in text
        # "not shown" counts restricted records only (5), never the 2 confidential ones.
        assert "7 incident(s) not shown" not in text


def test_bundle_never_counts_or_mentions_confidential(bundle: Path) -> None:
    files = bundle_bytes(bundle)
    for name, data in files.items():
        for secret in (CONF_SOURCE, CONF_TEXT, KILLING_TEXT, KILLING_ID, "C1,"):
            assert secret.encode() not in data, (name, secret)
    t1_row = territory_row(bundle, "T1")
    published = published_incidents(bundle)
    # Every count of T1 is a recount of what incidents.geojson publishes.
    inside = int(published.geometry.within(t1()).sum())
    assert t1_row["incidents_inside"] == inside
    assert t1_row["killings_inside"] == 0
    assert t1_row["incidents_confidential_inside"] == "<3"
    timeseries = pd.read_csv(bundle / "timeseries.csv")
    assert not timeseries["year"].isin([2015, 2016]).any()
    readme = (bundle / "README.md").read_text(encoding="utf-8")
    assert CONF_SOURCE not in readme
    hexagons = bundle / "incident_hexagons.geojson"
    if hexagons.exists():
        cells = gpd.read_file(hexagons)
        assert not cells.geometry.contains(shapely.Point(CONFIDENTIAL_AT)).any()


# ------------------------------------------------------------------------------------------
# 2. location_generalised = "false" / "no" / "0" / "" never draws an exact restricted point
# ------------------------------------------------------------------------------------------


def test_parse_flag_is_strict() -> None:
    values = pd.Series(["false", "no", "0", "", None, "False", "NO", "n", "maybe", 0, False])
    assert not parse_flag(values).any()
    assert parse_flag(pd.Series(["true", "yes", "1", "sí", "Si", True, 1])).all()


def test_false_looking_flags_never_draw_exact_restricted_points(
    public_map: str, pngs: dict[str, Figure]
) -> None:
    for ident, (x, y) in FLAGGED_AT.items():
        assert not drawn(public_map, x, y), (ident, FLAGGED[ident])
    for x, y in PUBLIC.values():
        assert drawn(public_map, x, y)  # the check can see a drawn point
    collection = [
        c
        for c in pngs["overview.png"].findobj()
        if getattr(c, "get_gid", lambda: None)() == static_maps.INCIDENTS_GID
    ]
    assert len(collection) == 1
    crs = static_maps.choose_display_crs(gpd.GeoSeries([t1(), t2()], crs=4326).total_bounds)
    offsets = np.asarray(collection[0].get_offsets(), dtype=float)
    assert len(offsets) == 2
    flagged = gpd.GeoSeries([shapely.Point(p) for p in FLAGGED_AT.values()], crs=4326).to_crs(crs)
    for point in offsets:
        assert np.min(np.hypot(flagged.x - point[0], flagged.y - point[1])) > 100.0


def test_false_looking_flags_on_a_frame_given_directly(result: Any, layers, tmp_path) -> None:
    """Same attack with real Python values (no CSV round trip): the strings stay strings."""
    frame = layers["incidents"].frame.copy()
    frame["location_generalised"] = frame["incident_id"].map(FLAGGED).fillna("")
    given = {
        **layers,
        "incidents": Layer(
            "incidents", frame, layers["incidents"].ledger, layers["incidents"].path, "x"
        ),
    }
    target = tmp_path / "map.html"
    write_map_html(result, given, target, lang="en")
    page = target.read_text(encoding="utf-8")
    for x, y in FLAGGED_AT.values():
        assert not drawn(page, x, y)


# ------------------------------------------------------------------------------------------
# 3. A sensitivity under another column name is never dropped silently
# ------------------------------------------------------------------------------------------


def test_privacidad_confidential_killing_is_published_nowhere(
    public_map: str, bundle: Path
) -> None:
    assert KILLING_TEXT not in decoded(public_map)
    assert not drawn(public_map, *KILLING_AT)
    for name, data in bundle_bytes(bundle).items():
        assert KILLING_ID.encode() not in data, name
        assert KILLING_TEXT.encode() not in data, name
    published = published_incidents(bundle)
    assert KILLING_ID not in set(published["incident_id"])
    assert set(published["incident_id"]) == {"P1", "P2", *FLAGGED, NEAR_ID}


def test_privacidad_as_the_only_sensitivity_column(tmp_path: Path) -> None:
    """No `sensitivity` column at all: `privacidad` is read as the sensitivity (schema alias);
    before, it was kept as an extra column and the killing defaulted to restricted, so it was
    displaced and published with its id."""
    table = incidents_table().drop(columns=["sensitivity"])
    table.loc[table["incident_id"] == "P1", "privacidad"] = "público"
    table.loc[table["incident_id"] == "C1", "privacidad"] = "confidencial"
    table.to_csv(tmp_path / "incidents.csv", index=False)
    territories_frame().to_file(tmp_path / "territories.geojson")
    layer = read_layer(tmp_path / "incidents.csv", "incidents")
    assert set(layer.frame["sensitivity"].dropna()) >= {"confidential", "public"}
    layers = {
        "territories": read_layer(tmp_path / "territories.geojson", "territories"),
        "incidents": layer,
    }
    stats_layers = {
        **layers,
        "parcels": Layer(
            "parcels",
            gpd.GeoDataFrame(
                {"parcel_id": ["x"], "tenure": ["titled"]},
                geometry=[shapely.box(-74.79, -8.39, -74.78, -8.38)],
                crs=4326,
            ),
            layer.ledger,
            layer.path,
            "x",
        ),
    }
    result = compute_stats(stats_layers)
    view = compute_shareable_view(
        result, stats_layers, profile="public", policy=PrivacyPolicy(), key=derive_key(SECRET)
    )
    ids = set(view.layers["incidents"]["incident_id"])
    assert KILLING_ID not in ids and "C1" not in ids and "P1" in ids
    assert view.result.table.set_index("territory_id").loc["T1", "killings_inside"] == 0


def test_yes_no_confidential_marker_column() -> None:
    """`confidencial = sí` on a record marked public: confidential (most restrictive wins)."""
    frame = gpd.GeoDataFrame(
        {
            "incident_id": ["A", "B"],
            "date": ["2020-01-01", "2020-01-01"],
            "sensitivity": ["public", "public"],
            "confidencial": ["sí", "no"],
        },
        geometry=[shapely.Point(-74.75, -8.35), shapely.Point(-74.74, -8.35)],
        crs=4326,
    )
    from geotools.privacy import resolve_sensitivity

    assert resolve_sensitivity(frame).tolist() == ["confidential", "public"]


def test_unreadable_privacy_marker_refuses_public_output(
    result: Any, layers: dict[str, Layer], tmp_path: Path
) -> None:
    frame = layers["incidents"].frame.copy()
    frame["privacidad_extra"] = "tal vez"
    given = {
        **layers,
        "incidents": Layer(
            "incidents", frame, layers["incidents"].ledger, layers["incidents"].path, "x"
        ),
    }
    with pytest.raises(PrivacyError, match="privacidad_extra"):
        write_map_html(result, given, tmp_path / "map.html")
    assert not (tmp_path / "map.html").exists()
    with pytest.raises(PrivacyError, match="privacidad_extra"):
        publish_bundle(given, tmp_path / "bundle", PublishOptions(secret=SECRET))
    assert not (tmp_path / "bundle").exists()


# ------------------------------------------------------------------------------------------
# 4. Personal columns of the territories are in no public artefact
# ------------------------------------------------------------------------------------------


def test_territory_personal_columns_in_no_public_artefact(public_map: str, bundle: Path) -> None:
    artefacts = {"map.html (standalone)": public_map.encode(), **bundle_bytes(bundle)}
    for name, data in artefacts.items():
        text = data.decode("utf-8", errors="ignore")
        plain = decoded(text)
        for column, value in TERRITORY_PERSONAL.items():
            assert value not in plain, (name, column)
            assert value.encode() not in data, (name, column)
        assert "lindero en disputa" not in plain, name  # unknown column: not allow-listed
    territories = gpd.read_file(bundle / "territories.geojson")
    assert not set(TERRITORY_PERSONAL) & set(territories.columns)
    readme = (bundle / "README.md").read_text(encoding="utf-8")
    # The README names the columns withheld (names only, never values).
    for column in (*TERRITORY_PERSONAL, "comentario_interno"):
        assert f"`{column}`" in readme


# ------------------------------------------------------------------------------------------
# 5. README / datapackage numbers do not give the confidential number by subtraction
# ------------------------------------------------------------------------------------------


def test_readme_numbers_do_not_allow_subtraction(bundle: Path, public_map: str) -> None:
    total = len(incidents_table())  # 9 records read, 2 of them confidential
    readme = (bundle / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Privacy", 1)[1].split("## Sources", 1)[0]
    numbers = [int(n) for n in re.findall(r"(?<![\d.,-])(\d+)(?![\d.,])", section)]
    assert total not in numbers
    assert "read;" not in section
    package = json.loads((bundle / "datapackage.json").read_text(encoding="utf-8"))
    facts = package["geotools"]["privacy"]["incidents"]
    assert "records" not in facts
    assert total not in [v for v in facts.values() if isinstance(v, int)]
    published = facts["public"] + facts["restricted"]
    assert published == total - 2  # what is stated counts only non-confidential records
    assert facts["confidential"] == "<3"
    # The standalone public map's "not shown" notice counts the 5 restricted records only.
    assert "5 incident(s) not shown" in decoded(public_map)


# ------------------------------------------------------------------------------------------
# 6. Options below the public floors are refused
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "floor"),
    [
        (["--min-km", "0.003"], "2 km"),
        (["--min-km", "2", "--max-km", "2.5"], "1 km"),
        (["--min-count", "1"], "floor of 3"),
        (["--hex-resolution", "11"], "floor of 8"),
    ],
)
def test_options_below_floors_refused_in_public(
    inputs: dict[str, Path], tmp_path: Path, option: list[str], floor: str
) -> None:
    out = tmp_path / "bundle"
    args = [
        "publish",
        "--territories",
        str(inputs["territories"]),
        "--parcels",
        str(inputs["parcels"]),
        "--incidents",
        str(inputs["incidents"]),
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(main, [*args, *option], env={"GEOTOOLS_PUBLISH_SECRET": SECRET})
    assert result.exit_code == 1, result.output
    assert floor in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_floors_in_python_and_internal_untouched() -> None:
    with pytest.raises(PrivacyError, match="floor"):
        PublishOptions(policy=PrivacyPolicy(min_count=1))
    PublishOptions(profile="internal", policy=PrivacyPolicy(min_count=1))  # not shared


# ------------------------------------------------------------------------------------------
# 7. Nearby counts follow the published (displaced) position, not the true one
# ------------------------------------------------------------------------------------------


def test_nearby_counts_follow_published_positions(
    result: Any, bundle: Path, layers: dict[str, Layer]
) -> None:
    # The constructed case: true place within 5 km of T1, published point beyond it.
    assert distance_to_t1_m(*NEAR_AT) < 4500.0
    published = published_incidents(bundle).set_index("incident_id")
    point = published.loc[NEAR_ID].geometry
    assert distance_to_t1_m(point.x, point.y) > 5000.0
    # Internally (true place) it is nearby T1; publicly it must not be.
    assert result.table.set_index("territory_id").loc["T1", "incidents_nearby"] >= 1
    row = territory_row(bundle, "T1")
    recount = summarise_incidents(
        layers["territories"].frame, published.reset_index(), nearby_km=NEARBY_KM
    ).per_territory.set_index("territory_id")
    for ident in ("T1", "T2"):
        for column in ("incidents_inside", "incidents_nearby"):
            assert territory_row(bundle, ident)[column] == recount.loc[ident, column], (
                ident,
                column,
            )
    assert row["incidents_nearby"] == recount.loc["T1", "incidents_nearby"] == 0
    map_page = (bundle / "map.html").read_text(encoding="utf-8")
    popups = decoded("\n".join(page_popups(map_page)))  # built in the browser (issue 15)
    assert "<th>Incidents</th><td>1 inside, 0 nearby</td>" in popups


# ------------------------------------------------------------------------------------------
# 8. Property: whatever the labels and their column, only public or displaced restricted
# ------------------------------------------------------------------------------------------

LABELS = {
    "public": "public",
    "Público": "public",
    " PUBLIC ": "public",
    "publica": "public",
    "restricted": "restricted",
    "Restringido": "restricted",
    None: "restricted",
    "": "restricted",
    "confidential": "confidential",
    "Confidencial": "confidential",
    "secreto": "confidential",
    "pubic": "confidential",
}
COLUMNS = ["sensitivity", "privacidad", "sensibilidad", "acceso", "confidencialidad"]
POINTS = [(-74.79 + 0.011 * i, -8.39 + 0.0097 * ((i * 7) % 10)) for i in range(10)]


@pytest.fixture(scope="module")
def base_result(layers: dict[str, Layer]) -> Any:
    return compute_stats(
        _property_layers(layers, [None] * len(POINTS), "sensitivity", None), nearby_km=NEARBY_KM
    )


def _property_layers(
    layers: dict[str, Layer], labels: list[Any], column: str, marker: list[str] | None
) -> dict[str, Layer]:
    raw = gpd.GeoDataFrame(
        {
            "incident_id": [f"X{i}" for i in range(len(POINTS))],
            "fecha": [f"2020-{i + 1:02d}-15" for i in range(len(POINTS))],  # never merged
            column: labels,
            "descripcion": [f"texto {i}" for i in range(len(POINTS))],
        },
        geometry=[shapely.Point(p) for p in POINTS],
        crs=4326,
    )
    if marker is not None:
        raw["confidencial"] = marker
    frame, _ = normalise_schema(raw, "incidents")
    return {
        **layers,
        "incidents": Layer(
            "incidents", frame, layers["incidents"].ledger, layers["incidents"].path, "x"
        ),
    }


@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    labels=st.lists(st.sampled_from(list(LABELS)), min_size=len(POINTS), max_size=len(POINTS)),
    column=st.sampled_from(COLUMNS),
    marker=st.one_of(
        st.none(),
        st.lists(
            st.sampled_from(["sí", "no", "", "SI"]), min_size=len(POINTS), max_size=len(POINTS)
        ),
    ),
)
def test_property_public_view_holds_only_public_or_displaced_restricted(
    layers: dict[str, Layer],
    base_result: Any,
    labels: list[Any],
    column: str,
    marker: list[str] | None,
) -> None:
    given_layers = _property_layers(layers, labels, column, marker)
    expected = np.array([LABELS[label] for label in labels], dtype=object)
    if marker is not None:
        yes = np.array([m.lower() in ("sí", "si") for m in marker])
        expected[yes] = "confidential"
    view = compute_shareable_view(
        base_result,
        given_layers,
        profile="public",
        policy=PrivacyPolicy(),
        key=derive_key(SECRET),
    )
    published = view.layers["incidents"].set_index("incident_id")
    for ident, row in published.iterrows():
        i = int(str(ident)[1:])
        assert expected[i] in ("public", "restricted"), (ident, labels[i], column)
        moved = GEOD.inv(POINTS[i][0], POINTS[i][1], row.geometry.x, row.geometry.y)[2]
        if expected[i] == "public":
            assert moved < 1.0
        else:
            assert moved >= 2000.0
    confidential = {f"X{i}" for i in np.flatnonzero(expected == "confidential")}
    assert not confidential & set(published.index)
    # The counts the view publishes are recounts of what it publishes.
    recount = summarise_incidents(
        given_layers["territories"].frame, published.reset_index(), nearby_km=NEARBY_KM
    ).per_territory.set_index("territory_id")
    table = view.result.table.set_index("territory_id")
    for ident in ("T1", "T2"):
        assert table.loc[ident, "incidents_inside"] == recount.loc[ident, "incidents_inside"]
        assert table.loc[ident, "incidents_nearby"] == recount.loc[ident, "incidents_nearby"]
