"""Privacy rules: personal fields, sensitivity, suppression, allow-lists and safe floors.

What a column, a record or a count may show, decided from names and values alone (no geometry):
the personal fields every public output drops (:data:`PERSONAL_FIELDS`,
:data:`PERSONAL_NAME_PATTERN`), the sensitivity of each incident read from every privacy-marker
column (:func:`resolve_sensitivity`), the strict reading of ``location_generalised``
(:func:`parse_flag`), the allow-lists of public columns (:data:`PUBLIC_LAYER_COLUMNS`), small
counts suppressed (:func:`suppress_counts`), the public policy and its safe floors
(:class:`PrivacyPolicy`, :func:`check_public_policy`) and the text normalisation of the leak
check (:func:`normalise_text`).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geotools.errors import PrivacyError
from geotools.schema import PROFILES, normalise_name

log = logging.getLogger(__name__)

#: Canonical personal fields: never published by the public profile, in any layer.
PERSONAL_FIELDS: tuple[str, ...] = ("victims", "reporter", "phone", "contact", "email")
#: Column names (normalised) that look personal: dropped from every layer by the public profile.
PERSONAL_NAME_PATTERN = re.compile(
    r"(victim|victima|reporter|informante|denunciante|responsable|submitted_by|submitter|"
    r"username|user_name|phone|telefono|telefon|celular|movil|whatsapp|email|e_mail|correo|"
    r"contact|contacto|dni|documento|passport|pasaporte|witness|testigo|address|direccion|"
    r"domicilio|jefe|presidente|president|dirigente|lider|leader|representante|apoderado|"
    r"coordinador|encargado|vocero|portavoz|firmante|declarante|cellphone|"
    # short words matched as whole tokens only ("cel" is not "parcel", "apu" not "apurimac")
    r"(?:^|_)(?:tel|telf|telef|fono|cel|cell|mobile|mail|apu|curaca|ruc_persona)(?:_|$|\d))"
)
#: Incident columns a public bundle may carry (a whitelist); ``description`` for public rows only.
PUBLIC_INCIDENT_COLUMNS: tuple[str, ...] = (
    "incident_id",
    "date",
    "date_end",
    "date_precision",
    "kind",
    "severity",
    "description",
    "source",
    "precision",
    "sensitivity",
)
#: Free-text incident columns published only for ``public`` rows.
FREE_TEXT_COLUMNS: tuple[str, ...] = ("description",)
#: Incident columns holding a controlled vocabulary or a date: never secrets in themselves.
VOCABULARY_COLUMNS: tuple[str, ...] = (
    "kind",
    "severity",
    "precision",
    "sensitivity",
    "date",
    "date_end",
    "date_precision",
    "date_raw",
)

GENERALISED_COLUMN = "location_generalised"
UNCERTAINTY_COLUMN = "location_uncertainty_m"
METHOD_COLUMN = "location_method"

SENSITIVITY_PUBLIC = frozenset({"public", "publico", "público", "publica", "pública"})
SENSITIVITY_RESTRICTED = frozenset({"restricted", "restringido", "restringida"})
#: Margin (m) kept inside ``[min, max]`` so that rounding the published coordinates can never
#: bring a point closer than the minimum (6 decimals move a point by 0.08 m at most).
ROUNDING_MARGIN_M = 1.0


@dataclass(frozen=True)
class PrivacyPolicy:
    """Parameters of the public profile.

    Attributes
    ----------
    min_distance_m, max_distance_m : float
        Geodesic displacement range of restricted incidents (default 2-5 km).
    min_count : int
        Counts below this are published as ``"<min_count"`` (default 3).
    restricted : {"displace", "aggregate"}
        What happens to restricted incidents.
    hex_resolution : int
        H3 resolution of the aggregates (6: cells of about 36 km², edge 3.7 km).
    water_buffer_m : float
        Minimum distance of a displaced point from a water line (rivers as lines).
    """

    min_distance_m: float = 2000.0
    max_distance_m: float = 5000.0
    min_count: int = 3
    restricted: str = "displace"
    hex_resolution: int = 6
    water_buffer_m: float = 100.0

    def __post_init__(self) -> None:
        if not 0 < self.min_distance_m < self.max_distance_m - 2 * ROUNDING_MARGIN_M:
            raise PrivacyError(
                f"displacement range {self.min_distance_m:g}-{self.max_distance_m:g} m: the "
                "minimum must be positive and below the maximum"
            )
        if self.min_count < 1:
            raise PrivacyError(f"minimum count {self.min_count}: must be at least 1")
        if self.restricted not in ("displace", "aggregate"):
            raise PrivacyError(
                f"restricted incidents: {self.restricted!r}; use 'displace' or 'aggregate'"
            )
        if not 0 <= self.hex_resolution <= 15:
            raise PrivacyError(f"H3 resolution {self.hex_resolution}: must be 0-15")


def find_personal_columns(columns: Sequence[object]) -> list[str]:
    """Return the columns that are, or look like, personal fields.

    Parameters
    ----------
    columns : sequence
        Column names.

    Returns
    -------
    list of str
        Columns named like :data:`PERSONAL_FIELDS` or matching :data:`PERSONAL_NAME_PATTERN`
        (compared lower-cased, without accents).

    Examples
    --------
    >>> find_personal_columns(["incident_id", "victims", "Teléfono", "holder"])
    ['victims', 'Teléfono']
    """
    out = []
    for column in columns:
        key = normalise_name(str(column))
        if key in PERSONAL_FIELDS or PERSONAL_NAME_PATTERN.search(key):
            out.append(str(column))
    return out


def classify_sensitivity(values: pd.Series) -> np.ndarray:
    """Return ``"public"``, ``"restricted"`` or ``"confidential"`` for each record.

    A missing value is restricted (DESIGN §2); any value outside the vocabulary is treated as
    confidential (a typo must fail safe).

    Parameters
    ----------
    values : pandas.Series
        The ``sensitivity`` column.

    Returns
    -------
    numpy.ndarray of str
    """
    text = values.astype("string").str.strip().str.lower()
    out = np.full(len(values), "confidential", dtype=object)
    out[text.isin(list(SENSITIVITY_PUBLIC)).fillna(False).to_numpy(dtype=bool)] = "public"
    restricted = text.isin(list(SENSITIVITY_RESTRICTED)).fillna(False) | text.isna()
    out[restricted.to_numpy(dtype=bool)] = "restricted"
    return out


def suppress_counts(counts: Sequence[float] | np.ndarray | pd.Series, minimum: int) -> pd.Series:
    """Publish counts at or above ``minimum`` as numbers and every smaller one (0 included) as
    ``"<minimum"``.

    Zero is suppressed too: publishing 0 next to ``<3`` would tell which cells hold one or two.

    Parameters
    ----------
    counts : array-like of int
    minimum : int

    Returns
    -------
    pandas.Series of str

    Examples
    --------
    >>> suppress_counts([0, 2, 3, 7], 3).tolist()
    ['<3', '<3', '3', '7']
    """
    values = np.asarray(counts, dtype=float)
    text = np.where(
        values >= minimum, np.char.mod("%d", np.nan_to_num(values).astype(np.int64)), ""
    ).astype(object)
    text[values < minimum] = f"<{minimum}"
    return pd.Series(text, dtype=object)


#: Format characters (Unicode category Cf: soft hyphen, zero-width space/joiners, BOM, bidi
#: marks...) and variation selectors: invisible, dropped before matching.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\U000110bd\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    "\U000e0100-\U000e01ef]"
)
#: Latin look-alikes in other scripts (Cyrillic, Greek, IPA), mapped to the Latin letter they
#: imitate before case folding (NFKC already maps fullwidth and mathematical letters).
_CONFUSABLES = str.maketrans(
    {
        **dict(zip("АВЕЅІЈКМНОРСТХУҮҺԀԚԜӀ", "ABESIJKMHOPCTXYYHDQWI", strict=True)),
        **dict(zip("аеѕіјкмоорсхуүһԁԛԝӏвнтё", "aesijkmoopcxyyhdqwlbhte", strict=True)),
        **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX", strict=True)),
        **dict(zip("αβεικνορτυχςϲ", "abeiknoptuxcc", strict=True)),
        **dict(zip("ɑɡıȷℓ", "agijl", strict=True)),
    }
)


def normalise_text(text: str) -> str:
    """Normalise text for leak matching: one form for every way of writing the same letters.

    Unicode compatibility decomposition (NFKD: NFKC's mapping of fullwidth, ligature and
    mathematical letters, with the accents split off), format characters (soft hyphen,
    zero-width space/joiners, BOM) dropped, Cyrillic/Greek look-alikes mapped to Latin, case
    folded, accents stripped, whitespace collapsed.

    Parameters
    ----------
    text : str

    Returns
    -------
    str

    Examples
    --------
    >>> normalise_text("Ma\u00adr\u200bía  QUI\u0455PE")
    'maria quispe'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    visible = _INVISIBLE.sub("", decomposed).translate(_CONFUSABLES)
    plain = "".join(c for c in visible if not unicodedata.combining(c))
    folded = unicodedata.normalize("NFKD", plain.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", folded).strip()


# --------------------------------------------------------------------------------------------
# The privacy gate: what a profile may show (one rule for the map, the PNGs and the bundle)
# --------------------------------------------------------------------------------------------

#: Profiles the gate knows.
#: Safe floors of the public profile: ``publish --profile public`` refuses anything below them.
#: Displacement: at least 2 km, ring at least 1 km wide (so the ring is never a thin circle a
#: few counts can pin down); suppression: counts below 3 are never shown; hexagons: H3
#: resolution 8 at most (mean cell 0.74 km², edge about 530 m).
FLOOR_MIN_DISTANCE_M = 2000.0
FLOOR_RING_WIDTH_M = 1000.0
FLOOR_MIN_COUNT = 3
FLOOR_MAX_HEX_RESOLUTION = 8

#: Normalised column names that look like a privacy marker of an incident (besides the
#: canonical ``sensitivity``). A marker is read (:func:`resolve_sensitivity`) or, when its values
#: cannot be read, the public output is refused: it is never dropped silently.
PRIVACY_MARKER_PATTERN = re.compile(
    r"(sensitiv|sensib|privac|privad|privat|confiden|secret|reservad|acceso|access|visibil|"
    r"clasificacion|restric|publicab|publicar|publish|compartir|difusion|difundir|"
    r"(?:^|_)(?:es_)?public[oa]?(?:_|$))"
)
#: Marker columns whose "yes" means "may be shown" (``publicable = no`` is confidential).
_PERMISSIVE_MARKER = re.compile(r"(public|publish|compartir|difusion|difundir)")
_TRUE_WORDS = frozenset({"true", "yes", "1", "si", "verdadero", "t", "y", "s"})
_FALSE_WORDS = frozenset({"false", "no", "0", "falso", "f", "n"})
_MARKER_WORDS: dict[str, str] = {
    **{w: "public" for w in ("public", "publico", "publica", "abierto", "abierta", "open")},
    **{w: "restricted" for w in ("restricted", "restringido", "restringida", "limitado",
                                  "limitada")},
    **{
        w: "confidential"
        for w in (
            "confidential", "confidencial", "secret", "secreto", "secreta", "private", "privado",
            "privada", "reservado", "reservada", "internal", "interno", "interna", "sensitive",
            "sensible", "no_publicar", "do_not_publish",
        )
    },
}
_RANK = {"public": 0, "restricted": 1, "confidential": 2}
_CLASSES = np.array(["public", "restricted", "confidential"], dtype=object)

#: Incident columns the gate adds or reads that are not privacy markers.
_GATE_COLUMNS = frozenset({GENERALISED_COLUMN, UNCERTAINTY_COLUMN, METHOD_COLUMN})


def parse_flag(values: pd.Series) -> np.ndarray:
    """Read a yes/no column strictly: ``True`` only for true/yes/1/sí (any case, accents).

    Everything else, ``"false"``, ``"no"``, ``"0"``, ``""``, a missing value or anything
    ambiguous, is ``False``: a column that says an incident was already generalised must say so
    unambiguously, otherwise the incident is treated as not generalised (fails safe).

    Parameters
    ----------
    values : pandas.Series

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> parse_flag(pd.Series([True, "false", "Sí", "no", "0", 1, "", None, "maybe"])).tolist()
    [True, False, True, False, False, True, False, False, False]
    """

    def read(value: object) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, float, np.integer, np.floating)):
            return bool(np.isfinite(value) and value == 1)
        if isinstance(value, str):
            return normalise_name(value) in {"true", "yes", "1", "si", "verdadero"}
        return False

    # Each distinct value is read once (a layer of a million rows has a handful of them).
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    truth = np.array([read(u) for u in uniques] + [False], dtype=bool)
    return truth[codes]


