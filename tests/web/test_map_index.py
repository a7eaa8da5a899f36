"""The index on the map, in Chromium: barrio profile with the API's exact values, choropleth of any pillar by
barrio or district in the published style's colours, the gaps highlight and the H3 hexagons."""

from __future__ import annotations

import os

import pytest
from web_helpers import FREE_PIXEL_IN_BARRIO, RENDERED_FILL_COLOURS, evaluate, wait_idle

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


def choropleth_layer(config: dict, unit: str, field: str) -> str:
    return next(p["style_layer"] for p in config["index_layers"][unit]["pillars"] if p["field"] == field)


def test_choropleth_of_any_pillar_by_barrio_or_district(map_page, http, index_ready, artifacts_dir):
    page, log = map_page
    config = http.get("/map/config.json").json()
    published = {layer["id"]: layer for layer in http.get("/styles/monitor.json").json()["layers"]}
    by_barrio = {row["barrio_id"]: row for row in http.get("/index/barrios").json()["barrios"]}
    page.select_option("#choropleth-field", "quality")
    page.wait_for_function("document.body.dataset.choropleth === 'barrio:quality'")
    wait_idle(page)
    quality = choropleth_layer(config, "barrio", "quality")
    drawn = page.evaluate(RENDERED_LAYER, quality)
    assert {f["barrio_id"] for f in drawn} == {b for b, row in by_barrio.items() if row["quality"] is not None}
    assert all(f["quality"] == pytest.approx(by_barrio[f["barrio_id"]]["quality"], abs=1e-9) for f in drawn)
    # The map paints with the published style's own layer, unchanged: the server's ramp for the field.
    fill = page.evaluate("(id) => window.monitorMap.getPaintProperty(id, 'fill-color')", quality)
    assert fill == published[quality]["paint"]["fill-color"] == config["ramps"]["quality"]["expression"]
    assert "Calidad por barrio" in page.text_content("#legend")
    swatches = page.eval_on_selector_all("#legend .ramp .swatch", "els => els.map((e) => e.getAttribute('style'))")
    assert swatches == [f"background:{c}" for c in reversed(config["ramps"]["quality"]["colours"])]
    legend = page.text_content("#legend .ramp")
    assert all(label in legend for label in config["ramps"]["quality"]["labels"])

    page.select_option("#choropleth-field", "composite")
    page.check("input[name=choropleth-unit][value=district]")
    page.wait_for_function("document.body.dataset.choropleth === 'district:composite'")
    wait_idle(page)
    shown = page.evaluate("""() => window.monitorMap.getStyle().layers
        .filter((l) => l.type === 'fill' && (l.layout || {}).visibility === 'visible'
                && (l.metadata || {})['monitor:field']).map((l) => l.id)""")
    assert shown == [choropleth_layer(config, "district", "composite")]
    districts = {row["code"]: row for row in http.get("/index/districts").json()["districts"]}
    drawn = page.evaluate(RENDERED_LAYER, shown[0])
    assert {f["code"] for f in drawn} == set(districts)
    assert all(f["composite"] == pytest.approx(districts[f["code"]]["composite"], abs=1e-9) for f in drawn)
    assert "Índice compuesto por distrito" in page.text_content("#legend")
    page.screenshot(path=os.path.join(artifacts_dir, "web-map-choropleth-districts.png"))

    page.select_option("#choropleth-field", "")
    page.wait_for_function("document.body.dataset.choropleth === ''")
    assert page.evaluate("(id) => window.monitorMap.getLayoutProperty(id, 'visibility')", shown[0]) == "none"
    assert log.errors == []


@pytest.mark.parametrize("unit, field", [("barrio", "composite"), ("barrio", "accessibility"),
                                         ("district", "composite")])
def test_map_colours_a_unit_as_the_published_style_says(map_page, http, index_ready, unit, field):
    """One colour meaning: the fill MapLibre computes for each barrio (district) on the map is the colour the
    published style's expression gives, evaluated here in Python, for the value /index/barrios (districts) gives."""
    page, log = map_page
    config = http.get("/map/config.json").json()
    values = config["index_layers"][unit]["values"]
    rows = {row[values["id"]]: row for row in http.get(values["url"]).json()[values["key"]]}
    style = http.get("/styles/monitor.json").json()
    (published,) = [layer for layer in style["layers"] if layer["type"] == "fill"
                    and layer["source-layer"] == config["index_layers"][unit]["layer"]
                    and layer.get("metadata", {}).get("monitor:field") == field]
    expected = {key: evaluate(published["paint"]["fill-color"], {field: row[field]})
                for key, row in rows.items() if evaluate(published.get("filter", True), {field: row[field]})}

    page.select_option("#choropleth-field", field)
    page.check(f"input[name=choropleth-unit][value={unit}]")
    page.wait_for_function("(v) => document.body.dataset.choropleth === v", arg=f"{unit}:{field}")
    wait_idle(page)
    drawn = page.evaluate(RENDERED_FILL_COLOURS, published["id"])
    on_map = {}
    for feature in drawn:  # a polygon cut by tile edges comes back once per tile: one colour for all pieces
        on_map.setdefault(feature[values["id"]], set()).add(feature["fill"])
    assert on_map == {key: {colour} for key, colour in expected.items()}
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
