"""Public surveys over HTTP: the form residents answer at /encuesta/{code}, its QR code, and links for editors.

- `GET /encuesta/{code}`: the form, in Spanish, for phones, without JavaScript (plain HTML controls with labels,
  fieldsets and legends, so it works with a keyboard and a screen reader); JSON clients get its questions.
- `POST /encuesta/{code}`: one answer (a form post or JSON). An unknown code is 404, an expired or revoked one
  410, an answer out of range 400: a page in Spanish for the form, problem+json for JSON clients; nothing stored.
- `GET /encuesta/{code}/qr.svg`: a printable QR code of the form's address.
- `POST /surveys/links`, `GET /surveys/links`, `DELETE /surveys/links/{code}`: links for editors (bearer token).

Abuse limits without personal data: links expire; one answer per browser and code (a cookie set after answering);
at most RATE_LIMIT answers per RATE_WINDOW seconds per client, counted in memory under a keyed hash of the
client's address that is never stored or logged (the access log shows "-" instead of it for /encuesta/).
The data logic is in gis/surveys.py.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import time
from datetime import UTC, datetime
from hashlib import blake2b
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import segno
from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import editor
from api.database import in_write_transaction
from api.errors import Problem, problem_response
from api.http import read_body
from api.pages import escape, page
from gis import surveys
from gis.auth import Principal

router = APIRouter(tags=["surveys"])

RATE_LIMIT = 30  # answers per client address and window: enough for a meeting sharing one Wi-Fi connection
RATE_WINDOW = 600.0  # seconds
MAX_BODY_BYTES = 16 * 1024
PUBLIC_ACTOR = "public:encuesta"
LOCAL = ZoneInfo(surveys.CITY_TZ)
NO_STORE = {"Cache-Control": "no-store"}


# ---------------------------------------------------------------------------------------------- abuse limits
class RateLimiter:
    """At most `limit` hits per `window` seconds per client address, in memory only.

    An address is kept only as a keyed BLAKE2b hash whose key is drawn at random when the process starts, so the
    counters cannot be turned back into addresses, not even by reading the process's memory after a restart.
    """

    def __init__(self, limit: int = RATE_LIMIT, window: float = RATE_WINDOW, max_clients: int = 100_000,
                 clock=time.monotonic):
        self.limit, self.window, self.max_clients, self.clock = limit, window, max_clients, clock
        self._key = secrets.token_bytes(32)
        self._counts: dict[bytes, tuple[float, int]] = {}

    def _client(self, address: str) -> bytes:
        return blake2b(address.encode(), key=self._key, digest_size=16).digest()

    def hit(self, address: str) -> float | None:
        """Count one hit; None when allowed, else the seconds until the client may try again."""
        now = self.clock()
        client = self._client(address)
        start, count = self._counts.get(client, (now, 0))
        if now - start >= self.window:
            start, count = now, 0
        if count >= self.limit:
            return max(1.0, start + self.window - now)
        if client not in self._counts and len(self._counts) >= self.max_clients:
            self._forget(now)
        self._counts[client] = (start, count + 1)
        return None

    def _forget(self, now: float) -> None:
        self._counts = {c: v for c, v in self._counts.items() if now - v[0] < self.window}
        if len(self._counts) >= self.max_clients:  # a flood of addresses: start afresh rather than grow
            self._counts.clear()


def limiter(request: Request) -> RateLimiter:
    state = request.app.state
    if getattr(state, "survey_limiter", None) is None:
        state.survey_limiter = RateLimiter()
    return state.survey_limiter


class _HideSurveyClients(logging.Filter):
    """Uvicorn's access log line for a survey request shows "-" instead of the client's address."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and str(args[2]).startswith("/encuesta/"):
            record.args = ("-", *args[1:])
        return True


_access_log = logging.getLogger("uvicorn.access")
if not any(isinstance(f, _HideSurveyClients) for f in _access_log.filters):
    _access_log.addFilter(_HideSurveyClients())


# ---------------------------------------------------------------------------------------------- helpers
def public_base(request: Request) -> str:
    return (request.app.state.settings.public_url or str(request.base_url)).rstrip("/")


def cookie_name(code: str) -> str:
    return f"encuesta_{code}"


