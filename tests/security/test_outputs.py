"""Issue 11, classes 5, 6 (CSV) and 8 (GeoPackage): outputs are never lost, never half-done,
safe to open in a spreadsheet, and byte-identical between identical runs.

Each test runs the attack (or the accident) through the CLI and fails on the code before the
fix: --overwrite deleting a user's files, a symlinked --out reported as written while the old
bundle stayed, two runs on one --out, a killed publish leaving a checksummed bundle, stale files
after --overwrite, "unexpected OSError ... report it" on a read-only or full disk, formulas in
CSV cells, GeoPackages stamped with the time of writing.
"""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner, Result

from geotools.cli import main
from geotools.export import write_csv
from geotools.outputs import HOST_TAG, MARKER, lock_path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-secret-outputs-0123456789"
#: Territory names a spreadsheet would run as formulas (OWASP CSV injection).
ATTACKS = [
    '=HYPERLINK("http://x","y")',
    "+cmd",
    "-2+3",
    "@SUM(A1)",
    "\tfoo",
    "\rbar",
    "Alfa\r=HYPERLINK(\"http://x\")",  # a bare CR ends the row unless quoted: row injection
]
#: How they read back: quoted, and CR written as LF (so that the cell is quoted).
NEUTRALISED = ["'" + a if a.startswith(("=", "+", "-", "@", "\t", "\r")) else a for a in ATTACKS]
NEUTRALISED = [a.replace("\r", "\n") for a in NEUTRALISED]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Six territories named after the attacks, two titled parcels, one concession, public
    incidents (so that publish has nothing to displace and stays fast)."""
    folder = tmp_path_factory.mktemp("inputs")
    n = len(ATTACKS)
    boxes = [shapely.box(-74.8 + 0.1 * i, -8.4, -74.72 + 0.1 * i, -8.32) for i in range(n)]
    territories = gpd.GeoDataFrame(
        {"territory_id": [f"T{i}" for i in range(n)], "name": ATTACKS, "people": ATTACKS},
        geometry=boxes,
        crs=4326,
    )
    parcels = gpd.GeoDataFrame(
        {"parcel_id": ["P1", "P2"], "tenure": ["titled", "titled"]},
        geometry=[shapely.box(-74.8, -8.4, -74.76, -8.36), shapely.box(-74.7, -8.4, -74.66, -8.36)],
        crs=4326,
    )
    concessions = gpd.GeoDataFrame(
        {"concession_id": ["C1"], "kind": ["mining"], "holder": ["=cmd|' /C calc'!A0"]},
        geometry=[shapely.box(-74.78, -8.38, -74.6, -8.3)],
        crs=4326,
    )
    incidents = pd.DataFrame(
        {
            "incident_id": ["I1", "I2"],
            "date": ["2021-01-01", "2022-02-02"],
            "kind": ["threat", "attack"],
            "sensitivity": ["public", "public"],
            "lon": [-74.77, -74.67],
            "lat": [-8.37, -8.37],
            "source": ["@source", "-source"],
        }
    )
    paths = {kind: folder / f"{kind}.geojson" for kind in ("territories", "parcels", "concessions")}
    territories.to_file(paths["territories"])
    parcels.to_file(paths["parcels"])
    concessions.to_file(paths["concessions"])
    paths["incidents"] = folder / "incidents.csv"
    incidents.to_csv(paths["incidents"], index=False)
    (folder / "key.txt").write_text(SECRET)
    return paths


def layer_args(inputs: dict[str, Path], *, incidents: bool = True) -> list[str]:
    kinds = ["territories", "parcels", "concessions"] + (["incidents"] if incidents else [])
    return [f"--{kind}={inputs[kind]}" for kind in kinds]


def stats_args(inputs: dict[str, Path], out: Path, *extra: str, incidents: bool = True) -> list:
    return ["stats", *layer_args(inputs, incidents=incidents), "--out", str(out), *extra]


def publish_args(inputs: dict[str, Path], out: Path, *extra: str) -> list[str]:
    key = inputs["territories"].parent / "key.txt"
    return ["publish", *layer_args(inputs), "--secret-file", str(key), "--out", str(out), *extra]


def run(args: list[str]) -> Result:
    return CliRunner().invoke(main, args, catch_exceptions=False)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def one_error_line(result: Result) -> str:
    lines = [line for line in result.output.splitlines() if line.startswith("error")]
    assert result.exit_code == 1, result.output
    assert len(lines) == 1, result.output
    assert "unexpected" not in result.output and "Traceback" not in result.output
    return lines[0]


def leftovers(parent: Path) -> list[str]:
    """Staging folders, parts and lock files geotools may have left in ``parent``."""
    return sorted(p.name for p in parent.iterdir() if ".geotools-" in p.name)


# --------------------------------------------------------------------------------------------
# 5. Nothing lost: --overwrite never deletes a user's files
# --------------------------------------------------------------------------------------------


def test_overwrite_refuses_a_users_data_package(inputs: dict[str, Path], tmp_path: Path) -> None:
    """The reported accident: a user's Frictionless data package (datapackage.json, notes,
    photos) given as --out with --overwrite was deleted, exit 0."""
    out = tmp_path / "package"
    (out / "photos").mkdir(parents=True)
    (out / "datapackage.json").write_text('{"name": "my-field-data"}')
    (out / "notes.txt").write_text("interview notes")
    (out / "photos" / "river.jpg").write_bytes(b"\xff\xd8 photo")
    before = snapshot(out)
    line = one_error_line(run(publish_args(inputs, out, "--overwrite")))
    assert "did not write" in line and "--out" in line
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("command", ["stats", "publish"])
def test_overwrite_refuses_an_output_folder_the_user_added_files_to(
    inputs: dict[str, Path], tmp_path: Path, command: str
) -> None:
    out = tmp_path / "out"
    args = stats_args(inputs, out) if command == "stats" else publish_args(inputs, out)
    assert run(args).exit_code == 0
    (out / "notes.txt").write_text("my notes on the results")
    (out / "photos").mkdir()
    (out / "photos" / "field.jpg").write_bytes(b"\xff\xd8 photo")
    before = snapshot(out)
    line = one_error_line(run([*args, "--overwrite"]))
    assert "notes.txt" in line and "did not write" in line
    assert snapshot(out) == before, "nothing replaced, nothing deleted"
    # Once the user moved them away, --overwrite works.
    (out / "notes.txt").unlink()
    (out / "photos" / "field.jpg").unlink()
    (out / "photos").rmdir()
    assert run([*args, "--overwrite"]).exit_code == 0


def test_overwrite_leaves_no_stale_files(inputs: dict[str, Path], tmp_path: Path) -> None:
    """First run with more outputs (incidents QA; Shapefiles), second with fewer: the folder
    then holds exactly what a fresh run of the second command writes."""
    out, fresh = tmp_path / "stats", tmp_path / "fresh"
    assert run(stats_args(inputs, out)).exit_code == 0
    assert (out / "qa" / "incidents.json").exists()
    assert run(stats_args(inputs, out, "--overwrite", incidents=False)).exit_code == 0
    assert run(stats_args(inputs, fresh, incidents=False)).exit_code == 0
    assert sorted(snapshot(out)) == sorted(snapshot(fresh))
    assert not (out / "qa" / "incidents.json").exists()

    bundle, fresh_bundle = tmp_path / "bundle", tmp_path / "fresh_bundle"
    assert run(publish_args(inputs, bundle, "--format", "shp")).exit_code == 0
    assert (bundle / "shp").is_dir()
    assert run(publish_args(inputs, bundle, "--overwrite")).exit_code == 0
    assert run(publish_args(inputs, fresh_bundle)).exit_code == 0
    assert sorted(snapshot(bundle)) == sorted(snapshot(fresh_bundle))
    assert not (bundle / "shp").exists()
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------------------------
# 5. Symbolic links, locks, killed runs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["stats", "publish"])
def test_symlinked_out_is_refused_and_the_old_output_stays(
    inputs: dict[str, Path], tmp_path: Path, command: str
) -> None:
    real, link = tmp_path / "real", tmp_path / "link"
    make = stats_args if command == "stats" else publish_args
    assert run(make(inputs, real)).exit_code == 0
    before = snapshot(real)
    link.symlink_to(real, target_is_directory=True)
    line = one_error_line(run(make(inputs, link, "--overwrite")))
    assert "symbolic link" in line and str(link) in line
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert snapshot(real) == before
    assert leftovers(tmp_path) == []


def test_symlinked_single_file_out_is_refused(inputs: dict[str, Path], tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.html"
    elsewhere.write_text("someone else's page")
    link = tmp_path / "map.html"
    link.symlink_to(elsewhere)
    result = run(["map", *layer_args(inputs), "--out", str(link), "--overwrite"])
    assert "symbolic link" in one_error_line(result)
    assert link.is_symlink() and elsewhere.read_text() == "someone else's page"


@pytest.fixture
def other_process_holding(tmp_path: Path) -> Iterator[Callable[[Path], subprocess.Popen[str]]]:
    """Start a separate process that holds the lock of an output, as a concurrent run does."""
    started: list[subprocess.Popen[str]] = []

    def hold(target: Path) -> subprocess.Popen[str]:
        code = textwrap.dedent(
            f"""
            import fcntl, os, sys, time
            fd = os.open({str(lock_path(target))!r}, os.O_RDWR | os.O_CREAT)
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, b"pid %d on a test" % os.getpid())
            print("locked", flush=True)
            time.sleep(60)
            """
        )
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        started.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        return proc

    yield hold
    for proc in started:
        proc.kill()
        proc.wait()


Holder = Callable[[Path], subprocess.Popen[str]]


def test_a_second_concurrent_run_fails(
    inputs: dict[str, Path], tmp_path: Path, other_process_holding: Holder
) -> None:
    out = tmp_path / "out"
    assert run(stats_args(inputs, out)).exit_code == 0
    before = snapshot(out)
    holder = other_process_holding(out)
    for args in (stats_args(inputs, out, "--overwrite"), publish_args(inputs, out, "--overwrite")):
        line = one_error_line(run(args))
        assert "another geotools run" in line and f"pid {holder.pid}" in line
        assert snapshot(out) == before
    fresh = tmp_path / "fresh"
    holder = other_process_holding(fresh)
    assert "another geotools run" in one_error_line(run(stats_args(inputs, fresh)))
    assert not fresh.exists()


KILL_IN_LEAK_CHECK = """
import os, signal, sys
import geotools.publish.bundle
def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
geotools.publish.bundle.check_bundle = killed
from geotools.cli import main
sys.argv = ["geotools", *sys.argv[1:]]
main()
"""


def publish_killed_in_leak_check(args: list[str]) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", KILL_IN_LEAK_CHECK, *args], env=env, capture_output=True, timeout=300
    )
    return proc.returncode


def test_a_killed_publish_leaves_no_checked_bundle_and_is_cleaned_next_run(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "bundle"
    assert publish_killed_in_leak_check(publish_args(inputs, out)) == -signal.SIGKILL
    assert not out.exists()
    stale = [p for p in tmp_path.iterdir() if p.name.startswith(".bundle.")]
    assert stale, "the killed run's staging folder is there (named after it)"
    checked = [p for p in tmp_path.rglob("*") if p.name in ("SHA256SUMS", MARKER)]
    assert checked == [], "nothing that looks checked before the leak check passed"
    result = run(publish_args(inputs, out))
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert (out / "SHA256SUMS").is_file()

    # Killed while replacing it: the old bundle stays, complete and checked.
    before = snapshot(out)
    code = publish_killed_in_leak_check(publish_args(inputs, out, "--overwrite", "--lang", "en"))
    assert code == -signal.SIGKILL
    assert snapshot(out) == before
    assert run(publish_args(inputs, out, "--overwrite", "--lang", "en")).exit_code == 0
    assert snapshot(out) != before
    assert leftovers(tmp_path) == []


def test_staging_of_a_live_run_is_named_not_deleted(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "bundle"
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stage = tmp_path / f".bundle.geotools-stage-{HOST_TAG}-{alive.pid}-0123abcd"
        stage.mkdir()
        (stage / "half.csv").write_text("a,b\n")
        line = one_error_line(run(publish_args(inputs, out)))
        assert str(stage) in line and str(alive.pid) in line
        assert (stage / "half.csv").exists() and not out.exists()
    finally:
        alive.kill()
        alive.wait()
    # The process is gone now: the next run removes its staging folder.
    assert run(publish_args(inputs, out)).exit_code == 0
    assert not stage.exists()


def test_an_output_set_aside_by_a_killed_swap_is_put_back(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    """Killed between "old aside" and "new in": the next run restores the old output first."""
    out = tmp_path / "stats"
    assert run(stats_args(inputs, out)).exit_code == 0
    before = snapshot(out)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    aside = tmp_path / f".stats.geotools-old-{HOST_TAG}-{int(dead.stdout)}-00ff"
    out.rename(aside)
    result = run(stats_args(inputs, out))
    assert result.exit_code == 1 and "already exist" in result.output  # restored, not rewritten
    assert snapshot(out) == before and not aside.exists()


# --------------------------------------------------------------------------------------------
# 5. Read-only and full disks: one line, exit 1
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.EROFS, "read-only"), (errno.ENOSPC, "disk is full"), (errno.EACCES, "permission")],
)
@pytest.mark.parametrize("command", ["stats", "publish", "map"])
def test_unwritable_disk_is_one_line(
    inputs: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    words: str,
    command: str,
) -> None:
    """As root, chmod does not stop writes: the failure is injected where every write ends
    (the rename into place), as a read-only mount or a full disk would make it fail."""
    real_replace, real_rename = os.replace, os.rename

    def failing(src: object, dst: object, *args: object, **kwargs: object) -> None:
        if str(tmp_path) in str(dst):
            raise OSError(code, os.strerror(code), str(dst))
        real_replace(src, dst, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", failing)
    monkeypatch.setattr(os, "rename", failing)
    out = tmp_path / ("map.html" if command == "map" else "out")
    if command == "stats":
        args = stats_args(inputs, out)
    elif command == "publish":
        args = publish_args(inputs, out)
    else:
        args = ["map", *layer_args(inputs), "--out", str(out)]
    line = one_error_line(run(args))
    assert words in line and str(out) in line
    monkeypatch.setattr(os, "replace", real_replace)
    monkeypatch.setattr(os, "rename", real_rename)
    assert not out.exists()
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------------------------
# 6. CSV cells are safe to open in a spreadsheet
# --------------------------------------------------------------------------------------------


def risky_cells(path: Path) -> list[str]:
    """Cells (and headers) a spreadsheet would run as a formula."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    cells = [*table.columns, *table.to_numpy().ravel().tolist()]
    number = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?"
    return [
        c for c in cells if c.startswith(TRIGGERS) and not pd.Series([c]).str.fullmatch(number)[0]
    ]


