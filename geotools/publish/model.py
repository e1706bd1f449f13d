"""What a bundle is: its options, profiles, formats, licences, report and key material.

:class:`PublishOptions` (profile, formats, policy, secret, position store...), the
:class:`BundleReport` a run returns, the licence of each source (:func:`describe_licence`), and
where the displacement secret and the position store are read from (:func:`read_secret`,
:func:`positions_path`, :func:`open_position_store`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd

from geotools.analysis.stats import StatsResult
from geotools.errors import SourceError
from geotools.io import Layer
from geotools.maps.style import DEFAULT_BASEMAP, check_basemap
from geotools.privacy import (
    POSITIONS_ENV,
    GeneralisedIncidents,
    PositionStore,
    PrivacyPolicy,
    check_public_policy,
    needs_permission,
)
from geotools.privacy.permission import PERMISSION_SOURCES
from geotools.schema import Lang, Profile

log = logging.getLogger(__name__)

FORMATS = ("shp", "kml")
SECRET_ENV = "GEOTOOLS_PUBLISH_SECRET"
#: Displacement key of the demo bundle. It is public, not a secret: anyone can undo the demo's
#: displacements, which is acceptable only because every demo location is invented. Never use
#: it for real data. (The value is kept so that demo outputs do not change.)
DEMO_KEY = "geotools-demo-secret-invented-locations-only"
#: Old name of :data:`DEMO_KEY`.
DEMO_SECRET = DEMO_KEY
#: Sources whose terms forbid passing raw records on without permission (importer names;
#: kept for the public API): :data:`geotools.privacy.permission.PERMISSION_SOURCES`.
NOT_REDISTRIBUTABLE_SOURCES = PERMISSION_SOURCES


# --------------------------------------------------------------------------------------------
# Licences
# --------------------------------------------------------------------------------------------


def describe_licence(layer: Layer) -> dict[str, Any]:
    """Return ``{"importer", "licence", "redistributable"}`` of a layer from its QA notes.

    Parameters
    ----------
    layer : Layer
        A layer read; its importer and licence are in ``ledger.notes["importer"]`` when it was
        imported.

    Returns
    -------
    dict of str to Any
        ``importer`` (name or None), ``licence`` (text or None) and ``redistributable``:
        False for sources whose terms require permission for record-level publishing (ACLED,
        the indigenous monitors, a licence note saying so:
        :func:`geotools.privacy.needs_permission`), True otherwise.
    """
    importer = layer.ledger.notes.get("importer") or {}
    source = importer.get("source")
    licence = importer.get("licence")
    redistributable = not needs_permission(source, licence)
    return {"importer": source, "licence": licence, "redistributable": bool(redistributable)}


# --------------------------------------------------------------------------------------------
# Options and results
# --------------------------------------------------------------------------------------------


@dataclass
class PublishOptions:
    """Options of a bundle.

    Attributes
    ----------
    profile : {"public", "internal"}
    formats : tuple of str
        Extra formats: ``shp``, ``kml``.
    decimals : int
        GeoJSON coordinate decimals.
    policy : PrivacyPolicy
        Parameters of the public profile.
    secret : str or None
        Displacement secret (never written anywhere).
    positions : str or path-like or None
        Position store kept with the key (:class:`geotools.privacy.PositionStore`): every
        restricted record keeps the position it was first published at, in every later release
        with any options. None: no store (positions are then a pure function of the key, the
        record and the range; a release with other options can publish other points, which
        narrows the true place down; ``geotools publish`` always keeps one).
    lang : str
        Map language.
    overwrite : bool
        Replace an existing bundle folder.
    created : str or None
        Date written into the README (default: today, UTC).
    keep_columns : tuple of str
        Extra columns a public bundle may keep in the non-incident layers (every other column
        outside the allow-list is dropped; personal-looking columns always are).
    offline : bool
        Inline Leaflet and its plugins in the bundle's ``map.html`` so it opens with no network
        (with ``basemap="none"``, nothing at all is requested).
    basemap : {"osm", "satellite", "none"}
        Basemap of the bundle's map (:func:`geotools.maps.build_map`).
    shade_regions : str or None
        With regions: the ``region_stats`` column the bundle's map shades them by.
    permissions : dict of str to str
        Layer kind -> the publisher's statement that the source allowed record-level
        publishing ("who granted, when"); recorded in the README and ``datapackage.json``.
        A public bundle refuses a layer whose terms require permission
        (:func:`geotools.privacy.needs_permission`) without one, unless ``aggregate_only``.
    aggregate_only : bool
        Publish the incidents of such a layer only as aggregates (hexagon and territory counts).

    A public profile's policy must respect the safe floors
    (:func:`geotools.privacy.check_public_policy`): it is refused otherwise.
    """

    profile: Profile = "public"
    formats: tuple[str, ...] = ()
    decimals: int = 6
    policy: PrivacyPolicy = field(default_factory=PrivacyPolicy)
    secret: str | None = None
    positions: str | os.PathLike[str] | None = None
    lang: Lang = "es"
    overwrite: bool = False
    created: str | None = None
    keep_columns: tuple[str, ...] = ()
    offline: bool = False
    basemap: str = DEFAULT_BASEMAP
    shade_regions: str | None = None
    permissions: dict[str, str] = field(default_factory=dict)
    aggregate_only: bool = False

    def __post_init__(self) -> None:
        check_basemap(self.basemap)
        if self.profile == "public":
            check_public_policy(self.policy)


@dataclass
class BundleReport:
    """What :func:`publish_bundle` wrote and measured.

    Attributes
    ----------
    out : pathlib.Path
        The bundle folder.
    files : list of str
        Files in the bundle (relative paths).
    bytes : int
        Total size.
    facts : dict
        Privacy facts (counts, displacement range measured) and the leak check runtime.
    """

    out: Path
    files: list[str]
    bytes: int
    facts: dict[str, Any]


@dataclass
class _Bundle:
    """What goes into a bundle before it is written."""

    profile: Profile
    stats: StatsResult
    layers: dict[str, gpd.GeoDataFrame]
    hexagons: gpd.GeoDataFrame | None
    map_layers: dict[str, Layer]
    sources: list[dict[str, Any]]
    privacy: dict[str, Any]
    attribution: list[str]
    regions: gpd.GeoDataFrame | None = None


def read_secret(secret_file: str | os.PathLike[str] | None = None) -> str | None:
    """Return the displacement secret from a file, else from ``GEOTOOLS_PUBLISH_SECRET``.

    Parameters
    ----------
    secret_file : str or path-like, optional
        File holding the secret (surrounding white space is dropped).

    Returns
    -------
    str or None
        The secret; None when no file is given and the variable is unset or empty.

    Raises
    ------
    SourceError
        ``secret_file`` is given but is not a file.
    """
    if secret_file is not None:
        path = Path(secret_file)
        if not path.is_file():
            raise SourceError(f"{path}: secret file not found")
        return path.read_text(encoding="utf-8").strip()
    return os.environ.get(SECRET_ENV) or None


def positions_path(
    secret_file: str | os.PathLike[str] | None = None,
    positions: str | os.PathLike[str] | None = None,
) -> Path | None:
    """Return where the position store is kept, or None.

    ``positions``, else ``$GEOTOOLS_PUBLISH_POSITIONS``, else beside the secret file
    (``publish.key`` -> ``publish.positions.json``), else None.

    Parameters
    ----------
    secret_file : str or path-like, optional
        The secret file (``--secret-file``).
    positions : str or path-like, optional
        The store given explicitly (``--positions``).

    Returns
    -------
    pathlib.Path or None
        The store's path (the file need not exist yet).
    """
    if positions is not None:
        return Path(positions)
    if os.environ.get(POSITIONS_ENV):
        return Path(os.environ[POSITIONS_ENV])
    if secret_file is not None:
        path = Path(secret_file)
        return path.with_name(path.stem + ".positions.json")
    return None


def open_position_store(options: PublishOptions, key: bytes | None) -> PositionStore | None:
    """Open the position store of a public release (None without a key or a store path).

    Parameters
    ----------
    options : PublishOptions
        The release's options (``profile``, ``positions``, ``secret``); a store is used only for
        the public profile. Without ``positions`` a warning is logged, unless the secret is the
        demo's.
    key : bytes or None
        Displacement key from :func:`geotools.privacy.derive_key`.

    Returns
    -------
    PositionStore or None
        The store (empty when its file does not exist yet).

    Raises
    ------
    PrivacyError
        The store's file is unreadable, not a positions file, or belongs to another key.
    """
    if key is None or options.profile != "public":
        return None
    if options.positions is None:
        if options.secret is not None and options.secret.strip() != DEMO_KEY:
            log.warning(
                "no position store (--positions): a later release with other options would "
                "publish other points for the same incidents; keep one with the key"
            )
        return None
    return PositionStore.open(options.positions, key)


def _save_positions(generalised: GeneralisedIncidents, options: PublishOptions) -> None:
    """Save the store once the bundle passed its leak check (its path goes to the log only)."""
    store = generalised.store
    if store is None or store.path is None:
        return
    existed = store.existed
    path = store.save()
    if not existed:
        log.warning(
            "created the position store %s: keep it with the key and reuse both for every "
            "release of these data (it is not part of the bundle)",
            path,
        )
