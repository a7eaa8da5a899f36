"""QGIS users get the whole picture: the project of every public layer (/qgis/monitor.qgz, in three flavours) and
each layer's style as QML and SLD (/styles/{layer}.qml, .sld) for a layer added by hand. All generated from the
catalogue's MapLibre styles (layers/qgis_styles.py, layers/qgis_project.py)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool

from api.database import get_pool
from api.errors import Problem
from api.http import READ_CORS, base_url, layer_or_404, respond
from api.routing import get_and_head
from layers.qgis_project import PostgisConnection, project_qgz
from layers.qgis_styles import qgis_styles, qml, sld

router = APIRouter(tags=["qgis"])

QGZ = "application/vnd.qgis.qgz"  # a zip holding the .qgs, as QGIS saves projects
QML = "application/vnd.qgis.qml+xml"
SLD = "application/vnd.ogc.sld+xml"
AUTHCFG = r"^[A-Za-z0-9]{7}$"  # QGIS authentication configuration ids: 7 letters or digits

# Legend labels of coded values, from the database's catalogues (the kinds' Spanish names).
LABEL_QUERIES = {"kind": "SELECT code, label_es FROM published.instance_kinds"}


async def value_labels(pool: AsyncConnectionPool) -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {}
    async with pool.connection() as conn:
        for field, query in LABEL_QUERIES.items():
            labels[field] = {code: label for code, label in await (await conn.execute(query)).fetchall()}
    return labels


def server_database(request: Request, authcfg: str | None) -> PostgisConnection:
    """The database this server reads (host, port, name): the read-only role connects to the same one."""
    info = conninfo_to_dict(request.app.state.pool.conninfo)
    return PostgisConnection(info.get("host") or "localhost", int(info.get("port") or 5432),
                             info.get("dbname") or "monitor", authcfg)


@get_and_head(router, "/qgis/monitor.qgz", summary="QGIS project of every public layer, styled as the web map",
              response_class=Response, responses={200: {"content": {QGZ: {}}}})
async def qgis_project(
    request: Request,
    source: Literal["oapif", "postgis", "tiles"] = Query(
        "oapif", description="where QGIS reads the layers: this server's OGC API – Features, the database with "
                             "the read-only role monitor_readonly, or the vector tiles"),
    authcfg: str | None = Query(None, pattern=AUTHCFG,
                                description="postgis: the id of a QGIS authentication configuration holding "
                                            "monitor_readonly's password (never written in the file)"),
    pool: AsyncConnectionPool = Depends(get_pool),
) -> Response:
    db = server_database(request, authcfg) if source == "postgis" else None
    body = project_qgz(source, base_url(request), db, await value_labels(pool))
    name = "monitor.qgz" if source == "oapif" else f"monitor-{source}.qgz"
    return respond(request, body, QGZ, 300, headers={"Content-Disposition": f'attachment; filename="{name}"'},
                   cors=READ_CORS)


def _style_of(layer_id: str, style: str | None, labels: dict):
    layer = layer_or_404(layer_id, on_map=True)
    styles = qgis_styles(layer, labels)
    chosen = styles[0] if style is None else next((s for s in styles if s.name == style), None)
    if chosen is None:
        names = ", ".join(s.name for s in styles)
        raise Problem(404, "Style not found", f"layer {layer_id!r} has the styles: {names}")
    return layer, chosen


STYLE_PARAM = Query(None, description="index layers: the field the style colours by (composite, accessibility, …)")


@get_and_head(router, "/styles/{layer_id}.qml", summary="A layer's style as a QGIS QML file",
              response_class=Response, responses={200: {"content": {QML: {}}}})
async def layer_qml(request: Request, layer_id: str, style: str | None = STYLE_PARAM,
                    pool: AsyncConnectionPool = Depends(get_pool)) -> Response:
    layer, chosen = _style_of(layer_id, style, await value_labels(pool))
    return respond(request, qml(layer, chosen).encode(), QML, 300, cors=READ_CORS,
                   headers={"Content-Disposition": f'inline; filename="{layer.id}.qml"'})


@get_and_head(router, "/styles/{layer_id}.sld", summary="A layer's style as SLD 1.1 (Symbology Encoding)",
              response_class=Response, responses={200: {"content": {SLD: {}}}})
async def layer_sld(request: Request, layer_id: str, style: str | None = STYLE_PARAM,
                    pool: AsyncConnectionPool = Depends(get_pool)) -> Response:
    layer, chosen = _style_of(layer_id, style, await value_labels(pool))
    return respond(request, sld(layer, chosen).encode(), SLD, 300, cors=READ_CORS,
                   headers={"Content-Disposition": f'inline; filename="{layer.id}.sld"'})
