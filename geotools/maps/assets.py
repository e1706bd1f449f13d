"""Local copies of the JavaScript and CSS that folium maps load from CDNs.

A folium page loads Leaflet, its plugins and their style sheets from public CDNs
(jsDelivr, cdnjs, code.jquery.com, netdna). This module maps each of those URLs
(:data:`ASSETS`) to a file inside a pinned npm package, so that maps can be

- opened without internet (:func:`geotools.maps.inline.inline_map_assets` puts every script and
  style sheet into the HTML; basemap tiles still need the network), and
- tested in a real browser that has no internet (the browser tests answer the CDN requests
  from the cache through Playwright's ``page.route``).

:func:`fetch_map_assets` downloads the npm tarballs from the registry, checks each against the
``integrity`` (sha512) pinned here and keeps only the files the table names plus the images and
fonts their CSS refers to. ``geotools fetch-assets`` runs it from the command line.

Where the npm file differs from the CDN file
--------------------------------------------
- ``bootstrap-glyphicons.css`` (Bootstrap 3.0.0, netdna): no npm package ships it. The
  ``@font-face`` and ``.glyphicon*`` rules are taken from ``bootstrap@3.4.1``'s
  ``dist/css/bootstrap.css`` (the same icon font, a superset of the 3.0.0 glyphs), nothing else.
- ``Leaflet.awesome-markers/2.0.2`` (cdnjs): from ``drmonty-leaflet-awesome-markers@2.0.2``, an
  npm mirror of upstream release 2.0.2 (its script is byte-identical to
  ``leaflet.awesome-markers@2.0.4``'s).
- ``leaflet.awesome.rotate.min.css`` (folium's GitHub tree): not in the folium wheel; it is
  ``.fa-rotate-N { transform: rotate(Ndeg) }`` for N = 0..360, generated here.
- ``leaflet_heat.min.js`` (folium's GitHub tree, used by ``HeatMap``): read from the installed
  folium package (``folium/templates/leaflet_heat.min.js``), not downloaded.
- ``leaflet.fullscreen@3.0.0/Control.FullScreen.min.js``: jsDelivr minifies on the fly; the
  package only has ``Control.FullScreen.js``, which is used.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import posixpath
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from geotools.errors import MapAssetError

log = logging.getLogger(__name__)


#: Environment variable naming the asset cache folder.
CACHE_ENV = "GEOTOOLS_ASSET_CACHE"
#: Environment variable naming an npm registry mirror (default :data:`NPM_REGISTRY`).
REGISTRY_ENV = "GEOTOOLS_NPM_REGISTRY"
NPM_REGISTRY = "https://registry.npmjs.org"
#: Seconds to wait for the registry before giving up on one request.
TIMEOUT_S = 60.0
#: Largest tarball accepted (the largest one pinned, Font Awesome, is about 5 MB).
MAX_TARBALL_BYTES = 64 * 2**20
_MANIFEST = "geotools-manifest.json"

MIME_TYPES = {
    ".js": "application/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".eot": "application/vnd.ms-fontobject",
}


@dataclass(frozen=True)
class NpmPackage:
    """One pinned npm package version.

    Attributes
    ----------
    name : str
        Package name, e.g. ``"leaflet"`` or ``"@fortawesome/fontawesome-free"``.
    version : str
        Exact version.
    integrity : str
        The registry's ``dist.integrity`` (``sha512-`` + base64); downloads are checked against it.
    extra_files : tuple of str
        Files to keep besides the assets and what their CSS refers to (paths in the package).
    """

    name: str
    version: str
    integrity: str
    extra_files: tuple[str, ...] = ()

    @property
    def spec(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    @property
    def dirname(self) -> str:
        """Folder of the package in the cache (``/`` of scoped names becomes ``+``)."""
        return f"{self.name.replace('/', '+')}@{self.version}"

    def tarball_url(self, registry: str | None = None) -> str:
        """Return the URL of the package tarball on ``registry``.

        Parameters
        ----------
        registry : str, optional
            Base URL of an npm registry (a trailing ``/`` is ignored); default :func:`registry_url`.

        Returns
        -------
        str
            ``REGISTRY/NAME/-/BASENAME-VERSION.tgz`` (``BASENAME`` without the scope of a scoped
            package).
        """
        base = (registry or registry_url()).rstrip("/")
        return f"{base}/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"


@dataclass(frozen=True)
class Asset:
    """Where the content of one CDN URL comes from.

    Attributes
    ----------
    url : str
        The URL folium writes into ``<script src>`` or ``<link href>``.
    kind : {"js", "css"}
    source : {"npm", "folium", "generated"}
        ``npm``: ``path`` inside ``package``; ``folium``: ``path`` inside the installed folium
        package; ``generated``: made by this module (``path`` names the generator).
    path : str
    package : NpmPackage, optional
    note : str
        How the local file differs from the CDN's, if it does.
    """

    url: str
    kind: Literal["js", "css"]
    source: Literal["npm", "folium", "generated"]
    path: str
    package: NpmPackage | None = None
    note: str = ""
    transform: Callable[[str], str] | None = field(default=None, compare=False, repr=False)


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------

LEAFLET = NpmPackage(
    "leaflet",
    "1.9.3",
    "sha512-iB2cR9vAkDOu5l3HAay2obcUHZ7xwUBBjph8+PGtmW/2lYhbLizWtG7nTeYht36WfOslixQF9D/uSIzhZgGMfQ==",
    extra_files=(
        "dist/images/marker-icon.png",
        "dist/images/marker-icon-2x.png",
        "dist/images/marker-shadow.png",
    ),
)
JQUERY = NpmPackage(
    "jquery",
    "3.7.1",
    "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
)
BOOTSTRAP = NpmPackage(
    "bootstrap",
    "5.2.2",
    "sha512-dEtzMTV71n6Fhmbg4fYJzQsw1N29hJKO1js5ackCgIpDcGid2ETMGC6zwSYw09v05Y+oRdQ9loC54zB1La3hHQ==",
)
BOOTSTRAP3 = NpmPackage(
    "bootstrap",
    "3.4.1",
    "sha512-yN5oZVmRCwe5aKwzRj6736nSmKDX7pLYwsXiCj/EYmo16hODaBiT4En5btW/jhBF/seV+XMx3aYwukYC3A49DA==",
)
FONTAWESOME = NpmPackage(
    "@fortawesome/fontawesome-free",
    "6.2.0",
    "sha512-CNR7qRIfCwWHNN7FnKUniva94edPdyQzil/zCwk3v6k4R6rR2Fr8i4s3PM7n/lyfPA6Zfko9z5WDzFxG9SW1uQ==",
)
AWESOME_MARKERS = NpmPackage(
    "drmonty-leaflet-awesome-markers",
    "2.0.2",
    "sha512-g508pdnnHQr9l4kU6McvJzcSd0w1FvHFlZZCYc4oT+zjwYJi1qtj0fFBFEWMKoNfHK4UcBya1eccyjKfu4chjQ==",
)
MARKERCLUSTER = NpmPackage(
    "leaflet.markercluster",
    "1.1.0",
    "sha512-eI+XkCiLiHwCC3uZ4/n4+Vq3rXcqEHN2lhHRVG1WVziy/3Q0TTipWkzEa1zO0dKZI2AnI5ppFDWrOjnQ7MJLKQ==",
)
FULLSCREEN = NpmPackage(
    "leaflet.fullscreen",
    "3.0.0",
    "sha512-81wWSUXz1ZtdneR0v5eJDWXUSx+Zo5J50WXWeydG/UcILfIEAgz/iOjZSi3p00Z9MJ/FC/P5i3CgdYuEAos0yQ==",
)
MINIMAP = NpmPackage(
    "leaflet-minimap",
    "3.6.1",
    "sha512-6px8f6cfv1rKB6ACpL6bbUFGxipZOq4KsntJgBj9nOcW1RYa5+xFp8emOZwks9X+VtVVsQEwWwfgT1kTTL/LzA==",
)
SEARCH = NpmPackage(
    "leaflet-search",
    "2.9.7",
    "sha512-v7CxEbXyQXqLFjSkTpvM5i1cvmrcPOos57UmTnR94qqvVZykXyz/0SKEs3cbkFHjyrmMQ3Yk2Q5W6PvyuiSuPg==",
)
GROUPED_LAYERS = NpmPackage(
    "leaflet-groupedlayercontrol",
    "0.6.1",
    "sha512-xkGeH6ygcryFQI0FUWn6Bz93zlwrOSpeXgJQ3jLRoUQJ5h/Qgrz+GqR9nhBFfikjUKtC1sCKL3eDR9wNTWhLlA==",
)
# The vector-tile viewer (geotools.maps.tiles): MapLibre GL JS 5 (the last major version with a
# UMD bundle whose worker is built in) and the PMTiles protocol.
MAPLIBRE = NpmPackage(
    "maplibre-gl",
    "5.24.1",
    "sha512-HyiYBwtsbk3L1n1EPLJHWqdoyMiF80n7tEYXFZyu2m1TjvaNx6KMLiFeDdmszt1/mq2zvsR1TJuX/NMu5BonXQ==",
    extra_files=("LICENSE.txt",),
)
PMTILES = NpmPackage(
    "pmtiles",
    "4.5.0",
    "sha512-CBeD4SoUluFziGdy/8k7FOjQxQy486n+929W/tWophauvMICpkZ26vGBWhDt/6b1FZQWNaf4jFdT/5+q0Wii5w==",
)


def _css_blocks(css: str) -> list[tuple[str, str]]:
    """Top-level ``(prelude, body)`` pairs of a style sheet; comments dropped, nesting kept."""
    blocks: list[tuple[str, str]] = []
    depth = 0
    prelude: list[str] = []
    body: list[str] = []
    i, n = 0, len(css)
    while i < n:
        char = css[i]
        if css.startswith("/*", i):
            end = css.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if char in "\"'":
            end = i + 1
            while end < n and css[end] != char:
                end += 2 if css[end] == "\\" else 1
            chunk = css[i : end + 1]
            (body if depth else prelude).append(chunk)
            i = end + 1
            continue
        if char == "{":
            depth += 1
            if depth > 1:
                body.append(char)
        elif char == "}":
            depth -= 1
            if depth == 0:
                blocks.append(("".join(prelude), "".join(body)))
                prelude, body = [], []
            else:
                body.append(char)
        elif char == ";" and depth == 0:
            prelude = []  # a top-level statement such as @charset
        else:
            (body if depth else prelude).append(char)
        i += 1
    return blocks


def _glyphicons_only(css: str) -> str:
    """Keep the Glyphicons ``@font-face`` and the rules whose selectors all start ``.glyphicon``."""
    kept = []
    for prelude, body in _css_blocks(css):
        head = prelude.strip()
        font = head.startswith("@font-face") and "Glyphicons Halflings" in body
        icons = not head.startswith("@") and all(
            s.strip().startswith(".glyphicon") for s in head.split(",")
        )
        if font or icons:
            kept.append(f"{head}{{{body}}}")
    if not kept:
        raise MapAssetError(
            "bootstrap@3.4.1 dist/css/bootstrap.css has no Glyphicons rules; the cached file is "
            "not what geotools expects: delete the asset cache and run 'geotools fetch-assets'"
        )
    return "\n".join(kept) + "\n"


def _fa_rotate_css() -> str:
    """folium's ``leaflet.awesome.rotate`` rules: ``.fa-rotate-N`` turns an icon by N degrees."""
    return "".join(f".fa-rotate-{n}{{transform:rotate({n}deg)}}\n" for n in range(361))


