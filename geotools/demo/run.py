"""The demo run (``geotools demo``): the whole pipeline on the bundled, invented Ucayali data.

Reads the demo layers (from the checkout's ``data/raw/``, or written afresh by
:func:`geotools.demo.data.write_demo_data` when geotools is installed without a checkout),
writes the statistics, the public download bundle, the risk surface, the risk map and its static
PNG maps.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from geotools.demo.data import write_demo_data
from geotools.maps import compute_map_hexagons, write_map_html, write_static_map_files
from geotools.outputs import check_outputs_free
from geotools.pipeline import (
    SURFACE_OUTPUTS,
    RunResult,
    run_stats,
    write_risk_surface_outputs,
)
from geotools.publish import DEMO_SECRET, PublishOptions, publish_bundle
from geotools.schema import Lang

#: Demo layer files in ``data/raw/``, by layer kind.
DEMO_FILES = {
    "territories": "territories.geojson",
    "parcels": "parcels.geojson",
    "concessions": "concessions.geojson",
    "incidents": "incidents.csv",
    "infrastructure": "infrastructure.geojson",
}


def find_checkout() -> Path | None:
    """Return the repository root when geotools runs from a checkout with bundled demo data."""
    root = Path(__file__).resolve().parents[2]
    if (root / "data" / "raw" / "territories.geojson").exists() and (root / "geotools").is_dir():
        return root
    return None


def run_demo(
    out: str | os.PathLike[str] | None = None, *, overwrite: bool = False, lang: Lang = "es"
) -> dict[str, Any]:
    """Run the whole pipeline on the bundled demo data (``geotools demo``).

    Parameters
    ----------
    out : str or path-like, optional
        Root folder; outputs go to ``OUT/data/processed/`` and ``OUT/maps/``. Defaults to the
        checkout root, or ``./geotools-demo`` when geotools is installed without a checkout.
    overwrite : bool, default False
        Replace earlier demo outputs.
    lang : {"es", "en"}, default "es"
        Map language.

    Returns
    -------
    dict
        ``{"result": RunResult, "processed": Path, "map": Path}``; the static PNG maps are
        in ``maps/static/`` and the public download bundle in ``data/processed/public/``.
    """
    checkout = find_checkout()
    root = Path(out) if out is not None else (checkout or Path.cwd() / "geotools-demo")
    processed = root / "data" / "processed"
    map_path = root / "maps" / "risk_map.html"
    check_outputs_free(map_path.parent, [map_path.name], overwrite=overwrite)
    check_outputs_free(processed, SURFACE_OUTPUTS, overwrite=overwrite)
    check_outputs_free(processed, ["public"], overwrite=overwrite)
    with tempfile.TemporaryDirectory(prefix="geotools-demo-") as scratch:
        if checkout is not None:
            raw = checkout / "data" / "raw"
        else:
            raw = Path(scratch)
            write_demo_data(raw)
        paths = {kind: raw / name for kind, name in DEMO_FILES.items() if (raw / name).exists()}
        raster = raw / "forest_loss.tif"
        run = run_stats(
            paths, processed, overwrite=overwrite, forest_loss=raster if raster.exists() else None
        )
        run.written.append(
            write_demo_bundle(run, processed / "public", raster, lang, overwrite=overwrite)
        )
    run.written.extend(
        write_risk_surface_outputs(run.stats, run.layers, processed, overwrite=overwrite)
    )
    hexagons = compute_map_hexagons(run.stats, run.layers, profile="public")
    written_map = write_map_html(
        run.stats, run.layers, map_path, lang=lang, overwrite=overwrite, hexagons=hexagons
    )
    run.written.append(written_map)
    run.written.extend(
        write_static_map_files(
            run.stats, run.layers, root / "maps" / "static", lang=lang, overwrite=overwrite
        )
    )
    return {"result": run, "processed": processed, "map": written_map}


def write_demo_bundle(
    run: RunResult, out: Path, raster: Path, lang: Lang, *, overwrite: bool
) -> Path:
    """Write the demo's public download bundle (``data/processed/public/``).

    The displacement key is :data:`geotools.publish.DEMO_SECRET`, which is public: acceptable
    only because every demo location is invented (see docs/publish.md).

    Parameters
    ----------
    run : RunResult
        The demo's stats run; its layers are published.
    out : pathlib.Path
        Bundle folder to write.
    raster : pathlib.Path
        Demo forest-loss GeoTIFF; used only when it exists.
    lang : Lang
        Language of the bundle's texts.
    overwrite : bool
        Replace a bundle an earlier run wrote.

    Returns
    -------
    pathlib.Path
        The bundle folder written.
    """
    options = PublishOptions(secret=DEMO_SECRET, lang=lang, overwrite=overwrite)
    report = publish_bundle(
        run.layers, out, options, forest_loss=raster if raster.exists() else None
    )
    return report.out
