"""Editions of the index: an index run frozen under a name as an official edition, a barrio's values over the
editions, and the difference between two editions per barrio.

An edition copies what its run published (0015_editions.sql): the run's parameters, method version, population
method, input counts and summary, and the values of every barrio and district with their names at the time. The
tables refuse any change afterwards. `gis/index/runs.py` `prune` keeps the cell results and offer of edition runs.
"""

from __future__ import annotations

import re

import psycopg
from psycopg.rows import dict_row

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
PILLARS = ("accessibility", "quality", "diversity", "satisfaction")
# What history and differences report per barrio (the columns of monitor.index_edition_barrios).
VALUES = ("population", "uncovered_population", *PILLARS, "composite", "rank", "rank_p05", "rank_p95")
EDITION_COLUMNS = ("e.id, e.name, e.run_id, e.published_at, e.note, e.computed_at, e.method_version, e.parameters, "
                   "e.population_method, e.input_counts, e.summary")


class EditionError(ValueError):
    """A publication or a comparison that cannot be made; `conflict` when the name is taken."""

    def __init__(self, message: str, conflict: bool = False):
        super().__init__(message)
        self.conflict = conflict


def publish(conn: psycopg.Connection, name: str, note: str | None = None, run_id: int | None = None) -> dict:
    """Freeze `run_id` (default: the latest run) as edition `name`, in the caller's transaction."""
    if not NAME.match(name or ""):
        raise EditionError("an edition's name is 1-63 lower-case letters, digits, '.', '_' or '-', starting with a "
                           f"letter or digit (e.g. 2026-t4); {name!r} is not")
    cur = conn.cursor(row_factory=dict_row)
    if run_id is None:
        run = cur.execute("SELECT * FROM monitor.index_runs ORDER BY id DESC LIMIT 1").fetchone()
        if run is None:
            raise EditionError("there is no index run to publish yet: run `monitor compute` first")
    else:
        run = cur.execute("SELECT * FROM monitor.index_runs WHERE id = %s", (run_id,)).fetchone()
        if run is None:
            raise EditionError(f"there is no index run {run_id}")
    if cur.execute("SELECT 1 FROM monitor.index_editions WHERE name = %s", (name,)).fetchone():
        raise EditionError(f"edition {name!r} exists already: editions are immutable, choose another name",
                           conflict=True)
    edition = cur.execute(
        """INSERT INTO monitor.index_editions (name, run_id, note, computed_at, method_version, parameters,
                                               population_method, input_counts, summary)
           SELECT %s, id, %s, computed_at, method_version, parameters, population_method, input_counts, summary
           FROM monitor.index_runs WHERE id = %s
           RETURNING id, name, run_id, published_at""", (name, note, run["id"])).fetchone()
    barrios = cur.execute(
        """INSERT INTO monitor.index_edition_barrios (edition_id, barrio_id, name, district, population,
               uncovered_population, accessibility, quality, diversity, satisfaction, composite, rank, rank_p05,
               rank_p95, results)
           SELECT %(edition)s, r.barrio_id, b.name, b.district_code, r.population, r.uncovered_population,
                  r.accessibility, r.quality, r.diversity, r.satisfaction, r.composite, r.rank, r.rank_p05,
                  r.rank_p95, to_jsonb(r) - 'run_id' - 'barrio_id'
           FROM monitor.index_barrios r
           JOIN monitor.barrios b ON b.mslink = r.barrio_id
           WHERE r.run_id = %(run)s""", {"edition": edition["id"], "run": run["id"]}).rowcount
    districts = cur.execute(
        """INSERT INTO monitor.index_edition_districts (edition_id, code, name, population, accessibility, quality,
               diversity, satisfaction, composite, rank, results)
           SELECT %(edition)s, r.district_code, d.name, r.population, r.accessibility, r.quality, r.diversity,
                  r.satisfaction, r.composite, r.rank, to_jsonb(r) - 'run_id' - 'district_code'
           FROM monitor.index_districts r
           LEFT JOIN monitor.districts d ON d.code = r.district_code
           WHERE r.run_id = %(run)s""", {"edition": edition["id"], "run": run["id"]}).rowcount
    return {**edition, "method_version": run["method_version"], "computed_at": run["computed_at"],
            "barrios": barrios, "districts": districts}


def editions(conn) -> list[dict]:
    """Every edition, oldest first, with how many barrios it holds."""
    return conn.cursor(row_factory=dict_row).execute(
        f"SELECT {EDITION_COLUMNS}, (SELECT count(*) FROM monitor.index_edition_barrios v "
        "WHERE v.edition_id = e.id)::integer AS barrios FROM monitor.index_editions e "
        "ORDER BY e.published_at, e.id").fetchall()
