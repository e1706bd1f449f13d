"""Tests of geotools.maps.static and its files on the bundled demo data (one run per module).

What is checked: file names, sizes and pixel dimensions; byte-identical output; refusal to
overwrite; the Santa Clara (T01) area painted in the critical-risk colour on the overview;
incidents withheld by the public profile absent from every figure; the headline sentence in
Spanish and English; names that look like mathtext or HTML drawn literally; a scale bar that is
true on the ground.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib.colors as mcolors
import numpy as np
import pytest
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image
from pyproj import Geod, Transformer

from geotools.crs import PERU_ALBERS, WGS84
from geotools.demo import DEMO_FILES
from geotools.errors import ForeignFilesError, OutputExistsError, ValidationError
from geotools.maps import (
    OVERVIEW_NAME,
    RISK_COLOURS,
    build_overview_figure,
    build_territory_figure,
    choose_display_crs,
    sanitise_filename,
    territory_filenames,
    write_static_maps,
)
from geotools.maps.static import (
    A4_WIDTH_IN,
    INCIDENTS_GID,
    MAP_AXES_LABEL,
    OVERVIEW_SIZE,
    TERRITORY_SIZE,
)
from geotools.maps.static_parts import SCALEBAR_GID
from geotools.maps.style import FILL_ALPHA
from geotools.outputs import MARKER
from geotools.pipeline import RunResult, run_stats

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"
TRICKY_NAME = r"Comunidad $x$ <b>negrita</b> $\frac{a}$ 100%"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    paths = {kind: RAW / name for kind, name in DEMO_FILES.items()}
    out = tmp_path_factory.mktemp("stats")
    return run_stats(paths, out, forest_loss=RAW / "forest_loss.tif")


@pytest.fixture(scope="module")
def written(run: RunResult, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("static") / "maps"
    return write_static_maps(run.stats, run.layers, out)


def map_axes(fig: Figure):
    (ax,) = [a for a in fig.axes if a.get_label() == MAP_AXES_LABEL]
    return ax


def all_text(fig: Figure) -> str:
    """Every text drawn in the figure, no-break spaces as plain spaces."""
    return "\n".join(t.get_text() for t in fig.findobj(Text)).replace("\xa0", " ")


def incident_offsets(fig: Figure) -> np.ndarray:
    found = [c for c in map_axes(fig).collections if c.get_gid() == INCIDENTS_GID]
    if not found:
        return np.empty((0, 2))
    (collection,) = found
    return np.asarray(collection.get_offsets(), dtype=float)


def projected_xy(frame: gpd.GeoDataFrame, crs) -> np.ndarray:
    return shapely.get_coordinates(frame.to_crs(crs).geometry.to_numpy())


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def test_files_names_sizes_and_dimensions(run: RunResult, written: list[Path]) -> None:
    ids = run.stats.territories["territory_id"].tolist()
    assert [p.name for p in written] == [OVERVIEW_NAME, *(f"{i}.png" for i in ids)]
    assert ids == ["T01", "T02", "T03", "T04", "T05"]
    for path in written:
        assert path.is_file()
        assert path.stat().st_size > 40_000, path  # a drawn map, not an empty canvas
        leftovers = [p for p in path.parent.glob(".*") if p.name != MARKER]
        assert not leftovers, "no staging leftovers"
        assert not list(path.parent.parent.glob(f".{path.parent.name}.*")), "none beside"
    with Image.open(written[0]) as image:
        assert image.size == (round(OVERVIEW_SIZE[0] * 200), round(OVERVIEW_SIZE[1] * 200))
        assert image.format == "PNG"
        assert image.info.get("Software", "").startswith("geotools ")
    for path in written[1:]:
        with Image.open(path) as image:
            assert image.size == (round(TERRITORY_SIZE[0] * 200), round(TERRITORY_SIZE[1] * 200))
    # A4 width: 190 mm printable
    assert abs(A4_WIDTH_IN * 25.4 - 190) < 1


def test_output_is_byte_identical(run: RunResult, written: list[Path], tmp_path: Path) -> None:
    again = write_static_maps(run.stats, run.layers, tmp_path / "again")
    for first, second in zip(written, again, strict=True):
        assert first.name == second.name
        assert first.read_bytes() == second.read_bytes(), first.name


def test_refuses_to_overwrite(run: RunResult, tmp_path: Path) -> None:
    out = tmp_path / "maps"
    out.mkdir()
    (out / "T03.png").write_bytes(b"keep me")
    with pytest.raises(OutputExistsError, match=r"T03\.png"):
        write_static_maps(run.stats, run.layers, out, dpi=40)
    assert sorted(p.name for p in out.iterdir()) == ["T03.png"], "nothing written on refusal"
    assert (out / "T03.png").read_bytes() == b"keep me"
    # A file geotools did not write is never replaced, even with overwrite (issue 11).
    with pytest.raises(ForeignFilesError, match=r"T03\.png"):
        write_static_maps(run.stats, run.layers, out, dpi=40, overwrite=True)
    assert (out / "T03.png").read_bytes() == b"keep me"
    (out / "T03.png").unlink()
    write_static_maps(run.stats, run.layers, out, dpi=40)
    paths = write_static_maps(run.stats, run.layers, out, dpi=40, overwrite=True)
    assert (out / "T03.png").read_bytes().startswith(b"\x89PNG")
    assert len(paths) == 6


# --------------------------------------------------------------------------------------------
# What is drawn
# --------------------------------------------------------------------------------------------


def test_santa_clara_is_drawn_in_the_critical_colour(run: RunResult) -> None:
    result = run.stats
    fig = build_overview_figure(result, run.layers, dpi=100)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[:, :, :3].astype(float)
    height = pixels.shape[0]
    ax = map_axes(fig)
    crs = choose_display_crs(result.territories.total_bounds)
    assert crs.to_epsg() == 32718  # UTM 18S for Ucayali

    def expected(code: str) -> np.ndarray:
        rgb = np.array(mcolors.to_rgb(RISK_COLOURS[code])) * 255
        return FILL_ALPHA * rgb + (1 - FILL_ALPHA) * 255  # over the white page

    def sample(territory_id: str) -> np.ndarray:
        """Pixels of the territory away from anything drawn over its fill."""
        territories = result.territories.to_crs(crs)
        geom = territories.loc[territories["territory_id"] == territory_id].geometry.iloc[0]
        parcels = run.layers["parcels"].frame
        drawn = {  # what the overview draws over territory fills (titled parcels only)
            "parcels": parcels[parcels["tenure"] == "titled"],
            **{k: run.layers[k].frame for k in ("concessions", "incidents", "infrastructure")},
        }
        cover = [f.to_crs(crs).geometry.union_all().buffer(400) for f in drawn.values()]
        free = geom.buffer(-400).difference(shapely.union_all(cover))
        assert free.area > 1e6, "test setup: no free area to sample"
        minx, miny, maxx, maxy = free.bounds
        xs, ys = np.meshgrid(np.linspace(minx, maxx, 25), np.linspace(miny, maxy, 25))
        points = shapely.points(xs.ravel(), ys.ravel())
        points = points[shapely.contains(free, points)]
        display = ax.transData.transform(shapely.get_coordinates(points))
        renderer = fig.canvas.get_renderer()
        boxes = [t.get_window_extent(renderer) for t in fig.findobj(Text) if t.get_text()]
        keep = [not any(b.contains(x, y) for b in boxes) for x, y in display]
        display = display[keep]
        assert len(display) >= 10, "test setup: too few sample points"
        cols = np.round(display[:, 0]).astype(int)
        rows = np.round(height - display[:, 1]).astype(int)
        return pixels[rows, cols]

    t01 = sample("T01")
    close = np.all(np.abs(t01 - expected("critical")) <= 6, axis=1)
    assert close.mean() > 0.9, (t01[:5], expected("critical"))
    # The check can tell classes apart: T04 (high risk) is not painted critical.
    t04 = sample("T04")
    assert np.all(np.abs(t04 - expected("high")) <= 6, axis=1).mean() > 0.9
    assert not np.any(np.all(np.abs(t04 - expected("critical")) <= 6, axis=1))


def test_public_maps_draw_no_restricted_incident(run: RunResult) -> None:
    incidents = run.layers["incidents"].frame
    sensitivity = incidents["sensitivity"].str.lower()
    public, restricted = incidents[sensitivity == "public"], incidents[sensitivity != "public"]
    assert len(public) == 4 and len(restricted) == 6

    fig = build_overview_figure(run.stats, run.layers, lang="en", dpi=50)
    crs = choose_display_crs(run.stats.territories.total_bounds)
    offsets = incident_offsets(fig)
    public_xy = projected_xy(public, crs)
    hidden_xy = projected_xy(restricted, crs)
    x0, x1 = map_axes(fig).get_xlim()
    y0, y1 = map_axes(fig).get_ylim()
    in_view = (public_xy[:, 0] >= x0) & (public_xy[:, 0] <= x1)
    in_view &= (public_xy[:, 1] >= y0) & (public_xy[:, 1] <= y1)
    assert len(offsets) == int(in_view.sum()) == 4
    for point in offsets:
        assert np.min(np.hypot(*(public_xy - point).T)) < 1e-3
        assert np.min(np.hypot(*(hidden_xy - point).T)) > 1.0
    text = all_text(fig)
    # 5, not 6: the confidential record is never counted among those "not shown" (the README
    # publishes the restricted count, so 6 - 5 would reveal it; privacy gate, issue 11).
    assert "5 incident(s) not shown" in text

    for ident in run.stats.territories["territory_id"]:
        fig = build_territory_figure(run.stats, run.layers, ident, lang="en", dpi=40)
        crs = choose_display_crs(
            run.stats.territories.loc[run.stats.territories["territory_id"] == ident].total_bounds
        )
        for point in incident_offsets(fig):
            assert np.min(np.hypot(*(projected_xy(restricted, crs) - point).T)) > 1.0, ident
        assert "5 incident(s) not shown" in all_text(fig)


def test_internal_profile_draws_restricted_but_never_confidential(run: RunResult) -> None:
    incidents = run.layers["incidents"].frame
    confidential = incidents[incidents["sensitivity"].str.lower() == "confidential"]
    assert len(confidential) == 1
    fig = build_overview_figure(run.stats, run.layers, profile="internal", dpi=50)
    crs = choose_display_crs(run.stats.territories.total_bounds)
    offsets = incident_offsets(fig)
    assert len(offsets) == 9
    assert np.min(np.hypot(*(offsets - projected_xy(confidential, crs)[0]).T)) > 1.0
    assert "1 incidente(s) no mostrado(s)" in all_text(fig)


@pytest.mark.parametrize(
    ("lang", "headline", "risk", "drivers"),
    [
        ("es", "200 de 8 600 ha tituladas (2,3 %)", "Riesgo: crítico (80/100)", "98 % sin titular"),
        ("en", "200 of 8,600 ha titled (2.3 %)", "Risk: critical (80/100)", "98 % untitled"),
    ],
)
def test_territory_headline_in_each_language(
    run: RunResult, lang: str, headline: str, risk: str, drivers: str
) -> None:
    fig = build_territory_figure(run.stats, run.layers, "T01", lang=lang, dpi=40)
    texts = [t.get_text().replace("\xa0", " ") for t in fig.texts]
    assert headline in texts
    assert risk in texts
    assert "Santa Clara de Uchunya" in texts
    body = all_text(fig)
    assert drivers in body  # the drivers, in the map's language
    other = "Titulado" if lang == "en" else "Titled"
    assert other not in body  # the legend is in the requested language only


def test_overview_caption_names_crs_version_and_offline(run: RunResult) -> None:
    fig = build_overview_figure(run.stats, run.layers, lang="en", dpi=40)
    text = all_text(fig)
    assert "WGS 84 / UTM zone 18S (EPSG:32718)" in text
    assert "geotools 0.1.0" in text or "geotools " in text
    assert "no basemap" in text
    assert "Santa Clara de Uchunya" in [t.get_text() for t in map_axes(fig).texts]


def test_names_are_drawn_literally(run: RunResult) -> None:
    territories = run.stats.territories.copy()
    territories.loc[territories["territory_id"] == "T01", "name"] = TRICKY_NAME
    result = dataclasses.replace(run.stats, territories=territories)
    overview = build_overview_figure(result, run.layers, dpi=40)
    territory = build_territory_figure(result, run.layers, "T01", dpi=40)
    for fig in (overview, territory):
        fig.canvas.draw()  # mathtext would fail on "$\frac{a}$"
        assert all(not t.get_parse_math() for t in fig.findobj(Text))
    assert TRICKY_NAME in [t.get_text().replace("\n", " ") for t in map_axes(overview).texts]
    assert TRICKY_NAME in [t.get_text() for t in territory.texts]


def test_mathtext_would_have_broken_the_tricky_name() -> None:
    """Guard for the test above: with mathtext on, the name cannot be drawn."""
    fig = Figure()
    FigureCanvasAgg(fig)
    fig.text(0.1, 0.1, TRICKY_NAME)
    with pytest.raises(ValueError):  # noqa: PT011 - matplotlib's mathtext parse error
        fig.canvas.draw()


def test_scale_bar_is_true_on_the_ground(run: RunResult) -> None:
    geod = Geod(ellps="WGS84")
    for fig, crs in [
        (
            build_overview_figure(run.stats, run.layers, dpi=40),
            choose_display_crs(run.stats.territories.total_bounds),
        ),
    ]:
        ax = map_axes(fig)
        bars = [p for p in ax.patches if p.get_gid() == SCALEBAR_GID]
        assert len(bars) == 2
        x0 = min(b.get_x() for b in bars)
        x1 = max(b.get_x() + b.get_width() for b in bars)
        y = bars[0].get_y()
        label = [t.get_text() for t in ax.texts if t.get_gid() == SCALEBAR_GID][-1]
        km = float(label.split()[0])
        lon, lat = Transformer.from_crs(crs, WGS84, always_xy=True).transform([x0, x1], [y, y])
        _, _, metres = geod.inv(lon[0], lat[0], lon[1], lat[1])
        assert metres == pytest.approx(km * 1000, rel=2e-3)


def test_display_crs_for_wide_extents_is_equal_area() -> None:
    assert choose_display_crs((-81.0, -18.0, -69.0, 0.0)) == PERU_ALBERS
    assert choose_display_crs((-77.2, -12.1, -76.9, -11.9)).to_epsg() == 32718
    assert choose_display_crs((-80.5, -5.0, -80.0, -4.5)).to_epsg() == 32717


# --------------------------------------------------------------------------------------------
# File names
# --------------------------------------------------------------------------------------------


def test_file_names_are_sanitised_and_collisions_refused(run: RunResult, tmp_path: Path) -> None:
    assert sanitise_filename("../../etc/passwd") == "etc_passwd"
    assert sanitise_filename("T 01/β") == "T_01_β"
    assert sanitise_filename("...") == "territory"
    assert sanitise_filename("nul.txt") == "_nul.txt"
    assert territory_filenames(["T01", "a/b"]) == ["T01.png", "a_b.png"]
    with pytest.raises(ValidationError, match=r"a_b\.png"):
        territory_filenames(["a/b", "a_b"])
    with pytest.raises(ValidationError, match="both give"):
        territory_filenames(["Alto", "alto"])
    with pytest.raises(ValidationError, match="overview"):
        territory_filenames(["overview"])

    territories = run.stats.territories.copy()
    territories["territory_id"] = ["T/1", "T_1", "T3", "T4", "T5"]
    result = dataclasses.replace(run.stats, territories=territories)
    out = tmp_path / "maps"
    with pytest.raises(ValidationError, match=r"T_1\.png"):
        write_static_maps(result, run.layers, out, dpi=40)
    assert not out.exists() or not any(out.iterdir())


def test_rejects_unknown_language_and_profile(run: RunResult) -> None:
    with pytest.raises(ValueError, match="lang"):
        build_overview_figure(run.stats, run.layers, lang="fr")
    with pytest.raises(ValueError, match="profile"):
        build_territory_figure(run.stats, run.layers, "T01", profile="everyone")
    with pytest.raises(KeyError, match="T99"):
        build_territory_figure(run.stats, run.layers, "T99")


def _drawn_boxes(fig: Figure) -> list[tuple[str, Any]]:
    """Window extents of the figure's texts and of its axes, as the Agg renderer draws them."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [
        (f"text {t.get_text()[:25]!r}", t.get_window_extent(renderer))
        for t in fig.texts
        if t.get_visible() and t.get_text()
    ]
    return boxes + [(f"axes {a.get_label()}", a.get_window_extent(renderer)) for a in fig.axes]


