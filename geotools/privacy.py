"""Privacy rules for shared outputs: withheld fields, sensitivity, displacement, suppression.

The people in an incident layer are defenders at risk (DESIGN §7). What leaves in a ``public``
bundle is decided here, once, and :mod:`geotools.publish` only writes what this module returns:

- **Personal fields never leave**: ``victims``, ``reporter``, ``phone``, ``contact``, ``email`` and
  any column whose name looks personal (:data:`PERSONAL_NAME_PATTERN`), in every layer. Incidents
  are published through a whitelist (:data:`PUBLIC_INCIDENT_COLUMNS`): any other column of the
  incidents layer (``lon``/``lat`` copies, form fields...) is dropped. ``description`` is kept for
  ``public`` incidents only.
- **Sensitivity**: ``public`` incidents are published as given; ``restricted`` ones (and those with
  no sensitivity) are displaced (:func:`displace_points`) or aggregated to H3 hexagons;
  ``confidential`` ones, and any value outside the vocabulary, are left out and appear only in
  aggregate counts suppressed below a minimum (:func:`suppress_counts`).
- **Displacement** is keyed and kept. A record's identity is a keyed hash (HMAC-SHA256 under
  the publish key) of its true location rounded to 1e-6 degrees (:func:`compute_identities`): not
  its row, not its id (ids may be missing, duplicated or renumbered), so every release of the same
  record, and every record at the same true place, has one identity. Its published position is
  drawn once, from a seed keyed by the identity *and* the displacement range (direction and
  distance independent, so two ranges never put two points on one ray), and then kept in a
  :class:`PositionStore` beside the key: every later release reuses it whatever the options, or
  withholds the record when the stored point no longer meets a constraint; it never draws a
  second point. The distance is uniform over the area of the geodesic annulus ``[min, max]``
  metres, the bearing uniform; of :data:`CANDIDATES` candidate offsets per record the first that
  keeps the record in the same territories (and districts, when given) and out of water is used.
  A record with no acceptable candidate is not published as a point (only counted).
- **One gate** (:func:`compute_shareable_view`): every shared output (map, PNGs, bundle) is built
  from the view it returns. Sensitivity is read from every privacy-marker column
  (:func:`resolve_sensitivity`), ``location_generalised`` strictly (:func:`parse_flag`), every
  layer through an allow-list of columns (:data:`PUBLIC_LAYER_COLUMNS`), every count, yearly row,
  risk score and drivers sentence recomputed from the incidents published, at their published
  positions (:func:`recount_incidents`), and a public policy below the safe floors is refused
  (:func:`check_public_policy`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import os
import re
import tempfile
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from geotools.analysis.incidents import UNCERTAINTY_KM
from geotools.errors import GeotoolsError
from geotools.schema import normalise_name

log = logging.getLogger(__name__)

_GEOD = Geod(ellps="WGS84")

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
#: Number of candidate offsets tried per record.
CANDIDATES = 64
#: Margin (m) kept inside ``[min, max]`` so that rounding the published coordinates can never
#: bring a point closer than the minimum (6 decimals move a point by 0.08 m at most).
ROUNDING_MARGIN_M = 1.0

_GAMMA = np.uint64(0x9E3779B97F4A7C15)


class PrivacyError(GeotoolsError):
    """A privacy rule cannot be applied (no secret key for displacement, bad parameters...)."""


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


def derive_key(secret: str | bytes) -> bytes:
    """Return the 32-byte displacement key derived from a secret (a passphrase or key file)."""
    raw = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if len(raw.strip()) < 16:
        raise PrivacyError(
            "the displacement secret is too short (at least 16 characters); generate one with "
            "python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return hashlib.sha256(b"geotools-displacement-key\x00" + raw.strip()).digest()


def compute_seeds(ids: Sequence[object], key: bytes, *, context: str = "") -> np.ndarray:
    """Return one 64-bit seed per record: keyed BLAKE2b of ``context`` and the record's identity.

    Parameters
    ----------
    ids : sequence
        Record identities (:func:`compute_identities`), compared as text.
    key : bytes
        Key from :func:`derive_key`.
    context : str, optional
        Mixed into every seed (the displacement range): draws made under another range are
        independent of these, so two ranges never put a record's two points on one ray.

    Returns
    -------
    numpy.ndarray of uint64
    """
    prefix = (context + "\x00").encode("utf-8") if context else b""
    digests = b"".join(
        hashlib.blake2b(prefix + str(i).encode("utf-8"), key=key, digest_size=8).digest()
        for i in ids
    )
    return np.frombuffer(digests, dtype=">u8").astype(np.uint64)


#: Decimals of the true coordinates that make a record's identity (1e-6 degrees, about 0.1 m).
IDENTITY_DECIMALS = 6
_NEIGHBOURS = [(0, 0)] + [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy]


def _identity(key: bytes, ix: int, iy: int) -> str:
    message = b"geotools-identity\x00%d,%d" % (ix, iy)
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def compute_identities(x: np.ndarray, y: np.ndarray, key: bytes) -> np.ndarray:
    """Return each record's identity: a keyed hash of its true location.

    The identity is HMAC-SHA256 under ``key`` of the longitude and latitude rounded to
    :data:`IDENTITY_DECIMALS` decimals: the same for every release of a record whatever its row,
    its id (missing, duplicated, renumbered) or the other columns, and the same for records at one
    true place (they share one published position, so they cannot be intersected with each
    other). Without the key it cannot be computed or inverted.

    Parameters
    ----------
    x, y : numpy.ndarray of float
        True longitude and latitude (WGS84).
    key : bytes
        Key from :func:`derive_key`.

    Returns
    -------
    numpy.ndarray of str
        32 hexadecimal characters per record.
    """
    return _identity_grid(np.asarray(x, float), np.asarray(y, float), key)[:, 0]


def _identity_grid(x: np.ndarray, y: np.ndarray, key: bytes) -> np.ndarray:
    """Identities of each record's location and of its 8 neighbours on the 1e-6 degree grid
    (column 0 is the record's own): a coordinate re-read with floating-point noise that rounds
    the other way still finds its stored position."""
    scale = 10.0**IDENTITY_DECIMALS
    ix = np.rint(np.asarray(x, float) * scale).astype(np.int64)
    iy = np.rint(np.asarray(y, float) * scale).astype(np.int64)
    out = np.empty((len(ix), len(_NEIGHBOURS)), dtype=object)
    for j, (dx, dy) in enumerate(_NEIGHBOURS):
        out[:, j] = [_identity(key, int(a) + dx, int(b) + dy) for a, b in zip(ix, iy, strict=True)]
    return out


#: Environment variable naming the position store (else ``--positions``, else beside the key).
POSITIONS_ENV = "GEOTOOLS_PUBLISH_POSITIONS"
STORE_FORMAT = "geotools-positions"


def _key_check(key: bytes) -> str:
    return hmac.new(key, b"geotools-position-store", hashlib.sha256).hexdigest()[:16]


@dataclass
class PositionStore:
    """Published positions of restricted records, by identity, kept with the publish key.

    Every record published as a displaced point is entered once (its identity, the published
    longitude/latitude and the range it was drawn under), and every later release with the same
    key reuses that point whatever its options; a record that went to a hexagon is entered with
    the hexagon resolution and stays in hexagons. The store holds no true coordinates: identities
    are keyed hashes, positions are public. Written only after a bundle passed its leak check.

    Attributes
    ----------
    path : pathlib.Path or None
        The JSON file (None: kept in memory only).
    key_check : str
        Keyed fingerprint of the key: a store is never used with another key.
    entries : dict
        identity -> ``{"form": "point", "lon", "lat", "min_m", "max_m"}`` or
        ``{"form": "hexagon", "resolution"}``.
    existed : bool
        The file existed when opened.
    added : int
        Entries added since opened.
    """

    path: Path | None
    key_check: str
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    existed: bool = False
    added: int = 0

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None, key: bytes) -> PositionStore:
        """Open the store at ``path`` (a new, empty one when the file does not exist yet)."""
        check = _key_check(key)
        if path is None:
            return cls(None, check)
        target = Path(path)
        if not target.exists():
            return cls(target, check)
        try:
            data = json.loads(target.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PrivacyError(
                f"{target}: not a readable positions file ({exc}); restore it from a backup "
                "(without it, new releases would draw new points next to the old ones)"
            ) from exc
        if not isinstance(data, dict) or data.get("format") != STORE_FORMAT:
            raise PrivacyError(f"{target}: not a geotools positions file; pass the right file")
        if not hmac.compare_digest(str(data.get("key_check", "")), check):
            raise PrivacyError(
                f"{target}: this positions file belongs to another publish key; use the key it "
                "was made with (points drawn under two keys can be intersected)"
            )
        entries = data.get("positions") or {}
        return cls(target, check, dict(entries), existed=True)

    def find(self, grid: np.ndarray) -> list[dict[str, Any] | None]:
        """Stored entry of each record (rows of :func:`_identity_grid`), own identity first."""
        out: list[dict[str, Any] | None] = []
        for row in grid:
            entry = None
            for ident in row:
                entry = self.entries.get(ident)
                if entry is not None:
                    break
            out.append(entry)
        return out

    def add(self, identity: str, entry: dict[str, Any]) -> None:
        """Enter a record published for the first time (an existing entry is never replaced)."""
        if identity not in self.entries:
            self.entries[identity] = entry
            self.added += 1

    def save(self) -> Path | None:
        """Write the store atomically (private file mode); return its path."""
        if self.path is None:
            return None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "format": STORE_FORMAT,
            "version": 1,
            "note": "Published positions of restricted incidents by keyed identity. Keep it with "
            "the publish key and reuse it for every release; it holds no true coordinates.",
            "key_check": self.key_check,
            "positions": {k: self.entries[k] for k in sorted(self.entries)},
        }
        handle, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(data, stream, indent=1, sort_keys=True)
                stream.write("\n")
            os.chmod(temp, 0o600)
            os.replace(temp, self.path)
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
        log.info(
            "position store %s: %d position(s), %d new", self.path, len(self.entries), self.added
        )
        return self.path


def _splitmix64(state: np.ndarray) -> np.ndarray:
    """SplitMix64 output function, vectorised (wrapping uint64 arithmetic)."""
    z = state + _GAMMA
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def draw_uniforms(seeds: np.ndarray, count: int) -> np.ndarray:
    """Return ``count`` uniform numbers in [0, 1) per seed, shape ``(len(seeds), count)``.

    Counter-based: number ``j`` of a seed is SplitMix64 of ``seed + j * gamma``, the same on every
    platform and numpy version.
    """
    with np.errstate(over="ignore"):
        steps = np.arange(count, dtype=np.uint64) * _GAMMA
        state = seeds.astype(np.uint64)[:, None] + steps[None, :]
        bits = _splitmix64(state)
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def _membership(
    tree: shapely.STRtree, weights: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Count and order-free signature of the polygons each point lies in (vectorised)."""
    points = np.asarray(shapely.points(x, y), dtype=object)
    hit_point, hit_poly = tree.query(points, predicate="intersects")
    count = np.bincount(hit_point, minlength=len(points))
    signature = np.zeros(len(points), dtype=np.uint64)
    np.add.at(signature, hit_point, weights[hit_poly])
    return count, signature


def _polygon_index(frame: gpd.GeoDataFrame | None) -> tuple[shapely.STRtree, np.ndarray] | None:
    if frame is None or not len(frame):
        return None
    geoms = np.asarray(frame.to_crs(4326).geometry.to_numpy(), dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    polygons = geoms[np.isin(shapely.get_type_id(geoms), [3, 6, 7])]
    if not len(polygons):
        return None
    weights = np.random.default_rng(7946).integers(1, 2**63, size=len(polygons), dtype=np.uint64)
    return shapely.STRtree(polygons), weights


@dataclass
class Displacement:
    """Displaced locations.

    Attributes
    ----------
    x, y : numpy.ndarray of float
        Published longitude and latitude, rounded to ``decimals`` (NaN where ``placed`` is False).
    distance_m : numpy.ndarray of float
        Geodesic distance from the true place to the published (rounded) one.
    placed : numpy.ndarray of bool
        False where no candidate met the constraints (the record is not published as a point).
    candidate : numpy.ndarray of int
        Index of the candidate used (-1 when not placed).
    """

    x: np.ndarray
    y: np.ndarray
    distance_m: np.ndarray
    placed: np.ndarray
    candidate: np.ndarray


def displace_points(
    x: np.ndarray,
    y: np.ndarray,
    ids: Sequence[object],
    key: bytes,
    policy: PrivacyPolicy,
    territories: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    decimals: int = 6,
    candidates: int = CANDIDATES,
) -> Displacement:
    """Displace points deterministically, keyed by record, within geodesic ``[min, max]`` metres.

    Every candidate is tested at once (``len(x) * candidates`` points): it must lie in exactly
    the same territories as the true point (none if the point is outside every territory), in the
    same districts when ``districts`` is given, not in a water polygon and at least
    ``policy.water_buffer_m`` from a water line. The first acceptable candidate is used.

    Parameters
    ----------
    x, y : numpy.ndarray of float
        True longitude and latitude (WGS84).
    ids : sequence
        Record identities (:func:`compute_identities`): with the key and the range, the seed of
        each record's offsets.
    key : bytes
        Secret key (:func:`derive_key`).
    policy : PrivacyPolicy
        Distance range.
    territories, districts, water : geopandas.GeoDataFrame, optional
        Constraint layers (any CRS).
    decimals : int, default 6
        Published coordinate decimals; distances are checked after rounding.
    candidates : int, default :data:`CANDIDATES`
        Candidate offsets per record.

    Returns
    -------
    Displacement
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    if n == 0:
        empty = np.zeros(0)
        return Displacement(empty, empty, empty, np.zeros(0, bool), np.zeros(0, np.int64))
    uniforms = draw_uniforms(compute_seeds(ids, key, context=range_context(policy)), 2 * candidates)
    bearing = uniforms[:, 0::2] * 360.0 - 180.0
    low = policy.min_distance_m + ROUNDING_MARGIN_M
    high = policy.max_distance_m - ROUNDING_MARGIN_M
    distance = np.sqrt(low**2 + uniforms[:, 1::2] * (high**2 - low**2))
    x0 = np.repeat(x, candidates)
    y0 = np.repeat(y, candidates)
    cx, cy, _ = _GEOD.fwd(x0, y0, bearing.ravel(), distance.ravel())
    cx = np.round(np.asarray(cx), decimals)
    cy = np.round(np.asarray(cy), decimals)
    _, _, moved = _GEOD.inv(x0, y0, cx, cy)
    moved = np.asarray(moved)
    valid = (moved >= policy.min_distance_m) & (moved <= policy.max_distance_m)
    valid &= _keeps_places(x, y, cx, cy, candidates, policy, territories, districts, water)
    valid = valid.reshape(n, candidates)
    placed = np.asarray(valid.any(axis=1), dtype=bool)
    pick = np.where(placed, valid.argmax(axis=1), -1)
    flat = np.arange(n) * candidates + np.maximum(pick, 0)
    nan = np.full(n, np.nan)
    if (~placed).any():
        log.warning(
            "%d restricted record(s) could not be displaced within the constraints; they are "
            "counted but not published as points",
            int((~placed).sum()),
        )
    return Displacement(
        x=np.where(placed, cx[flat], nan),
        y=np.where(placed, cy[flat], nan),
        distance_m=np.where(placed, moved[flat], nan),
        placed=placed,
        candidate=pick,
    )


def range_context(policy: PrivacyPolicy) -> str:
    """Seed context of a displacement range (draws under other ranges are independent)."""
    return f"range:{policy.min_distance_m:.3f}:{policy.max_distance_m:.3f}"


def _keeps_places(
    x: np.ndarray,
    y: np.ndarray,
    cx: np.ndarray,
    cy: np.ndarray,
    repeats: int,
    policy: PrivacyPolicy,
    territories: gpd.GeoDataFrame | None,
    districts: gpd.GeoDataFrame | None,
    water: gpd.GeoDataFrame | None,
) -> np.ndarray:
    """True where a moved point (``repeats`` per true point) lies in exactly the same territories
    and districts as its true point and not in or near water."""
    valid = np.ones(len(cx), dtype=bool)
    for layer in (territories, districts):
        index = _polygon_index(layer)
        if index is None:
            continue
        tree, weights = index
        count0, sig0 = _membership(tree, weights, x, y)
        count, sig = _membership(tree, weights, cx, cy)
        valid &= (count == np.repeat(count0, repeats)) & (sig == np.repeat(sig0, repeats))
    if water is not None and len(water):
        valid &= ~_near_water(cx, cy, water, policy.water_buffer_m)
    return valid


def _near_water(
    x: np.ndarray, y: np.ndarray, water: gpd.GeoDataFrame, buffer_m: float
) -> np.ndarray:
    """True where a point is in a water polygon or within ``buffer_m`` of a water line."""
    wgs = water.to_crs(4326)
    geoms = np.asarray(wgs.geometry.to_numpy(), dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    points = gpd.GeoSeries(shapely.points(x, y), crs=4326)
    metric = points.estimate_utm_crs()
    plane = np.asarray(points.to_crs(metric).to_numpy(), dtype=object)
    water_plane = np.asarray(gpd.GeoSeries(geoms, crs=4326).to_crs(metric).to_numpy(), dtype=object)
    out = np.zeros(len(x), dtype=bool)
    polygonal = np.isin(shapely.get_type_id(water_plane), [3, 6])
    if polygonal.any():
        hit, _ = shapely.STRtree(water_plane[polygonal]).query(plane, predicate="intersects")
        out[hit] = True
    if (~polygonal).any():
        hit, _ = shapely.STRtree(water_plane[~polygonal]).query(
            plane, predicate="dwithin", distance=buffer_m
        )
        out[hit] = True
    return out


def radius_of_precision(precision: pd.Series) -> np.ndarray:
    """Uncertainty radius (m) of each record's original precision.

    Missing is exact (0), as in the incident statistics; a value outside the vocabulary gets
    the largest radius (fail safe: never claim a place is known better than it is).
    """
    text = precision.astype("string")
    km = text.map(dict(UNCERTAINTY_KM)).astype("Float64")
    km = km.mask(text.notna() & km.isna(), max(UNCERTAINTY_KM.values())).fillna(0.0)
    return km.to_numpy(dtype=float) * 1000.0


def aggregate_to_hexagons(
    x: np.ndarray, y: np.ndarray, resolution: int, minimum: int, label: str = "incidents"
) -> gpd.GeoDataFrame:
    """Count points per H3 cell, counts below ``minimum`` suppressed (:func:`suppress_counts`).

    Parameters
    ----------
    x, y : numpy.ndarray of float
        Longitude and latitude.
    resolution : int
        H3 resolution.
    minimum : int
        Suppression threshold.
    label : str
        Name of the count column.

    Returns
    -------
    geopandas.GeoDataFrame
        ``h3_cell, h3_resolution, <label>`` and the cell polygon (EPSG:4326), sorted by cell.
    """
    import h3

    cells = pd.Series(
        [h3.latlng_to_cell(lat, lon, resolution) for lon, lat in zip(x, y, strict=True)],
        dtype=object,
    )
    counts = cells.value_counts().sort_index()
    polygons = [
        shapely.Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(cell)])
        for cell in counts.index
    ]
    return gpd.GeoDataFrame(
        {
            "h3_cell": counts.index.astype(str),
            "h3_resolution": np.full(len(counts), resolution, dtype=np.int64),
            label: suppress_counts(counts.to_numpy(), minimum).to_numpy(),
        },
        geometry=polygons,
        crs=4326,
    )


@dataclass
class Withheld:
    """Everything a public bundle must not contain, for the leak check.

    Attributes
    ----------
    values : list of tuple
        ``(kind, value)``: text values of withheld fields and of confidential records; ``kind``
        names the field (``"personal field victims"``...). Personal-field values that look like
        names are also searched word by word (a surname alone is a leak).
    ids : list of str
        Ids of confidential (and unplaceable, aggregated, withheld) records.
    true_points : numpy.ndarray
        ``(n, 2)`` true lon/lat of restricted and confidential records.
    restricted_ids : list of str
        Ids of displaced restricted records, row-aligned with ``restricted_points``.
    restricted_points : numpy.ndarray
        ``(n, 2)`` true lon/lat of the displaced restricted records.
    allowed_text : str
        Normalised text legitimately published (a withheld value found in it is not a secret).
    restricted_min_m : numpy.ndarray
        Minimum displacement of each displaced record, row-aligned with ``restricted_points``
        (a position kept from an earlier release keeps the range it was drawn under); empty: the
        release's minimum.
    """

    values: list[tuple[str, str]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    true_points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    restricted_ids: list[str] = field(default_factory=list)
    restricted_points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    allowed_text: str = ""
    restricted_min_m: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class GeneralisedIncidents:
    """Incidents ready for a public bundle, and what was withheld.

    Attributes
    ----------
    published : geopandas.GeoDataFrame
        Public rows as given and displaced restricted rows (EPSG:4326), whitelisted columns plus
        ``location_generalised``, ``location_uncertainty_m`` and ``location_method``.
    counted : geopandas.GeoDataFrame
        Every non-confidential record at its true place (for aggregates computed by us).
    confidential : geopandas.GeoDataFrame
        Confidential records at their true place (for suppressed counts only).
    hexagons : geopandas.GeoDataFrame or None
        H3 counts of the records aggregated instead of drawn (restricted with
        ``--restricted aggregate``, restricted that could not be displaced, records of layers that
        may not be redistributed).
    withheld : Withheld
        For the leak check.
    facts : dict
        Counts and parameters for the README (never the measured offsets).
    store : PositionStore or None
        The position store, with this release's new positions entered (save it once the bundle
        passed its leak check).
    """

    published: gpd.GeoDataFrame
    counted: gpd.GeoDataFrame
    confidential: gpd.GeoDataFrame
    hexagons: gpd.GeoDataFrame | None
    withheld: Withheld
    facts: dict[str, Any]
    store: PositionStore | None = None


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


def _text_values(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for column in columns:
        if column not in frame.columns or column == "geometry":
            continue
        values = frame[column].dropna().astype(str).str.strip()
        out.extend((column, v) for v in values[values != ""].unique())
    return out


def _method(min_m: np.ndarray, max_m: np.ndarray) -> list[str]:
    return [f"displaced {a / 1000:g}-{b / 1000:g} km" for a, b in zip(min_m, max_m, strict=True)]


def generalise_incidents(
    incidents: gpd.GeoDataFrame,
    policy: PrivacyPolicy,
    key: bytes | None,
    territories: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    decimals: int = 6,
    redistributable: bool = True,
    *,
    store: PositionStore | None = None,
) -> GeneralisedIncidents:
    """Apply the public profile to an incidents layer.

    Restricted records are identified by :func:`compute_identities` (a keyed hash of the true
    location, never the row or the id). With a ``store``, a record published before keeps its
    stored form whatever the options: the same point (withheld, never redrawn, when that point
    no longer lies in the record's territories/districts or lies in water; also withheld from
    hexagon counts in ``aggregate`` mode, since a hexagon and a ring together narrow the place),
    or the same hexagon resolution. New records are displaced (or aggregated) and entered.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Canonical incidents (any CRS).
    policy : PrivacyPolicy
        Parameters.
    key : bytes or None
        Displacement key (:func:`derive_key`); required when restricted records are displaced.
    territories, districts, water : geopandas.GeoDataFrame, optional
        Displacement constraints.
    decimals : int, default 6
        Published coordinate decimals.
    redistributable : bool, default True
        False for layers whose licence forbids passing records on (ACLED): no record is published
        as a point; all non-confidential ones go to the hexagon counts.
    store : PositionStore, optional
        Positions of earlier releases (:meth:`PositionStore.open`); new positions are entered
        into it (the caller saves it). Without one, positions are a pure function of the key,
        the identity and the range: the same options give the same points, other options other
        points (see ``docs/publish.md``).

    Returns
    -------
    GeneralisedIncidents

    Raises
    ------
    PrivacyError
        When restricted records must be displaced and no key is given.
    """
    frame = incidents.to_crs(4326).reset_index(drop=True)
    n = len(frame)
    sensitivity = (
        frame["sensitivity"] if "sensitivity" in frame.columns else pd.Series([None] * n)
    )
    klass = classify_sensitivity(sensitivity)
    public = klass == "public"
    restricted = klass == "restricted"
    confidential = klass == "confidential"
    x = shapely.get_x(frame.geometry.to_numpy())
    y = shapely.get_y(frame.geometry.to_numpy())
    ids = frame["incident_id"].astype(str).to_numpy()
    radius = radius_of_precision(frame.get("precision", pd.Series([None] * n)))

    columns = [c for c in PUBLIC_INCIDENT_COLUMNS if c in frame.columns]
    out = pd.DataFrame(frame[columns]).copy()
    out["sensitivity"] = klass
    if "description" in out.columns:
        out["description"] = out["description"].where(public, None)
    out[GENERALISED_COLUMN] = False
    out[UNCERTAINTY_COLUMN] = radius
    out[METHOD_COLUMN] = "as given"
    px, py = np.round(x, decimals), np.round(y, decimals)

    displaced = np.zeros(n, dtype=bool)
    unplaced = np.zeros(n, dtype=bool)
    kept_back = np.zeros(n, dtype=bool)  # published before; this release cannot show it again
    hex_resolution = np.full(n, -1, dtype=np.int64)
    row_min = np.full(n, np.nan)
    row_max = np.full(n, np.nan)
    reused = 0
    to_points = public & redistributable
    if not redistributable:
        hex_resolution[~confidential] = policy.hex_resolution
    elif restricted.any():
        rows = np.flatnonzero(restricted)
        if key is None and policy.restricted == "displace":
            raise PrivacyError(
                "restricted incidents must be displaced but no secret key was given: pass "
                "--secret-file FILE or set GEOTOOLS_PUBLISH_SECRET (keep the same key to "
                "re-publish: a different key gives new points, and two sets of displaced points "
                "narrow the true place down)"
            )
        stored: list[dict[str, Any] | None] = [None] * len(rows)
        identities = np.array([""] * len(rows), dtype=object)
        if key is not None:
            grid = _identity_grid(x[rows], y[rows], key)
            identities = grid[:, 0]
            if store is not None:
                stored = store.find(grid)
        form = np.array([(e or {}).get("form", "") for e in stored], dtype=object)
        # Kept in hexagons: the form a record was first published in never changes.
        as_hexagon = form == "hexagon"
        hex_resolution[rows[as_hexagon]] = [
            int((stored[i] or {}).get("resolution", policy.hex_resolution))
            for i in np.flatnonzero(as_hexagon)
        ]
        as_point = form == "point"
        new = form == ""
        if policy.restricted == "displace":
            if as_point.any():
                take = np.flatnonzero(as_point)
                entries = [stored[i] or {} for i in take]
                sx = np.round(np.array([float(e["lon"]) for e in entries]), decimals)
                sy = np.round(np.array([float(e["lat"]) for e in entries]), decimals)
                ok = _keeps_places(
                    x[rows[take]], y[rows[take]], sx, sy, 1, policy, territories, districts, water
                )
                chosen = rows[take[ok]]
                px[chosen], py[chosen] = sx[ok], sy[ok]
                row_min[chosen] = [float(e["min_m"]) for e, k in zip(entries, ok, strict=True) if k]
                row_max[chosen] = [float(e["max_m"]) for e, k in zip(entries, ok, strict=True) if k]
                displaced[chosen] = True
                kept_back[rows[take[~ok]]] = True
                reused = int(ok.sum())
            if new.any():
                take = np.flatnonzero(new)
                assert key is not None
                displacement = displace_points(
                    x[rows[take]],
                    y[rows[take]],
                    identities[take].tolist(),
                    key,
                    policy,
                    territories,
                    districts,
                    water,
                    decimals,
                )
                placed = take[displacement.placed]
                chosen = rows[placed]
                px[chosen] = displacement.x[displacement.placed]
                py[chosen] = displacement.y[displacement.placed]
                row_min[chosen] = policy.min_distance_m
                row_max[chosen] = policy.max_distance_m
                displaced[chosen] = True
                unplaced[rows[take[~displacement.placed]]] = True
                hex_resolution[rows[take[~displacement.placed]]] = policy.hex_resolution
                if store is not None:
                    for i, lon, lat in zip(placed, px[chosen], py[chosen], strict=True):
                        store.add(
                            str(identities[i]),
                            {
                                "form": "point",
                                "lon": float(lon),
                                "lat": float(lat),
                                "min_m": float(policy.min_distance_m),
                                "max_m": float(policy.max_distance_m),
                            },
                        )
        else:
            # A record shown as a point before is not counted in a hexagon now (a hexagon and a
            # ring together narrow its place); it stays in the per-territory statistics.
            kept_back[rows[as_point]] = True
            hex_resolution[rows[new]] = policy.hex_resolution
        if store is not None:
            for i in np.flatnonzero(new):
                if hex_resolution[rows[i]] >= 0:
                    store.add(
                        str(identities[i]),
                        {"form": "hexagon", "resolution": int(hex_resolution[rows[i]])},
                    )
        out.loc[displaced, GENERALISED_COLUMN] = True
        out.loc[displaced, UNCERTAINTY_COLUMN] = row_max[displaced] + radius[displaced]
        out.loc[displaced, METHOD_COLUMN] = _method(row_min[displaced], row_max[displaced])
        to_points = to_points | displaced
    if kept_back.any():
        log.warning(
            "%d restricted record(s) published before are withheld from this release: their "
            "kept position does not meet this release's options (never redrawn)",
            int(kept_back.sum()),
        )
    aggregated = hex_resolution >= 0
    published = gpd.GeoDataFrame(
        out.loc[to_points].reset_index(drop=True),
        geometry=shapely.points(px[to_points], py[to_points]),
        crs=4326,
    )
    hexagons = None
    if aggregated.any():
        parts = [
            aggregate_to_hexagons(
                x[hex_resolution == res], y[hex_resolution == res], int(res), policy.min_count
            )
            for res in np.unique(hex_resolution[aggregated])
        ]
        hexagons = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=4326)

    # What must not appear anywhere in the bundle.
    withheld = Withheld()
    personal = [c for c in frame.columns if c in find_personal_columns(frame.columns)]
    dropped = [
        c for c in frame.columns if c not in (*columns, frame.geometry.name) and c not in personal
    ]
    withheld.values += [(f"personal field {c}", v) for c, v in _text_values(frame, personal)]
    hidden = ~public
    withheld.values += [
        (f"{c} of a non-public incident", v)
        for c, v in _text_values(frame.loc[hidden], list(FREE_TEXT_COLUMNS))
    ]
    text_columns = [
        c
        for c in frame.columns
        if c not in (*VOCABULARY_COLUMNS, *personal, frame.geometry.name, "incident_id")
    ]
    withheld.values += [
        (f"{c} of a confidential incident", v)
        for c, v in _text_values(frame.loc[confidential], text_columns)
    ]
    withheld.values += [
        (f"dropped column {c}", v)
        for c, v in _text_values(
            frame.loc[~public], [c for c in dropped if c not in ("lon", "lat")]
        )
    ]
    secret_rows = confidential | unplaced | kept_back | (aggregated & ~public)
    withheld.ids = sorted(set(ids[secret_rows]) - set(ids[to_points]))
    hidden_place = (restricted | confidential) & ~public
    withheld.true_points = np.column_stack([x[hidden_place], y[hidden_place]])
    withheld.restricted_ids = ids[displaced].tolist()
    withheld.restricted_points = np.column_stack([x[displaced], y[displaced]])
    withheld.restricted_min_m = row_min[displaced]
    allowed = _text_values(frame.loc[public], [c for c in columns if c not in ("incident_id",)])
    allowed += _text_values(frame.loc[~confidential], ["source"])
    withheld.allowed_text = "\n".join(normalise_text(v) for _, v in allowed)

    facts = {
        "records": n,
        "public": int(public.sum()),
        "restricted": int(restricted.sum()),
        "confidential": suppress_counts([int(confidential.sum())], policy.min_count)[0],
        "displaced": int(displaced.sum()),
        "not_displaceable": int(unplaced.sum()),
        "aggregated": int(aggregated.sum()),
        "published_points": len(published),
        "displacement_range_km": (
            f"{policy.min_distance_m / 1000:g}-{policy.max_distance_m / 1000:g}"
        ),
        "positions_kept": reused,
        "withheld_published_before": int(kept_back.sum()),
        "position_store": store is not None,
        "dropped_columns": sorted({*personal, *dropped} - {"geometry"}),
        "redistributable": redistributable,
    }
    counted = frame.loc[~confidential].reset_index(drop=True)
    return GeneralisedIncidents(
        published=published,
        counted=counted,
        confidential=frame.loc[confidential].reset_index(drop=True),
        hexagons=hexagons,
        withheld=withheld,
        facts=facts,
        store=store,
    )


# --------------------------------------------------------------------------------------------
# The privacy gate: what a profile may show (one rule for the map, the PNGs and the bundle)
# --------------------------------------------------------------------------------------------

#: Profiles the gate knows.
PROFILES: tuple[str, ...] = ("public", "internal")
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
            f"with --map sensitivity={column} or recode it before sharing anything"
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
    """Which incidents a map of ``profile`` may draw at the place given, and how many it hides.

    ``public``: incidents whose resolved sensitivity is public, and restricted ones a publisher
    already generalised (``location_generalised`` strictly true, :func:`parse_flag`).
    ``internal``: everything but confidential. Confidential records are never drawn. In
    ``public`` they are not counted in the number withheld either (that number is published
    beside restricted counts, so counting confidential ones in it would reveal them by
    subtraction); an ``internal`` output, never shared, counts them.

    Returns
    -------
    tuple
        ``(keep, withheld)``: boolean mask and the number of records not drawn (public:
        non-confidential ones only).
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
    "incidents": (*PUBLIC_INCIDENT_COLUMNS, GENERALISED_COLUMN, UNCERTAINTY_COLUMN, METHOD_COLUMN),
}


