"""Project files: one TOML file that names the layers, their mappings and the options of a study.

An analyst re-runs a whole study with ``geotools run project.toml``. Paths are relative to the
project file. Unknown keys are refused (a typo must not silently change a study). See
``data/raw/demo_project.toml`` for a commented example.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geotools.analysis.community_study import compute_community_study
from geotools.analysis.risk import RiskConfig
from geotools.analysis.stats import compute_stats
from geotools.area import DEFAULT_EDGES, EDGE_READINGS
from geotools.errors import SourceError, ValidationError
from geotools.io import (
    LAYER_KINDS,
    XY_KEYS,
    Layer,
    check_study_layers,
    check_swapped_inputs,
    read_layer,
)
from geotools.io.areas import AREAS_KEY, check_area_name
from geotools.maps import write_map_html
from geotools.outputs import check_outputs_free
from geotools.pipeline import (
    STATS_OUTPUTS,
    RunResult,
    add_area_layers,
    add_region_stats,
    area_outputs,
    read_constraint,
    write_risk_surface_outputs,
    write_stats,
)
from geotools.privacy import check_permissions
from geotools.schema import (
    DEFAULT_NEARBY_KM,
    LANGS,
    PROFILES,
    Lang,
    Profile,
    check_field_names,
)
from geotools.validation import flag_far_outside

log = logging.getLogger(__name__)

PROJECT_KEYS = {"name", "description", "out", "map", "lang", "map_profile"}
OPTION_KEYS = {"nearby_km", "assume_crs", "cell_size_m", "edges"}
LAYER_KEYS = {
    "path",
    "layer",
    "source",
    "assume_crs",
    "mapping",
    "values",
    "defaults",
    "group_by",
    "weight",
    "edges",
    "permission",
}


@dataclass
class LayerSpec:
    """One layer of a project: where it is (one file, or a list read into one layer), how its
    fields and values map onto the canonical ones, and values for the whole layer."""

    kind: str
    path: Path | list[Path]
    layer: str | None = None
    source: str | None = None
    assume_crs: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    defaults: dict[str, object] = field(default_factory=dict)
    group_by: str | None = None
    weight: str | None = None
    edges: str = DEFAULT_EDGES
    permission: str | None = None


@dataclass
class Project:
    """A parsed project file.

    Attributes
    ----------
    path : pathlib.Path
        The project file.
    name : str
        Study name (used as the map title).
    out : pathlib.Path
        Folder for the tables, GeoPackage, provenance and QA reports.
    map : pathlib.Path or None
        HTML map to write, if any.
    lang : str
        Map language (``es`` or ``en``).
    map_profile : str
        ``public`` or ``internal`` (see ``geotools map --help``).
    nearby_km : float
        Distance for ``incidents_nearby``.
    layers : dict of str to LayerSpec
        Layers by kind.
    forest_loss : pathlib.Path or None
        Forest-loss GeoTIFF (Hansen lossyear coding), if any.
    regions : pathlib.Path or None
        Region polygons for ``region_stats.csv`` (``[layers.regions] path``), if any.
    areas : dict of str to LayerSpec
        Extra polygon layers for community membership by name (``[layers.areas.NAME]``, the
        ``--areas NAME=FILE`` of ``geotools stats``).
    """

    path: Path
    name: str
    out: Path
    map: Path | None
    lang: Lang
    map_profile: Profile
    nearby_km: float
    layers: dict[str, LayerSpec]
    forest_loss: Path | None = None
    risk: RiskConfig | None = None
    cell_size_m: float = 1000.0
    regions: Path | None = None
    areas: dict[str, LayerSpec] = field(default_factory=dict)


def _check_keys(table: dict[str, Any], allowed: set[str], where: str, path: Path) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ValidationError(
            f"{path}: unknown key(s) {', '.join(unknown)} in [{where}]; allowed: "
            f"{', '.join(sorted(allowed))}"
        )


def _string_table(value: Any, where: str, path: Path) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValidationError(f"{path}: [{where}] must map names to strings")
    return {str(k): v for k, v in value.items()}


def _positive(value: Any, name: str, path: Path) -> float:
    if not isinstance(value, (int, float)) or value <= 0:
        raise ValidationError(f"{path}: {name} must be a number > 0")
    return float(value)


def _edges(value: Any, where: str, path: Path) -> str:
    if value not in EDGE_READINGS:
        raise ValidationError(
            f"{path}: edges = {value!r} in [{where}]; use one of {', '.join(EDGE_READINGS)}"
        )
    return str(value)


def read_project(path: str | os.PathLike[str]) -> Project:
    """Parse and check a project file.

    Parameters
    ----------
    path : str or path-like
        TOML project file.

    Returns
    -------
    Project
        Paths resolved against the project file's folder.

    Raises
    ------
    SourceError
        The file is missing or not valid TOML.
    ValidationError
        A key is unknown, a required entry is missing or a value has the wrong type.
    """
    file = Path(path)
    if not file.exists():
        raise SourceError(f"{file}: project file not found")
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(f"{file}: not a valid TOML project file ({exc})") from exc
    _check_keys(data, {"project", "options", "layers", "risk"}, "top level", file)
    try:
        risk = RiskConfig.from_mapping(data.get("risk", {}))
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"{file}: [risk]: {exc}") from exc
    base = file.parent
    meta = data.get("project", {})
    options = data.get("options", {})
    _check_keys(meta, PROJECT_KEYS, "project", file)
    _check_keys(options, OPTION_KEYS, "options", file)
    layers_table = data.get("layers", {})
    _check_keys(layers_table, {*LAYER_KINDS, "forest_loss", "regions", AREAS_KEY}, "layers", file)
    areas_table = layers_table.pop(AREAS_KEY, {})
    if not isinstance(areas_table, dict):
        raise ValidationError(f"{file}: [layers.areas] must hold tables [layers.areas.NAME]")
    for name in areas_table:
        try:
            check_area_name(name, f"[layers.areas.{name}]")
        except ValidationError as exc:
            raise ValidationError(f"{file}: {exc}") from exc
    region_spec = layers_table.pop("regions", None)
    if region_spec is not None and (
        not isinstance(region_spec, dict) or set(region_spec) != {"path"}
    ):
        raise ValidationError(f"{file}: [layers.regions] takes only a path (region polygons)")
    raster_spec = layers_table.pop("forest_loss", None)
    forest_loss: Path | None = None
    if raster_spec is not None:
        if not isinstance(raster_spec, dict) or set(raster_spec) != {"path"}:
            raise ValidationError(f"{file}: [layers.forest_loss] takes only a path (a GeoTIFF)")
        forest_loss = base / raster_spec["path"]
    default_crs = options.get("assume_crs")
    default_edges = _edges(options.get("edges", DEFAULT_EDGES), "options", file)
    layers: dict[str, LayerSpec] = {}
    areas: dict[str, LayerSpec] = {}
    entries = [(kind, kind, spec) for kind, spec in layers_table.items()]
    entries += [(f"{AREAS_KEY}.{name}", AREAS_KEY, spec) for name, spec in areas_table.items()]
    for where, kind, spec in entries:
        if not isinstance(spec, dict) or "path" not in spec:
            raise ValidationError(f"{file}: [layers.{where}] needs a path")
        _check_keys(spec, LAYER_KEYS, f"layers.{where}", file)
        values = spec.get("values", {})
        mapping = _string_table(spec.get("mapping", {}), f"layers.{where}.mapping", file)
        defaults = spec.get("defaults", {})
        if not isinstance(defaults, dict) or not all(
            isinstance(v, (str, int, float)) for v in defaults.values()
        ):
            raise ValidationError(f"{file}: [layers.{where}.defaults] must map names to values")
        try:
            check_field_names(
                kind, {k: v for k, v in mapping.items() if k not in XY_KEYS}, "mapping"
            )
            check_field_names(kind, values, "values")
            check_field_names(kind, defaults, "defaults")
        except ValidationError as exc:
            raise ValidationError(f"{file}: [layers.{where}]: {exc}") from exc
        raw_path = spec["path"]
        if isinstance(raw_path, list) and raw_path and all(isinstance(p, str) for p in raw_path):
            layer_path: Path | list[Path] = [base / p for p in raw_path]
        elif isinstance(raw_path, str):
            layer_path = base / raw_path
        else:
            raise ValidationError(
                f"{file}: [layers.{where}] path must be a file or a list of files"
            )
        target = areas if kind == AREAS_KEY else layers
        target[where.removeprefix(f"{AREAS_KEY}.")] = LayerSpec(
            kind=kind,
            path=layer_path,
            layer=spec.get("layer"),
            source=spec.get("source"),
            assume_crs=spec.get("assume_crs", default_crs),
            mapping=mapping,
            values={
                column: _string_table(table, f"layers.{where}.values.{column}", file)
                for column, table in values.items()
            },
            defaults=dict(defaults),
            group_by=_optional_text(spec, "group_by", where, "territories", file),
            weight=_optional_text(spec, "weight", where, "concessions", file),
            edges=_edges(spec.get("edges", default_edges), f"layers.{where}", file),
            permission=_permission(spec, where, file),
        )
    try:
        check_study_layers(layers, "[layers.{kind}]")
    except SourceError as exc:
        raise ValidationError(f"{file}: {exc}") from exc
    if meta.get("map") and "territories" not in layers:
        raise ValidationError(
            f"{file}: map = {meta['map']!r} needs [layers.territories] (the map is drawn per "
            "territory); remove map for a study of community points alone"
        )
    if areas and "communities" not in layers:
        raise ValidationError(
            f"{file}: [layers.areas.*] relate community points; add [layers.communities]"
        )
    lang = meta.get("lang", "es")
    profile = meta.get("map_profile", "public")
    if lang not in LANGS or profile not in PROFILES:
        raise ValidationError(f"{file}: lang must be es|en and map_profile public|internal")
    nearby = options.get("nearby_km", DEFAULT_NEARBY_KM)
    if not isinstance(nearby, (int, float)) or nearby < 0:
        raise ValidationError(f"{file}: nearby_km must be a number >= 0")
    return Project(
        path=file,
        name=str(meta.get("name", file.stem)),
        out=base / meta.get("out", "data/processed"),
        map=(base / meta["map"]) if meta.get("map") else None,
        lang=lang,
        map_profile=profile,
        nearby_km=float(nearby),
        layers=layers,
        forest_loss=forest_loss,
        risk=risk,
        cell_size_m=_positive(options.get("cell_size_m", 1000.0), "cell_size_m", file),
        regions=base / region_spec["path"] if region_spec else None,
        areas=areas,
    )


def _permission(spec: dict[str, Any], where: str, file: Path) -> str | None:
    """A layer's ``permission``: the publisher's statement that its source allowed
    record-level publishing (who granted it, when); see :mod:`geotools.privacy.permission`."""
    value = spec.get("permission")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            f'{file}: [layers.{where}] permission must say who granted it and when, e.g. '
            'permission = "FEDIQUEP assembly, 2026-11-30"'
        )
    return value.strip()


def _optional_text(
    spec: dict[str, Any], key: str, kind: str, applies_to: str, file: Path
) -> str | None:
    """A text key of ``[layers.KIND]`` that only one layer kind takes (``group_by``, ``weight``)."""
    value = spec.get(key)
    if value is None:
        return None
    if kind != applies_to:
        raise ValidationError(f"{file}: [layers.{kind}] {key} applies to {applies_to} only")
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{file}: [layers.{kind}] {key} must be a column name")
    return value.strip()


def _read_spec(spec: LayerSpec) -> Layer:
    return read_layer(
        spec.path,
        spec.kind,
        mapping=spec.mapping,
        layer=spec.layer,
        assume_crs=spec.assume_crs,
        source=spec.source,
        values=spec.values,
        defaults=spec.defaults,
        group_by=spec.group_by,
        weight=spec.weight,
        edges=spec.edges,
    )


def read_project_areas(project: Project) -> dict[str, Layer]:
    """Read and validate the extra polygon layers of a project (``[layers.areas.NAME]``).

    Parameters
    ----------
    project : Project
        A project read by :func:`read_project`.

    Returns
    -------
    dict of str to Layer
        Layers by name (kind ``areas``; each ledger's layer is the name).
    """
    areas = {}
    for name, spec in project.areas.items():
        layer = _read_spec(spec)
        layer.ledger.layer = name
        areas[name] = layer
    return areas


def read_project_layers(project: Project) -> dict[str, Layer]:
    """Read and validate every layer of a project.

    Parameters
    ----------
    project : Project
        A project read by :func:`read_project`; each layer's file, mapping, layer name, assumed
        CRS, source and value aliases are applied.

    Returns
    -------
    dict of str to Layer
        Layers read, by kind, features far outside the others flagged in their ledgers.

    Raises
    ------
    SourceError
        A layer's file is missing or unreadable.
    CRSError
        A layer has no CRS (and none was assumed), or coordinates that cannot be in its CRS.
    ValidationError
        A layer's columns cannot be mapped to the schema, or its importer gives another kind.
    """
    layers = {kind: _read_spec(spec) for kind, spec in project.layers.items()}
    check_swapped_inputs(layers)
    flag_far_outside({kind: (layer.frame, layer.ledger) for kind, layer in layers.items()})
    return layers


def run_project(
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    out: str | os.PathLike[str] | None = None,
) -> tuple[Project, RunResult]:
    """Run a whole study from its project file (``geotools run``).

    Parameters
    ----------
    path : str or path-like
        Project file.
    overwrite : bool, default False
        Replace earlier outputs.
    out : str or path-like, optional
        Write the tables here instead of the project's ``out`` (the map goes beside them).

    Returns
    -------
    tuple of (Project, RunResult)
        The project and what the run produced.
    """
    project = read_project(path)
    if out is not None:
        project.out = Path(out)
        if project.map is not None:
            project.map = Path(out) / project.map.name
    check_outputs_free(project.out, STATS_OUTPUTS, overwrite=overwrite)
    if project.map is not None:
        check_outputs_free(project.map.parent, [project.map.name], overwrite=overwrite)
    regions = read_constraint(project.regions, "regions")
    layers = read_project_layers(project)
    if project.map is not None and project.map_profile == "public":
        # Before anything is written: the map may not draw records whose terms need permission.
        stated = {k: v.permission for k, v in project.layers.items() if v.permission}
        check_permissions(layers, stated, output="project map")
    areas = read_project_areas(project)
    compute = compute_stats if "territories" in layers else compute_community_study
    result = compute(
        layers,
        nearby_km=project.nearby_km,
        forest_loss=project.forest_loss,
        risk_config=project.risk,
    )
    add_area_layers(result, layers, areas)
    labelled: dict[str, Layer] = layers
    if regions is not None:
        labelled = add_region_stats(result, layers, regions, areas)
    result.options["project"] = {"file": str(project.path), "name": project.name}
    written = write_stats(
        result, area_outputs(labelled, areas), project.out, overwrite=overwrite
    )
    if "territories" in layers:  # the risk surface is bounded by the territories
        written.extend(
            write_risk_surface_outputs(
                result, layers, project.out, overwrite=overwrite, cell_size_m=project.cell_size_m
            )
        )
    if project.map is not None:
        written.append(
            write_map_html(
                result,
                layers,
                project.map,
                lang=project.lang,
                overwrite=overwrite,
                profile=project.map_profile,
                title=project.name,
                regions=regions,
            )
        )
    log.debug("project %s done", project.name)
    return project, RunResult(result, layers, written, areas)
