"""The bundled demo dataset: an INVENTED illustration set in Ucayali, Peru (Nueva Requena area).

:func:`write_demo_data` writes six layers and a README into a folder. Everything is built from
constants in this module, with no randomness, so every run writes byte-identical files (for a given
GEOS/GDAL/zlib build).

The data tell the story of the founding case, the Shipibo-Conibo native community of Santa Clara
de Uchunya: it claims 8,600 ha (geodesic) of which only 200 ha are titled, in two overlapping
titled parcels; most of the untitled rest lies under three overlapping palm-oil concessions,
where about 7,000 ha of forest were cleared in 2012-2015. Four other communities
with invented names show other situations (mostly titled, titled plus forest land in cession in
use, titling in process, an oil block and a forestry concession, an expired concession, a
MultiPolygon, a hole, a parcel across a shared boundary, features outside every territory).

The geometries, the names of companies and communities other than Santa Clara de Uchunya, and
all ids are INVENTED. Place names and the incidents at Santa Clara de Uchunya and Nueva Requena
are drawn from public reports; the other incidents are invented. No personal names appear.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
from pyproj import Geod
from rasterio.io import MemoryFile
from rasterio.transform import Affine
from shapely import affinity
from shapely.geometry import LineString, MultiPolygon, Polygon, box, mapping

from geotools.errors import OutputExistsError

log = logging.getLogger(__name__)

__all__ = [
    "DEMO_FILE_NAMES",
    "FOREST_LOSS_BOUNDS",
    "FOREST_LOSS_PIXEL_DEG",
    "SANTA_CLARA_CLAIMED_HA",
    "SANTA_CLARA_ID",
    "SANTA_CLARA_TITLED_HA",
    "pixel_area_ha_by_row",
    "write_demo_data",
]

#: File written for each layer key returned by :func:`write_demo_data`.
DEMO_FILE_NAMES: dict[str, str] = {
    "territories": "territories.geojson",
    "parcels": "parcels.geojson",
    "concessions": "concessions.geojson",
    "incidents": "incidents.csv",
    "infrastructure": "infrastructure.geojson",
    "forest_loss": "forest_loss.tif",
    "readme": "README.md",
}

SANTA_CLARA_ID = "T01"
#: Geodesic (WGS84 ellipsoid) hectares claimed by Santa Clara de Uchunya in the demo.
SANTA_CLARA_CLAIMED_HA = 8600.0
#: Geodesic hectares of the union of Santa Clara de Uchunya's titled parcels in the demo.
SANTA_CLARA_TITLED_HA = 200.0

#: Raster grid of ``forest_loss.tif``: EPSG:4326, west, south, east, north edges in degrees.
FOREST_LOSS_BOUNDS = (-74.95, -8.65, -74.35, -8.05)
#: Pixel size of ``forest_loss.tif`` in degrees (about 110 m, about 1.22 ha at 8.4 S).
FOREST_LOSS_PIXEL_DEG = 0.001
#: Target of cleared hectares in 2012-2015 (the actual figure is reported in the README).
_LOSS_TARGET_HA = 7000.0
#: Share of the 2012-2015 clearing by year (Hansen lossyear 12..15).
_LOSS_YEAR_SHARES = ((12, 0.16), (13, 0.30), (14, 0.34), (15, 0.20))
_NODATA = 255

_GEOD = Geod(ellps="WGS84")
_M2_PER_HA = 10_000.0
_NDIGITS = 7  # decimal places of written coordinates (about 1 cm)

_DEMO = "ILLUSTRATIVE DEMO DATA - invented geometry"
_SC_REPORTS = (
    "public reports on the Santa Clara de Uchunya case: Forest Peoples Programme, EJAtlas, "
    "Mongabay, OjoPublico"
)
SRC_SC = f"{_DEMO}; based on {_SC_REPORTS}"
SRC_INVENTED = f"{_DEMO}; invented situation for illustration, not a real community"
SRC_CONCESSION_SC = (
    f"{_DEMO} and invented holder; based on {_SC_REPORTS} (oil-palm plantations on the "
    "community's untitled land)"
)
SRC_INVENTED_CONCESSION = f"{_DEMO} and invented holder; invented for illustration"
SRC_INCIDENT_SC = (
    "ILLUSTRATIVE DEMO DATA - invented location; incident summarised from public NGO and press "
    "reports on the Santa Clara de Uchunya case"
)
SRC_INCIDENT_NR = (
    "ILLUSTRATIVE DEMO DATA - invented location; incident drawn from public press reports "
    "of a land conflict in Nueva Requena district, Ucayali (September 2017)"
)
SRC_INCIDENT_INVENTED = "ILLUSTRATIVE DEMO DATA - invented incident and location"
SRC_LINE = f"{_DEMO}; illustrative alignment, not surveyed"

# --------------------------------------------------------------------------------------------
# Geometry helpers
# --------------------------------------------------------------------------------------------


def _geodesic_ha(geom: shapely.Geometry) -> float:
    """Return the geodesic area of a lon/lat geometry in hectares (WGS84 ellipsoid)."""
    if geom is None or shapely.is_empty(geom):
        return 0.0
    oriented = shapely.orient_polygons(geom, exterior_cw=False)
    return abs(_GEOD.geometry_area_perimeter(oriented)[0]) / _M2_PER_HA


def _finish(geom: shapely.Geometry) -> shapely.Geometry:
    """Round coordinates to :data:`_NDIGITS` decimals and orient rings as RFC 7946 asks."""
    rounded = shapely.transform(geom, lambda xy: np.round(xy, _NDIGITS))
    return shapely.orient_polygons(rounded, exterior_cw=False)


def _bisect_scale(
    make: Callable[[float], shapely.Geometry],
    measure: Callable[[shapely.Geometry], float],
    target: float,
    low: float,
    high: float,
    tolerance: float,
) -> shapely.Geometry:
    """Find the scale factor whose geometry measures ``target`` (``measure`` must grow with it).

    Parameters
    ----------
    make : callable
        Scale factor -> finished (rounded) geometry.
    measure : callable
        Geometry -> hectares.
    target : float
        Hectares wanted.
    low, high : float
        Bracket of the scale factor.
    tolerance : float
        Accepted absolute difference in hectares.

    Returns
    -------
    shapely.Geometry
        The geometry closest to ``target`` found.

    Raises
    ------
    RuntimeError
        If no factor within the bracket reaches ``tolerance``.
    """
    best, best_err = make(low), float("inf")
    for _ in range(80):
        mid = (low + high) / 2.0
        geom = make(mid)
        value = measure(geom)
        err = abs(value - target)
        if err < best_err:
            best, best_err = geom, err
        if err <= tolerance / 10.0:
            break
        if value < target:
            low = mid
        else:
            high = mid
    if best_err > tolerance:
        raise RuntimeError(f"demo geometry could not be tuned to {target} ha (off by {best_err})")
    return best


def _scaled(geom: shapely.Geometry, origin: shapely.Point) -> Callable[[float], shapely.Geometry]:
    def make(factor: float) -> shapely.Geometry:
        return _finish(affinity.scale(geom, factor, factor, origin=origin))

    return make


def _poly(coords: Sequence[tuple[float, float]], holes: Sequence[Any] = ()) -> Polygon:
    return Polygon(coords, [list(h) for h in holes])


def _clip(geom: shapely.Geometry, zone: shapely.Geometry) -> shapely.Geometry:
    """Intersection rounded and oriented; polygonal part only."""
    part = shapely.intersection(geom, zone)
    if part.geom_type not in ("Polygon", "MultiPolygon"):
        polys = [g for g in shapely.get_parts(part) if g.geom_type == "Polygon"]
        part = MultiPolygon(polys) if len(polys) > 1 else polys[0]
    return _finish(part)


# --------------------------------------------------------------------------------------------
# The invented geography (lon, lat in EPSG:4326)
# --------------------------------------------------------------------------------------------

# Santa Clara de Uchunya, before scaling to exactly 8,600 ha (village on the east, river side).
_SC_RAW = (
    (-74.8334, -8.3080),
    (-74.7973, -8.3000),
    (-74.7653, -8.3048),
    (-74.7396, -8.3120),
    (-74.7316, -8.3320),
    (-74.7364, -8.3528),
    (-74.7452, -8.3721),
    (-74.7717, -8.3817),
    (-74.8013, -8.3785),
    (-74.8277, -8.3705),
    (-74.8390, -8.3480),
    (-74.8374, -8.3256),
)
# Two overlapping titled parcels at the village; the second is scaled so the union is 200 ha.
_SC_TITLE_A = ((-74.7480, -8.3300), (-74.7375, -8.3290), (-74.7370, -8.3395), (-74.7478, -8.3405))
_SC_TITLE_B = ((-74.7455, -8.3220), (-74.7385, -8.3215), (-74.7378, -8.3335), (-74.7450, -8.3340))
# Three palm-oil concessions overlapping each other a little; C01 reaches outside the territory.
_PALM_1 = (
    (-74.8500, -8.2960),
    (-74.8040, -8.2930),
    (-74.7975, -8.3300),
    (-74.7990, -8.3740),
    (-74.8100, -8.3920),
    (-74.8490, -8.3900),
)
_PALM_2 = (
    (-74.8030, -8.3040),
    (-74.7700, -8.3080),
    (-74.7640, -8.3420),
    (-74.7700, -8.3770),
    (-74.8020, -8.3770),
)
_PALM_3 = (
    (-74.7730, -8.3430),
    (-74.7530, -8.3400),
    (-74.7450, -8.3600),
    (-74.7590, -8.3715),
    (-74.7740, -8.3730),
)
# A creek through Santa Clara: its riparian strip is left uncleared in the loss raster.
_CREEK = (
    (-74.8450, -8.3420),
    (-74.8150, -8.3500),
    (-74.7900, -8.3560),
    (-74.7620, -8.3480),
    (-74.7300, -8.3420),
)

# T02 Puerto Ejemplo (invented): mostly titled; an expired mining concession on its west side.
_T02_RAW = (
    (-74.6350, -8.1600),
    (-74.6000, -8.1520),
    (-74.5700, -8.1650),
    (-74.5620, -8.1950),
    (-74.5750, -8.2220),
    (-74.6100, -8.2300),
    (-74.6380, -8.2120),
    (-74.6450, -8.1850),
)
_T02_UNTITLED_CUT = (
    (-74.6500, -8.1500),
    (-74.6150, -8.1500),
    (-74.6280, -8.2000),
    (-74.6500, -8.2000),
)

# T03 Nuevo Ejemplo (invented): MultiPolygon (main block and an annex across a stream).
_T03_MAIN = (
    (-74.5200, -8.4700),
    (-74.4800, -8.4620),
    (-74.4480, -8.4750),
    (-74.4420, -8.5050),
    (-74.4580, -8.5300),
    (-74.4950, -8.5360),
    (-74.5220, -8.5150),
)
_T03_ANNEX = ((-74.4330, -8.5400), (-74.4150, -8.5370), (-74.4100, -8.5550), (-74.4280, -8.5600))

# T04 Alto Ejemplo and T05 Bajo Ejemplo (invented) share this boundary, north to south.
# (-74.8165, -8.545) and (-74.875, -8.545) are vertices on straight runs, where T04's titling
# request (P06) ends: sharing vertices, not just edges, keeps the layers free of slivers in any
# projection.
_SHARED_EDGE = (
    (-74.8150, -8.4700),
    (-74.8120, -8.5000),
    (-74.8180, -8.5300),
    (-74.8165, -8.5450),
    (-74.8140, -8.5700),
)
_T04_WEST = (
    (-74.8450, -8.5750),
    (-74.8720, -8.5600),
    (-74.8750, -8.5450),
    (-74.8800, -8.5200),
    (-74.8700, -8.4850),
    (-74.8450, -8.4680),
)
_T05_EAST = (
    (-74.7800, -8.5680),
    (-74.7520, -8.5450),
    (-74.7420, -8.5100),
    (-74.7500, -8.4780),
    (-74.7800, -8.4650),
)
_T05_HOLE = (
    (-74.7900, -8.5080),
    (-74.7800, -8.5060),
    (-74.7740, -8.5140),
    (-74.7790, -8.5230),
    (-74.7890, -8.5220),
    (-74.7940, -8.5150),
)

_OUTSIDE_PARCEL = (
    (-74.7050, -8.2450),
    (-74.6900, -8.2440),
    (-74.6890, -8.2580),
    (-74.7040, -8.2590),
)


@dataclass(frozen=True)
class _Layers:
    """Everything :func:`write_demo_data` writes, built in memory."""

    territories: list[dict[str, Any]]
    parcels: list[dict[str, Any]]
    concessions: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    infrastructure: list[dict[str, Any]]
    loss: np.ndarray


def _territories() -> list[dict[str, Any]]:
    sc_raw = _poly(_SC_RAW)
    sc = _bisect_scale(
        _scaled(sc_raw, sc_raw.centroid), _geodesic_ha, SANTA_CLARA_CLAIMED_HA, 0.9, 1.1, 0.01
    )
    t02_raw = _poly(_T02_RAW)
    t02 = _bisect_scale(_scaled(t02_raw, t02_raw.centroid), _geodesic_ha, 3150.0, 0.5, 1.0, 0.01)
    t03 = _finish(MultiPolygon([_poly(_T03_MAIN), _poly(_T03_ANNEX)]))
    t04 = _finish(_poly((*_SHARED_EDGE, *_T04_WEST)))
    t05 = _finish(_poly((*_SHARED_EDGE, *_T05_EAST), holes=[_T05_HOLE]))
    rows = [
        ("T01", "Santa Clara de Uchunya", "Shipibo-Conibo", SRC_SC, "2014-11-03", sc),
        ("T02", "Puerto Ejemplo", "Shipibo-Conibo", SRC_INVENTED, "2009-05-18", t02),
        ("T03", "Nuevo Ejemplo", "Asháninka", SRC_INVENTED, "2011-08-22", t03),
        ("T04", "Alto Ejemplo", "Cacataibo", SRC_INVENTED, "2018-02-12", t04),
        ("T05", "Bajo Ejemplo", "Shipibo-Conibo", SRC_INVENTED, "2015-06-30", t05),
    ]
    return [
        {
            "territory_id": tid,
            "name": name,
            "people": people,
            "community": "native community",
            "claim_source": source,
            "claim_date": date,
            "geometry": geom,
        }
        for tid, name, people, source, date, geom in rows
    ]


def _parcels(territories: dict[str, shapely.Geometry]) -> list[dict[str, Any]]:
    sc = territories["T01"]
    title_a = _finish(_poly(_SC_TITLE_A))
    raw_b = _poly(_SC_TITLE_B)

    def titled_union_in_sc(title_b: shapely.Geometry) -> float:
        return _geodesic_ha(shapely.intersection(shapely.union(title_a, title_b), sc))

    title_b = _bisect_scale(
        _scaled(raw_b, raw_b.centroid), titled_union_in_sc, SANTA_CLARA_TITLED_HA, 0.5, 1.5, 0.005
    )
    t02 = territories["T02"]
    t02_titled = _finish(shapely.difference(t02, _poly(_T02_UNTITLED_CUT)))
    t03_main = _finish(_poly(_T03_MAIN))
    t03_titled = _clip(t03_main, box(-74.53, -8.55, -74.4797, -8.45))
    t03_cession = _clip(t03_main, box(-74.4805, -8.55, -74.4550, -8.45))
    t05 = territories["T05"]
    # The northern part of T04, built from T04's own vertices (not by clipping) so that it
    # shares the T04/T05 boundary exactly and leaves no sliver in T05.
    t04_request = _finish(_poly((*_SHARED_EDGE[:4], *_T04_WEST[2:])))
    across = _finish(
        _poly(((-74.8300, -8.5480), (-74.8000, -8.5500), (-74.8010, -8.5640), (-74.8290, -8.5650)))
    )
    t05_demarcated = _clip(t05, box(-74.80, -8.50, -74.74, -8.46))
    outside = _finish(_poly(_OUTSIDE_PARCEL))
    src_sc = f"{_DEMO}; invented registry data; based on {_SC_REPORTS}"
    src_inv = f"{_DEMO}; invented registry data for illustration"
    rows = [
        ("P01", "titled", "T01", "1986-07-15", "DEMO-REG-0001", src_sc, title_a),
        ("P02", "titled", "T01", "1998-03-09", "DEMO-REG-0002", src_sc, title_b),
        ("P03", "titled", "T02", "1991-10-02", "DEMO-REG-0003", src_inv, t02_titled),
        ("P04", "titled", "T03", "1993-04-27", "DEMO-REG-0004", src_inv, t03_titled),
        ("P05", "cession_in_use", "T03", "2004-12-01", "DEMO-REG-0005", src_inv, t03_cession),
        ("P06", "in_process", "T04", None, None, src_inv, t04_request),
        ("P07", "titled", "T05", "2001-06-19", "DEMO-REG-0007", src_inv, across),
        ("P08", "demarcated", "T05", None, "DEMO-REG-0008", src_inv, t05_demarcated),
        ("P09", "titled", None, "2010-01-25", "DEMO-REG-0009", src_inv, outside),
    ]
    return [
        {
            "parcel_id": pid,
            "tenure": tenure,
            "territory_id": tid,
            "title_date": date,
            "registry_ref": ref,
            "source": source,
            "geometry": geom,
        }
        for pid, tenure, tid, date, ref, source, geom in rows
    ]


def _concessions() -> list[dict[str, Any]]:
    rows = [
        (
            "C01",
            "agribusiness",
            "active",
            "Palmas Ficticias del Oriente S.A.C. (fictional)",
            "2012-03-14",
            SRC_CONCESSION_SC,
            _PALM_1,
        ),
        (
            "C02",
            "agribusiness",
            "active",
            "Aceites Imaginarios S.A. (fictional)",
            "2012-09-05",
            SRC_CONCESSION_SC,
            _PALM_2,
        ),
        (
            "C03",
            "agribusiness",
            "active",
            "Agroinventada Amazonica S.A.C. (fictional)",
            "2013-05-20",
            SRC_CONCESSION_SC,
            _PALM_3,
        ),
        (
            "C04",
            "oil_gas",
            "active",
            "Petrolera Imaginaria S.A. (fictional)",
            "2006-11-30",
            SRC_INVENTED_CONCESSION,
            (
                (-74.9300, -8.5300),
                (-74.8400, -8.5350),
                (-74.8000, -8.5600),
                (-74.7900, -8.6300),
                (-74.9300, -8.6400),
            ),
        ),
        (
            "C05",
            "forestry",
            "active",
            "Maderera Ficticia E.I.R.L. (fictional)",
            "2008-04-11",
            SRC_INVENTED_CONCESSION,
            (
                (-74.7700, -8.4900),
                (-74.7350, -8.4850),
                (-74.7200, -8.5200),
                (-74.7380, -8.5600),
                (-74.7680, -8.5500),
            ),
        ),
        (
            "C06",
            "mining",
            "expired",
            "Minera Inexistente S.A.C. (fictional)",
            "1999-08-16",
            SRC_INVENTED_CONCESSION,
            ((-74.6650, -8.1700), (-74.6250, -8.1680), (-74.6220, -8.2050), (-74.6600, -8.2100)),
        ),
        (
            "C07",
            "forestry",
            "in_process",
            "Forestal de Ejemplo S.A.C. (fictional)",
            "2021-02-08",
            SRC_INVENTED_CONCESSION,
            ((-74.5200, -8.2350), (-74.4550, -8.2300), (-74.4500, -8.2900), (-74.5150, -8.2950)),
        ),
        (
            "C08",
            "other",
            "in_process",
            "Proyecto Vial Ficticio S.A.C. (fictional)",
            "2022-07-01",
            SRC_INVENTED_CONCESSION,
            ((-74.4400, -8.5300), (-74.4050, -8.5280), (-74.4000, -8.5500), (-74.4350, -8.5520)),
        ),
    ]
    return [
        {
            "concession_id": cid,
            "kind": kind,
            "status": status,
            "holder": holder,
            "granted_date": date,
            "source": source,
            "geometry": _finish(_poly(coords)),
        }
        for cid, kind, status, holder, date, source, coords in rows
    ]


def _infrastructure() -> list[dict[str, Any]]:
    pipe_1 = _finish(
        LineString(
            [(-74.8800, -8.6000), (-74.8400, -8.5500), (-74.8000, -8.5000), (-74.7400, -8.4600)]
        )
    )
    pipe_2 = _finish(
        LineString(
            [(-74.7400, -8.4600), (-74.6600, -8.4200), (-74.5800, -8.4000), (-74.5550, -8.3900)]
        )
    )
    road = _finish(
        LineString(
            [
                (-74.5530, -8.3830),
                (-74.6200, -8.4000),
                (-74.7000, -8.4200),
                (-74.7800, -8.4350),
                (-74.8600, -8.4450),
                (-74.9400, -8.4600),
            ]
        )
    )
    km_1 = _GEOD.geometry_length(pipe_1) / 1000.0
    rows = [
        ("pipeline", "Oleoducto (illustrative) - tramo 1", 0.0, pipe_1),
        ("pipeline", "Oleoducto (illustrative) - tramo 2", round(km_1, 3), pipe_2),
        ("road", "Carretera Federico Basadre (illustrative alignment)", 0.0, road),
    ]
    return [
        {"kind": kind, "name": name, "km_start": km, "source": SRC_LINE, "geometry": geom}
        for kind, name, km, geom in rows
    ]


def _incidents() -> list[dict[str, Any]]:
    month_note = " (public reports give the year; the month here is a placeholder)"
    rows: list[tuple[Any, ...]] = [
        (
            "I01",
            "2012-06",
            "threat",
            2,
            "Threats against the community for refusing to leave its land" + month_note,
            "community members",
            SRC_INCIDENT_SC,
            "approximate",
            "restricted",
            -74.7420,
            -8.3270,
        ),
        (
            "I02",
            "2014-01",
            "arson",
            4,
            "The house of a community leader was set on fire",
            "community leader",
            SRC_INCIDENT_SC,
            "approximate",
            "restricted",
            -74.7445,
            -8.3345,
        ),
        (
            "I03",
            "2015-08",
            "deforestation",
            2,
            "Public reports: more than 6,000 ha of the community's forest cleared for oil palm "
            "since 2012",
            "community",
            SRC_INCIDENT_SC,
            "locality",
            "public",
            -74.7950,
            -8.3400,
        ),
        (
            "I04",
            "2017-03",
            "threat",
            4,
            "A community leader was surrounded by 15 armed men" + month_note,
            "community leader",
            SRC_INCIDENT_SC,
            "approximate",
            "confidential",
            -74.7600,
            -8.3150,
        ),
        (
            "I05",
            "2017-09",
            "killing",
            5,
            "Six farmers killed in a land conflict in Nueva Requena district",
            "6 farmers",
            SRC_INCIDENT_NR,
            "locality",
            "public",
            -74.8620,
            -8.3000,
        ),
        (
            "I06",
            "2016-03-22",
            "spill",
            3,
            "Crude oil spill reported along the pipeline (invented)",
            "",
            SRC_INCIDENT_INVENTED,
            "exact",
            "public",
            -74.7950,
            -8.4966,
        ),
        (
            "I07",
            "2019-05-14",
            "invasion",
            3,
            "Settlers opened plots inside the community forest (invented). Escaping test: "
            "<script>alert(1)</script>",
            "community",
            SRC_INCIDENT_INVENTED,
            "approximate",
            "restricted",
            -74.7650,
            -8.5300,
        ),
        (
            "I08",
            "2020-02-10",
            "criminalization",
            2,
            "Criminal complaint filed against community authorities after a land dispute "
            "(invented)",
            "3 community authorities",
            SRC_INCIDENT_INVENTED,
            "district",
            "public",
            -74.6000,
            -8.1900,
        ),
        (
            "I09",
            "2021-08-03",
            "deforestation",
            2,
            "Forest clearing detected inside the area under titling request (invented)",
            "",
            SRC_INCIDENT_INVENTED,
            "exact",
            "",
            -74.8500,
            -8.5000,
        ),
        (
            "I10",
            "2022-11-05",
            "threat",
            2,
            "Anonymous threats against forest monitors (invented)",
            "forest monitors",
            SRC_INCIDENT_INVENTED,
            "locality",
            "restricted",
            -74.4700,
            -8.4950,
        ),
    ]
    keys = (
        "incident_id",
        "date",
        "kind",
        "severity",
        "description",
        "victims",
        "source",
        "precision",
        "sensitivity",
        "lon",
        "lat",
    )
    return [dict(zip(keys, row, strict=True)) for row in rows]


# --------------------------------------------------------------------------------------------
# Forest loss raster
# --------------------------------------------------------------------------------------------


def _grid_shape() -> tuple[int, int]:
    west, south, east, north = FOREST_LOSS_BOUNDS
    width = round((east - west) / FOREST_LOSS_PIXEL_DEG)
    height = round((north - south) / FOREST_LOSS_PIXEL_DEG)
    return height, width


def pixel_area_ha_by_row() -> np.ndarray:
    """Return the geodesic area (ha) of one pixel of ``forest_loss.tif`` for each row.

    Returns
    -------
    numpy.ndarray
        One value per raster row, north to south; all pixels of a row have the same area.
    """
    west, _, _, north = FOREST_LOSS_BOUNDS
    height, _ = _grid_shape()
    step = FOREST_LOSS_PIXEL_DEG
    areas = np.empty(height)
    for row in range(height):
        top, bottom = north - row * step, north - (row + 1) * step
        lons = [west, west + step, west + step, west]
        lats = [top, top, bottom, bottom]
        areas[row] = abs(_GEOD.polygon_area_perimeter(lons, lats)[0]) / _M2_PER_HA
    return areas


def _hash01(rows: np.ndarray, cols: np.ndarray, salt: int) -> np.ndarray:
    """Deterministic pseudo-noise in [0, 1) per pixel (no random generator involved)."""
    r = rows.astype(np.uint64)
    c = cols.astype(np.uint64)
    h = (r * np.uint64(73856093)) ^ (c * np.uint64(19349663)) ^ np.uint64(salt * 83492791)
    h = (h * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)
    h = h ^ (h >> np.uint64(15))
    h = (h * np.uint64(2246822519)) & np.uint64(0xFFFFFFFF)
    return (h >> np.uint64(8)).astype(np.float64) / float(1 << 24)


# Small patches of loss in other years: (lon, lat, radius in pixels, lossyear).
_SCATTERED_LOSS = (
    (-74.9100, -8.2000, 2.2, 3),
    (-74.6900, -8.4100, 1.5, 5),
    (-74.5900, -8.3950, 2.0, 5),
    (-74.8800, -8.4550, 2.5, 8),
    (-74.6300, -8.2050, 2.0, 8),
    (-74.6800, -8.3000, 1.5, 10),
    (-74.4600, -8.5150, 2.0, 11),
    (-74.7100, -8.2200, 1.0, 13),
    (-74.5000, -8.1500, 1.0, 14),
    (-74.7600, -8.4400, 3.0, 16),
    (-74.4800, -8.2600, 3.0, 17),
    (-74.7950, -8.4966, 1.5, 16),
    (-74.9000, -8.6000, 2.5, 18),
    (-74.7650, -8.5300, 2.5, 19),
    (-74.5500, -8.5800, 2.0, 20),
    (-74.8500, -8.5000, 3.5, 21),
    (-74.4700, -8.4950, 2.0, 22),
    (-74.6100, -8.1250, 1.5, 23),
)
# A small block of nodata (a cloud gap in the source), outside every territory.
_NODATA_BLOCK = (-74.4100, -8.1200, -74.3950, -8.1050)


def _forest_loss(
    sc: shapely.Geometry, titled_sc: shapely.Geometry, palms: Sequence[shapely.Geometry]
) -> np.ndarray:
    """Build the lossyear array (uint8, Hansen coding) on the demo grid."""
    west, _, _, north = FOREST_LOSS_BOUNDS
    step = FOREST_LOSS_PIXEL_DEG
    height, width = _grid_shape()
    rows, cols = np.mgrid[0:height, 0:width]
    lon = west + (cols + 0.5) * step
    lat = north - (rows + 0.5) * step
    area = pixel_area_ha_by_row()[rows]
    loss = np.zeros((height, width), dtype=np.uint8)

    palm = shapely.union_all(list(palms))
    shapely.prepare(palm)
    in_palm = shapely.contains_xy(palm, lon, lat)
    untitled_sc = shapely.difference(sc, titled_sc)
    shapely.prepare(untitled_sc)
    in_untitled_sc = shapely.contains_xy(untitled_sc, lon, lat)
    in_sc = shapely.contains_xy(sc, lon, lat)
    riparian = shapely.buffer(LineString(_CREEK), 0.0012)
    shapely.prepare(riparian)
    near_creek = shapely.contains_xy(riparian, lon, lat)
    noise = _hash01(rows, cols, 1)

    # Clearing inside the palm concessions on the community's untitled land: everything but the
    # creek's riparian strip and a few scattered trees.
    cleared = in_palm & in_untitled_sc & ~near_creek & (noise >= 0.05)
    # Then the palm concession land outside the territory, nearest to the territory first, until
    # the 2012-2015 total reaches the target.
    outside = in_palm & ~in_sc & ~near_creek & (noise >= 0.05)
    budget = _LOSS_TARGET_HA - float(area[cleared].sum())
    if budget > 0 and outside.any():
        idx = np.flatnonzero(outside.ravel())
        distance = shapely.distance(sc, shapely.points(lon.ravel()[idx], lat.ravel()[idx]))
        order = idx[np.lexsort((idx, distance))]
        cumulative = np.cumsum(area.ravel()[order])
        take = order[cumulative <= budget]
        flat = cleared.ravel()
        flat[take] = True
        cleared = flat.reshape(cleared.shape)

    # The clearing front advances from the west (the plantations' access) eastwards.
    front = lon + 0.004 * (_hash01(rows, cols, 2) - 0.5)
    values = front[cleared]
    weights = area[cleared]
    order = np.argsort(values, kind="stable")
    share = np.cumsum(weights[order]) / weights.sum()
    years = np.full(len(values), _LOSS_YEAR_SHARES[-1][0], dtype=np.uint8)
    start = 0.0
    for year, fraction in _LOSS_YEAR_SHARES:
        years[order[(share > start) & (share <= start + fraction + 1e-12)]] = year
        start += fraction
    loss[cleared] = years

    for plon, plat, radius, year in _SCATTERED_LOSS:
        dist_px = np.hypot((lon - plon) / step, (lat - plat) / step)
        patch = (dist_px <= radius) & (loss == 0)
        loss[patch] = year

    w, s, e, n = _NODATA_BLOCK
    loss[(lon > w) & (lon < e) & (lat > s) & (lat < n)] = _NODATA
    return loss


def _build() -> _Layers:
    territories = _territories()
    by_id = {t["territory_id"]: t["geometry"] for t in territories}
    parcels = _parcels(by_id)
    concessions = _concessions()
    titled_sc = shapely.union_all(
        [
            p["geometry"]
            for p in parcels
            if p["territory_id"] == SANTA_CLARA_ID and p["tenure"] == "titled"
        ]
    )
    palms = [c["geometry"] for c in concessions if c["concession_id"] in ("C01", "C02", "C03")]
    loss = _forest_loss(by_id["T01"], titled_sc, palms)
    return _Layers(territories, parcels, concessions, _incidents(), _infrastructure(), loss)


# --------------------------------------------------------------------------------------------
# Serialisation (deterministic bytes)
# --------------------------------------------------------------------------------------------


def _geojson_bytes(name: str, features: list[dict[str, Any]]) -> bytes:
    """Serialise features as an RFC 7946 FeatureCollection, one feature per line."""
    lines = []
    for feature in features:
        properties = {k: v for k, v in feature.items() if k != "geometry"}
        record = {
            "type": "Feature",
            "properties": properties,
            "geometry": mapping(feature["geometry"]),
        }
        lines.append(json.dumps(record, ensure_ascii=False, separators=(", ", ": ")))
    head = (
        '{\n"type": "FeatureCollection",\n'
        f'"name": "{name}",\n'
        '"crs": { "type": "name", "properties": { "name": "urn:ogc:def:crs:OGC:1.3:CRS84" } },\n'
        '"features": [\n'
    )
    return (head + ",\n".join(lines) + "\n]\n}\n").encode("utf-8")


def _csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        out = dict(row)
        out["lon"] = f"{row['lon']:.4f}"
        out["lat"] = f"{row['lat']:.4f}"
        writer.writerow(out)
    return buffer.getvalue().encode("utf-8")


def _geotiff_bytes(loss: np.ndarray) -> bytes:
    west, _, _, north = FOREST_LOSS_BOUNDS
    height, width = loss.shape
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "uint8",
        "crs": "EPSG:4326",
        "transform": Affine(FOREST_LOSS_PIXEL_DEG, 0.0, west, 0.0, -FOREST_LOSS_PIXEL_DEG, north),
        "nodata": _NODATA,
        "compress": "deflate",
        "zlevel": 9,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.Env(GDAL_PAM_ENABLED="NO"), MemoryFile() as memfile:
        with memfile.open(**profile) as dst:
            dst.write(loss, 1)
            dst.set_band_description(1, "lossyear")
            dst.update_tags(
                source="ILLUSTRATIVE DEMO DATA - invented forest loss in Hansen lossyear coding",
                coding="0 = no loss; N = loss in year 2000+N; 255 = nodata",
            )
        return bytes(memfile.read())


def _write_atomically(contents: dict[Path, bytes]) -> None:
    """Write every file to a temporary name beside it, then rename them all into place."""
    staged: list[tuple[Path, Path]] = []
    try:
        for target, data in contents.items():
            handle, tmp_name = tempfile.mkstemp(
                prefix=f".{target.stem}.", suffix=target.suffix + ".part", dir=target.parent
            )
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.chmod(tmp_name, 0o644)
            staged.append((Path(tmp_name), target))
        for tmp, target in staged:
            os.replace(tmp, target)
    finally:
        for tmp, _ in staged:
            if tmp.exists():
                tmp.unlink()


# --------------------------------------------------------------------------------------------
# README with the headline figures
# --------------------------------------------------------------------------------------------


def _summary(layers: _Layers) -> dict[str, Any]:
    """Geodesic headline figures per territory, and loss per year (for the README)."""
    per_territory = []
    for t in layers.territories:
        geom = t["geometry"]

        def within(parts: list[shapely.Geometry], zone: shapely.Geometry = geom) -> float:
            if not parts:
                return 0.0
            return _geodesic_ha(shapely.intersection(shapely.union_all(parts), zone))

        tenure = {
            kind: [p["geometry"] for p in layers.parcels if p["tenure"] == kind]
            for kind in ("titled", "cession_in_use", "demarcated", "in_process")
        }
        live = [c["geometry"] for c in layers.concessions if c["status"] != "expired"]
        expired = [c["geometry"] for c in layers.concessions if c["status"] == "expired"]
        per_territory.append(
            {
                "id": t["territory_id"],
                "name": t["name"],
                "claimed": _geodesic_ha(geom),
                "titled": within(tenure["titled"]),
                "secured": within(tenure["titled"] + tenure["cession_in_use"]),
                "in_process": within(tenure["in_process"]),
                "concessions": within(live),
                "expired": within(expired),
            }
        )
    areas = pixel_area_ha_by_row()[:, None] * np.ones((1, layers.loss.shape[1]))
    by_year = {
        int(year): float(areas[layers.loss == year].sum())
        for year in np.unique(layers.loss)
        if 0 < year < _NODATA
    }
    sc = layers.territories[0]["geometry"]
    titled_sc = shapely.union_all(
        [
            p["geometry"]
            for p in layers.parcels
            if p["territory_id"] == SANTA_CLARA_ID and p["tenure"] == "titled"
        ]
    )
    palm = shapely.union_all(
        [c["geometry"] for c in layers.concessions if c["kind"] == "agribusiness"]
    )
    zone = shapely.intersection(palm, shapely.difference(sc, titled_sc))
    rows, cols = np.nonzero((layers.loss >= 12) & (layers.loss <= 15))
    west, _, _, north = FOREST_LOSS_BOUNDS
    lon = west + (cols + 0.5) * FOREST_LOSS_PIXEL_DEG
    lat = north - (rows + 0.5) * FOREST_LOSS_PIXEL_DEG
    inside = shapely.contains_xy(zone, lon, lat)
    loss_in_palm = float(areas[rows[inside], cols[inside]].sum())
    return {"territories": per_territory, "loss": by_year, "loss_in_palm": loss_in_palm}


def _readme(layers: _Layers) -> bytes:
    summary = _summary(layers)
    table = "\n".join(
        f"| {t['id']} | {t['name']} | {t['claimed']:,.2f} | {t['titled']:,.2f} | "
        f"{t['secured']:,.2f} | {t['in_process']:,.2f} | {t['concessions']:,.2f} | "
        f"{t['expired']:,.2f} |"
        for t in summary["territories"]
    )
    loss_rows = "\n".join(
        f"| {2000 + year} | {year} | {ha:,.2f} |" for year, ha in summary["loss"].items()
    )
    main = sum(ha for year, ha in summary["loss"].items() if 12 <= year <= 15)
    text = _README_TEMPLATE.format(
        table=table,
        loss_rows=loss_rows,
        loss_2012_2015=f"{main:,.2f}",
        loss_in_palm=f"{summary['loss_in_palm']:,.2f}",
        pixel=FOREST_LOSS_PIXEL_DEG,
        bounds=", ".join(str(b) for b in FOREST_LOSS_BOUNDS),
        shape="{} x {}".format(*layers.loss.shape[::-1]),
    )
    return text.encode("utf-8")


_README_TEMPLATE = """\
# Demo data (INVENTED, for illustration only)

