"""A document attached to a record (an experience's minutes): uploaded once, kept under its SHA-256, served back.

Any layer whose edit policy says `has_document` gets the two routes; who may upload is who may edit the record.
The file is stored content-addressed (`MONITOR_DOCUMENTS_DIR/<sha256>`), so the hash in the record proves which
bytes were published and the same file uploaded twice is stored once.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from psycopg import sql

from api.auth import principal
from api.database import get_pool
from api.errors import Problem
from api.features.writes import check_if_match, check_owner, editable_target, execute, written
from api.http import READ_CORS
from gis import edits
from gis.auth import Principal

router = APIRouter(tags=["OGC API - Features - Part 4"])

MAX_DOCUMENT_BYTES = 20 * 2**20
# What minutes and results come as; anything else (executables, HTML that would run in our origin) is refused.
MEDIA_TYPES = {
    "application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "text/plain": ".txt",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}
SAFE_NAME = re.compile(r"[^\w.\- ]+", re.UNICODE)


def documents_dir(request: Request) -> Path:
    return Path(request.app.state.settings.documents_dir)


def document_target(collection_id: str, feature_id: str):
    layer, policy, row_id = editable_target(collection_id, feature_id)
    if not policy.has_document:
        raise Problem(404, "Not Found", f"{layer.id} records have no documents")
    return layer, policy, row_id


def file_name(request: Request, media_type: str) -> str:
    """The name shown to readers: ?name=, or Content-Disposition's filename, cleaned; never a path."""
    given = request.query_params.get("name") or ""
    if not given:
        found = re.search(r'filename="?([^";]+)"?', request.headers.get("content-disposition", ""))
        given = found.group(1) if found else ""
    name = SAFE_NAME.sub("_", os.path.basename(given)).strip(" ._")[:120]
    return name or f"documento{MEDIA_TYPES[media_type]}"


async def store(request: Request) -> tuple[str, int]:
    """Stream the body to a temporary file beside the store, hashing it; then move it under its hash."""
    folder = documents_dir(request)
    folder.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".upload-", delete=False) as handle:
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_DOCUMENT_BYTES:
                    raise Problem(413, "Document too large", f"a document is at most {MAX_DOCUMENT_BYTES} bytes")
                digest.update(chunk)
                handle.write(chunk)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise
    if size == 0:
        Path(handle.name).unlink(missing_ok=True)
        raise Problem(400, "Empty document", "the body is the document's bytes; it was empty")
    sha256 = digest.hexdigest()
    os.replace(handle.name, folder / sha256)
    return sha256, size


@router.put("/collections/{collectionId}/items/{featureId}/document", summary="Attach the record's document")
async def upload(collectionId: str, featureId: str, request: Request,  # noqa: N803
                 caller: Principal = Depends(principal)):
    layer, policy, row_id = document_target(collectionId, featureId)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        raise Problem(415, "Unsupported media type", f"send the document as one of: {', '.join(MEDIA_TYPES)}")
    expected = check_if_match(request, layer, row_id, required=False)
    name = file_name(request, media_type)
    await execute(request, caller, lambda conn: check_owner(conn, caller, policy, row_id))  # before storing bytes
    sha256, size = await store(request)

    def work(conn):
        check_owner(conn, caller, policy, row_id)
        return edits.attach_document(conn, policy, row_id, name, sha256, expected)

    version = await execute(request, caller, work)
    return written(request, layer, row_id, version, 200, document_name=name, document_sha256=sha256, size=size)


@router.get("/collections/{collectionId}/items/{featureId}/document", summary="The record's document")
async def download(collectionId: str, featureId: str, request: Request, pool=Depends(get_pool)):  # noqa: N803
    layer, policy, row_id = document_target(collectionId, featureId)
    async with pool.connection() as conn:
        row = await (await conn.execute(sql.SQL("SELECT document_name, document_sha256 FROM {} WHERE id = %s").format(
            sql.Identifier(*layer.source.split("."))), (row_id,))).fetchone()
    if row is None or row[1] is None:
        raise Problem(404, "Not Found", f"{layer.id} {row_id} has no published document")
    path = documents_dir(request) / row[1]
    if not path.is_file():
        raise Problem(404, "Not Found", "the document's file is missing from the server's store")
    headers = {**READ_CORS.headers, "ETag": f'"{row[1]}"', "Cache-Control": "public, max-age=3600",
               "Content-Disposition": f'attachment; filename="{row[0]}"', "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match", "").strip('"') == row[1]:
        return Response(status_code=304, headers=headers)
    suffix = Path(row[0]).suffix.lower()
    media_type = next((m for m, s in MEDIA_TYPES.items() if s == suffix), "application/octet-stream")
    return FileResponse(path, media_type=media_type, headers=headers)
