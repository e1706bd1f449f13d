"""Inlining: every script and style sheet a folium page loads from a CDN, put into the page.

:func:`inline_map_assets` replaces ``<script src>`` and ``<link rel=stylesheet>`` elements with
inline ones read from the asset cache (:mod:`geotools.maps.assets`), images and fonts as data:
URIs, so that a map opens without internet (basemap tiles aside). ``@font-face`` rules that
offer a WOFF2 file keep only that file (every browser that runs Leaflet 1.9 reads WOFF2), which
keeps the page about 1 MB smaller.
"""

from __future__ import annotations

import base64
import logging
import os
import posixpath
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from geotools.errors import MapAssetError
from geotools.maps.assets import (
    _URL_RE,
    ASSETS,
    LEAFLET,
    MIME_TYPES,
    _asset,
    _cache,
    _is_absolute,
    _package_file,
    _resolve,
    asset_bytes,
)

log = logging.getLogger(__name__)


_SOURCE_MAP_RE = re.compile(
    r"(?m)^[ \t]*//[#@] sourceMappingURL=\S*[ \t]*$|/\*[#@] sourceMappingURL=[^*]*\*/"
)
_FONT_FACE_RE = re.compile(r"@font-face\s*\{[^}]*\}", re.IGNORECASE)
_SRC_DECL_RE = re.compile(r"\bsrc\s*:[^;}]*;?", re.IGNORECASE)


def _woff2_only(css: str) -> str:
    """In each ``@font-face`` that offers a WOFF2 file, keep that file as the only ``src``."""

    def one(match: re.Match[str]) -> str:
        block = match.group(0)
        woff2 = [
            m.group(0)
            for m in _URL_RE.finditer(block)
            if m.group(2).split("?")[0].split("#")[0].lower().endswith(".woff2")
        ]
        if not woff2:
            return block
        stripped = _SRC_DECL_RE.sub("", block)
        return stripped.replace("{", f'{{src:{woff2[0]} format("woff2");', 1)

    return _FONT_FACE_RE.sub(one, css)


def _data_uri(path: str, data: bytes) -> str:
    mime = MIME_TYPES.get(posixpath.splitext(path)[1].lower())
    if mime is None:
        raise MapAssetError(f"{path}: no MIME type known for this file; cannot inline it")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def inline_css(url: str, cache_dir: str | os.PathLike[str] | None = None) -> str:
    """The style sheet at ``url`` with every ``url(...)`` it refers to turned into a data: URI.

    Parameters
    ----------
    url : str
        A CSS key of :data:`ASSETS`.
    cache_dir : str or path-like, optional

    Returns
    -------
    str

    Raises
    ------
    MapAssetError
        If the style sheet refers to an absolute URL (a network dependency) or to a file that is
        not cached.
    """
    asset = _asset(url)
    cache = _cache(cache_dir)
    css = _woff2_only(asset_bytes(url, cache).decode("utf-8"))
    css = _SOURCE_MAP_RE.sub("", css)

    def replace(match: re.Match[str]) -> str:
        ref = match.group(2).strip()
        if not ref or ref.startswith(("data:", "#")):
            return match.group(0)
        if _is_absolute(ref) or asset.package is None:
            raise MapAssetError(
                f"{url}: refers to {ref}, which would be fetched from the network; geotools "
                "cannot inline it (add the file to the asset table)"
            )
        path = _resolve(asset.path, ref)
        return f'url("{_data_uri(path, _package_file(cache, asset.package, path))}")'

    return _URL_RE.sub(replace, css)


# Leaflet finds its default marker icon from the URL of leaflet.css, which an inlined page does
# not have: point it at data: URIs instead.
_LEAFLET_ICON_JS = """
L.Icon.Default.imagePath = "";
L.Icon.Default.mergeOptions({{
  iconUrl: "{icon}", iconRetinaUrl: "{retina}", shadowUrl: "{shadow}"
}});
"""


def inline_js(url: str, cache_dir: str | os.PathLike[str] | None = None) -> str:
    """The script at ``url`` as text, ready for :func:`script_element` (source maps dropped).

    Parameters
    ----------
    url : str
        A JS key of :data:`ASSETS`.
    cache_dir : str or path-like, optional

    Returns
    -------
    str
    """
    cache = _cache(cache_dir)
    js = _SOURCE_MAP_RE.sub("", asset_bytes(url, cache).decode("utf-8"))
    asset = _asset(url)
    if asset.package == LEAFLET and asset.path == "dist/leaflet.js":
        images = {
            key: _data_uri(
                f"dist/images/{name}", _package_file(cache, LEAFLET, f"dist/images/{name}")
            )
            for key, name in (
                ("icon", "marker-icon.png"),
                ("retina", "marker-icon-2x.png"),
                ("shadow", "marker-shadow.png"),
            )
        }
        js += _LEAFLET_ICON_JS.format(**images)
    return js


def script_element(js: str, **attrs: str) -> str:
    """Return an inline ``<script>`` element whose content cannot end the element early.

    ``</script`` becomes ``<\\/script`` and ``<!--`` becomes ``\\x3C!--`` (both mean the same in
    JavaScript strings, template literals and regular expressions, and an HTML parser does not
    see them as markup).

    Parameters
    ----------
    js : str
        JavaScript source.
    **attrs : str
        Attributes of the element, ``_`` in names written as ``-``; values are written as given
        (not escaped), so they must be trusted.

    Returns
    -------
    str
        ``<script ...>``, the content on its own lines, ``</script>``.
    """
    safe = re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE).replace("<!--", "\\x3C!--")
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f"<script{extra}>\n{safe}\n</script>"


