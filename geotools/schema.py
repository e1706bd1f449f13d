"""Canonical layers, their columns and vocabularies, and the alias table for source field names.

Every reader maps its source onto these English snake_case columns once, here, so the analyses never
see a Spanish or agency-specific field name. Extra columns are kept untouched. Official names are
values and are never translated.
"""

from __future__ import annotations

import difflib
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import pandas as pd

from geotools.errors import ValidationError

log = logging.getLogger(__name__)

#: Who an output is for: ``public`` (safe to share) or ``internal`` (exact; never share it).
Profile = Literal["public", "internal"]
PROFILES: tuple[Profile, ...] = ("public", "internal")
#: Language of maps and their texts.
Lang = Literal["es", "en"]
LANGS: tuple[Lang, ...] = ("es", "en")
#: Geodesic distance (km) within which an incident or a line outside a territory is "nearby".
DEFAULT_NEARBY_KM = 5.0
#: Half-life (years) of an incident's weight in the risk score (and in the risk surface of a run).
DEFAULT_HALF_LIFE_YEARS = 10.0

POLYGONAL = ("Polygon", "MultiPolygon")
PUNTAL = ("Point", "MultiPoint")
LINEAL = ("LineString", "MultiLineString")


@dataclass(frozen=True)
class LayerSpec:
    """Description of one canonical layer.

    Attributes
    ----------
    name : str
        Layer kind (``territories``, ``parcels``, ...).
    geometry_types : tuple of str
        Geometry types the layer accepts.
    id_column : str or None
        Column that must be present and unique.
    required : tuple of str
        Columns that must be present after alias mapping.
    optional : tuple of str
        Canonical optional columns (kept when present).
    defaults : dict
        Value used when an optional column is missing entirely.
    """

    name: str
    geometry_types: tuple[str, ...]
    id_column: str | None
    required: tuple[str, ...]
    optional: tuple[str, ...]
    defaults: Mapping[str, object] = field(default_factory=dict)


LAYERS: dict[str, LayerSpec] = {
    "territories": LayerSpec(
        "territories",
        POLYGONAL,
        "territory_id",
        ("territory_id",),
        ("name", "people", "community", "claim_source", "claim_date", "legal_titled_ha"),
    ),
    "parcels": LayerSpec(
        "parcels",
        POLYGONAL,
        "parcel_id",
        ("parcel_id",),
        ("tenure", "territory_id", "title_date", "registry_ref"),
        {"tenure": "titled"},
    ),
    "concessions": LayerSpec(
        "concessions",
        POLYGONAL,
        "concession_id",
        ("concession_id",),
        ("kind", "status", "holder", "granted_date"),
        {"status": "active", "kind": "other"},
    ),
    "incidents": LayerSpec(
        "incidents",
        PUNTAL,
        "incident_id",
        ("incident_id", "date"),
        (
            "kind",
            "severity",
            "description",
            "victims",
            "source",
            "precision",
            "sensitivity",
        ),
        {"sensitivity": "restricted", "precision": "exact", "kind": "other"},
    ),
    "infrastructure": LayerSpec(
        "infrastructure",
        LINEAL,
        None,
        (),
        ("kind", "name", "km_start", "km_end"),
    ),
    # Community points (IBC / SICNA / Ministerio de Cultura registries): public places, so no
    # date and no sensitivity; personal fields in the source still follow the privacy rules.
    "communities": LayerSpec(
        "communities",
        PUNTAL,
        "community_id",
        ("community_id",),
        ("name", "people", "population", "families", "river", "precision"),
        {"precision": "exact"},
    ),
    # Any other polygon layer for community membership (protected areas, oil blocks, districts):
    # read and validated like the others, given by name with --areas NAME=FILE.
    "areas": LayerSpec(
        "areas",
        POLYGONAL,
        "area_id",
        ("area_id",),
        ("name", "kind", "status"),
    ),
}

#: Location precision given to a record whose precision is outside the vocabulary (fail safe).
COARSEST_PRECISION = "district"

