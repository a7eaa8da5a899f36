"""Whole selections of every public collection as files: GeoJSON, CSV, GeoPackage and FlatGeobuf, and the bulk ZIP.

A download is the whole selection the items' filters choose (`bbox`, `datetime`, property equality, CQL2 `filter`,
`sortby`, `properties`, `crs`: parsed by the same code, compiled by the same SQL builder) with no page: `limit` and
`offset` are ignored. Offered at `/datos/{collection}.{geojson,csv,gpkg,fgb}`, as `f=gpkg` / `f=fgb` of the items,
and as `download=true` with the items' own formats (`f=json`, `f=csv`).

Memory stays flat whatever the size. Rows are read through a server-side cursor, `BATCH_ROWS` at a time:
- GeoJSON and CSV are written to the response as the rows arrive (a chunked response, gzipped on the fly when the
  client accepts it); PostgreSQL builds each GeoJSON Feature as for the items, and CSV rows go through the one CSV
  writer (api/formats.py), so a download is byte for byte the items' pages put together.
- GeoPackage and FlatGeobuf need a whole file (a GeoPackage is a SQLite database; FlatGeobuf's spatial index is
  written last). Each batch is appended to a GeoPackage with pyogrio (GDAL) in a worker thread; a FlatGeobuf is then
  copied from it by GDAL through an Arrow stream (pyogrio.open_arrow → write_arrow, batch by batch). The file is
  streamed from disk and removed afterwards.
A download holds a database connection while it reads, so at most half the pool's connections serve downloads at
once; past that the answer is 503 with Retry-After.

`/datos/monitor.zip` holds every collection (and the aggregated satisfaction) in one GeoPackage and as one CSV each,
the data dictionary written from the catalogue's property titles (layers/opendata.py) and the licence.
"""

from __future__ import annotations

import asyncio
import io
import json
import math
import shutil
import tempfile
import time
import zipfile
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from psycopg_pool import AsyncConnectionPool
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams

from api.database import get_pool
from api.errors import Problem
from api.features.params import read_items_query
from api.formats import csv_header, csv_lines
from api.http import CSV, GEOJSON, MARKDOWN, READ_CORS, link, output_format, respond
from api.routing import get_and_head
from layers import opendata
from layers.catalogue import DOWNLOAD_LAYERS, get_download_layer
from layers.features_sql import STORAGE_SRID, ItemsQuery, download_sql
from layers.layer import Layer

router = APIRouter(tags=["open data"])

BATCH_ROWS = 2_000  # rows per FETCH of the server-side cursor, and per GeoPackage append
FILE_CHUNK = 256 * 1024  # bytes per read when a made file is streamed
GPKG = "application/geopackage+sqlite3"
FLATGEOBUF = "application/flatgeobuf"
ZIP = "application/zip"
# Made files live here while they are built and sent; leftovers of interrupted downloads are removed after an hour.
WORK_DIR = Path(tempfile.gettempdir()) / "monitor-downloads"
STALE_SECONDS = 3600
# Parameters of the items that a download does not use: a download is the whole selection.
NOT_FILTERS = {"f", "limit", "offset", "download"}


@dataclass(frozen=True)
class Format:
    ext: str
    media_type: str
    label: str
    name: str  # the format's name in data.json (`format`: what the file extension says)
    driver: str | None = None  # GDAL driver of a made file; None: streamed as the rows arrive


FORMATS: dict[str, Format] = {
    "geojson": Format("geojson", GEOJSON, "GeoJSON", "GeoJSON"),
    "csv": Format("csv", CSV, "CSV, geometría en WKT", "CSV"),
    "gpkg": Format("gpkg", GPKG, "GeoPackage", "GPKG", "GPKG"),
    "fgb": Format("fgb", FLATGEOBUF, "FlatGeobuf", "FGB", "FlatGeobuf"),
}
# `f` of the items → the download format (`json` is the items' GeoJSON).
ITEM_FORMATS = {"json": "geojson", "geojson": "geojson", "csv": "csv", "gpkg": "gpkg", "fgb": "fgb"}


# ---------------------------------------------------------------- links other documents carry
def download_url(base: str, layer: Layer, ext: str) -> str:
    return f"{base}/datos/{layer.id}.{ext}"


