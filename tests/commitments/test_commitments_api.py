"""GET /commitments: filters compared with the same selection in SQL, CSV and GeoJSON, origins, the status timeline
from the history without who made the changes, and follow-through computed by hand (per instance, per barrio as the
index does it) and on the instance card."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from commitments_helpers import ADMIN_NAME, EDITOR_NAME, expected_follow_through, wait_for_index_after_writes

ALL = {"limit": "1000"}


def ids_of(http, params: dict) -> tuple[list[int], dict]:
    response = http.get("/commitments", params={**ALL, **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    return [c["id"] for c in body["commitments"]], body


def test_each_filter_selects_what_sql_selects(tracker):
    http, sql, a, b = tracker["http"], tracker["sql"], tracker["instances"]["A"], tracker["instances"]["B"]
    barrio_a = tracker["barrios"]["A"]
    order = " ORDER BY due_date, id"
    cases = [
        ({}, "TRUE", []),
        ({"status": "limited"}, "status = %s", ["limited"]),
        ({"status": "complete"}, "status = %s", ["complete"]),
        ({"instance": a}, "instance_id = %s", [a]),
        ({"instance": b}, "instance_id = %s", [b]),
        ({"barrio": barrio_a["id"]}, "barrio_id = %s", [barrio_a["id"]]),
        ({"district": barrio_a["district"].lower()}, "district = %s", [barrio_a["district"]]),
        ({"theme": "gobierno_abierto"}, "%s = ANY(themes)", ["gobierno_abierto"]),
        ({"overdue": "true"}, "overdue", []),
        ({"overdue": "false"}, "overdue IS NOT TRUE", []),  # no due date: not overdue
        ({"theme": "gobierno_abierto", "overdue": "true"}, "%s = ANY(themes) AND overdue", ["gobierno_abierto"]),
        ({"status": "limited", "barrio": barrio_a["id"], "theme": "gobierno_abierto", "overdue": "false"},
         "status = 'limited' AND barrio_id = %s AND %s = ANY(themes) AND overdue IS NOT TRUE",
         [barrio_a["id"], "gobierno_abierto"]),
        ({"status": "", "theme": ""}, "TRUE", []),  # empty values (a form's "Todos") filter nothing
    ]
    for params, where, values in cases:
        expected = [r["id"] for r in sql(f"SELECT id FROM published.commitments WHERE {where}{order}", values)]
        got, body = ids_of(http, params)
        assert got == expected, params
        assert body["numberMatched"] == len(expected) == body["numberReturned"], params
    # The seeded rows land where they should.
    got, _ = ids_of(http, {"instance": a, "overdue": "true"})
    assert set(got) == {tracker["ids"]["a2"], tracker["ids"]["a3"]}  # a1 complete, a4 not yet due
    got, _ = ids_of(http, {"instance": b, "overdue": "false"})
    assert got == [tracker["ids"]["b2"]]  # b2 has no due date


def test_paging_links_and_negotiation(tracker):
    http, sql = tracker["http"], tracker["sql"]
    expected = [r["id"] for r in sql("SELECT id FROM published.commitments ORDER BY due_date, id")]
    page = http.get("/commitments", params={"limit": 3, "offset": 3}).json()
    assert [c["id"] for c in page["commitments"]] == expected[3:6]
    assert page["numberMatched"] == len(expected)
    rels = {link["rel"]: link["href"] for link in page["links"]}
    assert "offset=6" in rels["next"] and "prev" in rels and "/compromisos?" in rels["alternate"]
    following = http.get(rels["next"]).json()
    assert [c["id"] for c in following["commitments"]] == expected[6:9]
    assert http.get("/commitments", headers={"Accept": "text/csv"}).headers["content-type"].startswith("text/csv")
    geo = http.get("/commitments", params={"limit": 1}, headers={"Accept": "application/geo+json"})
    assert geo.headers["content-type"] == "application/geo+json"
    head = http.head("/commitments", params={"limit": 1})
    assert head.status_code == 200 and head.headers["etag"]
    assert http.get("/commitments", params={"limit": 1}, headers={"If-None-Match": head.headers["etag"]}
                    ).status_code == 304


def test_csv_and_geojson_forms(tracker):
    http, sql, a = tracker["http"], tracker["sql"], tracker["instances"]["A"]
    expected = [r["id"] for r in sql("SELECT id FROM published.commitments WHERE instance_id = %s "
                                     "ORDER BY due_date, id", (a,))]
    response = http.get("/commitments", params={"instance": a, "f": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["id"]) for r in rows] == expected
    header = response.text.splitlines()[0].split(",")
    assert header[:3] == ["id", "instance_id", "instance_name"] and "timeline" in header and "status_label" in header
    by_id = {int(r["id"]): r for r in rows}
    a2 = by_id[tracker["ids"]["a2"]]
    assert [s["status"] for s in json.loads(a2["timeline"])] == ["not_started", "limited", "substantial"]
    assert a2["status_label"] == "Sustancial" and a2["activity_href"].endswith(
        f"/collections/activities/items/{tracker['activity']}")
    assert by_id[tracker["ids"]["a1"]]["themes"] == "gobierno_abierto"

    collection = http.get("/commitments", params={"instance": a, "f": "geojson"})
    assert collection.headers["content-type"] == "application/geo+json"
    body = collection.json()
    assert body["type"] == "FeatureCollection" and body["numberMatched"] == len(expected)
    assert [f["id"] for f in body["features"]] == expected
    venue = sql("SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM published.instances WHERE id = %s", (a,))[0]
    for feature in body["features"]:
        assert feature["geometry"]["type"] == "Point"
        assert abs(feature["geometry"]["coordinates"][0] - venue["x"]) < 1e-6
        assert abs(feature["geometry"]["coordinates"][1] - venue["y"]) < 1e-6
        assert feature["properties"]["instance_id"] == a and "timeline" in feature["properties"]


def test_evidence_response_and_origin_with_links(tracker):
    http, ids = tracker["http"], tracker["ids"]
    _, body = ids_of(http, {"instance": tracker["instances"]["A"]})
    by_id = {c["id"]: c for c in body["commitments"]}
    a1, a2, a3, a4 = (by_id[ids[k]] for k in ("a1", "a2", "a3", "a4"))
    assert a1["origin"] == "proposal" and a1["proposal_ref"] == "PP-2026-07"
    assert a1["evidence_url"] == "https://example.org/evidencia/pp"
    assert a1["government_response"] == "Aceptada y publicada."
    assert a2["origin"] == "activity" and a2["activity_id"] == tracker["activity"]
    assert a3["origin"] == "experience" and a3["experience_id"] == tracker["experience"]
    assert a4["origin"] is None and a4["activity_href"] is None and a4["experience_href"] is None
    activity = http.get(a2["activity_href"])
    assert activity.status_code == 200 and activity.json()["properties"]["title"] == "Asamblea de cierre"
    experience = http.get(a3["experience_href"])
    assert experience.status_code == 200 and experience.json()["id"] == tracker["experience"]
    assert http.get(a1["href"]).json()["id"] == ids["a1"]
    assert http.get(a1["instance_href"]).json()["id"] == tracker["instances"]["A"]


def test_timeline_has_the_three_states_in_order_and_no_actor_names(tracker):
    http, sql, ids, a = tracker["http"], tracker["sql"], tracker["ids"], tracker["instances"]["A"]
    actors = {r["actor"] for r in sql("SELECT actor FROM monitor.history WHERE table_name = 'commitments' "
                                      "AND row_key = %s", (str(ids["a2"]),))}
    assert any(EDITOR_NAME in actor for actor in actors) and any(ADMIN_NAME in actor for actor in actors)

    _, body = ids_of(http, {"instance": a})
    timeline = next(c for c in body["commitments"] if c["id"] == ids["a2"])["timeline"]
    # The insert and the two status changes; the description edit changed neither status nor progress.
    assert [(s["status"], s["progress"]) for s in timeline] == [("not_started", 0), ("limited", 30),
                                                                 ("substantial", 70)]
    assert [s["status_label"] for s in timeline] == ["Sin iniciar", "Limitado", "Sustancial"]
    moments = [s["changed_at"] for s in timeline]
    assert moments == sorted(moments) and len(set(moments)) == 3
    assert {s["by"] for s in timeline} == {"editor"}  # the admin's change too: a kind, not a name
    assert set(timeline[0]) == {"changed_at", "status", "status_label", "progress", "by"}
    single = next(c for c in body["commitments"] if c["id"] == ids["a1"])["timeline"]
    assert [s["status"] for s in single] == ["complete"]

    answers = [http.get("/commitments", params={"instance": a, "f": f}).text for f in ("json", "csv", "geojson")]
    answers += [http.get("/compromisos", params={"instance": a}).text, http.get(f"/instances/{a}/card").text]
    for text in answers:
        for secret in (EDITOR_NAME, ADMIN_NAME, "token:", "Juana", "Pedro"):
            assert secret not in text


def test_follow_through_equals_a_hand_computation(tracker):
    http, sql, today = tracker["http"], tracker["sql"], tracker["today"]
    a, b = tracker["instances"]["A"], tracker["instances"]["B"]
    rows = sql("SELECT id, instance_id, barrio_id, status, due_date FROM published.commitments")

    _, body = ids_of(http, {"instance": a})
    summary = body["summary"]
    assert summary["scope"] == {"instance_id": str(a)}
    assert summary["follow_through"] == {"due": 3, "fulfilled": 2, "share": 2 / 3}  # a1 complete, a2 substantial
    assert summary["by_status"] == {"not_started": 0, "limited": 2, "substantial": 1, "complete": 1}
    assert summary["commitments"] == 4 and summary["overdue"] == 2
    assert [i["instance_id"] for i in summary["instances"]] == [a]

    # Status and overdue choose what is listed, not what the summary counts.
    _, narrowed = ids_of(http, {"instance": a, "status": "complete"})
    assert narrowed["numberMatched"] == 1 and narrowed["summary"]["follow_through"] == summary["follow_through"]

    # Every instance and the whole city, by hand from the rows.
    _, everything = ids_of(http, {})
    assert everything["summary"]["follow_through"] == expected_follow_through(rows, today)
    for entry in everything["summary"]["instances"]:
        own = [r for r in rows if r["instance_id"] == entry["instance_id"]]
        assert entry["commitments"] == len(own)
        assert entry["follow_through"] == expected_follow_through(own, today), entry["instance_id"]
    by_instance = {e["instance_id"]: e["follow_through"] for e in everything["summary"]["instances"]}
    assert by_instance[b] == {"due": 1, "fulfilled": 0, "share": 0.0}

    # The card says the same.
    assert http.get(f"/instances/{a}/card").json()["follow_through"] == {"due": 3, "fulfilled": 2, "share": 2 / 3}
    card_b = http.get(f"/instances/{b}/card").json()
    assert card_b["follow_through"] == {"due": 1, "fulfilled": 0, "share": 0.0}
    assert card_b["links"]["commitments"].endswith(f"/compromisos?instance={b}")
    assert {c["id"]: c["status_label"] for c in card_b["commitments"]} == {
        tracker["ids"]["b1"]: "Limitado", tracker["ids"]["b2"]: "Sin iniciar"}

    # A barrio, as the index defines it: the mean of the follow-through of the instances of its offer that have
    # something due. Checked once the index has run over the new instances and commitments.
    wait_for_index_after_writes(sql)
    barrio = tracker["barrios"]["A"]["id"]
    offer = [r["instance_id"] for r in sql("SELECT instance_id FROM published.index_offer WHERE barrio_id = %s",
                                           (barrio,))]
    assert a in offer

    def by_hand(day: date) -> float:
        shares = [ft["share"] for j in offer
                  if (ft := expected_follow_through([r for r in rows if r["instance_id"] == j], day))["due"]]
        return sum(shares) / len(shares)

    _, in_barrio = ids_of(http, {"barrio": barrio})
    entry = next(e for e in in_barrio["summary"]["barrios"] if e["barrio_id"] == barrio)
    assert abs(entry["follow_through"] - by_hand(today)) < 1e-12
    located = [r for r in rows if r["barrio_id"] == barrio]
    assert entry["located"] == expected_follow_through(located, today) and entry["commitments"] == len(located)
    # The index counts with Rosario's date too.
    index = http.get(f"/index/barrios/{barrio}").json()["offer_summary"]["follow_through"]
    assert abs(index - by_hand(today)) < 1e-9


def test_bad_filter_values_are_refused(tracker):
    http = tracker["http"]
    for params, field in (({"status": "done"}, "status"), ({"barrio": "99999"}, "barrio"), ({"barrio": "x"}, "barrio"),
                          ({"theme": "astrologia"}, "theme"), ({"overdue": "maybe"}, "overdue"),
                          ({"district": "ATLANTIDA"}, "district"), ({"instance": "-4"}, "instance"),
                          ({"limit": "0"}, "limit"), ({"limit": "5000"}, "limit"), ({"offset": "-1"}, "offset")):
        response = http.get("/commitments", params=params)
        assert response.status_code == 400, params
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == field
    assert http.get("/commitments", params={"f": "xml"}).status_code == 400


def test_who_changed_a_commitment_is_told_only_as_a_kind_of_actor():
    from api.commitments import actor_kind

    assert actor_kind("token:3:editor:Juana Secreta") == "editor"
    assert actor_kind("token:1:admin:Pedro") == "editor"
    assert actor_kind("token:9:organization:Vecinal Norte: Comisión") == "organización"
    for loader in ("cli:import", "import:compromisos.csv", "loader:demo", "sync:decidim"):
        assert actor_kind(loader) == "importación"
    for other in ("postgres", "cli:token", "public:encuesta", "token:", "token:7", "", None):
        assert actor_kind(other) is None
