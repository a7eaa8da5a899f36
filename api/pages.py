"""Server-rendered pages outside the map (the survey form, the good-practice guide): one layout, no framework.

The layout is `api/templates/page.html` (string.Template); callers pass HTML they built with `escape` for every
value that came from the database or the request.
"""

from __future__ import annotations

from functools import cache
from html import escape
from pathlib import Path
from string import Template

from fastapi.responses import HTMLResponse

TEMPLATES = Path(__file__).resolve().parent / "templates"

__all__ = ["escape", "page", "template"]


@cache
def template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def page(title: str, main: str, *, status: int = 200, description: str = "", indexable: bool = True,
         wide: bool = False, headers: dict | None = None) -> HTMLResponse:
    html = template("page.html").substitute(
        title=escape(title), description=escape(description or title), main=main, main_class="wide" if wide else "",
        robots="" if indexable else '<meta name="robots" content="noindex">')
    return HTMLResponse(html, status_code=status, headers=headers)
