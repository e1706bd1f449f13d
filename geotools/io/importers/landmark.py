"""``landmark``: indigenous and community lands in the LandMark (landmarkmap.org) schema."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geotools.errors import SourceError
from geotools.io.importers._common import (
    assemble,
    check_exists,
    find_column,
    finish,
    sequential_ids,
)
from geotools.io.readers import read_frame

NAME = "landmark"
LICENCE = (
    "LandMark (landmarkmap.org): terms vary by data source (see each row's Source/Data_Src); "
    "check them before redistributing, and cite LandMark and the source"
)

#: LandMark fields whose presence (besides ``Name``) identifies the schema.
SIGNATURE = ("ethncty_1", "form_rec", "doc_status", "area_ofcl", "area_gis", "identity", "category")

#: Id columns by preference; the first fully filled and unique one is used.
ID_COLUMNS = ("objectid", "code", "id")


def read_landmark(path: Path) -> gpd.GeoDataFrame:
    """Read a LandMark-schema polygon layer as territories.

    Parameters
    ----------
    path : pathlib.Path
        Any vector file :func:`geotools.io.read_frame` reads (Shapefile, GeoJSON, GeoPackage...).

    Returns
    -------
    geopandas.GeoDataFrame
        One territory per feature: ``Name`` -> name, ``Ethncty_1`` -> people, ``Category`` (else
        ``Identity``) -> community, ``Source`` (else ``Data_Src``) -> claim_source, ``Date_Data``
        (or ``Data_Date``) -> claim_date as text; ``Form_Rec``, ``Doc_Status`` and ``Area_Ofcl``
        kept as ``form_rec``, ``doc_status`` and ``area_official_ha`` (number); the file's CRS.

    Raises
    ------
    SourceError
        The file is missing, unreadable, or lacks ``Name`` and every other LandMark field.
    """
    check_exists(path)
    frame = read_frame(path).reset_index(drop=True)
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    columns = [str(c) for c in table.columns]
    name = find_column(columns, ("name",))
    if name is None or not any(find_column(columns, (f,)) for f in SIGNATURE):
        raise SourceError(
            f"{path}: not a LandMark layer: missing column(s) "
            f"{'Name' if name is None else 'Ethncty_1/Form_Rec/Doc_Status/Identity/Category'} "
            f"(columns are {', '.join(columns[:12])})"
        )
    col = {
        key: find_column(columns, names)
        for key, names in {
            "people": ("ethncty_1",),
            "category": ("category",),
            "identity": ("identity",),
            "source": ("source", "data_src", "data_src_l", "data_ctrb"),
            "date": ("date_data", "data_date"),
            "form_rec": ("form_rec",),
            "doc_status": ("doc_status",),
            "area": ("area_ofcl",),
        }.items()
    }
    notes = []
    ids: object = None
    id_col = None
    for candidate in ID_COLUMNS:
        column = find_column(columns, (candidate,))
        if column is not None and table[column].notna().all() and table[column].is_unique:
            id_col, ids = column, table[column].astype("string")
            notes.append(f"territory_id from {column}")
            break
    if id_col is None:
        ids = sequential_ids("LM", len(table))
        notes.append("no complete unique OBJECTID/Code/id: territory_id LM-1, LM-2, ... by order")
    community_col = col["category"] or col["identity"]
    canonical = {
        "territory_id": ids,
        "name": table[name],
        "people": table[col["people"]] if col["people"] else None,
        "community": table[community_col] if community_col else None,
        "claim_source": table[col["source"]] if col["source"] else None,
        "claim_date": table[col["date"]].astype("string") if col["date"] else None,
    }
    renames = {
        c: new
        for c, new in ((col["form_rec"], "form_rec"), (col["doc_status"], "doc_status"))
        if c is not None
    }
    consumed = [id_col, name, col["people"], community_col, col["source"], col["date"]]
    if col["area"]:
        area = pd.to_numeric(table[col["area"]], errors="coerce")
        bad = int((area.isna() & table[col["area"]].notna()).sum())
        table = table.assign(**{col["area"]: area.to_numpy(dtype=float)})
        renames[col["area"]] = "area_official_ha"
        if bad:
            notes.append(f"{bad} non-numeric Area_Ofcl value(s) read as missing")
    notes += [
        "Name -> name; Ethncty_1 -> people (Ethncty_2... kept); "
        f"{community_col or 'Category/Identity'} -> community; "
        f"{col['source'] or 'Source'} -> claim_source; "
        f"{col['date'] or 'Date_Data'} -> claim_date (raw text: when LandMark's record was made "
        "or edited; Stat_Date, the year the documentation status was reached, is kept)",
        "Form_Rec, Doc_Status, Area_Ofcl kept as form_rec, doc_status, area_official_ha "
        "(official hectares from the title documents; geotools measures true hectares itself)",
    ]
    out = assemble(
        table,
        np.asarray(frame.geometry.values, dtype=object),
        frame.crs,
        "territories",
        canonical,
        consumed=consumed,
        renames=renames,
    )
    return finish(out, NAME, notes, LICENCE)
