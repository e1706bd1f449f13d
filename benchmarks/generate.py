"""Deterministic synthetic "national-scale" territories and legal parcels for the benchmarks.

Tiers
-----
======  ===========  =========  ====================================================
tier    territories  parcels    use
======  ===========  =========  ====================================================
``S``   200          20,000     smoke test, seconds; both paths always run
``M``   2,000        200,000    regional scale; both paths run
``L``   10,000       1,000,000  national stress scale (more territories than Peru has)
======  ===========  =========  ====================================================

Every tier has its own fixed seed (:data:`TIERS`), and everything is drawn from one
``numpy.random.Generator`` and built with vectorised shapely 2 calls (no per-feature Python
loops), so a tier is the same on every run with the same numpy version. Generating L takes
about a minute; results are cached as GeoParquet in ``benchmarks/.cache/<tier>.parquet`` (both
layers in one file, told apart by the ``layer`` column) with a ``<tier>.meta.json`` sidecar that
holds :data:`GENERATOR_VERSION` (a stale cache is rebuilt).

Territories (EPSG:4326, columns ``territory_id``, ``geometry``)
    Star-shaped polygons: the radius around a centre is a sum of 6 random harmonics (total
    amplitude 15-45 %) plus a closed random walk, so borders wiggle like surveyed river and ridge
    lines. Vertex counts are log-normal (median 350, 120-2,000). Sizes are log-normal with median
    3,000 ha, clipped to 1,000-60,000 ha (mean ~4,200 ha). About 8 % have a hole (an enclave)
    and about 4 % are MultiPolygons (a detached annex). Territories come in clusters of ~7 strung
    along a meandering line, like communities along a river; the step between neighbours is
    1.0-1.4 times the sum of their radii, so neighbours often overlap or nearly touch. Cluster
    centres sit on a jittered grid over Peru's Amazon (lon -78..-69, lat -13..-3); at tier L
    (~40 % of the box covered) neighbouring clusters also run into each other.

Parcels (EPSG:4326, columns ``parcel_id``, ``tenure``, ``geometry``)
    Each territory carries a cadastral grid (20 x 20 cells, rotated, spanning 3 radii, cells of
    ~0.15 radius, i.e. ~5-1,000 ha, median 21 ha): grid nodes are jittered and every grid edge gets
    4 perturbed intermediate vertices that both neighbouring cells share exactly, so adjacent
    parcels touch along identical edges (21 vertices per parcel). Cells are drawn without
    replacement with weights: fully inside the territory (weight = the territory's titling
    completeness, Beta(3, 1.5)), crossing its border (less), outside it (little), plus cells of
    "ghost" grids placed away from territories (5 % as many grids as territories), which give
    parcels outside every territory; weights are modulated by two random plane waves per grid so
    titled land comes in patches. A cell whose centre lies inside a territory is only drawn from
    that territory's grid (one cadastre), so grids of neighbouring territories overlap only along
    borders. Then overlaps, as in real registries:

    - misaligned surveys: 1.5 % of the gridded parcels are shifted by 8-30 % of a cell, overlapping
      their neighbours;
    - duplicated titles: 1.5 % of all parcels are copies of another parcel, half exact, half with
      ~1.5 m vertex noise (slivers);
    - cessions over titled land: 0.8 % of all parcels are ``cession_in_use`` polygons covering a
      2 x 2 block of cells, half on exactly the same edges, half shifted by 3-15 m.

    Tenure: titled ~60 %, cession_in_use ~20 %, in_process ~15 %, demarcated ~5 %. Rows are
    shuffled. Measured composition (``python benchmarks/generate.py S --stats``) is written to
    the sidecar; see ``benchmarks/README.md`` for the numbers per tier.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

#: Bump when the generated data change, so caches are rebuilt.
GENERATOR_VERSION = 1

CACHE_DIR = Path(__file__).resolve().parent / ".cache"

#: Longitude/latitude box of Peru's Amazon used for the territories.
AMAZON_BOX = (-78.0, -13.0, -69.0, -3.0)

TENURES = ("titled", "cession_in_use", "in_process", "demarcated")
TENURE_SHARES = (0.60, 0.20, 0.15, 0.05)

_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0
_GRID = 20  # cells per grid side
_EDGE_PTS = 4  # perturbed vertices inside every grid edge
_N_HARMONICS = 6
_MISALIGNED = 0.015  # share of gridded parcels shifted (misaligned surveys)
_DUPLICATES = 0.015  # share of all parcels that copy another parcel
_CESSIONS = 0.008  # share of all parcels that are 2 x 2 cession blocks


@dataclass(frozen=True)
class Tier:
    """Size and seed of one benchmark tier."""

    name: str
    n_territories: int
    n_parcels: int
    seed: int


TIERS: dict[str, Tier] = {
    "S": Tier("S", 200, 20_000, 20_240_101),
    "M": Tier("M", 2_000, 200_000, 20_240_102),
    "L": Tier("L", 10_000, 1_000_000, 20_240_103),
}


# ---------------------------------------------------------------------------------------------
# small vectorised helpers


def _offsets(counts: np.ndarray) -> np.ndarray:
    """Start index of each group in a concatenation of groups of sizes ``counts``."""
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts


def _rank_in_group(counts: np.ndarray) -> np.ndarray:
    """0, 1, ... within each group, for groups of sizes ``counts`` laid end to end."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(_offsets(counts), counts)


