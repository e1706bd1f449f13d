"""Hostile text cannot rewrite the terminal or a log (geotools.text.escape_terminal).

Names of territories, file names, column names and values come from files anyone can write.
Printed raw, ``\\x1b[2J`` clears the analyst's screen, ``\\x1b]0;...\\x07`` retitles the window,
``\\x1b]8;;URL\\x07`` turns text into a link, ``\\x1b[8m`` hides what follows, ``\\r`` overwrites
the line and U+202E / U+2066-2069 reorder it. Each test runs a command on such data and checks
that stdout, stderr and the log hold no control, C1 or bidi character (only the newlines that
end lines), that the escaped form shows instead, and that ordinary accented names print as they
are. On the old code (data echoed raw) every command test fails.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import unicodedata

import geopandas as gpd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from geotools.cli import main
from geotools.text import UNSAFE_CHARACTERS, TerminalSafeFormatter, escape_terminal

#: Every trick at once: clear screen, window title, hyperlink, hidden text, carriage return
#: over a forged line, a newline forging a line of its own, RLO, isolates, a C1 CSI.
HOSTILE = (
    "Evil\x1b[2J\x1b]0;pwned\x07\x1b]8;;https://evil.example/\x07link\x1b]8;;\x07"
    "\x1b[8mhidden\x1b[0m\rFAKE\nerror: forged\u202eedoc\u2066x\u2069\x9b2J"
)
#: In file names (Linux allows all but "/" and NUL; GDAL cuts a path at ";" and drops "\r"):
#: red text, a bell, RLO, a C1 CSI.
FILE_TAG = "\x1b[31m\x07\u202e\x9b"
ORDINARY = ("Santa Clara de Uchunya", "Ñuñoa", "Asháninka")
UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def unsafe(text: str) -> list[str]:
    """The characters of ``text`` a terminal could act on, newlines (line ends) aside."""
    return sorted(
        {c for c in text if c != "\n" and unicodedata.category(c) in UNSAFE_CATEGORIES},
    )


def assert_safe(result, *, escaped: bool = True) -> str:
    """Check a CliRunner result's stdout and stderr; return them joined."""
    text = result.stdout + result.stderr
    assert not unsafe(text), f"raw controls reach the terminal: {unsafe(text)!r}\n{text!r}"
    if escaped:
        assert "\\x1b" in text, text
    return text


def invoke(args: list[str]):
    # color=True: click strips some ANSI sequences when not writing to a terminal; a user's
    # terminal gets them all.
    return CliRunner().invoke(main, [str(a) for a in args], color=True)


@pytest.fixture
def study(tmp_path):
    """Four territories (one named HOSTILE), a parcel, a concession with a hostile kind and
    holder, two public incidents; every file name carries FILE_TAG."""
    where = tmp_path / f"in{FILE_TAG}"
    where.mkdir()
    names = [HOSTILE, *ORDINARY]
    territories = gpd.GeoDataFrame(
        {
            "territory_id": ["T1", "T2", "T3", "T4"],
            "name": names,
            "people": [HOSTILE, "Shipibo-Conibo", "Asháninka", "Asháninka"],
        },
        geometry=[box(-74.6 + 0.2 * i, -8.5, -74.5 + 0.2 * i, -8.4) for i in range(4)],
        crs=4326,
    )
    parcels = gpd.GeoDataFrame(
        {"parcel_id": ["P1"], "tenure": ["titled"]},
        geometry=[box(-74.6, -8.5, -74.55, -8.45)],
        crs=4326,
    )
    concessions = gpd.GeoDataFrame(
        {
            "concession_id": ["C1"],
            "kind": [f"mining{HOSTILE}"],
            "status": ["active"],
            "holder": [HOSTILE],
        },
        geometry=[box(-74.58, -8.48, -74.52, -8.42)],
        crs=4326,
    )
    paths = {
        "territories": where / f"territories{FILE_TAG}.geojson",
        "parcels": where / f"parcels{FILE_TAG}.geojson",
        "concessions": where / f"concessions{FILE_TAG}.geojson",
        "incidents": where / f"incidents{FILE_TAG}.csv",
    }
    territories.to_file(paths["territories"])
    parcels.to_file(paths["parcels"])
    concessions.to_file(paths["concessions"])
    paths["incidents"].write_text(
        "incident_id,date,kind,sensitivity,description,lon,lat\n"
        "I1,2020-01-05,threat,public,amenaza,-74.55,-8.45\n"
        f'I2,2021-03-01,invasion,public,"{HOSTILE}",-74.35,-8.45\n',
        encoding="utf-8",
    )
    return paths


