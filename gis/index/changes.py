"""What changed since the latest index run: the instances whose inputs or derived standards may differ.

Each run records `snapshot_xmin` (0020_index_incremental.sql): the oldest transaction still running when it started
reading. A row whose xmin is that transaction or a later one may be unseen by that run, so the next run takes the
instances of such rows as changed (rows the run did see are taken again too: harmless). `age(xmin)` counts the
transactions since a row was written, which avoids comparing 32-bit xmins with 64-bit transaction ids; it needs no
trigger, so writes made with triggers off (bulk loads, the tests, the benchmark) are seen as well. Time passes too:
an activity whose start went by (`held`) and a commitment that fell due since the latest run change their instance.

Rows deleted outright from standards, commitments, activities or experiences leave no row to see (the registry
deletes softly, `deleted_at`, but psql and scripts may not): their instances are found in `monitor.history`, whose
trigger records each delete with the old row and its transaction (migration 0023 indexes those rows), when that
transaction is the mark's or a later one. A delete made with triggers off leaves no history and stays unseen until
its instance changes again; an instance deleted outright is found by the count of active instances (compute.run).
Full runs (`monitor compute`) read every instance anyway and use this only to derive standards.

Other transactions open on the server when a run starts (any database: xids are the cluster's) make its mark
older, and so the next run's set larger, never smaller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import psycopg

# Farther apart than this (transactions), xmin ages are no longer trusted: everything counts as changed.
MAX_AGE = 1_000_000_000

SINCE_SQL = """
SELECT pg_current_xact_id()::text::bigint - snapshot_xmin::text::bigint + 1, computed_at,
       snapshot_xmin::text::bigint
FROM monitor.index_runs WHERE id = %(run)s AND snapshot_xmin IS NOT NULL
"""
# n (an integer, so the comparisons per row stay cheap) and t0 are the latest run's; one scan of each table.
CHANGED_SQL = """
WITH own AS (
    SELECT array_agg(id) FILTER (WHERE age(xmin) <= %(n)s::integer) AS ids,
           count(*) FILTER (WHERE moderation = 'approved' AND deleted_at IS NULL AND status = 'active') AS active
    FROM monitor.instances
)
SELECT own.ids, own.active,
       ARRAY(SELECT instance_id FROM monitor.instance_standards WHERE age(xmin) <= %(n)s::integer
             UNION SELECT instance_id FROM monitor.commitments
                   WHERE age(xmin) <= %(n)s::integer
                      OR (due_date > %(t0)s::timestamptz::date AND due_date <= current_date)
             UNION SELECT instance_id FROM monitor.activities
                   WHERE age(xmin) <= %(n)s::integer OR (starts_at >= %(t0)s::timestamptz AND starts_at < now())
             UNION SELECT instance_id FROM monitor.experiences WHERE age(xmin) <= %(n)s::integer
             UNION SELECT (old_values ->> 'instance_id')::integer FROM monitor.history
                   WHERE action = 'delete' AND transaction_id >= %(mark)s
                     AND table_name IN ('instance_standards', 'commitments', 'activities', 'experiences')),
       EXISTS (SELECT 1 FROM monitor.standard_criteria WHERE age(xmin) <= %(n)s::integer)
FROM own
"""


@dataclass(frozen=True)
class Changes:
    ids: np.ndarray | None  # instances that may have changed, ascending; None: every instance
    active: int | None = None  # active approved instances now (to notice instances deleted outright)


def snapshot_xmin(conn: psycopg.Connection) -> str:
    """This run's mark (xid8 as text), taken before it derives or reads anything."""
    return conn.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text").fetchone()[0]


def changed_instances(conn: psycopg.Connection, latest_run_id: int | None) -> Changes:
    """The instances that may have changed since run `latest_run_id`; all of them (ids None) when that cannot be
    told: no run yet, a run from before 0020, the standards' catalogue changed, or too long ago."""
    since = conn.execute(SINCE_SQL, {"run": latest_run_id}).fetchone() if latest_run_id is not None else None
    if since is None or since[0] > MAX_AGE:
        return Changes(None)
    ids, active, others, criteria = conn.execute(CHANGED_SQL, {"n": since[0], "t0": since[1], "mark": since[2]}
                                                 ).fetchone()
    if criteria:
        return Changes(None)
    return Changes(np.union1d(np.array(ids or [], dtype=np.int64), np.array(others, dtype=np.int64)), active)
