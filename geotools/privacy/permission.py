"""Licence terms that require the source's permission before record-level publishing.

A layer whose terms say its records may not be passed on without the holder's say-so (ACLED:
"forbid redistributing raw event data: publish aggregates only"; the indigenous monitors'
federations: "ask them before republishing record-level data") is refused record by record in
every public output (bundle, map, tiles) unless the publisher states the permission
(``--permission LAYER="who granted, when"``, recorded in the bundle's README and
``datapackage.json``), or asks for aggregates only (``--aggregate-only``: hexagon counts above
the floor, per-territory counts).

How a licence is recognised as "permission required" (:func:`needs_permission`), any of:

- the importer's name is in :data:`PERMISSION_SOURCES` (``acled``, ``monitoring``, ``mapeo``);
- the licence note holds the explicit flag :data:`PERMISSION_FLAG` (``[permission-required]``,
  any case), for a licence note written by hand or by another importer;
- the licence note's wording matches :data:`PERMISSION_WORDING` (English or Spanish: "forbid
  redistributing", "not redistributable", "aggregates only", "ask ... before republishing",
  "permission required", "requires permission", "without permission", "do not republish",
  "solicitar/pedir permiso", "autorización previa", "consentimiento previo", "free, prior and
  informed consent", "FPIC", "only with the ... consent"...). So Mapeo's "share only with the
  free, prior and informed consent of the community" is in the class; LandMark's "check them
  before redistributing" (terms vary by row) and Defensoría's "cite both" are not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from geotools.errors import PrivacyError
from geotools.io import Layer
from geotools.privacy.rules import select_drawable
from geotools.text import escape_terminal

#: Importers whose sources' terms require permission for record-level publishing.
PERMISSION_SOURCES = frozenset({"acled", "monitoring", "mapeo"})
#: Explicit flag a licence note may carry to say the same.
PERMISSION_FLAG = "[permission-required]"
#: Wording of such terms (case-insensitive).
PERMISSION_WORDING = re.compile(
    r"forbid\w* (?:\w+ ){0,3}redistribut|not (?:be )?redistribut|aggregates only"
    r"|\bask\b[^.;]{0,80}\bbefore\b[^.;]{0,40}\b(?:re)?(?:publish|distribut|shar)"
    r"|permission (?:is )?required|requires? (?:\w+ )?permission|without (?:\w+ )?permission"
    r"|\bdo not (?:re)?(?:publish|distribute)|no (?:re)?distribution"
    r"|(?:solicitar|pedir|requiere)\w* (?:\w+ ){0,2}(?:permiso|autorizaci[oó]n)"
    r"|autorizaci[oó]n previa|consentimiento previo|prohib\w* (?:la )?(?:re)?distribu"
    r"|prior,? (?:and )?informed consent|\bFPIC\b|only with (?:the )?(?:[\w-]+,? ){0,4}consent",
    re.IGNORECASE,
)

#: How a map states a permission for record-level publishing (``{layer}``: the layer's name in
#: the map's language; ``{statement}``: the publisher's words, escaped by the map).
PERMISSION_STATED = {
    "es": "{layer}: permiso de publicación registro por registro declarado por quien publica: "
    "{statement}",
    "en": "{layer}: permission for record-level publishing stated by the publisher: "
    "{statement}",
}


class PermissionRequiredError(PrivacyError):
    """A layer's terms require permission for record-level publishing and none was stated."""


def needs_permission(source: str | None, licence: str | None) -> bool:
    """Whether a source's terms require permission for record-level publishing.

    Parameters
    ----------
    source : str or None
        Importer name (``acled``, ``monitoring``...).
    licence : str or None
        Licence note the importer (or a GeoPackage's stored notes) recorded.

    Returns
    -------
    bool
        True for an importer of :data:`PERMISSION_SOURCES`, a note carrying
        :data:`PERMISSION_FLAG`, or a note whose wording matches :data:`PERMISSION_WORDING`.
    """
    if source in PERMISSION_SOURCES:
        return True
    if not licence:
        return False
    return PERMISSION_FLAG in licence.lower() or bool(PERMISSION_WORDING.search(licence))


