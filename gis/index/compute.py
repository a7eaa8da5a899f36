"""One index run: read the inputs, compute (pure, in memory), store.

`compute_index` needs no database (tests feed it hand-made fixtures); `run` is what `monitor compute`, the API's
recompute listener and the benchmark call. The incremental path (a single changed instance, or any change that
leaves the barrios as they were) reuses the stored grid and writes only the cells whose values changed. When the
process also remembers the latest run's result (the listener does), it reads only the instances changed since
(gis/index/changes.py) and updates accessibility and the offer where they reach: exactly what a full run stores
(tests/index/test_index_incremental.py). Every run derives the standards of the changed instances only.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import psycopg

from gis.index import changes, runs
from gis.index.accessibility import (
    BarrioAccess,
    CellAccess,
    CircuityDistance,
    barrio_access,
    cell_access,
    update_cell_access,
)
from gis.index.composite import aggregate, pillar_points, ranks, weight_vector
from gis.index.grid import Grid, build_grid
from gis.index.inputs import Inputs, read_inputs, read_instances
from gis.index.parameters import IndexParameters, load_parameters
from gis.index.pillars import (
    Diversity,
    Offer,
    OfferPillars,
    Satisfaction,
    build_offer,
    diversity_pillar,
    inhabited_cells,
    merge_instances,
    offer_pillars,
    participant_diversity,
    satisfaction,
    update_offer,
)
from gis.index.uncertainty import RankInterval, rank_uncertainty

log = logging.getLogger("monitor.index")


@dataclass(frozen=True)
class IndexResult:
    params: IndexParameters
    inputs: Inputs
    grid: Grid
    piece_population: np.ndarray
    cell_population: np.ndarray
    cells: CellAccess
    access: BarrioAccess
    offer: Offer
    pillars: OfferPillars
    diversity: Diversity
    satisfaction: Satisfaction
    composite: np.ndarray  # per barrio, points 0–100
    rank: np.ndarray
    interval: RankInterval
    districts: pd.DataFrame  # one row per district, same columns as the barrio table where they apply
    inhabited: list[np.ndarray] | None = None  # per barrio, its inhabited cells (the offer's origins)

    def barrio_table(self) -> pd.DataFrame:
        b = self.inputs.barrios
        return pd.DataFrame({
            "barrio_id": b.ids,
            "population": np.bincount(self.grid.piece_barrio, weights=self.piece_population, minlength=len(b.ids)),
            "coverage": self.access.coverage,
            "mean_nearest_m": self.access.mean_nearest_m,
            "e2sfca": self.access.e2sfca,
            "uncovered_population": self.access.uncovered_population,
            "accessibility": self.access.coverage,
            "quality": self.pillars.quality,
            "diversity": self.diversity.value,
            "satisfaction": self.satisfaction.value,
            "satisfaction_score": self.satisfaction.score,
            "satisfaction_source": self.satisfaction.source,
            "satisfaction_responses": nullable_int(self.satisfaction.responses, self.satisfaction.responses > 0),
            "satisfaction_imputed": self.satisfaction.imputed,
            "follow_through": self.pillars.follow_through,
            "effective_themes": self.pillars.effective_themes,
            "effective_kinds": self.pillars.effective_kinds,
            "state_share": self.pillars.promoter_shares["state"],
            "cso_share": self.pillars.promoter_shares["cso"],
            "mixed_share": self.pillars.promoter_shares["mixed"],
            "offer_count": self.pillars.offer_count,
            "in_person_count": self.pillars.in_person_count,
            "theme_diversity": self.diversity.themes,
            "participant_diversity": self.diversity.participants,
            "participant_answers": nullable_int(self.diversity.participant_answers,
                                                ~np.isnan(self.diversity.participants)),
            "diversity_fallback": self.diversity.fallback,
            "composite": self.composite,
            "rank": self.rank,
            "rank_median": self.interval.median,
            "rank_p05": self.interval.p05,
            "rank_p95": self.interval.p95,
        })

    def cell_table(self) -> pd.DataFrame:
        venue_ids = self.inputs.instances.ids[self.inputs.instances.in_person]
        nearest = self.cells.nearest_venue
        nearest_id = venue_ids[nearest.clip(0)] if len(venue_ids) else np.zeros(len(nearest), np.int64)
        return pd.DataFrame({
            "h3": self.grid.cells,
            "resolution": self.grid.resolution,
            "population": self.cell_population,
            "nearest_m": np.where(np.isfinite(self.cells.nearest_m), self.cells.nearest_m, np.nan),
            "covered": self.cells.covered,
            "e2sfca": self.cells.e2sfca,
            "nearest_instance_id": nullable_int(nearest_id, nearest >= 0),
        })


def nullable_int(values: np.ndarray, known: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Integers with NULLs, so COPY writes `7` rather than `7.0` and `\\N` for unknown."""
    return pd.Series(np.asarray(values, dtype=np.int64), dtype="Int64").where(np.asarray(known, dtype=bool)).array


