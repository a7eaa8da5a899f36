"""Signing in and out of the back-office, and using an invitation: server forms that work without JavaScript.

- `GET/POST /gestion/entrar`: a token (made with `monitor token create`, at /admin/tokens or by an invitation) is
  exchanged for a session cookie (gis/sessions.py): HttpOnly, SameSite=Strict, Secure when the service is reached
  over HTTPS, expiring with the session.
- `POST /gestion/salir`: ends the session (also in the database) and clears the cookie.
- `GET/POST /gestion/invitacion/{code}`: an organisation's one-time link; accepting it mints its token (shown once)
  and opens a session.

Forms posted before a session exists (sign-in, invitation) carry a CSRF token that must equal a cookie set with
the form (double submit); forms posted with a session carry the session's CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import SESSION_COOKIE
from api.database import in_write_transaction
from api.gestion.layout import NO_STORE, gestion_page
from api.http import base_url, read_body
from api.pages import escape
from gis import sessions
from gis.auth import Principal
from gis.sessions import AUTHENTICATE_SESSION, InvitationError, csrf_matches, hash_secret

router = APIRouter(include_in_schema=False)

PRE_COOKIE = "gestion_previo"  # the CSRF token of forms posted before a session exists
PRE_COOKIE_SECONDS = 3600
MAX_FORM_BYTES = 8 * 1024
SIGN_IN_ACTOR = "gestion:entrar"


# ---------------------------------------------------------------------------------------------- cookies
def secure_cookies(request: Request) -> bool:
    """Secure cookies when the service is reached over HTTPS (directly, through a proxy on this host that sends
    X-Forwarded-Proto, or as MONITOR_PUBLIC_URL says)."""
    public = request.app.state.settings.public_url or ""
    return request.url.scheme == "https" or public.startswith("https:")


def set_session_cookie(response: Response, request: Request, secret: str, expires: datetime) -> None:
    seconds = max(int((expires - datetime.now(UTC)).total_seconds()), 0)
    response.set_cookie(SESSION_COOKIE, secret, max_age=seconds, path="/", httponly=True, samesite="strict",
                        secure=secure_cookies(request))


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=secure_cookies(request))


def pre_session_token(request: Request) -> str:
    return request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)


def with_pre_session_cookie(response: Response, request: Request, token: str) -> Response:
    response.set_cookie(PRE_COOKIE, token, max_age=PRE_COOKIE_SECONDS, path="/gestion", httponly=True,
                        samesite="strict", secure=secure_cookies(request))
    return response


def pre_session_ok(request: Request, form: dict) -> bool:
    cookie, given = request.cookies.get(PRE_COOKIE), form.get("csrf", "")
    return bool(cookie) and bool(given) and hmac.compare_digest(cookie, given)


async def current_session(request: Request) -> tuple[Principal | None, str | None]:
    """The live session of the request's cookie: (its principal, its secret), or (None, None)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None, None
    async with request.app.state.pool.connection() as conn:
        row = await (await conn.execute(AUTHENTICATE_SESSION, (hash_secret(secret),))).fetchone()
    return (Principal(*row), secret) if row else (None, None)


