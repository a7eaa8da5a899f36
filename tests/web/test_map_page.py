"""The public map in Debian's Chromium (Playwright): offline load, tiles drawn, filters, card, profile, agenda,
keyboard and phone layout. Values on screen are compared with the API's own answers."""

from __future__ import annotations

import os
import re
from collections import Counter

import pytest
from browser_helpers import CONTRAST
from web_helpers import open_page, wait_idle

pytestmark = pytest.mark.browser

RENDERED = """(sourceLayer) => {
    const map = window.monitorMap;
    const layers = map.getStyle().layers
        .filter((l) => l['source-layer'] === sourceLayer && !l.id.startsWith('web-')
                && map.getLayoutProperty(l.id, 'visibility') !== 'none')
        .map((l) => l.id);
    return map.queryRenderedFeatures({ layers }).map((f) => ({ id: f.id, ...f.properties }));
}"""

JUMP = "([lon, lat, zoom]) => window.monitorMap.jumpTo({ center: [lon, lat], zoom })"



AGENDA_IDS = "els => els.map((e) => Number(e.dataset.activityId))"


def rendered(page, source_layer):
    return page.evaluate(RENDERED, source_layer)


def singles(features):
    return [f for f in features if (f.get("point_count") or 1) == 1]


def es_integer(value) -> str:
    return f"{round(value):,}".replace(",", ".")


def test_page_loads_offline_draws_tiles_and_labels_its_controls(map_page, http, sql):
    page, log = map_page
    wait_idle(page)
    assert log.errors == []
    assert log.outside == [], "the page must not reach any other host"
    assert any(re.search(r"/tiles/\d+/\d+/\d+\.mvt$", url) for url in log.requests)
    assert any(url.endswith("/styles/monitor.json") for url in log.requests)

    barrios = {f["id"] for f in rendered(page, "barrios")}
    assert barrios == {row["id"] for row in sql("SELECT id FROM published.barrios")}
    instances = rendered(page, "instances")
    placed = sql("SELECT count(*) AS n FROM published.instances WHERE geom IS NOT NULL")[0]["n"]
    assert instances
    assert sum(f.get("point_count") or 1 for f in instances) == placed  # every placed instance, once
    counts = page.eval_on_selector_all(".cluster-count", "els => els.map((e) => Number(e.textContent))")
    assert sorted(counts) == sorted(f["point_count"] for f in instances if (f.get("point_count") or 1) > 1)

    unnamed = page.evaluate("""() => [...document.querySelectorAll('input, select, button')]
        .filter((el) => el.offsetParent !== null)
        .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                        && !el.getAttribute('aria-labelledby') && !el.textContent.trim())
        .map((el) => el.outerHTML.slice(0, 80))""")
    assert unnamed == []
    assert page.get_attribute("#map", "aria-label")
    assert "DEMO" in page.text_content(".demo-banner")


def test_kind_filter_changes_what_is_rendered(map_page):
    page, _ = map_page
    page.evaluate(JUMP, [-60.655, -32.95, 13.4])
    wait_idle(page)
    before = singles(rendered(page, "instances"))
    kinds = Counter(f["kind"] for f in before)
    assert len(kinds) > 1
    kind, count = kinds.most_common(1)[0]

    page.get_by_role("button", name="Ninguno").click()
    page.locator(f"input[name=kind][value={kind}]").check()
    wait_idle(page)
    after = singles(rendered(page, "instances"))
    assert len(after) == count < len(before)
    assert {f["kind"] for f in after} == {kind}

    page.get_by_role("button", name="Todos", exact=True).click()
    wait_idle(page)
    assert len(singles(rendered(page, "instances"))) == len(before)


