"""Provenance sidecars: what went in, with which options and method, to make each output."""

from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import pyproj
import shapely

from geotools._version import __version__
from geotools.crs import describe_crs
from geotools.validation import Ledger

AREA_METHOD = (
    "Hectares are measured in an Albers equal-area conic projection on the WGS84 ellipsoid "
    "(exactly equal-area); edges are geodesics between vertices (edges over 2 km are densified "
    "along the geodesic first), as in pyproj.Geod. "
    "Each run compares this with geodesic areas from pyproj.Geod on the largest territories "
    "(area_check). Unions are computed before measuring, so overlapping parcels or concessions are "
    "counted once."
)
CAVEATS = (
    "Statistics are only as good as the input layers: boundaries digitised at different scales "
    "or dates can create slivers of overlap or gap.",
    "Expired concessions are listed in overlaps.csv but not counted in concession_ha.",
    "incidents_nearby counts incidents outside a territory within the geodesic distance "
    "nearby_km of its boundary; an incident can be nearby several territories.",
    "concession_<kind>_ha can add up to more than concession_ha where concessions of different "
    "kinds overlap each other.",
)


class InputLayer(Protocol):
    """What provenance records of an input layer; :class:`geotools.io.Layer` is one.

    Provenance sits below the readers (it is a check, not a reader), so it names the attributes
    it reads instead of importing the reader's class.
    """

    @property
    def kind(self) -> str:
        """Layer kind (``territories``, ``parcels``, ...)."""
        ...

    @property
    def path(self) -> Path:
        """The file read."""
        ...

    @property
    def sha256(self) -> str:
        """Checksum of the file read."""
        ...

    @property
    def files(self) -> tuple[tuple[Path, str], ...]:
        """Every file read into the layer and its checksum (several files: one layer)."""
        ...

    @property
    def ledger(self) -> Ledger:
        """What happened to every feature read."""
        ...


def build_provenance(
    layers: Iterable[InputLayer],
    options: dict[str, Any],
    facts: dict[str, Any],
    rasters: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """Return the provenance record written beside every output.

    Parameters
    ----------
    layers : iterable of InputLayer
        Inputs read (path, SHA-256 and QA counts are recorded).
    options : dict
        Options of the run.
    facts : dict
        Run facts (area CRS, area self-check, features outside every territory...).
    rasters : iterable of dict
        Raster inputs as ``{"layer", "path", "sha256"}``.

    Returns
    -------
    dict
        JSON-ready record.
    """
    inputs = []
    for layer in layers:
        ledger = layer.ledger.to_dict()
        inputs.append(
            {
                "layer": layer.kind,
                "path": str(layer.path),
                "sha256": layer.sha256,
                "crs": ledger["notes"].get("crs"),
                "read": ledger["read"],
                "valid": ledger["valid"],
                "repaired": ledger["repaired"],
                "rejected": ledger["rejected"],
            }
        )
        if len(layer.files) > 1:
            inputs[-1]["files"] = [
                {"path": str(path), "sha256": digest} for path, digest in layer.files
            ]
    inputs.extend(dict(raster) for raster in rasters)
    return {
        "tool": "geotools",
        "version": __version__,
        "created_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "inputs": inputs,
        "options": options,
        "area_method": AREA_METHOD,
        "facts": facts,
        "caveats": list(CAVEATS),
        "software": {
            "python": platform.python_version(),
            "geopandas": gpd.__version__,
            "shapely": shapely.__version__,
            "geos": ".".join(map(str, shapely.geos_version)),
            "pyproj": pyproj.__version__,
            "proj": pyproj.proj_version_str,
        },
    }


def describe_area_crs(crs: pyproj.CRS) -> dict[str, str]:
    """Return a JSON-ready description of the area CRS.

    Parameters
    ----------
    crs : pyproj.CRS
        The equal-area CRS areas were measured in.

    Returns
    -------
    dict of str to str
        ``label`` (``EPSG:<code>`` or the CRS's name), ``definition`` (the CRS as given, e.g. a
        PROJ string) and ``wkt``.
    """
    return {"label": describe_crs(crs), "definition": crs.srs, "wkt": crs.to_wkt()}
