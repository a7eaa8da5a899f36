"""In Debian's Chromium: the instance card shows its follow-through, the barrio profile shows the barrio's and links
to /compromisos, and the tracker's form filters without JavaScript."""

from __future__ import annotations

from browser_helpers import CONTRAST
from commitments_helpers import wait_for_index_after_writes


def open_map(browser, url: str, hash_: str):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="es-AR",
                                  timezone_id="America/Argentina/Cordoba")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{url}/map{hash_}")
    # A selector, not a JavaScript predicate: the page's Content-Security-Policy forbids evaluating strings.
    page.locator("body[data-ready]").wait_for(state="attached", timeout=60000)
    assert page.locator("body").get_attribute("data-ready") == "true"
    return page, errors


def test_card_shows_follow_through_and_barrio_profile_links_to_the_tracker(tracker, browser):
    http, server = tracker["http"], tracker["server"]
    a, barrio = tracker["instances"]["A"], tracker["barrios"]["A"]["id"]
    wait_for_index_after_writes(tracker["sql"])  # the barrio's value is the index's: let it see the new rows

    page, errors = open_map(browser, server.url, f"#instancia={a}")
    card = page.locator("#detail .card")
    card.locator(".follow-through").wait_for(timeout=60000)
    line = card.locator(".follow-through")
    assert (line.get_attribute("data-due"), line.get_attribute("data-fulfilled")) == ("3", "2")
    assert "Cumplimiento: 67\u00a0%" in line.text_content()
    assert "2 de 3 compromisos" in line.text_content()
    items = card.locator(".promise-list li")
    assert items.count() == 4
    assert card.locator(".promise-list .badge.overdue").count() == 2  # a2 (substantial) and a3 (limited), past due
    assert card.locator("a.promise-link").get_attribute("href").endswith(f"/compromisos?instance={a}")

    page.evaluate(f"window.location.hash = '#barrio={barrio}'")
    profile = page.locator(f'#detail .profile[data-barrio-id="{barrio}"]')
    profile.locator(".commitments-summary").wait_for(timeout=60000)
    expected = http.get(f"/index/barrios/{barrio}").json()["offer_summary"]["follow_through"]
    shown = profile.locator(".commitments-summary .follow-through")
    assert abs(float(shown.get_attribute("data-value")) - expected) < 1e-9
    assert f"{round(expected * 100)}\u00a0%" in shown.text_content()
    link = profile.locator(".commitments-summary a.promise-link")
    assert link.get_attribute("href") == f"/compromisos?barrio={barrio}"
    link.focus()
    page.keyboard.press("Enter")  # reachable and followed with the keyboard
    page.wait_for_url(f"**/compromisos?barrio={barrio}", timeout=60000)
    assert page.locator("h1").text_content() == "Seguimiento de compromisos"
    assert page.locator("#filtro-barrio").input_value() == str(barrio)
    listed = {int(v) for v in page.locator("article.commitment").evaluate_all("(all) => all.map((a) => a.dataset.id)")}
    in_barrio = {r["id"] for r in tracker["sql"]("SELECT id FROM published.commitments WHERE barrio_id = %s",
                                                  (barrio,))}
    assert listed == in_barrio and tracker["ids"]["a1"] in listed
    selectors = ["h1", ".lead", ".filters h2", ".filters label", ".filters a", "button[type=submit]",
                 *(f".status-count .status-{s}" for s in ("not_started", "limited", "substantial", "complete")),
                 ".badge.overdue", ".commitment .facts dt", ".commitment .instance a", ".timeline summary", ".muted",
                 ".definition"]
    ratios = dict(page.evaluate(CONTRAST, selectors))
    assert all(ratio is not None for ratio in ratios.values()), ratios
    assert {s: r for s, r in ratios.items() if r < 4.5} == {}  # WCAG 2 AA for normal text
    assert errors == []  # nothing refused by the Content-Security-Policy either
    page.context.close()


def test_tracker_form_filters_without_javascript(tracker, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-AR", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{tracker['server'].url}/compromisos")
    page.get_by_label("Estado", exact=True).select_option(label="Sustancial")
    page.get_by_label("Tema", exact=True).select_option(value="gobierno_abierto")
    page.get_by_role("button", name="Filtrar").click()
    page.wait_for_url("**/compromisos?*status=substantial*")
    listed = page.locator("article.commitment").evaluate_all(
        "(all) => all.map((a) => [a.dataset.id, a.dataset.status])")
    expected = tracker["sql"]("""SELECT id FROM published.commitments WHERE status = 'substantial'
                                 AND 'gobierno_abierto' = ANY(themes) ORDER BY due_date, id LIMIT 50""")
    assert [int(i) for i, _ in listed] == [r["id"] for r in expected]
    assert {status for _, status in listed} == {"substantial"}
    assert page.locator(f'article[data-id="{tracker["ids"]["a2"]}"] .status').text_content() == "Sustancial"
    context.close()
