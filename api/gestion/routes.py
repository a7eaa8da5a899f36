"""The back-office's pages and the few reads they need that the public API does not give.

Pages: each is the layout (api/gestion/layout.py) with the signed-in person's role and the view to show; the
script `api/web/static/gestion/gestion.js` draws the view and writes through the feature API (`/collections/…`,
`/moderation/…`, `/surveys/links`, `/admin/…`) with the session cookie and its CSRF token, so every write meets the
same checks as a bearer token's. Without a session a page sends to /gestion/entrar.

Reads (`/gestion/api/…`, a session or a bearer token): a form's fields (api/gestion/forms.py), a record as stored
(also an organisation's pending one, which the public API does not publish) with its ETag, the instances one may
edit and the records under one of them. Who may open a record is the write routes' own rule (`check_owner`).

Invitations (`/admin/invitations`, admins): create, list, revoke one-time links for organisations.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, RedirectResponse, Response
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict, Field

from api.auth import admin, principal
from api.errors import Problem
from api.features.items import item_etag
from api.features.writes import check_owner, editable_target, execute
from api.gestion import forms
from api.gestion.layout import NO_STORE, gestion_page
from api.gestion.sessions import current_session, invitation_url
from api.pages import escape
from gis import edits, sessions
from gis.auth import Principal, TokenError

router = APIRouter(tags=["Gestión (back-office)"])
pages = APIRouter(include_in_schema=False)
CITY_TZ = "America/Argentina/Cordoba"


# ---------------------------------------------------------------------------------------------- pages
def refusal_page(title: str, message: str, status: int, caller: Principal, secret: str) -> Response:
    main = (f'<h1>{escape(title)}</h1>\n<p class="notice error-notice" role="alert">{escape(message)}</p>\n'
            '<p><a href="/gestion">Volver al inicio de la gestión</a></p>')
    return gestion_page(title, main, status=status, caller=caller, secret=secret)


async def signed_in(request: Request) -> tuple[Principal | None, str | None, Response | None]:
    caller, secret = await current_session(request)
    if caller is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return None, None, RedirectResponse(f"/gestion/entrar?siguiente={quote(target, safe='/')}",
                                            status_code=303, headers=NO_STORE)
    return caller, secret, None


def app_page(request: Request, caller: Principal, secret: str, title: str, view: str, current: str = "",
             **data) -> Response:
    main = (f'<h1 id="titulo" tabindex="-1">{escape(title)}</h1>\n<div id="vista" aria-live="polite">'
            '<p class="muted">Cargando…</p></div>\n<noscript><p class="notice">Esta parte de la gestión necesita '
            'JavaScript.</p></noscript>')
    return gestion_page(title, main, caller=caller, secret=secret, current=current or request.url.path,
                        app={"view": view, **data})


VIEWS = {  # path → (title, view, who may see it)
    "/gestion": ("Inicio", "inicio", "any"),
    "/gestion/moderacion": ("Propuestas para revisar", "moderacion", "editor"),
    "/gestion/evaluaciones": ("Estándares derivados para revisar", "evaluaciones", "editor"),
    "/gestion/encuestas": ("Encuestas y códigos QR", "encuestas", "editor"),
    "/gestion/organizaciones": ("Organizaciones", "organizaciones", "editor"),
    "/gestion/accesos": ("Claves de acceso e invitaciones", "accesos", "admin"),
}


def allowed(caller: Principal, who: str) -> bool:
    return who == "any" or (who == "editor" and caller.is_editor) or (who == "admin" and caller.role == "admin")


def view_route(path: str, title: str, view: str, who: str) -> None:
    async def endpoint(request: Request):
        caller, secret, redirect = await signed_in(request)
        if redirect:
            return redirect
        if not allowed(caller, who):
            return refusal_page("Sin permiso", "Esta sección es para el equipo del monitor (edición o "
                                "administración).", 403, caller, secret)
        return app_page(request, caller, secret, title, view)
    pages.add_api_route(path, endpoint, methods=["GET"])


for _path, (_title, _view, _who) in VIEWS.items():
    view_route(_path, _title, _view, _who)


async def record_or_refusal(request: Request, caller: Principal, secret: str, collection: str,
                            feature_id: str) -> tuple[dict | None, Response | None]:
    try:
        return await stored_record(request, caller, collection, feature_id), None
    except Problem as exc:
        if exc.status == 403:
            return None, refusal_page("No podés abrir este registro", "Este registro es de otra organización: "
                                      "solo podés abrir los de la tuya.", 403, caller, secret)
        return None, refusal_page("No encontramos ese registro", "No existe o fue borrado.", 404, caller, secret)
    except edits.NotFound:
        return None, refusal_page("No encontramos ese registro", "No existe o fue borrado.", 404, caller, secret)


@pages.get("/gestion/nuevo/{collection}")
async def new_record_page(collection: str, request: Request):
    caller, secret, redirect = await signed_in(request)
    if redirect:
        return redirect
    if forms.policy_of(collection) is None:
        return refusal_page("No encontramos esa sección", "No hay formularios para eso.", 404, caller, secret)
    names = forms.COLLECTIONS[collection]
    if not caller.is_editor and collection in forms.EDITORS_ONLY:
        return refusal_page("Sin permiso", f"El equipo del monitor carga cada {names['one']}.", 403, caller, secret)
    return app_page(request, caller, secret, names["new"], "formulario", collection=collection, mode="nuevo")


@pages.get("/gestion/editar/{collection}/{feature_id}")
async def edit_record_page(collection: str, feature_id: str, request: Request):
    caller, secret, redirect = await signed_in(request)
    if redirect:
        return redirect
    if forms.policy_of(collection) is None:
        return refusal_page("No encontramos esa sección", "No hay formularios para eso.", 404, caller, secret)
    record, refused = await record_or_refusal(request, caller, secret, collection, feature_id)
    if refused:
        return refused
    names = forms.COLLECTIONS[collection]
    return app_page(request, caller, secret, f"Editar {names['one']}", "formulario", collection=collection,
                    mode="editar", id=record["id"])


@pages.get("/gestion/instancias/{feature_id}")
async def instance_page(feature_id: str, request: Request):
    caller, secret, redirect = await signed_in(request)
    if redirect:
        return redirect
    record, refused = await record_or_refusal(request, caller, secret, "instances", feature_id)
    if refused:
        return refused
    return app_page(request, caller, secret, record["values"]["name"], "instancia", id=record["id"])


@pages.get("/gestion/", include_in_schema=False)
async def slash():
    return RedirectResponse("/gestion", status_code=308)


# ---------------------------------------------------------------------------------------------- reads
def local_text(value, zone: str) -> object:
    """Times as the forms show them: wall-clock time in the record's time zone, to the minute."""
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value