async def read_form(request: Request) -> dict[str, str] | None:
    """A small urlencoded form (the last value of each field), or None when it is not one."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", ""):
        return None
    body = await read_body(request, MAX_FORM_BYTES)
    if body is None:
        return None
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except ValueError:
        return None
    return {key: values[-1] for key, values in fields.items()}


def next_path(value: str | None) -> str:
    """Where to go after signing in: a back-office path only (never another site)."""
    if value and value.startswith("/gestion") and not value.startswith("//") and "\\" not in value:
        return value
    return "/gestion"


def refused_form(request: Request, status: int = 403) -> Response:
    """A form posted without its CSRF token (or from another site): nothing is done."""
    token = pre_session_token(request)
    main = ('<h1>El formulario venció</h1>\n<p class="notice error-notice" role="alert">No pudimos comprobar que el '
            'formulario venga de esta página (falta su código de seguridad o venció). No se hizo ningún cambio. '
            'Volvé a cargar la página e intentá de nuevo.</p>\n<p><a href="/gestion/entrar">Ir a la entrada</a></p>')
    return with_pre_session_cookie(gestion_page("Formulario vencido", main, status=status), request, token)


# ---------------------------------------------------------------------------------------------- sign-in
def sign_in_html(csrf: str, next_: str, error: str | None = None, notice: str | None = None) -> str:
    invalid = ' aria-invalid="true" aria-describedby="clave-ayuda clave-error"' if error else \
        ' aria-describedby="clave-ayuda"'
    error_html = f'<p class="error-message" id="clave-error" role="alert">{escape(error)}</p>' if error else ""
    notice_html = f'<p class="notice ok" role="status">{escape(notice)}</p>' if notice else ""
    return f"""<h1>Entrar a la gestión</h1>
{notice_html}
<p class="lead">Para proponer una instancia, cargar actividades y registrar lo que produjeron, o para revisar lo
que enviaron las organizaciones.</p>
<form class="stack" method="post" action="/gestion/entrar" novalidate>
  <input type="hidden" name="csrf" value="{escape(csrf)}">
  <input type="hidden" name="siguiente" value="{escape(next_)}">
  <div class="field{' invalid' if error else ''}">
    <label for="clave">Clave de acceso</label>
    <p class="hint" id="clave-ayuda">La clave que te dio el equipo del monitor o que recibiste al aceptar una
      invitación (empieza con <code>mpc_</code>).</p>
    {error_html}
    <input id="clave" name="clave" type="password" autocomplete="current-password" spellcheck="false"
           autocapitalize="off" required{invalid}>
  </div>
  <button type="submit">Entrar</button>
</form>
<p class="muted">¿No tenés una clave? Pedile al equipo del monitor una invitación para tu organización.</p>"""


@router.get("/gestion/entrar")
async def sign_in_form(request: Request, siguiente: str | None = None, salio: str | None = None):
    caller, _ = await current_session(request)
    if caller is not None:
        return RedirectResponse(next_path(siguiente), status_code=303, headers=NO_STORE)
    token = pre_session_token(request)
    notice = "Saliste de la gestión. ¡Hasta pronto!" if salio else None
    page = gestion_page("Entrar", sign_in_html(token, next_path(siguiente), notice=notice))
    return with_pre_session_cookie(page, request, token)


@router.post("/gestion/entrar")
async def sign_in(request: Request):
    form = await read_form(request)
    if form is None or not pre_session_ok(request, form):
        return refused_form(request)
    next_ = next_path(form.get("siguiente"))
    secret_token = form.get("clave", "").strip()
    previous = request.cookies.get(SESSION_COOKIE)
    found = None

    def work(conn):
        signed = sessions.sign_in(conn, secret_token)
        if signed is not None and previous:  # signing in again (another key): the old session ends here
            sessions.end_session(conn, previous)
        return signed

    if secret_token:
        found = await in_write_transaction(request.app, SIGN_IN_ACTOR, work)
    if found is None:
        message = ("Escribí tu clave de acceso." if not secret_token else
                   "Esa clave no existe o fue dada de baja. Revisá que esté completa, o pedí una nueva.")
        token = pre_session_token(request)
        page = gestion_page("Entrar", sign_in_html(token, next_, error=message), status=401 if secret_token else 400)
        return with_pre_session_cookie(page, request, token)
    _, secret, expires = found
    response = RedirectResponse(next_, status_code=303, headers=NO_STORE)
    set_session_cookie(response, request, secret, expires)
    response.delete_cookie(PRE_COOKIE, path="/gestion")
    return response


@router.post("/gestion/salir")
async def sign_out(request: Request):
    form = await read_form(request)
    secret = request.cookies.get(SESSION_COOKIE)
    if form is None or not secret or not csrf_matches(secret, form.get("csrf")):
        return refused_form(request)
    await in_write_transaction(request.app, SIGN_IN_ACTOR, lambda conn: sessions.end_session(conn, secret))
    response = RedirectResponse("/gestion/entrar?salio=1", status_code=303, headers=NO_STORE)
    clear_session_cookie(response, request)
    return response


# ---------------------------------------------------------------------------------------------- invitations
INVITATION_REFUSED = {
    "unknown": "No encontramos esta invitación. Revisá que el enlace esté completo.",
    "used": "Esta invitación ya se usó: cada enlace sirve una sola vez. Si no fuiste vos, avisale al equipo del "
            "monitor; si ya tenés tu clave, entrá con ella.",
    "expired": "Esta invitación venció. Pedile una nueva al equipo del monitor.",
    "revoked": "Esta invitación fue dada de baja. Pedile una nueva al equipo del monitor.",
}


def invitation_refusal(request: Request, exc: InvitationError) -> Response:
    status = 404 if exc.reason == "unknown" else 410
    main = (f'<h1>No se puede usar esta invitación</h1>\n<p class="notice error-notice" role="alert">'
            f'{escape(INVITATION_REFUSED[exc.reason])}</p>\n<p><a href="/gestion/entrar">Entrar con una clave</a></p>')
    return gestion_page("Invitación", main, status=status)


@router.get("/gestion/invitacion/{code}")
async def invitation_form(code: str, request: Request):
    try:
        found = await in_write_transaction(request.app, SIGN_IN_ACTOR, lambda conn: sessions.invitation(conn, code))
    except InvitationError as exc:
        return invitation_refusal(request, exc)
    token = pre_session_token(request)
    main = f"""<h1>Invitación para {escape(found["organization"])}</h1>
