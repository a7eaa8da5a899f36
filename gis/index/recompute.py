"""Recompute the index after writes: LISTEN to the database's notifications, wait for quiet, run once.

Writers never wait: the triggers of 0003_index.sql only `pg_notify` (delivered at commit). Many writes in a burst
make one run; a burst that touched a single instance is recorded as that instance's incremental run.

One recomputer per database, however many server processes run: each process's recomputer tries to take a
session advisory lock (`LEADER_KEY`) on its listening connection; only the holder listens and recomputes, the
others retry every few seconds and take over if the holder's connection goes away (a process stops or dies).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field

import psycopg

from gis.index.compute import run
from gis.index.parameters import IndexParameters, load_parameters

CHANNEL = "monitor_index"
LEADER_KEY = 5_000_002  # pg_try_advisory_lock key, held for a session: the one recomputer of a database
log = logging.getLogger("monitor.index")


@dataclass
class Burst:
    """What changed since the last run."""

    instances: set[int] = field(default_factory=set)
    tables: set[str] = field(default_factory=set)

    def add(self, payload: str) -> None:
        try:
            data = json.loads(payload)
        except ValueError:
            data = {}
        self.tables.add(str(data.get("table", "?")))
        if data.get("instance_id") is not None:
            self.instances.add(int(data["instance_id"]))

    @property
    def single_instance(self) -> int | None:
        return next(iter(self.instances)) if len(self.instances) == 1 else None


class Recomputer:
    """The background task of a process; it recomputes only while it leads (holds `LEADER_KEY`)."""

    def __init__(self, url: str, params: IndexParameters | None = None, max_wait_factor: int = 10,
                 follower_poll_seconds: float = 5.0):
        self.url = url
        self.follower_poll_seconds = follower_poll_seconds
        self.leading = False
        self.params = params or load_parameters()
        self.max_wait = max(self.params.debounce_seconds * max_wait_factor, 1.0)
        self.last: dict | None = None  # the record of the latest run this process made
        self.failures = 0

    async def start_up(self) -> None:
        """A first run when there is none yet, or when the configuration changed since the latest one."""
        if not self.params.compute_on_start:
            return
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            row = await (await conn.execute(
                "SELECT parameters FROM monitor.index_runs ORDER BY id DESC LIMIT 1")).fetchone()
        if row is None or row[0] != json.loads(json.dumps(self.params.as_record())):
            await self._run(Burst(tables={"startup"}), trigger="startup")

    async def try_lead(self) -> psycopg.AsyncConnection | None:
        """A connection holding the leader lock, or None when another process leads."""
        conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        try:
            taken = (await (await conn.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_KEY,))).fetchone())[0]
        except BaseException:
            await conn.close()
            raise
        if not taken:
            await conn.close()
            return None
        self.leading = True
        return conn

    async def listen(self, conn: psycopg.AsyncConnection | None = None) -> None:
        """Runs until cancelled: waits for leadership (unless `conn` already holds it), then listens and
        recomputes; after a lost connection it starts over (another process may have taken the lead)."""
        while True:
            try:
                while conn is None:
                    conn = await self.try_lead()
                    if conn is None:
                        await asyncio.sleep(self.follower_poll_seconds)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    await self._serve(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the listener must outlive a database restart
                log.warning("index recompute listener: %s; retrying in 5 s", exc)
                await asyncio.sleep(5)
            finally:
                self.leading = False
                if conn is not None and not conn.closed:
                    await conn.close()
                conn = None

    async def _serve(self, conn: psycopg.AsyncConnection) -> None:
        while True:
            burst = Burst()
            async for note in conn.notifies(stop_after=1):
                burst.add(note.payload)
            waited = 0.0
            while waited < self.max_wait:  # debounce: keep gathering while writes keep coming
                heard = False
                async for note in conn.notifies(timeout=self.params.debounce_seconds):
                    burst.add(note.payload)
                    heard = True
                waited += self.params.debounce_seconds
                if not heard:
                    break
            await self._run(burst, trigger="auto:" + ",".join(sorted(burst.tables)))

    async def _run(self, burst: Burst, trigger: str) -> None:
        try:
            self.last = await asyncio.to_thread(run, self.url, self.params, trigger[:200], False,
                                                burst.single_instance)
            self.failures = 0
        except Exception:  # a failed run leaves the previous results published; the next write tries again
            self.failures += 1
            log.exception("index recompute failed (%s)", trigger)
