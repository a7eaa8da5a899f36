"""GET /instances/{id}/card: the instance card of the map, from the published views."""

from __future__ import annotations


def test_card_holds_instance_standards_commitments_and_next_activities(http, sql):
    row = sql("""SELECT i.id FROM published.instances i
                 WHERE EXISTS (SELECT 1 FROM published.commitments c WHERE c.instance_id = i.id)
                   AND EXISTS (SELECT 1 FROM published.activities a WHERE a.instance_id = i.id AND a.starts_at > now())
                 ORDER BY i.id LIMIT 1""")[0]
    card = http.get(f"/instances/{row['id']}/card").json()
    instance = sql("SELECT * FROM published.instances WHERE id = %s", (row["id"],))[0]
    for field in ("name", "kind_label", "decides", "how_to_participate", "contact", "is_demo", "barrio"):
        assert card["instance"][field] == instance[field], field
    met = sql("SELECT criterion FROM published.instance_standards WHERE instance_id = %s AND met", (row["id"],))
    assert card["standards_met"] == len(met) == instance["standards_met"]
    assert card["standards_total"] == 8
    assert {s["criterion"] for s in card["standards"] if s["met"]} == {m["criterion"] for m in met}
    assert all(s["label"] for s in card["standards"])
    commitments = sql("SELECT id, status FROM published.commitments WHERE instance_id = %s", (row["id"],))
    assert {(c["id"], c["status"]) for c in card["commitments"]} == {(c["id"], c["status"]) for c in commitments}
    assert all(c["status_label"] for c in card["commitments"])
    upcoming = sql("""SELECT id FROM published.activities WHERE instance_id = %s
                      AND coalesce(ends_at, starts_at) >= now() ORDER BY starts_at, id LIMIT 5""", (row["id"],))
    assert [a["id"] for a in card["next_activities"]] == [a["id"] for a in upcoming]
    assert card["links"]["agenda_ics"].endswith(f"/instances/{row['id']}/agenda.ics")


def test_satisfaction_is_shown_only_with_five_answers_or_more(http, sql):
    counts = sql("""SELECT i.id, count(r.id) AS n FROM published.instances i
                    LEFT JOIN monitor.survey_responses r ON r.instance_id = i.id AND r.kind = 'satisfaction'
                    GROUP BY i.id ORDER BY i.id""")
    few = next(c for c in counts if 0 < c["n"] < 5) if any(0 < c["n"] < 5 for c in counts) else \
        next(c for c in counts if c["n"] == 0)
    many = next(c for c in counts if c["n"] >= 5)
    assert http.get(f"/instances/{few['id']}/card").json()["satisfaction"] is None
    shown = http.get(f"/instances/{many['id']}/card").json()["satisfaction"]
    view = sql("SELECT responses, mean_score FROM published.instance_satisfaction WHERE instance_id = %s",
               (many["id"],))[0]
    assert shown == {"responses": many["n"], "mean_score": view["mean_score"]}


def test_unpublished_or_unknown_instance_is_404(http, sql):
    hidden = sql("SELECT id FROM monitor.instances WHERE moderation <> 'approved' OR deleted_at IS NOT NULL LIMIT 1")
    for instance_id in [999999] + [h["id"] for h in hidden]:
        response = http.get(f"/instances/{instance_id}/card")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    assert http.get("/instances/abc/card").status_code == 400


def test_search_finds_barrios_and_instances_ignoring_accents(http, sql):
    barrio = sql("SELECT id, name FROM published.barrios WHERE name ILIKE '%%í%%' ORDER BY id LIMIT 1")[0]
    plain = barrio["name"].lower().replace("í", "i")
    results = http.get("/map/search", params={"q": plain}).json()["results"]
    assert {"type": "barrio", "id": barrio["id"]} in [{"type": r["type"], "id": r["id"]} for r in results]
    instance = sql("SELECT id, name FROM published.instances ORDER BY id LIMIT 1")[0]
    results = http.get("/map/search", params={"q": instance["name"]}).json()["results"]
    assert instance["id"] in [r["id"] for r in results if r["type"] == "instance"]
    assert http.get("/map/search", params={"q": "x"}).status_code == 400
    assert http.get("/map/search", params={"q": "%_%"}).json()["results"] == []


def test_card_carries_the_follow_through_of_its_commitments(http, sql):
    """Follow-through as the index defines it: of the commitments due today (Rosario) or earlier, the share that
    are substantial or complete; the commitments keep their status, its Spanish label and the overdue flag."""
    rows = sql("""SELECT instance_id, count(*) FILTER (WHERE due_date <= (now() AT TIME ZONE
                                                         'America/Argentina/Cordoba')::date) AS due,
                         count(*) FILTER (WHERE due_date <= (now() AT TIME ZONE 'America/Argentina/Cordoba')::date
                                          AND status IN ('substantial', 'complete')) AS fulfilled
                  FROM published.commitments GROUP BY instance_id ORDER BY instance_id""")
    some = next(r for r in rows if r["due"] > r["fulfilled"] > 0)
    card = http.get(f"/instances/{some['instance_id']}/card").json()
    assert card["follow_through"] == {"due": some["due"], "fulfilled": some["fulfilled"],
                                      "share": some["fulfilled"] / some["due"]}
    labels = {"not_started": "Sin iniciar", "limited": "Limitado", "substantial": "Sustancial", "complete": "Cumplido"}
    assert all(c["status_label"] == labels[c["status"]] and "overdue" in c for c in card["commitments"])
    assert card["links"]["commitments"].endswith(f"/compromisos?instance={some['instance_id']}")
    without = sql("SELECT id FROM published.instances i WHERE NOT EXISTS "
                  "(SELECT 1 FROM published.commitments c WHERE c.instance_id = i.id) ORDER BY id LIMIT 1")[0]
    assert http.get(f"/instances/{without['id']}/card").json()["follow_through"] == {
        "due": 0, "fulfilled": 0, "share": None}