VOCABULARIES: dict[str, dict[str, tuple[str, ...]]] = {
    "parcels": {"tenure": ("titled", "cession_in_use", "demarcated", "in_process")},
    "concessions": {
        "kind": ("mining", "oil_gas", "agribusiness", "forestry", "other"),
        "status": ("active", "in_process", "expired"),
    },
    "incidents": {
        "kind": (
            "threat",
            "attack",
            "killing",
            "arson",
            "eviction",
            "invasion",
            "deforestation",
            "spill",
            "protest_casualty",
            "criminalization",
            "other",
        ),
        "precision": ("exact", "approximate", "locality", "district"),
        "sensitivity": ("public", "restricted", "confidential"),
    },
    "communities": {"precision": ("exact", "approximate", "locality", "district")},
    # Lines measured by the infrastructure analysis and styled on maps; other kinds are kept
    # (drawn with the neutral style) and reported in the ledger.
    "infrastructure": {"kind": ("pipeline", "road", "power_line")},
}

#: Default severity (1-5) of an incident by kind when the source gives none.
DEFAULT_SEVERITY: dict[str, int] = {
    "threat": 2,
    "attack": 4,
    "killing": 5,
    "arson": 4,
    "eviction": 3,
    "invasion": 3,
    "deforestation": 2,
    "spill": 3,
    "protest_casualty": 5,
    "criminalization": 2,
    "other": 1,
}

#: Source field name (normalised: lower case, no accents, non-alphanumerics as "_") -> canonical
#: column, per layer. The first alias present in a source wins; an exact canonical name always wins.
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "territories": {
        "territory_id": (
            "codigo",
            "cod_comuni",
            "id_comunidad",
            "fid_comuni",
            "id_territorio",
            "id",
            "objectid",
        ),
        "name": ("nombre", "nom_comuni", "nomb_comun", "comunidad_nativa", "name_field"),
        "people": ("etnia", "pueblo", "pueblo_indigena", "ethnicities_field", "ethnicity"),
        "community": ("comunidad", "tipo_comunidad"),
        "claim_source": ("fuente", "source", "source_field"),
        "claim_date": ("fecha", "fecha_reclamo", "fecha_solicitud"),
        # Legal (registered) titled area in hectares, 0 = unknown: the national cadastre's
        # area_titul, the Amazon Mining Watch layer's area_field.
        "legal_titled_ha": ("area_titul", "area_titulada", "area_field"),
    },
    "parcels": {
        "parcel_id": ("codigo", "cod_predio", "id_predio", "partida", "id", "objectid"),
        "tenure": ("tenencia", "estado", "estado_titulacion", "situacion"),
        "territory_id": ("id_territorio", "cod_comuni"),
        "title_date": ("fecha_titulo", "fecha_titulacion", "fec_titulo"),
        "registry_ref": ("partida_registral", "ficha_registral", "registro"),
    },
    "concessions": {
        "concession_id": ("codigou", "cod_concesion", "codigo", "lote", "id", "objectid"),
        "kind": ("tipo", "actividad", "sector"),
        "status": ("estado", "d_estado", "situacion"),
        "holder": ("titular", "tit_conces", "empresa", "operador"),
        "granted_date": ("fecha_otorgamiento", "fec_denu", "fecha", "fec_otorga"),
    },
    "incidents": {
        "incident_id": ("event_id_cnty", "id_incidente", "codigo", "id", "objectid"),
        "date": ("fecha", "event_date", "detecto", "fecha_evento"),
        "kind": ("tipo", "tipo_incidente", "event_type", "tipo_impacto"),
        "severity": ("severidad", "gravedad"),
        "description": ("descripcion", "notes", "detalle"),
        "victims": ("victimas", "afectados", "fatalities"),
        "source": ("fuente", "source_name"),
        "precision": ("precision_geo", "geo_precision"),
        # Level-type names only: a column named after one class ("confidencial": sí/no) is a
        # yes/no marker, read by geotools.privacy.resolve_sensitivity, never renamed here.
        "sensitivity": (
            "sensibilidad",
            "confidencialidad",
            "privacidad",
            "sensitividad",
            "nivel_privacidad",
            "nivel_de_privacidad",
            "nivel_confidencialidad",
            "nivel_de_confidencialidad",
            "nivel_sensibilidad",
            "nivel_acceso",
            "nivel_de_acceso",
            "acceso",
            "privacy",
            "privacy_level",
            "confidentiality",
            "sensitivity_level",
            "access_level",
        ),
    },
    "communities": {
        "community_id": (
            "codigo",
            "cod_comuni",
            "id_comunidad",
            "codigo_comunidad",
            "id",
            "objectid",
        ),
        "name": ("nombre", "nom_comuni", "nomb_comun", "comunidad", "comunidad_nativa"),
        "people": ("etnia", "pueblo", "pueblo_indigena", "grupo_etnico"),
        "population": ("poblacion", "habitantes", "pob_total"),
        "families": ("familias", "n_familias", "num_familias"),
        "river": ("rio", "cuenca"),
        "precision": ("precision_geo", "geo_precision"),
    },
    "areas": {
        "area_id": ("codigo", "anp_codi", "lote", "ubigeo", "iddist", "id", "objectid"),
        "name": ("nombre", "anp_nomb", "nom_lote", "nombdist", "nombre_area"),
        "kind": ("tipo", "categoria", "anp_cate", "clase"),
        "status": ("estado", "situacion", "fase"),
    },
    "infrastructure": {
        "kind": ("tipo",),
        "name": ("nombre", "ramal", "tramo"),
        "km_start": ("km_inicio", "km_ini"),
        "km_end": ("km_fin", "km_final"),
    },
}

