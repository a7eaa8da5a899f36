"""GET /compromisos: the tracker's Spanish page, rendered on the server: the filters as a form, the summary, each
commitment with its state in Spanish, due date, overdue badge, evidence, response, origin and timeline; demo records
marked; a bad filter value refused with a message in Spanish."""

from __future__ import annotations

import re
from html.parser import HTMLParser

NBSP = "\u00a0"


class Page(HTMLParser):
    """The parts of the page the tests read: selects (options, chosen, label), articles (text and attributes)."""

    def __init__(self):
        super().__init__()
        self.labels: dict[str, str] = {}
        self.selects: dict[str, dict] = {}
        self.articles: list[dict] = []
        self._label_for: str | None = None
        self._select: str | None = None
        self._article: dict | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self._label_for = attrs.get("for")
            self.labels[self._label_for] = ""
        if tag == "select":
            self._select = attrs["name"]
            self.selects[self._select] = {"id": attrs["id"], "options": [], "chosen": None,
                                          "invalid": attrs.get("aria-invalid") == "true"}
        if tag == "option" and self._select:
            self.selects[self._select]["options"].append(attrs["value"])
            if "selected" in attrs:
                self.selects[self._select]["chosen"] = attrs["value"]
        if tag == "article":
            self._article = {**attrs, "text": "", "links": [], "steps": []}
            self.articles.append(self._article)
        if self._article is not None:
            if tag == "a":
                self._article["links"].append(attrs.get("href"))
            if tag == "li" and "data-status" in attrs:
                self._article["steps"].append(attrs["data-status"])

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_for = None
        if tag == "select":
            self._select = None
        if tag == "article":
            self._article = None

    def handle_data(self, data):
        if self._label_for:
            self.labels[self._label_for] += data
        if self._article is not None:
            self._article["text"] += data


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


def test_page_renders_the_filters_as_a_form_with_labels(tracker):
    http = tracker["http"]
    response = http.get("/compromisos")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    text = response.text
    assert '<html lang="es">' in text and '<form class="filters" method="get" action="/compromisos"' in text
    page = parse(text)
    assert set(page.selects) == {"status", "barrio", "theme", "overdue"}
    assert {page.labels[s["id"]] for s in page.selects.values()} == {"Estado", "Barrio", "Tema", "Vencidos"}
    assert page.selects["status"]["options"] == ["", "not_started", "limited", "substantial", "complete"]
    for label in ("Sin iniciar", "Limitado", "Sustancial", "Cumplido", "Solo vencidos", "Sin vencer"):
        assert f">{label}<" in text
    barrios = tracker["sql"]("SELECT id FROM published.barrios")
    assert sorted(int(v) for v in page.selects["barrio"]["options"] if v) == sorted(b["id"] for b in barrios)
    assert "gobierno_abierto" in page.selects["theme"]["options"]
    assert '<button type="submit">Filtrar</button>' in text
    assert "<script" not in text  # works without JavaScript


def test_filters_are_kept_and_select_what_sql_selects(tracker):
    http, sql = tracker["http"], tracker["sql"]
    barrio = tracker["barrios"]["A"]["id"]
    params = {"status": "limited", "barrio": barrio, "theme": "gobierno_abierto", "overdue": "true"}
    page = parse(http.get("/compromisos", params=params).text)
    assert {name: s["chosen"] for name, s in page.selects.items()} == {k: str(v) for k, v in params.items()}
    expected = [r["id"] for r in sql("""SELECT id FROM published.commitments WHERE status = 'limited'
        AND barrio_id = %s AND 'gobierno_abierto' = ANY(themes) AND overdue ORDER BY due_date, id""", (barrio,))]
    assert [int(a["data-id"]) for a in page.articles] == expected == [tracker["ids"]["a3"]]
    assert all(a["data-status"] == "limited" for a in page.articles)

    everything = parse(http.get("/compromisos", params={"overdue": "false", "limit": 1000}).text)
    expected = [r["id"] for r in sql("SELECT id FROM published.commitments WHERE overdue IS NOT TRUE "
                                     "ORDER BY due_date, id")]
    assert [int(a["data-id"]) for a in everything.articles] == expected


