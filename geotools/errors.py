"""Exception hierarchy: every error geotools raises on purpose derives from GeotoolsError.

The CLI turns a GeotoolsError into one line on stderr and exit code 1, so messages are written for
the user: they name the file, the problem and the fix. Each class also derives from the builtin
exception it refines (``SourceError`` is an ``OSError``, ``CRSError`` and ``ValidationError`` are
``ValueError``, ``OutputExistsError`` is a ``FileExistsError``), so code that catches the
builtin keeps working.
"""

from __future__ import annotations

from typing import Any


class GeotoolsError(Exception):
    """Root of all geotools errors."""


class SourceError(GeotoolsError, OSError):
    """An input file cannot be found, opened or understood."""


class CRSError(GeotoolsError, ValueError):
    """A layer has no coordinate reference system, or one that cannot be right."""


class ValidationError(GeotoolsError, ValueError):
    """A layer failed validation; ``report`` holds the QA ledger as a dict."""

    def __init__(self, message: str, report: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.report = report or {}


class OutputExistsError(GeotoolsError, FileExistsError):
    """An output would overwrite an existing file and ``overwrite`` was not given."""


class ForeignFilesError(OutputExistsError):
    """``--overwrite`` was asked for a folder holding files geotools did not write."""


class OutputError(GeotoolsError, OSError):
    """An output cannot be written: read-only or full disk, no permission, a symbolic link."""


class OutputLockedError(OutputError):
    """Another geotools run is writing the same output."""
