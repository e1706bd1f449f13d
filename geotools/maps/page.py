"""A rendered map page: safe compaction of its embedded JSON, and the snippet that embeds it."""

from __future__ import annotations

import re

from geotools.maps.elements import escape_html

_JSON_HTML_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u00(3c|3e|26|27)(?=(.?))", re.IGNORECASE)


_SCRIPT_ELEMENT = re.compile(r"(<script[^>]*>)(.*?)(</script>)", re.DOTALL | re.IGNORECASE)


def compact_json_escapes(page: str) -> str:
    r"""Undo the ``\u003c``-style escapes folium's ``tojson`` puts in embedded JSON, safely.

    Inside a ``<script>`` element only ``</`` (which could close it) and ``<!`` (which could
    open an HTML comment) are dangerous. This keeps ``\u003c`` before ``!`` and writes ``<\/``
    for ``</``, and turns every other ``\u003c``, ``\u003e``, ``\u0026`` and ``\u0027`` back
    into the character: the same JavaScript values, about half the bytes for popup HTML. An
    escape preceded by an odd number of backslashes is text, not an escape, and is kept.

    Parameters
    ----------
    page : str
        An HTML page (only the content of its ``<script>`` elements is changed) or, when it has
        no ``<script`` tag, JSON text (changed throughout).

    Returns
    -------
    str
        The page with the escapes compacted.

    Examples
    --------
    >>> compact_json_escapes(r'"\u003cb\u003ex\u003c/b\u003e \u003c!-- \\u003c"')
    '"<b>x<\\/b> \\u003c!-- \\\\u003c"'
    """

    def replace(match: re.Match[str]) -> str:
        slashes, code, after = match.group(1), match.group(2).lower(), match.group(3)
        if code == "3c" and after in ("!", "/"):
            return f"{slashes}\\u003c" if after == "!" else f"{slashes}<\\"
        return slashes + {"3c": "<", "3e": ">", "26": "&", "27": "'"}[code]

    if "<script" not in page:
        return _JSON_HTML_ESCAPE.sub(replace, page)
    # Within a page, only script elements are touched (the title, for one, is not JSON).
    return _SCRIPT_ELEMENT.sub(
        lambda m: m.group(1) + _JSON_HTML_ESCAPE.sub(replace, m.group(2)) + m.group(3), page
    )


def build_embed_snippet(src: str, title: str = "", height: str = "600px") -> str:
    """HTML to embed a saved map in a web page: a responsive, full-width ``<iframe>``.

    Parameters
    ----------
    src : str
        URL or relative path of the map's HTML file as the embedding page will see it.
    title : str, optional
        Accessible title of the frame (escaped).
    height : str, default "600px"
        CSS height of the frame (e.g. ``"70vh"``).

    Returns
    -------
    str
        The snippet. Values are escaped, so any ``src`` or ``title`` is safe to pass.

    Examples
    --------
    >>> print(build_embed_snippet("risk_map.html", "Santa Clara & co").split(" style")[0])
    <iframe src="risk_map.html" title="Santa Clara &amp; co"
    """
    if not re.fullmatch(r"[0-9.]+(px|vh|em|rem|%)", height):
        raise ValueError(f"height must be a CSS length such as 600px or 70vh, not {height!r}.")
    return (
        f'<iframe src="{escape_html(src)}" title="{escape_html(title or "Map")}" '
        f'style="width: 100%; height: {height}; border: 0;" loading="lazy" '
        "allowfullscreen></iframe>"
    )
