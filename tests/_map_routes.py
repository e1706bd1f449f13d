"""Test support: answer a Playwright page's CDN requests from the map asset cache.

Used by the browser tests (``tests/test_browser.py``), which must not reach the network: the
scripts and style sheets a map loads are served from the cache that
:func:`geotools.maps.fetch_map_assets` fills, basemap tiles get a blank image, anything else is
blocked and recorded.
"""

from __future__ import annotations

import os
import posixpath
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from geotools.errors import MapAssetError
from geotools.maps.assets import (
    _JSD,
    ASSETS,
    LEAFLET,
    MIME_TYPES,
    NpmPackage,
    _cache,
    _css_refs,
    _package_file,
    _resolve,
    asset_bytes,
)


def _blank_png() -> bytes:
    """A 1 x 1 transparent PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\x00\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


BLANK_PNG = _blank_png()


def _derived_files(cache: Path) -> dict[str, tuple[NpmPackage, str]]:
    """URL -> (package, path) of the files the cached CSS refers to, as a browser resolves them."""
    out: dict[str, tuple[NpmPackage, str]] = {}
    for url, asset in ASSETS.items():
        if asset.kind != "css" or asset.package is None:
            continue
        try:
            css = asset_bytes(url, cache).decode("utf-8")
        except MapAssetError:  # package not cached: its requests will be blocked
            continue
        for ref in _css_refs(css):
            absolute = urljoin(url, ref).split("#", 1)[0].split("?", 1)[0]
            out[absolute] = (asset.package, _resolve(asset.path, ref))
    # Leaflet finds its marker icons next to leaflet.css.
    base = f"{_JSD}/npm/leaflet@1.9.3/dist/images/"
    for name in LEAFLET.extra_files:
        out[base + posixpath.basename(name)] = (LEAFLET, name)
    return out


@dataclass
class AssetRoutes:
    """What :func:`route_map_assets` answered: ``served`` from the cache, ``tiles`` answered with a
    blank image, ``blocked`` (aborted: anything else that tried to reach the network)."""

    served: list[str] = field(default_factory=list)
    tiles: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


def route_map_assets(
    target: Any, cache_dir: str | os.PathLike[str] | None = None, blank_tiles: bool = True
) -> AssetRoutes:
    """Answer a Playwright page's CDN requests from the asset cache; nothing reaches the network.

    Registers a handler for every request of ``target`` (a Playwright ``Page`` or
    ``BrowserContext``): CDN assets (and the images and fonts their CSS loads) are served from the
    cache exactly as the CDN would serve them; other image requests (basemap tiles) get a blank
    PNG (or are aborted with ``blank_tiles=False``); every other http(s) request is aborted and
    recorded in ``blocked``. ``file:``, ``data:`` and ``about:`` URLs are left alone.

    Parameters
    ----------
    target : playwright.sync_api.Page or playwright.sync_api.BrowserContext
    cache_dir : str or path-like, optional
        Cache filled by :func:`fetch_map_assets`.
    blank_tiles : bool, default True

    Returns
    -------
    AssetRoutes
        Filled in as the page loads.
    """
    cache = _cache(cache_dir)
    derived = _derived_files(cache)
    record = AssetRoutes()

    def handle(route: Any) -> None:
        request = route.request
        url = request.url
        if not url.startswith(("http://", "https://")):
            route.fallback()
            return
        key = url.split("#", 1)[0]
        body: bytes | None = None
        content_type = ""
        if key in ASSETS:
            body = asset_bytes(key, cache)
            content_type = MIME_TYPES[f".{ASSETS[key].kind}"]
        elif key.split("?", 1)[0] in derived:
            package, path = derived[key.split("?", 1)[0]]
            body = _package_file(cache, package, path)
            content_type = MIME_TYPES.get(posixpath.splitext(path)[1], "application/octet-stream")
        if body is not None:
            record.served.append(url)
            route.fulfill(
                status=200,
                body=body,
                headers={"Content-Type": content_type, "Access-Control-Allow-Origin": "*"},
            )
        elif request.resource_type == "image":
            record.tiles.append(url)
            if blank_tiles:
                route.fulfill(status=200, body=BLANK_PNG, headers={"Content-Type": "image/png"})
            else:
                route.abort("blockedbyclient")
        else:
            record.blocked.append(url)
            route.abort("blockedbyclient")

    target.route("**/*", handle)
    return record
