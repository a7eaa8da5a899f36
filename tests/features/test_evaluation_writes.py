"""The evaluation half through the one write path: criteria, assessments, experiences and commitments are
collections edited like instances, with their own rules (issue 9)."""

from __future__ import annotations

import psycopg
from features_helpers import assert_problem, bearer

from gis.index.compute import run as index_run


def feature(**properties) -> dict:
    return {"type": "Feature", "geometry": None, "properties": properties}


def own_instance(world, org: str = "org_a") -> int:
    return world["sql"]("SELECT id FROM published.instances WHERE id IN (SELECT id FROM monitor.instances "
                        "WHERE organization_id = %s) ORDER BY id LIMIT 1", (world[org],))[0][0]


def test_a_criterion_changes_by_version_and_old_assessments_keep_theirs(world):
    http, sql, tokens = world["http"], world["sql"], world["tokens"]
    path = "/collections/criteria/items/agenda_ahead"
    before = http.get(path)
    assert before.status_code == 200 and before.json()["properties"]["version"] == 1
    assessed = sql("SELECT count(*) FROM monitor.instance_standards WHERE criterion = 'agenda_ahead' "
                   "AND criterion_version = 1")[0][0]
    assert assessed > 0
    # Organisations cannot change the standards; editors can, and the version goes up.
    org = http.patch(path, json=feature(guidance_es="Otra guía"),
                     headers=bearer(tokens["org_a"], **{"If-Match": before.headers["etag"]}))
    assert_problem(org, 403)
    changed = http.patch(path, json=feature(guidance_es="Publicar la agenda con 10 días de anticipación."),
                         headers=bearer(tokens["editor"], **{"If-Match": before.headers["etag"]}))
    assert changed.status_code == 200, changed.text
    after = http.get(path).json()["properties"]
    assert after["version"] == 2 and after["guidance_es"].startswith("Publicar la agenda con 10")
    # Past assessments still say which version they were made against; the history keeps version 1's text.
    assert sql("SELECT count(*) FROM monitor.instance_standards WHERE criterion = 'agenda_ahead' "
               "AND criterion_version = 1")[0][0] == assessed
    history = http.get(f"{path}/history", headers=bearer(tokens["editor"])).json()["changes"]
    assert history[-1]["old_values"]["version"] == 1 and history[-1]["new_values"]["version"] == 2
    # The code of a criterion never changes.
    renamed = http.patch(path, json=feature(code="agenda"),
                         headers=bearer(tokens["editor"], **{"If-Match": http.get(path).headers["etag"]}))
    assert assert_problem(renamed, 400)["field"] == "code"


def test_a_verified_assessment_wins_over_the_derived_one(world):
    http, sql, tokens = world["http"], world["sql"], world["tokens"]
    instance = own_instance(world)
    with psycopg.connect(world["url"], autocommit=True) as conn:
        conn.execute("UPDATE monitor.instances SET decides = NULL WHERE id = %s", (instance,))
        conn.execute("DELETE FROM monitor.instance_standards WHERE instance_id = %s "
                     "AND criterion = 'purpose_published'", (instance,))
    index_run(world["url"], trigger="test")
    derived = sql("SELECT status, method FROM monitor.instance_standards WHERE instance_id = %s "
                  "AND criterion = 'purpose_published'", (instance,))
    assert derived == [("not_met", "derived")]
    (row_id,) = sql("SELECT id FROM monitor.instance_standards WHERE instance_id = %s "
                    "AND criterion = 'purpose_published'", (instance,))[0]
    path = f"/collections/assessments/items/{row_id}"
    etag = http.get(path).headers["etag"]
    # A verification names who checked it.
    nobody = http.patch(path, json=feature(status="met", method="verified"),
                        headers=bearer(tokens["editor"], **{"If-Match": etag}))
    assert assert_problem(nobody, 400)["field"] == "assessed_by"
    verified = http.patch(path, json=feature(status="met", method="verified", assessed_by="Equipo de gobierno abierto",
                                             evidence_url="https://www.rosario.gob.ar/acta.pdf"),
                          headers=bearer(tokens["editor"], **{"If-Match": etag}))
    assert verified.status_code == 200, verified.text
    index_run(world["url"], trigger="test")  # derives again: the registry still says "no purpose published"
    assert sql("SELECT status, method, assessed_by FROM monitor.instance_standards WHERE id = %s", (row_id,)) == [
        ("met", "verified", "Equipo de gobierno abierto")]
    # A second assessment of the same instance and criterion is a conflict.
    again = http.post("/collections/assessments/items", headers=bearer(tokens["editor"]), json=feature(
        instance_id=instance, criterion="purpose_published", status="not_met", assessed_by="Otra persona"))
    assert assert_problem(again, 409)["field"] == "criterion"
    # Organisations do not assess themselves.
    assert_problem(http.post("/collections/assessments/items", headers=bearer(tokens["org_a"]), json=feature(
        instance_id=instance, criterion="agenda_ahead", status="met", assessed_by="Nosotros")), 403)


def test_an_organisation_records_what_its_meeting_produced(world):
    http, sql, tokens = world["http"], world["sql"], world["tokens"]
    instance = own_instance(world)
    other = own_instance(world, "org_b")
    record = feature(instance_id=instance, held_on="2026-10-02", attendance=30, proposals_count=4,
                     participant_profile={"gender": {"female": 17, "male": 12}, "age_band": {"16-24": 9}},
                     minutes_url="https://vecinal.example.org/acta-octubre", source="test")
    created = http.post("/collections/experiences/items", json=record, headers=bearer(tokens["org_a"]))
    assert created.status_code == 201, created.text
    published = http.get(f"/collections/experiences/items/{created.json()['id']}").json()
    assert published["properties"]["participant_profile"]["gender"] == {"female": 17, "male": 12}
    assert published["geometry"] == http.get(f"/collections/instances/items/{instance}").json()["geometry"]
    # Not for another organisation's instance; never more people in the profile than attended.
    assert_problem(http.post("/collections/experiences/items", headers=bearer(tokens["org_a"]),
                             json=feature(**{**record["properties"], "instance_id": other})), 403)
    crowded = http.post("/collections/experiences/items", headers=bearer(tokens["org_a"]), json=feature(
        **{**record["properties"], "participant_profile": {"gender": {"female": 40}}}))
    assert assert_problem(crowded, 400)["field"] == "participant_profile"
    foreign_activity = sql("SELECT id FROM monitor.activities WHERE instance_id <> %s LIMIT 1", (instance,))[0][0]
    wrong = http.post("/collections/experiences/items", headers=bearer(tokens["org_a"]), json=feature(
        **{**record["properties"], "activity_id": foreign_activity}))
    assert assert_problem(wrong, 400)["field"] == "activity_id"
    # A commitment that came out of that meeting says so.
    commitment = http.post("/collections/commitments/items", headers=bearer(tokens["editor"]), json=feature(
        instance_id=instance, description="Instalar luminarias en la plaza", made_on="2026-10-02",
        due_date="2027-03-01", experience_id=created.json()["id"], source="test"))
    assert commitment.status_code == 201, commitment.text
    shown = http.get(f"/collections/commitments/items/{commitment.json()['id']}").json()["properties"]
    assert shown["origin"] == "experience" and shown["status"] == "not_started" and shown["overdue"] is False
    with psycopg.connect(world["url"]) as conn:  # the record reached the index's inputs (a notification)
        assert conn.execute("SELECT count(*) FROM monitor.experiences WHERE instance_id = %s",
                            (instance,)).fetchone()[0] >= 1