def wants_json(request: Request) -> bool:
    f = request.query_params.get("f")
    if f in ("json", "html"):
        return f == "json"
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method == "POST" and content_type == "application/json":
        return True
    accept = request.headers.get("accept", "").lower()
    return "json" in accept and "text/html" not in accept


async def run(request: Request, work, actor: str | None = None):
    """`work(conn)` in one transaction on the write pool, with the service's session settings."""
    return await in_write_transaction(request.app, actor, work)


def local_date(value: datetime) -> str:
    return value.astimezone(LOCAL).strftime("%d/%m/%Y")


def local_datetime(value: datetime) -> str:
    return value.astimezone(LOCAL).strftime("%d/%m/%Y, %H:%M")


def refusal(request: Request, status: int, title: str, detail: str, headers: dict | None = None, **extra) -> Response:
    """A refusal in Spanish: a page for people, problem+json for programs."""
    headers = {**NO_STORE, **(headers or {})}
    if wants_json(request):
        return problem_response(status, title, detail, headers, **extra)
    main = f"""<h1>{escape(title)}</h1>
<p class="notice">{escape(detail)}</p>
<p><a href="/map">Ir al mapa de la participación ciudadana</a></p>"""
    return page(title, main, status=status, indexable=False, headers=headers)


def not_found(request: Request, code: str) -> Response:
    return refusal(request, 404, "No encontramos esta encuesta",
                   f"No hay ninguna encuesta con el código «{code}». Revisá que el enlace o el código QR estén "
                   "completos, o pedile un enlace nuevo a quien organiza la actividad.")


def closed(request: Request, link: dict, reason: str) -> Response:
    detail = {
        "expired": f"Esta encuesta cerró el {local_date(link['expires_at'])} y ya no recibe respuestas.",
        "revoked": "Esta encuesta fue dada de baja por quien la organizó y ya no recibe respuestas.",
    }.get(reason, "La instancia o actividad de esta encuesta ya no está publicada; la encuesta no recibe respuestas.")
    return refusal(request, 410, "Esta encuesta ya cerró", detail + " ¡Gracias por tu interés!", reason=reason)


async def lookup(request: Request, code: str) -> tuple[dict | None, Response | None]:
    """The open link, or the refusal to send (404, 410)."""
    try:
        return await run(request, lambda conn: surveys.open_link(conn, code)), None
    except surveys.LinkNotFound:
        return None, not_found(request, code)
    except surveys.LinkClosed as exc:
        return None, closed(request, exc.link, exc.reason)


def already_answered(request: Request, code: str) -> bool:
    return request.cookies.get(cookie_name(code)) == "1"


# ---------------------------------------------------------------------------------------------- the form
def _about(link: dict) -> str:
    about = f'<p class="lead">Sobre <strong>{escape(link["instance_name"])}</strong>'
    if link["instance_is_demo"]:
        about += ' <span class="demo">(dato de demostración)</span>'
    if link["activity_id"] is not None:
        when = f", {local_datetime(link['activity_starts_at'])}" if link["activity_starts_at"] else ""
        about += f'<br>Actividad: «{escape(link["activity_title"])}»{escape(when)}'
    return about + "</p>"


def _error(errors: dict, name: str) -> tuple[str, str]:
    """The message paragraph and the attributes of a field with an error (none without)."""
    if name not in errors:
        return "", ""
    return (f'<p class="error-message" id="{name}-error">{escape(errors[name])}</p>',
            f' aria-invalid="true" aria-describedby="{name}-error"')


def _select(name: str, label: str, options: list[tuple[str, str]], chosen: str | None, errors: dict) -> str:
    message, attributes = _error(errors, name)
    items = ['<option value="">Prefiero no responder</option>'] + [
        f'<option value="{escape(value)}"{" selected" if value == chosen else ""}>{escape(text)}</option>'
        for value, text in options]
    return (f'<div class="field{" invalid" if message else ""}"><label for="{name}">{escape(label)}</label>{message}'
            f'<select id="{name}" name="{name}"{attributes}>{"".join(items)}</select></div>')


FIELD_ANCHORS = {"satisfaction": "satisfaction-1", "age_band": "age_band", "gender": "gender", "barrio_id": "barrio_id"}


