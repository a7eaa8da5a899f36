"""Helpers of the back-office tests: signing in over HTTP (a client keeps the cookies) and in Chromium."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Locator, Page

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
GEOJSON = "application/geo+json"
# Chromium logs every 4xx answer to fetch as a console error; the tests provoke refusals on purpose.
REFUSED = "Failed to load resource: the server responded with a status of 4"



def form_csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def page_csrf(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]*)">', html).group(1)


def sign_in(http: httpx.Client, token: str, **headers) -> str:
    """Signs the client in with a token (its cookie jar keeps the session); returns the pages' CSRF token."""
    csrf = form_csrf(http.get("/gestion/entrar").text)
    answer = http.post("/gestion/entrar", data={"csrf": csrf, "clave": token, "siguiente": "/gestion"},
                       headers=headers, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return page_csrf(http.get("/gestion").text)


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each Set-Cookie header of an answer, by cookie name."""
    return {value.split("=", 1)[0]: value for value in response.headers.get_list("set-cookie")}


def new_instance(name: str, lon: float, lat: float) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"name": name, "kind": "cso_initiative", "promoter": "cso", "themes": ["ambiente"],
                           "modality": "in_person", "scope": "barrio", "source": "test"}}


def open_browser(browser, server, token: str, viewport=PHONE):
    """A new browser context signed in through the sign-in form; returns (page, errors seen by the page)."""
    context = browser.new_context(viewport=viewport, locale="es-AR", timezone_id="America/Argentina/Cordoba")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error"
            and not message.text.startswith(REFUSED) else None)
    page.goto(f"{server.url}/gestion")
    page.wait_for_url("**/gestion/entrar?siguiente=**")
    page.get_by_label("Clave de acceso").fill(token)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(f"{server.url}/gestion")
    wait_ready(page)
    return page, errors


def wait_ready(page, timeout: int = 60000) -> None:
    """Until the view is drawn (a selector, not a predicate: the Content-Security-Policy forbids eval)."""
    page.locator("body[data-ready]").wait_for(state="attached", timeout=timeout)
    assert page.locator("body").get_attribute("data-ready") == "true", page.locator("body").get_attribute("data-error")


def field(page: Page | Locator, label: str) -> Locator:
    """A control by its label, exactly; a required field's label ends in "(obligatorio)"."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \(obligatorio\))?$"))
