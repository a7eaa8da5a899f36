"""The composite index (method §7): pillars on fixed 0–1 goalposts × 100, weighted, aggregated, ranked."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from gis.index.parameters import PILLARS


def pillar_points(pillars: dict[str, np.ndarray]) -> np.ndarray:
    """(units, 4) matrix of pillars in points (0–100), columns in PILLARS order; nan = not available."""
    return np.column_stack([np.asarray(pillars[p], dtype=float) for p in PILLARS]) * 100.0


def aggregate(points: np.ndarray, weights: np.ndarray, geometric: np.ndarray | bool, floor: float) -> np.ndarray:
    """Composite of each unit for one or many weight vectors.

    points (n, 4); weights (4,) or (draws, 4); geometric a bool or (draws,) booleans. Returns (n,) or (draws, n).
    A missing pillar drops out and the unit's other weights are rescaled to sum to 1.
    """
    single = np.ndim(weights) == 1
    weights = np.atleast_2d(weights)
    geometric = np.broadcast_to(np.asarray(geometric, dtype=bool), (len(weights),))
    known = ~np.isnan(points)
    unit_weights = weights[:, None, :] * known[None, :, :]  # (draws, n, 4)
    total = unit_weights.sum(axis=2, keepdims=True)
    unit_weights = np.divide(unit_weights, total, out=np.zeros_like(unit_weights), where=total > 0)
    filled = np.where(known, points, 0.0)
    arithmetic = (unit_weights * filled).sum(axis=2)
    logs = np.log(np.maximum(np.where(known, points, floor), floor))
    geometric_mean = np.exp((unit_weights * logs).sum(axis=2))
    result = np.where(geometric[:, None], geometric_mean, arithmetic)
    result[:, ~known.any(axis=1)] = np.nan
    return result[0] if single else result


def ranks(composite: np.ndarray) -> np.ndarray:
    """Rank 1 = highest composite along the last axis; ties share the best rank."""
    return rankdata(-np.nan_to_num(composite, nan=-np.inf), method="min", axis=-1).astype(np.int64)


def weight_vector(params) -> np.ndarray:
    return np.array([params.weights[p] for p in PILLARS])
