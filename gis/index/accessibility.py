"""Accessibility per cell (method §3): nearest effective distance, coverage and E2SFCA with banded weights.

Distances go through a `DistanceModel`, so a street-network model can later replace the straight line × circuity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.spatial import cKDTree


class DistanceModel(Protocol):
    def nearest(self, origins: np.ndarray, venues: np.ndarray,
                limit: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
        """(distance, venue index) of the nearest venue to each origin; (inf, -1) when none is within `limit`."""

    def pairs_within(self, origins: np.ndarray, venues: np.ndarray, limit: float) -> tuple[np.ndarray, ...]:
        """(origin index, venue index, distance) of every pair at most `limit` effective metres apart."""


@dataclass(frozen=True)
class CircuityDistance:
    """Effective distance = straight-line metres in EPSG:22185 × circuity factor (a KD-tree finds the pairs)."""

    circuity: float

    def nearest(self, origins, venues, limit=np.inf):
        if len(venues) == 0 or len(origins) == 0:
            return np.full(len(origins), np.inf), np.full(len(origins), -1, dtype=np.int64)
        # The bound prunes the search; a hair of slack keeps venues exactly at the limit (checked again below).
        bound = limit / self.circuity * (1 + 1e-9) if np.isfinite(limit) else np.inf
        workers = -1 if len(origins) > 50_000 else 1  # threads pay off only for large queries
        distance, index = cKDTree(venues).query(origins, k=1, distance_upper_bound=bound, workers=workers)
        distance = distance * self.circuity
        missing = ~(distance <= limit)
        distance[missing] = np.inf
        index = index.astype(np.int64)
        index[missing] = -1
        return distance, index

    def pairs_within(self, origins, venues, limit):
        if len(venues) == 0 or len(origins) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
        # The ndarray form keeps zero distances (a venue exactly at a cell centre), which the sparse forms drop.
        pairs = cKDTree(origins).sparse_distance_matrix(cKDTree(venues), limit / self.circuity, output_type="ndarray")
        return pairs["i"].astype(np.int64), pairs["j"].astype(np.int64), pairs["v"] * self.circuity


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


def e2sfca(cell_population: np.ndarray, supply: np.ndarray, pairs: tuple[np.ndarray, ...],
           bands: tuple[tuple[float, float], ...], per_population: float) -> tuple[np.ndarray, np.ndarray]:
    """Luo & Qi (2009): R_j = S_j / Σ_k P_k W(d_kj), A_i = Σ_j R_j W(d_ij). Returns (A_i, R_j), both scaled."""
    cell, venue, distance = pairs
    weight = band_weights(distance, bands)
    demand = np.bincount(venue, weights=cell_population[cell] * weight, minlength=len(supply))
    ratio = np.divide(supply, demand, out=np.zeros(len(supply)), where=demand > 0)
    score = np.bincount(cell, weights=ratio[venue] * weight, minlength=len(cell_population))
    return score * per_population, ratio * per_population


def cell_access(centres: np.ndarray, cell_population: np.ndarray, venues: np.ndarray, supply: np.ndarray,
                params, model: DistanceModel | None = None) -> CellAccess:
    model = model or CircuityDistance(params.circuity_factor)
    nearest, nearest_venue = model.nearest(centres, venues)
    pairs = model.pairs_within(centres, venues, params.max_band_m)
    score, ratio = e2sfca(cell_population, supply, pairs, params.e2sfca_bands, params.e2sfca_per_population)
    return CellAccess(nearest_m=nearest, nearest_venue=nearest_venue, covered=nearest <= params.coverage_distance_m,
                      e2sfca=score, venue_ratio=ratio, pairs=len(pairs[0]))


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