**These files are an invented illustration, not a map of anyone's land.** The geometries, the
names of all companies, the names of every community except Santa Clara de Uchunya, and all ids
and registry references are INVENTED. Place names (Ucayali, Nueva Requena, Pucallpa, the
Federico Basadre road) and the incidents at Santa Clara de Uchunya and in Nueva Requena are drawn
from public reports (Forest Peoples Programme, EJAtlas, Mongabay, OjoPublico, the Peruvian
press); their locations here are invented. All other incidents are invented. The files contain
no personal names. Every feature carries a `source` (territories: `claim_source`) text starting
with `ILLUSTRATIVE DEMO DATA`.

Do not use these files as evidence of tenure, of concession boundaries or of any event.

## How they were made

    python scripts/make_demo_data.py            # writes data/raw/ (refuses to overwrite)
    python scripts/make_demo_data.py --overwrite

The script calls `geotools.demo.data.write_demo_data`, which builds everything from constants
(no randomness), so every run writes byte-identical files. Polygon rings follow RFC 7946
(exterior counter-clockwise, holes clockwise); coordinates have 7 decimals.

## The story

Santa Clara de Uchunya (Shipibo-Conibo) claims **8,600.00 ha** (geodesic). Only **200.00 ha**
are titled, in two *overlapping* titled parcels (P01, P02): summing them instead of unioning
them overstates the titled land. Three overlapping oil-palm concessions (C01-C03, all
`agribusiness`, `active`) cover most of the untitled rest; C01 reaches outside the territory.
About 7,000 ha of forest were cleared there in 2012-2015 (`forest_loss.tif`).