def test_theme_modality_promoter_status_and_demo_filters_act_on_the_map(map_page):
    page, _ = map_page
    page.evaluate(JUMP, [-60.655, -32.95, 13.4])
    wait_idle(page)
    before = singles(rendered(page, "instances"))
    theme = Counter(t for f in before for t in f["themes"].split(",")).most_common(1)[0][0]
    page.select_option("select[name=theme]", theme)
    wait_idle(page)
    themed = singles(rendered(page, "instances"))
    assert themed and len(themed) < len(before)
    assert all(theme in f["themes"].split(",") for f in themed)

    page.select_option("select[name=theme]", "")
    for key in ("modality", "promoter", "status"):
        value = Counter(f[key] for f in before).most_common()[-1][0]  # the rarest value in view
        page.select_option(f"select[name={key}]", value)
        wait_idle(page)
        narrowed = singles(rendered(page, "instances"))
        assert narrowed and len(narrowed) < len(before) and {f[key] for f in narrowed} == {value}, key
        page.select_option(f"select[name={key}]", "")
    page.uncheck("input[name=demo]")
    wait_idle(page)
    real = singles(rendered(page, "instances"))
    assert len(real) < len(before)
    assert all(not f["is_demo"] for f in real)


def test_click_on_an_instance_opens_its_card(map_page, http, sql):
    page, _ = map_page
    # The placed instance farthest from any other: a click on it cannot hit a neighbour.
    lonely = sql("""SELECT i.id, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat
                    FROM published.instances i WHERE i.geom IS NOT NULL
                    ORDER BY (SELECT min(ST_Distance(i.geom_3857, o.geom_3857)) FROM published.instances o
                              WHERE o.id <> i.id AND o.geom IS NOT NULL) DESC LIMIT 1""")[0]
    page.evaluate(JUMP, [lonely["lon"], lonely["lat"], 15])
    wait_idle(page)
    box = page.locator("#map canvas").bounding_box()
    x, y = page.evaluate("([lon, lat]) => { const p = window.monitorMap.project([lon, lat]); return [p.x, p.y]; }",
                         [lonely["lon"], lonely["lat"]])
    page.mouse.click(box["x"] + x, box["y"] + y)
    card = page.locator(f"#detail [data-instance-id='{lonely['id']}']")
    card.wait_for()

    api = http.get(f"/instances/{lonely['id']}/card").json()
    assert api["instance"]["name"] in card.locator("h2").text_content()
    assert f"Estándares mínimos: {api['standards_met']} de {api['standards_total']}" in card.text_content()
    assert card.locator(".standards li.met").count() == api["standards_met"]
    assert card.locator(".promise-list li").count() == len(api["commitments"])
    for commitment in api["commitments"]:
        assert commitment["status_label"] in card.locator(".promise-list").text_content()
    assert card.locator(".activity-list li").count() == len(api["next_activities"])
    assert (card.locator("h2 .badge.demo").count() == 1) == api["instance"]["is_demo"]
    assert page.evaluate("() => document.activeElement.id") == "detail-title"
    assert page.url.endswith(f"#instancia={lonely['id']}")


def test_agenda_view_lists_the_next_activities_and_subscribes(map_page, http):
    page, _ = map_page
    page.get_by_role("button", name="Agenda").click()
    page.locator("#agenda-list .agenda-item").first.wait_for()
    expected = http.get("/agenda", params={"limit": 60}).json()["activities"]
    shown = page.eval_on_selector_all("#agenda-list .agenda-item", AGENDA_IDS)
    assert shown == [a["id"] for a in expected]
    assert page.get_attribute("#agenda-subscribe a.button", "href").startswith("webcal://")
    assert page.get_attribute("#agenda-subscribe a.button", "href").endswith("/agenda.ics")

    barrio_id = expected[0]["barrio_id"]
    page.select_option("#agenda-filters select[name=barrio]", str(barrio_id))
    page.wait_for_function("(n) => document.querySelector('#agenda-subscribe').textContent.includes('barrio')",
                           arg=barrio_id)
    by_barrio = http.get("/agenda", params={"barrio": barrio_id, "limit": 60}).json()["activities"]
    shown = page.eval_on_selector_all("#agenda-list .agenda-item", AGENDA_IDS)
    assert shown == [a["id"] for a in by_barrio]
    hrefs = page.eval_on_selector_all("#agenda-subscribe a", "els => els.map((e) => e.href)")
    assert any(h.endswith(f"/barrios/{barrio_id}/agenda.ics") for h in hrefs)