# ---------------------------------------------------------------- compute (no database)
def compute_index(inputs: Inputs, params: IndexParameters, grid: Grid | None = None,
                  previous: IndexResult | None = None, changed_ids: np.ndarray | None = None) -> IndexResult:
    """One run's results. With `previous` (a result on the same grid, populations and parameters) and the ids of
    the instances that changed since, cell accessibility and the offer are updated where those instances reach
    instead of recomputed for the city: the results are exactly the same."""
    barrios, inst = inputs.barrios, inputs.instances
    grid = grid or build_grid(barrios, params.h3_resolution)
    model = CircuityDistance(params.circuity_factor)
    piece_population = grid.piece_population(barrios.population)
    cell_population = grid.cell_population(piece_population)
    in_person = inst.in_person
    inhabited = (previous.inhabited if previous is not None and previous.inhabited is not None
                 else inhabited_cells(grid, piece_population, len(barrios.ids)))
    cells = offer = None
    if previous is not None and changed_ids is not None:
        was = previous.inputs.instances
        cells = update_cell_access(previous.cells, was.ids[was.in_person], was.venues[was.in_person],
                                   was.supply[was.in_person], grid.centres, cell_population, inst.ids[in_person],
                                   inst.venues[in_person], inst.supply[in_person], params, model)
        offer = update_offer(previous.offer, was.ids, changed_ids, grid, inhabited, barrios, inst, model,
                             params.offer_distance_m)
    if cells is None:
        cells = cell_access(grid.centres, cell_population, inst.venues[in_person], inst.supply[in_person], params,
                            model)
    access = barrio_access(grid.piece_cell, grid.piece_barrio, piece_population, cells, len(barrios.ids))
    if offer is None:
        offer = build_offer(grid, piece_population, barrios, inst, model, params.offer_distance_m, inhabited)
    matrix = offer.matrix(len(barrios.ids), len(inst.ids))
    pillars = offer_pillars(matrix, inst, inputs.criteria, inputs.themes, inputs.kinds)
    participants = (participant_diversity(matrix, inputs.participants, len(barrios.ids),
                                          params.participant_min_answers, params.participant_dimensions)
                    if params.uses_participants else None)
    diversity = diversity_pillar(pillars.diversity, participants, params.participant_weight)
    satisfied = satisfaction(barrios, inst, inputs.responses, matrix, params.satisfaction_min_responses)
    points = pillar_points({"accessibility": access.coverage, "quality": pillars.quality,
                            "diversity": diversity.value, "satisfaction": satisfied.value})
    composite = aggregate(points, weight_vector(params), params.aggregation == "geometric", params.geometric_floor)
    result = IndexResult(params=params, inputs=inputs, grid=grid, piece_population=piece_population,
                         cell_population=cell_population, cells=cells, access=access, offer=offer, pillars=pillars,
                         diversity=diversity, satisfaction=satisfied, composite=composite, rank=ranks(composite),
                         interval=rank_uncertainty(points, params), districts=pd.DataFrame(), inhabited=inhabited)
    return _with_districts(result)


def district_table(barrio_table: pd.DataFrame, districts: np.ndarray, params: IndexParameters) -> pd.DataFrame:
    """District values: population-weighted means of their barrios (accessibility sums come from the same cells)."""
    table = barrio_table.assign(district_code=districts)
    rows = []
    for code, group in table.groupby("district_code", sort=True):
        weights = group.population.to_numpy()
        row = {"district_code": code, "barrios": len(group), "population": weights.sum(),
               "uncovered_population": group.uncovered_population.sum(),
               "satisfaction_imputed_barrios": int(group.satisfaction_imputed.sum())}
        for column in ("coverage", "mean_nearest_m", "e2sfca", "accessibility", "quality", "diversity",
                       "satisfaction"):
            values = group[column].to_numpy(float)
            known = ~np.isnan(values) & (weights > 0)
            row[column] = np.average(values[known], weights=weights[known]) if known.any() else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    points = pillar_points({p: out[p].to_numpy() for p in ("accessibility", "quality", "diversity", "satisfaction")})
    out["composite"] = aggregate(points, weight_vector(params), params.aggregation == "geometric",
                                 params.geometric_floor)
    out["rank"] = ranks(out.composite.to_numpy())
    interval = rank_uncertainty(points, params)
    out["rank_median"], out["rank_p05"], out["rank_p95"] = interval.median, interval.p05, interval.p95
    return out


