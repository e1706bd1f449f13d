"""The package's import contract: layers import downward only, no cycles, no module too big.

cli -> demo | project -> pipeline -> publish -> maps -> privacy -> analysis -> io -> foundations
(docs/architecture.md). Every import counts, including those inside function bodies (where
cycles used to hide) and those under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "geotools"

#: Layers, top to bottom. A module may import its own layer's modules and any layer below.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("cli", ("geotools.cli",)),
    ("runs", ("geotools.demo", "geotools.project")),
    ("pipeline", ("geotools.pipeline",)),
    ("publish", ("geotools.publish",)),
    ("maps", ("geotools.maps",)),
    ("privacy", ("geotools.privacy",)),
    ("analysis", ("geotools.analysis",)),
    ("io", ("geotools.io",)),
    ("checks", ("geotools.validation", "geotools.provenance")),
    (
        "foundations",
        (
            "geotools.area",
            "geotools.crs",
            "geotools.dates",
            "geotools.errors",
            "geotools.export",
            "geotools.outputs",
            "geotools.gdalpath",
            "geotools.geometry",
            "geotools.parallel",
            "geotools.schema",
            "geotools.text",
            "geotools._version",
        ),
    ),
]

#: Modules allowed over the size limit: pure data, not logic (see docs/architecture.md).
LARGE_DATA_MODULES = {"geotools/demo/data.py"}
MAX_LINES = 850  # "about 800": risk.py (843) is one cohesive job, see docs/architecture.md


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every geotools module ``path`` imports, at any depth of the file."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m == "geotools" or m.startswith("geotools.")}


def _layer(module: str) -> int | None:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        # "from geotools.maps import style" names a module; "from geotools.maps import x" a
        # name in geotools.maps: keep whichever is a module.
        graph[name] = {m for m in _imports(path) if m in modules and m != name}
    return graph


def test_every_module_has_a_layer():
    unplaced = [m for m in _modules() if m != "geotools" and _layer(m) is None]
    assert not unplaced, f"place these modules in a layer (tests/test_architecture.py): {unplaced}"


def test_layers_import_downward_only():
    upward = []
    for module, targets in _graph().items():
        if module == "geotools":  # the package face re-exports from every layer
            continue
        here = _layer(module)
        for target in sorted(targets):
            there = _layer(target)
            if target == "geotools" or (here is not None and there is not None and there < here):
                upward.append(f"{module} -> {target}")
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_import_cycles():
    graph = {m: t for m, t in _graph().items() if m != "geotools"}
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_module_size(path):
    relative = path.relative_to(PACKAGE.parent).as_posix()
    lines = len(path.read_text(encoding="utf-8").splitlines())
    if relative in LARGE_DATA_MODULES:
        return
    assert lines <= MAX_LINES, f"{relative} has {lines} lines (limit {MAX_LINES}): split it"