def form_html(link: dict, options: surveys.Choices, values: dict | None = None, errors: dict | None = None) -> str:
    values, errors = values or {}, errors or {}

    def first(name: str):
        value = values.get(name)
        return value[0] if isinstance(value, list) and value else value

    parts = ['<h1>Encuesta de satisfacción</h1>', _about(link),
             '<p>Es anónima y lleva un minuto. No te pedimos nombre ni datos de contacto, y no guardamos tu '
             'dirección IP ni la hora en que respondés.</p>']
    if errors:
        items = []
        for name, message in errors.items():
            anchor = FIELD_ANCHORS.get(name) or (f"theme-{next(iter(options.themes))}" if name == "themes" else None)
            items.append(f'<li><a href="#{anchor}">{escape(message)}</a></li>' if anchor
                         else f"<li>{escape(message)}</li>")
        parts.append('<div class="errors" id="errores" role="alert" tabindex="-1" autofocus>'
                     f'<h2>Revisá tu respuesta</h2><ul>{"".join(items)}</ul></div>')
    parts.append(f'<form method="post" action="/encuesta/{escape(link["code"])}" accept-charset="utf-8">')

    message, attributes = _error(errors, "satisfaction")
    chosen = first("satisfaction")
    scale = "".join(
        f'<label class="option" for="satisfaction-{score}"><input type="radio" id="satisfaction-{score}" '
        f'name="satisfaction" value="{score}"{" required" if score == 1 else ""}'
        f'{" checked" if chosen == str(score) else ""}{attributes}>'
        f'<span class="score" aria-hidden="true">{score}</span> {escape(text)}</label>'
        for score, text in surveys.SATISFACTION_SCALE.items())
    invalid = ' class="invalid"' if message else ""
    parts.append(f'<fieldset{invalid}><legend>1. {escape(surveys.SATISFACTION_QUESTION)} '
                 '<span class="required">(obligatoria)</span></legend>'
                 '<p class="hint">Del 1 (muy insatisfecho/a) al 5 (muy satisfecho/a).</p>'
                 f'{message}<div class="scale">{scale}</div></fieldset>')

    message, attributes = _error(errors, "themes")
    picked = set(values.get("themes") or [])
    themes = "".join(
        f'<label class="option" for="theme-{escape(code)}"><input type="checkbox" id="theme-{escape(code)}" '
        f'name="themes" value="{escape(code)}"{" checked" if code in picked else ""}{attributes}> {escape(label)}'
        '</label>' for code, label in options.themes.items())
    invalid = ' class="invalid"' if message else ""
    parts.append(f'<fieldset{invalid}><legend>2. {escape(surveys.THEMES_QUESTION)} '
                 '<span class="required">(opcional)</span></legend>'
                 f'<p class="hint">Podés elegir varios, o ninguno.</p>{message}<div class="themes">{themes}</div>'
                 '</fieldset>')

    parts.append('<fieldset><legend>3. Sobre vos <span class="required">(opcional)</span></legend>'
                 '<p class="hint">Nos ayuda a saber si la participación llega a toda la ciudad. Podés dejar todo '
                 'en blanco.</p>'
                 + _select("age_band", "Edad", list(surveys.AGE_BANDS.items()), first("age_band"), errors)
                 + _select("gender", "Género", list(surveys.GENDERS.items()), first("gender"), errors)
                 + _select("barrio_id", "Barrio donde vivís",
                           [(str(i), name) for i, name in options.barrios.items()], first("barrio_id"), errors)
                 + "</fieldset>")
    parts.append('<button type="submit">Enviar respuesta</button></form>')
    parts.append(f'<p class="privacy">Las respuestas se publican solo en conjunto, cuando hay al menos 5 sobre la '
                 f'misma instancia. Esta encuesta recibe respuestas hasta el {local_date(link["expires_at"])}. '
                 '<a href="/guia">¿Qué es esto? Guía de buenas prácticas de participación</a>.</p>')
    return "\n".join(parts)


def answered_html(link: dict, just_now: bool) -> str:
    if just_now:
        title, note = "¡Gracias por responder!", "Tu respuesta quedó registrada."
    else:
        title = "Encuesta de satisfacción"
        note = "Ya respondiste esta encuesta desde este navegador. ¡Gracias por participar!"
    return f"""<h1>{title}</h1>
{_about(link)}
<p class="notice ok" role="status">{note}</p>
<p>Las respuestas se publican solo en conjunto, cuando hay al menos 5 sobre la misma instancia, y ayudan a
calcular el Índice de Participación Ciudadana de tu barrio.</p>
<ul>
<li><a href="/map#instancia={link['instance_id']}">Ver la instancia en el mapa</a></li>
<li><a href="/guia">Guía de buenas prácticas de participación</a></li>
</ul>"""


