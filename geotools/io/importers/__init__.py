"""Source importers: read a known export format straight into a canonical layer.

``import_file(source, path)`` returns ``(layer kind, frame)``: the frame uses the canonical
columns of DESIGN §2 for its layer (every one of them present; empty where the source has nothing,
so that the schema defaults apply), in source order, one row per source record, in EPSG:4326 (or
the file's CRS for vector files). Records without usable coordinates are kept with an empty
geometry, so that the QA ledger rejects them with a reason: nothing disappears silently. Dates stay
the raw source text (parsed later). Vocabularies are recoded only where the source has a clear
equivalent; other values are kept as given (the schema layer lists them). Source columns copied
verbatim into a canonical column are dropped; columns that were recoded are kept as they are
(e.g. ACLED ``event_type``); every other source column is kept, prefixed ``src_`` only if its
name would clash with a canonical one. Coordinate columns become the geometry and are dropped: a
copy of the coordinates in the attributes would survive the generalisation of restricted
incidents. Personal fields are renamed so that the privacy profiles drop them (``reporter``,
``phone``). ``frame.attrs["geotools_import"]`` holds ``{"source", "notes", "licence"}``: the
notes say what was mapped, assumed or dropped.

Dictionary of importers
-----------------------
csv (incidents)
    Any table of points (CSV/TSV with lon/lat or WKT columns, GeoParquet, any vector file) read by
    ``geotools.io.read_frame``. Columns found through the schema alias table (``fecha``/``date``
    -> date, ``tipo`` -> kind, ``descripcion``/``notes`` -> description, ``fuente`` -> source,
    ...); kind, precision and sensitivity recoded where clear. No date column: error. No id
    column: incident-1, incident-2, ... in file order.

mapeo (incidents)
    Mapeo / CoMapeo GeoJSON export of observations; tags nested (``tags``) or flattened
    (``tags.x``, ``tags_x``, plain keys). id/docId (else the feature id) -> incident_id; a
    ``date``/``fecha`` tag (the date the observer entered) else ``created_at``/``createdAt`` ->
    date; ``categoryId`` tag, else the ``type`` tag -> kind (never the document type
    "observation"), recoded (``amenaza`` -> threat, ``oil-spill`` -> spill; unknown categories
    kept); ``notes`` tag -> description. Sensitivity left empty, so the schema default "restricted"
    applies (community-held data), unless a ``sensitivity``/``sensibilidad`` tag sets it. Precision
    from the GPS metadata when exported (accuracy <= 50 m exact; coarser, 0 or a manual location
    approximate).
    Other tags kept as ``tag_<name>``, lists (attachments) as JSON text; ``metadata.*`` (device,
    exact GPS fix) dropped.

kobo (incidents)
    KoboToolbox / ODK CSV (``,`` or ``;``) or XLSX export. Geometry from the first geopoint: split
    ``_<field>_latitude``/``_longitude``/``_altitude``/``_precision`` (Kobo) or
    ``<field>-Latitude``/``-Accuracy`` (ODK Central), or one column of "lat lon alt accuracy".
    incident_id from ``_uuid``, else ``_id``, else ``instanceID``; date from a ``fecha``/``date``
    question, else ``_submission_time``/``SubmissionDate``. Precision from the accuracy: <= 50 m
    exact, > 50 m approximate, 0 (point placed on the map or typed: not a GPS fix) approximate.
    Questions named like canonical columns (``tipo``, ``descripcion``, ``victimas``, ...) mapped;
    ``_submitted_by``/``username`` -> reporter, ``phonenumber`` -> phone; device and SIM ids
    dropped; altitude and accuracy kept as ``gps_altitude_m``, ``gps_accuracy_m``.

acled (incidents)
    ACLED CSV/XLSX export (needs ``event_id_cnty``, ``event_date``, ``event_type``,
    ``latitude``, ``longitude``).
    event_id_cnty -> incident_id; event_date -> date (text); notes -> description; source ->
    source. geo_precision 1 -> locality (coded to a town or village, not a GPS point), 2 ->
    district, 3 -> district (ACLED 3 is a province or region: coarser, but district is the
    coarsest value we have). fatalities -> victims as "3 fatalities". Kind, conservatively:
    armed clash, attack, explosions/remote violence, abduction, sexual violence -> attack;
    violence against civilians with fatalities -> killing; excessive force against protesters, or
    protests and violent demonstrations with fatalities -> protest_casualty; other protests, riots,
    mob violence and strategic developments (looting/property destruction, arrests) -> other.
    Sensitivity "public" (published events), but ACLED's terms forbid redistributing raw events.

defensoria (incidents)
    Defensoría del Pueblo mining social-conflict table (warthon-190399/conflictos_minas; CSV, XLSX
    or GeoJSON). No ids and no event dates in the table: incident_id ``DP-<YYYY-MM>-001`` by row
    order, date the report month (from the file name, default 2024-03). caso -> name and
    description; kind "other" (a social conflict); vio_if = "Sí" (violence reported) -> severity 3,
    kind still "other" (the table does not say what violence); precision "district" (points are
    district/locality geocodes); sensitivity "public"; source "Defensoría del Pueblo, Reporte de
    Conflictos Sociales, <month> (via warthon-190399/conflictos_minas)".

monitoring (incidents)
    Indigenous environmental monitors' impact records (PUINAMUDT federations, Observatorio
    Ambiental Peruano; CSV with lon/lat or GeoJSON). codigo -> incident_id; detecto -> date (raw:
    mixed formats); descripcion -> description; tipo_impacto -> kind: "Derrame ..." and produced
    water ("agua producida", a hydrocarbon discharge) -> spill, felled trees -> deforestation,
    "Botadero" (waste dump), "otro", "Sin especificar" -> other; federacion -> source
    ("FEDIQUEP: monitoreo ambiental indígena ..."). responsable is the data-entry PERSON: renamed
    reporter, mapped to no canonical column. Precision "exact"; sensitivity "restricted".

landmark (territories)
    LandMark-schema indigenous/community lands (any vector format). territory_id from OBJECTID,
    else Code, else id (the first complete and unique one), else LM-1, LM-2, ... by order;
    Name -> name; Ethncty_1 -> people; Category (the state's name for the land type), else
    Identity -> community; Source (else Data_Src) -> claim_source; Date_Data (or Data_Date) ->
    claim_date as text. Form_Rec, Doc_Status, Area_Ofcl kept as form_rec, doc_status,
    area_official_ha (a number; official hectares).
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd

from geotools.errors import SourceError
from geotools.io.importers import acled, defensoria, generic, kobo, landmark, mapeo, monitoring
from geotools.io.importers._common import IMPORT_ATTR, Importer

__all__ = ["IMPORTERS", "IMPORT_ATTR", "Importer", "import_file"]

IMPORTERS: dict[str, Importer] = {
    "csv": Importer(
        "csv",
        "incidents",
        "table of incident points (lon/lat or WKT columns) or any vector file",
        generic.LICENCE,
        generic.read_csv_points,
    ),
    "mapeo": Importer(
        "mapeo",
        "incidents",
        "Mapeo / CoMapeo GeoJSON export of observations",
        mapeo.LICENCE,
        mapeo.read_mapeo,
    ),
    "kobo": Importer(
        "kobo",
        "incidents",
        "KoboToolbox / ODK submissions export (CSV or XLSX) with a geopoint",
        kobo.LICENCE,
        kobo.read_kobo,
    ),
    "acled": Importer(
        "acled",
        "incidents",
        "ACLED event export (CSV or XLSX)",
        acled.LICENCE,
        acled.read_acled,
    ),
    "defensoria": Importer(
        "defensoria",
        "incidents",
        "Defensoría del Pueblo mining social-conflict table (CSV, XLSX or GeoJSON)",
        defensoria.LICENCE,
        defensoria.read_defensoria,
    ),
    "monitoring": Importer(
        "monitoring",
        "incidents",
        "indigenous environmental monitors' impact records (PUINAMUDT; CSV or GeoJSON)",
        monitoring.LICENCE,
        monitoring.read_monitoring,
    ),
    "landmark": Importer(
        "landmark",
        "territories",
        "LandMark-schema indigenous and community lands (any vector format)",
        landmark.LICENCE,
        landmark.read_landmark,
    ),
}


def import_file(source: str, path: str | os.PathLike[str]) -> tuple[str, gpd.GeoDataFrame]:
    """Read ``path`` with the importer ``source``.

    Parameters
    ----------
    source : str
        One of :data:`IMPORTERS` (``csv``, ``mapeo``, ``kobo``, ``acled``, ``defensoria``,
        ``monitoring``, ``landmark``).
    path : str or path-like
        The file to read.

    Returns
    -------
    str
        The canonical layer kind of the frame (``incidents`` or ``territories``).
    geopandas.GeoDataFrame
        The records in canonical column names, source order, one row per source record (those
        without usable coordinates with an empty geometry), EPSG:4326 or the file's CRS;
        ``frame.attrs["geotools_import"]`` = ``{"source", "notes", "licence"}``.

    Raises
    ------
    SourceError
        Unknown importer, missing or unreadable file, or a file not of the expected shape.
    """
    importer = IMPORTERS.get(source)
    if importer is None:
        raise SourceError(f"unknown importer {source!r}; use one of {', '.join(IMPORTERS)}")
    file = Path(path)
    if not file.exists():
        raise SourceError(f"{file}: file not found")
    return importer.layer, importer.read(file)
