"""`monitor backup PATH` and `monitor restore PATH --database NAME`: the whole database as one pg_dump archive,
and that archive restored into a new database on the same server (docs/operations.md: procedure and drill).

Both run PostgreSQL's own tools (pg_dump -Fc, pg_restore): the archive is a standard one that plain
`pg_restore` reads too. What a database dump does not hold is put back by `restore`: the database's own
privileges (who may connect, 0011_database_grants.sql) and the read-only role when the server lacks it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import typer
from psycopg import sql

GRANTS = Path(__file__).resolve().parents[1] / "gis" / "migrations" / "sql" / "0011_database_grants.sql"


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)


def _url() -> str:
    from gis.cluster import database_url

    return database_url()


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise typer.Exit(_fail(f"{Path(args[0]).name} failed:\n{done.stderr.strip()}"))


def _fail(message: str) -> int:
    typer.echo(message, err=True)
    return 1


def table_counts(url: str) -> dict[str, int]:
    """Rows of every table of the monitor's schemas (what a restore is compared by)."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
            "WHERE schemaname IN ('monitor', 'tiles', 'public') ORDER BY 1")]
        return {t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.SQL(t))).fetchone()[0]
                for t in tables}


def backup(path: Path = typer.Argument(..., help="the archive to write (pg_dump custom format, e.g. monitor.dump)"),
           ) -> None:
    """Write the whole database (schema, data, history, tokens' hashes, privileges) to one pg_dump archive."""
    from gis.cluster import pg_bin

    url = _url()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")  # a failed dump never leaves a file that looks complete
    _run([pg_bin("pg_dump"), "--format=custom", "--file", str(partial), "--dbname", url])
    partial.replace(path)
    typer.echo(json.dumps({"archive": str(path), "bytes": path.stat().st_size,
                           "tables": len(table_counts(url)), "rows": sum(table_counts(url).values())}))


def restore(path: Path = typer.Argument(..., exists=True, dir_okay=False, help="an archive of `monitor backup`"),
            database: str = typer.Option(None, "--database", help="the NEW database to restore into (must not "
                                                                    "exist; on the same server; default: "
                                                                    "<archive name>_restored_<time>)"),
            ) -> None:
    """Restore an archive into a new database on the same server, all or nothing; then point DATABASE_URL (or
    MONITOR_DB_NAME for the private cluster) at it. `monitor restore PATH` alone picks a new name and prints it."""
    from datetime import datetime

    from gis.cluster import pg_bin

    if database is None:  # never the live database: a restore is checked before anyone points at it
        stem = "".join(c if c.isalnum() else "_" for c in path.stem.lower())[:40] or "monitor"
        database = f"{stem}_restored_{datetime.now():%Y%m%d%H%M%S}"
    url = _url()
    admin = _with_database(url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
            raise typer.Exit(_fail(f"database {database!r} exists: restore into a new one (nothing was changed)"))
        # Roles are the server's, not the database's: the grants in the archive name monitor_readonly.
        conn.execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'monitor_readonly') THEN "
                     "CREATE ROLE monitor_readonly LOGIN; END IF; END $$")
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(database)))
    target = _with_database(url, database)
    try:
        # One transaction, stopping at the first error: the new database holds the whole archive or nothing.
        _run([pg_bin("pg_restore"), "--single-transaction", "--exit-on-error", "--no-owner", "--dbname", target,
              str(path)])
        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute(GRANTS.read_text())
    except BaseException:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        raise
    counts = table_counts(target)
    typer.echo(json.dumps({"database": database, "url": target, "tables": len(counts), "rows": sum(counts.values())}))
