"""``acled``: Armed Conflict Location & Event Data (ACLED) exports."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geotools.io.importers._common import (
    assemble,
    find_column,
    finish,
    normalised_text,
    point_array,
    read_table,
    require,
)

NAME = "acled"
LICENCE = (
    "ACLED terms of use forbid redistributing raw event data: publish aggregates only, "
    "with attribution (ACLED, acleddata.com)"
)

#: ACLED ``geo_precision`` -> canonical precision. 1 = the event is coded to a named town or
#: village (its centroid, not a GPS point): ``locality``. 2 = "near"/"part of" a town or a
#: district-level area: ``district``. 3 = only a larger region is known and the provincial capital
#: or the region's centroid is used: coarser than a district, but ``district`` is the coarsest value
#: of the vocabulary.
GEO_PRECISION: dict[int, str] = {1: "locality", 2: "district", 3: "district"}

#: (event type, sub-event type) -> kind, normalised names; the sub-event wins over the type.
#: Conservative: only what the ACLED codebook definition implies.
SUB_EVENT_KIND: dict[str, str] = {
    "armed_clash": "attack",
    "attack": "attack",
    "sexual_violence": "attack",
    "abduction_forced_disappearance": "attack",
    "air_drone_strike": "attack",
    "shelling_artillery_missile_attack": "attack",
    "remote_explosive_landmine_ied": "attack",
    "grenade": "attack",
    "suicide_bomb": "attack",
    "excessive_force_against_protesters": "protest_casualty",
    "looting_property_destruction": "other",
    "arrests": "other",
}
EVENT_TYPE_KIND: dict[str, str] = {
    "battles": "other",
    "violence_against_civilians": "attack",
    "explosions_remote_violence": "attack",
    "protests": "other",
    "riots": "other",
    "strategic_developments": "other",
}
#: Event types whose events with fatalities > 0 become ``protest_casualty``.
PROTEST_TYPES = ("protests", "riots")


def _kind(event_type: pd.Series, sub_event: pd.Series, deaths: np.ndarray) -> pd.Series:
    """Return the canonical kind of each event (vectorised over the distinct values)."""
    etype = normalised_text(event_type)
    sub = normalised_text(sub_event)
    kind = sub.map(SUB_EVENT_KIND).fillna(etype.map(EVENT_TYPE_KIND)).astype(object)
    killed = deaths > 0
    protest = etype.isin(PROTEST_TYPES).to_numpy(dtype=bool)
    civilians = (etype == "violence_against_civilians").to_numpy(dtype=bool)
    mob = (sub == "mob_violence").to_numpy(dtype=bool)
    kind[killed & protest & ~mob] = "protest_casualty"
    kind[killed & civilians] = "killing"
    # Unknown types are kept as given (the schema layer lists them).
    raw = sub_event.where(sub_event.notna(), event_type).astype(object)
    return kind.where(kind.notna(), raw)


def read_acled(path: Path) -> gpd.GeoDataFrame:
    """Read an ACLED CSV (or XLSX) export into the canonical incident columns.

    Parameters
    ----------
    path : pathlib.Path
        An export of the ACLED data tool or API with at least ``event_id_cnty``, ``event_date``,
        ``event_type`` (the kind of each event is read from it), ``latitude`` and ``longitude``.

    Returns
    -------
    geopandas.GeoDataFrame
        One incident per event, EPSG:4326; ``sensitivity`` "public" (ACLED events are
        published); every other ACLED column kept as it is.

    Raises
    ------
    SourceError
        The file is missing, unreadable or lacks one of the columns above.
    """
    table = read_table(path)
    cols = require(
        table.columns,
        path,
        {
            "event_id_cnty": ("event_id_cnty",),
            "event_date": ("event_date",),
            "event_type": ("event_type",),
            "latitude": ("latitude",),
            "longitude": ("longitude",),
        },
        "an ACLED export",
    )
    columns = list(table.columns)
    get = {
        name: find_column(columns, (name,))
        for name in ("event_type", "sub_event_type", "geo_precision", "fatalities", "notes")
    }
    source_col = find_column(columns, ("source",))
    geoms = point_array(table[cols["longitude"]], table[cols["latitude"]])
    n = len(table)
    empty = pd.Series([None] * n, dtype=object)

    deaths_raw = table[get["fatalities"]] if get["fatalities"] else empty
    deaths = pd.to_numeric(deaths_raw, errors="coerce")
    unit = pd.Series(
        np.where(deaths == 1, " fatality", " fatalities"), index=table.index, dtype="string"
    )
    victims: pd.Series = deaths.round().astype("Int64").astype("string").str.cat(unit)
    deaths_np = deaths.fillna(0).to_numpy(dtype=float)

    geo = (
        pd.to_numeric(table[get["geo_precision"]], errors="coerce")
        if get["geo_precision"]
        else empty
    )
    precision = geo.map(GEO_PRECISION).astype(object)
    precision = precision.where(precision.notna() & pd.notna(geoms), None)

    kind = _kind(
        table[get["event_type"]] if get["event_type"] else empty,
        table[get["sub_event_type"]] if get["sub_event_type"] else empty,
        deaths_np,
    )
    source = table[source_col].fillna("ACLED") if source_col else "ACLED"
    canonical = {
        "incident_id": table[cols["event_id_cnty"]],
        "date": table[cols["event_date"]],
        "kind": kind,
        "description": table[get["notes"]] if get["notes"] else None,
        "victims": victims.astype(object).where(deaths.notna(), None),
        "source": source,
        "precision": precision,
        "sensitivity": "public",
    }
    notes = [
        "event_date kept as text (ISO or 'dd Month yyyy' as exported)",
        "geo_precision 1 -> locality (coded to a town/village centroid, not a GPS point); "
        "2 -> district; 3 -> district (the coarsest value; ACLED 3 is a province or region)",
        "kind from sub_event_type/event_type: armed clash, attack, explosions/remote violence, "
        "abduction, sexual violence -> attack; violence against civilians with fatalities -> "
        "killing; excessive force against protesters, or protests/violent demonstrations with "
        "fatalities -> protest_casualty; other battles, protests, riots (incl. mob violence) and "
        "strategic developments (incl. looting/property destruction, arrests) -> other; "
        "event_type and sub_event_type kept",
        "fatalities -> victims as a count ('3 fatalities'; ACLED counts are conservative "
        "estimates); the numeric fatalities column is kept",
        "sensitivity 'public' (ACLED events are published), but see the licence note",
    ]
    kept = cols["event_type"]  # event_type stays in the output, as the notes say
    consumed: list[str | None] = [
        *(c for c in cols.values() if c != kept),
        get["notes"],
        source_col,
    ]
    out = assemble(table, geoms, "EPSG:4326", "incidents", canonical, consumed=consumed)
    return finish(out, NAME, notes, LICENCE)