def _group_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each group (groups contiguous, sizes ``counts``)."""
    cs = np.cumsum(values, axis=0)
    starts = _offsets(counts)
    base = cs[starts] - values[starts]
    return cs - np.repeat(base, counts, axis=0)


def _to_lonlat(xy: np.ndarray, lon0: np.ndarray, lat0: np.ndarray) -> np.ndarray:
    """Convert local metres around ``(lon0, lat0)`` to degrees (affine per feature).

    ``xy`` has shape ``(n, ..., 2)``; ``lon0``/``lat0`` have shape ``(n,)``. An affine map keeps
    every polygon valid and keeps shared edges shared.
    """
    shape = (len(lon0),) + (1,) * (xy.ndim - 2)
    out = np.empty_like(xy)
    kx = _M_PER_DEG_LON_EQ * np.cos(np.radians(lat0))
    out[..., 0] = lon0.reshape(shape) + xy[..., 0] / kx.reshape(shape)
    out[..., 1] = lat0.reshape(shape) + xy[..., 1] / _M_PER_DEG_LAT
    return out


def _radius_factor(theta: np.ndarray, amp: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """``1 + sum_k amp_k cos((k + 2) theta + phase_k)``, row-aligned with ``theta``."""
    out = np.ones_like(theta)
    for k in range(amp.shape[1]):
        out += amp[:, k] * np.cos((k + 2) * theta + phase[:, k])
    return out


def _radial_rings(
    rng: np.random.Generator,
    radius: np.ndarray,
    n_vertices: np.ndarray,
    amp: np.ndarray,
    phase: np.ndarray,
    walk_sigma: float,
    r_min: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices of star-shaped rings, concatenated.

    Returns local ``xy`` (metres, around each ring's centre), the ring index of every vertex, and
    the largest vertex radius of every ring.
    """
    n = len(radius)
    ring = np.repeat(np.arange(n), n_vertices)
    rank = _rank_in_group(n_vertices)
    nv = n_vertices[ring]
    theta = (rank + rng.random(len(rank)) * 0.5) * (2 * np.pi / nv) + np.repeat(
        rng.uniform(0, 2 * np.pi, n), n_vertices
    )
    factor = _radius_factor(theta, amp[ring], phase[ring])
    if walk_sigma > 0:
        # Closed random walk: cumulative noise with its drift removed so the ring closes smoothly.
        steps = rng.normal(0.0, 1.0, len(rank)) * (walk_sigma / np.sqrt(nv))
        walk = _group_cumsum(steps, n_vertices)
        last = walk[_offsets(n_vertices) + n_vertices - 1]
        walk -= (rank + 1) / nv * last[ring]
        factor += walk
    r = np.maximum(factor, r_min) * radius[ring]
    xy = np.column_stack((r * np.cos(theta), r * np.sin(theta)))
    r_max = np.maximum.reduceat(r, _offsets(n_vertices))
    return xy, ring, r_max


def _harmonics(
    rng: np.random.Generator, n: int, total_lo: float, total_hi: float
) -> tuple[np.ndarray, np.ndarray]:
    """Random harmonic amplitudes (summing to ``total_lo..total_hi``) and phases for ``n`` rings."""
    k = np.arange(2, 2 + _N_HARMONICS)
    amp = rng.random((n, _N_HARMONICS)) * k**-1.2
    amp *= (rng.uniform(total_lo, total_hi, n) / amp.sum(axis=1))[:, None]
    phase = rng.uniform(0, 2 * np.pi, (n, _N_HARMONICS))
    return amp, phase


# ---------------------------------------------------------------------------------------------
# territories


