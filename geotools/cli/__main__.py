"""``python -m geotools.cli``: the same as the ``geotools`` command."""

from geotools.cli.commands import main

if __name__ == "__main__":  # pragma: no cover
    main()
