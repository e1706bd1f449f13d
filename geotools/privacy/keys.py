"""The publish key and what it derives: seeds, random draws, identities, the position store.

A record's identity is a keyed hash (HMAC-SHA256 under the publish key) of its true location
rounded to 1e-6 degrees (:func:`compute_identities`); its displacement is drawn from a keyed seed
(:func:`compute_seeds`, :func:`draw_uniforms`) and then kept in a :class:`PositionStore` beside the
key, so that every later release reuses it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from geotools.errors import PrivacyError

log = logging.getLogger(__name__)

_GAMMA = np.uint64(0x9E3779B97F4A7C15)


def derive_key(secret: str | bytes) -> bytes:
    """Return the 32-byte displacement key derived from a secret (a passphrase or key file).

    Parameters
    ----------
    secret : str or bytes
        The secret (a str is encoded as UTF-8); surrounding white space is ignored, and at
        least 16 bytes must remain.

    Returns
    -------
    bytes
        SHA-256 of a fixed domain prefix and the stripped secret.

    Raises
    ------
    PrivacyError
        The stripped secret is shorter than 16 bytes.
    """
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
        """Open the store at ``path`` (a new, empty one when the file does not exist yet).

        Parameters
        ----------
        path : str or path-like or None
            The store's JSON file; None for a store kept in memory only.
        key : bytes
            Key from :func:`derive_key`; the store must have been made with it.

        Returns
        -------
        PositionStore
            The store, with the entries of the file when it existed.

        Raises
        ------
        PrivacyError
            The file is unreadable, not a geotools positions file, or belongs to another key.
        """
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
        """Return the stored entry of each record, looking up its own identity first.

        Parameters
        ----------
        grid : numpy.ndarray of str
            One row per record: the identities of its location and of its 8 neighbours on the
            1e-6 degree grid, its own in column 0 (see :func:`_identity_grid`).

        Returns
        -------
        list of dict or None
            Per record, the entry of the first identity of its row that is stored; None when none
            is.
        """
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
        """Enter a record published for the first time (an existing entry is never replaced).

        Parameters
        ----------
        identity : str
            The record's identity (keyed hash of its location).
        entry : dict of str to Any
            ``{"form": "point", "lon", "lat", "min_m", "max_m"}`` or
            ``{"form": "hexagon", "resolution"}``.
        """
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

    Parameters
    ----------
    seeds : numpy.ndarray of uint64
        One seed per record (:func:`compute_seeds`).
    count : int
        Numbers drawn per seed.

    Returns
    -------
    numpy.ndarray of float64
        ``(len(seeds), count)`` numbers, multiples of 2**-53.
    """
    with np.errstate(over="ignore"):
        steps = np.arange(count, dtype=np.uint64) * _GAMMA
        state = seeds.astype(np.uint64)[:, None] + steps[None, :]
        bits = _splitmix64(state)
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