def licence_link(base: str, layer: Layer) -> dict:
    """`license`: the layer's licence (or, for the municipality's layers, the page stating their terms), with the
    attribution a reuser must give."""
    licence = opendata.licence_of(layer)
    return link(licence.url or f"{base}/datos/licencia", "license", "text/html" if licence.url else MARKDOWN,
                licence.title, attribution=opendata.attribution_of(layer))


def collection_links(base: str, layer: Layer) -> list[dict]:
    """What a collection document adds for open data: `enclosure` links to its whole content in every format,
    its licence and its attribution."""
    return [*(link(download_url(base, layer, fmt.ext), "enclosure", fmt.media_type,
                   f"{layer.title}: descarga completa ({fmt.label})") for fmt in FORMATS.values()),
            licence_link(base, layer)]


# ---------------------------------------------------------------- reading
class _Filters:
    """What `parse_items_query` reads of a request (its query string), without the parameters of a page."""

    def __init__(self, request: Request):
        self.query_params = QueryParams([(k, v) for k, v in request.query_params.multi_items()
                                         if k not in NOT_FILTERS])


async def selection(request: Request, layer: Layer) -> ItemsQuery:
    """The items' filters of this request (the same parser, limits and 400s)."""
    return await read_items_query(_Filters(request), layer)


async def batches(pool: AsyncConnectionPool, statement, params) -> AsyncIterator[list[tuple]]:
    """The rows of `statement`, BATCH_ROWS at a time, through a server-side cursor (one transaction)."""
    async with pool.connection() as conn, conn.transaction(), conn.cursor(name="download") as cursor:
        await cursor.execute(statement, params)
        while rows := await cursor.fetchmany(BATCH_ROWS):
            yield rows


