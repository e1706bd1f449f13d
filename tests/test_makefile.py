"""`make demo` installs only what the demo needs, with progress; `make test` adds the extras.

Issue 13, item 13: `make demo` used to install the test, dev and bench extras with pip
--quiet (minutes of silence, 1.2 GB). Checked with `make -n` (print, do not run) against a
venv path that does not exist, so every install step is printed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def planned(target: str, tmp_path: Path) -> list[str]:
    proc = subprocess.run(
        [
            "make",
            "-n",
            "--no-print-directory",
            "-C",
            str(REPO),
            f"VENV={tmp_path / 'venv'}",
            target,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.splitlines()


def installs(lines: list[str]) -> list[str]:
    return [line for line in lines if "pip install" in line]


def test_demo_installs_the_runtime_only_and_shows_progress(tmp_path: Path) -> None:
    lines = planned("demo", tmp_path)
    pip = installs(lines)
    assert pip, lines
    assert not any("--quiet" in line or " -q" in line for line in pip)
    assert not any("[" in line for line in pip)  # no extras at all
    assert any(line.endswith("-e .") for line in pip)
    assert lines[-1].endswith("geotools demo --overwrite")


def test_test_adds_the_test_and_dev_extras(tmp_path: Path) -> None:
    lines = planned("test", tmp_path)
    pip = installs(lines)
    assert any('".[test,dev]"' in line for line in pip)
    assert not any("bench" in line or "--quiet" in line for line in pip)
    assert lines[-3:] == [
        f"{tmp_path / 'venv'}/bin/ruff check .",
        f"{tmp_path / 'venv'}/bin/mypy",
        f"{tmp_path / 'venv'}/bin/python -m pytest",
    ]


def test_ci_entry_point_still_runs_make_test() -> None:
    assert (REPO / ".ci" / "run").read_text(encoding="utf-8").rstrip().endswith("make test")
