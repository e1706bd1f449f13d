"""Real exports with a required column removed or emptied: one-line errors, no crash.

The Defensoría table (81 mining conflicts, 2024-03) and the indigenous monitors' sample are
the real shapes of those sources; removing a column or emptying one is what a hand-edited
export does.
"""

from __future__ import annotations

import pandas as pd
import pytest

from geotools.errors import SourceError
from geotools.io.importers import import_file

pytestmark = pytest.mark.realdata

DEFENSORIA = "defensoria-conflictos-mineros/conflictos_mineros_defensoria_2024-03.csv"
MONITORS = "observatorio-ambiental-peruano/monitoreo-indigena_sample.csv"


def test_defensoria_without_caso_and_lat_names_them_and_the_columns(realdata, tmp_path):
    table = pd.read_csv(realdata / DEFENSORIA, dtype=str)
    path = tmp_path / "conflictos_2024-03.csv"
    table.drop(columns=["caso", "lat"]).to_csv(path, index=False)
    with pytest.raises(SourceError) as info:
        import_file("defensoria", path)
    message = str(info.value)
    assert "\n" not in message
    assert "missing column(s) caso, latitude (columns are pais, departamento, provincia" in message


def test_defensoria_with_vio_if_emptied_has_no_severity(realdata, tmp_path):
    table = pd.read_csv(realdata / DEFENSORIA, dtype=str)
    assert len(table) == 81
    path = tmp_path / "conflictos_2024-03.csv"
    table.assign(vio_if="").to_csv(path, index=False)
    _, frame = import_file("defensoria", path)
    assert len(frame) == 81
    assert frame["severity"].isna().all()


def test_monitors_without_tipo_impacto_and_with_empty_federacion(realdata, tmp_path):
    table = pd.read_csv(realdata / MONITORS, dtype=str)
    path = tmp_path / "m.csv"
    table.drop(columns=["tipo_impacto"]).to_csv(path, index=False)
    with pytest.raises(SourceError, match=r"missing column\(s\) tipo_impacto \(columns are lon"):
        import_file("monitoring", path)
    table.assign(federacion=None).to_csv(path, index=False)
    _, frame = import_file("monitoring", path)
    assert len(frame) == len(table)
    assert frame["source"].nunique() == 1  # the monitors' programme, no federation named
