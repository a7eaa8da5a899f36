"""The catalogues portals harvest, and the open-data pages: `/data.json` (Argentina's national metadata profile,
the format of datos.gob.ar and Andino), `/datos/catalog.jsonld` (DCAT-AP), `/datos` (every download, as JSON or a
page in Spanish) and `/datos/licencia` (licence and attribution of each layer).

The documents are written by layers/opendata.py from the catalogue (DOWNLOAD_LAYERS); this module reads the facts
they need from the database: each layer's extent, temporal coverage and last change.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Query, Request
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from api.database import get_pool
from api.downloads import FORMATS, collection_links, download_url
from api.http import HTML, JSON, MARKDOWN, base_url, link, output_format, respond
from api.pages import escape, page
from api.routing import get_and_head
from layers import opendata
from layers.catalogue import CATALOGUE, DOWNLOAD_LAYERS
from layers.features_sql import extent_sql
from layers.layer import Layer

router = APIRouter(tags=["open data"])

CACHE_SECONDS = 300
FACTS_SECONDS = 60
JSON_LD = "application/ld+json"
# (database, what) → (expires at, value): the facts change as the registry does, a catalogue is read rarely.
_cache: dict[tuple[str, str], tuple[float, object]] = {}


async def _value(pool: AsyncConnectionPool, statement, params=()):
    async with pool.connection() as conn:
        row = await (await conn.execute(statement, params)).fetchone()
        return row[0] if row else None


async def layer_facts(pool: AsyncConnectionPool, layer: Layer) -> opendata.Facts:
    async with pool.connection() as conn:
        xmin, ymin, xmax, ymax, t0, t1 = await (await conn.execute(extent_sql(layer))).fetchone()
    source = sql.Identifier(*layer.source.split("."))
    if layer.get_property("updated_at") is not None:
        modified = await _value(pool, sql.SQL("SELECT max(updated_at) FROM {}").format(source))
    elif layer.is_analytics:
        modified = await _value(pool, "SELECT max(computed_at) FROM published.index_runs")
    elif layer.id in opendata.SOURCE_LAYERS:
        modified = await _value(pool, "SELECT max(loaded_at) FROM published.datasets")
    else:
        modified = None
    bbox = (xmin, ymin, xmax, ymax) if xmin is not None else None
    return opendata.Facts(bbox=bbox, start=t0, end=t1, modified=modified)


async def facts(pool: AsyncConnectionPool) -> tuple[dict[str, opendata.Facts], datetime]:
    """Every download layer's facts, and when the monitor first published (its geography's first load)."""
    key = (pool.conninfo, "facts")
    cached = _cache.get(key)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    found = {layer.id: await layer_facts(pool, layer) for layer in DOWNLOAD_LAYERS}
    issued = await _value(pool, "SELECT min(loaded_at) FROM published.datasets") or datetime.now(UTC)
    _cache[key] = (time.monotonic() + FACTS_SECONDS, (found, issued))
    return found, issued


def landing(base: str) -> dict[str, str]:
    """Each dataset's page: its collection's page, or its entry of /datos for download-only layers."""
    return {layer.id: (f"{base}/collections/{layer.id}?f=html" if layer.id in CATALOGUE else f"{base}/datos#{layer.id}")
            for layer in DOWNLOAD_LAYERS}


def formats() -> dict[str, tuple[str, str, str]]:
    return {ext: (fmt.name, fmt.media_type, fmt.label) for ext, fmt in FORMATS.items()}


@get_and_head(router, "/data.json", summary="The open-data catalogue in Argentina's national metadata profile "
              "(datos.gob.ar, Andino)")
async def data_json(request: Request, pool: AsyncConnectionPool = Depends(get_pool)):
    found, issued = await facts(pool)
    base = base_url(request)
    document = opendata.data_json(base, DOWNLOAD_LAYERS, found, issued, formats(), landing(base))
    return respond(request, document, JSON, CACHE_SECONDS)


@get_and_head(router, "/datos/catalog.jsonld", summary="The open-data catalogue in DCAT-AP (JSON-LD)")
async def catalog_jsonld(request: Request, pool: AsyncConnectionPool = Depends(get_pool)):
    found, issued = await facts(pool)
    base = base_url(request)
    document = opendata.dcat_jsonld(base, DOWNLOAD_LAYERS, found, issued, formats(), landing(base))
    return respond(request, document, JSON_LD, CACHE_SECONDS)


@get_and_head(router, "/datos/licencia", summary="Licence and attribution of every layer (Markdown)")
async def licence(request: Request):
    return respond(request, opendata.licence_text(DOWNLOAD_LAYERS).encode(), MARKDOWN, 3600)


def downloads_document(base: str) -> dict:
    layers = []
    for layer in DOWNLOAD_LAYERS:
        licence = opendata.licence_of(layer)
        layers.append({
            "id": layer.id, "title": layer.title, "description": layer.description,
            "licence": licence.title, "licence_url": licence.url, "attribution": opendata.attribution_of(layer),
            "links": collection_links(base, layer)
            + ([link(f"{base}/collections/{layer.id}", "collection", JSON, layer.title)]
               if layer.id in CATALOGUE else []),
        })
    return {
        "title": f"{opendata.TITLE}: datos abiertos",
        "description": "Cada capa completa en GeoJSON, CSV, GeoPackage y FlatGeobuf (los filtros de los items "
                       "también valen aquí), todo junto en monitor.zip, y los catálogos para portales de datos.",
        "links": [link(f"{base}/datos", "self", JSON), link(f"{base}/datos?f=html", "alternate", HTML),
                  link(f"{base}/datos/monitor.zip", "enclosure", "application/zip",
                       "Todas las capas, el diccionario de datos y la licencia (ZIP)"),
                  link(f"{base}/data.json", "describedby", JSON, "Catálogo data.json (perfil nacional de metadatos)"),
                  link(f"{base}/datos/catalog.jsonld", "describedby", JSON_LD, "Catálogo DCAT-AP (JSON-LD)"),
                  link(f"{base}/datos/diccionario.csv", "describedby", "text/csv", "Diccionario de datos (CSV)"),
                  link(f"{base}/datos/licencia", "license", MARKDOWN, "Licencia y atribución de cada capa")],
        "layers": layers,
    }


def downloads_page(document: dict, base: str) -> str:
    rows = []
    for layer in document["layers"]:
        files = " · ".join(f'<a href="{escape(download_url(base, _layer(layer["id"]), ext))}">{escape(fmt.label)}</a>'
                           for ext, fmt in FORMATS.items())
        rows.append(f'<tr id="{escape(layer["id"])}"><td><strong>{escape(layer["title"])}</strong><br>'
                    f'<code>{escape(layer["id"])}</code></td><td>{files}</td>'
                    f'<td>{escape(layer["licence"])}<br><small>{escape(layer["attribution"])}</small></td></tr>')
    return (f"<h1>Datos abiertos</h1><p>{escape(document['description'])}</p>"
            f'<p><a href="/datos/monitor.zip">Todo en un ZIP</a> (GeoPackage, CSV, diccionario y licencia) · '
            f'<a href="/data.json">data.json</a> · <a href="/datos/catalog.jsonld">DCAT-AP</a> · '
            f'<a href="/datos/diccionario.csv">diccionario de datos</a> · <a href="/datos/licencia">licencia</a></p>'
            "<table><thead><tr><th>Capa</th><th>Descargas</th><th>Licencia y atribución</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _layer(layer_id: str) -> Layer:
    return next(layer for layer in DOWNLOAD_LAYERS if layer.id == layer_id)


@get_and_head(router, "/datos", summary="Every download: each layer in every format, the ZIP and the catalogues")
async def downloads(request: Request, f: str | None = Query(None, description="json or html")):
    base = base_url(request)
    document = downloads_document(base)
    if output_format(request, ("json", "html")) == "html":
        response = page("Datos abiertos", downloads_page(document, base), description=document["description"],
                        wide=True)
        response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
        return response
    return respond(request, document, JSON, CACHE_SECONDS)