def test_csv_injection_is_neutralised_in_stats_and_publish(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    stats, bundle = tmp_path / "stats", tmp_path / "bundle"
    assert run(stats_args(inputs, stats)).exit_code == 0
    assert run(publish_args(inputs, bundle)).exit_code == 0
    csvs = sorted([*stats.rglob("*.csv"), *bundle.rglob("*.csv")])
    assert len(csvs) >= 7
    for path in csvs:
        assert risky_cells(path) == [], path
    for folder in (stats, bundle):
        table = pd.read_csv(folder / "territory_stats.csv").set_index("territory_id")
        assert table["name"].tolist() == NEUTRALISED
        assert table.index.tolist() == [f"T{i}" for i in range(len(ATTACKS))], "no row injected"
        for column in ("claimed_ha", "titled_ha", "titled_pct", "concession_ha"):
            assert pd.api.types.is_float_dtype(table[column]), (folder, column)
        assert table.loc["T0", "titled_ha"] > 0
    overlaps = pd.read_csv(stats / "overlaps.csv")
    assert set(overlaps["holder"]) == {"'=cmd|' /C calc'!A0"}
    assert pd.api.types.is_float_dtype(overlaps["overlap_ha"])
    # Plain numbers written as text (the risk weight changes) stay as they were.
    assert set(pd.read_csv(stats / "risk_sensitivity.csv")["change"]) == {"-50%", "+50%"}


def test_negative_numbers_stay_numbers_and_text_numbers_keep_their_value(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "name": ["-5 km", "-5", "+3.5", "=1+1", "@x", "ok", None],
            "delta_ha": [-5.0, -12.5, 0.0, 3.25, -1e-3, 7.0, -0.5],
            "count": [-1, 2, -3, 4, 5, 6, 7],
        }
    )
    write_csv(table, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", keep_default_na=False, dtype={"name": str})
    assert back["name"].tolist() == ["'-5 km", "-5", "+3.5", "'=1+1", "'@x", "ok", ""]
    assert back["delta_ha"].tolist() == table["delta_ha"].tolist()
    assert back["count"].tolist() == table["count"].tolist()
    assert pd.api.types.is_float_dtype(back["delta_ha"])
    assert pd.api.types.is_integer_dtype(back["count"])


# --------------------------------------------------------------------------------------------
# 8. analysis.gpkg is byte-identical between identical runs
# --------------------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_geopackage_is_byte_identical_between_runs(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    for name in ("a", "b"):
        assert run(stats_args(inputs, tmp_path / name)).exit_code == 0
    assert sha256(tmp_path / "a" / "analysis.gpkg") == sha256(tmp_path / "b" / "analysis.gpkg")
    for name in ("c", "d"):
        assert run(publish_args(inputs, tmp_path / name)).exit_code == 0
    assert sha256(tmp_path / "c" / "analysis.gpkg") == sha256(tmp_path / "d" / "analysis.gpkg")


def test_overwrite_keeps_other_geotools_outputs_in_the_folder(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    """A map written into a stats folder is listed in its marker: a later stats --overwrite
    keeps it (it is geotools' but not the stats run's), and still refuses a user's file."""
    out = tmp_path / "out"
    assert run(stats_args(inputs, out)).exit_code == 0
    page = out / "map.html"
    assert run(["map", *layer_args(inputs), "--out", str(page)]).exit_code == 0
    before = page.read_bytes()
    assert run(stats_args(inputs, out, "--overwrite")).exit_code == 0
    assert page.read_bytes() == before
    (out / "mine.txt").write_text("mine")
    assert "mine.txt" in one_error_line(run(stats_args(inputs, out, "--overwrite")))
    assert (out / "mine.txt").read_text() == "mine" and page.read_bytes() == before
