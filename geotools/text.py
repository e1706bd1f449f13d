"""Data text made safe for a terminal or a log file: every control shown, never obeyed.

Names of territories and communities, file names, column names and values come from files
anyone can write. Printed raw, an ANSI/OSC escape sequence in a name (``\\x1b[2J`` clears the
screen, ``\\x1b]0;...\\x07`` retitles the window, ``\\x1b]8;;URL\\x07`` makes a hyperlink,
``\\x1b[8m`` hides the text after it), a carriage return (which overwrites the line), a newline
(which forges a line of its own) or a Unicode bidi override (U+202E, U+2066-2069, which reorders
what is displayed) would rewrite what an analyst reads in the terminal or in a log.

:func:`escape_terminal` is the one place that decides what may reach a terminal: C0 and C1
controls, DEL, Unicode format characters (bidi controls, zero-width and invisible characters,
tags), line and paragraph separators and lone surrogates (undecodable bytes of a file name) are
written as visible escapes (``\\x1b``, ``\\u202e``, ``\\r``); every printable character,
accented letters included ("Ñuñoa", "Asháninka"), is kept as it is. The CLI passes every line
it prints through it, and its logging formatter (:class:`TerminalSafeFormatter`) every log
record.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import traceback
import warnings
from types import TracebackType
from typing import TextIO, TypeAlias

__all__ = ["TerminalSafeFormatter", "escape_terminal", "safe_stderr_handler", "show_warning"]

#: Characters a terminal or log viewer may act on instead of showing: Unicode general categories
#: Cc (C0, DEL, C1), Cf (format: bidi embeddings, overrides and isolates, zero-width and
#: invisible characters, tags), Cs (surrogates), Zl and Zp (line and paragraph separators). The
#: ranges are a superset of those categories in Unicode 15 (tests/security/test_terminal.py
#: checks them against the running Python's ``unicodedata``).
UNSAFE_CHARACTERS = re.compile(
    "["
    "\x00-\x1f\x7f-\x9f"  # C0 controls (ESC, CR, LF, BEL...), DEL, C1 controls (CSI, OSC...)
    "\u00ad"  # soft hyphen (invisible)
    "\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"  # Arabic marks (ALM among them)
    "\u180e"  # Mongolian vowel separator
    "\u200b-\u200f"  # zero-width space, (non-)joiner, LRM, RLM
    "\u2028-\u202e"  # line and paragraph separators, LRE, RLE, PDF, LRO, RLO
    "\u2060-\u206f"  # word joiner, invisible operators, LRI, RLI, FSI, PDI, deprecated format
    "\ud800-\udfff"  # surrogates (a file name's undecodable bytes)
    "\ufeff\ufff9-\ufffb"  # zero-width no-break space (BOM), interlinear annotation
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e007f"  # tags: invisible copies of ASCII
    "]"
)

_ExcInfo: TypeAlias = (
    tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
)

_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape_terminal(text: object, *, keep_newlines: bool = False) -> str:
    """Return ``text`` with every control and invisible format character shown as an escape.

    Escapes are written as in Python: ``\\x1b``, ``\\x9b``, ``\\r``, ``\\n``, ``\\t``,
    ``\\u202e``, ``\\U000e0041``. Printable characters, whatever their script, are unchanged,
    and so is a backslash, so escaping twice changes nothing more.

    Parameters
    ----------
    text : object
        What is to be printed or logged; anything but a str is converted with ``str``.
    keep_newlines : bool, default False
        Keep ``\\n`` as a line break (for text whose lines geotools itself made, such as a
        traceback); by default a newline is escaped too, so a value cannot start a line of
        its own.

    Returns
    -------
    str
        The text, safe to write to a terminal or a log file.

    Examples
    --------
    >>> escape_terminal("Ñuñoa\\x1b[2J\\u202eAsháninka")
    'Ñuñoa\\\\x1b[2J\\\\u202eAsháninka'
    """
    text = text if isinstance(text, str) else str(text)
    if not UNSAFE_CHARACTERS.search(text):
        return text
    if keep_newlines:
        return "\n".join(UNSAFE_CHARACTERS.sub(_visible, line) for line in text.split("\n"))
    return UNSAFE_CHARACTERS.sub(_visible, text)


class TerminalSafeFormatter(logging.Formatter):
    """A logging formatter that escapes each record's message and traceback.

    The message (the format string with its arguments, which carry data: names, columns, file
    names, values) is escaped whole, newlines included, so one record is one line; a traceback
    keeps its line breaks and loses its controls. The record itself is left untouched, for any
    other handler.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Format a copy of ``record`` whose message is escaped (:func:`escape_terminal`).

        Parameters
        ----------
        record : logging.LogRecord
            The record, left as it is for other handlers.

        Returns
        -------
        str
            The formatted text: one line, then the traceback if the record has one.
        """
        safe = logging.makeLogRecord(record.__dict__)
        safe.msg = escape_terminal(record.getMessage())
        safe.args = None
        safe.exc_text = None  # recomputed (escaped) by formatException, never another's cache
        return super().format(safe)

    def formatException(self, ei: _ExcInfo) -> str:  # noqa: N802 (logging's name)
        """Format a traceback with its controls escaped: the frames keep their line breaks, the
        exception's message (which may quote data) is one line.

        Parameters
        ----------
        ei : tuple
            The ``exc_info`` tuple of the record.

        Returns
        -------
        str
            The traceback text.
        """
        if ei[0] is None:
            return escape_terminal(super().formatException(ei), keep_newlines=True)
        out = []
        for chunk in traceback.TracebackException(ei[0], ei[1], ei[2]).format():
            if chunk.startswith(("Traceback ", "  ", "\n")):  # frames, chain separators
                out.append(escape_terminal(chunk, keep_newlines=True))
            else:  # "ValueError: message": the message may hold newlines of its own
                out.append(escape_terminal(chunk.removesuffix("\n")) + "\n")
        return "".join(out).removesuffix("\n")

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 (logging's name)
        """Format stack information with its controls escaped, its line breaks kept.

        Parameters
        ----------
        stack_info : str
            The stack of the record.

        Returns
        -------
        str
            The stack text.
        """
        return escape_terminal(super().formatStack(stack_info), keep_newlines=True)


class _StderrHandler(logging.StreamHandler):
    """A handler writing to whatever ``sys.stderr`` is when a record comes (as logging's own
    last resort does), with the terminal-safe formatter."""

    def __init__(self, level: int) -> None:
        logging.Handler.__init__(self, level)
        self.setFormatter(TerminalSafeFormatter("%(name)s: %(levelname)s: %(message)s"))

    @property
    def stream(self) -> TextIO:
        return sys.stderr


def safe_stderr_handler(level: int = logging.WARNING) -> logging.Handler:
    """Return a stderr handler that escapes its records, for ``logging.lastResort``.

    Records of other libraries' loggers (GDAL messages through pyogrio name files and fields)
    reach ``logging.lastResort`` when no handler is configured for them; the CLI puts this one
    there so that they, too, show controls instead of sending them to the terminal.

    Parameters
    ----------
    level : int, default logging.WARNING
        Lowest level written (the last resort's own).

    Returns
    -------
    logging.Handler
        The handler.
    """
    return _StderrHandler(level)


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Write a Python warning as :func:`warnings.showwarning` does, its message escaped.

    A warning of a library may quote a file name, a column or a value: the CLI installs this
    as ``warnings.showwarning`` for the run of a command.

    Parameters
    ----------
    message : Warning or str
        The warning.
    category : type
        Its class.
    filename : str
        File of the code that warned.
    lineno : int
        Line of that code.
    file : file-like, optional
        Where to write; ``sys.stderr`` by default.
    line : str, optional
        The source line to show (read from ``filename`` when None).
    """
    text = warnings.formatwarning(
        escape_terminal(message), category, escape_terminal(filename), lineno, line
    )
    stream = file if file is not None else sys.stderr
    with contextlib.suppress(OSError):  # as warnings.showwarning: a closed stderr loses it
        stream.write(escape_terminal(text, keep_newlines=True))
