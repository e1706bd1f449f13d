"""Write the bundled, INVENTED demo dataset (Ucayali, Peru) into data/raw/.

Usage::

    python scripts/make_demo_data.py                 # refuses to overwrite existing files
    python scripts/make_demo_data.py --overwrite
    python scripts/make_demo_data.py --out /tmp/demo

All the work is done by :func:`geotools.demo.data.write_demo_data`; the output is byte-identical
on every run. See data/raw/README.md for what the files contain.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from geotools.demo.data import write_demo_data
from geotools.errors import GeotoolsError

REPO_ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, write the demo data and list the files written.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit code: 0 on success, 1 on a geotools error (such as an existing output).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO_ROOT / "data" / "raw",
        help="output folder (default: data/raw in the repository)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        paths = write_demo_data(args.out, overwrite=args.overwrite)
    except GeotoolsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for key, path in paths.items():
        print(f"{key:15s} {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