def allow_columns(
    frame: pd.DataFrame, kind: str, extra: Sequence[str] = ()
) -> tuple[pd.DataFrame, list[str]]:
    """Keep only the columns a public ``kind`` layer may carry; return it and the names dropped.

    Allowed: :data:`PUBLIC_LAYER_COLUMNS` of the layer and ``extra`` (e.g. the statistics
    columns of the territories), never a personal-looking column (:func:`find_personal_columns`
    wins over every allow-list).
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


@dataclass
class ShareableView:
    """What one profile may show: the single input of every map, PNG and bundle.

    Attributes
    ----------
    profile : {"public", "internal"}
    result : geotools.analysis.stats.StatsResult
        Statistics recomputed from the incidents the view publishes (counts, by-year rows, risk
        score, class and drivers); ``options["shareable_view"]`` names the profile.
    layers : dict of str to geopandas.GeoDataFrame
        Every layer restricted to what the profile may hold (public: allow-listed columns; the
        incidents are those it may draw, at their published positions).
    withheld : int
        Non-confidential incidents not drawn (restricted ones not generalised): a map may say
        how many; confidential ones are never counted in it.
    hexagons : geopandas.GeoDataFrame or None
        Suppressed H3 counts of the records published only as aggregates.
    generalised : GeneralisedIncidents or None
        The generalisation of the incidents (public profile), for the leak check.
    sources : dict of str to list of str
        Source names each layer may show (incidents: only sources of published records).
    dropped_columns : dict of str to list of str
        Column names not published, per layer.
    confidential : dict of str to numpy.ndarray
        ``incidents_confidential_inside/nearby`` per territory (table order), suppressed.
    facts : dict
        Counts that may be published (never a total from which a withheld number follows).
    """

    profile: str
    result: Any
    layers: dict[str, gpd.GeoDataFrame]
    withheld: int = 0
    hexagons: gpd.GeoDataFrame | None = None
    generalised: GeneralisedIncidents | None = None
    sources: dict[str, list[str]] = field(default_factory=dict)
    dropped_columns: dict[str, list[str]] = field(default_factory=dict)
    confidential: dict[str, np.ndarray] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)


def _frame_of(layer: Any) -> gpd.GeoDataFrame:
    return layer.frame if hasattr(layer, "frame") else layer


_INCIDENT_TABLE_COLUMNS = frozenset(
    {
        "severity_inside",
        "severity_nearby",
        "killings_inside",
        "killings_nearby",
        "undated_inside",
        "last_incident_date",
        "first_incident_year",
        "days_since_last_incident",
        "spills_inside",
        "spills_nearby",
    }
)
_TIMESERIES_INCIDENT_COLUMNS = {
    "inside": "incidents_inside",
    "nearby": "incidents_nearby",
    "uncertain": "incidents_uncertain",
    "severity_inside": "incident_severity_inside",
}


def _is_incident_column(column: str) -> bool:
    return (
        (column.startswith("incidents_") and not column.startswith("incidents_confidential"))
        or column in _INCIDENT_TABLE_COLUMNS
    )


def _risk_config(options: dict[str, Any]) -> Any:
    from geotools.analysis.risk import RiskConfig

    given = options.get("risk")
    if not given:
        return RiskConfig()
    names = {f.name for f in dataclasses.fields(RiskConfig)}
    values: dict[str, Any] = {
        k: (tuple(v) if isinstance(v, list) else v) for k, v in given.items() if k in names
    }
    return RiskConfig(**values)


def recount_incidents(
    result: Any,
    territories: gpd.GeoDataFrame,
    counted: gpd.GeoDataFrame,
    infrastructure: gpd.GeoDataFrame | None = None,
) -> Any:
    """Return ``result`` with every incident-derived figure recomputed from ``counted`` only.

    Per-territory counts (inside, nearby, uncertain, by kind, severities, killings, dates,
    spills), the by-year rows and the risk score, class, components and drivers sentences are
    all recomputed, so that no figure of a shared output counts an incident the output does not
    publish. Rows of the yearly table that only withheld incidents filled are removed (a row of
    zeros would show that something happened that year).

    Parameters
    ----------
    result : geotools.analysis.stats.StatsResult
    territories : geopandas.GeoDataFrame
        The territories the statistics were computed on.
    counted : geopandas.GeoDataFrame
        The incidents to count, at the positions they are published at.
    infrastructure : geopandas.GeoDataFrame, optional
        Pipelines and roads (for the spill counts).

    Returns
    -------
    geotools.analysis.stats.StatsResult
    """
    from geotools.analysis.incidents import merge_duplicate_incidents, summarise_incidents
    from geotools.analysis.risk import compute_risk, compute_sensitivity

    nearby_km = result.nearby_km
    merged, _ = merge_duplicate_incidents(counted) if len(counted) else (counted, None)
    summary = summarise_incidents(territories, merged, nearby_km=nearby_km)
    per = summary.per_territory.set_index(summary.per_territory["territory_id"].astype(str))
    table = result.table.copy()
    ids = table["territory_id"].astype(str)
    for column in [c for c in table.columns if _is_incident_column(c)]:
        if column in per.columns:
            table[column] = ids.map(per[column]).to_numpy()
        elif column not in ("spills_inside", "spills_nearby"):
            table[column] = 0
    if "spills_inside" in table.columns and infrastructure is not None and len(infrastructure):
        from geotools.analysis.infrastructure import compute_infrastructure_exposure

        spills = merged
        if "kind" in merged.columns:
            spills = merged[merged["kind"].astype(str) == "spill"]
        exposure = compute_infrastructure_exposure(
            territories, infrastructure, spills, distance_km=nearby_km
        ).set_index("territory_id")
        for column in ("spills_inside", "spills_nearby"):
            if column in exposure.columns:
                table[column] = ids.map(exposure[column]).to_numpy()

    timeseries = result.timeseries
    keep = [c for c in timeseries.columns if c not in _TIMESERIES_INCIDENT_COLUMNS.values()]
    measures = [c for c in keep if c not in ("territory_id", "year")]
    base = timeseries[keep]
    base = base.loc[base[measures].notna().any(axis=1)] if measures else base.iloc[0:0]
    by_year = summary.by_year.rename(columns=_TIMESERIES_INCIDENT_COLUMNS)
    by_year["territory_id"] = by_year["territory_id"].astype(str)
    base = base.assign(territory_id=base["territory_id"].astype(str))
    timeseries = base.merge(by_year, on=["territory_id", "year"], how="outer")
    for column in _TIMESERIES_INCIDENT_COLUMNS.values():
        if column in timeseries.columns:
            timeseries[column] = timeseries[column].fillna(0).astype("int64")
    timeseries = timeseries.sort_values(["territory_id", "year"], kind="stable").reset_index(
        drop=True
    )

    config = _risk_config(result.options)
    if "risk_score" in table.columns:
        risk_columns = [c for c in table.columns if c.startswith("risk_")]
        pairs = summary.pairs if len(counted) else None
        risk = compute_risk(table.drop(columns=risk_columns), pairs, timeseries, config)
        for column in risk.columns:
            if column != "territory_id":
                table[column] = risk[column].to_numpy()
        sensitivity = compute_sensitivity(
            table.drop(columns=risk_columns), pairs, timeseries, config
        )
    else:
        sensitivity = result.sensitivity
    joined = result.territories.copy()
    lookup = table.set_index(ids)
    jids = joined["territory_id"].astype(str)
    for column in table.columns:
        if column in joined.columns and column not in ("territory_id", "name", "people"):
            joined[column] = jids.map(lookup[column]).to_numpy()
    facts = dict(result.incident_facts)
    facts.pop("merged", None)
    facts.pop("read", None)
    facts.pop("after_merging_duplicates", None)
    return dataclasses.replace(
        result,
        table=table,
        territories=joined,
        timeseries=timeseries,
        sensitivity=sensitivity,
        incident_facts=facts,
    )


def _source_names(frame: pd.DataFrame, kind: str) -> list[str]:
    column = "claim_source" if kind == "territories" and "claim_source" in frame else "source"
    if column not in frame.columns:
        return []
    values = frame[column].dropna().astype(str).str.strip()
    counts = values[values != ""].value_counts()
    return [str(v) for v in counts.index]


def compute_shareable_view(
    result: Any,
    layers: Mapping[str, Any],
    *,
    profile: str = "public",
    policy: PrivacyPolicy | None = None,
    key: bytes | None = None,
    districts: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    decimals: int = 6,
    redistributable: bool = True,
    keep_columns: Sequence[str] = (),
    store: PositionStore | None = None,
) -> ShareableView:
    """Turn analysis results and layers into what ``profile`` may show (the privacy gate).

    Every shared output (interactive map, static PNGs, download bundle) is built from the view
    this function returns, so that they all agree.

    ``public``:

    - incidents: sensitivity resolved from every privacy marker (:func:`resolve_sensitivity`);
      public records as given; restricted ones displaced with ``key`` (or, with
      ``policy.restricted == "aggregate"``, only counted per H3 hexagon); restricted records a
      publisher already generalised (``location_generalised`` strictly true) as given;
      confidential records never published and counted only in suppressed per-territory totals;
    - every count, by-year row, risk score, class and drivers sentence is recomputed from the
      records published, at their published positions (:func:`recount_incidents`): a displaced
      incident is "nearby" a territory only if its published point is. Records of layers that
      may not be redistributed (``redistributable=False``) are counted at their place when
      public and published only as hexagon counts;
    - every layer is restricted to an allow-list of columns (:data:`PUBLIC_LAYER_COLUMNS` plus
      ``keep_columns``), personal-looking columns never;
    - the policy must respect the floors (:func:`check_public_policy`).

    ``internal``: everything as given; the map may draw all but confidential incidents.

    Parameters
    ----------
    result : geotools.analysis.stats.StatsResult
        Statistics of every incident (as computed by :func:`geotools.pipeline.compute_stats`).
    layers : mapping of str to Layer or GeoDataFrame
        Inputs by kind.
    profile : {"public", "internal"}, default "public"
    policy : PrivacyPolicy, optional
        Public-profile parameters (default :class:`PrivacyPolicy`).
    key : bytes, optional
        Displacement key (:func:`derive_key`); without it, restricted records must be
        aggregated (``policy.restricted == "aggregate"``) or :class:`PrivacyError` is raised.
    districts, water : geopandas.GeoDataFrame, optional
        Displacement constraints.
    decimals : int, default 6
        Published coordinate decimals.
    redistributable : bool, default True
        False when the incidents' licence forbids passing records on.
    keep_columns : sequence of str
        Extra columns the public profile may keep in any non-incident layer (never personal).
    store : PositionStore, optional
        Kept published positions: a record published before keeps its point in this view
        whatever the options (see :func:`generalise_incidents`).

    Returns
    -------
    ShareableView

    Raises
    ------
    PrivacyError
        Policy below the floors, a privacy marker that cannot be read, or no key to displace.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}.")
    frames = {kind: _frame_of(layer) for kind, layer in layers.items()}
    incidents = frames.get("incidents")
    if profile == "internal":
        withheld = 0
        if incidents is not None:
            _, withheld = select_drawable(incidents, "internal")
            log.info(
                "privacy gate (internal): %d incident(s) drawn, %d confidential not drawn",
                len(incidents) - withheld,
                withheld,
            )
        options = {**result.options, "shareable_view": "internal"}
        return ShareableView(
            "internal",
            dataclasses.replace(result, options=options),
            dict(frames),
            withheld=withheld,
            sources={kind: _source_names(f, kind) for kind, f in frames.items()},
        )
    policy = policy or PrivacyPolicy()
    check_public_policy(policy)
    territories = frames["territories"]
    view_layers: dict[str, gpd.GeoDataFrame] = {}
    dropped: dict[str, list[str]] = {}
    stats_columns = [*result.table.columns, "incidents_confidential_inside",
                     "incidents_confidential_nearby"]
    for kind, frame in frames.items():
        if kind == "incidents":
            continue
        extra = [*keep_columns, *(stats_columns if kind == "territories" else ())]
        view_layers[kind], dropped[kind] = allow_columns(frame, kind, extra)

    generalised = None
    hexagons = None
    withheld = 0
    facts: dict[str, Any] = {}
    counted = gpd.GeoDataFrame(
        {"incident_id": pd.Series(dtype=str)}, geometry=gpd.GeoSeries([], crs=4326)
    )
    confidential_rows = None
    if incidents is not None:
        frame = incidents.to_crs(4326).reset_index(drop=True)
        klass = resolve_sensitivity(frame)
        frame = frame.assign(sensitivity=klass)
        given = np.zeros(len(frame), dtype=bool)
        if GENERALISED_COLUMN in frame.columns:
            given = parse_flag(frame[GENERALISED_COLUMN]) & (klass == "restricted")
        # Markers are read into ``sensitivity`` above; their values are vocabulary, not secrets.
        markers = find_privacy_markers([c for c in frame.columns if c != "geometry"])
        rest = frame.loc[~given].drop(
            columns=[c for c in (*_GATE_COLUMNS, *markers) if c in frame.columns]
        )
        generalised = generalise_incidents(
            rest, policy, key, territories=territories, districts=districts, water=water,
            decimals=decimals, redistributable=redistributable, store=store,
        )
        pre = frame.loc[given]
        pre_published, _ = allow_columns(pre, "incidents")
        pre_published = pre_published.assign(**{GENERALISED_COLUMN: True})
        if UNCERTAINTY_COLUMN not in pre_published.columns:
            pre_published[UNCERTAINTY_COLUMN] = np.nan
        if METHOD_COLUMN not in pre_published.columns:
            pre_published[METHOD_COLUMN] = "generalised by the publisher"
        if "description" in pre_published.columns:
            pre_published["description"] = None
        published = gpd.GeoDataFrame(
            pd.concat([generalised.published, pre_published], ignore_index=True),
            geometry="geometry",
            crs=4326,
        )
        published, dropped["incidents"] = allow_columns(published, "incidents")
        dropped["incidents"] = sorted(
            set(generalised.facts.get("dropped_columns", []))
            | set(dropped["incidents"])
            | set(markers)
        )
        view_layers["incidents"] = published
        # Counted: what is published, where it is published; public records of a layer that
        # may not be redistributed are counted at their place (their place is not secret).
        extra = rest.loc[(rest["sensitivity"] == "public").to_numpy()] if not redistributable \
            else rest.iloc[0:0]
        counted = gpd.GeoDataFrame(
            pd.concat([published, allow_columns(extra, "incidents")[0]], ignore_index=True),
            geometry="geometry",
            crs=4326,
        )
        hexagons = generalised.hexagons
        withheld = int(((klass == "restricted") & ~given).sum()) - int(
            generalised.facts.get("displaced", 0)
        )
        withheld = max(withheld, 0)
        confidential_rows = generalised.confidential
        gfacts = generalised.facts
        facts = {
            "public": int((klass == "public").sum()),
            "restricted": int((klass == "restricted").sum()),
            "generalised_by_publisher": int(given.sum()),
            "displaced": gfacts.get("displaced", 0),
            "not_displaceable": gfacts.get("not_displaceable", 0),
            "aggregated": gfacts.get("aggregated", 0),
            "published_points": len(published),
            "confidential": gfacts.get("confidential"),
            "displacement_min_m": gfacts.get("displacement_min_m"),
            "displacement_max_m": gfacts.get("displacement_max_m"),
            "dropped_columns": dropped["incidents"],
            "redistributable": redistributable,
        }
    shared = recount_incidents(result, territories, counted, frames.get("infrastructure"))
    confidential = _confidential_counts(
        shared, territories, confidential_rows, policy.min_count
    )
    table = shared.table.copy()
    joined = shared.territories
    for name, values in confidential.items():
        table[name] = values
    joined, dropped_t = allow_columns(joined, "territories", [*keep_columns, *table.columns])
    joined = joined.copy()
    table_ids = table["territory_id"].astype(str).to_numpy()
    for name, values in confidential.items():
        lookup = dict(zip(table_ids, values, strict=True))
        joined[name] = (
            joined["territory_id"].astype(str).map(lookup).fillna(f"<{policy.min_count}")
        ).to_numpy(dtype=object)
    table, dropped_table = allow_columns(table, "territories", [*keep_columns, *table.columns])
    dropped["territories"] = sorted(
        set(dropped.get("territories", [])) | set(dropped_table) | set(dropped_t)
    )
    options = {**shared.options, "shareable_view": "public"}
    shared = dataclasses.replace(shared, table=table, territories=joined, options=options)
    sources = {kind: _source_names(f, kind) for kind, f in view_layers.items()}
    if "incidents" in view_layers:
        sources["incidents"] = _source_names(counted, "incidents")
    facts["dropped_columns_by_layer"] = {k: v for k, v in dropped.items() if v}
    log.info(
        "privacy gate (public): %d incident(s) drawn, %d not drawn; columns not published: %s",
        len(view_layers.get("incidents", ())),
        withheld,
        "; ".join(f"{k}: {', '.join(v)}" for k, v in dropped.items() if v) or "none",
    )
    return ShareableView(
        "public",
        shared,
        view_layers,
        withheld=withheld,
        hexagons=hexagons,
        generalised=generalised,
        sources=sources,
        dropped_columns={k: v for k, v in dropped.items() if v},
        confidential=confidential,
        facts=facts,
    )


def _confidential_counts(
    result: Any,
    territories: gpd.GeoDataFrame,
    confidential: gpd.GeoDataFrame | None,
    minimum: int,
) -> dict[str, np.ndarray]:
    """Suppressed per-territory counts of confidential incidents (table order)."""
    from geotools.analysis.incidents import summarise_incidents

    n = len(result.table)
    names = ("incidents_confidential_inside", "incidents_confidential_nearby")
    if confidential is None or not len(confidential):
        return {name: suppress_counts(np.zeros(n), minimum).to_numpy() for name in names}
    summary = summarise_incidents(
        territories, confidential, nearby_km=result.nearby_km
    ).per_territory
    per = summary.set_index(summary["territory_id"].astype(str))
    ids = result.table["territory_id"].astype(str)
    return {
        name: suppress_counts(
            ids.map(per[name.replace("_confidential", "")]).fillna(0).to_numpy(), minimum
        ).to_numpy()
        for name in names
    }