def style_element(css: str, **attrs: str) -> str:
    """Return an inline ``<style>`` element whose content cannot end the element early.

    Parameters
    ----------
    css : str
        CSS source; ``</style`` in it (any case) becomes ``<\\/style``.
    **attrs : str
        Attributes of the element, ``_`` in names written as ``-``; values are written as given
        (not escaped), so they must be trusted.

    Returns
    -------
    str
        ``<style ...>``, the content on its own lines, ``</style>``.
    """
    safe = re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f"<style{extra}>\n{safe}\n</style>"


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------


@dataclass
class _Reference:
    """A ``<script src>`` or ``<link href>`` in a page: its URL and where it is."""

    tag: str
    url: str
    start: int
    end: int
    rel: str = ""


class _Scanner(HTMLParser):
    """Finds external script and link elements (script and style content is skipped as HTML
    parsers do)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text = text
        self.line_starts = [0]
        for match in re.finditer("\n", text):
            self.line_starts.append(match.end())
        self.refs: list[_Reference] = []
        self._open: _Reference | None = None

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        start = self._offset()
        raw = self.get_starttag_text() or ""
        end = start + len(raw)
        if tag == "script" and values.get("src"):
            self._open = _Reference("script", values["src"].strip(), start, end)
        elif tag == "link" and values.get("href"):
            self.refs.append(
                _Reference("link", values["href"].strip(), start, end, values.get("rel", ""))
            )

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "script" and self._open is not None:
            self.refs.append(self._open)
            self._open = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._open is not None:
            start = self._offset()
            self._open.end = self.text.index(">", start) + 1
            self.refs.append(self._open)
            self._open = None


def _references(html_text: str) -> list[_Reference]:
    scanner = _Scanner(html_text)
    scanner.feed(html_text)
    scanner.close()
    if scanner._open is not None:
        scanner.refs.append(scanner._open)
    return [r for r in scanner.refs if not r.url.lower().startswith("data:")]


def _is_stylesheet(ref: _Reference) -> bool:
    return ref.tag == "link" and "stylesheet" in ref.rel.lower().split()


def find_asset_urls(html_text: str) -> list[str]:
    """The URLs of the scripts and style sheets a page loads (``<script src>``, ``<link
    rel=stylesheet href>``), in page order, each once; data: URIs are left out.

    Parameters
    ----------
    html_text : str

    Returns
    -------
    list of str

    Examples
    --------
    >>> find_asset_urls('<script src="https://x.org/a.js"></script><p>')
    ['https://x.org/a.js']
    """
    refs = _references(html_text)
    return list(dict.fromkeys(r.url for r in refs if r.tag == "script" or _is_stylesheet(r)))


def inline_map_assets(html_text: str, cache_dir: str | os.PathLike[str] | None = None) -> str:
    """Put every script and style sheet a folium page loads from a CDN into the page itself.

    ``<script src=URL></script>`` becomes an inline ``<script>``, ``<link rel=stylesheet
    href=URL>`` an inline ``<style>`` whose images and fonts are data: URIs. Basemap tile URLs
    (inside the map's script) are not touched: tiles still need the network.

    Parameters
    ----------
    html_text : str
        A page written by folium (``m.get_root().render()`` or the saved file).
    cache_dir : str or path-like, optional
        Cache filled by :func:`fetch_map_assets`.

    Returns
    -------
    str

    Raises
    ------
    MapAssetError
        If the page loads a script or style sheet that is not in :data:`ASSETS`, links any other
        external resource, or the cache lacks a file: a page is never returned with a network
        dependency left in it.
    """
    refs = _references(html_text)
    for ref in refs:
        if ref.tag == "link" and not _is_stylesheet(ref):
            if _is_absolute(ref.url):
                raise MapAssetError(
                    f'<link rel="{ref.rel}" href="{ref.url}">: an external resource that '
                    "geotools cannot inline; remove it from the map"
                )
            continue
        _asset(ref.url)  # unknown URLs fail before anything is read
    parts: list[str] = []
    last = 0
    done = 0
    for ref in refs:
        if ref.tag == "link" and not _is_stylesheet(ref):
            continue
        asset = ASSETS[ref.url]
        origin = asset.package.spec if asset.package is not None else asset.source
        label = f"{origin}/{asset.path}"
        if asset.kind == "js":
            element = script_element(inline_js(ref.url, cache_dir), data_geotools_asset=label)
        else:
            element = style_element(inline_css(ref.url, cache_dir), data_geotools_asset=label)
        parts += [html_text[last : ref.start], element]
        last = ref.end
        done += 1
    parts.append(html_text[last:])
    out = "".join(parts)
    left = find_asset_urls(out)
    if left:  # pragma: no cover - defensive: the scanner found them above
        raise MapAssetError(f"could not inline {', '.join(left)}")
    log.debug("Inlined %d script(s) and style sheet(s)", done)
    return out


# --------------------------------------------------------------------------------------------