@dataclass
class _Territories:
    lon: np.ndarray
    lat: np.ndarray
    radius: np.ndarray  # metres
    amp: np.ndarray
    phase: np.ndarray
    geometry: np.ndarray


def _place_clusters(rng: np.random.Generator, radius: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres of territories strung in clusters along meandering lines inside the Amazon box."""
    n = len(radius)
    sizes = 1 + rng.poisson(6.0, n)
    n_clusters = int(np.searchsorted(np.cumsum(sizes), n)) + 1
    sizes = sizes[:n_clusters]
    sizes[-1] -= sizes.sum() - n
    rank = _rank_in_group(sizes)
    step = np.zeros(n)
    follow = rank > 0
    step[follow] = (radius[1:][follow[1:]] + radius[:-1][follow[1:]]) * rng.uniform(
        1.0, 1.4, int(follow.sum())
    )
    bearing = np.repeat(rng.uniform(0, 2 * np.pi, n_clusters), sizes) + _group_cumsum(
        rng.normal(0.0, 0.6, n), sizes
    )
    dxy = _group_cumsum(np.column_stack((step * np.cos(bearing), step * np.sin(bearing))), sizes)
    starts = _offsets(sizes)
    dxy -= np.repeat(np.add.reduceat(dxy, starts, axis=0) / sizes[:, None], sizes, axis=0)
    # Cluster centres on a jittered grid over the box (even spread, few collisions).
    x0, y0, x1, y1 = AMAZON_BOX
    margin = 0.2  # degrees, > 1.5 x the largest radius
    width, height = x1 - x0 - 2 * margin, y1 - y0 - 2 * margin
    nx = int(np.ceil(np.sqrt(n_clusters * width / height)))
    ny = int(np.ceil(n_clusters / nx))
    cell = rng.choice(nx * ny, n_clusters, replace=False)
    lon0 = x0 + margin + (cell % nx + rng.uniform(0.2, 0.8, n_clusters)) * (width / nx)
    lat0 = y0 + margin + (cell // nx + rng.uniform(0.2, 0.8, n_clusters)) * (height / ny)
    lonlat = _to_lonlat(dxy[:, None, :], np.repeat(lon0, sizes), np.repeat(lat0, sizes))[:, 0, :]
    # Shift each cluster back inside the box if it sticks out.
    lo = np.minimum.reduceat(lonlat, starts, axis=0)
    hi = np.maximum.reduceat(lonlat, starts, axis=0)
    box_lo = np.array([x0 + margin, y0 + margin])
    box_hi = np.array([x1 - margin, y1 - margin])
    shift = np.maximum(box_lo - lo, 0) - np.maximum(hi - box_hi, 0)
    lonlat += np.repeat(shift, sizes, axis=0)
    return lonlat[:, 0], lonlat[:, 1]


def _make_territories(rng: np.random.Generator, n: int) -> _Territories:
    """Star-shaped territories, some with a hole, some with a detached annex."""
    area_ha = np.clip(rng.lognormal(np.log(3_000.0), 0.8, n), 1_000.0, 60_000.0)
    radius = np.sqrt(area_ha * 1e4 / np.pi)
    lon, lat = _place_clusters(rng, radius)
    n_vertices = np.clip(rng.lognormal(np.log(350.0), 0.5, n), 120, 2_000).astype(np.int64)
    amp, phase = _harmonics(rng, n, 0.15, 0.45)
    shell_xy, shell_ring, r_max = _radial_rings(
        rng, radius, n_vertices, amp, phase, walk_sigma=0.25, r_min=0.45
    )

    # Holes: small rings near the centre, always inside the shell (shell radius >= 0.45 R).
    has_hole = np.flatnonzero(rng.random(n) < 0.08)
    nh = len(has_hole)
    h_amp, h_phase = _harmonics(rng, nh, 0.0, 0.2)
    h_xy, h_ring, _ = _radial_rings(
        rng,
        radius[has_hole] * rng.uniform(0.08, 0.2, nh),
        rng.integers(48, 97, nh),
        h_amp,
        h_phase,
        walk_sigma=0.0,
        r_min=0.5,
    )
    h_xy += (radius[has_hole] * 0.1)[h_ring, None] * rng.uniform(-1, 1, (nh, 2))[h_ring]

    # Annexes: a second, smaller polygon beyond the shell's farthest vertex.
    has_annex = np.flatnonzero(rng.random(n) < 0.04)
    na = len(has_annex)
    a_radius = radius[has_annex] * rng.uniform(0.15, 0.35, na)
    a_amp, a_phase = _harmonics(rng, na, 0.0, 0.2)
    a_xy, a_ring, _ = _radial_rings(
        rng, a_radius, rng.integers(60, 151, na), a_amp, a_phase, walk_sigma=0.0, r_min=0.5
    )
    a_dist = r_max[has_annex] + a_radius * 1.3 + radius[has_annex] * 0.05
    a_dir = rng.uniform(0, 2 * np.pi, na)
    a_xy += np.column_stack((a_dist * np.cos(a_dir), a_dist * np.sin(a_dir)))[a_ring]

    def lonlat(xy: np.ndarray, owner: np.ndarray) -> np.ndarray:
        return _to_lonlat(xy[:, None, :], lon[owner], lat[owner])[:, 0, :]

    # Rings: shells 0..n-1, holes n..n+nh-1; polygons with holes via shapely's ``indices``.
    coords = np.concatenate((lonlat(shell_xy, shell_ring), lonlat(h_xy, has_hole[h_ring])))
    ring_of_vertex = np.concatenate((shell_ring, n + h_ring))
    rings = shapely.linearrings(coords, indices=ring_of_vertex)
    poly_of_ring = np.concatenate((np.arange(n), has_hole))
    order = np.argsort(poly_of_ring, kind="stable")  # shell first, then its hole
    polygons = shapely.polygons(rings[order], indices=poly_of_ring[order])

    annexes = shapely.polygons(shapely.linearrings(lonlat(a_xy, has_annex[a_ring]), indices=a_ring))
    geometry = np.asarray(polygons, dtype=object).copy()
    if na:
        parts = np.concatenate((polygons[has_annex], annexes))
        owner = np.concatenate((np.arange(na), np.arange(na)))
        order = np.argsort(owner, kind="stable")
        geometry[has_annex] = shapely.multipolygons(parts[order], indices=owner[order])
    return _Territories(lon, lat, radius, amp, phase, geometry)


# ---------------------------------------------------------------------------------------------
# parcels


def _gumbel_top_k(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """Indices of ``k`` items drawn without replacement with probability ~ ``weights``."""
    with np.errstate(divide="ignore"):
        keys = np.log(weights) - np.log(-np.log(rng.random(len(weights))))
    if k >= len(weights):
        raise ValueError("not enough candidate cells for the requested number of parcels")
    chosen = np.argpartition(-keys, k)[:k]
    return np.sort(chosen)


class _Grids:
    """Rotated, jittered cadastral grids, one per territory plus ghost grids."""

    def __init__(
        self,
        rng: np.random.Generator,
        lon: np.ndarray,
        lat: np.ndarray,
        radius: np.ndarray,
    ) -> None:
        self.lon, self.lat, self.radius = lon, lat, radius
        n = len(radius)
        self.half = 1.5 * radius
        self.cell = 2 * self.half / _GRID
        self.angle = rng.uniform(0, 2 * np.pi, n)
        ticks = np.arange(_GRID + 1)
        base = np.stack(np.meshgrid(ticks, ticks, indexing="ij")[::-1], axis=-1)  # [i, j] -> (j, i)
        jitter = rng.uniform(-0.15, 0.15, (n, _GRID + 1, _GRID + 1, 2))
        local = (base[None] + jitter - _GRID / 2) * self.cell[:, None, None, None]
        cos, sin = np.cos(self.angle)[:, None, None], np.sin(self.angle)[:, None, None]
        self.nodes = np.stack(
            (local[..., 0] * cos - local[..., 1] * sin, local[..., 0] * sin + local[..., 1] * cos),
            axis=-1,
        )
        # Perpendicular offsets of the intermediate edge vertices, looked up by edge id so the two
        # cells sharing an edge get the same vertices.
        self.table = rng.normal(0.0, 0.03, (1 << 20, _EDGE_PTS))

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Grid index, distance from the grid centre and world angle of every cell centre."""
        n = len(self.radius)
        ticks = (np.arange(_GRID) + 0.5 - _GRID / 2)[None, :] * self.cell[:, None]
        x = np.broadcast_to(ticks[:, None, :], (n, _GRID, _GRID))
        y = np.broadcast_to(ticks[:, :, None], (n, _GRID, _GRID))
        dist = np.hypot(x, y).reshape(-1)
        angle = (np.arctan2(y, x) + self.angle[:, None, None]).reshape(-1)
        grid = np.repeat(np.arange(n), _GRID * _GRID)
        return grid, dist, angle

    def _edge(self, g: np.ndarray, a: tuple, b: tuple, edge_id: np.ndarray) -> np.ndarray:
        """Intermediate vertices from node ``a`` to node ``b``, shape ``(n, _EDGE_PTS, 2)``."""
        pa = self.nodes[g, a[0], a[1]]
        pb = self.nodes[g, b[0], b[1]]
        d = pb - pa
        perp = np.column_stack((-d[:, 1], d[:, 0]))
        frac = (np.arange(1, _EDGE_PTS + 1) / (_EDGE_PTS + 1))[None, :, None]
        key = (edge_id.astype(np.uint64) * np.uint64(2_654_435_761)) % np.uint64(len(self.table))
        off = self.table[key.astype(np.int64)][:, :, None]
        return pa[:, None, :] + frac * d[:, None, :] + off * perp[:, None, :]

    def _h(self, g: np.ndarray, i: np.ndarray, j: np.ndarray, reverse: bool = False) -> list:
        """Horizontal edge (i, j) -> (i, j + 1), as [start node, intermediate vertices]."""
        eid = ((g * (_GRID + 1) + i) * _GRID + j) * 2
        pts = self._edge(g, (i, j), (i, j + 1), eid)
        if reverse:
            return [self.nodes[g, i, j + 1][:, None], pts[:, ::-1]]
        return [self.nodes[g, i, j][:, None], pts]

    def _v(self, g: np.ndarray, i: np.ndarray, j: np.ndarray, reverse: bool = False) -> list:
        """Vertical edge (i, j) -> (i + 1, j), as [start node, intermediate vertices]."""
        eid = ((g * _GRID + i) * (_GRID + 1) + j) * 2 + 1
        pts = self._edge(g, (i, j), (i + 1, j), eid)
        if reverse:
            return [self.nodes[g, i + 1, j][:, None], pts[:, ::-1]]
        return [self.nodes[g, i, j][:, None], pts]

    def cell_rings(self, g: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Closed rings (local metres) of cells ``(g, i, j)``: shape ``(n, 4 * 5 + 1, 2)``."""
        parts = (
            self._h(g, i, j)
            + self._v(g, i, j + 1)
            + self._h(g, i + 1, j, reverse=True)
            + self._v(g, i, j, reverse=True)
        )
        ring = np.concatenate(parts, axis=1)
        return np.concatenate((ring, ring[:, :1]), axis=1)

    def block_rings(self, g: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Closed rings of 2 x 2 blocks of cells with lower-left cell ``(g, i, j)``."""
        parts = (
            self._h(g, i, j)
            + self._h(g, i, j + 1)
            + self._v(g, i, j + 2)
            + self._v(g, i + 1, j + 2)
            + self._h(g, i + 2, j + 1, reverse=True)
            + self._h(g, i + 2, j, reverse=True)
            + self._v(g, i + 1, j, reverse=True)
            + self._v(g, i, j, reverse=True)
        )
        ring = np.concatenate(parts, axis=1)
        return np.concatenate((ring, ring[:, :1]), axis=1)

    def to_lonlat(self, g: np.ndarray, rings: np.ndarray) -> np.ndarray:
        """Rings in local metres of grids ``g`` to degrees."""
        return _to_lonlat(rings, self.lon[g], self.lat[g])


def _owner_territory(
    territories: np.ndarray, grids: _Grids, grid: np.ndarray, dist: np.ndarray, angle: np.ndarray
) -> np.ndarray:
    """Lowest index of the territories containing each cell centre, -1 for none."""
    local = np.column_stack((dist * np.cos(angle), dist * np.sin(angle)))[:, None, :]
    lonlat = _to_lonlat(local, grids.lon[grid], grids.lat[grid])[:, 0, :]
    points = shapely.points(lonlat)
    point_idx, terr_idx = shapely.STRtree(territories).query(points, predicate="within")
    owner = np.full(len(points), len(territories), dtype=np.int64)
    np.minimum.at(owner, point_idx, terr_idx)
    owner[owner == len(territories)] = -1
    return owner


def _make_parcels(
    rng: np.random.Generator, terr: _Territories, n_parcels: int
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Parcel geometries (EPSG:4326) and tenures; see the module docstring."""
    n_terr = len(terr.radius)
    n_ghost = max(1, round(0.05 * n_terr))
    x0, y0, x1, y1 = AMAZON_BOX
    ghost_r = np.sqrt(np.clip(rng.lognormal(np.log(3_000.0), 0.8, n_ghost), 1e3, 6e4) * 1e4 / np.pi)
    grids = _Grids(
        rng,
        np.concatenate((terr.lon, rng.uniform(x0 + 0.2, x1 - 0.2, n_ghost))),
        np.concatenate((terr.lat, rng.uniform(y0 + 0.2, y1 - 0.2, n_ghost))),
        np.concatenate((terr.radius, ghost_r)),
    )

    # Candidate cells and their weights.
    grid, dist, angle = grids.cell_centres()
    is_terr = grid < n_terr
    gt = np.minimum(grid, n_terr - 1)
    edge = terr.radius[gt] * _radius_factor(angle, terr.amp[gt], terr.phase[gt])
    margin = 0.75 * grids.cell[grid]
    completeness = rng.beta(3.0, 1.5, n_terr)[gt]
    outside_weight = np.where(dist - margin > edge, 0.01, 0.35 * completeness)
    weights = np.where(dist + margin < edge, completeness, outside_weight)
    weights = np.where(is_terr, weights, np.where(dist < grids.radius[grid], 0.5, 0.0))
    # One cadastre: a cell whose centre lies in a territory belongs to that territory's grid only
    # (the lowest-numbered one where territories overlap), so grids overlap only along borders.
    owner = _owner_territory(terr.geometry, grids, grid, dist, angle)
    weights = np.where((owner == grid) | (owner < 0), weights, 0.0)
    # Titled land comes in patches: modulate weights by two random plane waves per grid.
    u = dist * np.cos(angle) / grids.radius[grid]
    v = dist * np.sin(angle) / grids.radius[grid]
    n_grids = len(grids.radius)
    for _ in range(2):
        wavenumber = 2 * np.pi / rng.uniform(0.8, 2.0, n_grids)
        heading = rng.uniform(0, 2 * np.pi, n_grids)
        phase = rng.uniform(0, 2 * np.pi, n_grids)
        weights = weights * np.exp(
            1.2
            * np.cos(
                wavenumber[grid] * (u * np.cos(heading[grid]) + v * np.sin(heading[grid]))
                + phase[grid]
            )
        )

    n_dup = round(_DUPLICATES * n_parcels)
    n_cession = round(_CESSIONS * n_parcels)
    n_base = n_parcels - n_dup - n_cession
    chosen = _gumbel_top_k(rng, weights, n_base)
    g = grid[chosen]
    cell = chosen % (_GRID * _GRID)
    i, j = cell // _GRID, cell % _GRID
    base = grids.cell_rings(g, i, j)

    # Misaligned surveys: shift some parcels by 8-30 % of a cell.
    moved = rng.choice(n_base, round(_MISALIGNED * n_base), replace=False)
    length = rng.uniform(0.08, 0.30, len(moved)) * grids.cell[g[moved]]
    direction = rng.uniform(0, 2 * np.pi, len(moved))
    base[moved] += np.column_stack((length * np.cos(direction), length * np.sin(direction)))[
        :, None, :
    ]

    # Duplicated titles: copies, half exact, half with ~1.5 m vertex noise (ring kept closed).
    source = rng.choice(n_base, n_dup, replace=False)
    dup = base[source].copy()
    noisy = np.arange(n_dup) % 2 == 1
    dup[noisy, :-1] += rng.normal(0.0, 1.5, (int(noisy.sum()), dup.shape[1] - 1, 2))
    dup[noisy, -1] = dup[noisy, 0]

    # Cessions over titled land: 2 x 2 blocks, half on the same edges, half shifted 3-15 m.
    corner = np.flatnonzero((i < _GRID - 1) & (j < _GRID - 1))
    corner = rng.choice(corner, n_cession, replace=False)
    block = grids.block_rings(g[corner], i[corner], j[corner])
    shifted = np.arange(n_cession) % 2 == 1
    length = rng.uniform(3.0, 15.0, int(shifted.sum()))
    direction = rng.uniform(0, 2 * np.pi, len(length))
    block[shifted] += np.column_stack((length * np.cos(direction), length * np.sin(direction)))[
        :, None, :
    ]

    geometry = np.concatenate(
        (
            shapely.polygons(grids.to_lonlat(g, base)),
            shapely.polygons(grids.to_lonlat(g[source], dup)),
            shapely.polygons(grids.to_lonlat(g[corner], block)),
        )
    )

    # Tenure: cession overlays are cession_in_use; the rest drawn so the totals match the shares.
    counts = np.array(TENURE_SHARES) * n_parcels
    counts[1] -= n_cession
    drawn = rng.choice(len(TENURES), n_parcels - n_cession, p=counts / counts.sum())
    tenure_code = np.concatenate((drawn, np.full(n_cession, 1)))
    tenure = np.asarray(TENURES, dtype=object)[tenure_code]

    kind = {
        "gridded": n_base,
        "misaligned": len(moved),
        "duplicates": n_dup,
        "cessions_2x2": n_cession,
        "from_ghost_grids": int((g >= n_terr).sum()),
    }
    return geometry, tenure, kind


# ---------------------------------------------------------------------------------------------
# public API


def build(tier: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict]:
    """Generate a tier from scratch (no cache).

    Returns
    -------
    territories, parcels : geopandas.GeoDataFrame
        EPSG:4326 layers as described in the module docstring.
    info : dict
        Tier, seed, generator version, counts per kind of parcel and generation time.
    """
    spec = TIERS[tier]
    t0 = time.perf_counter()
    rng = np.random.default_rng(spec.seed)
    terr = _make_territories(rng, spec.n_territories)
    geometry, tenure, kind = _make_parcels(rng, terr, spec.n_parcels)
    order = rng.permutation(spec.n_parcels)

    territories = gpd.GeoDataFrame(
        {"territory_id": _ids("T", spec.n_territories, 6)},
        geometry=gpd.GeoSeries(terr.geometry, crs="EPSG:4326"),
    )
    parcels = gpd.GeoDataFrame(
        {"parcel_id": _ids("P", spec.n_parcels, 7), "tenure": tenure[order]},
        geometry=gpd.GeoSeries(geometry[order], crs="EPSG:4326"),
    )
    n_invalid = int((~shapely.is_valid(territories.geometry.values)).sum()) + int(
        (~shapely.is_valid(parcels.geometry.values)).sum()
    )
    if n_invalid:
        raise RuntimeError(f"generator produced {n_invalid} invalid geometries")
    info = {
        "tier": tier,
        "seed": spec.seed,
        "generator_version": GENERATOR_VERSION,
        "numpy": np.__version__,
        "n_territories": spec.n_territories,
        "n_parcels": spec.n_parcels,
        "parcel_kinds": kind,
        "territory_vertices": int(shapely.get_num_coordinates(territories.geometry.values).sum()),
        "parcel_vertices": int(shapely.get_num_coordinates(parcels.geometry.values).sum()),
        "build_s": round(time.perf_counter() - t0, 2),
    }
    return territories, parcels, info


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` followed by zero-padded 1-based numbers."""
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width)).astype(object)


def cache_paths(tier: str) -> tuple[Path, Path]:
    """GeoParquet file and JSON sidecar of a tier's cache."""
    return CACHE_DIR / f"{tier}.parquet", CACHE_DIR / f"{tier}.meta.json"


def read_meta(tier: str) -> dict | None:
    """The cache sidecar of ``tier``, or None when missing or stale."""
    data, meta = cache_paths(tier)
    if not (data.exists() and meta.exists()):
        return None
    info = json.loads(meta.read_text())
    if info.get("generator_version") != GENERATOR_VERSION:
        return None
    return info


def load(tier: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read a cached tier (raises FileNotFoundError when the cache is missing or stale)."""
    if read_meta(tier) is None:
        raise FileNotFoundError(f"no up-to-date cache for tier {tier}; run generate.py {tier}")
    frame = gpd.read_parquet(cache_paths(tier)[0])
    is_terr = (frame["layer"] == "territory").to_numpy()
    territories = gpd.GeoDataFrame(
        {"territory_id": frame["id"].to_numpy()[is_terr]},
        geometry=frame.geometry.values[is_terr],
        crs=frame.crs,
    )
    parcels = gpd.GeoDataFrame(
        {
            "parcel_id": frame["id"].to_numpy()[~is_terr],
            "tenure": frame["tenure"].to_numpy()[~is_terr],
        },
        geometry=frame.geometry.values[~is_terr],
        crs=frame.crs,
    )
    return territories, parcels


def write_cache(
    tier: str, territories: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, info: dict
) -> None:
    """Write both layers of a tier to one GeoParquet file plus the JSON sidecar."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    data, meta = cache_paths(tier)
    n_t = len(territories)
    frame = gpd.GeoDataFrame(
        {
            "layer": ["territory"] * n_t + ["parcel"] * len(parcels),
            "id": np.concatenate((territories["territory_id"].to_numpy(), parcels["parcel_id"])),
            "tenure": np.concatenate((np.full(n_t, None, dtype=object), parcels["tenure"])),
        },
        geometry=np.concatenate((territories.geometry.values, parcels.geometry.values)),
        crs=territories.crs,
    )
    frame.to_parquet(data, index=False)
    meta.write_text(json.dumps(info, indent=2) + "\n")


def generate(tier: str, force: bool = False) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return ``(territories, parcels)`` of ``tier``, building and caching it when needed.

    Parameters
    ----------
    tier : {"S", "M", "L"}
        Benchmark tier (see :data:`TIERS`).
    force : bool, default False
        Rebuild even when an up-to-date cache exists.
    """
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; expected one of {sorted(TIERS)}")
    if not force and read_meta(tier) is not None:
        return load(tier)
    territories, parcels, info = build(tier)
    write_cache(tier, territories, parcels, info)
    return territories, parcels


def _interior_pairs(geoms: np.ndarray) -> np.ndarray:
    """Index pairs ``(i, j)``, ``i < j``, of geometries whose interiors intersect, shape (n, 2)."""
    left, right = shapely.STRtree(geoms).query(geoms)
    keep = left < right
    left, right = left[keep], right[keep]
    hit = shapely.relate_pattern(geoms[left], geoms[right], "T********")
    return np.column_stack((left[hit], right[hit]))


def describe(territories: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> dict:
    """Measured composition of a tier: overlaps, inside/crossing/outside shares, sizes.

    Uses an equal-area projection for hectares; takes a few seconds for S, a minute or two for L.
    """
    from pyproj import CRS

    albers = CRS.from_proj4(
        "+proj=aea +lat_0=-9.5 +lon_0=-75 +lat_1=-2 +lat_2=-16 +datum=WGS84 +units=m +type=crs"
    )
    tg = territories.to_crs(albers).geometry.values
    pg = parcels.to_crs(albers).geometry.values
    overlapping = np.zeros(len(pg), dtype=bool)
    overlapping[_interior_pairs(pg).ravel()] = True
    t_pairs = _interior_pairs(tg)
    p_idx, t_idx = shapely.STRtree(tg).query(pg, predicate="intersects")
    hits = np.bincount(p_idx, minlength=len(pg))
    shapely.prepare(tg)
    within = np.zeros(len(pg), dtype=bool)
    within[p_idx[shapely.contains_properly(tg[t_idx], pg[p_idx])]] = True
    parcel_ha = shapely.area(pg) / 1e4
    terr_ha = shapely.area(tg) / 1e4
    tenure_share = parcels["tenure"].value_counts(normalize=True).round(3).to_dict()
    return {
        "parcels_overlapping_another_pct": round(100 * overlapping.mean(), 1),
        "parcels_inside_one_territory_pct": round(100 * within.mean(), 1),
        "parcels_crossing_or_in_several_pct": round(100 * ((hits > 0) & ~within).mean(), 1),
        "parcels_outside_all_pct": round(100 * (hits == 0).mean(), 1),
        "territories_overlapping_another_pct": round(100 * len(np.unique(t_pairs)) / len(tg), 1),
        "territories_with_hole": int((shapely.get_num_interior_rings(tg) > 0).sum()),
        "territories_multipolygon": int((shapely.get_type_id(tg) == 6).sum()),
        "territory_ha_median": round(float(np.median(terr_ha))),
        "territory_ha_p5_p95": [round(float(v)) for v in np.percentile(terr_ha, [5, 95])],
        "territory_vertices_median": int(np.median(shapely.get_num_coordinates(tg))),
        "parcel_ha_median": round(float(np.median(parcel_ha)), 1),
        "parcel_ha_p5_p95": [round(float(v), 1) for v in np.percentile(parcel_ha, [5, 95])],
        "tenure_share": tenure_share,
    }


def main(argv: list[str] | None = None) -> None:
    """CLI: ``python benchmarks/generate.py S M [--force] [--stats]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tiers", nargs="+", choices=sorted(TIERS))
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    parser.add_argument("--stats", action="store_true", help="measure composition (slower)")
    args = parser.parse_args(argv)
    for tier in args.tiers:
        t0 = time.perf_counter()
        territories, parcels = generate(tier, force=args.force)
        info = read_meta(tier) or {}
        msg = f"{tier}: {len(territories)} territories, {len(parcels)} parcels"
        print(f"{msg} ({time.perf_counter() - t0:.1f} s)")
        if args.stats:
            info["stats"] = describe(territories, parcels)
            cache_paths(tier)[1].write_text(json.dumps(info, indent=2) + "\n")
            print(json.dumps(info["stats"], indent=2))


if __name__ == "__main__":
    main()
