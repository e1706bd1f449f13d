"""Where does ``compute_tenure_stats`` spend its time? A phase profile on a benchmark tier.

The engine is not modified: at run time, every function of ``geotools.analysis.tenure`` and
``geotools.geometry`` and every ``shapely`` / ``STRtree`` call they make are wrapped with timers,
and the calls are reported as a tree (inclusive seconds, share of the total, number of calls and
of items, i.e. the summed length of the first argument). Optionally, ``cProfile`` lists the top
functions by own time.

Usage::

    python benchmarks/profile_tenure.py --tier M
    python benchmarks/profile_tenure.py --tier L --save          # also writes results/*.txt
    python benchmarks/profile_tenure.py --tier M --cprofile 25
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import pstats
import resource
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _size(args: tuple) -> int:
    """Length of the first argument when it has one (number of geometries processed)."""
    if args and hasattr(args[0], "__len__") and not isinstance(args[0], str | bytes):
        try:
            return len(args[0])
        except TypeError:
            return 0
    return 0


class PhaseTimer:
    """Nested wall-clock timers keyed by call path."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.stats: dict[tuple[str, ...], list[float]] = {}
        self._wrapped: dict[int, Callable] = {}

    def wrap(self, name: str, fn: Callable) -> Callable:
        """Return ``fn`` timed under ``name`` (the same wrapper for the same function)."""
        key = id(fn)
        if key in self._wrapped:
            return self._wrapped[key]

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.stack.append(name)
            path = tuple(self.stack)
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - t0
                self.stack.pop()
                entry = self.stats.setdefault(path, [0, 0.0, 0])
                entry[0] += 1
                entry[1] += elapsed
                entry[2] += _size(args)

        self._wrapped[key] = timed
        self._wrapped[id(timed)] = timed
        return timed

    def report(self, total: float) -> str:
        """The call tree, children sorted by time, with each node's own (self) time."""
        children: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for path in self.stats:
            children.setdefault(path[:-1], []).append(path)
        lines = [f"{'phase':<58} {'incl s':>8} {'%':>6} {'self s':>8} {'calls':>6} {'items':>10}"]

        def walk(parent: tuple[str, ...]) -> None:
            kids = sorted(children.get(parent, []), key=lambda p: -self.stats[p][1])
            for path in kids:
                calls, incl, items = self.stats[path]
                own = incl - sum(self.stats[k][1] for k in children.get(path, []))
                label = "  " * (len(path) - 1) + path[-1]
                lines.append(
                    f"{label:<58} {incl:8.2f} {100 * incl / total:6.1f} {own:8.2f} "
                    f"{int(calls):6d} {int(items):10d}"
                )
                walk(path)

        walk(())
        return "\n".join(lines)


class _TimedTree:
    """An STRtree whose queries are timed."""

    def __init__(self, timer: PhaseTimer, tree: Any) -> None:
        self._tree = tree
        self.query = timer.wrap("STRtree.query", tree.query)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tree, name)


class _TimedModule:
    """Stand-in for a module (``shapely``) whose functions are timed when called."""

    def __init__(self, timer: PhaseTimer, module: types.ModuleType, prefix: str) -> None:
        self._timer, self._module, self._prefix = timer, module, prefix

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._module, name)
        if name == "STRtree":
            build = self._timer.wrap("STRtree(build)", attr)
            return lambda *a, **k: _TimedTree(self._timer, build(*a, **k))
        if callable(attr) and not isinstance(attr, type):
            return self._timer.wrap(f"{self._prefix}.{name}", attr)
        return attr


def instrument(timer: PhaseTimer) -> None:
    """Wrap the engine's functions and its shapely/scipy calls with ``timer``."""
    import shapely

    from geotools import geometry
    from geotools.analysis import tenure

    for module in (geometry, tenure):
        short = module.__name__.split(".")[-1]
        for name, value in list(vars(module).items()):
            if isinstance(value, types.FunctionType) and value.__module__.startswith("geotools"):
                owner = value.__module__.split(".")[-1]
                setattr(module, name, timer.wrap(f"{owner}.{name}", value))
            elif name in ("connected_components", "coo_matrix"):
                setattr(module, name, timer.wrap(f"scipy.{name}", value))
        if hasattr(module, "shapely"):
            module.shapely = _TimedModule(timer, shapely, "shapely")  # type: ignore[assignment]
        for cls_name, cls in list(vars(module).items()):
            if isinstance(cls, type) and cls.__module__ == module.__name__:
                for attr, value in list(vars(cls).items()):
                    if isinstance(value, types.FunctionType) and not attr.startswith("__"):
                        setattr(cls, attr, timer.wrap(f"{short}.{cls_name}.{attr}", value))


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", default="M", help="S, M or L (default M)")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="cProfile top N")
    parser.add_argument("--save", action="store_true", help="write results/profile_tenure_<tier>")
    args = parser.parse_args(argv)

    sys.path[:0] = [str(ROOT), str(HERE)]
    import generate

    from geotools.crs import PERU_ALBERS

    tier = args.tier.upper()
    t0 = time.perf_counter()
    territories, parcels = generate.generate(tier)
    print(
        f"[{tier}] loaded {len(territories)} territories, {len(parcels)} parcels "
        f"in {time.perf_counter() - t0:.1f} s"
    )

    timer = PhaseTimer()
    instrument(timer)
    from geotools.analysis import tenure

    profiler = cProfile.Profile() if args.cprofile else None
    t1 = time.perf_counter()
    if profiler:
        profiler.enable()
    tenure.compute_tenure_stats(territories, parcels, PERU_ALBERS)
    if profiler:
        profiler.disable()
    total = time.perf_counter() - t1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    text = [
        f"tier {tier}: compute_tenure_stats {total:.2f} s (instrumented), peak RSS {peak:,.0f} MB",
        "",
        timer.report(total),
    ]
    if profiler:
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(args.cprofile)
        text += ["", stream.getvalue()]
    output = "\n".join(text)
    print(output)
    if args.save:
        target = HERE / "results" / f"profile_tenure_{tier}.txt"
        target.parent.mkdir(exist_ok=True)
        target.write_text(output + "\n")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