def _with_districts(result: IndexResult) -> IndexResult:
    districts = district_table(result.barrio_table(), result.inputs.barrios.districts, result.params)
    object.__setattr__(result, "districts", districts)
    return result


# ---------------------------------------------------------------- one stored run
def input_counts(result: IndexResult) -> dict:
    inst = result.inputs.instances
    return {
        "barrios": len(result.inputs.barrios.ids),
        "districts": len(np.unique(result.inputs.barrios.districts)),
        "instances": len(inst.ids),
        "in_person_or_hybrid": int(inst.in_person.sum()),
        "online": int((~inst.in_person).sum()),
        "satisfaction_responses": int(result.inputs.responses.count.sum()),
        "standards": result.inputs.criteria,
        "themes": len(result.inputs.themes),
        "cells": result.grid.size,
        "cell_pieces": len(result.grid.piece_cell),
    }


def summary(result: IndexResult) -> dict:
    population = result.cell_population.sum()
    uncovered = float(result.access.uncovered_population.sum())
    return {
        "population": float(population),
        "coverage": float(1 - uncovered / population) if population else 0.0,
        "uncovered_population": uncovered,
        "mean_composite": float(np.nanmean(result.composite)) if len(result.composite) else None,
        "distance_pairs": result.cells.pairs,
        "offer_rows": len(result.offer.barrio),
    }


# A long-running process (the API's recompute listener) keeps the grid and the cell results of its latest run,
# so its incremental runs read neither back from the database. Keyed by (database URL, resolution).
_MEMORY: dict[tuple[str, int], dict] = {}


def grid_for(conn: psycopg.Connection, url: str, inputs: Inputs, params: IndexParameters,
             full: bool) -> tuple[Grid, bool]:
    """(grid, reused): the stored grid when the barrios are unchanged and a full rebuild is not asked for."""
    resolution = params.h3_resolution
    if not full and runs.stored_grid_signature(conn, resolution) == inputs.grid_signature:
        memory = _MEMORY.get((url, resolution))
        if memory and memory["signature"] == inputs.grid_signature:
            return memory["grid"], True
        stored = runs.load_grid(conn, resolution, inputs.barrios.ids)
        if stored is not None:
            return stored, True
    return build_grid(inputs.barrios, resolution), False


def current_cells(conn: psycopg.Connection, url: str, resolution: int) -> pd.DataFrame:
    """The cell results valid now: from memory when this process wrote the latest run, else from the database."""
    memory = _MEMORY.get((url, resolution))
    if memory and conn.execute("SELECT monitor.latest_index_run()").fetchone()[0] == memory["run_id"]:
        return memory["cells"]
    return runs.current_cells(conn, resolution)


# Beyond this many changed instances (a bulk import), a run reads and derives them all, set-based.
MAX_CHANGED_INSTANCES = 5_000
ACTIVE_IDS_SQL = ("SELECT id FROM monitor.instances "
                  "WHERE moderation = 'approved' AND deleted_at IS NULL AND status = 'active'")


def reusable(memory: dict | None, latest: tuple | None, params: IndexParameters) -> IndexResult | None:
    """The result this process remembers, when it is the latest run's and was computed with these parameters."""
    if memory is None or latest is None or memory["run_id"] != latest[0] or memory.get("result") is None:
        return None
    return memory["result"] if memory["result"].params.as_record() == params.as_record() else None


