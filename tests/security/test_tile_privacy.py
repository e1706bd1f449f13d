"""What a public tile archive must never hold (issue 15 item 6, DESIGN §7).

A PMTiles archive is binary, but anyone can read every property of every feature at every
zoom level with GDAL: hiding a field in the viewer's popup would not hide it. These tests read
the archives back at every zoom and look for what the privacy gate withholds: personal fields
(victims, reporter, phone), restricted and confidential incidents, a restricted incident's
description, and the hexagons a withheld incident would add around its place.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from _tile_study import write_study
from click.testing import CliRunner
from shapely.geometry import Point

from geotools.cli import main
from geotools.maps.tiles import TILE_MAXZOOM

SECRETS = ("Juana Quispe", "Ana Rengifo", "Pedro Mori", "Rosa Vela", "Luis Ramos",
           "+51 999 111 222", "Ataque secreto XQ2", "Asesinato ZK9", "Quema WV7")


def tiles(tmp_path: Path, *extra: str) -> Path:
    out = tmp_path / "site"
    result = CliRunner().invoke(
        main, ["map", *write_study(tmp_path / "in"), "--tiles", str(out), *extra],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return out


def every_zoom(path: Path) -> pd.DataFrame:
    """All feature pieces of the archive at every zoom level, stacked (with ``zoom``)."""
    frames = [
        pd.DataFrame(pyogrio.read_dataframe(path, layer=path.stem, ZOOM_LEVEL=z,
                                            read_geometry=False)).assign(zoom=z)
        for z in range(TILE_MAXZOOM + 1)
    ]
    return pd.concat(frames, ignore_index=True)


def all_text(folder: Path) -> tuple[str, set[str]]:
    """Every property value of every archive at every zoom and the viewer page, as text; and
    every property name."""
    parts = [(folder / "index.html").read_text(encoding="utf-8")]
    names: set[str] = set()
    for path in sorted(folder.glob("*.pmtiles")):
        frame = every_zoom(path)
        parts.extend(str(value) for value in frame.to_numpy().ravel())
        names.update(frame.columns)
    return "\n".join(parts), names


def test_public_archive_has_no_personal_field_and_no_withheld_incident(tmp_path: Path) -> None:
    out = tiles(tmp_path, "--lang", "en")
    incidents = every_zoom(out / "incidents.pmtiles")
    assert set(incidents["incident_id"]) == {"I1"}
    assert set(incidents["zoom"]) == set(range(TILE_MAXZOOM + 1))  # drawn at every zoom
    text, names = all_text(out)
    for secret in SECRETS:
        assert secret not in text, secret
    assert not names & {"victims", "reporter", "owner_phone", "sensitivity", "registry_ref"}


def test_internal_archive_draws_restricted_but_never_confidential_or_personal(
    tmp_path: Path,
) -> None:
    out = tiles(tmp_path, "--profile", "internal")
    incidents = every_zoom(out / "incidents.pmtiles")
    # I2 is restricted and I4 unmarked (restricted by default): drawn, at their place, on an
    # internal map; I3 is confidential: never drawn, not even internally.
    assert set(incidents["incident_id"]) == {"I1", "I2", "I4"}
    top = pyogrio.read_dataframe(out / "incidents.pmtiles", layer="incidents",
                                 ZOOM_LEVEL=TILE_MAXZOOM).to_crs(4326).set_index("incident_id")
    assert top.geometry["I2"].distance(Point(-74.52, -9.52)) < 1e-4  # the tile grid, ~10 m
    descriptions = incidents.dropna(subset=["description"])
    assert set(descriptions["incident_id"]) == {"I1"}  # a restricted record's text is withheld
    text, names = all_text(out)
    for secret in SECRETS:
        assert secret not in text, secret
    assert not names & {"victims", "reporter", "owner_phone"}


def test_a_far_restricted_incident_adds_no_public_hexagons(tmp_path: Path) -> None:
    """Hexagons are kept near drawn incidents only: a restricted incident 300 km from
    everything must not make hexagons appear around it in a public archive."""
    before = every_zoom(tiles(tmp_path / "a") / "hexagons.pmtiles")
    study = tmp_path / "b" / "in"
    write_study(study)
    points = gpd.read_file(study / "i.geojson")
    far = gpd.GeoDataFrame(
        {"incident_id": ["I9"], "date": ["2024-05-01"], "kind": ["threat"], "severity": [5],
         "sensitivity": ["restricted"]},
        geometry=[Point(-72.0, -6.0)],
        crs=4326,
    )
    gpd.GeoDataFrame(pd.concat([points, far], ignore_index=True), crs=4326).to_file(
        study / "i.geojson"
    )
    out = tmp_path / "b" / "site"
    result = CliRunner().invoke(main, ["map", *write_study_args(study), "--tiles", str(out)])
    assert result.exit_code == 0, result.output
    after = every_zoom(out / "hexagons.pmtiles")
    assert len(after) == len(before) > 0
    bounds = pyogrio.read_info(out / "hexagons.pmtiles", layer="hexagons")["dataset_metadata"]
    west, south, east, north = (float(v) for v in bounds["bounds"].split(","))
    assert not (west <= -72.0 <= east and south <= -6.0 <= north)


def write_study_args(folder: Path) -> list[str]:
    return ["--territories", str(folder / "t.geojson"), "--parcels", str(folder / "p.geojson"),
            "--concessions", str(folder / "c.geojson"), "--incidents", str(folder / "i.geojson")]


@pytest.mark.parametrize("profile", ["public", "internal"])
def test_no_archive_property_outside_the_allow_list(tmp_path: Path, profile: str) -> None:
    from geotools.maps import TILE_PROPERTIES

    out = tiles(tmp_path, "--profile", profile)
    for path in out.glob("*.pmtiles"):
        fields = set(every_zoom(path).columns) - {"mvt_id", "zoom"}
        assert fields <= set(TILE_PROPERTIES[path.stem]), (profile, path.name, fields)
