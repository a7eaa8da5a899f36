"""Reports in Spanish (api/reports.py): printable, self-contained pages for the city, a district, a barrio and an
instance, their PDF (WeasyPrint, read back with pypdf), reports of an official edition, and `monitor report`
writing them all as linked files."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from html import escape
from pathlib import Path

import httpx
import pypdf
import pytest

from api.reports import number

MONITOR = str(Path(sys.executable).with_name("monitor"))


def pdf_text(body: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(body))
    return len(reader.pages), " ".join(page.extract_text() for page in reader.pages)


def self_contained(html: str) -> None:
    """Prints and converts without fetching anything: the stylesheet inline (with its print rules), no script."""
    assert "<script" not in html and 'rel="stylesheet"' not in html
    assert "@media print" in html and "@page" in html


@pytest.fixture(scope="module")
def places(sql):
    barrio = sql("SELECT barrio_id, name, district, composite, rank FROM published.barrio_index "
                 "ORDER BY rank LIMIT 1 OFFSET 4")[0]
    instance = sql("SELECT i.id, i.name FROM published.instances i WHERE EXISTS (SELECT 1 FROM "
                   "published.commitments c WHERE c.instance_id = i.id) ORDER BY i.id LIMIT 1")[0]
    return {"barrio": barrio, "instance": instance}


def test_the_city_report(http, sql):
    response = http.get("/informes/ciudad")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    self_contained(html)
    assert "<h1>Informe de la ciudad</h1>" in html and "última corrida" in html
    assert html.count("<svg") >= 2  # pillars, ranks
    for (name,) in sql("SELECT name FROM published.barrio_index"):
        assert escape(name) in html
    for (code,) in sql("SELECT code FROM published.district_index"):
        assert f"/informes/distritos/{code}" in html
    assert "Estándares mínimos" in html and "Compromisos y su cumplimiento" in html


def test_a_district_report(http, sql):
    code, composite = sql("SELECT code, composite FROM published.district_index ORDER BY code LIMIT 1")[0]
    html = http.get(f"/informes/distritos/{code.lower()}").text
    self_contained(html)
    assert "Informe del distrito" in html and number(composite, 1) in html
    barrios = [r[0] for r in sql("SELECT barrio_id FROM published.barrio_index WHERE district = %s", (code,))]
    assert all(f"/informes/barrios/{b}" in html for b in barrios)


def test_a_barrio_report(http, sql, places):
    barrio_id, name, district, composite, rank = places["barrio"]
    html = http.get(f"/informes/barrios/{barrio_id}").text
    self_contained(html)
    assert f"Informe del barrio {name}" in html and f"Distrito {district}" in html
    assert number(composite, 1) in html and f"{rank} de 50" in html
    offer = [r[0] for r in sql("SELECT instance_id FROM published.index_offer WHERE barrio_id = %s", (barrio_id,))]
    assert offer and all(f"/informes/instancias/{i}" in html for i in offer)
    assert html.count("<svg") >= 2 and "Brecha" in html


def test_an_instance_report(http, sql, places):
    instance_id, name = places["instance"]
    html = http.get(f"/informes/instancias/{instance_id}").text
    self_contained(html)
    assert escape(name) in html and "Estándares mínimos" in html
    for (description,) in sql("SELECT description FROM published.commitments WHERE instance_id = %s",
                              (instance_id,)):
        assert escape(description) in html
    labels = [r[0] for r in sql("SELECT criterion_label FROM published.assessments WHERE instance_id = %s",
                                (instance_id,))]
    assert len(labels) == 8 and all(escape(label) in html for label in labels)


def test_reports_print_to_pdf(http, places):
    barrio_id, name, *_ = places["barrio"]
    response = http.get(f"/informes/barrios/{barrio_id}", params={"f": "pdf"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    pages, text = pdf_text(response.content)
    assert pages >= 2 and f"Informe del barrio {name}" in text and "Página 1 de" in text
    city_pages, city_text = pdf_text(http.get("/informes/ciudad", params={"f": "pdf"}).content)
    assert city_pages >= 3 and "Informe de la ciudad" in city_text
    instance_id, instance_name = places["instance"]
    _, text = pdf_text(http.get(f"/informes/instancias/{instance_id}", params={"f": "pdf"}).content)
    assert "Compromisos del gobierno" in text and instance_name.split()[0] in text


def test_report_refusals(http):
    for url, status in (("/informes/barrios/999999", 404), ("/informes/instancias/999999", 404),
                        ("/informes/distritos/NINGUNO", 404), ("/informes/ciudad?edicion=no-existe", 404),
                        ("/informes/ciudad?f=docx", 400)):
        response = http.get(url)
        assert response.status_code == status, url
        assert response.headers["content-type"] == "application/problem+json"


def test_reports_of_an_edition_and_monitor_report_writing_them_all(fresh_server, tmp_path):
    url = fresh_server.database_url
    env = {**os.environ, "DATABASE_URL": url}
    published = subprocess.run([MONITOR, "edition", "publish", "2026-t1"], env=env, capture_output=True, text=True,
                               timeout=600)
    assert published.returncode == 0, published.stderr
    run_id = json.loads(published.stdout)["run_id"]
    with httpx.Client(base_url=fresh_server.url, timeout=120) as http:
        html = http.get("/informes/ciudad", params={"edicion": "2026-t1"}).text
        assert "edición oficial «2026-t1»" in html and f"corrida {run_id}" in html
        assert 'href="/informes/barrios/' in html and "?edicion=2026-t1" in html
        barrio = http.get("/index/editions/2026-t1").json()["barrios"][0]
        page = http.get(f"/informes/barrios/{barrio['barrio_id']}", params={"edicion": "2026-t1"}).text
        assert number(barrio["composite"], 1) in page and "Evolución en las ediciones oficiales" in page

    done = subprocess.run([MONITOR, "report", "--edition", "2026-t1", "--output", str(tmp_path), "--no-pdf"], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["edition"] == "2026-t1" and summary["pdf"] == 0
    files = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.html")}
    assert {"index.html", "ciudad.html"} <= files
    assert len([f for f in files if f.startswith("barrios/")]) == 50
    assert len([f for f in files if f.startswith("distritos/")]) == 6
    assert summary["html"] == len(files) - 1
    # Links between reports are relative files that exist.
    for page in (tmp_path / "ciudad.html", tmp_path / "barrios" / f"{barrio['barrio_id']}.html"):
        for href in re.findall(r'href="([^"#]+\.html)"', page.read_text()):
            assert (page.parent / href).resolve().is_file(), (page, href)

    with_pdf = subprocess.run([MONITOR, "report", "--edition", "2026-t1", "--output", str(tmp_path / "pdf"),
                               "--pdf", "--no-instances"], env=env, capture_output=True, text=True, timeout=1800)
    assert with_pdf.returncode == 0, with_pdf.stderr
    pdfs = list((tmp_path / "pdf").rglob("*.pdf"))
    assert len(pdfs) == json.loads(with_pdf.stdout)["pdf"] == 1 + 6 + 50
    pages, text = pdf_text((tmp_path / "pdf" / "ciudad.pdf").read_bytes())
    assert pages >= 3 and "edición oficial «2026-t1»" in text.replace("\n", " ")
