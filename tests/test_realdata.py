"""Real public Peruvian layers from ../shared/realdata (see each folder's SOURCE.md)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geotools.analysis.stats import compute_territory_stats
from geotools.area import compute_area_ha, compute_geodesic_area_ha, project_to_area_crs
from geotools.errors import CRSError
from geotools.io import read_layer

pytestmark = pytest.mark.realdata

AMW = "amazon-mining-watch/peru_indigenous_territories_mining_impacts_v2025-11-07.geojson"
DETECTIONS = "amazon-mining-watch/peru_mining_detections_2025Q4_new_gt11ha.geojson"
CADASTRE_UTM = "ingemmet-catastro-minero-17s/catastro_minero_17s_2026-03-10_utm17s.geojson"


def test_real_territories_hectares_match_geodesic(realdata):
    layer = read_layer(realdata / AMW, "territories")
    frame = layer.frame
    assert layer.ledger.read == 39
    assert frame["name"].notna().all()  # name_field mapped by the alias table
    assert "SHIPIBO-CONIBO" in set(frame["people"])  # ethnicities_field
    ours = compute_area_ha(frame)
    truth = compute_geodesic_area_ha(frame)
    rel = np.abs(ours - truth) / truth
    assert rel.max() < 1e-4, f"worst {rel.max():.2e} at {frame.name.iloc[rel.argmax()]}"


def test_cadastre_without_crs_is_refused_then_measured_true(realdata):
    path = realdata / CADASTRE_UTM
    with pytest.raises(CRSError, match="32717"):
        read_layer(path, "concessions")
    layer = read_layer(path, "concessions", assume_crs="EPSG:32717")
    frame = layer.frame.iloc[:400]
    assert layer.frame["concession_id"].is_unique  # CODIGOU
    assert layer.frame["holder"].notna().mean() > 0.95  # TIT_CONCES
    ours = compute_area_ha(frame)
    truth = compute_geodesic_area_ha(frame)
    assert np.abs(ours / truth - 1).max() < 1e-4
    # The planar UTM grid area is not the true area: a careful analyst sees the scale factor.
    grid = frame.geometry.area.to_numpy() / 1e4
    assert np.abs(grid / truth - 1).max() > 1e-3


def test_mining_detections_over_real_territories_match_bruteforce_oracle(realdata):
    territories = read_layer(realdata / AMW, "territories").frame
    detections = gpd.read_file(realdata / DETECTIONS)
    detections["concession_id"] = detections["src_index"].astype(str)
    detections["kind"] = "mining"
    detections["status"] = "active"
    detections["geometry"] = shapely.make_valid(detections.geometry.to_numpy())
    parcels = territories.iloc[:0][["geometry"]].assign(parcel_id=[], tenure=[])
    result = compute_territory_stats(territories, parcels, concessions=detections)
    table = result.table
    crs = result.area_crs
    t = project_to_area_crs(territories, crs)
    c = shapely.union_all(project_to_area_crs(detections, crs))
    expected = shapely.area(shapely.intersection(t, c)) / 1e4
    assert np.allclose(table["concession_ha"], expected, rtol=1e-9, atol=1e-6)
    assert np.allclose(table["concession_mining_ha"], expected, rtol=1e-9, atol=1e-6)
    assert (table["concession_ha"] > 0).sum() >= 5  # these territories were chosen for mining
    pairs = result.overlaps
    assert (pairs["overlap_ha"] > 0).all()


def test_unclosed_rings_load_and_are_repaired(realdata):
    layer = read_layer(realdata / "fire-dt-ucayali/anp_acp_light.geojson", "territories")
    report = layer.ledger.to_dict()
    assert report["read"] == 231
    assert report["valid"] + report["repaired"] + report["rejected"] == 231
    closed = [p for p in report["problems"] if p["problem"] == "unclosed ring(s)"]
    assert len(closed) == 8
    assert len(layer.frame) == 231 - report["rejected"]
    assert shapely.is_valid(layer.frame.geometry.to_numpy()).all()


def test_oil_blocks_with_repeated_ids_and_invalid_polygons(realdata):
    layer = read_layer(
        realdata / "observatorio-ambiental-peruano/lotes-petroleros.geojson", "concessions"
    )
    assert layer.ledger.read == 78
    assert layer.frame["concession_id"].is_unique  # '8' x5 suffixed '8#2'...
    assert "8#5" in set(layer.frame["concession_id"])
    assert layer.frame["holder"].notna().all()  # empresa
    assert shapely.is_valid(layer.frame.geometry.to_numpy()).all()


def test_ucayali_department_area_against_the_file_and_its_districts(realdata):
    folder = realdata / "peru-geojson-inei"
    departments = read_layer(folder / "peru_departamental_simple.geojson", "territories").frame
    ucayali = departments[departments["NOMBDEP"] == "UCAYALI"]
    ours = compute_area_ha(ucayali)[0]
    # The file's HECTARES (10,534,176 ha, MINAM) was measured on the unsimplified outline; the
    # simplified polygon here is 0.04 % smaller.
    assert ours == pytest.approx(float(ucayali["HECTARES"].iloc[0]), rel=1e-3)
    districts = read_layer(folder / "ucayali_distritos.geojson", "territories").frame
    assert compute_area_ha(districts).sum() == pytest.approx(ours, rel=1e-3)
