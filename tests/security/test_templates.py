"""Data is never code (issue 11, class 1): text from data reaches a map only as text.

folium and branca render each element's template, then parse and render the *result* again as
a Jinja2 template, so a territory named ``{{ 7*7 }}`` became "49" and a name calling
``lipsum.__globals__`` ran code on the analyst's machine during ``map``, ``publish``, ``demo``
and ``run``. These tests put template syntax, markup, quotes, backslashes, invisible characters
and non-BMP characters into every text field of every layer, into column names, into input file
names and into ``--title``, and check:

- no evaluation: a canary file a payload would create is never created, and ``{{ 7*7 }}``
  between markers never becomes ``49`` between them;
- literal round trip: the JSON embedded in the page is parsed, the HTML in it parsed as a
  browser would (text nodes only), and each payload is found there exactly as given;
- nothing is parsed as markup (no ``<script>`` or ``<img>`` element from data).

``tests/test_browser.py::test_template_syntax_in_the_data_is_shown_as_text`` checks the same in
the DOM of a real browser (popup, tooltip, search, legend, title box); it lives there because the
browser fixtures are session-scoped in that module.
"""

from __future__ import annotations

import html
import html.parser
import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from shapely import LineString, Point, box

from geotools.cli import main
from geotools.maps import build_map, compact_json_escapes
from geotools.maps.compact import page_payloads, page_popups

#: Pieces payloads are made of: template delimiters, markup, quotes, backslashes, invisible
#: characters (zero-width space, soft hyphen, right-to-left override) and non-BMP characters.
PIECES = (
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "{{ 7*7 }}",
    "{% if %}",
    "{# x #}",
    "{{ self }}",
    "<script>alert(1)</script>",
    "</script>",
    "<img src=x onerror=alert(1)>",
    "<!--",
    '"',
    "'",
    "\\",
    "\\u003c",
    "&amp;",
    "\u200b",
    "\u00ad",
    "\u202e",
    "\U0001f600",
    "\U0001d518",
    "$x$",
    " ",
)
#: Any other printable text (no control characters, no lone surrogates).
OTHER = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=4)
PAYLOADS = st.lists(st.one_of(st.sampled_from(PIECES), OTHER), min_size=1, max_size=6).map("".join)
#: Evaluated, ``{{ 7*7 }}`` between these markers would read ``Q749Q7``.
SEVEN = "Q7{{ 7*7 }}Q7"
EVALUATED = "Q749Q7"


def canary_payload(path: Path) -> str:
    """Template code that creates ``path`` when evaluated (no quotes: escaping cannot stop it)."""
    builtins = "lipsum.__globals__.__builtins__"
    name = f"{builtins}.bytes({list(str(path).encode())}).decode()".replace(" ", "")
    return f"{{{{ {builtins}.open({name},{builtins}.bytes([119]).decode()).close() }}}}"


# --------------------------------------------------------------------------------------------
# Reading a page back
# --------------------------------------------------------------------------------------------