def find_privacy_markers(columns: Sequence[object]) -> list[str]:
    """Return the incident columns, other than ``sensitivity``, that look like privacy markers.

    Parameters
    ----------
    columns : sequence
        Column names of an incident layer (compared as text, normalised).

    Returns
    -------
    list of str
        Names, as given and in their order, of the columns other than the gate's own that look
        like an access or privacy flag (:data:`PRIVACY_MARKER_PATTERN`).

    Examples
    --------
    >>> find_privacy_markers(["incident_id", "sensitivity", "Privacidad", "nivel_acceso"])
    ['Privacidad', 'nivel_acceso']
    """
    out = []
    for column in columns:
        key = normalise_name(str(column))
        if column in _GATE_COLUMNS or key == "sensitivity":
            continue
        if PRIVACY_MARKER_PATTERN.search(key):
            out.append(str(column))
    return out


def _marker_classes(column: str, values: pd.Series) -> np.ndarray:
    """Rank (0-2, -1 for no constraint) each value of one marker column puts on its record."""
    permissive = bool(_PERMISSIVE_MARKER.search(normalise_name(column)))
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    ranks = np.full(len(uniques) + 1, -1, dtype=np.int64)  # last: missing, no constraint
    bad = np.zeros(len(uniques) + 1, dtype=bool)
    for i, value in enumerate(uniques):
        if isinstance(value, (bool, np.bool_)):
            key = "true" if value else "false"
        elif isinstance(value, float) and not np.isfinite(value):
            continue
        else:
            key = normalise_name(str(value))
        if key in ("", "nan", "none"):
            continue
        if key in _MARKER_WORDS:
            ranks[i] = _RANK[_MARKER_WORDS[key]]
        elif key in _TRUE_WORDS:
            ranks[i] = -1 if permissive else _RANK["confidential"]
        elif key in _FALSE_WORDS:
            ranks[i] = _RANK["confidential"] if permissive else -1
        else:
            bad[i] = True
    out = ranks[codes]
    unreadable = int(bad[codes].sum())
    if unreadable:
        raise PrivacyError(
            f"incidents: column {column!r} looks like a privacy marker but {unreadable} value(s) "
            "are neither a sensitivity (public, restricted, confidential) nor yes/no; map it "
            f"with --map incidents.sensitivity={column} or recode it before sharing anything"
        )
    return out


