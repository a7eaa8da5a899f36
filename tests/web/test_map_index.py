"""The index on the map, in Chromium: barrio profile with the API's exact values, choropleth of any pillar by
barrio or district, the gaps highlight and the H3 hexagons."""

from __future__ import annotations

import os

import pytest
from web_helpers import FREE_PIXEL_IN_BARRIO, wait_idle

pytestmark = pytest.mark.browser


RENDERED_LAYER = """(id) => window.monitorMap.queryRenderedFeatures({ layers: [id] })
    .map((f) => ({ id: f.id, ...f.properties }))"""


def es_decimal(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}".replace(",", "_").replace(".", ",").replace("_", ".")


def test_click_on_a_barrio_opens_its_profile_with_the_apis_values(map_page, http, sql, index_ready):
    page, log = map_page
    barrio = sql("SELECT id, name FROM published.barrios ORDER BY area_km2 DESC LIMIT 1")[0]
    bbox = sql("SELECT ST_XMin(geom) a, ST_YMin(geom) b, ST_XMax(geom) c, ST_YMax(geom) d FROM published.barrios "
               "WHERE id = %s", (barrio["id"],))[0]
    page.evaluate("(b) => window.monitorMap.fitBounds([[b.a, b.b], [b.c, b.d]], { animate: false, padding: 40 })",
                  bbox)
    wait_idle(page)
    x, y = page.evaluate(FREE_PIXEL_IN_BARRIO, barrio["id"])
    page.mouse.click(x, y)
    profile = page.locator(f"#detail [data-barrio-id='{barrio['id']}']")
    profile.locator(".pillars").wait_for()

    api = http.get(f"/index/barrios/{barrio['id']}").json()
    assert profile.locator("h2").text_content() == api["name"] == barrio["name"]
    for cls, value in (("population", api["population"]), ("uncovered", api["uncovered_population"]),
                       ("nearest", api["mean_nearest_m"])):
        shown = profile.locator(f"span.{cls}")
        assert float(shown.get_attribute("data-value")) == value, cls
        assert shown.text_content().startswith(f"{round(value):,}".replace(",", ".")), cls
    composite = profile.locator("[data-field=composite] .pillar-value")
    assert float(composite.get_attribute("data-value")) == api["composite"]
    assert composite.text_content() == es_decimal(api["composite"], 1)
    for pillar, value in api["pillars"].items():
        shown = profile.locator(f"[data-field={pillar}] .pillar-value")
        assert float(shown.get_attribute("data-value")) == value, pillar
        assert shown.text_content() == es_decimal(value, 2), pillar
    rank = profile.locator("p.rank")
    assert int(rank.get_attribute("data-rank")) == api["rank"]
    assert int(rank.get_attribute("data-of")) == api["of"]
    for key in ("median", "p05", "p95"):
        assert float(rank.get_attribute(f"data-{key}")) == api["rank_interval"][key]
    assert f"Oferta de participación ({len(api['offer'])})" in profile.text_content()
    offered = profile.locator(".offer li").evaluate_all("els => els.map((e) => Number(e.dataset.instanceId))")
    assert offered == [o["instance_id"] for o in api["offer"]][:30]

    agenda = http.get("/agenda", params={"barrio": barrio["id"], "limit": 5}).json()["activities"]
    shown = profile.locator(".activity-list li")
    assert shown.count() == len(agenda)
    for i, activity in enumerate(agenda):
        assert activity["title"] in shown.nth(i).text_content()
    assert page.evaluate("() => window.monitorMap.getFilter('web-barrio-selected')") == ["==", ["id"], barrio["id"]]
    assert log.errors == []


def test_choropleth_of_any_pillar_by_barrio_or_district(map_page, http, index_ready, artifacts_dir):
    page, log = map_page
    by_barrio = {row["barrio_id"]: row for row in http.get("/index/barrios").json()["barrios"]}
    page.select_option("#choropleth-field", "quality")
    page.wait_for_function("document.body.dataset.choropleth === 'barrio:quality'")
    wait_idle(page)
    drawn = page.evaluate(RENDERED_LAYER, "web-choropleth-barrio")
    assert {f["barrio_id"] for f in drawn} == set(by_barrio)
    assert all(f["quality"] == pytest.approx(by_barrio[f["barrio_id"]]["quality"], abs=1e-9) for f in drawn)
    fill = page.evaluate("() => window.monitorMap.getPaintProperty('web-choropleth-barrio', 'fill-color')")
    low, high = min(r["quality"] for r in by_barrio.values()), max(r["quality"] for r in by_barrio.values())
    assert fill[2][:2] == ["step", ["get", "quality"]]
    assert fill[2][3::2] == pytest.approx([low + k * (high - low) / 5 for k in (1, 2, 3, 4)])
    assert "Calidad por barrio" in page.text_content("#legend")

    page.select_option("#choropleth-field", "composite")
    page.check("input[name=choropleth-unit][value=district]")
    page.wait_for_function("document.body.dataset.choropleth === 'district:composite'")
    wait_idle(page)
    assert page.evaluate("() => window.monitorMap.getLayoutProperty('web-choropleth-barrio', 'visibility')") == "none"
    districts = {row["code"]: row for row in http.get("/index/districts").json()["districts"]}
    drawn = page.evaluate(RENDERED_LAYER, "web-choropleth-district")
    assert {f["code"] for f in drawn} == set(districts)
    assert all(f["composite"] == pytest.approx(districts[f["code"]]["composite"], abs=1e-9) for f in drawn)
    assert "Índice compuesto por distrito" in page.text_content("#legend")
    page.screenshot(path=os.path.join(artifacts_dir, "web-map-choropleth-districts.png"))

    page.select_option("#choropleth-field", "")
    page.wait_for_function("document.body.dataset.choropleth === ''")
    assert page.evaluate("() => window.monitorMap.getLayoutProperty('web-choropleth-district', 'visibility')") == "none"
    assert log.errors == []


def test_gaps_highlight_and_hexagons(map_page, http, index_ready, artifacts_dir):
    page, log = map_page
    page.check("#toggle-gaps")
    page.locator("#gaps-list li").first.wait_for()
    gaps = http.get("/gaps", params={"limit": 10}).json()["gaps"]
    ids = [g["barrio_id"] for g in gaps]
    assert page.evaluate("() => window.monitorMap.getFilter('web-gaps')") == ["in", ["id"], ["literal", ids]]
    assert page.locator("#gaps-list li").evaluate_all("els => els.map((e) => e.querySelector('button').textContent)") \
        == [g["name"] for g in gaps]
    wait_idle(page)
    outlined = {f["id"] for f in page.evaluate(RENDERED_LAYER, "web-gaps")}
    assert outlined == set(ids)

    page.check("#toggle-hexagons")
    wait_idle(page)
    hexagons = page.evaluate("""() => {
        const map = window.monitorMap;
        const ids = map.getStyle().layers.filter((l) => l['source-layer'] === 'hexagons').map((l) => l.id);
        return map.queryRenderedFeatures({ layers: ids }).map((f) => f.properties);
    }""")
    assert hexagons and {h["coverage"] for h in hexagons} <= {0, 1}
    assert "Hexágonos H3" in page.text_content("#legend")
    page.screenshot(path=os.path.join(artifacts_dir, "web-map-gaps-hexagons.png"))

    page.locator("#gaps-list button").first.click()
    page.locator(f"#detail [data-barrio-id='{ids[0]}']").wait_for()
    assert log.errors == []