class _Text(html.parser.HTMLParser):
    """Text nodes and tags of an HTML fragment, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


def parse_html(fragment: str) -> _Text:
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    return parser


def embedded_json(page: str, prefix: str) -> list[Any]:
    """Every JSON value that follows ``prefix`` in the page (other matches are skipped)."""
    decoder = json.JSONDecoder()
    found = []
    for match in re.finditer(re.escape(prefix), page):
        try:
            value, _ = decoder.raw_decode(page, match.end())
        except json.JSONDecodeError:
            continue
        found.append(value)
    return found


def html_strings(page: str) -> list[str]:
    """The HTML the page hands to Leaflet: popups, tooltips, controls (legend, title, sources)."""
    strings: list[str] = []
    for collection in embedded_json(page, "_add("):
        for feature in collection["features"]:
            strings += [v for v in feature["properties"].values() if isinstance(v, str)]
    for data in embedded_json(page, "var D = "):
        strings += data.get("popups", []) + data.get("tips", [])
    # Territories, parcels and concessions: popups built in the browser from rows (issue 15).
    strings += page_popups(page)
    strings += embedded_json(page, "div.innerHTML = ")
    return strings


def search_names(page: str) -> list[str]:
    """The territory names of the search box, as the page turns them back into text."""
    # Issue 15: the search box reads them from the territory layer's rows (its "search" column).
    (payload,) = [p for p in page_payloads(page) if p["search"]]
    names = [row[payload["search"]["col"]] for row in payload["rows"]]
    return [html.unescape(name) for name in names]


def page_title(page: str) -> str:
    match = re.search(r"<title>(.*?)</title>", page, re.DOTALL)
    assert match is not None
    return html.unescape(match.group(1))


def shown_text(page: str) -> str:
    """All text nodes of all HTML the page shows (nodes separated by NUL), and the tags."""
    parsed = [parse_html(fragment) for fragment in html_strings(page)]
    tags = {tag for p in parsed for tag in p.tags}
    assert not tags & {"script", "img", "iframe", "object", "style"}, tags
    return "\0".join(text for p in parsed for text in p.texts)


def assert_literal(page: str, payloads: list[str]) -> None:
    text = shown_text(page)
    missing = [p for p in payloads if p not in text]
    assert not missing, f"not shown literally: {missing!r}"


def assert_no_template_syntax(page: str) -> None:
    """The page's scripts hold no Jinja2 delimiter at all (so no engine can read data as code)."""
    scripts = "".join(re.findall(r"<script>(.*?)</script>", page, re.DOTALL))
    assert "{{" not in scripts and "{%" not in scripts and "{#" not in scripts


# --------------------------------------------------------------------------------------------
# Layers with payloads in every text field
# --------------------------------------------------------------------------------------------


def lonlat_layers(texts: list[str]) -> dict[str, gpd.GeoDataFrame]:
    """Small layers near Pucallpa whose every text field holds one of ``texts``."""

    def text(i: int) -> str:
        return texts[i % len(texts)]

    territories = gpd.GeoDataFrame(
        {
            "territory_id": ["T1", "T2"],
            "name": [text(0), text(1)],
            "people": [text(2), text(3)],
            "claimed_ha": [1000.0, 800.0],
            "titled_ha": [100.0, 0.0],
            "risk_score": [80.0, 10.0],
            "risk_class": ["critical", text(4)],
            "risk_drivers": [text(5), text(6)],
            "risk_drivers_es": [text(5), text(6)],
            "risk_missing": [text(7), "violence"],
        },
        geometry=[box(-74.8, -8.5, -74.7, -8.4), box(-74.7, -8.5, -74.6, -8.4)],
        crs=4326,
    )
    parcels = gpd.GeoDataFrame(
        {"parcel_id": [text(8)], "tenure": [text(9)]},
        geometry=[box(-74.79, -8.49, -74.77, -8.47)],
        crs=4326,
    )
    concessions = gpd.GeoDataFrame(
        {
            "concession_id": [text(10), "C2"],
            "kind": [text(11), "mining"],
            "status": [text(12), "active"],
            "holder": [text(13), text(14)],
        },
        geometry=[box(-74.78, -8.47, -74.72, -8.42), box(-74.69, -8.49, -74.65, -8.45)],
        crs=4326,
    )
    incidents = gpd.GeoDataFrame(
        {
            "incident_id": ["I1", "I2"],
            "date": ["2020-01-01", text(15)],
            "kind": [text(16), "threat"],
            "description": [text(17), text(18)],
            "source": [text(19), text(20)],
            "precision": [text(21), "exact"],
            "sensitivity": ["public", "public"],
        },
        geometry=[Point(-74.75, -8.45), Point(-74.65, -8.45)],
        crs=4326,
    )
    infrastructure = gpd.GeoDataFrame(
        {"kind": [text(22)], "name": [text(23)]},
        geometry=[LineString([(-74.9, -8.3), (-74.6, -8.5)])],
        crs=4326,
    )
    return {
        "territories": territories,
        "parcels": parcels,
        "concessions": concessions,
        "incidents": incidents,
        "infrastructure": infrastructure,
    }


