"""The survey form in Chromium on a phone: Spanish, labelled, keyboard-operable, readable; the answer is stored
without anything that identifies the person, and the same browser cannot answer twice."""

from __future__ import annotations

import os
import re

import pytest
from browser_helpers import CONTRAST
from survey_helpers import make_link

PHONE = {"width": 390, "height": 844}


ACCESSIBILITY = """() => ({
    lang: document.documentElement.lang,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    unlabelled: [...document.querySelectorAll('input, select, textarea')]
        .filter((el) => el.type !== 'hidden' && el.labels.length === 0).map((el) => el.name || el.id),
    fieldsets: [...document.querySelectorAll('fieldset')]
        .map((f) => f.querySelector(':scope > legend')?.textContent.trim()),
    smallTargets: [...document.querySelectorAll('label.option, select, button')]
        .filter((el) => el.getBoundingClientRect().height < 44).map((el) => el.textContent.trim().slice(0, 30)),
    h1: document.querySelector('h1')?.textContent,
})"""

# Nothing that could identify a person or time an answer to the minute.
IDENTIFYING = re.compile(r"ip|addr|agent|email|mail|phone|name|time|cookie|session|device|lat|lon|geom")


@pytest.mark.browser
def test_phone_answer_is_stored_once_and_anonymously(survey_world, browser, artifacts_dir):
    w = survey_world
    code = make_link(w.url, w.instance, w.activity)
    form = f"{w.server.url}/encuesta/{code}"
    barrio_id, barrio = w.sql("SELECT id, name FROM published.barrios ORDER BY name LIMIT 1 OFFSET 3")[0]
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="es-AR",
                                  timezone_id="America/Argentina/Cordoba", bypass_csp=True)  # evaluated waits
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(form)

    facts = page.evaluate(ACCESSIBILITY)
    assert facts["lang"] == "es" and facts["h1"] == "Encuesta de satisfacción"
    assert facts["overflow"] <= 0, "the page scrolls sideways on a phone"
    assert facts["unlabelled"] == [] and facts["smallTargets"] == []
    assert len(facts["fieldsets"]) == 3 and all(facts["fieldsets"]), facts["fieldsets"]
    assert "qué tan satisfecho" in facts["fieldsets"][0]
    ratios = dict(page.evaluate(CONTRAST, ["main > p", "h1", ".lead", ".hint", "legend", "label.option", ".score",
                                           ".field label", "select", "button", ".privacy", ".topbar a"]))
    assert {s: r for s, r in ratios.items() if r is None or r < 4.5} == {}

    # The keyboard alone: arrows move through the 1-5 scale, space ticks a theme, Enter sends.
    page.focus("#satisfaction-1")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert page.is_checked("#satisfaction-4")
    page.focus("#theme-ambiente")
    page.keyboard.press("Space")
    page.get_by_label("Movilidad", exact=True).tap()
    page.get_by_label("Edad", exact=True).select_option(label="De 35 a 49 años")
    page.get_by_label("Género", exact=True).select_option(label="Prefiero no decirlo")
    page.get_by_label("Barrio donde vivís", exact=True).select_option(label=barrio)
    page.screenshot(path=os.path.join(artifacts_dir, "survey-phone-form.png"), full_page=True)
    page.focus("button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h1").text_content() == "¡Gracias por responder!"
    assert page.get_by_role("status").text_content() == "Tu respuesta quedó registrada."

    rows = w.sql("""SELECT r.kind, r.satisfaction, r.interest_themes, r.age_band, r.gender, r.respondent_barrio_id,
                           r.instance_id, r.activity_id,
                           r.answered_on = (now() AT TIME ZONE 'America/Argentina/Cordoba')::date
                    FROM monitor.survey_responses r JOIN monitor.survey_links l ON l.id = r.link_id
                    WHERE l.code = %s""", (code,))
    assert rows == [("satisfaction", 4, ["ambiente", "movilidad"], "35-49", "prefer_not_to_say", barrio_id,
                     w.instance, w.activity, True)]

    # The same browser is told it already answered, and a second answer is refused.
    page.goto(form)
    assert "Ya respondiste esta encuesta desde este navegador" in page.locator("main").text_content()
    assert page.locator("form").count() == 0
    again = context.request.post(form, form={"satisfaction": "1"})
    assert again.status == 409 and "Ya respondiste esta encuesta" in again.text()
    assert w.sql("SELECT count(*) FROM monitor.survey_responses WHERE link_id IS NOT NULL")[0][0] == 1
    assert errors == []
    context.close()

    # No column can hold an IP address, a time of day or anything else that identifies the person.
    columns = w.sql("SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'monitor' AND table_name = 'survey_responses'")
    assert {"answered_on": "date"}.items() <= dict(columns).items()
    assert [c for c, _ in columns if IDENTIFYING.search(c) and c != "is_demo"] == []
    assert [c for c, t in columns if t.startswith(("time", "inet", "cidr", "macaddr"))] == []
