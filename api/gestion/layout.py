"""The back-office's page layout (api/templates/gestion.html): the navigation of the signed-in person's role, the
session's CSRF token for the page's scripts and forms, and no caching (pages carry that token)."""

from __future__ import annotations

from fastapi.responses import HTMLResponse

from api.pages import escape, template
from gis.auth import Principal
from gis.sessions import csrf_token

NO_STORE = {"Cache-Control": "no-store"}
ROLE_LABELS = {"admin": "administración", "editor": "edición", "organization": "organización"}
APP_HEAD = ('<link rel="stylesheet" href="/map/vendor/maplibre-gl/maplibre-gl.css">\n'
            '  <script type="module" src="/map/static/gestion/gestion.js"></script>')


def nav_links(caller: Principal) -> list[tuple[str, str]]:
    links = [("/gestion", "Inicio"), ("/gestion/nuevo/instances", "Proponer una instancia")]
    if caller.is_editor:
        links += [("/gestion/moderacion", "Moderación"), ("/gestion/evaluaciones", "Estándares"),
                  ("/gestion/encuestas", "Encuestas"), ("/gestion/organizaciones", "Organizaciones")]
    if caller.role == "admin":
        links.append(("/gestion/accesos", "Claves e invitaciones"))
    return links


def nav_html(caller: Principal | None, secret: str | None, current: str = "") -> str:
    if caller is None or secret is None:
        return '    <nav aria-label="Secciones"><a href="/map">Mapa</a><a href="/guia">Guía</a></nav>'
    here = ' aria-current="page"'
    items = "".join(f'<li><a href="{href}"{here if href == current else ""}>{escape(text)}</a></li>'
                    for href, text in nav_links(caller))
    who = f"{caller.name} ({ROLE_LABELS.get(caller.role, caller.role)})"
    return f"""    <nav class="gestion-nav" aria-label="Gestión">
      <ul>{items}</ul>
      <form class="sign-out" method="post" action="/gestion/salir">
        <input type="hidden" name="csrf" value="{escape(csrf_token(secret))}">
        <span class="who">{escape(who)}</span>
        <button type="submit" class="secondary">Salir</button>
      </form>
    </nav>"""


def gestion_page(title: str, main: str, *, status: int = 200, caller: Principal | None = None,
                 secret: str | None = None, current: str = "", app: dict | None = None) -> HTMLResponse:
    """A back-office page. `app`: the page is one of the script's views; its data attributes (view, role, …)."""
    body = ""
    if app is not None:
        attributes = {**app, "role": caller.role if caller else "", "name": caller.name if caller else "",
                      "organization": caller.organization_id if caller and caller.organization_id else ""}
        body = " ".join(f'data-{key}="{escape(str(value))}"' for key, value in attributes.items())
    html = template("gestion.html").substitute(
        title=escape(title), main=main, nav=nav_html(caller, secret, current), body=body,
        csrf=escape(csrf_token(secret)) if secret else "", head=APP_HEAD if app is not None else "",
        main_class="app" if app is not None else "")
    return HTMLResponse(html, status_code=status, headers=NO_STORE)