def run(url: str, params: IndexParameters | None = None, trigger: str = "cli", full: bool = True,
        changed_instance_id: int | None = None) -> dict:
    """Compute and store one run; returns the run's record (id, timings, counts, summary).

    Incremental (`full=False`, the API's recompute listener): when this process made the latest run and remembers
    its result, only the instances changed since (gis/index/changes.py) are read again, and accessibility and the
    offer are updated where they reach. Every run derives the standards of the changed instances only."""
    params = params or load_parameters()
    started = time.perf_counter()
    timings = {}
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (runs.LOCK_KEY,))
        # "Today" (commitments due, agenda ahead) is Rosario's, as in the API, whatever the server's time zone.
        conn.execute("SET LOCAL timezone = 'America/Argentina/Cordoba'")
        mark_xmin = changes.snapshot_xmin(conn)
        latest = runs.latest_run(conn)
        found = changes.changed_instances(conn, latest[0] if latest else None)
        changed = found.ids
        # The standards the registry itself shows (0014_evaluation.sql), brought up to date before they are read:
        # those of the instances changed since the latest run (all of them when that is unknown).
        many = changed is None or len(changed) > MAX_CHANGED_INSTANCES  # then the set-based statements of all
        derived = conn.execute("SELECT monitor.derive_assessments(%s::integer[])",
                               (None if many else changed.tolist(),)).fetchone()[0]
        timings["derive_ms"] = _ms(started)
        memory = _MEMORY.get((url, params.h3_resolution))
        previous = None if full or many else reusable(memory, latest, params)
        instances = None
        if previous is not None:
            fresh = read_instances(conn, params, changed.tolist())
            instances = merge_instances(previous.inputs.instances, changed, fresh)
            # An instance deleted outright leaves no row to notice: it is found as one too many.
            if found.active != len(instances.ids):
                active = np.array([r[0] for r in conn.execute(ACTIVE_IDS_SQL)], dtype=np.int64)
                changed = np.union1d(changed, np.setdiff1d(instances.ids, active))
                instances = merge_instances(previous.inputs.instances, changed, fresh)
        inputs = read_inputs(conn, params, instances)
        timings["read_ms"] = _ms(started) - timings["derive_ms"]
        grid, reused = grid_for(conn, url, inputs, params, full)
        if previous is not None and not (reused and grid is previous.grid
                                         and np.array_equal(inputs.barrios.population,
                                                            previous.inputs.barrios.population)):
            previous = None  # another grid or other populations: the city again
        timings["grid_ms"] = _ms(started) - timings["derive_ms"] - timings["read_ms"]
        mark = time.perf_counter()
        result = compute_index(inputs, params, grid, previous, changed if previous is not None else None)
        timings["compute_ms"] = _ms(mark)
        mark = time.perf_counter()
        path = "incremental" if reused else "full"
        regridded = not reused and runs.stored_grid_signature(conn, grid.resolution) != inputs.grid_signature
        if regridded:  # a new grid starts without cell results (and this process's memory of them is void)
            runs.store_grid(conn, grid, inputs.barrios.ids, inputs.grid_signature)
        current = runs.current_cells(conn, grid.resolution) if regridded else current_cells(conn, url, grid.resolution)
        record = {"method_version": params.method_version, "parameters": params.as_record(),
                  "population_method": inputs.population_method,
                  "input_counts": {**input_counts(result), "assessments_derived": derived},
                  "trigger": trigger, "path": path, "changed_instance_id": changed_instance_id,
                  "summary": summary(result)}
        run_id = runs.insert_run(conn, record, mark_xmin)
        cells = result.cell_table()
        cells_written = runs.store_cells(conn, run_id, cells, current)
        runs.copy_frame(conn, "monitor.index_barrios", result.barrio_table().assign(run_id=run_id))
        runs.copy_frame(conn, "monitor.index_districts", result.districts.assign(run_id=run_id))
        offers_written = runs.store_offer(conn, run_id, inputs.barrios.ids, replace(
            result.offer, instance=inputs.instances.ids[result.offer.instance]))
        runs.prune(conn, params.keep_cell_runs)
        timings["store_ms"] = _ms(mark)
        duration = _ms(started)
        runs.finish_run(conn, run_id, duration)
    _MEMORY[(url, grid.resolution)] = {"signature": inputs.grid_signature, "grid": grid, "run_id": run_id,
                                       "cells": cells, "result": result}
    log.info("index run %s (%s, %s): %.0f ms", run_id, path, trigger, duration)
    return {"run_id": run_id, "path": path, "duration_ms": round(duration, 1), "cells_written": cells_written,
            "offers_written": offers_written, "instances_read": None if previous is None else len(changed),
            "timings_ms": {k: round(v, 1) for k, v in timings.items()}, **record}


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000
