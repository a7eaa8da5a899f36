"""Each formula of the method on a small fixture whose answer is worked out by hand below (no database)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from access import Access, weights

from gis.index.accessibility import CircuityDistance, band_weights, barrio_access, cell_access, e2sfca
from gis.index.composite import aggregate, pillar_points, ranks
from gis.index.grid import Barrios, Grid
from gis.index.parameters import IndexParameters
from gis.index.pillars import Instances, Responses, build_offer, offer_pillars, satisfaction
from gis.index.uncertainty import rank_uncertainty

PARAMS = IndexParameters()  # the method's defaults: c = 1.25, 800 m, bands 400/800/1200


def hand_grid() -> Grid:
    """Three cells on a line, 1 km apart. Barrio 0 = half of cell 0 + half of cell 1; barrio 1 = the other half
    of cell 1 (100 m²) + cell 2 (200 m²). The areas are what matter for the areal weighting."""
    return Grid(resolution=9, cells=np.array(["c0", "c1", "c2"]),
                centres=np.array([[0.0, 0.0], [1000.0, 0.0], [2000.0, 0.0]]),
                piece_cell=np.array([0, 1, 1, 2]), piece_barrio=np.array([0, 0, 1, 1]),
                piece_area=np.array([100.0, 100.0, 100.0, 200.0]))


def hand_barrios() -> Barrios:
    return Barrios(ids=np.array([11, 22]), names=["Once", "Veintidós"], districts=np.array(["D1", "D2"], dtype=object),
                   population=np.array([1000.0, 3000.0]), geoms_wgs84=np.array([None, None]),
                   geoms_metric=np.array([None, None]))


def hand_instances() -> Instances:
    """j0: in person at x = 320 m, barrio scope (barrio 11), themes a+b, 6 of 8 standards, 2 of 4 due commitments
    fulfilled; j1: online, city scope, theme a, 8 of 8; j2: hybrid far away (x = 5 km), district D2, theme c, 2 of 8.
    """
    return Instances(
        ids=np.array([100, 101, 102]), kinds=np.array(["vecinal", "digital_process", "roundtable"], dtype=object),
        promoters=np.array(["state", "state", "cso"], dtype=object), themes=[["a", "b"], ["a"], ["c"]],
        modality=np.array(["in_person", "online", "hybrid"], dtype=object),
        scope=np.array(["barrio", "city", "district"], dtype=object), scope_barrio=np.array([11, -1, -1]),
        scope_district=np.array(["", "", "D2"], dtype=object), district=np.array(["D1", "", "D2"], dtype=object),
        venues=np.array([[320.0, 0.0], [np.nan, np.nan], [5000.0, 0.0]]), supply=np.ones(3),
        standards_met=np.array([6.0, 8.0, 2.0]), commitments_due=np.array([4.0, 0.0, 1.0]),
        commitments_fulfilled=np.array([2.0, 0.0, 1.0]))


def test_areal_weighting_and_cell_population_by_hand():
    grid = hand_grid()
    pieces = grid.piece_population(np.array([1000.0, 3000.0]))
    # P_ib = P_b · area(cell ∩ b) / area(b): barrio 0 (200 m²): 1000·100/200 twice;
    # barrio 1 (300 m²): 3000·100/300 and 3000·200/300.
    assert pieces == pytest.approx([500.0, 500.0, 1000.0, 2000.0])
    assert grid.cell_population(pieces) == pytest.approx([500.0, 1500.0, 2000.0])
    assert list(grid.majority_barrio()) == [0, 0, 1]  # cell 1 is split 100/100: the tie goes to the first piece


def test_banded_weights_include_each_upper_bound():
    d = np.array([0.0, 400.0, 400.01, 800.0, 1000.0, 1200.0, 1200.01])
    assert list(band_weights(d, PARAMS.e2sfca_bands)) == [1.0, 1.0, 0.68, 0.68, 0.22, 0.22, 0.0]


def test_nearest_coverage_and_e2sfca_by_hand():
    grid = hand_grid()
    cell_pop = np.array([500.0, 1500.0, 2000.0])
    access = cell_access(grid.centres, cell_pop, np.array([[320.0, 0.0]]), np.ones(1), PARAMS)
    # Effective distances: 320·1.25 = 400, 680·1.25 = 850, 1680·1.25 = 2100.
    assert access.nearest_m == pytest.approx([400.0, 850.0, 2100.0])
    assert list(access.covered) == [True, False, False]
    # R = 1 / (500·1.0 + 1500·0.22 + 2000·0) = 1/830; A = R·W per 10,000 people.
    assert access.venue_ratio == pytest.approx([10_000 / 830])
    assert access.e2sfca == pytest.approx([10_000 / 830, 0.22 * 10_000 / 830, 0.0])

    pieces = grid.piece_population(np.array([1000.0, 3000.0]))
    barrio = barrio_access(grid.piece_cell, grid.piece_barrio, pieces, access, 2)
    assert barrio.coverage == pytest.approx([500 / 1000, 0.0])
    assert barrio.uncovered_population == pytest.approx([500.0, 3000.0])
    assert barrio.mean_nearest_m == pytest.approx([(500 * 400 + 500 * 850) / 1000, (1000 * 850 + 2000 * 2100) / 3000])
    assert barrio.e2sfca == pytest.approx([(500 * 10_000 / 830 + 500 * 2200 / 830) / 1000, 1000 * 2200 / 830 / 3000])


def test_no_in_person_instance_leaves_distance_undefined_and_nobody_covered():
    grid = hand_grid()
    access = cell_access(grid.centres, np.ones(3), np.empty((0, 2)), np.empty(0), PARAMS)
    assert np.isinf(access.nearest_m).all() and not access.covered.any() and (access.e2sfca == 0).all()
    barrio = barrio_access(grid.piece_cell, grid.piece_barrio, grid.piece_population(np.array([1.0, 1.0])), access, 2)
    assert np.isnan(barrio.mean_nearest_m).all() and (barrio.coverage == 0).all()


def test_e2sfca_matches_pysal_access():
    """The same supply, demand and distances through PySAL `access` (enhanced 2SFCA with the same step weights)."""
    rng = np.random.default_rng(7)
    centres = rng.uniform(0, 3000, size=(60, 2))
    population = rng.uniform(0, 500, size=60)
    venues = rng.uniform(0, 3000, size=(8, 2))
    supply = rng.integers(1, 4, size=8).astype(float)
    model = CircuityDistance(PARAMS.circuity_factor)
    pairs = model.pairs_within(centres, venues, PARAMS.max_band_m)
    ours, _ = e2sfca(population, supply, pairs, PARAMS.e2sfca_bands, 1.0)

    cost = pd.DataFrame({"origin": pairs[0], "dest": pairs[1] + 1000, "cost": pairs[2]})
    demand = pd.DataFrame({"geoid": np.arange(60), "pop": population})
    supply_df = pd.DataFrame({"geoid": np.arange(8) + 1000, "supply": supply})
    theirs = Access(demand_df=demand, demand_index="geoid", demand_value="pop", supply_df=supply_df,
                    supply_index="geoid", supply_value="supply", cost_df=cost, cost_origin="origin",
                    cost_dest="dest", cost_name="cost")
    step = weights.step_fn({limit: weight for limit, weight in PARAMS.e2sfca_bands})
    scores = theirs.enhanced_two_stage_fca(weight_fn=step, max_cost=PARAMS.max_band_m, normalize=False)
    theirs_series = scores.iloc[:, 0].reindex(np.arange(60)).fillna(0.0)
    assert (ours > 0).sum() > 20  # the fixture exercises the formula
    assert ours == pytest.approx(theirs_series.to_numpy(), rel=1e-9, abs=1e-12)


def test_offer_quality_diversity_by_hand():
    grid, barrios, inst = hand_grid(), hand_barrios(), hand_instances()
    pieces = grid.piece_population(barrios.population)
    offer = build_offer(grid, pieces, barrios, inst, CircuityDistance(1.25), PARAMS.offer_distance_m)
    members = {(int(b), int(j)) for b, j in zip(offer.barrio, offer.instance, strict=True)}
    # Barrio 0: j0 by scope (and 400 m away), j1 by city scope. Barrio 1: j1 (city), j2 (its district), and j0
    # because its inhabited cell 1 is 850 m ≤ 1,200 m from j0.
    assert members == {(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)}
    distance = {(int(b), int(j)): d for b, j, d in zip(offer.barrio, offer.instance, offer.distance_m, strict=True)}
    assert distance[(0, 0)] == pytest.approx(400.0) and distance[(1, 0)] == pytest.approx(850.0)
    assert math.isnan(distance[(0, 1)])  # online
    assert distance[(1, 2)] == pytest.approx((5000 - 2000) * 1.25)  # far, in the offer by scope only

    matrix = offer.matrix(2, 3)
    pillars = offer_pillars(matrix, inst, n_criteria=8, themes=["a", "b", "c", "d"], kinds=["vecinal", "x"])
    assert pillars.quality == pytest.approx([(6 / 8 + 8 / 8) / 2, (6 / 8 + 8 / 8 + 2 / 8) / 3])
    # Barrio 0: themes a = 0.5 + 1, b = 0.5 → p = (3/4, 1/4); barrio 1 adds c = 1 → p = (1.5, 0.5, 1) / 3.
    h0 = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    h1 = -(0.5 * math.log(0.5) + (1 / 6) * math.log(1 / 6) + (1 / 3) * math.log(1 / 3))
    assert pillars.effective_themes == pytest.approx([math.exp(h0), math.exp(h1)])
    assert pillars.diversity == pytest.approx([math.exp(h0) / 4, math.exp(h1) / 4])
    # Follow-through (reported only): j0 2/4, j2 1/1.
    assert pillars.follow_through == pytest.approx([0.5, (0.5 + 1.0) / 2])
    assert pillars.promoter_shares["state"] == pytest.approx([1.0, 2 / 3])
    assert list(pillars.offer_count) == [2, 3] and list(pillars.in_person_count) == [1, 2]


def test_empty_offer_scores_zero():
    inst = hand_instances()
    from scipy import sparse

    empty = sparse.csr_matrix((1, 3))
    pillars = offer_pillars(empty, inst, 8, ["a", "b", "c", "d"], ["vecinal"])
    assert pillars.quality[0] == 0 and pillars.diversity[0] == 0 and pillars.offer_count[0] == 0


def three_barrios() -> Barrios:
    return Barrios(ids=np.array([1, 2, 3]), names=["A", "B", "C"], districts=np.array(["N", "N", "S"], dtype=object),
                   population=np.ones(3), geoms_wgs84=np.array([None] * 3), geoms_metric=np.array([None] * 3))


def test_satisfaction_residents_then_offer_then_district_never_below_five():
    from scipy import sparse

    barrios, inst = three_barrios(), hand_instances()
    # Barrio A: 5 residents' answers about j0 totalling 20 (mean 4). Barrio B: 4 residents' answers about j1
    # totalling 8, too few; its offer {j1} has those same 4 answers only: too few again → imputed from district N,
    # whose residents gave 9 answers totalling 28. Barrio C (district S): nobody answered; its offer {j2} has 3
    # anonymous answers (too few); district S has only those 3 → imputed from the whole city (12 answers, 31).
    responses = Responses(instance=np.array([0, 1, 2]), barrio=np.array([0, 1, -1]),
                          count=np.array([5.0, 4.0, 3.0]), total=np.array([20.0, 8.0, 3.0]))
    offer = sparse.csr_matrix(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=float))
    result = satisfaction(barrios, inst, responses, offer, k=5)
    assert list(result.source) == ["residents", "district", "city"]
    assert result.score == pytest.approx([4.0, 28 / 9, 31 / 12])
    assert result.value == pytest.approx([(4.0 - 1) / 4, (28 / 9 - 1) / 4, (31 / 12 - 1) / 4])
    assert list(result.imputed) == [False, True, True]
    assert list(result.responses) == [5, 0, 0]  # imputed values publish no count; B's 4 answers never appear

    # With an offer reaching j0, barrio B gets the offer's 9 answers (j0: 5, j1: 4) rather than its own 4.
    offer_b = sparse.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1]], dtype=float))
    result = satisfaction(barrios, inst, responses, offer_b, k=5)
    assert result.source[1] == "offer" and result.score[1] == pytest.approx(28 / 9) and result.responses[1] == 9


def test_satisfaction_missing_everywhere_when_too_few_answers_in_the_whole_city():
    from scipy import sparse

    responses = Responses(instance=np.array([0]), barrio=np.array([0]), count=np.array([4.0]), total=np.array([16.0]))
    result = satisfaction(three_barrios(), hand_instances(), responses, sparse.csr_matrix(np.eye(3)), k=5)
    assert list(result.source) == ["missing"] * 3 and np.isnan(result.value).all()


def test_composite_arithmetic_and_geometric_by_hand():
    points = pillar_points({"accessibility": np.array([0.5, 0.0]), "quality": np.array([0.875, 1.0]),
                            "diversity": np.array([0.25, 1.0]), "satisfaction": np.array([0.75, np.nan])})
    equal = np.full(4, 0.25)
    arithmetic = aggregate(points, equal, False, 1.0)
    assert arithmetic == pytest.approx([(50 + 87.5 + 25 + 75) / 4, (0 + 100 + 100) / 3])  # missing pillar drops out
    geometric = aggregate(points, equal, True, 1.0)
    assert geometric[0] == pytest.approx((50 * 87.5 * 25 * 75) ** 0.25)
    assert geometric[1] == pytest.approx((1.0 * 100 * 100) ** (1 / 3))  # 0 points count as the 1-point floor
    assert list(ranks(np.array([40.0, 70.0, 40.0, 90.0]))) == [3, 2, 3, 1]


def test_monte_carlo_is_seeded_and_brackets_the_ranks():
    rng = np.random.default_rng(3)
    points = rng.uniform(0, 100, size=(20, 4))
    first, second = rank_uncertainty(points, PARAMS), rank_uncertainty(points, PARAMS)
    for a, b in ((first.median, second.median), (first.p05, second.p05), (first.p95, second.p95)):
        assert np.array_equal(a, b)
    assert (first.p05 <= first.median).all() and (first.median <= first.p95).all()
    assert first.p05.min() >= 1 and first.p95.max() <= 20
    # A unit best on every pillar is ranked first in every draw.
    points[0] = 100
    assert rank_uncertainty(points, PARAMS).p95[0] == 1


def test_adding_an_in_person_instance_never_lowers_coverage():
    rng = np.random.default_rng(11)
    centres = rng.uniform(0, 5000, size=(400, 2))
    pop = rng.uniform(0, 100, size=400)
    venues = rng.uniform(0, 5000, size=(5, 2))
    grid = Grid(9, np.array([f"c{i}" for i in range(400)]), centres, np.arange(400), np.arange(400) % 7,
                np.ones(400))
    pieces = grid.piece_population(np.full(7, 1000.0))
    before = cell_access(centres, pop, venues, np.ones(5), PARAMS)
    for extra in rng.uniform(0, 5000, size=(10, 2)):
        after = cell_access(centres, pop, np.vstack([venues, extra]), np.ones(6), PARAMS)
        assert (after.covered >= before.covered).all()
        b0 = barrio_access(grid.piece_cell, grid.piece_barrio, pieces, before, 7).coverage
        b1 = barrio_access(grid.piece_cell, grid.piece_barrio, pieces, after, 7).coverage
        assert (b1 >= b0 - 1e-12).all()


def test_removing_the_only_nearby_instance_uncovers_the_cell():
    grid = hand_grid()
    with_it = cell_access(grid.centres, np.ones(3), np.array([[320.0, 0.0], [9000.0, 0.0]]), np.ones(2), PARAMS)
    without = cell_access(grid.centres, np.ones(3), np.array([[9000.0, 0.0]]), np.ones(1), PARAMS)
    assert with_it.covered[0] and not without.covered[0]


def test_parameters_come_from_the_environment_and_are_validated(monkeypatch):
    monkeypatch.setenv("MONITOR_INDEX_H3_RESOLUTION", "10")
    monkeypatch.setenv("MONITOR_INDEX_CIRCUITY_FACTOR", "1.4")
    params = IndexParameters()
    assert params.h3_resolution == 10 and params.circuity_factor == 1.4
    assert params.as_record()["h3_resolution"] == 10 and params.as_record()["method_version"] == "2"
    monkeypatch.setenv("MONITOR_INDEX_H3_RESOLUTION", "12")
    with pytest.raises(ValueError):
        IndexParameters()
    monkeypatch.delenv("MONITOR_INDEX_H3_RESOLUTION")
    with pytest.raises(ValueError):
        IndexParameters(weights={"accessibility": 1.0})
    with pytest.raises(ValueError):
        IndexParameters(e2sfca_bands=((800.0, 1.0), (400.0, 0.5)))
    assert IndexParameters(weights={"accessibility": 2, "quality": 1, "diversity": 1, "satisfaction": 0}).weights[
        "accessibility"] == pytest.approx(0.5)