#: Source values (normalised) -> canonical vocabulary values, per layer and column.
VALUE_ALIASES: dict[str, dict[str, dict[str, str]]] = {
    "parcels": {
        "tenure": {
            "titulada": "titled",
            "titulado": "titled",
            "inscrita": "titled",
            "titulo": "titled",
            "cesion_en_uso": "cession_in_use",
            "cesion_uso": "cession_in_use",
            "demarcada": "demarcated",
            "demarcado": "demarcated",
            "en_tramite": "in_process",
            "en_proceso": "in_process",
            "solicitud": "in_process",
            "ampliacion": "in_process",
        }
    },
    "concessions": {
        "kind": {
            "mineria": "mining",
            "minera": "mining",
            "hidrocarburos": "oil_gas",
            "petroleo": "oil_gas",
            "lote_petrolero": "oil_gas",
            "agroindustria": "agribusiness",
            "palma_aceitera": "agribusiness",
            "forestal": "forestry",
            "otro": "other",
        },
        "status": {
            "activa": "active",
            "activo": "active",
            "vigente": "active",
            "titulada": "active",
            # INGEMMET cadastre (D_ESTADO): titled rights are in force, petitions in process.
            "titulado": "active",
            "d_m_titulado": "active",
            "d_m_titulado_d_l_109": "active",
            "d_m_en_tramite": "in_process",
            "petitorio": "in_process",
            "petitorio_en_tramite": "in_process",
            "extinguido": "expired",
            "d_m_extinguido": "expired",
            "en_tramite": "in_process",
            "en_proceso": "in_process",
            "tramite": "in_process",
            "extinguida": "expired",
            "caducada": "expired",
            "vencida": "expired",
        },
    },
    "incidents": {
        "kind": {
            "amenaza": "threat",
            "ataque": "attack",
            "agresion": "attack",
            "asesinato": "killing",
            "homicidio": "killing",
            "incendio": "arson",
            "desalojo": "eviction",
            "invasion": "invasion",
            "deforestacion": "deforestation",
            "derrame": "spill",
            "criminalizacion": "criminalization",
            "otro": "other",
        },
        "precision": {
            "exacta": "exact",
            "aproximada": "approximate",
            "localidad": "locality",
            "distrito": "district",
        },
        "sensitivity": {
            "publico": "public",
            "publica": "public",
            "restringido": "restricted",
            "restringida": "restricted",
            "confidencial": "confidential",
            "reservado": "confidential",
            "reservada": "confidential",
            "secreto": "confidential",
            "secreta": "confidential",
            "privado": "confidential",
            "privada": "confidential",
            "private": "confidential",
        },
    },
    "communities": {
        "precision": {
            "exacta": "exact",
            "aproximada": "approximate",
            "localidad": "locality",
            "distrito": "district",
        }
    },
    "infrastructure": {
        "kind": {
            "oleoducto": "pipeline",
            "gasoducto": "pipeline",
            "poliducto": "pipeline",
            "ducto": "pipeline",
            "tuberia": "pipeline",
            "oil_pipeline": "pipeline",
            "gas_pipeline": "pipeline",
            "carretera": "road",
            "camino": "road",
            "trocha": "road",
            "via": "road",
            "linea_electrica": "power_line",
            "linea_de_transmision": "power_line",
        }
    },
}


