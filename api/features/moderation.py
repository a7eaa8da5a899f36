"""Moderation and housekeeping around Part 4: the pending queue, approve/reject, restore, history, tokens."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from api.auth import admin, editor, principal
from api.errors import Problem
from api.features.items import item_etag
from api.features.writes import editable_target, execute, written
from gis import auth as tokens
from gis import edits, moderation
from gis.auth import Principal

router = APIRouter(tags=["Moderation"])
QUEUE = "instances"  # the moderated collection whose queue these routes show


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "reject"]
    reason: str | None = Field(None, max_length=2000)


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["admin", "editor", "organization"]
    name: str = Field(min_length=1, max_length=200)
    organization: str | None = None


@router.get("/moderation/pending", summary="Submissions and changes to approved instances awaiting moderation "
            "(editors: all; organisations: theirs, also rejected ones with the reason)")
async def pending(request: Request, caller: Principal = Depends(principal)):
    organization = None if caller.is_editor else caller.organization_id
    states = ("pending",) if caller.is_editor else ("pending", "rejected")

    def work(conn):
        return (moderation.submissions(conn, organization, states),
                moderation.changes(conn, organization, states))

    rows, changes = await execute(request, caller, work)
    if not caller.is_editor:  # editors' notes stay theirs, even on an organisation's own records
        for row in rows:
            row.pop("private_notes", None)
        for change in changes:
            change["current"].pop("private_notes", None)
    layer, _, _ = editable_target(QUEUE)
    return {"submissions": [{**row, "etag": item_etag(layer, row["id"], row["version"])} for row in rows],
            "changes": [{**row, "etag": item_etag(layer, row["id"], row["version"])} for row in changes]}


@router.post("/moderation/{instanceId}", summary="Approve or reject a submitted instance, or an organisation's "
             "pending change to an approved one (editors)")
async def decide(instanceId: int, decision: Decision, request: Request,  # noqa: N803
                 caller: Principal = Depends(editor)):
    state = "approved" if decision.decision == "approve" else "rejected"
    layer, policy, _ = editable_target(QUEUE)
    version, about_change = await execute(
        request, caller, lambda conn: moderation.decide(conn, policy, instanceId, state, decision.reason))
    if about_change:  # an organisation's change to an approved instance: applied, or refused (still approved)
        return written(request, layer, instanceId, version, 200, moderation="approved", change=state)
    return written(request, layer, instanceId, version, 200, moderation=state)


@router.post("/collections/{collectionId}/items/{featureId}/restore", summary="Undo a delete (editors)")
async def restore(collectionId: str, featureId: str, request: Request,  # noqa: N803
                  caller: Principal = Depends(editor)):
    layer, policy, row_id = editable_target(collectionId, featureId)
    version = await execute(request, caller, lambda conn: edits.restore(conn, policy, row_id))
    return written(request, layer, row_id, version, 200)


@router.get("/collections/{collectionId}/items/{featureId}/history",
            summary="Every change to a feature: who, when, previous and new values (editors)")
async def history(collectionId: str, featureId: str, request: Request,  # noqa: N803
                  caller: Principal = Depends(editor)):
    _, policy, row_id = editable_target(collectionId, featureId)
    return {"changes": await execute(request, caller, lambda conn: edits.history(conn, policy, row_id))}


@router.get("/admin/tokens", summary="API tokens, never their secrets (admins)")
async def list_tokens(request: Request, caller: Principal = Depends(admin)):
    return {"tokens": await execute(request, caller, tokens.list_tokens)}


@router.post("/admin/tokens", status_code=201, summary="Create a token; the secret is shown only in this answer")
async def create_token(body: TokenIn, request: Request, caller: Principal = Depends(admin)):
    try:
        token_id, secret = await execute(
            request, caller, lambda conn: tokens.create_token(conn, body.role, body.name, body.organization))
    except tokens.TokenError as exc:  # the role/organisation pair is wrong: nothing was stored
        raise Problem(400, "Invalid token request", str(exc)) from None
    return {"id": token_id, "role": body.role, "name": body.name, "token": secret}


@router.delete("/admin/tokens/{tokenId}", status_code=204, summary="Revoke a token (admins)")
async def revoke_token(tokenId: int, request: Request, caller: Principal = Depends(admin)):  # noqa: N803
    if not await execute(request, caller, lambda conn: tokens.revoke_token(conn, tokenId)):
        raise Problem(404, "Not Found", f"no live token {tokenId}")
