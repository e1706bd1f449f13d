"""Every real vector file in ../shared/realdata loads, and its QA ledger adds up (issue 3).

Each file is read as the canonical layer it fits (with the mapping or importer a careful analyst
would use); point layers that are no canonical layer at all (community centroids, mining units,
OEFA sites: no dates, not incidents) must fail with one clear line, never a traceback.
"""

from __future__ import annotations

import pytest

from geotools.errors import GeotoolsError
from geotools.io import read_layer

pytestmark = pytest.mark.realdata

AMW = "amazon-mining-watch/"
FIRE = "fire-dt-ucayali/"
OAP = "observatorio-ambiental-peruano/"
INEI = "peru-geojson-inei/"
DEF = "defensoria-conflictos-mineros/conflictos_mineros_defensoria_2024-03"
ALERT = {"incident_id": "alert_code", "date": "detected_at"}

#: file -> (layer kind, options for read_layer)
CASES = {
    AMW + "peru_indigenous_territories_mining_impacts_v2025-11-07.geojson": ("territories", {}),
    AMW + "peru_indigenous_territories_mining_impacts_v2025-12-05.geojson": ("territories", {}),
    AMW + "peru_mining_detections_2025Q3_new_gt11ha.geojson": (
        "concessions", {"mapping": {"concession_id": "src_index"}}),
    AMW + "peru_mining_detections_2025Q4_new_gt11ha.geojson": (
        "concessions", {"mapping": {"concession_id": "src_index"}}),
    DEF + ".csv": ("incidents", {"source": "defensoria"}),
    DEF + ".geojson": ("incidents", {"source": "defensoria"}),
    DEF + ".xlsx": ("incidents", {"source": "defensoria"}),
    FIRE + "anp_acp_light.geojson": ("territories", {"mapping": {"territory_id": "acp_codi"}}),
    FIRE + "anp_acp_light_ringsclosed.geojson": (
        "territories", {"mapping": {"territory_id": "acp_codi"}}),
    FIRE + "anp_acr_light.geojson": ("territories", {"mapping": {"territory_id": "acr_codi"}}),
    FIRE + "anp_acr_light_ringsclosed.geojson": (
        "territories", {"mapping": {"territory_id": "acr_codi"}}),
    FIRE + "anp_zr_light.geojson": ("territories", {"mapping": {"territory_id": "zr_codi"}}),
    FIRE + "mapbiomas_alerts_ucayali_points.geojson": ("incidents", {"mapping": ALERT}),
    FIRE + "deforest_mapbiomas_alerta.parquet": ("incidents", {"mapping": ALERT}),
    "ingemmet-catastro-minero-17s/catastro_minero_17s_2026-03-10_utm17s.geojson": (
        "concessions", {"assume_crs": "EPSG:32717"}),
    "ingemmet-catastro-minero-17s/catastro_minero_17s_2026-03-10_wgs84.geojson": (
        "concessions", {}),
    OAP + "anp-sernanp.geojson": ("territories", {"mapping": {"territory_id": "anp_codi"}}),
    OAP + "reservas-territoriales.geojson": ("territories", {}),
    OAP + "lotes-petroleros.geojson": ("concessions", {}),
    OAP + "mineria-ilegal-anp.geojson": ("concessions", {}),
    OAP + "oleoducto-norperuano.geojson": ("infrastructure", {}),
    OAP + "monitoreo-indigena_sample.csv": ("incidents", {"source": "monitoring"}),
    OAP + "monitoreo-indigena_sample.geojson": ("incidents", {"source": "monitoring"}),
    INEI + "peru_departamental_simple.geojson": (
        "territories", {"mapping": {"territory_id": "FIRST_IDDP"}}),
    INEI + "peru_provincial_simple.geojson": (
        "territories", {"mapping": {"territory_id": "FIRST_IDPR"}}),
    INEI + "peru_distrital_simple.geojson": (
        "territories", {"mapping": {"territory_id": "IDDIST"}}),
    INEI + "ucayali_distritos.geojson": ("territories", {"mapping": {"territory_id": "IDDIST"}}),
}

NOT_A_LAYER = [
    OAP + "comunidades-nativas.geojson",
    OAP + "comunidades-campesinas.geojson",
    OAP + "pueblos-indigenas.geojson",
    OAP + "unidades-mineras.geojson",
    OAP + "riesgo-ambiental-oefa.geojson",
    OAP + "relaves-oefa-puntos.geojson",
    INEI + "peru_capital_provincia.geojson",
]


@pytest.mark.parametrize("name", list(CASES))
def test_real_file_loads_and_ledger_adds_up(realdata, name):
    kind, options = CASES[name]
    layer = read_layer(realdata / name, kind, **options)
    report = layer.ledger.to_dict()
    assert report["read"] > 0
    # Since issue 13 a feature may also be merged into another row (an exact copy of a
    # territory): the four statuses add up, and merged features leave no row of their own.
    counted = report["valid"] + report["repaired"] + report["rejected"] + report["merged"]
    assert counted == report["read"]
    assert len(layer.frame) == report["read"] - report["rejected"] - report["merged"]
    assert layer.frame.geometry.is_valid.all()


@pytest.mark.parametrize("name", NOT_A_LAYER)
def test_point_files_that_are_no_canonical_layer_fail_clearly(realdata, name):
    with pytest.raises(GeotoolsError, match="required column"):
        read_layer(realdata / name, "incidents")


def test_known_defects_are_found(realdata):
    acr = read_layer(realdata / FIRE / "anp_acr_light.geojson", "territories",
                     mapping={"territory_id": "acr_codi"}).ledger.to_dict()
    assert sum(p["problem"] == "unclosed ring(s)" for p in acr["problems"]) >= 1
    cadastre = read_layer(realdata / "ingemmet-catastro-minero-17s/"
                          "catastro_minero_17s_2026-03-10_wgs84.geojson", "concessions")
    invalid = [p for p in cadastre.ledger.problems if p.problem.startswith("invalid geometry")]
    assert len(invalid) == 8  # SOURCE.md: 8 invalid geometries after reprojection
    districts = read_layer(realdata / INEI / "peru_distrital_simple.geojson", "territories",
                           mapping={"territory_id": "IDDIST"}).ledger
    # SOURCE.md calls 8 districts "invalid"; in this file their geometry is null.
    geometry = [p.problem for p in districts.problems if not p.problem.startswith("claim_date")]
    assert geometry == ["no geometry"] * 8
    assert districts.count("rejected") == 8


def test_monitoring_dates_parsed_with_precision(realdata):
    layer = read_layer(realdata / OAP / "monitoreo-indigena_sample.csv", "incidents",
                       source="monitoring")
    frame = layer.frame.set_index("date_raw")
    assert frame.loc["16-19/06/2016", ["date", "date_end", "date_precision"]].tolist() == [
        "2016-06-16", "2016-06-19", "range"]
    assert frame["date"].notna().all()
    notes = [p.problem for p in layer.ledger.problems if p.problem.startswith("date:")]
    assert len(notes) == 4  # ambiguous day/month and one list of two dates