def questions_json(link: dict, options: surveys.Choices, base: str, answered: bool) -> dict:
    def choice(items) -> list[dict]:
        return [{"value": value, "label": label} for value, label in items]

    return {
        "code": link["code"],
        "instance": {"id": link["instance_id"], "name": link["instance_name"]},
        "activity": ({"id": link["activity_id"], "title": link["activity_title"],
                      "starts_at": link["activity_starts_at"]} if link["activity_id"] is not None else None),
        "expires_at": link["expires_at"],
        "answered": answered,
        "questions": [
            {"name": "satisfaction", "label": surveys.SATISFACTION_QUESTION, "type": "integer", "required": True,
             "options": choice(surveys.SATISFACTION_SCALE.items())},
            {"name": "themes", "label": surveys.THEMES_QUESTION, "type": "array", "required": False,
             "options": choice(options.themes.items())},
            {"name": "age_band", "label": "Edad", "type": "string", "required": False,
             "options": choice(surveys.AGE_BANDS.items())},
            {"name": "gender", "label": "Género", "type": "string", "required": False,
             "options": choice(surveys.GENDERS.items())},
            {"name": "barrio_id", "label": "Barrio donde vivís", "type": "integer", "required": False,
             "options": choice(options.barrios.items())},
        ],
        "submit": {"method": "POST", "href": surveys.form_url(base, link["code"]), "type": "application/json"},
    }


@router.get("/encuesta/{code}", summary="The survey form (HTML; JSON with Accept: application/json or ?f=json)")
async def survey_form(code: str, request: Request):
    link, refused = await lookup(request, code)
    if refused:
        return refused
    answered = already_answered(request, code)
    if wants_json(request):
        options = await run(request, surveys.choices)
        return JSONResponse(jsonable_encoder(questions_json(link, options, public_base(request), answered)),
                            headers=NO_STORE)
    if answered:
        return page("Encuesta ya respondida", answered_html(link, False), indexable=False, headers=NO_STORE)
    options = await run(request, surveys.choices)
    return page("Encuesta de satisfacción", form_html(link, options), indexable=False, headers=NO_STORE,
                description=f"Encuesta anónima sobre {link['instance_name']}")


async def read_answer(request: Request) -> dict | Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/json", "application/x-www-form-urlencoded", ""):  # "": an empty post
        return refusal(request, 415, "Formato no admitido",
                       "Enviá la respuesta desde el formulario o como JSON (application/json).")
    body = await read_body(request, MAX_BODY_BYTES)
    if body is None:
        return refusal(request, 413, "Respuesta demasiado larga", "La respuesta supera el tamaño admitido.")
    try:
        text = body.decode("utf-8")
        if content_type == "application/json":
            raw = json.loads(text) if text.strip() else {}
            if not isinstance(raw, dict):
                raise ValueError("not an object")
            return raw
        return parse_qs(text, keep_blank_values=True, max_num_fields=200)
    except ValueError:  # bad UTF-8, bad JSON, too many fields
        return refusal(request, 400, "Respuesta inválida", "No pudimos leer la respuesta enviada.")


