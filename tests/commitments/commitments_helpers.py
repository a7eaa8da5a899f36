"""Helpers shared by the commitment tracker tests (imported by name: the test folders are not packages)."""

from __future__ import annotations

import time
from datetime import date

FULFILLED = ("substantial", "complete")
# Token names that must never reach the public: the history records them as part of the actor.
EDITOR_NAME = "Juana Secreta Editora"
ADMIN_NAME = "Pedro Oculto Admin"


def expected_follow_through(rows: list[dict], today: date) -> dict:
    """By hand: of the commitments due today or earlier, those substantial or complete."""
    due = [r for r in rows if r["due_date"] is not None and r["due_date"] <= today]
    fulfilled = [r for r in due if r["status"] in FULFILLED]
    return {"due": len(due), "fulfilled": len(fulfilled), "share": len(fulfilled) / len(due) if due else None}


def wait_for_index_after_writes(sql, seconds: int = 300) -> None:
    """Until an index run has read the inputs written last (the server recomputes 2 s after the last write).

    A run's `computed_at` and a change's `changed_at` are the starts of their transactions: a run that started
    a second after the last write began reads it committed (writes take milliseconds)."""
    deadline = time.monotonic() + seconds
    while not sql("""SELECT 1 WHERE (SELECT max(computed_at) FROM published.index_runs)
                                    > (SELECT max(changed_at) + interval '1 second' FROM monitor.history
                                       WHERE table_name IN ('commitments', 'instances'))"""):
        assert time.monotonic() < deadline, "no index run after the writes"
        time.sleep(2)