def layer_args(paths) -> list[str]:
    args = []
    for kind, path in paths.items():
        args += [f"--{kind}", path]
    return args


def test_stats_prints_hostile_names_escaped_and_ordinary_names_unchanged(study, tmp_path):
    result = invoke(["stats", *layer_args(study), "--out", tmp_path / "out"])
    assert result.exit_code == 0, result.output
    text = assert_safe(result)
    # The sentence of the hostile territory is one line, its tricks shown, not obeyed.
    line = next(x for x in result.stdout.splitlines() if x.startswith("Evil"))
    assert line.startswith(
        "Evil\\x1b[2J\\x1b]0;pwned\\x07\\x1b]8;;https://evil.example/\\x07link\\x1b]8;;\\x07"
        "\\x1b[8mhidden\\x1b[0m\\rFAKE\\nerror: forged\\u202eedoc\\u2066x\\u2069\\x9b2J: "
    )
    assert not any(x.startswith("error: forged") for x in text.splitlines())
    for name in ORDINARY:  # accented names print as they are
        assert any(x.startswith(f"{name}: ") for x in result.stdout.splitlines()), name
    # Log records: the file names in the QA summaries, the concession kind in the warning.
    assert "territories\\x1b[31m\\x07\\u202e\\x9b.geojson" in result.stderr
    assert "values outside the vocabulary" in result.stderr
    assert "mining" in result.stderr and "\\x1b[2J" in result.stderr


def test_stats_verbose_log_lines_are_escaped(study, tmp_path):
    result = invoke(["stats", *layer_args(study), "--out", tmp_path / "out", "-v"])
    assert result.exit_code == 0, result.output
    assert_safe(result)
    assert "WARNING: concessions: column 'kind' has values outside" in result.stderr


def test_validate_rejected_reasons_and_column_names_are_escaped(study, tmp_path):
    bad = study["incidents"].parent / f"bad{FILE_TAG}.csv"
    bad.write_text(
        "incident_id,date,kind,sensitivity,lon,lat\n"
        '"I\x1b[2J9","2020-01-01",threat,public,"-74.55\x1b]0;x\x07","-8.45"\n'
        'I8,"20\u202e20-99-99",threat,public,-74.55,-8.45\n',
        encoding="utf-8",
    )
    result = invoke(["validate", bad, "--as", "incidents"])
    assert "rejected" in result.stdout or "repaired" in result.stdout, result.output
    assert_safe(result)
    assert f"bad{escape_terminal(FILE_TAG)}.csv" in result.stdout
    assert "  I\\x1b[2J9: no geometry -> rejected" in result.stdout  # reasons name values
    assert "'20\\u202e20-99-99'" in result.stdout
    # A column name in an error message (a missing column, with the columns there are).
    frame = gpd.read_file(study["territories"])
    frame = frame.rename(columns={"name": f"nombre{HOSTILE}"}).drop(columns="people")
    renamed = study["territories"].parent / "renamed.geojson"
    frame.to_file(renamed)
    result = invoke(["validate", renamed, "--as", "territories", "--map", "territories.name=x"])
    assert result.exit_code != 0
    text = assert_safe(result)
    assert "nombreEvil\\x1b[2J" in text


def test_validate_group_territories_column_error_is_escaped(study):
    frame = gpd.read_file(study["territories"]).rename(columns={"people": f"etnia{HOSTILE}"})
    path = study["territories"].parent / "grouped.geojson"
    frame.to_file(path)
    result = invoke(["validate", path, "--as", "territories", "--group-territories", "nosuch"])
    assert result.exit_code == 1, result.output
    assert_safe(result)
    assert "etniaEvil\\x1b[2J" in result.stderr
    assert result.stderr.count("\n") == 1  # one error line, however many newlines the data has