async def stored_record(request: Request, caller: Principal, collection: str, feature_id: str) -> dict:
    """A record as stored (model fields), its version and ETag; only the owner's organisation or an editor."""
    if forms.policy_of(collection) is None:
        raise Problem(404, "Not Found", f"the back-office has no form for {collection!r}")
    layer, policy, row_id = editable_target(collection, feature_id)

    def work(conn):
        row = edits.load(conn, policy, row_id, lock=False)
        check_owner(conn, caller, policy, row_id)
        return row

    row = await execute(request, caller, work)
    values = edits.stored_values(policy, row)
    if not caller.is_editor:  # what the organisation's form does not offer (editors' notes) is not sent either
        values = {k: v for k, v in values.items() if k not in forms.EDITOR_FIELDS or k == "organization_id"}
    zone = values.get("timezone") or CITY_TZ
    values = {k: local_text(v, zone) for k, v in values.items()}
    record = {"collection": collection, "id": row_id, "version": row["version"],
              "etag": item_etag(layer, row_id, row["version"]), "values": values,
              "owner": row["owner_organization_id"], "updated_at": row.get("updated_at")}
    if policy.moderated:
        record["moderation"] = {"state": row["moderation"], "reason": row["moderation_reason"]}
    if policy.has_document:
        record["document"] = {"name": row.get("document_name"), "sha256": row.get("document_sha256")}
    return jsonable_encoder(record)


@router.get("/gestion/api/formularios/{collection}", summary="A back-office form: the fields of a collection's "
            "model the caller may set, with Spanish labels and choices")
async def form_fields(collection: str, caller: Principal = Depends(principal)):
    if forms.policy_of(collection) is None:
        raise Problem(404, "Not Found", f"the back-office has no form for {collection!r}")
    return JSONResponse(forms.form_spec(collection, caller), headers=NO_STORE)


@router.get("/gestion/api/registros/{collection}/{featureId}",
            summary="A record as stored, with its ETag (its organisation's tokens or editors; pending ones too)")
async def record(collection: str, featureId: str, request: Request,  # noqa: N803
                 caller: Principal = Depends(principal)):
    found = await stored_record(request, caller, collection, featureId)
    return JSONResponse(found, headers={**NO_STORE, "ETag": found["etag"]})