def normalise_name(text: str) -> str:
    """Return ``text`` lower-cased, without accents, non-alphanumerics collapsed to ``_``.

    Parameters
    ----------
    text : str
        A field name or vocabulary value.

    Returns
    -------
    str
        The normalised key used by the alias tables (``"Nom_Comuni"`` -> ``"nom_comuni"``,
        ``"Cesión en uso"`` -> ``"cesion_en_uso"``).
    """
    decomposed = unicodedata.normalize("NFKD", str(text))
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]+", "_", ascii_text.lower()).strip("_")


@dataclass
class FieldMapping:
    """What a schema mapping did, for the QA ledger and provenance.

    Attributes
    ----------
    renamed : dict of str to str
        Source column -> canonical column.
    defaulted : dict of str to object
        Canonical column -> value used because the column was missing.
    recoded : dict of str to dict
        Canonical column -> {source value: canonical value} for recognised aliases.
    unknown_values : dict of str to list of str
        Canonical column -> values outside the vocabulary (kept as they are).
    """

    renamed: dict[str, str] = field(default_factory=dict)
    defaulted: dict[str, object] = field(default_factory=dict)
    recoded: dict[str, dict[str, str]] = field(default_factory=dict)
    unknown_values: dict[str, list[str]] = field(default_factory=dict)


def _resolve_columns(
    columns: list[str], layer: str, mapping: Mapping[str, str] | None, empty: set[str]
) -> dict[str, str]:
    """Return ``{source column: canonical column}`` for the columns to rename.

    Columns with no value at all (``empty``; e.g. the blank ``Name`` a KML driver adds) never win
    an alias match over a column that has values.
    """
    spec = LAYERS[layer]
    canonical = set(spec.required) | set(spec.optional)
    renames: dict[str, str] = {}
    taken: set[str] = set(c for c in columns if c in canonical)
    user = dict(mapping or {})
    for target, source in user.items():
        if source not in columns:
            raise ValidationError(
                f"field mapping for {layer}: source column {source!r} (for {target!r}) not found; "
                f"columns are {', '.join(map(str, columns))}"
            )
        renames[source] = target
        taken.add(target)
    by_norm: dict[str, str] = {}
    for col in columns:
        by_norm.setdefault(normalise_name(col), col)
    for target, aliases in ALIASES.get(layer, {}).items():
        if target in taken:
            continue
        for alias in (target, *aliases):
            found = by_norm.get(alias)
            if found is None or found in empty:
                continue
            if found not in renames and found not in canonical:
                renames[found] = target
                taken.add(target)
                break
    return renames


def _recode(
    series: pd.Series,
    table: Mapping[str, str],
    vocabulary: tuple[str, ...],
    user: Mapping[str, str] | None = None,
) -> pd.Series:
    """Map known aliases onto the vocabulary; keep other values as they are.

    A user value mapping (``user``, keys normalised) wins over everything, the vocabulary's own
    values included (``{other = "mining"}`` turns a defaulted ``other`` into ``mining``). Each
    distinct value is converted once, then mapped onto the column (a layer of a million parcels
    has a handful of tenure values).
    """
    mine = dict(user or {})

    def convert(value: object) -> object:
        key = normalise_name(str(value))
        if key in mine:
            return mine[key]
        if key in vocabulary:
            return key
        return table.get(key, value)

    lookup = {value: convert(value) for value in series.dropna().unique()}
    return series.map(lookup).where(series.notna(), series)


