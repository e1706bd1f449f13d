"""Run vectorised shapely calls on several cores.

shapely 2 releases the GIL inside its vectorised functions, so splitting a large array call into
chunks on a thread pool uses every core with no copying and no change in results (chunks are
concatenated in order). Small inputs run in the calling thread.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

#: Arrays shorter than this run in one call (thread overhead would dominate).
MIN_PARALLEL = 20_000


def thread_count() -> int:
    """Return the number of threads to use: ``GEOTOOLS_THREADS`` or the usable CPU count."""
    env = os.environ.get("GEOTOOLS_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def map_chunks(
    func: Callable[..., np.ndarray],
    *arrays: np.ndarray,
    boundaries: np.ndarray | None = None,
    **kwargs: Any,
) -> np.ndarray:
    """Apply ``func`` to aligned chunks of ``arrays`` on a thread pool; concatenate in order.

    Parameters
    ----------
    func : callable
        Vectorised function taking the arrays (same length) as positional arguments.
    *arrays : numpy.ndarray
        Inputs, all of the same length.
    boundaries : numpy.ndarray of int, optional
        Positions where a chunk may start (e.g. where a new group begins). Use it when elements
        of one group share an object that must not be used from two threads at once, such as a
        prepared geometry.
    **kwargs
        Passed to ``func``.

    Returns
    -------
    numpy.ndarray
        ``func(*arrays, **kwargs)``, computed in chunks.
    """
    n = len(arrays[0])
    workers = thread_count()
    if workers == 1 or n < MIN_PARALLEL:
        return func(*arrays, **kwargs)
    wanted = np.linspace(0, n, workers * 4 + 1).astype(np.intp)[1:-1]
    if boundaries is not None and len(boundaries):
        allowed = np.unique(np.asarray(boundaries, dtype=np.intp))
        wanted = allowed[np.minimum(np.searchsorted(allowed, wanted), len(allowed) - 1)]
    cuts = np.unique(np.concatenate([[0], wanted, [n]]))
    spans = [(a, b) for a, b in itertools.pairwise(cuts.tolist()) if b > a]
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(lambda s: func(*(x[s[0] : s[1]] for x in arrays), **kwargs), spans))
    return np.concatenate(parts)


def group_starts(sorted_groups: np.ndarray) -> np.ndarray:
    """Return the positions where a new group begins in a sorted group array.

    Parameters
    ----------
    sorted_groups : numpy.ndarray
        Group labels, equal labels adjacent (e.g. sorted).

    Returns
    -------
    numpy.ndarray of intp
        0 and every position whose label differs from the previous one; empty for an empty
        input. Suitable as ``boundaries`` of :func:`map_chunks`.
    """
    if len(sorted_groups) == 0:
        return np.zeros(0, dtype=np.intp)
    change = np.flatnonzero(sorted_groups[1:] != sorted_groups[:-1]) + 1
    return np.concatenate([[0], change]).astype(np.intp)