The demo reproduces the headline figures of the project brief (8,600 ha claimed, 200 ha
titled, about 7,000 ha of forest cleared for oil palm in 2012-2015); the shapes and locations
are invented. Check any figure against the primary sources before quoting it.

Test cases built in on purpose:

- T02: mostly titled; an `expired` mining concession (C06) overlaps it (expired concessions are
  never pressure).
- T03: a MultiPolygon (main block and annex); titled (P04) plus forest land in `cession_in_use`
  (P05), overlapping slightly: secured = union of titled and cession in use. An `in_process`
  road project (C08, kind `other`) overlaps the annex.
- T04 and T05 share a boundary exactly. P07 (titled, `territory_id` T05) crosses it and counts
  in each territory for its part. T04 has an `in_process` titling request (P06) and an active oil
  block (C04, which also clips a corner of T05) overlapping it; T05 has a hole, a `demarcated`
  parcel (P08) and an active forestry concession (C05).
- P09 (parcel, `territory_id` empty) and C07 (concession) lie outside every territory.
- Incident I07's description contains `<script>alert(1)</script>` to test escaping in maps;
  I09 has an empty `sensitivity`.
- `forest_loss.tif` has a 15 x 15 pixel nodata (255) block outside every territory.

## Headline figures (geodesic, WGS84 ellipsoid, `pyproj.Geod`; unions clipped to the territory)