def layer_terms(layer: Layer) -> tuple[str | None, str | None]:
    """The importer name and licence note of a layer (QA notes, else the frame's attrs).

    Parameters
    ----------
    layer : Layer
        A layer read.

    Returns
    -------
    tuple of (str or None, str or None)
        ``(importer, licence)``.
    """
    notes = layer.ledger.notes.get("importer") or layer.frame.attrs.get("geotools_import") or {}
    source, licence = notes.get("source"), notes.get("licence")
    return (str(source) if source else None, str(licence) if licence else None)


def check_permissions(
    layers: Mapping[str, Layer],
    permissions: Mapping[str, str],
    *,
    aggregate_only: bool = False,
    output: str = "bundle",
) -> dict[str, bool]:
    """Decide, per layer, whether a public output may publish its records.

    Parameters
    ----------
    layers : mapping of str to Layer
        The layers of the run.
    permissions : mapping of str to str
        Layer kind -> the publisher's statement of the permission ("who granted, when").
    aggregate_only : bool, default False
        Publish the incidents of a layer needing permission only as aggregates (hexagon and
        per-territory counts) when no statement is given (a bundle; a map or tiles draw
        records, so they have no such way out).
    output : str, default "bundle"
        What is being written (``bundle``, ``map``, ``project map``: the statement is then
        asked for as the project file's ``permission`` key): a public map draws only the incidents
        :func:`geotools.privacy.rules.select_drawable` lets through, so an incidents layer with
        none of them is not refused there (it is only counted); also named in the error.

    Returns
    -------
    dict of str to bool
        Layer kind -> records may be published (False: aggregates only).

    Raises
    ------
    PermissionRequiredError
        A statement names a layer not in the run or is blank, or a layer needs permission,
        has no statement and cannot be aggregated (``aggregate_only`` off, or not incidents).
    """
    for kind, statement in permissions.items():
        if kind not in layers:
            raise PermissionRequiredError(
                f"--permission {escape_terminal(kind)}: no such layer in this run; use one of "
                + ", ".join(sorted(layers))
            )
        if not str(statement).strip():
            raise PermissionRequiredError(
                f"--permission {escape_terminal(kind)}: empty statement; say who granted the "
                'permission and when, e.g. --permission incidents="FEDIQUEP assembly, 2026-11-30"'
            )
    allowed: dict[str, bool] = {}
    for kind, layer in layers.items():
        source, licence = layer_terms(layer)
        if not needs_permission(source, licence) or kind in permissions:
            allowed[kind] = True
            continue
        if kind == "incidents" and (
            aggregate_only
            or (output != "bundle" and not select_drawable(layer.frame, "public")[0].any())
        ):
            # Aggregates only; a public map or tiles draw no record of it anyway (restricted
            # ones not generalised are only counted), so nothing record-level leaves.
            allowed[kind] = False
            continue
        if kind != "incidents":
            way_out = " or leave the layer out"
        elif output == "bundle":
            way_out = " or publish aggregates only (hexagon counts) with --aggregate-only"
        else:
            way_out = (
                " or leave the layer out (geotools publish --aggregate-only publishes its "
                "hexagon counts)"
            )
        state = (
            f'permission = "who granted, when" in [layers.{kind}]'
            if output.startswith("project")
            else f'--permission {kind}="who granted, when"'
        )
        raise PermissionRequiredError(
            f"{kind} ({escape_terminal(layer.path.name)}): its terms require permission for "
            f"record-level publishing in a public {output} "
            f'(licence: "{escape_terminal(licence or source or "")}"); state it with '

            f"{state}{way_out}"
        )
    return allowed