def canonical_columns(layer: str) -> tuple[str, ...]:
    """Return the canonical columns of ``layer`` (required first), e.g. for error messages.

    Parameters
    ----------
    layer : str
        Layer kind (a key of :data:`LAYERS`).

    Returns
    -------
    tuple of str
        Required columns, then optional ones.
    """
    spec = LAYERS[layer]
    return (*spec.required, *spec.optional)


def check_field_names(layer: str, names: Mapping[str, object] | None, what: str) -> None:
    """Refuse a field mapping, value mapping or default naming a column ``layer`` does not have.

    Parameters
    ----------
    layer : str
        One of :data:`LAYERS`.
    names : mapping of str to object, optional
        ``{canonical column: ...}`` as the user wrote it.
    what : str
        What the names are for the message (``"field mapping"``, ``"default"``...).

    Raises
    ------
    ValidationError
        A name is not a canonical column; the message lists the valid ones.
    """
    valid = canonical_columns(layer)
    for name in names or {}:
        if name not in valid:
            close = difflib.get_close_matches(str(name), valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValidationError(
                f"{layer}: unknown column {name!r} in the {what}{hint}; {layer} columns are "
                f"{', '.join(valid)}"
            )


def normalise_schema(
    frame: gpd.GeoDataFrame,
    layer: str,
    mapping: Mapping[str, str] | None = None,
    values: Mapping[str, Mapping[str, str]] | None = None,
    defaults: Mapping[str, object] | None = None,
) -> tuple[gpd.GeoDataFrame, FieldMapping]:
    """Map a source layer onto the canonical columns of ``layer``.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The layer as read.
    layer : str
        One of :data:`LAYERS`.
    mapping : mapping of str to str, optional
        User mapping ``{canonical column: source column}``; it wins over the alias table.
    values : mapping of str to mapping, optional
        User vocabulary mapping ``{canonical column: {source value: canonical value}}``; it wins
        over the built-in value aliases and the vocabulary (keys are compared lower-cased,
        without accents), in any canonical column.
    defaults : mapping of str to object, optional
        ``{canonical column: value}`` for a whole layer (``{"kind": "mining"}`` for a mining
        cadastre): fills the column when the source has none, and its empty cells; wins over the
        built-in defaults. Value mappings and vocabularies then apply to it.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with canonical columns (extra columns kept) and vocabularies recoded.
    FieldMapping
        What was renamed, defaulted and recoded, and unknown vocabulary values.

    Raises
    ------
    ValidationError
        If a required column is missing, or a mapping or default names an unknown column.
    """
    if layer not in LAYERS:
        raise ValidationError(f"unknown layer kind {layer!r}; use one of {', '.join(LAYERS)}")
    check_field_names(layer, mapping, "field mapping")
    check_field_names(layer, values, "value mapping")
    check_field_names(layer, defaults, "defaults")
    spec = LAYERS[layer]
    report = FieldMapping()
    columns = [c for c in frame.columns if c != frame.geometry.name]
    empty = {c for c in columns if frame[c].isna().all()} if len(frame) else set()
    renames = _resolve_columns(columns, layer, mapping, empty)
    # A user mapping wins over a column that already has the canonical name: keep that one as
    # <name>_original rather than end with two columns of the same name.
    for source, target in list(renames.items()):
        if target in columns and target != source and target not in renames:
            renames[target] = f"{target}_original"
    out = frame.rename(columns=renames).copy()
    report.renamed = dict(renames)
    missing = [c for c in spec.required if c not in out.columns]
    if spec.id_column in missing and len(out):
        # An id is required for accounting; when the source has none, number the features.
        prefix = spec.id_column.removesuffix("_id")
        out[spec.id_column] = [f"{prefix}-{i + 1}" for i in range(len(out))]
        report.defaulted[spec.id_column] = "sequential (source has no id column)"
        missing.remove(spec.id_column)
    if missing:
        raise ValidationError(
            f"{layer}: required column(s) {', '.join(missing)} not found among "
            f"{', '.join(map(str, columns)) or 'no columns'}; rename them or pass a field mapping "
            f"such as --map {layer}.{missing[0]}=SOURCE_COLUMN"
        )
    for column, value in {**spec.defaults, **(defaults or {})}.items():
        if column not in out.columns:
            out[column] = value
            report.defaulted[column] = value
        elif value is not None:
            empty_cells = int(out[column].isna().sum())
            out[column] = out[column].where(out[column].notna(), value)
            if empty_cells and column in (defaults or {}):
                report.defaulted[column] = f"{value} (in {empty_cells} empty cell(s))"
    if spec.id_column:
        out[spec.id_column] = out[spec.id_column].astype(str)
    vocabularies = VOCABULARIES.get(layer, {})
    for column in (*vocabularies, *(c for c in values or {} if c not in vocabularies)):
        if column not in out.columns:
            continue
        vocabulary = vocabularies.get(column, ())
        table = VALUE_ALIASES.get(layer, {}).get(column, {})
        user_values = (values or {}).get(column, {})
        user = {normalise_name(k): v for k, v in user_values.items()}
        before = out[column]
        after = _recode(before, table, vocabulary, user)
        changed = before.notna() & (before.astype(str) != after.astype(str))
        if changed.any():
            pairs = dict(zip(before[changed].astype(str), after[changed].astype(str), strict=True))
            report.recoded[column] = dict(sorted(pairs.items()))
        out[column] = after
        unknown = sorted({str(v) for v in after.dropna() if v not in vocabulary})
        if unknown and vocabulary:
            report.unknown_values[column] = unknown
            log.warning(
                "%s: column %r has values outside the vocabulary (%s): %s",
                layer,
                column,
                f"treated as {COARSEST_PRECISION!r}, the coarsest; see the QA report"
                if column == "precision"
                else "kept as they are",
                ", ".join(unknown[:10]),
            )
    if layer == "incidents":
        severity = out.get("severity")
        default = out["kind"].map(DEFAULT_SEVERITY).fillna(1)
        if severity is None:
            out["severity"] = default.astype(int)
            report.defaulted["severity"] = "by kind"
        else:
            numeric = pd.to_numeric(severity, errors="coerce")
            out["severity"] = numeric.fillna(default).clip(1, 5).astype(int)
    return out, report


def describe_field_mapping() -> str:
    """Return the alias and vocabulary tables as Markdown (the text of ``docs/fields.md``)."""
    lines = [
        "# Field names and values geotools recognises",
        "",
        "Generated from `geotools/schema.py` by `python scripts/write_field_docs.py`; a test keeps",
        "it in sync. Source names are compared lower-cased, without accents, with any run of other",
        "characters read as `_` (`Nom_Comuni`, `NOM COMUNI` and `nom-comuni` all match",
        "`nom_comuni`). An exact canonical name always wins; then the aliases in the order shown;",
        "a user mapping (`--map`, or `[layers.X.mapping]` in a project file) wins over both.",
        "Columns with no value at all never win an alias match.",
        "",
    ]
    for layer, spec in LAYERS.items():
        lines += [f"## {layer}", "", "| canonical column | source names recognised |", "|---|---|"]
        for column in (*spec.required, *spec.optional):
            aliases = ALIASES.get(layer, {}).get(column, ())
            required = f"**{column}**" if column in spec.required else column
            lines.append(f"| {required} | {', '.join(f'`{a}`' for a in aliases) or '-'} |")
        lines.append("")
        for column, vocabulary in VOCABULARIES.get(layer, {}).items():
            default = spec.defaults.get(column)
            lines += [
                f"`{column}` vocabulary: {', '.join(f'`{v}`' for v in vocabulary)}"
                + (f" (missing: `{default}`)." if default is not None else "."),
                "",
            ]
            table = VALUE_ALIASES.get(layer, {}).get(column, {})
            if table:
                lines += ["| source value | becomes |", "|---|---|"]
                lines += [f"| `{k}` | `{v}` |" for k, v in table.items()]
                lines.append("")
    lines += [
        "Values outside a vocabulary are kept as given and listed in the QA report",
        "(`notes.fields.unknown_values`); they are never silently recoded.",
        "",
    ]
    return "\n".join(lines)
