"""The CLI's printing: every line a command prints, and every usage error, escaped.

Names, file names, columns and values come from files anyone can write; an escape sequence, a
carriage return, a newline or a bidi override in them must show, not act
(:func:`geotools.text.escape_terminal`; tests/security/test_terminal.py). Commands print with
:func:`echo`, never ``click.echo``; the command group is an :class:`EscapingGroup`. Log records
are escaped by the formatter :func:`geotools.cli.options.configure_logging` installs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import click

from geotools.text import escape_terminal


def echo(text: str, err: bool = False) -> None:
    """Print one line of a command's output, its controls escaped (:func:`escape_terminal`).

    Every line a command prints goes through here: names, file names, columns and values in it
    come from files anyone can write, and an escape sequence, a carriage return, a newline or a
    bidi override in them must show, not act (tests/security/test_terminal.py).

    Parameters
    ----------
    text : str
        The line (without its newline).
    err : bool, default False
        Print to stderr instead of stdout.
    """
    click.echo(escape_terminal(text), err=err)


@contextlib.contextmanager
def _escaped_click_errors() -> Iterator[None]:
    """Escape the message of a click error raised inside (click prints it as it is)."""
    try:
        yield
    except click.ClickException as exc:
        exc.message = escape_terminal(exc.message)  # type: ignore[misc]  # Final in the stubs
        raise


class EscapingGroup(click.Group):
    """The ``geotools`` command group: usage errors are printed with their controls escaped.

    A usage error may quote a value, a column or a file name (click's own ``File '...' is a
    directory`` included, for a file name a script took from a folder); its message goes
    through :func:`geotools.text.escape_terminal`, as every other line the CLI prints.
    """

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Parse the group's own options and the command name, errors escaped.

        Parameters
        ----------
        info_name : str or None
            The program name.
        args : list of str
            The command line.
        parent : click.Context, optional
            The parent context.
        **extra : Any
            Context settings, passed to click.

        Returns
        -------
        click.Context
            The group's context.
        """
        with _escaped_click_errors():
            return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        """Parse the command's options and run it, errors escaped.

        Parameters
        ----------
        ctx : click.Context
            The group's context.

        Returns
        -------
        Any
            What the command returns.
        """
        with _escaped_click_errors():
            return super().invoke(ctx)