def test_map_and_its_log_are_escaped(study, tmp_path):
    # A new output name may not hold controls (tests/security/test_output_names.py); an existing
    # folder may, and is shown escaped.
    (tmp_path / f"maps{FILE_TAG}").mkdir()
    out = tmp_path / f"maps{FILE_TAG}" / "map.html"
    result = invoke(
        ["map", *layer_args(study), "--out", out, "--no-hexagons", "--embed", "--title", HOSTILE]
    )
    assert result.exit_code == 0, result.output
    assert_safe(result)
    assert f"Wrote {tmp_path}/maps\\x1b[31m\\x07\\u202e\\x9b/map.html" in result.stdout
    assert 'title="Evil\\x1b[2J' in result.stdout  # the --embed snippet


def test_publish_is_escaped(study, tmp_path):
    (tmp_path / f"pub{FILE_TAG}").mkdir()  # an existing folder (a new name is refused)
    out = tmp_path / f"pub{FILE_TAG}" / "bundle"
    result = invoke(["publish", *layer_args(study), "--out", out, "--min-count", "3"])
    assert result.exit_code == 0, result.output
    assert_safe(result)
    assert "pub\\x1b[31m\\x07\\u202e\\x9b/bundle/" in result.stdout


def test_run_project_file_is_escaped(study, tmp_path):
    project = study["territories"].parent / f"study{FILE_TAG}.toml"
    layers = "\n".join(
        f'[layers.{kind}]\npath = {json.dumps(path.name)}' for kind, path in study.items()
    )
    project.write_text(
        f'[project]\nname = {json.dumps(HOSTILE)}\nout = "out"\n\n{layers}\n', encoding="utf-8"
    )
    result = invoke(["run", project])
    assert result.exit_code == 0, result.output
    text = assert_safe(result)
    assert "Evil\\x1b[2J" in text
    for name in ORDINARY:
        assert any(x.startswith(f"{name}: ") for x in result.stdout.splitlines()), name


def test_import_is_escaped(tmp_path):
    source = tmp_path / f"acled{FILE_TAG}.csv"
    source.write_text(
        "event_id_cnty,event_date,event_type,sub_event_type,latitude,longitude,notes\n"
        f'PER1,2021-02-03,Protests,Peaceful protest,-8.45,-74.55,"{HOSTILE}"\n'
        f'"PER\x1b[2J2",2021-02-04,Riots,Mob violence,"-8.4\x1b]0;x\x07",-74.55,Ñuñoa\n',
        encoding="utf-8",
    )
    result = invoke(["import", "acled", source, "--out", tmp_path / "out.gpkg"])
    assert result.exit_code == 0, result.output
    assert_safe(result)
    assert "acled\\x1b[31m\\x07\\u202e\\x9b.csv" in result.stdout


def test_a_usage_error_quoting_data_is_escaped(study, tmp_path):
    """A regression guard (passes on the old code too: the message quotes with repr)."""
    result = invoke(
        ["stats", *layer_args(study), "--out", tmp_path / "o", "--map", f"territories.{HOSTILE}=x"]
    )
    assert result.exit_code == 2
    assert_safe(result)


# -- The helper and the log formatter ------------------------------------------------------


def test_ordinary_text_is_unchanged():
    for name in (*ORDINARY, "Comunidad Nativa Nuevo Saposoa — 12 % titulado", "日本語 ✓ 🌳"):
        assert escape_terminal(name) == name


def test_each_trick_is_shown():
    assert escape_terminal("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert escape_terminal("\x1b]8;;https://x\x07y") == "\\x1b]8;;https://x\\x07y"
    assert escape_terminal("ok\rFAKE") == "ok\\rFAKE"
    assert escape_terminal("a\nb") == "a\\nb"
    assert escape_terminal("a\nb\x1b", keep_newlines=True) == "a\nb\\x1b"
    assert escape_terminal("\u202eabc\u2066\u2069\u200f") == "\\u202eabc\\u2066\\u2069\\u200f"
    assert escape_terminal("\x9b\x85\x7f") == "\\x9b\\x85\\x7f"
    assert escape_terminal("\U000e0041\udcff") == "\\U000e0041\\udcff"
    assert escape_terminal(12) == "12"


def test_every_control_and_format_character_is_covered():
    missed = [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in UNSAFE_CATEGORIES
        and not UNSAFE_CHARACTERS.fullmatch(chr(code))
    ]
    assert not missed