def test_header_and_caption_lines_never_overlap(run: RunResult) -> None:
    """Long names, peoples, drivers and captions wrap to the page and push the map aside."""
    territories = run.stats.territories.copy()
    t01 = territories["territory_id"] == "T01"
    long_name = "Comunidad Nativa " + " ".join(["Santa Clara de Uchunya"] * 5)
    territories.loc[t01, "name"] = long_name
    territories.loc[t01, "people"] = "Shipibo-Konibo " * 14
    territories.loc[t01, "risk_drivers"] = "critical: " + "98 % untitled, 60 % concessions, " * 9
    territories.loc[t01, "risk_drivers_es"] = "crítico: " + "98 % sin titular, 60 % bajo " * 9
    territories.loc[t01, "risk_missing"] = "violence,deforestation,infrastructure"
    result = dataclasses.replace(run.stats, territories=territories)
    figures = [
        build_territory_figure(result, run.layers, "T01", lang="es", dpi=50),
        build_territory_figure(result, run.layers, "T01", lang="en", dpi=50),
        build_overview_figure(result, run.layers, lang="es", dpi=50, title=long_name * 2),
    ]
    for fig in figures:
        boxes = _drawn_boxes(fig)
        page = fig.bbox
        for i, (name, box) in enumerate(boxes):
            assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1, f"{name} runs off the page"
            assert page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1, f"{name} runs off the page"
            for other, other_box in boxes[i + 1 :]:
                assert not box.overlaps(other_box), f"{name} overlaps {other}"
    header = all_text(figures[0])
    assert "faltan violencia, deforestación, infraestructura" in header  # in Spanish
    assert "violence" not in header
