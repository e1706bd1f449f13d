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


class PrivacyError(GeotoolsError, ValueError):
    """A privacy rule cannot be applied (no secret key for displacement, bad parameters...)."""


class BundleError(GeotoolsError, ValueError):
    """A bundle cannot be written (bad option, unsafe target folder...)."""


class MapAssetError(GeotoolsError, OSError):
    """A map asset (script, style sheet, font) cannot be downloaded, verified, found in the cache
    or inlined into a page."""


class LeakError(GeotoolsError):
    """The leak check found a withheld value or a too-precise location in a bundle file.

    A refusal, not a bad value: the options were valid, the bundle they produced is not safe to
    share, so it is left out (not a :class:`ValueError`).
    """


def first_line(exc: BaseException) -> str:
    """Return the first line of an exception's message (its type name when it has none).

    Parameters
    ----------
    exc : BaseException
        Any exception.

    Returns
    -------
    str
        The first line of ``str(exc)`` with surrounding white space dropped, or the exception's
        class name when the message is empty.

    Examples
    --------
    >>> first_line(OSError("disk full\\nmore detail"))
    'disk full'
    >>> first_line(ValueError())
    'ValueError'
    """
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