_GENERATORS: dict[str, Callable[[], str]] = {"fa-rotate": _fa_rotate_css}

_JSD = "https://cdn.jsdelivr.net"
_CDNJS = "https://cdnjs.cloudflare.com/ajax/libs"


def _table() -> dict[str, Asset]:
    rows = [
        # folium.Map defaults
        Asset(f"{_JSD}/npm/leaflet@1.9.3/dist/leaflet.js", "js", "npm", "dist/leaflet.js", LEAFLET),
        Asset(
            f"{_JSD}/npm/leaflet@1.9.3/dist/leaflet.css", "css", "npm", "dist/leaflet.css", LEAFLET
        ),
        Asset(
            "https://code.jquery.com/jquery-3.7.1.min.js", "js", "npm", "dist/jquery.min.js", JQUERY
        ),
        Asset(
            f"{_JSD}/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js",
            "js",
            "npm",
            "dist/js/bootstrap.bundle.min.js",
            BOOTSTRAP,
        ),
        Asset(
            f"{_JSD}/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css",
            "css",
            "npm",
            "dist/css/bootstrap.min.css",
            BOOTSTRAP,
        ),
        Asset(
            "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css",
            "css",
            "npm",
            "dist/css/bootstrap.css",
            BOOTSTRAP3,
            note="Glyphicons rules of bootstrap@3.4.1 (no npm package has the 3.0.0 file)",
            transform=_glyphicons_only,
        ),
        Asset(
            f"{_JSD}/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css",
            "css",
            "npm",
            "css/all.min.css",
            FONTAWESOME,
        ),
        Asset(
            f"{_CDNJS}/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js",
            "js",
            "npm",
            "js/leaflet.awesome-markers.js",
            AWESOME_MARKERS,
            note="npm mirror of release 2.0.2",
        ),
        Asset(
            f"{_CDNJS}/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css",
            "css",
            "npm",
            "css/leaflet.awesome-markers.css",
            AWESOME_MARKERS,
            note="npm mirror of release 2.0.2",
        ),
        Asset(
            f"{_JSD}/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css",
            "css",
            "generated",
            "fa-rotate",
            note="generated: .fa-rotate-N for N = 0..360 (not in the folium wheel)",
        ),
        # folium.plugins.MarkerCluster
        Asset(
            f"{_CDNJS}/leaflet.markercluster/1.1.0/leaflet.markercluster.js",
            "js",
            "npm",
            "dist/leaflet.markercluster.js",
            MARKERCLUSTER,
        ),
        Asset(
            f"{_CDNJS}/leaflet.markercluster/1.1.0/MarkerCluster.css",
            "css",
            "npm",
            "dist/MarkerCluster.css",
            MARKERCLUSTER,
        ),
        Asset(
            f"{_CDNJS}/leaflet.markercluster/1.1.0/MarkerCluster.Default.css",
            "css",
            "npm",
            "dist/MarkerCluster.Default.css",
            MARKERCLUSTER,
        ),
        # folium.plugins.HeatMap
        Asset(
            f"{_JSD}/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js",
            "js",
            "folium",
            "templates/leaflet_heat.min.js",
            note="the copy shipped in the installed folium package",
        ),
        # folium.plugins.Fullscreen
        Asset(
            f"{_JSD}/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js",
            "js",
            "npm",
            "Control.FullScreen.js",
            FULLSCREEN,
            note="unminified (jsDelivr minifies on the fly; the package has no .min.js)",
        ),
        Asset(
            f"{_JSD}/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css",
            "css",
            "npm",
            "Control.FullScreen.css",
            FULLSCREEN,
        ),
        # folium.plugins.MiniMap
        Asset(
            f"{_CDNJS}/leaflet-minimap/3.6.1/Control.MiniMap.js",
            "js",
            "npm",
            "src/Control.MiniMap.js",
            MINIMAP,
        ),
        Asset(
            f"{_CDNJS}/leaflet-minimap/3.6.1/Control.MiniMap.css",
            "css",
            "npm",
            "src/Control.MiniMap.css",
            MINIMAP,
        ),
        # folium.plugins.Search
        Asset(
            f"{_JSD}/npm/leaflet-search@2.9.7/dist/leaflet-search.min.js",
            "js",
            "npm",
            "dist/leaflet-search.min.js",
            SEARCH,
        ),
        Asset(
            f"{_JSD}/npm/leaflet-search@2.9.7/dist/leaflet-search.min.css",
            "css",
            "npm",
            "dist/leaflet-search.min.css",
            SEARCH,
        ),
        # folium.plugins.GroupedLayerControl
        Asset(
            f"{_CDNJS}/leaflet-groupedlayercontrol/0.6.1/leaflet.groupedlayercontrol.min.js",
            "js",
            "npm",
            "dist/leaflet.groupedlayercontrol.min.js",
            GROUPED_LAYERS,
        ),
        Asset(
            f"{_CDNJS}/leaflet-groupedlayercontrol/0.6.1/leaflet.groupedlayercontrol.min.css",
            "css",
            "npm",
            "dist/leaflet.groupedlayercontrol.min.css",
            GROUPED_LAYERS,
        ),
        # The vector-tile viewer (not folium's): geotools.maps.tiles
        Asset(
            f"{_JSD}/npm/maplibre-gl@5.24.1/dist/maplibre-gl.js",
            "js",
            "npm",
            "dist/maplibre-gl.js",
            MAPLIBRE,
        ),
        Asset(
            f"{_JSD}/npm/maplibre-gl@5.24.1/dist/maplibre-gl.css",
            "css",
            "npm",
            "dist/maplibre-gl.css",
            MAPLIBRE,
        ),
        Asset(f"{_JSD}/npm/pmtiles@4.5.0/dist/pmtiles.js", "js", "npm", "dist/pmtiles.js", PMTILES),
    ]
    return {row.url: row for row in rows}


