"""The `monitor` command line: database, loading, import and serving."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cli.decidim import import_app, sync_command
from cli.survey import app as survey_app
from gis.config import get_settings

app = typer.Typer(help="Citizen Participation Monitor of Rosario", no_args_is_help=True)
db_app = typer.Typer(help="The database: private cluster, migrations", no_args_is_help=True)
load_app = typer.Typer(help="Load reference geography, real sites and the demo registry", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(load_app, name="load")
export_app = typer.Typer(help="Export the public layers (PMTiles archives)", no_args_is_help=True)
app.add_typer(export_app, name="export")
export_app.command("qgis")(__import__("cli.export_qgis", fromlist=["export_qgis"]).export_qgis)
app.add_typer(survey_app, name="survey")
app.add_typer(import_app, name="import")  # `monitor import FILE`, `import decidim`, `import decidim-open-data`
app.command("sync")(sync_command)
__import__("cli.backup", fromlist=["register"]).register(app)  # `monitor backup`, `monitor restore`
app.add_typer(__import__("cli.edition", fromlist=["app"]).app, name="edition")  # `monitor edition publish|list`
app.command("report")(__import__("cli.report", fromlist=["report"]).report)  # `monitor report --output DIR`


def _url() -> str:
    from gis.cluster import database_url

    return database_url()


def _echo(data) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


@db_app.command("up")
def db_up() -> None:
    """Start the private cluster (when DATABASE_URL is unset) and migrate the schema."""
    from gis.db import migrate

    url = _url()
    migrate(url)
    _set_readonly_password(url)
    typer.echo(f"database ready: {url}")


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending schema migrations."""
    from gis.db import current_revision, migrate

    url = _url()
    migrate(url)
    _set_readonly_password(url)
    typer.echo(f"schema at {current_revision(url)}")


def _set_readonly_password(url: str) -> None:
    """MONITOR_READONLY_PASSWORD, when set, becomes the password of the QGIS read-only role."""
    import os

    import psycopg
    from psycopg import sql

    password = os.environ.get("MONITOR_READONLY_PASSWORD")
    if password:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER ROLE monitor_readonly PASSWORD {}").format(sql.Literal(password)))


@db_app.command("down")
def db_down() -> None:
    """Stop the private cluster (keeps its data)."""
    from gis.cluster import PrivateCluster

    PrivateCluster().stop()
    typer.echo("private cluster stopped")


@db_app.command("reset")
def db_reset(yes: bool = typer.Option(False, "--yes", help="confirm: every row is lost")) -> None:
    """Delete the private cluster and everything in it."""
    from gis.cluster import PrivateCluster

    if get_settings().database_url:
        raise typer.BadParameter("reset only removes the private cluster; DATABASE_URL is set")
    if not yes:
        raise typer.BadParameter("pass --yes to delete the private cluster and all its data")
    PrivateCluster().destroy()
    typer.echo("private cluster removed")


@db_app.command("url")
def db_url() -> None:
    """Print the database URL (for psql, QGIS or GDAL)."""
    typer.echo(_url())


@load_app.command("geography")
def load_geography(
    data_dir: Path = typer.Option(None, help="folder with Rosario's layers (default MONITOR_DATA_DIR)"),
    districts: Path = typer.Option(None, help="an official district layer replacing the dissolved one"),
    no_verify: bool = typer.Option(False, "--no-verify", help="accept source files whose checksum changed"),
) -> None:
    """Load the 50 barrios and the 6 districts (idempotent)."""
    from data.districts.loader import load_geography as load

    _echo({"changed": load(_url(), data_dir or get_settings().data_dir, districts, verify=not no_verify)})


@load_app.command("sites")
def load_sites(data_dir: Path = typer.Option(None, help="folder with Rosario's layers")) -> None:
    """Load the real participation sites (vecinales, district centres) as instances."""
    from data.districts.sites import load_sites as load

    _echo(load(_url(), data_dir or get_settings().data_dir))


@load_app.command("demo")
def load_demo(
    seed: int = typer.Option(None, help="random seed (default MONITOR_DEMO_SEED)"),
    instances: int = typer.Option(300, help="how many demo instances"),
) -> None:
    """Load the deterministic demo registry (every record flagged is_demo)."""
    from gis.demo import load_demo as load

    _echo(load(_url(), seed if seed is not None else get_settings().demo_seed, instances))


@load_app.command("census")
def load_census(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="polygons with a population count (any CRS)"),
    field: str = typer.Option(..., help="the field holding each area's population"),
    code_field: str = typer.Option(None, help="an identifier field to keep (e.g. the census tract code)"),
    compute: bool = typer.Option(True, help="recompute the index with it right away"),
) -> None:
    """Load a census layer by small area: the index then takes barrio populations from it (areal interpolation)."""
    from gis.index.census import CensusError
    from gis.index.census import load_census as load

    try:
        loaded = load(_url(), path, field, code_field)
    except CensusError as exc:
        raise typer.BadParameter(str(exc)) from None
    if compute:
        from gis.index.compute import run

        loaded["run_id"] = run(_url(), trigger="cli:census")["run_id"]
    _echo(loaded)