def test_search_and_card_work_by_keyboard(map_page, sql):
    page, log = map_page
    barrio = sql("SELECT id, name FROM published.barrios WHERE name = 'Alberdi'")[0]
    page.focus("#search")
    page.keyboard.type("alberd")
    page.locator("#search-results [role=option]").first.wait_for()
    page.keyboard.press("ArrowDown")
    assert page.get_attribute("#search", "aria-activedescendant") == "search-option-0"
    page.keyboard.press("Enter")
    page.locator(f"#detail [data-barrio-id='{barrio['id']}']").wait_for()
    assert page.evaluate("() => document.activeElement.id") == "detail-title"
    page.keyboard.press("Escape")
    assert page.locator("#detail").is_hidden()
    assert page.evaluate("() => document.activeElement.id") == "search"
    assert log.errors == []


def test_phone_layout_and_screenshots(browser, live_server, http, sql, artifacts_dir):
    instance = sql("""SELECT i.id FROM published.instances i WHERE i.geom IS NOT NULL AND
                      EXISTS (SELECT 1 FROM published.commitments c WHERE c.instance_id = i.id)
                      ORDER BY i.id LIMIT 1""")[0]
    page, log = open_page(browser, live_server, f"/map#instancia={instance['id']}")
    page.locator(f"#detail [data-instance-id='{instance['id']}']").wait_for()
    wait_idle(page)
    page.screenshot(path=os.path.join(artifacts_dir, "web-map-desktop.png"))
    page.get_by_role("button", name="Agenda").click()
    page.locator("#agenda-list .agenda-item").first.wait_for()
    page.screenshot(path=os.path.join(artifacts_dir, "web-agenda-desktop.png"))
    assert log.errors == []
    page.context.close()

    page, log = open_page(browser, live_server, f"/map#instancia={instance['id']}",
                          viewport={"width": 390, "height": 844})
    detail = page.locator("#detail")
    detail.locator(f"[data-instance-id='{instance['id']}']").wait_for()
    wait_idle(page)
    assert page.locator("#panel").is_hidden()  # filters fold away on a phone
    sheet = detail.bounding_box()
    assert sheet["width"] == 390 and sheet["y"] > 844 / 3  # the card is a bottom sheet over the map
    page.screenshot(path=os.path.join(artifacts_dir, "web-map-phone-card.png"))
    page.click("#detail-close")
    toggle = page.get_by_role("button", name="Filtros y capas")
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.locator("#panel").is_visible()
    page.screenshot(path=os.path.join(artifacts_dir, "web-map-phone-filters.png"))
    assert log.errors == []
    page.context.close()


def test_pmtiles_switch_draws_the_map_from_the_archive(browser, pmtiles_server, sql):
    page, log = open_page(browser, pmtiles_server, "/map?fuente=pmtiles")
    wait_idle(page)
    assert page.evaluate("window.monitorSource") == "pmtiles"
    assert any(url.endswith("/archives/monitor.pmtiles") for url in log.requests)
    assert not any(re.search(r"/tiles/\d+/\d+/\d+\.mvt$", url) for url in log.requests)
    barrios = {f["id"] for f in rendered(page, "barrios")}
    assert barrios == {row["id"] for row in sql("SELECT id FROM published.barrios")}
    assert rendered(page, "instances")
    assert page.get_by_role("link", name="Usar las teselas del servidor").is_visible()
    assert log.errors == [] and log.outside == []
    page.context.close()




def test_text_has_readable_contrast(map_page):
    page, _ = map_page
    page.click("#toggle-gaps")
    page.locator("#gaps-list li").first.wait_for()
    selectors = [".brand h1", ".tagline", ".views button[aria-pressed=true]", ".views button[aria-pressed=false]",
                 ".demo-banner", ".badge.demo", ".panel-section h2", ".kind-option span:last-child", ".field span",
                 ".legend-list li span:last-child", ".sources a", ".gaps-list .muted", "#gaps-list button.link"]
    ratios = dict(page.evaluate(CONTRAST, selectors))
    assert all(ratio is not None for ratio in ratios.values()), ratios
    assert {s: r for s, r in ratios.items() if r < 4.5} == {}  # WCAG 2 AA for normal text