@settings(max_examples=50, derandomize=True)
@given(st.text(alphabet=st.characters(codec=None), max_size=40))
def test_escaped_text_is_safe_one_line_and_idempotent(text):
    out = escape_terminal(text)
    assert not unsafe(out) and "\n" not in out
    assert escape_terminal(out) == out


@settings(max_examples=50, derandomize=True)
@given(st.text(alphabet=st.characters(exclude_categories=tuple(UNSAFE_CATEGORIES)), max_size=40))
def test_printable_text_is_unchanged(text):
    assert escape_terminal(text) == text


def test_log_formatter_escapes_args_tracebacks_and_keeps_the_record():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TerminalSafeFormatter("%(levelname)s: %(message)s"))
    logger = logging.getLogger("geotools.test_terminal")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        records: list[logging.LogRecord] = []
        keep = logging.Handler()
        keep.emit = records.append  # type: ignore[method-assign]
        logger.addHandler(keep)
        logger.warning("%s: column %s, 100%%", HOSTILE, "c\x1b[8m")
        try:
            raise ValueError(f"bad {HOSTILE}")
        except ValueError:
            logger.exception("failed on %s", "Ñuñoa\r")
    finally:
        logger.handlers.clear()
    text = stream.getvalue()
    assert not unsafe(text)
    lines = text.splitlines()
    assert lines[0].startswith("WARNING: Evil\\x1b[2J") and lines[0].endswith("c\\x1b[8m, 100%")
    assert lines[1] == "ERROR: failed on Ñuñoa\\r"
    assert "Traceback (most recent call last):" in lines  # a traceback keeps its lines
    assert lines[-1].startswith("ValueError: bad Evil\\x1b[2J")  # its message is one line
    assert lines[-1].endswith("\\nerror: forged\\u202eedoc\\u2066x\\u2069\\x9b2J")
    assert not any(x.startswith("error: forged") for x in lines)
    assert records[0].args == (HOSTILE, "c\x1b[8m")  # other handlers get the record as it was



def test_library_warnings_and_records_are_escaped_too(study, monkeypatch, capsys):
    """A Python warning raised during a command, and a record of another library's logger
    (GDAL through pyogrio names files and fields), are escaped like geotools' own."""
    import warnings

    from geotools.cli import commands

    original = commands.read_layer

    def warning_read_layer(*args, **kwargs):
        warnings.warn(f"field {HOSTILE} truncated", RuntimeWarning, stacklevel=1)
        return original(*args, **kwargs)

    monkeypatch.setattr(commands, "read_layer", warning_read_layer)
    result = invoke(["validate", study["territories"], "--as", "territories"])
    assert result.exit_code == 0, result.output
    assert_safe(result)
    assert "RuntimeWarning: field Evil\\x1b[2J" in result.stderr
    # The CLI's logging setup made the last resort (records no handler takes) escape too.
    record = logging.LogRecord("pyogrio._err", logging.WARNING, "x", 1, "%s", (HOSTILE,), None)
    logging.lastResort.handle(record)
    err = capsys.readouterr().err
    assert not unsafe(err)
    assert err.startswith("pyogrio._err: WARNING: Evil\\x1b[2J")


def test_commands_print_only_through_the_escaping_echo():
    """Every line printed goes through ``geotools.cli.terminal.echo``: the one ``click.echo``."""
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "geotools"
    calls = {
        path.relative_to(package).as_posix(): text.count("click.echo(") + text.count("click.secho(")
        for path in package.rglob("*.py")
        if "click." in (text := path.read_text(encoding="utf-8"))
    }
    assert {path: n for path, n in calls.items() if n} == {"cli/terminal.py": 1}


def test_click_usage_errors_quoting_a_file_name_are_escaped(study, tmp_path):
    """click's own messages (``File '...' is a directory``) quote a file name: escaped by the
    command group whatever click does (a regression guard: click 8.5 escapes it already)."""
    folder = tmp_path / f"report{FILE_TAG}"
    folder.mkdir()
    result = invoke(["validate", study["territories"], "--as", "territories", "--report", folder])
    assert result.exit_code == 2
    assert_safe(result)
    assert "report\\x1b[31m\\x07\\u202e\\x9b" in result.stderr