def _slots(request: Request) -> asyncio.Semaphore:
    state = request.app.state
    if getattr(state, "download_slots", None) is None:
        state.download_slots = asyncio.Semaphore(max(1, state.settings.pool_size // 2))
    return state.download_slots


async def _take_slot(request: Request) -> asyncio.Semaphore:
    slots = _slots(request)
    if slots.locked():
        raise Problem(503, "Too many downloads", "every download slot is busy; retry in a few seconds",
                      {"Retry-After": "10"})
    await slots.acquire()
    return slots


# ---------------------------------------------------------------- streamed formats
async def geojson_chunks(layer: Layer, rows: AsyncIterator[list[tuple]]) -> AsyncIterator[bytes]:
    """A FeatureCollection written as the rows arrive (each row is a Feature PostgreSQL built, as for the items)."""
    head = {"type": "FeatureCollection", "name": layer.id, "timeStamp": datetime.now(UTC).isoformat()}
    yield json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1].encode() + b',"features":['
    returned = 0
    async with aclosing(rows):
        async for batch in rows:
            yield (b"," if returned else b"") + ",".join(row[0] for row in batch).encode()
            returned += len(batch)
    yield f'],"numberReturned":{returned}}}'.encode()


def wkt(geojson: Iterable[str | None]) -> list[str]:
    """GeoJSON geometries (text) → WKT as the items' CSV writes it (shapely, full precision of the GeoJSON)."""
    texts = list(geojson)
    present = [i for i, t in enumerate(texts) if t is not None]
    out = [""] * len(texts)
    if present:
        for i, value in zip(present, shapely.to_wkt(shapely.from_geojson([texts[i] for i in present]),
                                                    rounding_precision=-1), strict=True):
            out[i] = value
    return out


async def csv_chunks(names: list[str], rows: AsyncIterator[list[tuple]]) -> AsyncIterator[bytes]:
    """The items' CSV (id, the properties, a WKT column) written as the rows arrive."""
    columns = ["id", *names, "wkt"]
    yield csv_header(columns)
    async with aclosing(rows):
        async for batch in rows:
            geometries = wkt(row[-1] for row in batch)
            records = ({"id": row[0], **row[1], "wkt": g} for row, g in zip(batch, geometries, strict=True))
            yield csv_lines(records, columns)


async def gzipped(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """One gzip member compressed as the chunks arrive."""
    compressor = zlib.compressobj(5, zlib.DEFLATED, 31)  # wbits 31: the gzip container
    async with aclosing(chunks):
        async for chunk in chunks:
            if out := compressor.compress(chunk):
                yield out
    yield compressor.flush()


async def _released(chunks: AsyncIterator[bytes], release) -> AsyncIterator[bytes]:
    try:
        async with aclosing(chunks):
            async for chunk in chunks:
                yield chunk
    finally:
        release()


async def primed(chunks: AsyncIterator[bytes], release) -> AsyncIterator[bytes]:
    """The stream with its first chunk already read, so that the query's errors become problems before any header
    is sent; `release` runs once however the stream ends (done, failed, the client gone, never sent)."""
    guarded = _released(chunks, release)
    try:
        first = await guarded.__anext__()
    except StopAsyncIteration:
        first = b""

    async def rest():
        async with aclosing(guarded):
            yield first
            async for chunk in guarded:
                yield chunk
    return rest()


# ---------------------------------------------------------------- made files (GeoPackage, FlatGeobuf)
def _column(values: list, type_: str) -> tuple[np.ndarray, np.ndarray | None]:
    """A property's values as the array pyogrio writes (and a mask of nulls where the dtype has none)."""
    nulls = np.array([v is None for v in values], dtype=bool)
    if type_ == "integer":
        return np.array([0 if v is None else v for v in values], dtype=np.int64), nulls
    if type_ == "number":
        return np.array([math.nan if v is None else v for v in values], dtype=np.float64), None
    if type_ == "boolean":
        return np.array([bool(v) for v in values], dtype=bool), nulls
    if type_ == "date":
        return np.array([v.isoformat() if isinstance(v, date) else "NaT" for v in values], dtype="datetime64[D]"), None
    if type_ == "datetime":  # UTC, as GeoPackage stores date-times
        return np.array([v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) else None
                         for v in values], dtype="datetime64[ms]"), None
    if type_ == "array":  # as in CSV: joined with ";" (the importer splits them back)
        return np.array([None if v is None else ";".join(map(str, v)) for v in values], dtype=object), None
    if type_ == "object":
        return np.array([None if v is None else json.dumps(v, ensure_ascii=False, default=str) for v in values],
                        dtype=object), None
    return np.array([None if v is None else str(v) for v in values], dtype=object), None


def file_srid(query: ItemsQuery) -> int:
    """Files are written in the CRS asked (`crs`), in its traditional GIS axis order (x = longitude or easting),
    as GDAL writes GeoPackage and FlatGeobuf; CRS84 is EPSG:4326 there."""
    return query.crs.srid or STORAGE_SRID


def append_rows(path: Path, layer: Layer, names: list[str], rows: list[tuple], srid: int, create: bool) -> None:
    """Write (`create`) or append one batch of (id, properties…, WKB) rows to the layer's table in a GeoPackage."""
    id_type = "integer" if layer.id_type == "integer" else "string"
    types = [id_type] + [layer.get_property(n).type for n in names]
    fields, data, masks, offsets = ["id", *names], [], [], {}
    for position, (field, type_) in enumerate(zip(fields, types, strict=True)):
        values, mask = _column([row[position] for row in rows], type_)
        data.append(values)
        masks.append(mask)
        if type_ == "datetime":
            offsets[field] = np.zeros(len(rows), dtype=np.int16)  # 0: UTC
    geometry = np.array([row[-1] for row in rows], dtype=object) if layer.has_geometry else None
    options = {"IDENTIFIER": layer.title, "DESCRIPTION": layer.description} if create else None
    pyogrio.raw.write(
        str(path), geometry, data, fields, field_mask=masks, layer=layer.id, driver="GPKG",
        geometry_type=layer.geometry_type, crs=f"EPSG:{srid}" if layer.has_geometry else None, append=not create,
        gdal_tz_offsets=offsets, layer_options=options, dataset_options={"VERSION": "1.2"} if create else None)


def gpkg_to_fgb(source: Path, target: Path, layer: Layer, spatial_index: bool) -> None:
    """A FlatGeobuf copy of one GeoPackage table, through GDAL's Arrow stream (batch by batch). The spatial index
    is written when every feature has a geometry (FlatGeobuf indexes none without one)."""
    with pyogrio.open_arrow(str(source), layer=layer.id, use_pyarrow=False, batch_size=BATCH_ROWS) as (meta, stream):
        pyogrio.write_arrow(stream, str(target), layer=layer.id, driver="FlatGeobuf",
                            geometry_name=meta["geometry_name"] or None, geometry_type=layer.geometry_type,
                            crs=meta["crs"], SPATIAL_INDEX="YES" if spatial_index else "NO",
                            TITLE=layer.title, DESCRIPTION=layer.description)


async def write_gpkg(pool: AsyncConnectionPool, layer: Layer, query: ItemsQuery, path: Path) -> dict:
    """The selection as a table of the GeoPackage at `path` (created or added to); its row and null counts."""
    names = layer.property_names if query.properties is None else query.properties
    statement, params = download_sql(layer, query, "wkb")
    srid, count, nulls = file_srid(query), 0, 0
    rows = batches(pool, statement, params)
    async with aclosing(rows):
        async for batch in rows:
            await run_in_threadpool(append_rows, path, layer, names, batch, srid, count == 0)
            count += len(batch)
            nulls += sum(1 for row in batch if row[-1] is None)
    if count == 0:
        await run_in_threadpool(append_rows, path, layer, names, [], srid, True)
    return {"features": count, "null_geometries": nulls}


async def make_file(pool: AsyncConnectionPool, layer: Layer, query: ItemsQuery, fmt: Format, directory: Path) -> Path:
    gpkg = directory / f"{layer.id}.gpkg"
    written = await write_gpkg(pool, layer, query, gpkg)
    if fmt.ext == "gpkg":
        return gpkg
    target = directory / f"{layer.id}.{fmt.ext}"
    spatial_index = layer.has_geometry and written["null_geometries"] == 0
    await run_in_threadpool(gpkg_to_fgb, gpkg, target, layer, spatial_index)
    gpkg.unlink()
    return target


def work_directory() -> Path:
    """A private folder for one download; folders left by downloads interrupted over an hour ago go first."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    for old in WORK_DIR.iterdir():
        try:
            if time.time() - old.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
        except FileNotFoundError:
            pass
    return Path(tempfile.mkdtemp(dir=WORK_DIR))


def file_chunks(path: Path, cleanup: Path) -> Iterator[bytes]:
    """A made file read FILE_CHUNK bytes at a time (Starlette runs this in a worker thread); its folder goes at
    the end, however the response ends."""
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(FILE_CHUNK):
                yield chunk
    finally:
        shutil.rmtree(cleanup, ignore_errors=True)


# ---------------------------------------------------------------- answers
def _headers(filename: str, layer: Layer | None, query: ItemsQuery | None) -> dict:
    headers = {**READ_CORS.headers, "Content-Disposition": f'attachment; filename="{filename}"',
               "Cache-Control": f"public, max-age={layer.cache_seconds if layer else 60}",
               "Vary": "Accept, Accept-Encoding"}
    if query is not None:
        headers["Content-Crs"] = f"<{query.crs.uri}>"
    return headers


async def download(request: Request, pool: AsyncConnectionPool, layer: Layer, fmt: Format) -> Response:
    """The whole selection of `layer` chosen by the request's filters, as `fmt`."""
    query = await selection(request, layer)
    filename = f"{layer.id}.{fmt.ext}"
    headers = _headers(filename, layer, query)
    if fmt.driver is None:
        form = "feature" if fmt.ext == "geojson" else "record"
        statement, params = download_sql(layer, query, form)  # refuses bad filters before anything is sent
        if request.method == "HEAD":
            return Response(status_code=200, headers=headers, media_type=fmt.media_type)
        slots = await _take_slot(request)
        rows = batches(pool, statement, params)
        names = layer.property_names if query.properties is None else query.properties
        chunks = geojson_chunks(layer, rows) if fmt.ext == "geojson" else csv_chunks(names, rows)
        if "gzip" in request.headers.get("accept-encoding", ""):
            chunks = gzipped(chunks)
            headers["Content-Encoding"] = "gzip"
        body = await primed(chunks, slots.release)
        return StreamingResponse(body, media_type=fmt.media_type, headers=headers)
    download_sql(layer, query, "wkb")
    if request.method == "HEAD":
        return Response(status_code=200, headers=headers, media_type=fmt.media_type)
    slots = await _take_slot(request)
    directory = work_directory()
    try:
        path = await make_file(pool, layer, query, fmt, directory)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    finally:
        slots.release()
    headers["Content-Length"] = str(path.stat().st_size)
    return StreamingResponse(file_chunks(path, directory), media_type=fmt.media_type, headers=headers)


def is_download(request: Request) -> bool:
    """Items asked as a file (`f=gpkg|fgb`) or whole (`download=true`; FastAPI has checked it is a boolean)."""
    params = request.query_params
    return params.get("f") in ("gpkg", "fgb") or params.get("download", "").lower() in ("true", "1", "yes", "on")


async def items_download(request: Request, pool: AsyncConnectionPool, layer: Layer) -> Response:
    """The items' answer when `is_download`: the whole selection in the asked format."""
    f = request.query_params.get("f")
    name = f if f in ("gpkg", "fgb") else output_format(request, ("json", "csv"))
    return await download(request, pool, layer, FORMATS[ITEM_FORMATS[name]])


# ---------------------------------------------------------------- the bulk ZIP
class _Sink(io.RawIOBase):
    """Where zipfile writes a streamed archive: bytes are collected and handed out after each write. It tells
    its position but cannot seek, so zipfile writes data descriptors instead of going back."""

    def __init__(self):
        super().__init__()
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def zip_chunks(entries: list[tuple[str, Path | bytes]], cleanup: Path) -> Iterator[bytes]:
    """A ZIP archive of files and texts, streamed as it is compressed; `cleanup` goes at the end."""
    sink = _Sink()
    try:
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for name, content in entries:
                with archive.open(name, "w", force_zip64=True) as entry:
                    if isinstance(content, bytes):
                        entry.write(content)
                    else:
                        with content.open("rb") as handle:
                            while chunk := handle.read(FILE_CHUNK):
                                entry.write(chunk)
                                if out := sink.take():
                                    yield out
                if out := sink.take():
                    yield out
        yield sink.take()
    finally:
        shutil.rmtree(cleanup, ignore_errors=True)


async def write_csv(pool: AsyncConnectionPool, layer: Layer, path: Path) -> None:
    query = ItemsQuery()
    statement, params = download_sql(layer, query, "record")
    chunks = csv_chunks(layer.property_names, batches(pool, statement, params))
    with path.open("wb") as handle:
        async with aclosing(chunks):
            async for chunk in chunks:
                await run_in_threadpool(handle.write, chunk)


@get_and_head(router, "/datos/monitor.zip", summary="Every public collection, the data dictionary and the licence")
async def bulk(request: Request, pool: AsyncConnectionPool = Depends(get_pool)):
    filename = "monitor.zip"
    headers = _headers(filename, None, None)
    if request.method == "HEAD":
        return Response(status_code=200, headers=headers, media_type=ZIP)
    slots = await _take_slot(request)
    directory = work_directory()
    try:
        gpkg = directory / "monitor.gpkg"
        entries: list[tuple[str, Path | bytes]] = [("monitor.gpkg", gpkg)]
        for layer in DOWNLOAD_LAYERS:
            await write_gpkg(pool, layer, ItemsQuery(), gpkg)
            await write_csv(pool, layer, directory / f"{layer.id}.csv")
            entries.append((f"csv/{layer.id}.csv", directory / f"{layer.id}.csv"))
        entries += [("diccionario.csv", opendata.dictionary_csv(DOWNLOAD_LAYERS)),
                    ("LICENCIA.md", opendata.licence_text(DOWNLOAD_LAYERS).encode()),
                    ("LEEME.md", opendata.readme_text(DOWNLOAD_LAYERS).encode())]
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    finally:
        slots.release()
    return StreamingResponse(zip_chunks(entries, directory), media_type=ZIP, headers=headers)


@get_and_head(router, "/datos/diccionario.csv", summary="The data dictionary: every field of every collection")
async def dictionary(request: Request):
    return respond(request, opendata.dictionary_csv(DOWNLOAD_LAYERS), CSV, 3600,
                   headers={"Content-Disposition": 'inline; filename="diccionario.csv"'})


@get_and_head(router, "/datos/{collection}.{ext}", summary="A whole collection as GeoJSON, CSV, GeoPackage or "
              "FlatGeobuf, with the items' filters")
async def collection_download(collection: str, ext: str, request: Request,
                              pool: AsyncConnectionPool = Depends(get_pool)):
    layer = get_download_layer(collection)
    if layer is None:
        known = ", ".join(entry.id for entry in DOWNLOAD_LAYERS)
        raise Problem(404, "Not Found", f"no collection {collection!r}; collections: {known}")
    if ext not in FORMATS:
        raise Problem(404, "Not Found", f"no format {ext!r}; formats: {', '.join(FORMATS)}")
    return await download(request, pool, layer, FORMATS[ext])