#: Every CDN URL geotools can serve locally, and where its content comes from.
ASSETS: dict[str, Asset] = _table()


def _asset(url: str) -> Asset:
    try:
        return ASSETS[url]
    except KeyError:
        raise MapAssetError(
            f"{url}: geotools has no local copy of this script or style sheet (see "
            "geotools.maps.assets.ASSETS); add it to the table with its npm package, version, "
            "file and integrity, or drop the map element that loads it"
        ) from None


# --------------------------------------------------------------------------------------------
# Cache and download
# --------------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """The asset cache: ``$GEOTOOLS_ASSET_CACHE``, else ``$XDG_CACHE_HOME/geotools/map-assets``,
    else ``~/.cache/geotools/map-assets``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "geotools" / "map-assets"


def registry_url() -> str:
    """The npm registry: ``$GEOTOOLS_NPM_REGISTRY`` or :data:`NPM_REGISTRY`."""
    return os.environ.get(REGISTRY_ENV) or NPM_REGISTRY


def _cache(cache_dir: str | os.PathLike[str] | None) -> Path:
    return Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()


def _package_dir(cache: Path, package: NpmPackage) -> Path:
    return cache / "npm" / package.dirname


def _is_complete(directory: Path, package: NpmPackage) -> bool:
    try:
        manifest = json.loads((directory / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("integrity") != package.integrity:
        return False
    return all((directory / name).is_file() for name in manifest.get("files", []))


def _check_integrity(data: bytes, package: NpmPackage, url: str) -> None:
    algorithm, _, expected = package.integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode("ascii")
    if digest != expected:
        raise MapAssetError(
            f"{url}: the download does not match the pinned integrity of {package.spec} "
            f"({algorithm} {digest[:16]}... instead of {expected[:16]}...); the file was not "
            "used. Check the registry (or a mirror set with $GEOTOOLS_NPM_REGISTRY) and try again"
        )


def _download(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "geotools-fetch-assets"})
    last: Exception | None = None
    for attempt in (1, 2):
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                data = response.read(MAX_TARBALL_BYTES + 1)
            if len(data) > MAX_TARBALL_BYTES:
                raise MapAssetError(
                    f"{url}: larger than {MAX_TARBALL_BYTES // 2**20} MB; not what geotools "
                    "pinned: check the registry set with $GEOTOOLS_NPM_REGISTRY"
                )
            return data
        except MapAssetError:  # an OSError too: not a network failure to retry
            raise
        except urllib.error.HTTPError as exc:
            raise MapAssetError(
                f"{url}: the npm registry answered HTTP {exc.code} ({exc.reason}); check "
                f"${REGISTRY_ENV} if you use a mirror, then run 'geotools fetch-assets' again"
            ) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            last = exc
            log.debug("Download of %s failed (attempt %d): %s", url, attempt, exc)
    reason = getattr(last, "reason", last)
    raise MapAssetError(
        f"{url}: cannot download ({reason}); the map assets need the npm registry once: connect "
        "to the internet (or set $GEOTOOLS_NPM_REGISTRY to a reachable mirror) and run "
        "'geotools fetch-assets' again"
    ) from last


def _css_refs(css: str) -> list[str]:
    """Relative ``url(...)`` references of a style sheet (no data:, fragment or absolute URLs)."""
    refs = []
    for match in _URL_RE.finditer(css):
        ref = match.group(2).strip()
        if not ref or ref.startswith(("data:", "#")) or _is_absolute(ref):
            continue
        refs.append(ref)
    return refs


def _resolve(base_path: str, ref: str) -> str:
    """Path in the package of ``ref`` as written in the file at ``base_path``."""
    clean = ref.split("#", 1)[0].split("?", 1)[0]
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_path), clean))