INSTANCES = """
SELECT i.id, i.name, i.kind, k.label_es AS kind_label, i.moderation, i.moderation_reason, i.status, i.modality,
       i.organization_id, o.name AS organization, b.name AS barrio, i.version, i.created_at, i.updated_at,
       (SELECT count(*) FROM monitor.activities a WHERE a.instance_id = i.id AND a.deleted_at IS NULL) AS activities,
       (SELECT count(*) FROM monitor.experiences e WHERE e.instance_id = i.id AND e.deleted_at IS NULL) AS experiences,
       (SELECT count(*) FROM monitor.commitments c WHERE c.instance_id = i.id AND c.deleted_at IS NULL) AS commitments
FROM monitor.instances i
LEFT JOIN monitor.instance_kinds k ON k.code = i.kind
LEFT JOIN monitor.organizations o ON o.id = i.organization_id
LEFT JOIN monitor.barrios b ON b.mslink = i.barrio_id
WHERE i.deleted_at IS NULL AND (%(organization)s::integer IS NULL OR i.organization_id = %(organization)s)
  AND (%(id)s::integer IS NULL OR i.id = %(id)s)
  AND (%(q)s::text IS NULL OR i.name ILIKE '%%' || %(q)s || '%%' OR i.id::text = %(q)s)
ORDER BY i.updated_at DESC, i.id DESC
LIMIT %(limit)s
"""
UNDER = {
    "activities": "SELECT id, title, starts_at, ends_at, status, version FROM monitor.activities "
                  "WHERE instance_id = %s AND deleted_at IS NULL ORDER BY starts_at DESC, id DESC",
    "experiences": "SELECT e.id, e.held_on, e.attendance, e.activity_id, a.title AS activity_title, e.proposals_count, "
                   "e.version FROM monitor.experiences e LEFT JOIN monitor.activities a ON a.id = e.activity_id "
                   "WHERE e.instance_id = %s AND e.deleted_at IS NULL ORDER BY e.held_on DESC, e.id DESC",
    "commitments": "SELECT id, description, status, due_date, progress, activity_id, experience_id, version "
                   "FROM monitor.commitments WHERE instance_id = %s AND deleted_at IS NULL "
                   "ORDER BY due_date NULLS LAST, id",
}


def instances_of(conn, organization: int | None, q: str | None = None, instance: int | None = None,
                 limit: int = 100) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(INSTANCES, {"organization": organization, "q": q or None, "id": instance,
                                       "limit": limit}).fetchall()


@router.get("/gestion/api/instancias", summary="Instances the caller may edit, in any moderation state "
            "(organisations: their own; editors: all, or those whose name contains q)")
async def editable_instances(request: Request, caller: Principal = Depends(principal),
                             q: str | None = Query(None, max_length=100),
                             limit: int = Query(100, ge=1, le=500)):
    organization = None if caller.is_editor else caller.organization_id
    rows = await execute(request, caller, lambda conn: instances_of(conn, organization, q, limit=limit))
    return JSONResponse(jsonable_encoder({"instances": rows}), headers=NO_STORE)


@router.get("/gestion/api/instancias/{instanceId}/registros",
            summary="An instance the caller may edit and its activities, experiences and commitments")
async def instance_records(instanceId: int, request: Request,  # noqa: N803
                           caller: Principal = Depends(principal)):
    _, policy, _ = editable_target("instances", str(instanceId))

    def work(conn):
        check_owner(conn, caller, policy, instanceId)  # organisations: 403 for another organisation's
        found = instances_of(conn, None, instance=instanceId, limit=1)
        if not found:
            raise Problem(404, "Not Found", f"no instance {instanceId}")
        with conn.cursor(row_factory=dict_row) as cur:
            under = {key: cur.execute(query, (instanceId,)).fetchall() for key, query in UNDER.items()}
        return {"instance": found[0], **under}

    return JSONResponse(jsonable_encoder(await execute(request, caller, work)), headers=NO_STORE)


# ---------------------------------------------------------------------------------------------- invitations
class InvitationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organization: str = Field(min_length=1, max_length=200, description="the organisation: id, external id or name")
    name: str = Field(min_length=1, max_length=200, description="who will use it (names the token it mints)")
    days: int = Field(sessions.INVITATION_DAYS, ge=1, le=sessions.MAX_INVITATION_DAYS)


@router.get("/admin/invitations", summary="One-time invitation links for organisations, never their codes (admins)")
async def list_invitations(request: Request, caller: Principal = Depends(admin)):
    rows = await execute(request, caller, sessions.list_invitations)
    return JSONResponse(jsonable_encoder({"invitations": rows}), headers=NO_STORE)


@router.post("/admin/invitations", status_code=201,
             summary="Make a one-time invitation link for an organisation; the link is shown only in this answer")
async def create_invitation(body: InvitationIn, request: Request, caller: Principal = Depends(admin)):
    try:
        invitation_id, code, expires = await execute(
            request, caller, lambda conn: sessions.create_invitation(conn, body.organization, body.name, body.days))
    except (TokenError, ValueError) as exc:
        raise Problem(400, "Invalid invitation", str(exc), field="organization" if isinstance(exc, TokenError)
                      else "name") from None
    url = invitation_url(request, code)
    return JSONResponse(jsonable_encoder({"id": invitation_id, "url": url, "expires_at": expires, "name": body.name}),
                        status_code=201, headers={**NO_STORE, "Location": url})


@router.delete("/admin/invitations/{invitationId}", status_code=204, summary="Revoke an unused invitation (admins)")
async def revoke_invitation(invitationId: int, request: Request, caller: Principal = Depends(admin)):  # noqa: N803
    if not await execute(request, caller, lambda conn: sessions.revoke_invitation(conn, invitationId)):
        raise Problem(404, "Not Found", f"no open invitation {invitationId}")
    return Response(status_code=204)