All figures in hectares. Columns: claimed; titled; secured = titled + cession in use; in
process (titling requests); concessions = active + in-process concessions of any kind; expired
concessions (never pressure).

| id | name | claimed | titled | secured | in process | concessions | expired conc. |
|---|---|---:|---:|---:|---:|---:|---:|
{table}

Forest loss by year (pixels counted whole, each with its true geodesic area):

| year | lossyear value | ha |
|---|---:|---:|
{loss_rows}

Total 2012-2015: **{loss_2012_2015} ha**, of which {loss_in_palm} ha (pixel centres) inside the
palm-oil concessions on Santa Clara de Uchunya's untitled land.

## Files, CRS and columns

All vector files are EPSG:4326 (longitude, latitude; GeoJSON declares OGC:CRS84, the same
axes order lon/lat).

### territories.geojson (Polygon / MultiPolygon, EPSG:4326)

| column | meaning |
|---|---|
| territory_id | unique id, `T01`... (invented) |
| name | community name (only Santa Clara de Uchunya is real) |
| people | indigenous people (Shipibo-Conibo, Asháninka, Cacataibo) |
| community | type of community (`native community`) |
| claim_source | provenance text, always starts `ILLUSTRATIVE DEMO DATA` |
| claim_date | date of the claim, ISO `YYYY-MM-DD` (invented) |

