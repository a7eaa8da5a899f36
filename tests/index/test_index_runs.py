"""Index runs on the real PostGIS registry: grid, stored results, privacy, reproducibility, incremental changes."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg
import pytest
import shapely
from index_helpers import least_served_cell

from gis.index.compute import compute_index, run
from gis.index.grid import build_grid
from gis.index.inputs import read_inputs
from gis.index.parameters import load_parameters
from gis.index.runs import cells_of_run

CITY_POPULATION = 1_030_069
PILLARS = ("coverage", "accessibility", "quality", "diversity", "satisfaction")


@pytest.mark.parametrize("resolution", [8, 9])
def test_population_is_conserved_on_the_real_grid(template_db, resolution):
    with psycopg.connect(template_db) as conn:
        inputs = read_inputs(conn, load_parameters())
    grid = build_grid(inputs.barrios, resolution)
    pieces = grid.piece_population(inputs.barrios.population)
    per_barrio = np.bincount(grid.piece_barrio, weights=pieces, minlength=len(inputs.barrios.ids))
    assert np.abs(per_barrio / inputs.barrios.population - 1).max() < 1e-6
    assert abs(grid.cell_population(pieces).sum() / CITY_POPULATION - 1) < 1e-6
    # The cells cover every barrio whole: the pieces add up to the barrio's own area (so P_ib uses area(b)).
    areas = np.bincount(grid.piece_barrio, weights=grid.piece_area, minlength=len(inputs.barrios.ids))
    assert np.abs(areas / shapely.area(inputs.barrios.geoms_metric) - 1).max() < 1e-6
    assert len(np.unique(grid.cells)) == grid.size and (grid.piece_area > 0).all()


def test_a_run_is_stored_with_its_parameters_population_method_and_counts(indexed_db, query):
    (run_row,) = query(indexed_db, "SELECT method_version, parameters, population_method, input_counts, path "
                                   "FROM monitor.index_runs ORDER BY id DESC LIMIT 1")
    version, parameters, population_method, counts, path = run_row
    assert version == "2" and path == "full"
    assert parameters["h3_resolution"] == 9 and parameters["circuity_factor"] == 1.25
    assert parameters["coverage_distance_m"] == 800 and parameters["monte_carlo_seed"] == 20211
    assert "uniform estimate" in population_method
    (active,) = query(indexed_db, "SELECT count(*) FROM monitor.instances WHERE moderation = 'approved' "
                                  "AND deleted_at IS NULL AND status = 'active'")[0]
    assert counts["instances"] == active > 0 and counts["barrios"] == 50
    ((cells, population),) = query(indexed_db, "SELECT count(*), sum(population) FROM published.hexagons")
    assert cells == counts["cells"] and abs(population / CITY_POPULATION - 1) < 1e-6


def test_published_pillars_are_within_their_goalposts(indexed_db, query):
    columns = ", ".join(f"min({c}), max({c})" for c in PILLARS)
    for table in ("published.barrio_index", "published.district_index"):
        bounds = query(indexed_db, f"SELECT {columns}, min(composite), max(composite), count(*) FROM {table}")[0]
        *pillars, low, high, count = bounds
        assert count == (50 if "barrio" in table else 6)
        assert all(0 <= v <= 1 for v in pillars if v is not None)
        assert 0 <= low <= high <= 100
    (bad,) = query(indexed_db, "SELECT count(*) FROM published.hexagons WHERE coverage NOT IN (0, 1) "
                               "OR covered <> (nearest_m <= 800)")[0]
    assert bad == 0
    ((ordered,),) = query(indexed_db, "SELECT bool_and(rank_p05 <= rank_median AND rank_median <= rank_p95) "
                                      "FROM published.barrio_index")
    assert ordered


def test_satisfaction_is_never_published_from_fewer_than_five_answers(indexed_db, query):
    rows = query(indexed_db, """
        SELECT bi.barrio_id, bi.satisfaction_source, bi.satisfaction_responses,
               (SELECT count(*) FROM monitor.survey_responses r JOIN monitor.instances i ON i.id = r.instance_id
                WHERE r.kind = 'satisfaction' AND r.respondent_barrio_id = bi.barrio_id
                  AND i.moderation = 'approved' AND i.deleted_at IS NULL AND i.status = 'active') AS own
        FROM published.barrio_index bi""")
    sources = {source for _, source, _, _ in rows}
    assert "residents" in sources  # the demo has barrios with enough answers
    for barrio, source, responses, own in rows:
        if source == "residents":
            assert responses == own >= 5, barrio
        elif source == "offer":
            assert responses >= 5 and own < 5, barrio
        else:
            assert responses is None, barrio
    with psycopg.connect(indexed_db) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("UPDATE monitor.index_barrios SET satisfaction_responses = 3 "
                     "WHERE satisfaction_responses IS NOT NULL")


def barrio_results(url: str, query) -> list[tuple]:
    return query(url, "SELECT barrio_id, coverage, quality, diversity, satisfaction, composite, rank, rank_median, "
                      "rank_p05, rank_p95, uncovered_population FROM published.barrio_index ORDER BY barrio_id")


def test_the_same_inputs_give_identical_results_and_an_idle_incremental_run_writes_no_cell(fresh_db, query):
    first = run(fresh_db, trigger="test")
    before = barrio_results(fresh_db, query)
    second = run(fresh_db, trigger="test", full=False)
    assert second["path"] == "incremental" and second["cells_written"] == 0
    assert barrio_results(fresh_db, query) == before
    (cells,) = query(fresh_db, "SELECT count(*) FROM published.hexagons WHERE run_id = %s", (second["run_id"],))[0]
    assert cells == first["input_counts"]["cells"]
    with psycopg.connect(fresh_db) as conn:  # the first run's cells are still those of the second
        assert sorted(cells_of_run(conn, first["run_id"])) == sorted(cells_of_run(conn, second["run_id"]))
    with psycopg.connect(fresh_db) as conn:
        inputs = read_inputs(conn, load_parameters())
    a, b = compute_index(inputs, load_parameters()), compute_index(inputs, load_parameters())
    assert np.array_equal(a.interval.median, b.interval.median) and np.array_equal(a.interval.p95, b.interval.p95)


def insert_in_person(url: str, lon: float, lat: float, name: str = "Mesa de prueba del índice") -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "INSERT INTO monitor.instances (name, kind, promoter, themes, modality, venue, scope, source, moderation) "
            "VALUES (%s, 'roundtable', 'cso', '{ambiente}', 'in_person', ST_SetSRID(ST_Point(%s, %s), 4326), "
            "'barrio', 'test', 'approved') RETURNING id", (name, lon, lat)).fetchone()[0]


def test_adding_an_in_person_instance_never_lowers_coverage(fresh_db, query):
    run(fresh_db, trigger="test")
    cells_before = dict(query(fresh_db, "SELECT h3, covered FROM published.hexagons"))
    barrios_before = dict(query(fresh_db, "SELECT barrio_id, coverage FROM published.barrio_index"))
    h3_cell, lon, lat, barrio = least_served_cell(fresh_db, query)
    assert not cells_before[h3_cell]
    new_id = insert_in_person(fresh_db, lon, lat)
    record = run(fresh_db, trigger="test", full=False, changed_instance_id=new_id)
    assert record["path"] == "incremental" and 0 < record["cells_written"] < len(cells_before)
    cells_after = dict(query(fresh_db, "SELECT h3, covered FROM published.hexagons"))
    barrios_after = dict(query(fresh_db, "SELECT barrio_id, coverage FROM published.barrio_index"))
    assert all(cells_after[h] >= covered for h, covered in cells_before.items())
    assert all(barrios_after[b] >= coverage - 1e-12 for b, coverage in barrios_before.items())
    assert cells_after[h3_cell] and barrios_after[barrio] > barrios_before[barrio]
    offer = query(fresh_db, "SELECT distance_m FROM published.index_offer WHERE barrio_id = %s AND instance_id = %s",
                  (barrio, new_id))
    assert offer and offer[0][0] < 800


def test_removing_the_only_nearby_instance_uncovers_a_cell(fresh_db, query):
    run(fresh_db, trigger="test")
    # A covered, inhabited cell with exactly one in-person or hybrid venue within the coverage distance.
    # (a margin of 20 m either side of the threshold keeps PROJ rounding out of it).
    rows = query(fresh_db, """
        SELECT h.h3, min(i.id), count(i.id),
               min(ST_Distance(ST_SetSRID(ST_Point(g.centre_x, g.centre_y), 22185), ST_Transform(i.venue, 22185)))
        FROM published.hexagons h
        JOIN monitor.h3_cells g ON g.resolution = h.resolution AND g.h3 = h.h3
        JOIN monitor.instances i ON i.modality <> 'online' AND i.moderation = 'approved' AND i.deleted_at IS NULL
             AND i.status = 'active'
             AND ST_DWithin(ST_SetSRID(ST_Point(g.centre_x, g.centre_y), 22185), ST_Transform(i.venue, 22185),
                            820 / 1.25)
        WHERE h.covered AND h.population > 0
        GROUP BY h.h3 HAVING count(i.id) = 1 ORDER BY h.h3""")
    rows = [r for r in rows if r[3] * 1.25 < 780]
    assert rows, "the demo registry has cells served by a single instance"
    h3_cell, only, _, _ = rows[0]
    with psycopg.connect(fresh_db) as conn:
        conn.execute("UPDATE monitor.instances SET status = 'ended' WHERE id = %s", (only,))
    run(fresh_db, trigger="test", full=False, changed_instance_id=only)
    ((covered, nearest),) = query(fresh_db, "SELECT covered, nearest_m FROM published.hexagons WHERE h3 = %s",
                                  (h3_cell,))
    assert not covered and nearest > 800


def test_a_rebuilt_grid_publishes_every_cell_again(fresh_db, query):
    """When the stored grid is replaced (barrios changed), all cells are written anew, whatever a process remembers."""
    first = run(fresh_db, trigger="test")
    with psycopg.connect(fresh_db) as conn:
        for table in ("index_cells", "h3_pieces", "h3_cells", "h3_grids"):
            conn.execute(f"DELETE FROM monitor.{table} WHERE resolution = 9")  # noqa: S608 (fixed names)
    again = run(fresh_db, trigger="test")
    assert again["cells_written"] == first["input_counts"]["cells"]
    (cells,) = query(fresh_db, "SELECT count(*) FROM published.hexagons")[0]
    assert cells == first["input_counts"]["cells"]


def test_the_read_only_role_reads_every_published_index_view(indexed_db):
    """QGIS users connect as monitor_readonly: the index views must work for them, the tables behind must not."""
    parts = urlsplit(indexed_db)
    readonly = urlunsplit(parts._replace(netloc=f"monitor_readonly@{parts.hostname}:{parts.port}"))
    with psycopg.connect(readonly) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "monitor_readonly"
        counts = {view: conn.execute(f"SELECT count(*) FROM published.{view}").fetchone()[0]  # noqa: S608
                  for view in ("hexagons", "barrio_index", "district_index", "index_runs", "index_offer")}
    assert counts["barrio_index"] == 50 and counts["district_index"] == 6 and min(counts.values()) > 0
    with psycopg.connect(readonly) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT count(*) FROM monitor.index_barrios")
