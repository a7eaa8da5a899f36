"""Accessibility per cell (method §3): nearest effective distance, coverage and E2SFCA with banded weights.

Distances go through a `DistanceModel`, so a street-network model can later replace the straight line × circuity.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.spatial import cKDTree


class DistanceModel(Protocol):
    def nearest(self, origins: np.ndarray, venues: np.ndarray, limit: float = np.inf, tree=None,
                need_index: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(distance, venue index) of the nearest venue to each origin; (inf, -1) when none is within `limit`.
        Ties go to the lowest venue index; `need_index=False` may skip breaking them (only distances are used)."""

    def pairs_within(self, origins: np.ndarray, venues: np.ndarray, limit: float) -> tuple[np.ndarray, ...]:
        """(origin index, venue index, distance) of every pair at most `limit` effective metres apart."""


@dataclass(frozen=True)
class CircuityDistance:
    """Effective distance = straight-line metres in EPSG:22185 × circuity factor (a KD-tree finds the pairs)."""

    circuity: float

    def nearest(self, origins, venues, limit=np.inf, tree=None, need_index=True):
        """Ties go to the lowest venue index, whatever the tree's shape: the same cell gets the same nearest venue
        whether the whole city or a few cells are asked (the incremental path asks a few)."""
        if len(venues) == 0 or len(origins) == 0:
            return np.full(len(origins), np.inf), np.full(len(origins), -1, dtype=np.int64)
        # The bound prunes the search; a hair of slack keeps venues exactly at the limit (checked again below).
        bound = limit / self.circuity * (1 + 1e-9) if np.isfinite(limit) else np.inf
        workers = -1 if len(origins) > 50_000 else 1  # threads pay off only for large queries
        tree = tree if tree is not None else cKDTree(venues)
        k = min(4 if need_index else 1, len(venues))
        distance, index = tree.query(origins, k=k, distance_upper_bound=bound, workers=workers)
        distance, index = distance.reshape(len(origins), k), index.reshape(len(origins), k)
        best = distance[:, 0].copy()
        chosen = index[:, 0].astype(np.int64)
        tied = ((distance[:, 1:] == best[:, None]).any(axis=1) & np.isfinite(best) if k > 1
                else np.zeros(len(best), bool))
        for row in np.flatnonzero(tied):
            more = k
            while True:
                d, i = tree.query(origins[row], k=more, distance_upper_bound=bound)
                d, i = np.atleast_1d(d), np.atleast_1d(i)
                if d[-1] != best[row] or more >= len(venues):
                    break
                more = min(more * 8, len(venues))
            chosen[row] = int(i[d == best[row]].min())
        distance = best * self.circuity
        missing = ~(distance <= limit)
        distance[missing] = np.inf
        chosen[missing] = -1
        return distance, chosen

    def pairs_within(self, origins, venues, limit):
        """Pairs in (origin, venue) order, distances computed pair by pair: a cell's pairs, and so its sums, come
        out the same whichever other cells or venues are asked with it."""
        if len(venues) == 0 or len(origins) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
        # The KD-trees only find candidates (with slack); the distance kept is the one computed below.
        # (The ndarray form keeps zero distances, a venue exactly at a cell centre, which the sparse forms drop.)
        pairs = cKDTree(origins).sparse_distance_matrix(cKDTree(venues), limit / self.circuity * (1 + 1e-9),
                                                        output_type="ndarray")
        key = pairs["i"].astype(np.int64) * len(venues) + pairs["j"]
        key.sort(kind="stable")  # (timsort: the KD-trees give long ordered runs) faster than an argsort
        i = key // len(venues)
        j = key - i * len(venues)
        d = pair_distance(origins[i], venues[j]) * self.circuity
        keep = d <= limit
        return i[keep], j[keep], d[keep]


def pairs_near(origins: np.ndarray, venues: np.ndarray, tree: cKDTree, limit: float,
               circuity: float) -> tuple[np.ndarray, ...]:
    """`CircuityDistance.pairs_within` for a few origins, with a KD-tree of the venues already built: the same
    pairs, in the same order, with the same distances."""
    found = tree.query_ball_point(origins, limit / circuity * (1 + 1e-9))
    lengths = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
    i = np.repeat(np.arange(len(origins), dtype=np.int64), lengths)
    j = np.fromiter(itertools.chain.from_iterable(found), dtype=np.int64, count=int(lengths.sum()))
    key = i * len(venues) + j
    key.sort(kind="stable")
    i = key // len(venues)
    j = key - i * len(venues)
    d = pair_distance(origins[i], venues[j]) * circuity
    keep = d <= limit
    return i[keep], j[keep], d[keep]


