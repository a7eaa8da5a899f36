"""`monitor report --edition NAME --output DIR`: every report (city, districts, barrios, instances) as HTML pages and
PDF files, from an official edition of the index (or the latest run), linked to each other as files.

The pages are the ones `/informes/…` serves (api/reports.py), rendered with the same functions over a connection of
this command's own; the PDF is WeasyPrint's rendering of the same HTML with its print stylesheet.
"""

from __future__ import annotations

import asyncio
import json
from html import escape
from pathlib import Path

import typer


def _url() -> str:
    from gis.cluster import database_url

    return database_url()


async def write_reports(url: str, edition: str | None, output: Path, pdf: bool, instances: bool = True) -> dict:
    import psycopg

    from api.reports import (
        Links,
        ReportNotFound,
        barrio_page,
        city_page,
        district_page,
        html_document,
        index_source,
        instance_page,
        pdf_bytes,
        rows,
    )

    written = {"html": 0, "pdf": 0}
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("SET timezone = 'America/Argentina/Cordoba'")
        try:
            source = await index_source(conn, edition)
        except ReportNotFound as exc:
            raise typer.BadParameter(str(exc)) from None
        ids = [r["id"] for r in await rows(conn, "SELECT id FROM published.instances ORDER BY id")] if instances else []
        pages = [("ciudad", city_page, (), 0)]
        pages += [(f"distritos/{d['code']}", district_page, (d["code"],), 1) for d in source.districts]
        pages += [(f"barrios/{b['barrio_id']}", barrio_page, (b["barrio_id"],), 1) for b in source.barrios]
        pages += [(f"instancias/{i}", instance_page, (i,), 1) for i in ids]
        index = []
        for name, make, args, depth in pages:
            links = Links.files(depth)
            page = await make(conn, source, links, *args)
            html = html_document(page, links)
            target = output / f"{name}.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html, encoding="utf-8")
            written["html"] += 1
            if pdf:
                target.with_suffix(".pdf").write_bytes(await asyncio.to_thread(pdf_bytes, html))
                written["pdf"] += 1
            index.append((name, page.title))
    items = "".join(f'<li><a href="{escape(n)}.html">{escape(t)}</a>'
                    + (f' (<a href="{escape(n)}.pdf">PDF</a>)' if pdf else "") + "</li>" for n, t in index)
    (output / "index.html").write_text(
        f'<!doctype html><html lang="es"><meta charset="utf-8"><title>Informes</title><h1>Informes</h1>'
        f"<p>{escape(source.describe())}</p><ul>{items}</ul></html>", encoding="utf-8")
    return {"edition": source.edition, "run_id": source.run_id, "output": str(output), **written}


def report(
    output: Path = typer.Option(..., help="the folder to write the reports into (created if missing)"),
    edition: str = typer.Option(None, help="an official edition (monitor edition list); default: the latest run"),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="also write each report as PDF (WeasyPrint)"),
    instances: bool = typer.Option(True, "--instances/--no-instances",
                                   help="also one report per published instance (there are hundreds)"),
) -> None:
    """Write every report in Spanish (city, districts, barrios, instances) as HTML and PDF."""
    output.mkdir(parents=True, exist_ok=True)
    typer.echo(json.dumps(asyncio.run(write_reports(_url(), edition, output, pdf, instances)), ensure_ascii=False))
