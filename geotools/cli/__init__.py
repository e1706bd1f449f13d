"""The ``geotools`` command line (:mod:`geotools.cli.commands`), with the options its commands
share defined once (:mod:`geotools.cli.options`).

``main`` is the entry point (``[project.scripts] geotools = "geotools.cli:main"``).
"""

from geotools.cli.commands import main

__all__ = ["main"]
