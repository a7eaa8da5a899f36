"""`monitor export qgis PATH.qgz`: the QGIS project of every public layer, styled as the web map
(layers/qgis_project.py), in the flavour asked: this server's OGC API – Features, PostGIS with the read-only
role (no password in the file), or the vector tiles."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer


class Source(StrEnum):
    oapif = "oapif"
    postgis = "postgis"
    tiles = "tiles"


def _labels(url: str) -> dict[str, dict[str, str]]:
    import psycopg

    from api.qgis import LABEL_QUERIES

    with psycopg.connect(url) as conn:
        return {field: dict(conn.execute(query).fetchall()) for field, query in LABEL_QUERIES.items()}


def export_qgis(
    path: Path = typer.Argument(..., dir_okay=False, help="the project to write, e.g. monitor.qgz (or .qgs)"),
    source: Source = typer.Option(Source.oapif, "--source", help="where QGIS reads the layers"),
    server: str = typer.Option(None, help="oapif/tiles: the server's public URL (default MONITOR_PUBLIC_URL, "
                                          "else http://HOST:PORT)"),
    authcfg: str = typer.Option(None, help="postgis: a QGIS authentication configuration id (7 characters) "
                                           "holding monitor_readonly's password; without it QGIS asks"),
    database_host: str = typer.Option(None, help="postgis: the host QGIS users reach the database at (default: "
                                                 "the database URL's)"),
) -> None:
    """Write the QGIS project: every public layer, grouped and styled as /styles/monitor.json."""
    from gis.cluster import database_url
    from gis.config import get_settings
    from layers.qgis_project import PostgisConnection, project_qgz, project_xml

    if authcfg is not None and (len(authcfg) != 7 or not authcfg.isalnum()):
        raise typer.BadParameter("a QGIS authcfg id is 7 letters or digits")
    settings = get_settings()
    url = database_url()
    base = (server or settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    db = None
    if source is Source.postgis:
        db = PostgisConnection.from_url(url, authcfg)
        if database_host:
            db = PostgisConnection(database_host, db.port, db.dbname, authcfg)
    labels = _labels(url)
    if path.suffix == ".qgs":
        path.write_text(project_xml(source.value, base, db, labels))
    else:
        path.write_bytes(project_qgz(source.value, base, db, labels))
    typer.echo(json.dumps({"path": str(path), "source": source.value,
                           "server": base if source is not Source.postgis else None,
                           "database": None if db is None else f"{db.host}:{db.port}/{db.dbname}",
                           "authcfg": authcfg}))