def pair_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt((a[:, 0] - b[:, 0]) ** 2 + (a[:, 1] - b[:, 1]) ** 2)


def band_weights(distance: np.ndarray, bands: tuple[tuple[float, float], ...]) -> np.ndarray:
    """W(d): the weight of the first band whose upper bound is ≥ d (bounds inclusive), 0 beyond the last."""
    limits = np.array([b[0] for b in bands])
    weights = np.append([b[1] for b in bands], 0.0)
    return weights[np.searchsorted(limits, distance, side="left")]


@dataclass(frozen=True)
class CellAccess:
    nearest_m: np.ndarray  # N_i (inf when the city has no in-person instance)
    nearest_venue: np.ndarray  # index of that venue, -1 if none
    covered: np.ndarray  # C_i as booleans
    e2sfca: np.ndarray  # A_i per `per_population` people
    venue_ratio: np.ndarray  # R_j per `per_population` people
    pairs: int = 0  # cell–venue pairs within the last band: the work E2SFCA did
    ratio: np.ndarray | None = None  # R_j per person (what A_i sums), kept for incremental updates
    venue_pairs: np.ndarray | None = None  # pairs per venue


def e2sfca(cell_population: np.ndarray, supply: np.ndarray, pairs: tuple[np.ndarray, ...],
           bands: tuple[tuple[float, float], ...], per_population: float) -> tuple[np.ndarray, np.ndarray]:
    """Luo & Qi (2009): R_j = S_j / Σ_k P_k W(d_kj), A_i = Σ_j R_j W(d_ij). Returns (A_i, R_j), both scaled."""
    score, ratio = _e2sfca(cell_population, supply, pairs, bands)
    return score * per_population, ratio * per_population


def _demand_ratio(cell_population, supply, cell, venue, weight):
    # Pairs come in (cell, venue) order, so each venue's sum adds its cells in one order (see pairs_within).
    demand = np.bincount(venue, weights=cell_population[cell] * weight, minlength=len(supply))
    return np.divide(supply, demand, out=np.zeros(len(supply)), where=demand > 0)


def _e2sfca(cell_population, supply, pairs, bands):
    cell, venue, distance = pairs
    weight = band_weights(distance, bands)
    ratio = _demand_ratio(cell_population, supply, cell, venue, weight)
    score = np.bincount(cell, weights=ratio[venue] * weight, minlength=len(cell_population))
    return score, ratio


def cell_access(centres: np.ndarray, cell_population: np.ndarray, venues: np.ndarray, supply: np.ndarray,
                params, model: DistanceModel | None = None) -> CellAccess:
    model = model or CircuityDistance(params.circuity_factor)
    nearest, nearest_venue = model.nearest(centres, venues)
    pairs = model.pairs_within(centres, venues, params.max_band_m)
    score, ratio = _e2sfca(cell_population, supply, pairs, params.e2sfca_bands)
    per = params.e2sfca_per_population
    return CellAccess(nearest_m=nearest, nearest_venue=nearest_venue, covered=nearest <= params.coverage_distance_m,
                      e2sfca=score * per, venue_ratio=ratio * per, pairs=len(pairs[0]), ratio=ratio,
                      venue_pairs=np.bincount(pairs[1], minlength=len(venues)))


# Beyond this many changed venues the incremental update is no cheaper than the whole city.
MAX_CHANGED_VENUES = 2_000


