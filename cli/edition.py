"""`monitor edition publish NAME` and `monitor edition list`: official editions of the index (gis/index/editions.py).

An edition freezes an index run under a name (by default the latest run, or a fresh one with `--compute`) and is
immutable once published; `/index/editions`, `/index/barrios/{id}/history` and `/index/editions/{a}/diff/{b}`
serve them.
"""

from __future__ import annotations

import json

import typer

app = typer.Typer(help="Official editions of the index: publish (immutable) and list", no_args_is_help=True)


def _url() -> str:
    from gis.cluster import database_url

    return database_url()


def _echo(data) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


@app.command("publish")
def publish(
    name: str = typer.Argument(..., help="the edition's name and address, e.g. 2026-t4 (lower case, digits, . _ -)"),
    note: str = typer.Option(None, help="a note published with the edition"),
    run: int = typer.Option(None, help="publish this run instead of the latest one"),
    compute: bool = typer.Option(False, "--compute", help="compute a fresh full run first and publish it"),
) -> None:
    """Freeze an index run as an official edition (its parameters, input counts and every barrio's values)."""
    from gis.db import connect
    from gis.index.editions import EditionError
    from gis.index.editions import publish as publish_edition

    url = _url()
    if compute and run is not None:
        raise typer.BadParameter("--compute publishes the run it computes: give --run or --compute, not both")
    if compute:
        from gis.index.compute import run as compute_run

        run = compute_run(url, trigger=f"cli:edition {name}")["run_id"]
    try:
        with connect(url, actor="cli:edition") as conn:
            _echo(publish_edition(conn, name, note, run))
    except EditionError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


@app.command("list")
def list_editions() -> None:
    """Every edition, oldest first (one JSON object per line)."""
    import psycopg

    from gis.index.editions import editions

    with psycopg.connect(_url()) as conn:
        for row in editions(conn):
            _echo({k: row[k] for k in ("name", "run_id", "published_at", "computed_at", "method_version",
                                       "barrios", "note")})