def resolve_sensitivity(incidents: pd.DataFrame) -> np.ndarray:
    """Return each record's sensitivity class from every privacy marker it carries.

    The canonical ``sensitivity`` column is read by :func:`classify_sensitivity` (missing means
    restricted, unknown values confidential). Any other column that looks like a privacy marker
    (:data:`PRIVACY_MARKER_PATTERN`: ``privacidad``, ``confidencial``, ``acceso``...) is read
    too and the most restrictive answer wins: a sensitivity kept under another name can never
    be dropped silently. A marker whose values cannot be read raises :class:`PrivacyError`.

    Parameters
    ----------
    incidents : pandas.DataFrame

    Returns
    -------
    numpy.ndarray of str
        ``"public"``, ``"restricted"`` or ``"confidential"`` per record.

    Raises
    ------
    PrivacyError
        When a marker column holds values that are neither a sensitivity nor yes/no.
    """
    base = (
        incidents["sensitivity"]
        if "sensitivity" in incidents.columns
        else pd.Series([None] * len(incidents), index=incidents.index, dtype=object)
    )
    klass = classify_sensitivity(base)
    rank = np.select(
        [klass == "public", klass == "restricted"], [_RANK["public"], _RANK["restricted"]],
        _RANK["confidential"],
    ).astype(np.int64)
    markers = find_privacy_markers([c for c in incidents.columns if c != "geometry"])
    for column in markers:
        rank = np.maximum(rank, _marker_classes(column, incidents[column]))
    if markers:
        log.info("incidents: privacy marker column(s) read besides sensitivity: %s",
                 ", ".join(markers))
    return np.asarray(_CLASSES[rank], dtype=object)