@load_app.command("all")
def load_all() -> None:
    """Geography, real sites and demo: what `make run` loads."""
    load_geography(None, None, False)
    load_sites(None)
    load_demo(None, 300)


@import_app.command("file")
def import_file(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="GeoJSON, CSV or GeoPackage"),
    layer: str = typer.Option(None, help="an editable layer: organizations, instances, activities… (default: from "
                                         "the file name)"),
    actor: str = typer.Option("cli:import", help="who is importing (recorded in the history)"),
) -> None:
    """Import a file completely or not at all; every bad row is reported with its line and reason."""
    from gis.importer import ImportRejected, import_path
    from layers.catalogue import EDIT_POLICIES

    try:
        _echo(import_path(_url(), EDIT_POLICIES, path, layer, actor))
    except ImportRejected as rejected:
        for problem in rejected.problems:
            typer.echo(f"{path.name}:{problem}", err=True)
        typer.echo(f"nothing imported: {len(rejected.problems)} problem(s)", err=True)
        raise typer.Exit(1) from None


@export_app.command("pmtiles")
def export_pmtiles(
    path: Path = typer.Argument(..., dir_okay=False, help="the archive to write, e.g. archives/monitor.pmtiles"),
    minzoom: int = typer.Option(0, min=0, max=22, help="lowest zoom"),
    maxzoom: int = typer.Option(16, min=0, max=22, help="highest zoom (at least 15 for the web map)"),
) -> None:
    """Write every public layer over Rosario to one PMTiles archive (served with HTTP Range at /archives/)."""
    from layers.pmtiles_export import export_pmtiles as export

    if maxzoom < minzoom:
        raise typer.BadParameter("maxzoom must not be below minzoom")
    _echo(export(_url(), path, minzoom, maxzoom))


@app.command("serve")
def serve(
    host: str = typer.Option(None, help="default HOST or 127.0.0.1"),
    port: int = typer.Option(None, help="default PORT or 8000"),
    workers: int = typer.Option(1, help="worker processes"),
) -> None:
    """Serve the API and the web map."""
    from api.serving import serve as serve_app

    settings = get_settings()
    _url()  # starts the private cluster before the workers open their pools
    serve_app("api.app:create_app", host or settings.host, port or settings.port, workers, factory=True,
              log_level="info", proxy_headers=True)


token_app = typer.Typer(help="API tokens for editing through the feature API", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    role: str = typer.Option(..., help="admin, editor or organization"),
    name: str = typer.Option(..., help="who or what uses the token"),
    organization: str = typer.Option(None, help="organization tokens: the organisation's id, external id or name"),
) -> None:
    """Create a token and print it once: only its hash is stored."""
    from gis.auth import TokenError, create_token
    from gis.db import connect

    try:
        with connect(_url(), actor="cli:token") as conn:
            token_id, token = create_token(conn, role, name, organization)
    except TokenError as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(f"token {token_id} ({role}, {name}); shown only now, keep it secret:", err=True)
    typer.echo(token)


@token_app.command("revoke")
def token_revoke(token_id: int = typer.Argument(..., help="the token's id (see `monitor token list`)")) -> None:
    """Revoke a token: requests with it are refused from now on."""
    from gis.auth import revoke_token
    from gis.db import connect

    with connect(_url(), actor="cli:token") as conn:
        if not revoke_token(conn, token_id):
            raise typer.BadParameter(f"no live token {token_id}")
    typer.echo(f"token {token_id} revoked")


@token_app.command("list")
def token_list() -> None:
    """List tokens (never their secret), revoked ones included."""
    from gis.auth import list_tokens
    from gis.db import connect

    with connect(_url()) as conn:
        for token in list_tokens(conn):
            _echo(token)


@app.command("compute")
def compute(
    resolution: int = typer.Option(None, min=7, max=11, help="H3 resolution (default: configuration, 9)"),
    incremental: bool = typer.Option(False, "--incremental", help="reuse the stored grid when barrios are unchanged"),
    instance: int = typer.Option(None, help="record the run as the incremental run of this changed instance"),
) -> None:
    """Compute the Citizen Participation Index and store the run (parameters from monitor.toml [index] and
    MONITOR_INDEX_* variables)."""
    from gis.index.compute import run
    from gis.index.parameters import load_parameters

    overrides = {"h3_resolution": resolution} if resolution is not None else {}
    record = run(_url(), load_parameters(**overrides), trigger="cli", full=not (incremental or instance),
                 changed_instance_id=instance)
    _echo({k: record[k] for k in ("run_id", "path", "duration_ms", "timings_ms", "input_counts", "summary")})


@app.command("methodology")
def methodology(output: Path = typer.Option(None, help="write to this file (e.g. docs/methodology.md)")) -> None:
    """Print the index methodology for the configured parameters (docs/methodology.md is this for the defaults)."""
    from gis.index.methodology import render
    from gis.index.parameters import load_parameters

    text = render(load_parameters())
    if output:
        output.write_text(text)
    else:
        typer.echo(text)


if __name__ == "__main__":
    app()
