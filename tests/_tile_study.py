"""Test support: a small study for the vector-tile tests (tests/test_tiles.py and
tests/security/test_tile_privacy.py)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import Point, box

HOSTILE = '<img src=x onerror="window.__pwned=1">{{ 7*7 }}</script>'


def write_study(folder: Path, parcels: bool = True) -> list[str]:
    """Two 0.1-degree territories (one with a hostile name), a parcel, a concession and four
    incidents: public (with victims and a description), restricted, confidential, and one with
    no sensitivity (restricted by default)."""
    folder.mkdir(parents=True, exist_ok=True)
    gpd.GeoDataFrame(
        {"territory_id": ["T1", "T2"], "name": [HOSTILE, "Comunidad Dos"]},
        geometry=[box(-74.6, -9.6, -74.5, -9.5), box(-71.1, -12.1, -71.0, -12.0)],
        crs=4326,
    ).to_file(folder / "t.geojson")
    gpd.GeoDataFrame(
        {"parcel_id": ["P1"], "tenure": ["titled"], "owner_phone": ["+51 999 111 222"]},
        geometry=[box(-74.6, -9.6, -74.55, -9.55)],
        crs=4326,
    ).to_file(folder / "p.geojson")
    gpd.GeoDataFrame(
        {"concession_id": ["C1"], "kind": ["mining"], "status": ["active"],
         "holder": ["Minera Ejemplo S.A.C."]},
        geometry=[box(-74.58, -9.58, -74.4, -9.4)],
        crs=4326,
    ).to_file(folder / "c.geojson")
    gpd.GeoDataFrame(
        {
            "incident_id": ["I1", "I2", "I3", "I4"],
            "date": ["2024-01-05", "2024-02-01", "2024-03-01", "2024-04-01"],
            "kind": ["threat", "attack", "killing", "arson"],
            "severity": [3, 4, 5, 4],
            "sensitivity": ["public", "restricted", "confidential", None],
            "victims": ["Juana Quispe", "Ana Rengifo", "Pedro Mori", "Rosa Vela"],
            "reporter": ["Luis Ramos", "Luis Ramos", "Luis Ramos", "Luis Ramos"],
            "description": [
                "Amenaza en la trocha", "Ataque secreto XQ2", "Asesinato ZK9", "Quema WV7"
            ],
        },
        geometry=[Point(-74.55, -9.55), Point(-74.52, -9.52), Point(-71.05, -12.05),
                  Point(-71.02, -12.02)],
        crs=4326,
    ).to_file(folder / "i.geojson")
    args = ["--territories", str(folder / "t.geojson")]
    if parcels:
        args += ["--parcels", str(folder / "p.geojson")]
    return [*args, "--concessions", str(folder / "c.geojson"),
            "--incidents", str(folder / "i.geojson")]
