"""GET /guia: the good-practice guide, in Spanish, rendered on the server from Markdown kept in api/guia/.

- `api/guia/NN-slug.md`: one file per section, in order; its first line `# Title` is the section's heading and
  `slug` its anchor (`/guia#mapa-de-actores`).
- `api/guia/estandares/{code}.md`: the guidance for each minimum standard, keyed by the code of
  `monitor.standard_criteria`; the standards come from the database, so a criterion added there shows up with a
  note that its guidance is pending.

Each standard links to the published instances that meet it. Which instances meet which standard is read in one
function, `instances_meeting`, so that its source can be swapped (published.instance_standards today).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Depends
from markdown_it import MarkdownIt
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from api.database import get_pool
from api.pages import escape, page

router = APIRouter(tags=["guide"])

GUIDE_DIR = Path(__file__).resolve().parent / "guia"
STANDARDS_SECTION = "estandares"
CACHE_SECONDS = 60
PENDING = '<p class="muted">La guía de este estándar está en preparación.</p>'
# CommonMark with tables; raw HTML in the Markdown is shown as text, never passed through.
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    html: str


def render_markdown(text: str) -> str:
    return _markdown.render(text)


@cache
def sections() -> tuple[Section, ...]:
    found = []
    for path in sorted(GUIDE_DIR.glob("[0-9][0-9]-*.md")):
        title, _, body = path.read_text(encoding="utf-8").partition("\n")
        if not title.startswith("# "):
            raise ValueError(f"{path.name} must start with '# Title'")
        found.append(Section(path.stem[3:], title[2:].strip(), render_markdown(body)))
    return tuple(found)


@cache
def criteria_guidance() -> dict[str, str]:
    """Criterion code → its guidance as HTML."""
    return {path.stem: render_markdown(path.read_text(encoding="utf-8"))
            for path in sorted((GUIDE_DIR / STANDARDS_SECTION).glob("*.md"))}


async def criteria(pool: AsyncConnectionPool) -> list[dict]:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        # The `criteria` collection: an editor's guidance (guidance_es) replaces the Markdown file's.
        await cur.execute("SELECT code, ordinal, label_es, guidance_es, version FROM published.criteria "
                          "ORDER BY ordinal")
        return await cur.fetchall()


async def instances_meeting(pool: AsyncConnectionPool) -> dict[str, list[dict]]:
    """Criterion code → the published instances that meet it ({id, name, is_demo}), by name.

    The one place that reads who meets which standard: swap its query when the checklist moves elsewhere."""
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("""
            SELECT s.criterion, i.id, i.name, i.is_demo
            FROM published.instance_standards s
            JOIN published.instances i ON i.id = s.instance_id
            WHERE s.met
            ORDER BY s.criterion, i.name, i.id""")
        meeting: dict[str, list[dict]] = {}
        for row in await cur.fetchall():
            meeting.setdefault(row.pop("criterion"), []).append(row)
        return meeting


def criterion_html(criterion: dict, guidance: str | None, instances: list[dict]) -> str:
    code = criterion["code"]
    demo = ' <span class="demo">(demostración)</span>'
    items = "".join(f'<li><a href="/map#instancia={row["id"]}">{escape(row["name"])}</a>'
                    f'{demo if row["is_demo"] else ""}</li>' for row in instances)
    if instances:
        meeting = (f'<details><summary>Instancias que lo cumplen: {len(instances)}</summary>'
                   f'<ul class="instances">{items}</ul></details>')
    else:
        meeting = '<p class="muted">Todavía ninguna instancia publicada lo cumple.</p>'
    return (f'<div class="criterion" id="estandar-{escape(code)}" data-criterion="{escape(code)}">'
            f'<h3>{criterion["ordinal"]}. {escape(criterion["label_es"])}</h3>'
            f'<p class="code">Código: {escape(code)} · versión {criterion.get("version", 1)}</p>'
            f'{guidance or PENDING}{meeting}</div>')


def _heading_id(slug: str) -> str:
    return re.sub(r"[^a-z0-9-]", "", slug) + "-titulo"


@router.get("/guia", include_in_schema=False)
async def guide(pool: AsyncConnectionPool = Depends(get_pool)):
    standards = await criteria(pool)
    meeting = await instances_meeting(pool)
    guidance = criteria_guidance()
    toc = "".join(f'<li><a href="#{s.slug}">{escape(s.title)}</a></li>' for s in sections())
    body = []
    for section in sections():
        heading = _heading_id(section.slug)
        content = section.html
        if section.slug == STANDARDS_SECTION:
            content += "".join(criterion_html(
                c, render_markdown(c["guidance_es"]) if c["guidance_es"] else guidance.get(c["code"]),
                meeting.get(c["code"], [])) for c in standards)
        body.append(f'<section id="{section.slug}" aria-labelledby="{heading}">'
                    f'<h2 id="{heading}">{escape(section.title)}</h2>{content}</section>')
    main = f"""<h1>Guía de buenas prácticas de participación ciudadana</h1>
<p class="lead">Estándares mínimos, cómo realizar y evaluar una instancia de participación, cómo mapear a los
actores y qué herramientas de colaboración usar. Para áreas del gobierno, vecinales y organizaciones de Rosario.</p>
<nav class="toc" aria-labelledby="indice-titulo"><h2 id="indice-titulo">Contenido</h2><ol>{toc}</ol></nav>
<article class="guide">{"".join(body)}</article>"""
    return page("Guía de buenas prácticas", main, wide=True,
                description="Guía de buenas prácticas de participación ciudadana de Rosario: estándares mínimos, "
                            "realización y evaluación de instancias, mapa de actores y herramientas de colaboración.",
                headers={"Cache-Control": f"public, max-age={CACHE_SECONDS}"})
