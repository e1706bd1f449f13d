"""Output and input names holding control or invisible characters are refused up front.

GDAL drops ``\\r`` from a file name: ``import acled ... --out $'o\\r.gpkg'`` used to write a
file other than the one geotools renamed, end on "unexpected FileNotFoundError" and leave a
staging file behind. Every command that writes now refuses such a name before anything is
written, with a one-line error naming it escaped; nothing is left in the folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from geotools.cli import main
from geotools.errors import OutputError
from geotools.outputs import atomic_path, refuse_unsafe_name, staged_outputs

RAW = Path(__file__).resolve().parents[2] / "data" / "raw"
ACLED_CSV = (
    "event_id_cnty,event_date,year,disorder_type,event_type,sub_event_type,actor1,country,"
    "admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,notes,fatalities\n"
    "PER1,2023-01-09,2023,Demonstrations,Protests,Peaceful protest,Protesters (Peru),Peru,"
    "Puno,Puno,Puno,Puno,-15.84,-70.02,1,La Republica,,0\n"
)
BAD = ["\r", "\n", "\x1b[2J", "\x9b", "\u202e", "\u200b", "\t"]


def run(args: list[str], cwd: Path) -> tuple[int, str]:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, args)
    finally:
        os.chdir(old)
    return result.exit_code, result.output


def layers() -> list[str]:
    return ["--territories", str(RAW / "territories.geojson"),
            "--incidents", str(RAW / "incidents.csv")]  # fmt: skip


COMMANDS = {
    "stats --out": lambda n: ["stats", *layers(), "--out", f"st{n}"],
    "map --out": lambda n: ["map", *layers(), "--out", f"m{n}.html"],
    "map --tiles": lambda n: ["map", *layers(), "--tiles", f"t{n}"],
    "map --png": lambda n: ["map", *layers(), "--out", "m.html", "--png", f"p{n}"],
    "publish --out": lambda n: ["publish", *layers(), "--out", f"b{n}"],
    "import --out": lambda n: ["import", "acled", "a.csv", "--out", f"o{n}.gpkg"],
    "validate --report": lambda n: [
        "validate",
        "--as",
        "incidents",
        str(RAW / "incidents.csv"),
        "--report",
        f"r{n}.json",
    ],
    "demo --out": lambda n: ["demo", "--out", f"d{n}"],
    "folder part": lambda n: ["import", "acled", "a.csv", "--out", f"f{n}/o.gpkg"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("bad", ["\r", "\x1b[2J", "\u202e"])
def test_every_writer_refuses_a_control_in_its_output_name(tmp_path, command, bad):
    (tmp_path / "a.csv").write_text(ACLED_CSV, encoding="utf-8")
    code, output = run(COMMANDS[command](bad), tmp_path)
    assert code != 0
    lines = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, output
    assert "output name holds the control or invisible character" in lines[0]
    assert "unexpected" not in output
    escaped = {"\r": "\\r", "\x1b[2J": "\\x1b[2J", "\u202e": "\\u202e"}[bad]
    assert escaped in lines[0]
    assert bad not in output  # shown escaped, never raw
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]  # nothing written


@pytest.mark.parametrize("bad", BAD)
def test_refuse_unsafe_name_names_it_escaped(bad):
    with pytest.raises(OutputError, match="printable characters only") as info:
        refuse_unsafe_name(f"dir/o{bad}.gpkg")
    assert "\n" not in str(info.value) and bad not in str(info.value)
    refuse_unsafe_name("salidas/Ñuñoa Asháninka.gpkg")  # accented letters are fine


def test_unexpected_failure_leaves_no_part_nor_what_a_writer_made_beside_it(tmp_path):
    def write() -> None:
        with atomic_path(tmp_path / "o.gpkg") as tmp:
            tmp.write_bytes(b"half")
            Path(f"{tmp}-journal").write_bytes(b"j")  # as SQLite/GDAL would
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write()
    assert list(tmp_path.iterdir()) == []


def test_unexpected_failure_in_a_staged_folder_leaves_nothing(tmp_path):
    def write() -> None:
        with staged_outputs(tmp_path / "out", ["x.csv"]) as stage:
            (stage / "x.csv").write_text("1")
            raise KeyError("boom")

    with pytest.raises(KeyError):
        write()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["validate", "import"])
def test_input_name_with_a_control_is_a_clear_error(tmp_path, command):
    (tmp_path / "a\r.csv").write_text(ACLED_CSV, encoding="utf-8")
    (tmp_path / "t\r.geojson").write_bytes((RAW / "territories.geojson").read_bytes())
    args = {
        "validate": ["validate", "--as", "territories", "t\r.geojson"],
        "import": ["import", "acled", "a\r.csv", "--out", "o.gpkg"],
    }[command]
    code, output = run(args, tmp_path)
    assert code != 0
    name = {"validate": "t\\r.geojson", "import": "a\\r.csv"}[command]
    assert f"error: {name}: the file name holds the control character \\r, which GDAL" in output
    assert "unexpected" not in output and "\r" not in output
    assert "o.gpkg" not in os.listdir(tmp_path)


def test_input_name_gdal_would_read_as_another_file_is_refused(tmp_path):
    """GDAL drops "\\r": asked for t\\r.geojson it would read t.geojson, another file."""
    (tmp_path / "t.geojson").write_bytes((RAW / "territories.geojson").read_bytes())
    (tmp_path / "t\r.geojson").write_bytes((RAW / "territories.geojson").read_bytes())
    code, output = run(["validate", "--as", "territories", "t\r.geojson"], tmp_path)
    assert code != 0
    assert "error: t\\r.geojson: the file name holds the control character" in output


def test_input_name_with_undecodable_bytes_is_a_clear_error(tmp_path):
    name = os.fsdecode(b"t\xff.geojson")
    (tmp_path / name).write_bytes((RAW / "territories.geojson").read_bytes())
    code, output = run(["validate", "--as", "territories", name], tmp_path)
    assert code != 0
    assert "error: t\\udcff.geojson: the file name is not valid UTF-8" in output
    assert "unexpected" not in output


def test_an_existing_folder_may_hold_controls_gdal_keeps(tmp_path):
    """Only the names geotools creates must be clean; an existing folder is the user's."""
    (tmp_path / "a.csv").write_text(ACLED_CSV, encoding="utf-8")
    (tmp_path / "in\x1b[31m").mkdir()
    code, output = run(["import", "acled", "a.csv", "--out", "in\x1b[31m/o.gpkg"], tmp_path)
    assert code == 0, output
    assert (tmp_path / "in\x1b[31m" / "o.gpkg").is_file()
    assert "in\\x1b[31m/o.gpkg" in output and "\x1b" not in output
    (tmp_path / "in\r").mkdir()  # but GDAL would drop this one
    code, output = run(["import", "acled", "a.csv", "--out", "in\r/o.gpkg"], tmp_path)
    assert code != 0 and "output name holds the control" in output
    assert sorted(p.name for p in (tmp_path / "in\r").iterdir()) == []
