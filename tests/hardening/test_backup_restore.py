"""Backups that restore: `monitor backup` / `monitor restore`, and plain pg_dump / pg_restore, give back every row.

Before: `pg_dump -Fc` then `pg_restore` into a new database lost every instance and activity —
monitor.in_rosario_bbox(), called by a CHECK constraint, called ST_X without a search_path, and pg_restore runs
with an empty one — and every table referring to them failed its foreign keys.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from hardening_helpers import ROOT
from psycopg import sql

from gis.cluster import pg_bin


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def fingerprint(url: str) -> dict[str, tuple]:
    """Every table's row count and a checksum of its rows, and every sequence's position."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1")]
        result = {table: conn.execute(sql.SQL(
            "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} t").format(
            sql.SQL(table))).fetchone() for table in tables}
        for (sequence,) in conn.execute("SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences "
                                        "ORDER BY 1").fetchall():
            result[sequence] = conn.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(
                sql.SQL(sequence))).fetchone()
    return result


@pytest.fixture
def new_database(admin_url):
    """A database name nobody uses yet; dropped after the test, whatever made it."""
    name = f"monitor_restore_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def monitor(*args: str, database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": database_url}, timeout=600)


def test_monitor_backup_and_restore_give_back_every_row(fresh_db, new_database, tmp_path):
    with psycopg.connect(fresh_db, autocommit=True) as conn:  # something more than the load: a moderated edit
        conn.execute("UPDATE monitor.instances SET moderation = 'rejected', moderation_reason = 'prueba' "
                     "WHERE id = (SELECT min(id) FROM monitor.instances)")
    archive = tmp_path / "monitor.dump"
    made = monitor("backup", str(archive), database_url=fresh_db)
    assert made.returncode == 0, made.stderr
    assert archive.stat().st_size > 100_000
    restored = monitor("restore", str(archive), "--database", new_database, database_url=fresh_db)
    assert restored.returncode == 0, restored.stderr
    target = _with_database(fresh_db, new_database)
    before, after = fingerprint(fresh_db), fingerprint(target)
    assert before.keys() == after.keys()
    differing = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert not differing
    assert before["monitor.instances"][0] > 300 and before["monitor.activities"][0] > 300
    # The restored database works as the original: the read-only role reads it, writes go through the rules.
    readonly = urlunsplit(urlsplit(target)._replace(netloc=f"monitor_readonly@{urlsplit(target).hostname}:"
                                                           f"{urlsplit(target).port}"))
    with psycopg.connect(readonly) as conn:
        assert conn.execute("SELECT count(*) FROM published.instances").fetchone()[0] > 300
    again = monitor("restore", str(archive), "--database", new_database, database_url=fresh_db)
    assert again.returncode != 0 and "exists" in again.stderr  # never over an existing database


def test_monitor_restore_path_alone_restores_into_a_new_database_it_names(fresh_db, admin_url, tmp_path):
    """`monitor restore PATH` (the issue's command) picks a new database, never the live one, and prints it."""
    archive = tmp_path / "monitor.dump"
    assert monitor("backup", str(archive), database_url=fresh_db).returncode == 0
    restored = monitor("restore", str(archive), database_url=fresh_db)
    assert restored.returncode == 0, restored.stderr
    name = json.loads(restored.stdout.strip().splitlines()[-1])["database"]
    try:
        assert name.startswith("monitor_restored_") and name != urlsplit(fresh_db).path.lstrip("/")
        assert fingerprint(_with_database(fresh_db, name)) == fingerprint(fresh_db)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_plain_pg_dump_and_pg_restore_give_back_every_row(fresh_db, admin_url, new_database, tmp_path):
    """The documented tools alone, with pg_restore's empty search_path: every table as it was."""
    archive = tmp_path / "plain.dump"
    subprocess.run([pg_bin("pg_dump"), "-Fc", "-f", str(archive), fresh_db], check=True, capture_output=True)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(new_database)))
    target = _with_database(fresh_db, new_database)
    done = subprocess.run([pg_bin("pg_restore"), "--exit-on-error", "-d", target, str(archive)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert fingerprint(target) == fingerprint(fresh_db)


def test_every_function_of_the_schema_pins_its_search_path(template_db):
    """What made the restore fail, for every function present and future of the monitor's schemas."""
    with psycopg.connect(template_db, autocommit=True) as conn:
        loose = conn.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname IN ('monitor', 'tiles', 'published') AND p.prokind = 'f' "
            "AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')").fetchall()
    assert not loose, f"functions without SET search_path (pg_restore runs with an empty one): {loose}"
