"""Connections and schema migrations."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config

from gis.cluster import database_url

MIGRATIONS = Path(__file__).parent / "migrations"


def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1).replace("postgres://", "postgresql+psycopg://", 1)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


INVARIANTS = MIGRATIONS / "sql" / "invariants.sql"


def migrate(url: str | None = None) -> None:
    # "heads": each area (registry, index, tiles…) may add its own branch of revisions on top of 0002.
    url = url or database_url()
    command.upgrade(alembic_config(url), "heads")
    # Whatever branch ran last: every function pins its search_path, every view hiding rows is a security barrier.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(INVARIANTS.read_text())


def current_revision(url: str | None = None) -> str | None:
    with psycopg.connect(url or database_url()) as conn:
        exists = conn.execute("SELECT to_regclass('public.alembic_version')").fetchone()[0]
        if not exists:
            return None
        rows = conn.execute("SELECT version_num FROM alembic_version ORDER BY 1").fetchall()
        return ",".join(r[0] for r in rows)


@contextmanager
def connect(url: str | None = None, actor: str | None = None):
    """A connection whose transaction commits on success and rolls back on any error.

    `actor` names who writes; the history triggers record it.
    """
    with psycopg.connect(url or database_url()) as conn, conn.transaction():
        if actor:
            conn.execute("SELECT set_config('monitor.actor', %s, true)", (actor,))
        yield conn
