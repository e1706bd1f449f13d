"""``monitoring``: impact sites recorded by indigenous environmental monitors (PUINAMUDT)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from geotools.io.importers._common import (
    assemble,
    find_column,
    finish,
    kind_lookup,
    read_points,
    recode,
)

NAME = "monitoring"
LICENCE = (
    "Indigenous monitoring federations' records (PUINAMUDT: FEDIQUEP, FECONACO, OPIKAFPE) "
    "re-served by the Observatorio Ambiental Peruano; no data licence stated: cite the "
    "federations and ask them before republishing record-level data"
)

SOURCE_SUFFIX = "monitoreo ambiental indígena (PUINAMUDT, vía Observatorio Ambiental Peruano)"

#: ``tipo_impacto`` (normalised) -> kind, beyond the general kind recoding. Produced water
#: ("agua producida"/"aguas de producción": the brine pumped up with crude and dumped) is a
#: hydrocarbon discharge: ``spill``. Felled trees -> ``deforestation``. A waste dump
#: ("botadero"), "otro" and "sin especificar" -> ``other``.
IMPACT_KIND: dict[str, str] = {
    "agua_producida": "spill",
    "aguas_producidas": "spill",
    "agua_de_produccion": "spill",
    "aguas_de_produccion": "spill",
    "arboles_talados": "deforestation",
    "tala_de_arboles": "deforestation",
    "botadero": "other",
    "otro": "other",
    "otros": "other",
    "sin_especificar": "other",
}


def _impact_kind(key: str) -> str | None:
    return IMPACT_KIND.get(key) or kind_lookup(key)


def read_monitoring(path: Path) -> gpd.GeoDataFrame:
    """Read the indigenous monitors' impact records (CSV with lon/lat, or GeoJSON) as incidents.

    Parameters
    ----------
    path : pathlib.Path
        ``monitoreo-indigena*.csv`` (``codigo``, ``tipo_impacto``, ``detecto``, ``lon``, ``lat``,
        ...) or the same records as a vector file.

    Returns
    -------
    geopandas.GeoDataFrame
        One incident per record: ``codigo`` -> incident_id, ``detecto`` -> date (raw text: the
        formats are mixed), ``tipo_impacto`` -> kind, ``descripcion`` -> description,
        ``federacion`` -> source, precision "exact", sensitivity "restricted"; the data-entry
        person ``responsable`` renamed ``reporter`` (a personal field, dropped by public outputs).

    Raises
    ------
    SourceError
        The file is missing, unreadable, or lacks ``codigo``, ``detecto``, ``tipo_impacto`` or
        coordinates.
    """
    table, geoms, crs, coords = read_points(
        path,
        "an indigenous monitoring table",
        {"codigo": ("codigo",), "detecto": ("detecto",), "tipo_impacto": ("tipo_impacto",)},
    )
    columns = list(table.columns)
    col = {
        name: find_column(columns, (name,))
        for name in (
            "codigo",
            "detecto",
            "tipo_impacto",
            "descripcion",
            "federacion",
            "responsable",
        )
    }
    # As text whatever the source type (a number or no value at all in a GeoJSON).
    federation = table[col["federacion"]].astype("string") if col["federacion"] else None
    source = (
        (federation.str.strip() + ": " + SOURCE_SUFFIX).fillna(SOURCE_SUFFIX)
        if federation is not None
        else SOURCE_SUFFIX
    )
    canonical = {
        "incident_id": table[col["codigo"]],
        "date": table[col["detecto"]],
        "kind": recode(table[col["tipo_impacto"]], _impact_kind),
        "description": table[col["descripcion"]] if col["descripcion"] else None,
        "source": source,
        "precision": "exact",
        "sensitivity": "restricted",
    }
    notes = [
        "detecto -> date as raw text (mixed formats such as 2018-03-23, 19/05/2016, 16-19/06/2016)",
        "tipo_impacto -> kind: 'Derrame ...' and produced water ('agua producida', 'aguas de "
        "producción') -> spill; felled trees -> deforestation; 'Botadero' (waste dump), 'otro', "
        "'Sin especificar' -> other; tipo_impacto kept",
        "federacion -> source ('FEDIQUEP: monitoreo ambiental indígena ...'); federacion kept",
        "responsable (the data-entry person) renamed reporter: a personal field, not mapped to "
        "any canonical column",
        "precision 'exact' (monitors' GPS points); sensitivity 'restricted' (community data)",
    ]
    renames = {col["responsable"]: "reporter"} if col["responsable"] else {}
    consumed = [col["codigo"], col["detecto"], col["descripcion"], *coords]
    out = assemble(table, geoms, crs, "incidents", canonical, consumed=consumed, renames=renames)
    return finish(out, NAME, notes, LICENCE)