def test_each_commitment_shows_state_due_date_badge_evidence_response_origin_and_timeline(tracker):
    http, ids, today = tracker["http"], tracker["ids"], tracker["today"]
    response = http.get("/compromisos", params={"instance": tracker["instances"]["A"]})
    text = response.text
    page = parse(text)
    articles = {int(a["data-id"]): a for a in page.articles}
    assert set(articles) == {ids[k] for k in ("a1", "a2", "a3", "a4")}
    a1, a2, a3, a4 = (articles[ids[k]] for k in ("a1", "a2", "a3", "a4"))

    assert "Cumplido" in a1["text"] and "Vencido" not in a1["text"]  # complete: never overdue
    assert "https://example.org/evidencia/pp" in a1["links"] and "Ver la evidencia" in a1["text"]
    assert "Aceptada y publicada." in a1["text"] and "Propuesta: PP-2026-07" in a1["text"]
    assert "(dato de demostración)" not in a1["text"]

    assert "Sustancial" in a2["text"] and f"avance 70{NBSP}%" in a2["text"]
    assert a2["steps"] == ["not_started", "limited", "substantial"]
    assert re.search(r"Sin iniciar · 0\xa0%.*Limitado · 30\xa0%.*Sustancial · 70\xa0%", a2["text"], re.S)
    assert f"/collections/activities/items/{tracker['activity']}" in a2["links"]
    assert "Asamblea de cierre" in a2["text"] and "(editor)" in a2["text"]
    assert "Sin evidencia publicada" in a2["text"]

    assert "Limitado" in a3["text"] and "Vencido" in a3["text"]
    assert f"/collections/experiences/items/{tracker['experience']}" in a3["links"]
    due = next(r["due_date"] for r in tracker["sql"]("SELECT due_date FROM published.commitments WHERE id = %s",
                                                      (ids["a3"],)))
    assert f"plazo: {due.strftime('%d/%m/%Y')}" in a3["text"] and due < today
    assert "Vencido" not in a4["text"]  # not due yet

    # The summary at the top: counts by status and the share fulfilled of what is due.
    assert '<li class="status-count" data-status="limited"><span class="status status-limited">Limitado</span> ' \
           '<strong>2</strong>' in text
    assert f"<strong>67{NBSP}%</strong> de cumplimiento: de los 3 compromisos con el plazo cumplido, 2" in text
    assert "Instancia: Mesa de seguimiento A" in text
    assert '<input type="hidden" name="instance"' in text  # kept when the form is sent again


def test_demo_records_are_marked(tracker):
    http, sql = tracker["http"], tracker["sql"]
    barrio = sql("""SELECT barrio_id FROM published.commitments WHERE is_demo AND barrio_id IS NOT NULL
                    GROUP BY 1 ORDER BY count(*) DESC LIMIT 1""")[0]["barrio_id"]
    page = parse(http.get("/compromisos", params={"barrio": barrio, "limit": 1000}).text)
    demo = {r["id"] for r in sql("SELECT id FROM published.commitments WHERE barrio_id = %s AND is_demo", (barrio,))}
    assert demo
    for article in page.articles:
        marked = "(dato de demostración)" in article["text"]
        assert marked == (int(article["data-id"]) in demo), article["data-id"]


def test_a_bad_filter_value_is_refused_in_spanish(tracker):
    http = tracker["http"]
    cases = [({"status": "hecho"}, "status", "El estado «hecho» no existe"),
             ({"barrio": "99999"}, "barrio", "No existe un barrio con el número 99999"),
             ({"barrio": "centro"}, "barrio", "El barrio se indica con su número"),
             ({"theme": "astrologia"}, "theme", "El tema «astrologia» no existe"),
             ({"overdue": "quizas"}, "overdue", "«Vencidos» acepta solo"),
             ({"limit": "0"}, None, "La cantidad por página")]
    for params, field, message in cases:
        response = http.get("/compromisos", params=params)
        assert response.status_code == 400, params
        assert response.headers["content-type"].startswith("text/html")
        assert 'role="alert"' in response.text and message in response.text, params
        assert "Revisá los filtros" in response.text
        page = parse(response.text)
        assert set(page.selects) == {"status", "barrio", "theme", "overdue"}  # the form is shown again
        assert [name for name, s in page.selects.items() if s["invalid"]] == ([field] if field else [])
        assert not page.articles