def update_cell_access(prev: CellAccess, prev_ids: np.ndarray, prev_venues: np.ndarray, prev_supply: np.ndarray,
                       centres: np.ndarray, cell_population: np.ndarray, ids: np.ndarray, venues: np.ndarray,
                       supply: np.ndarray, params, model: CircuityDistance) -> CellAccess | None:
    """`cell_access` after some venues moved, came or went (ids ascending, as the venues' order), computing only
    the cells and venues they reach: exactly what `cell_access` gives for the whole city, or None when too much
    changed (or the distance model is not the straight line) to be worth it."""
    if prev.ratio is None or prev.venue_pairs is None or not isinstance(model, CircuityDistance):
        return None
    _, old_at, new_at = np.intersect1d(prev_ids, ids, assume_unique=True, return_indices=True)
    same = (prev_venues[old_at] == venues[new_at]).all(axis=1) & (prev_supply[old_at] == supply[new_at])
    fresh = np.ones(len(ids), bool)
    fresh[new_at[same]] = False  # venues new, moved or with another supply (positions in `venues`)
    gone = np.ones(len(prev_ids), bool)
    gone[old_at[same]] = False  # venues removed, moved or with another supply (positions in `prev_venues`)
    if fresh.sum() + gone.sum() > MAX_CHANGED_VENUES or len(venues) == 0:
        return None
    limit = params.max_band_m
    # R_j: kept for unchanged venues (their catchment's population is the same), computed for the others.
    ratio = np.zeros(len(ids))
    ratio[new_at[same]] = prev.ratio[old_at[same]]
    venue_pairs = np.zeros(len(ids), np.int64)
    venue_pairs[new_at[same]] = prev.venue_pairs[old_at[same]]
    if fresh.any():
        cell, sub, distance = model.pairs_within(centres, venues[fresh], limit)
        weight = band_weights(distance, params.e2sfca_bands)
        ratio[fresh] = _demand_ratio(cell_population, supply[fresh], cell, sub, weight)
        venue_pairs[fresh] = np.bincount(sub, minlength=int(fresh.sum()))
    # A_i: again for every cell within reach of a changed venue, old place or new.
    moved = np.vstack([prev_venues[gone], venues[fresh]])
    reach = cKDTree(centres).query_ball_point(moved, limit / model.circuity * (1 + 1e-6))
    touched = np.unique(np.concatenate([np.asarray(r, dtype=np.int64) for r in reach] + [np.empty(0, np.int64)]))
    score = prev.e2sfca.copy()
    tree = cKDTree(venues)
    if len(touched):
        cell, venue, distance = pairs_near(centres[touched], venues, tree, limit, model.circuity)
        weight = band_weights(distance, params.e2sfca_bands)
        score[touched] = np.bincount(cell, weights=ratio[venue] * weight,
                                     minlength=len(touched)) * params.e2sfca_per_population
    # N_i: again for cells whose nearest venue changed or went, or that a new place may be nearer to.
    nearest_id = np.where(prev.nearest_venue >= 0, prev_ids[prev.nearest_venue.clip(0)], -1)
    again = np.isin(nearest_id, prev_ids[gone]) | (prev.nearest_venue < 0)
    if fresh.any():
        closest_new, _ = model.nearest(centres, venues[fresh], need_index=False)
        again |= closest_new <= prev.nearest_m * (1 + 1e-9)
    nearest_m = prev.nearest_m.copy()
    nearest_venue = np.searchsorted(ids, nearest_id).astype(np.int64)
    nearest_venue[nearest_id < 0] = -1
    if again.any():
        nearest_m[again], nearest_venue[again] = model.nearest(centres[again], venues, tree=tree)
    return CellAccess(nearest_m=nearest_m, nearest_venue=nearest_venue,
                      covered=nearest_m <= params.coverage_distance_m, e2sfca=score,
                      venue_ratio=ratio * params.e2sfca_per_population, pairs=int(venue_pairs.sum()), ratio=ratio,
                      venue_pairs=venue_pairs)


@dataclass(frozen=True)
class BarrioAccess:
    coverage: np.ndarray  # Σ_i P_ib C_i / P_b
    mean_nearest_m: np.ndarray  # Σ_i P_ib N_i / P_b (nan when there is no in-person instance at all)
    e2sfca: np.ndarray
    uncovered_population: np.ndarray  # Σ_i P_ib (1 − C_i)


def barrio_access(piece_cell: np.ndarray, piece_barrio: np.ndarray, piece_population: np.ndarray,
                  access: CellAccess, n_barrios: int) -> BarrioAccess:
    def weighted(values: np.ndarray) -> np.ndarray:
        return np.bincount(piece_barrio, weights=piece_population * values[piece_cell], minlength=n_barrios)

    population = np.bincount(piece_barrio, weights=piece_population, minlength=n_barrios)
    covered = access.covered.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        coverage = np.where(population > 0, weighted(covered) / population, 0.0)
        nearest = (weighted(access.nearest_m) / population if np.isfinite(access.nearest_m).all()
                   else np.full(n_barrios, np.nan))
        score = np.where(population > 0, weighted(access.e2sfca) / population, 0.0)
    return BarrioAccess(coverage=coverage, mean_nearest_m=nearest, e2sfca=score,
                        uncovered_population=weighted(1.0 - covered))
