"""Monte Carlo rank uncertainty (method §7): Dirichlet weights around the chosen ones, random aggregation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gis.index.composite import aggregate, ranks, weight_vector


@dataclass(frozen=True)
class RankInterval:
    median: np.ndarray
    p05: np.ndarray
    p95: np.ndarray


def draw_weights(params, rng: np.random.Generator) -> np.ndarray:
    """(draws, 4) weights ~ Dirichlet(concentration · w); a pillar weighted 0 stays at 0."""
    chosen = weight_vector(params)
    active = chosen > 0
    draws = np.zeros((params.monte_carlo_draws, len(chosen)))
    draws[:, active] = rng.dirichlet(params.dirichlet_concentration * chosen[active], size=params.monte_carlo_draws)
    return draws


def rank_uncertainty(points: np.ndarray, params) -> RankInterval:
    """Median rank and 5–95 % rank interval of each unit over the draws; the seed makes it reproducible."""
    rng = np.random.default_rng(params.monte_carlo_seed)
    weights = draw_weights(params, rng)
    geometric = rng.random(params.monte_carlo_draws) < 0.5
    drawn_ranks = ranks(aggregate(points, weights, geometric, params.geometric_floor))
    p05, median, p95 = np.percentile(drawn_ranks, [5, 50, 95], axis=0)
    return RankInterval(median=median, p05=p05, p95=p95)