### parcels.geojson (legal tenure polygons, EPSG:4326)

| column | meaning |
|---|---|
| parcel_id | unique id, `P01`... |
| tenure | `titled`, `cession_in_use` (cesión en uso of forest land), `demarcated`, `in_process` |
| territory_id | territory the registry links it to (empty for P09); measure by geometry |
| title_date | ISO date (invented), empty when not titled |
| registry_ref | invented reference `DEMO-REG-....` |
| source | provenance text |

### concessions.geojson (Polygon, EPSG:4326)

| column | meaning |
|---|---|
| concession_id | unique id, `C01`... |
| kind | `mining`, `oil_gas`, `agribusiness`, `forestry`, `other` |
| status | `active`, `in_process`, `expired` |
| holder | invented, clearly fictional company name |
| granted_date | ISO date (invented) |
| source | provenance text |

### incidents.csv (points as a UTF-8 CSV table; lon/lat in EPSG:4326)

Columns: `incident_id, date, kind, severity, description, victims, source, precision,
sensitivity, lon, lat`.

- `date`: ISO `YYYY-MM-DD`, or `YYYY-MM` where only the month is known (I02, I03, I05). For I01
  and I04 public reports give only the year; the month shown is a placeholder (said in the
  description).
- `kind`: `threat`, `attack`, `killing`, `arson`, `eviction`, `invasion`, `deforestation`,
  `spill`, `protest_casualty`, `criminalization`, `other`. `severity`: 1-5.