@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(payloads=st.lists(PAYLOADS, min_size=3, max_size=8), lang=st.sampled_from(["es", "en"]))
@example(payloads=[SEVEN, "{% if %}", "{# x #}", "<img src=x onerror=alert(1)>"], lang="es")
def test_build_map_shows_every_payload_literally_and_runs_none(
    tmp_path: Path, payloads: list[str], lang: str
) -> None:
    canary = tmp_path / "canary-build"
    texts = [*payloads, canary_payload(canary), SEVEN]
    layers = lonlat_layers(texts)
    title, source, attribution = texts[-3], texts[-2], texts[0]
    m = build_map(
        **layers,
        lang=lang,
        title=title,
        sources=[source, *payloads],
        attribution=attribution,
    )
    page = compact_json_escapes(m.get_root().render())
    assert not canary.exists()
    assert EVALUATED not in page and EVALUATED not in html.unescape(page)
    assert_no_template_syntax(page)
    assert page_title(page) == title
    assert search_names(page) == list(layers["territories"]["name"])
    shown = [
        *layers["territories"]["name"],
        *layers["territories"]["people"],
        *layers["territories"][f"risk_drivers{'_es' if lang == 'es' else ''}"],
        *layers["concessions"]["holder"],
        layers["concessions"]["concession_id"].iloc[0],
        layers["parcels"]["parcel_id"].iloc[0],
        *layers["incidents"]["description"],
        *layers["incidents"]["source"],
        layers["infrastructure"]["name"].iloc[0],
        title,
        source,
        attribution,
    ]
    assert_literal(page, shown)


def test_template_code_in_any_field_is_not_run(tmp_path: Path) -> None:
    """Valid template code only (the old code rendered it): nothing runs, nothing is computed."""
    canary = tmp_path / "canary-valid"
    code = [canary_payload(canary), SEVEN, "{{ self }}", "{{ range(3)|list }}"]
    layers = lonlat_layers(code)
    m = build_map(**layers, lang="en", title=SEVEN, sources=code, attribution=code[0])
    page = m.get_root().render()
    assert not canary.exists()
    assert EVALUATED not in html.unescape(page)
    assert "[0, 1, 2]" not in html.unescape(page)
    assert_literal(page, [*code, SEVEN])


def test_escape_helpers_leave_no_template_delimiter() -> None:
    from geotools.maps.elements import escape_html, to_safe_json

    text = "{{ 7*7 }}{% if %}{# x #}</script>"
    assert not re.search(r"[{}<>]", escape_html(text))
    assert html.unescape(escape_html(text)) == text
    encoded = to_safe_json({"k{{": [text, {"nested": "}}"}]})
    assert "{{" not in encoded and "{%" not in encoded and "{#" not in encoded
    assert json.loads(encoded) == {"k{{": [text, {"nested": "}}"}]}


# --------------------------------------------------------------------------------------------
# Through the CLI: geotools map and geotools publish
# --------------------------------------------------------------------------------------------


def _file_safe(text: str, limit: int = 60) -> str:
    """``text`` usable in a file name, at most ``limit`` characters.

    No slash or NUL (the file system's), no backslash (GDAL reads it as a path separator) and
    no semicolon (GDAL cuts the name there: such a file cannot be read at all, a separate bug).
    """
    return re.sub(r"[/\\\0;]", "_", text)[:limit] or "_"