@router.post("/encuesta/{code}", summary="Answer the survey (form post or JSON); one answer per browser")
async def survey_answer(code: str, request: Request):
    wait = limiter(request).hit(request.client.host if request.client else "")
    if wait is not None:
        return refusal(request, 429, "Demasiadas respuestas",
                       "Llegaron demasiadas respuestas desde esta conexión. Probá de nuevo en unos minutos.",
                       headers={"Retry-After": str(int(wait) + 1)})
    raw = await read_answer(request)
    if isinstance(raw, Response):
        return raw
    link, refused = await lookup(request, code)
    if refused:
        return refused
    if already_answered(request, code):
        return refusal(request, 409, "Ya respondiste esta encuesta",
                       "Ya respondiste esta encuesta desde este navegador: se guarda una sola respuesta por persona. "
                       "¡Gracias por participar!")
    options = await run(request, surveys.choices)
    try:
        answer = surveys.parse_answer(raw, options)
    except surveys.InvalidAnswer as exc:
        if wants_json(request):
            return problem_response(400, "Respuesta inválida", " ".join(exc.errors.values()), NO_STORE,
                                    errors=exc.errors)
        return page("Revisá tu respuesta", form_html(link, options, raw, exc.errors), status=400, indexable=False,
                    headers=NO_STORE)
    try:
        await run(request, lambda conn: surveys.store_answer(conn, link, answer), actor=PUBLIC_ACTOR)
    except surveys.LinkClosed as exc:
        return closed(request, exc.link, exc.reason)
    if wants_json(request):
        response: Response = JSONResponse({"stored": True, "message": "¡Gracias! Tu respuesta quedó registrada."},
                                          status_code=201, headers=NO_STORE)
    else:
        response = page("Gracias por responder", answered_html(link, True), indexable=False, headers=NO_STORE)
    left = (link["expires_at"] - datetime.now(UTC)).total_seconds()
    secure = request.url.scheme == "https" or (request.app.state.settings.public_url or "").startswith("https:")
    response.set_cookie(cookie_name(code), "1", max_age=int(max(left, 0)) + 86400, path=f"/encuesta/{code}",
                        httponly=True, samesite="lax", secure=secure)
    return response


@router.get("/encuesta/{code}/qr.svg", summary="A printable QR code (SVG) of the survey form's address")
async def survey_qr(code: str, request: Request):
    link, refused = await lookup(request, code)
    if refused:
        return refused
    url = surveys.form_url(public_base(request), link["code"])
    return Response(qr_svg(url, link["instance_name"]), media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=300",
                             "Content-Disposition": f'inline; filename="encuesta-{link["code"]}.svg"'})


def qr_svg(url: str, instance_name: str) -> bytes:
    """The QR code of `url` as SVG in millimetres (1.5 mm modules, quiet zone of 4): prints sharp at any size."""
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        buffer, kind="svg", scale=1.5, unit="mm", border=4, dark="#000", light="#fff", svgclass=None, lineclass=None,
        title=f"Código QR de la encuesta: {url}", desc=f"Encuesta de satisfacción sobre {instance_name}")
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------- links (editors)
class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    instance_id: int = Field(gt=0, description="the instance the survey is about (published)")
    activity_id: int | None = Field(None, gt=0, description="one of its activities, when the survey is about it")
    days: int = Field(surveys.DEFAULT_DAYS, ge=1, le=surveys.MAX_DAYS, description="days the link takes answers")


def _link_problem(exc: Exception) -> Problem:
    if isinstance(exc, surveys.NotFound):
        return Problem(404, "Not Found", str(exc))
    return Problem(400, "Invalid survey link", str(exc))


@router.post("/surveys/links", status_code=201, summary="Make a survey link (editors): short code, form URL, QR")
async def create_survey_link(body: LinkIn, request: Request, caller: Principal = Depends(editor)):
    try:
        link = await run(request, lambda conn: surveys.create_link(conn, body.instance_id, body.activity_id,
                                                                   body.days), actor=caller.actor)
    except (surveys.SurveyError, surveys.NotFound) as exc:
        raise _link_problem(exc) from None
    document = surveys.public_link(link, public_base(request))
    return JSONResponse(jsonable_encoder(document), status_code=201,
                        headers={**NO_STORE, "Location": document["url"]})


@router.get("/surveys/links", summary="Survey links, newest first, with status and answer counts (editors)")
async def list_survey_links(request: Request, caller: Principal = Depends(editor),
                            instance: int | None = Query(None, gt=0, description="only this instance's links")):
    links = await run(request, lambda conn: surveys.list_links(conn, instance))
    base = public_base(request)
    return JSONResponse(jsonable_encoder({"links": [surveys.public_link(link, base) for link in links]}),
                        headers=NO_STORE)


@router.delete("/surveys/links/{code}", status_code=204, summary="Revoke a survey link now (editors)")
async def revoke_survey_link(code: str, request: Request, caller: Principal = Depends(editor)):
    revoked = await run(request, lambda conn: surveys.revoke_link(conn, code), actor=caller.actor)
    if not revoked:
        raise Problem(404, "Not Found", f"no open survey link {code!r}")
    return Response(status_code=204)

