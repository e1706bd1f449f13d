"""The thread pool gives the same answer as one call, and respects group boundaries."""

from __future__ import annotations

import numpy as np
import shapely

from geotools import parallel
from geotools.parallel import group_starts, map_chunks


def test_map_chunks_equals_single_call(monkeypatch):
    monkeypatch.setattr(parallel, "MIN_PARALLEL", 10)
    monkeypatch.setenv("GEOTOOLS_THREADS", "3")
    rng = np.random.default_rng(1)
    a = shapely.buffer(shapely.points(rng.uniform(0, 100, (500, 2))), 3)
    b = shapely.buffer(shapely.points(rng.uniform(0, 100, (500, 2))), 3)
    assert np.array_equal(map_chunks(shapely.intersects, a, b), shapely.intersects(a, b))
    assert np.allclose(shapely.area(map_chunks(shapely.union, a, b)),
                       shapely.area(shapely.union(a, b)))


def test_chunks_start_only_at_group_boundaries(monkeypatch):
    monkeypatch.setattr(parallel, "MIN_PARALLEL", 10)
    monkeypatch.setenv("GEOTOOLS_THREADS", "2")
    groups = np.repeat(np.arange(7), [1, 40, 3, 30, 30, 5, 91])
    seen: list[np.ndarray] = []

    def record(g: np.ndarray) -> np.ndarray:
        seen.append(g.copy())
        return g

    out = map_chunks(record, groups, boundaries=group_starts(groups))
    assert np.array_equal(out, groups)
    assert len(seen) > 1
    for chunk in seen:  # no group is split across two chunks
        assert all(np.sum(groups == g) == np.sum(chunk == g) for g in np.unique(chunk))


def test_thread_count_from_environment(monkeypatch):
    monkeypatch.setenv("GEOTOOLS_THREADS", "1")
    assert parallel.thread_count() == 1