<p class="lead">Con esta invitación vas a poder proponer las instancias de participación de
<strong>{escape(found["organization"])}</strong>, cargar sus actividades y registrar lo que produjeron. El equipo
del monitor revisa cada propuesta antes de publicarla en el mapa.</p>
<p>Al aceptar, te damos una <strong>clave de acceso</strong>: guardala, la vas a necesitar para volver a entrar.
El enlace sirve una sola vez.</p>
<form method="post" action="/gestion/invitacion/{escape(quote(code, safe=''))}">
  <input type="hidden" name="csrf" value="{escape(token)}">
  <button type="submit">Aceptar la invitación</button>
</form>"""
    return with_pre_session_cookie(gestion_page("Invitación", main), request, token)


@router.post("/gestion/invitacion/{code}")
async def accept_invitation(code: str, request: Request):
    form = await read_form(request)
    if form is None or not pre_session_ok(request, form):
        return refused_form(request)

    def work(conn):
        principal, token = sessions.accept_invitation(conn, code)
        secret, expires = sessions.open_session(conn, principal.token_id)
        return principal, token, secret, expires

    try:
        principal, token, secret, expires = await in_write_transaction(request.app, "gestion:invitacion", work)
    except InvitationError as exc:
        return invitation_refusal(request, exc)
    main = f"""<h1>¡Te damos la bienvenida, {escape(principal.name)}!</h1>
<p class="notice ok" role="status">Ya entraste a la gestión. Esta es tu clave de acceso: <strong>guardala en un lugar
seguro</strong>, porque no la vamos a volver a mostrar y la vas a necesitar para entrar de nuevo.</p>
<p class="secret"><label for="clave-nueva">Tu clave de acceso</label>
<input id="clave-nueva" class="secret-value" type="text" readonly value="{escape(token)}" spellcheck="false"></p>
<p><a class="button" href="/gestion">Continuar a la gestión</a></p>"""
    response = gestion_page("Invitación aceptada", main)
    set_session_cookie(response, request, secret, expires)
    response.delete_cookie(PRE_COOKIE, path="/gestion")
    return response


def invitation_url(request: Request, code: str) -> str:
    return f"{base_url(request)}/gestion/invitacion/{code}"