- `victims`: counts or roles only (for example `6 farmers`, `community leader`); never names.
- `precision`: `exact`, `approximate`, `locality`, `district` (how exact the location is).
- `sensitivity`: `public`, `restricted`, `confidential`; empty once on purpose.
- `lon`, `lat`: decimal degrees, 4 decimals.

### infrastructure.geojson (LineString, EPSG:4326)

| column | meaning |
|---|---|
| kind | `pipeline` or `road` |
| name | illustrative name |
| km_start | kilometre at the first vertex (tramo 2 continues tramo 1; geodesic km) |
| source | provenance text |

### forest_loss.tif (single-band uint8 GeoTIFF, EPSG:4326, deflate)

Hansen Global Forest Change `lossyear` coding: 0 = no loss, N = loss in year 2000+N, 255 =
nodata. Grid: {shape} pixels of {pixel} degree (about 110 m, about 1.22 ha), north-up;
bounds (west, south, east, north): {bounds}.
Pixel areas vary with latitude: measure them geodesically (or reproject to an equal-area CRS),
never as degrees squared. Band description `lossyear`; GeoTIFF tags `source` and `coding` repeat
the above.
"""


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def write_demo_data(out_dir: Path, *, overwrite: bool = False) -> dict[str, Path]:
    """Write the invented Ucayali demo dataset into ``out_dir``.

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder to write into (created if missing).
    overwrite : bool, default False
        Replace existing files; otherwise refuse before writing anything.

    Returns
    -------
    dict of str to pathlib.Path
        Layer key (``territories``, ``parcels``, ``concessions``, ``incidents``,
        ``infrastructure``, ``forest_loss``, ``readme``) -> file written.

    Raises
    ------
    OutputExistsError
        If one of the files exists and ``overwrite`` is false; nothing is written then.

    Notes
    -----
    All content is generated in memory first; each file is then written to a temporary name in
    ``out_dir`` and renamed into place, so an interrupted run leaves no partial file.

    Examples
    --------
    >>> from pathlib import Path
    >>> from geotools.demo.data import write_demo_data
    >>> paths = write_demo_data(Path("demo-raw"))  # doctest: +SKIP
    >>> sorted(paths)  # doctest: +SKIP
    ['concessions', 'forest_loss', 'incidents', 'infrastructure', 'parcels', 'readme', ...]
    """
    out_dir = Path(out_dir)
    targets = {key: out_dir / name for key, name in DEMO_FILE_NAMES.items()}
    existing = [p for p in targets.values() if p.exists()]
    if existing and not overwrite:
        raise OutputExistsError(
            f"{existing[0]}: already exists ({len(existing)} demo file(s) in {out_dir}); "
            "pass overwrite=True (--overwrite) to replace them"
        )
    layers = _build()
    contents = {
        targets["territories"]: _geojson_bytes("territories", layers.territories),
        targets["parcels"]: _geojson_bytes("parcels", layers.parcels),
        targets["concessions"]: _geojson_bytes("concessions", layers.concessions),
        targets["incidents"]: _csv_bytes(layers.incidents),
        targets["infrastructure"]: _geojson_bytes("infrastructure", layers.infrastructure),
        targets["forest_loss"]: _geotiff_bytes(layers.loss),
        targets["readme"]: _readme(layers),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_atomically(contents)
    for path in contents:
        log.info("wrote %s (%d bytes)", path, path.stat().st_size)
    return targets