def select_drawable(incidents: pd.DataFrame, profile: str) -> tuple[np.ndarray, int]:
    """Return which incidents a map of ``profile`` may draw where given, and how many it hides.

    ``public``: incidents whose resolved sensitivity is public, and restricted ones a publisher
    already generalised (``location_generalised`` strictly true, :func:`parse_flag`).
    ``internal``: everything but confidential. Confidential records are never drawn. In
    ``public`` they are not counted in the number withheld either (that number is published
    beside restricted counts, so counting confidential ones in it would reveal them by
    subtraction); an ``internal`` output, never shared, counts them.

    Parameters
    ----------
    incidents : pandas.DataFrame
        Incident records (``sensitivity`` and the other columns :func:`resolve_sensitivity`
        reads; ``location_generalised`` when present).
    profile : str
        ``"public"`` or ``"internal"``.

    Returns
    -------
    tuple
        ``(keep, withheld)``: boolean mask and the number of records not drawn (public:
        non-confidential ones only).

    Raises
    ------
    ValueError
        ``profile`` is not ``"public"`` or ``"internal"``.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}.")
    klass = resolve_sensitivity(incidents)
    confidential = klass == "confidential"
    if profile == "public":
        keep = klass == "public"
        if GENERALISED_COLUMN in incidents.columns:
            keep |= parse_flag(incidents[GENERALISED_COLUMN]) & (klass == "restricted")
        keep &= ~confidential
    else:
        keep = ~confidential
    hidden = ~keep & ~confidential if profile == "public" else ~keep
    return np.asarray(keep, dtype=bool), int(hidden.sum())


def check_public_policy(policy: PrivacyPolicy) -> None:
    """Refuse a public policy below the safe floors (one line naming the floor).

    Parameters
    ----------
    policy : PrivacyPolicy
        The policy of a public output.

    Raises
    ------
    PrivacyError
        When the minimum displacement is under 2 km, the ring narrower than 1 km, the minimum
        count under 3 or the H3 resolution finer than 8.
    """
    if policy.min_distance_m < FLOOR_MIN_DISTANCE_M:
        raise PrivacyError(
            f"public profile: minimum displacement {policy.min_distance_m / 1000:g} km is below "
            f"the floor of {FLOOR_MIN_DISTANCE_M / 1000:g} km; use --min-km 2 or more"
        )
    if policy.max_distance_m - policy.min_distance_m < FLOOR_RING_WIDTH_M:
        raise PrivacyError(
            f"public profile: displacement ring {policy.min_distance_m / 1000:g}-"
            f"{policy.max_distance_m / 1000:g} km is narrower than the floor of "
            f"{FLOOR_RING_WIDTH_M / 1000:g} km; use --max-km at least --min-km + 1"
        )
    if policy.min_count < FLOOR_MIN_COUNT:
        raise PrivacyError(
            f"public profile: minimum count {policy.min_count} is below the floor of "
            f"{FLOOR_MIN_COUNT}; use --min-count 3 or more"
        )
    if policy.hex_resolution > FLOOR_MAX_HEX_RESOLUTION:
        raise PrivacyError(
            f"public profile: H3 resolution {policy.hex_resolution} is finer than the floor of "
            f"{FLOOR_MAX_HEX_RESOLUTION} (cells of about 0.7 km²); use --hex-resolution 8 or less"
        )


#: Columns each layer may carry in a public output (besides the geometry); anything else is
#: dropped and named in the log and the README. Territories also carry the statistics computed
#: by geotools (every column of ``territory_stats.csv``).
PUBLIC_LAYER_COLUMNS: dict[str, tuple[str, ...]] = {
    "territories": (
        "territory_id", "name", "people", "community", "claim_source",
        "claim_date", "claim_date_end", "claim_date_precision",
    ),
    "parcels": (
        "parcel_id", "tenure", "territory_id", "registry_ref", "source",
        "title_date", "title_date_end", "title_date_precision",
    ),
    "concessions": (
        "concession_id", "kind", "status", "holder", "source",
        "granted_date", "granted_date_end", "granted_date_precision",
    ),
    "infrastructure": ("kind", "name", "km_start", "km_end", "source"),
    # Communities are public places (registry data); their people's names and phones are not.
    "communities": (
        "community_id", "name", "people", "population", "families", "river", "precision",
        "source",
    ),
    "incidents": (*PUBLIC_INCIDENT_COLUMNS, GENERALISED_COLUMN, UNCERTAINTY_COLUMN, METHOD_COLUMN),
}


def allow_columns(
    frame: pd.DataFrame, kind: str, extra: Sequence[str] = ()
) -> tuple[pd.DataFrame, list[str]]:
    """Keep only the columns a public ``kind`` layer may carry; return it and the names dropped.

    Allowed: :data:`PUBLIC_LAYER_COLUMNS` of the layer and ``extra`` (e.g. the statistics
    columns of the territories), never a personal-looking column (:func:`find_personal_columns`
    wins over every allow-list).

    Parameters
    ----------
    frame : pandas.DataFrame
        A layer; its geometry column (of a GeoDataFrame) is always kept, last.
    kind : str
        Layer kind (``territories``, ``incidents``...), a key of :data:`PUBLIC_LAYER_COLUMNS`
        (other kinds allow ``extra`` only).
    extra : sequence of str, default ()
        More columns the layer may carry.

    Returns
    -------
    frame : pandas.DataFrame
        The kept columns, in their order, then the geometry.
    dropped : list of str
        Names of the columns left out, in their order.
    """
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    allowed = {*PUBLIC_LAYER_COLUMNS.get(kind, ()), *extra}
    columns = [c for c in frame.columns if c != geometry]
    personal = set(find_personal_columns(columns))
    keep = [c for c in columns if c in allowed and c not in personal]
    dropped = [str(c) for c in columns if c not in keep]
    if dropped:  # said once per view by compute_shareable_view
        log.debug("%s: %d column(s) not published: %s", kind, len(dropped), ", ".join(dropped))
    out = frame[[*keep, geometry]] if geometry is not None else frame[keep]
    return out, dropped
