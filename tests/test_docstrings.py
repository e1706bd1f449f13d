"""Every public function with parameters documents them in a numpydoc ``Parameters`` section.

Public: a module-level function, or a method of a public class, whose name does not start with
``_`` and that takes a parameter besides ``self``/``cls``. Click command callbacks (a decorator
whose name ends in ``.command``, e.g. ``@main.command(...)``) are skipped: their docstring is
the command's ``--help`` text, which documents the options itself.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "geotools"

#: A numpydoc section header: its name on one line, a dashed underline on the next.
_SECTION = re.compile(r"^(?P<name>[A-Z][A-Za-z ]*)\n-{3,}$", re.MULTILINE)
#: A parameter line of a ``Parameters`` section: ``name : type``, ``a, b : type``, ``*args``...
_PARAM_LINE = re.compile(r"^(?P<names>\*{0,2}\w+(?:, \*{0,2}\w+)*)(?: :.*)?$")

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def _is_click_command(node: FunctionNode) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if ast.unparse(target).endswith(".command"):
            return True
    return False


def _parameters(node: FunctionNode) -> list[str]:
    args = node.args
    names = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
    names = [name for name in names if name not in ("self", "cls")]
    if args.vararg:
        names.append("*" + args.vararg.arg)
    if args.kwarg:
        names.append("**" + args.kwarg.arg)
    return names


def _public_functions() -> Iterator[tuple[str, FunctionNode]]:
    """Yield ``(path:line name, node)`` of every public function or method that takes a
    parameter, click command callbacks left out."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            items: list[ast.stmt] = [node]
            if isinstance(node, ast.ClassDef):
                if node.name.startswith("_"):
                    continue
                items = node.body
            for item in items:
                if not isinstance(item, FunctionNode) or item.name.startswith("_"):
                    continue
                if _parameters(item) and not _is_click_command(item):
                    where = f"{path.relative_to(PACKAGE.parent)}:{item.lineno} {item.name}"
                    yield where, item


def _section(docstring: str, name: str) -> str | None:
    """Return the body of section ``name`` of a numpydoc docstring, or None when absent."""
    headers = list(_SECTION.finditer(docstring))
    for k, match in enumerate(headers):
        if match["name"] == name:
            end = headers[k + 1].start() if k + 1 < len(headers) else len(docstring)
            return docstring[match.end() : end]
    return None


def _documented(section: str) -> set[str]:
    """Return the parameter names a ``Parameters`` section documents (unindented lines)."""
    names: set[str] = set()
    for line in section.splitlines():
        if not line or line[0].isspace():
            continue
        match = _PARAM_LINE.match(line)
        if match:
            names.update(name.strip() for name in match["names"].split(","))
    return names


def test_the_walk_finds_the_package():
    found = dict(_public_functions())
    assert len(found) > 100
    assert any(where.endswith(" compute_territory_stats") for where in found)
    # the click command callbacks are skipped, their helpers are not
    assert not any(where.endswith(" map_command") for where in found)
    assert any(where.endswith(" parse_mappings") for where in found)


def test_every_public_function_has_a_parameters_section():
    missing = [
        where
        for where, node in _public_functions()
        if _section(ast.get_docstring(node) or "", "Parameters") is None
    ]
    assert not missing, "no numpydoc Parameters section:\n" + "\n".join(missing)


def test_parameters_sections_name_every_parameter():
    wrong = []
    for where, node in _public_functions():
        section = _section(ast.get_docstring(node) or "", "Parameters")
        if section is None:
            continue  # reported by the test above
        documented = _documented(section)
        absent = [
            name
            for name in _parameters(node)
            if name not in documented and name.lstrip("*") not in documented
        ]
        if absent:
            wrong.append(f"{where}: {', '.join(absent)} not documented")
    assert not wrong, "Parameters sections that miss parameters:\n" + "\n".join(wrong)
