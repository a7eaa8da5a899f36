"""/collections/{collectionId}/items and /items/{featureId}: GeoJSON pages built by PostgreSQL."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from psycopg_pool import AsyncConnectionPool

from api import downloads
from api.database import get_pool
from api.errors import Problem
from api.features.html import render
from api.features.pages import MAX_SELECTION_KEYS, Page, Selection, pages_of
from api.features.params import DEFAULT_LIMIT, MAX_LIMIT, read_items_query
from api.formats import features_csv
from api.http import CSV, GEOJSON, HTML, JSON, base_url, layer_or_404, link, output_format, respond
from api.routing import get_and_head
from layers.features_sql import (
    ItemsQuery,
    count_sql,
    crs_by_uri,
    item_sql,
    items_statement,
    keyed_page_statement,
    selection_statement,
)
from layers.layer import Layer

ITEM_FORMATS = ("json", "html", "csv")

router = APIRouter(tags=["OGC API - Features"])


async def run(pool: AsyncConnectionPool, statement, params) -> tuple:
    """One row, in binary (pages' features are bytea: the bytes of the answer). Database refusals of a value and
    timeouts become problems in api/errors.py."""
    async with pool.connection() as conn:
        return await (await conn.execute(statement, params, binary=True)).fetchone()


async def read_page(request: Request, pool: AsyncConnectionPool, layer: Layer, query: ItemsQuery) -> Page:
    """The page `query` asks, exact: kept, or read by id from its kept selection, or read with its selection."""
    pages = pages_of(request.app)
    tables = await pages.tables(layer)
    key, selection_key = (layer.id, query.key()), (layer.id, query.selection())
    if tables is not None and (kept := await pages.get(key, tables)) is not None:
        return kept
    if tables is None or selection_key in pages.too_large:  # the page alone, with its count, in one statement
        features, returned, matched, versions = await run(pool, *items_statement(layer, query, tables or ()))
        if matched is None:  # past the last match: nothing carried the count, and the page is not kept
            matched = query.offset + returned if query.offset == 0 else (await run(pool, *count_sql(layer, query)))[0]
            return Page(features, returned, matched, ())
        page = Page(features, returned, matched, tuple(versions or ()))
        if tables is not None:
            pages.put(key, page)
        return page
    if (selection := pages.selection(selection_key)) is not None:
        ids = list(selection.keys[query.offset:query.offset + query.limit])
        _, features = await run(pool, *keyed_page_statement(layer, query, tables, selection.versions, ids))
        if features is not None:  # the versions the ids were read with are still current
            page = Page(features, len(ids), len(selection.keys), selection.versions)
            pages.put(key, page)
            return page
        pages.forget_selection(selection_key)
    keys, matched, features, returned, versions = await run(
        pool, *selection_statement(layer, query, tables, MAX_SELECTION_KEYS))
    page = Page(features, returned, matched, tuple(versions))
    if keys is not None:
        pages.keep_selection(selection_key, Selection(tuple(keys), page.versions))
    else:  # its pages are read one by one (a top-N sort each) rather than sorting it all for ids never kept
        pages.too_large[selection_key] = None
    pages.put(key, page)
    return page


def page_links(request: Request, layer: Layer, query: ItemsQuery, returned: int, matched: int) -> list[dict]:
    url = f"{base_url(request)}/collections/{layer.id}/items"
    params = dict(request.query_params)

    def at(offset: int, **extra) -> str:
        return f"{url}?{urlencode({**params, 'offset': offset, 'limit': query.limit, **extra})}"

    links = [link(at(query.offset), "self", GEOJSON, "This page"),
             link(at(query.offset, f="html"), "alternate", HTML, "This page as HTML"),
             link(f"{base_url(request)}/collections/{layer.id}", "collection", JSON, layer.title)]
    if query.offset + returned < matched:
        links.append(link(at(query.offset + query.limit), "next", GEOJSON, "Next page"))
    if query.offset > 0:
        links.append(link(at(max(query.offset - query.limit, 0)), "prev", GEOJSON, "Previous page"))
    return links


@get_and_head(router, "/collections/{collectionId}/items", summary="Features of a layer")
async def items(
    collectionId: str,  # noqa: N803
    request: Request,
    pool: AsyncConnectionPool = Depends(get_pool),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Features per page"),
    offset: int = Query(0, ge=0, description="Features to skip"),
    bbox: str | None = Query(None, description="minx,miny,maxx,maxy in bbox-crs (default CRS84 lon/lat)"),
    bbox_crs: str | None = Query(None, alias="bbox-crs", description="CRS of bbox (Part 2)"),
    datetime_: str | None = Query(None, alias="datetime", description="RFC 3339 instant or interval"),
    filter_: str | None = Query(None, alias="filter", description="CQL2 filter (Part 3)"),
    filter_lang: str | None = Query(None, alias="filter-lang", description="cql2-text (default) or cql2-json"),
    filter_crs: str | None = Query(None, alias="filter-crs", description="CRS of geometries in filter"),
    sortby: str | None = Query(None, description="e.g. +name,-population"),
    properties: str | None = Query(None, description="Comma-separated properties to include"),
    crs: str | None = Query(None, description="CRS of the response geometries (Part 2)"),
    f: str | None = Query(None, description="json (GeoJSON), html, csv (properties and a WKT geometry column), "
                           "or gpkg / fgb (GeoPackage, FlatGeobuf: the whole selection)"),
    download: bool | None = Query(None, description="true: the whole selection as a file (limit and offset "
                                  "ignored), in f = json, csv, gpkg or fgb"),
):
    layer = layer_or_404(collectionId)
    if downloads.is_download(request):  # f=gpkg|fgb or download=true: the whole selection (api/downloads.py)
        return await downloads.items_download(request, pool, layer)
    fmt = output_format(request, ITEM_FORMATS)
    query = await read_items_query(request, layer)  # a filter is parsed in a worker thread, with limits
    page = await read_page(request, pool, layer, query)
    features, returned, matched = page.features, page.returned, page.matched
    head = {"type": "FeatureCollection", "numberMatched": matched, "numberReturned": returned,
            "links": page_links(request, layer, query, returned, matched)}
    headers = {"Content-Crs": f"<{query.crs.uri}>"}
    if fmt == "html":
        document = {**head, "features": json.loads(b"[" + features + b"]")}
        return respond(request, render(document, layer.title), HTML, layer.cache_seconds, headers=headers)
    if fmt == "csv":
        names = query.properties if query.properties is not None else layer.property_names
        headers["Content-Disposition"] = f'inline; filename="{layer.id}.csv"'
        headers["Link"] = ", ".join(f'<{x["href"]}>; rel="{x["rel"]}"' for x in head["links"] if x["rel"] in
                                    ("next", "prev"))
        return respond(request, features_csv(json.loads(b"[" + features + b"]"), names), CSV, layer.cache_seconds,
                       headers={k: v for k, v in headers.items() if v})
    prefix = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1].encode()
    body = b"".join((prefix, b',"features":[', features, b"]}"))
    # A page read with data versions is a function of its query and those versions: they tag it, not its bytes.
    identity = prefix + repr((layer.id, query.key(), page.versions)).encode() if page.versions else None
    return respond(request, body, GEOJSON, layer.cache_seconds, headers=headers, identity=identity)


def parse_feature_id(layer: Layer, feature_id: str):
    if layer.id_type == "integer":
        try:
            value = int(feature_id)
        except ValueError:
            raise Problem(404, "Not Found", f"{layer.id} ids are integers; {feature_id!r} is none") from None
        if not -2**63 <= value < 2**63:  # bigint ids (H3 cells) included
            raise Problem(404, "Not Found", f"no feature {feature_id} in {layer.id}")
        return value
    return feature_id


def item_etag(layer: Layer, feature_id, version: int | None) -> str | None:
    """Editable layers: the row version, the same tag that If-Match is checked against on writes."""
    return f'"{layer.id}-{feature_id}-v{version}"' if version is not None else None


@get_and_head(router, "/collections/{collectionId}/items/{featureId}", summary="One feature")
async def item(
    collectionId: str,  # noqa: N803
    featureId: str,  # noqa: N803
    request: Request,
    pool: AsyncConnectionPool = Depends(get_pool),
    crs: str | None = Query(None, description="CRS of the response geometry (Part 2)"),
    f: str | None = Query(None, description="json or html"),
):
    layer = layer_or_404(collectionId)
    unknown = [k for k in request.query_params if k not in ("crs", "f", "properties")]
    if unknown:
        raise Problem(400, "Unknown parameter", f"unknown query parameter(s): {', '.join(unknown)}")
    feature_id = parse_feature_id(layer, featureId)
    fmt = output_format(request, ("json", "html"))
    out_crs = crs_by_uri(crs)
    props = request.query_params.get("properties")
    statement, params = item_sql(layer, feature_id, out_crs, props.split(",") if props else None)
    row = await run(pool, statement, params)
    if row is None:
        raise Problem(404, "Not Found", f"no feature {featureId} in {layer.id}")
    feature = json.loads(row[0])
    root = f"{base_url(request)}/collections/{layer.id}"
    feature["links"] = [link(f"{root}/items/{featureId}", "self", GEOJSON),
                        link(f"{root}/items/{featureId}?f=html", "alternate", HTML),
                        link(root, "collection", JSON, layer.title)]
    headers = {"Content-Crs": f"<{out_crs.uri}>"}
    etag = item_etag(layer, feature_id, row[1])
    if fmt == "html":
        return respond(request, render(feature, f"{layer.title}: {featureId}"), HTML, layer.cache_seconds,
                       headers=headers)
    return respond(request, feature, GEOJSON, layer.cache_seconds, headers=headers, etag=etag)