def write_inputs(
    case: dict[str, gpd.GeoDataFrame], folder: Path, texts: list[str]
) -> tuple[dict[str, Path], dict[str, list[str]]]:
    """The hand-checked case with payloads in text fields, column names and file names."""

    def text(i: int) -> str:
        return texts[i % len(texts)]

    layers = {kind: frame.copy() for kind, frame in case.items()}
    territories = layers["territories"]
    territories["name"] = [text(i) for i in range(len(territories))]
    territories["people"] = [text(i + 1) for i in range(len(territories))]
    territories[text(2)] = [text(3)] * len(territories)  # a column named by the data
    concessions = layers["concessions"]
    concessions["holder"] = [text(i + 4) for i in range(len(concessions))]
    concessions[f"extra {text(5)}"] = text(6)
    incidents = layers["incidents"]
    incidents["description"] = [text(i + 7) for i in range(len(incidents))]
    incidents["source"] = [text(i + 8) for i in range(len(incidents))]
    incidents["sensitivity"] = "public"
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for i, (kind, frame) in enumerate(layers.items()):
        path = folder / f"{kind} {_file_safe(text(i + 9))}.gpkg"
        pyogrio.write_dataframe(frame, path)
        paths[kind] = path
    shown = {
        "names": list(territories["name"]),
        "text": [
            *territories["name"],
            *territories["people"],
            *concessions["holder"],
            *incidents["description"],
            *incidents["source"],
        ],
        "files": [path.name for path in paths.values()],
        "holders": list(concessions["holder"]),
    }
    return paths, shown


def layer_args(paths: dict[str, Path]) -> list[str]:
    return [arg for kind, path in paths.items() for arg in (f"--{kind}", str(path))]


def run_cli(args: list[str], **kwargs: Any) -> Any:
    result = CliRunner().invoke(main, args, catch_exceptions=False, **kwargs)
    assert result.exit_code == 0, result.output
    return result


@settings(
    max_examples=3,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # a CLI run takes seconds: no shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # `case` is copied, not changed
)
@given(payloads=st.lists(PAYLOADS, min_size=2, max_size=5))
@example(payloads=[SEVEN, "{% if %}", "{# x #}", "<img src=x onerror=alert(1)>"])
def test_map_command_shows_payloads_literally_and_runs_none(
    case: dict[str, gpd.GeoDataFrame], tmp_path_factory: pytest.TempPathFactory, payloads: list[str]
) -> None:
    work = tmp_path_factory.mktemp("map")
    canary = work / "canary-map"
    texts = [canary_payload(canary), SEVEN, *payloads]
    paths, shown = write_inputs(case, work / "in", texts)
    title = f"Title {payloads[0]} {SEVEN}"
    out = work / "map.html"
    run_cli(["map", *layer_args(paths), "--lang", "en", "--title", title, "--out", str(out)])
    page = out.read_text(encoding="utf-8")
    assert not canary.exists()
    assert EVALUATED not in html.unescape(page)
    assert_no_template_syntax(page)
    assert page_title(page) == title
    assert search_names(page) == shown["names"]
    assert_literal(page, [*shown["text"], *shown["files"], title])


def test_publish_command_shows_payloads_literally_and_runs_none(
    case: dict[str, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    canary = tmp_path / "canary-publish"
    texts = [canary_payload(canary), SEVEN, "{% if %}", "{# x #}", "<img src=x onerror=alert(1)>"]
    paths, shown = write_inputs(case, tmp_path / "in", texts)
    out = tmp_path / "bundle"
    run_cli(
        ["publish", *layer_args(paths), "--lang", "en", "--out", str(out)],
        env={
            "GEOTOOLS_PUBLISH_SECRET": "test-secret-0123456789abcdef",
            "GEOTOOLS_PUBLISH_POSITIONS": str(out.parent / "positions.json"),
        },
    )
    assert not canary.exists()
    files = [p for p in out.rglob("*") if p.is_file() and p.suffix in (".html", ".md", ".json")]
    assert any(p.suffix == ".html" for p in files)
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert EVALUATED not in html.unescape(text), path.name
    (page_path,) = [p for p in files if p.suffix == ".html"]
    page = page_path.read_text(encoding="utf-8")
    assert_no_template_syntax(page)
    assert search_names(page) == shown["names"]
    # Public territory names and concession holders are shown; descriptions are withheld.
    assert_literal(page, [*shown["names"], *shown["holders"]])