def _extract(data: bytes, package: NpmPackage, paths: list[str], target: Path) -> list[str]:
    """Write ``paths`` (and what their CSS refers to) from the tarball ``data`` to ``target``."""
    written: list[str] = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = {
            m.name.split("/", 1)[1]: m for m in tar.getmembers() if m.isfile() and "/" in m.name
        }
        todo = list(dict.fromkeys([*paths, *package.extra_files]))
        while todo:
            name = todo.pop(0)
            if name in written:
                continue
            member = members.get(name)
            if member is None:
                raise MapAssetError(
                    f"{package.tarball_url()}: has no file {name!r}; the asset table of "
                    "geotools.maps.assets does not match the package (report it)"
                )
            handle = tar.extractfile(member)
            assert handle is not None  # regular files always have content
            content = handle.read()
            out = target / name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(content)
            written.append(name)
            if name.endswith(".css"):
                css = content.decode("utf-8")
                todo.extend(_resolve(name, ref) for ref in _css_refs(css))
    return written


def _install_package(cache: Path, package: NpmPackage, paths: list[str]) -> None:
    final = _package_dir(cache, package)
    url = package.tarball_url()
    log.info("Downloading %s from %s", package.spec, url)
    data = _download(url)
    _check_integrity(data, package, url)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{package.dirname}.", dir=final.parent))
    try:
        files = _extract(data, package, paths, tmp)
        manifest = {"package": package.spec, "integrity": package.integrity, "files": files}
        (tmp / _MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        if final.exists():
            old = final.with_name(f".{package.dirname}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.replace(tmp, final)
        except OSError:
            # Another process finished the same package first; keep theirs if it is complete.
            if not _is_complete(final, package):
                raise
        log.info("Cached %d file(s) of %s", len(files), package.spec)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fetch_map_assets(
    cache_dir: str | os.PathLike[str] | None = None, urls: Iterable[str] | None = None
) -> Path:
    """Download the npm packages behind the map assets into the cache (once).

    Each package tarball is checked against its pinned sha512 ``integrity``; only the files the
    table needs (and the images and fonts their CSS refers to) are kept. A package is written to
    a temporary folder and renamed into place, so the cache never holds half a package. Packages
    already cached are not downloaded again.

    Parameters
    ----------
    cache_dir : str or path-like, optional
        Cache folder; default :func:`default_cache_dir`.
    urls : iterable of str, optional
        Only the assets these CDN URLs need (default: every asset of :data:`ASSETS`).

    Returns
    -------
    pathlib.Path
        The cache folder.

    Raises
    ------
    MapAssetError
        If a URL is not in the table, the registry cannot be reached, or a download does not
        match its pinned integrity.
    """
    cache = _cache(cache_dir)
    wanted = list(ASSETS.values()) if urls is None else [_asset(u) for u in urls]
    by_package: dict[str, tuple[NpmPackage, list[str]]] = {}
    for asset in wanted:
        if asset.package is not None:
            by_package.setdefault(asset.package.dirname, (asset.package, []))[1].append(asset.path)
    for package, paths in by_package.values():
        directory = _package_dir(cache, package)
        if _is_complete(directory, package) and all((directory / p).is_file() for p in paths):
            log.debug("%s already cached in %s", package.spec, directory)
            continue
        try:
            _install_package(cache, package, paths)
        except MapAssetError:  # an OSError too: download and integrity errors say what to do
            raise
        except OSError as exc:
            raise MapAssetError(
                f"{cache}: cannot write the map asset cache ({exc}); choose a writable folder "
                f"with --cache or ${CACHE_ENV}"
            ) from exc
    for asset in wanted:
        if asset.source == "folium":
            _folium_file(asset.path)  # fail now, not when a map is inlined
    log.info("Map assets are in %s", cache)
    return cache


# --------------------------------------------------------------------------------------------
# Reading assets
# --------------------------------------------------------------------------------------------


def _folium_file(path: str) -> bytes:
    try:
        return resources.files("folium").joinpath(path).read_bytes()
    except (OSError, ModuleNotFoundError) as exc:
        raise MapAssetError(
            f"folium/{path}: not in the installed folium package ({exc}); install folium 0.20 "
            "(pip install 'folium>=0.20')"
        ) from exc


def _package_file(cache: Path, package: NpmPackage, path: str) -> bytes:
    target = _package_dir(cache, package) / path
    try:
        return target.read_bytes()
    except OSError:
        raise MapAssetError(
            f"{target}: {package.spec} is not in the map asset cache {cache}; run "
            f"'geotools fetch-assets --cache {cache}' once with access to the npm registry"
        ) from None


def asset_bytes(url: str, cache_dir: str | os.PathLike[str] | None = None) -> bytes:
    """The content of a CDN asset as the CDN would serve it (transforms applied, URLs untouched).

    Parameters
    ----------
    url : str
        A key of :data:`ASSETS`.
    cache_dir : str or path-like, optional
        Cache folder filled by :func:`fetch_map_assets`.

    Returns
    -------
    bytes
    """
    asset = _asset(url)
    if asset.source == "generated":
        data = _GENERATORS[asset.path]().encode("utf-8")
    elif asset.source == "folium":
        data = _folium_file(asset.path)
    else:
        assert asset.package is not None
        data = _package_file(_cache(cache_dir), asset.package, asset.path)
    if asset.transform is not None:
        data = asset.transform(data.decode("utf-8")).encode("utf-8")
    return data


#: A ``url(...)`` reference in CSS (read here and by :mod:`geotools.maps.inline`).
_URL_RE = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)""", re.IGNORECASE | re.DOTALL)


def _is_absolute(ref: str) -> bool:
    return bool(urlsplit(ref).scheme) or ref.startswith("//")
