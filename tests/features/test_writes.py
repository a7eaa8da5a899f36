"""Part 4 with tokens: who may do what, ETag preconditions, moderation, soft deletes, history, the spatial join."""

from __future__ import annotations

import threading

import httpx
import psycopg
import pytest
from features_helpers import CENTRE, GEOJSON, assert_problem, bearer, new_instance


def etag_of(http, path) -> str:
    response = http.get(path)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def test_anonymous_and_bad_tokens_cannot_write(world):
    http = world["http"]
    assert_problem(http.post("/collections/instances/items", json=new_instance(), headers=GEOJSON), 401)
    assert_problem(http.post("/collections/instances/items", json=new_instance(), headers=bearer("mpc_nope")), 401)
    response = http.post("/collections/barrios/items", json=new_instance(), headers=bearer(world["tokens"]["editor"]))
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET, HEAD"
    target = world["sql"]("SELECT id FROM published.instances ORDER BY id LIMIT 1")[0][0]
    path = f"/collections/instances/items/{target}"
    etag = http.get(path).headers["etag"]
    for method, url, body in (("PATCH", path, {"type": "Feature", "properties": {"status": "ended"}}),
                              ("PUT", path, new_instance()), ("DELETE", path, None),
                              ("POST", f"{path}/restore", None), ("GET", f"{path}/history", None),
                              ("GET", "/moderation/pending", None), ("POST", f"/moderation/{target}",
                                                                     {"decision": "approve"}),
                              ("GET", "/admin/tokens", None)):
        response = http.request(method, url, json=body, headers={**GEOJSON, "If-Match": etag})
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert http.get(path).headers["etag"] == etag


def test_organization_submission_is_pending_until_an_editor_approves(world):
    http, sql, tokens = world["http"], world["sql"], world["tokens"]
    matched_before = http.get("/collections/instances/items", params={"limit": 1}).json()["numberMatched"]
    created = http.post("/collections/instances/items", json=new_instance(), headers=bearer(tokens["org_a"]))
    assert created.status_code == 201, created.text
    new_id = created.json()["id"]
    assert created.json()["moderation"] == "pending"
    assert created.headers["location"].endswith(f"/collections/instances/items/{new_id}")
    # Invisible to the public API and to the read-only role.
    assert http.get(f"/collections/instances/items/{new_id}").status_code == 404
    # Recorded as made by the organisation's token: `token:{id}:{role}:{name}` (gis/auth.py, Principal.actor),
    # spelt out here from the token row the fixture created ("org a", role organization).
    (token_id,) = sql("SELECT id FROM monitor.api_tokens WHERE name = 'org a' AND role = 'organization' "
                      "AND organization_id = %s", (world["org_a"],))[0]
    actor = f"token:{token_id}:organization:org a"
    assert sql("SELECT organization_id, created_by, updated_by FROM monitor.instances WHERE id = %s",
               (new_id,))[0] == (world["org_a"], actor, actor)
    assert sql("SELECT actor FROM monitor.history WHERE table_name = 'instances' AND row_key = %s "
               "AND action = 'insert'", (str(new_id),)) == [(actor,)]
    with psycopg.connect(world["url"]) as conn:
        conn.execute("SET ROLE monitor_readonly")
        assert conn.execute("SELECT count(*) FROM published.instances WHERE id = %s", (new_id,)).fetchone()[0] == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM monitor.instances")
    # Listed for editors and for its own organisation, not for another.
    queue = http.get("/moderation/pending", headers=bearer(tokens["editor"])).json()["submissions"]
    listed = {r["id"]: r for r in queue}
    assert new_id in listed
    own = http.get("/moderation/pending", headers=bearer(tokens["org_a"])).json()["submissions"]
    assert [r["id"] for r in own] == [new_id]
    assert http.get("/moderation/pending", headers=bearer(tokens["org_b"])).json()["submissions"] == []
    # The other organisation may not touch it; its own may, with the ETag from the pending list.
    etag = listed[new_id]["etag"]
    patch = {"type": "Feature", "properties": {"schedule": "Martes 19 h"}}
    assert_problem(http.patch(f"/collections/instances/items/{new_id}", json=patch,
                              headers=bearer(tokens["org_b"], **{"If-Match": etag})), 403)
    mine = http.patch(f"/collections/instances/items/{new_id}", json=patch,
                      headers=bearer(tokens["org_a"], **{"If-Match": etag}))
    assert mine.status_code == 200, mine.text
    # Organisations cannot moderate, editors must give a reason to reject.
    assert_problem(http.post(f"/moderation/{new_id}", json={"decision": "approve"},
                             headers=bearer(tokens["org_a"])), 403)
    assert_problem(http.patch(f"/collections/instances/items/{new_id}", json={
        "type": "Feature", "properties": {"moderation": "approved"}},
        headers=bearer(tokens["org_a"], **{"If-Match": mine.headers["etag"]})), 403)
    assert_problem(http.post(f"/moderation/{new_id}", json={"decision": "reject"}, headers=bearer(tokens["editor"])))
    rejected = http.post(f"/moderation/{new_id}", json={"decision": "reject", "reason": "Falta el horario"},
                         headers=bearer(tokens["editor"]))
    assert rejected.status_code == 200 and rejected.json()["moderation"] == "rejected"
    seen = http.get("/moderation/pending", headers=bearer(tokens["org_a"])).json()["submissions"]
    assert seen[0]["moderation_reason"] == "Falta el horario"
    assert http.post(f"/moderation/{new_id}", json={"decision": "approve"},
                     headers=bearer(tokens["editor"])).status_code == 200
    published = http.get(f"/collections/instances/items/{new_id}").json()
    # numberMatched (counts are kept briefly for paging clients) follows the write at once.
    assert http.get("/collections/instances/items", params={"limit": 1}).json()["numberMatched"] == matched_before + 1
    assert published["properties"]["schedule"] == "Martes 19 h"
    assert published["properties"]["organization"] is not None


def test_organization_edits_only_its_own_records_and_editors_edit_anything(world):
    http, sql, tokens = world["http"], world["sql"], world["tokens"]
    own = sql("SELECT id FROM published.instances i JOIN monitor.instances m USING (id) "
              "WHERE m.organization_id = %s ORDER BY id LIMIT 1", (world["org_a"],))[0][0]
    other = sql("SELECT id FROM published.instances i JOIN monitor.instances m USING (id) "
                "WHERE m.organization_id = %s ORDER BY id LIMIT 1", (world["org_b"],))[0][0]
    change = {"type": "Feature", "properties": {"status": "paused"}}
    # An organisation's edit of its own approved instance waits for an editor (202; tests/hardening/
    # test_moderated_changes.py); editors' and admins' are published at once.
    for token, target, status in (("org_a", own, 202), ("org_a", other, 403), ("editor", other, 200),
                                  ("admin", own, 200)):
        path = f"/collections/instances/items/{target}"
        response = http.patch(path, json=change, headers=bearer(tokens[token], **{"If-Match": etag_of(http, path)}))
        assert response.status_code == status, (token, target, response.text)
    assert sql("SELECT status FROM monitor.instances WHERE id = %s", (other,))[0][0] == "paused"
    assert_problem(http.delete(f"/collections/instances/items/{other}", headers=bearer(tokens["org_a"])), 403)
    assert http.get(f"/collections/instances/items/{other}").status_code == 200
    # Activities: an organisation adds them only under its own instances.
    activity = {"type": "Feature", "geometry": None, "properties": {
        "instance_id": other, "title": "Reunión abierta", "starts_at": "2027-03-01T19:00:00-03:00",
        "source": "test"}}
    assert_problem(http.post("/collections/activities/items", json=activity, headers=bearer(tokens["org_a"])), 403)
    activity["properties"]["instance_id"] = own
    created = http.post("/collections/activities/items", json=activity, headers=bearer(tokens["org_a"]))
    assert created.status_code == 201, created.text
    assert http.delete(f"/collections/instances/items/{own}", headers=bearer(tokens["org_a"])).status_code == 204


def test_token_management_is_for_admins(world):
    http, tokens = world["http"], world["tokens"]
    assert_problem(http.get("/admin/tokens", headers=bearer(tokens["editor"])), 403)
    assert_problem(http.get("/admin/tokens", headers=bearer(tokens["org_a"])), 403)
    made = http.post("/admin/tokens", json={"role": "editor", "name": "temporary"}, headers=bearer(tokens["admin"]))
    assert made.status_code == 201
    secret, token_id = made.json()["token"], made.json()["id"]
    listed = http.get("/admin/tokens", headers=bearer(tokens["admin"])).json()["tokens"]
    assert any(t["id"] == token_id for t in listed) and all("token" not in t and "token_hash" not in t for t in listed)
    stored = world["sql"]("SELECT token_hash FROM monitor.api_tokens WHERE id = %s", (token_id,))[0][0]
    assert secret not in stored and len(stored) == 64
    assert http.get("/moderation/pending", headers=bearer(secret)).status_code == 200
    assert http.delete(f"/admin/tokens/{token_id}", headers=bearer(tokens["admin"])).status_code == 204
    assert_problem(http.get("/moderation/pending", headers=bearer(secret)), 401)


def test_stale_etag_is_refused_and_concurrent_edits_serialise(world):
    http, sql, tokens = world["http"], world["sql"], world["tokens"]
    target = sql("SELECT id FROM published.instances ORDER BY id LIMIT 1")[0][0]
    path = f"/collections/instances/items/{target}"
    etag = etag_of(http, path)
    headers = bearer(tokens["editor"], **{"If-Match": etag})
    assert_problem(http.patch(path, json={"type": "Feature", "properties": {"schedule": "x"}},
                              headers=bearer(tokens["editor"])), 428)
    first = http.patch(path, json={"type": "Feature", "properties": {"schedule": "Lunes"}}, headers=headers)
    assert first.status_code == 200 and first.headers["etag"] != etag
    stale = http.patch(path, json={"type": "Feature", "properties": {"schedule": "Martes"}}, headers=headers)
    assert_problem(stale, 412)
    assert_problem(http.put(path, json=new_instance(), headers=headers), 412)
    assert sql("SELECT schedule FROM monitor.instances WHERE id = %s", (target,))[0][0] == "Lunes"
    # Two editors send their change at the same moment with the same ETag: exactly one wins.
    etag = etag_of(http, path)
    results = []

    def edit(value):
        with httpx.Client(base_url=str(http.base_url), timeout=60) as client:
            results.append(client.patch(path, json={"type": "Feature", "properties": {"schedule": value}},
                                        headers=bearer(tokens["editor"], **{"If-Match": etag})).status_code)

    threads = [threading.Thread(target=edit, args=(v,)) for v in ("Miércoles", "Jueves")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 412]


def test_replace_soft_delete_restore_and_history(world):
    http, sql, tokens = world["http"], world["sql"], world["tokens"]
    target = sql("SELECT id FROM published.instances WHERE venue_address IS NULL ORDER BY id LIMIT 1")[0][0]
    path = f"/collections/instances/items/{target}"
    before = http.get(path).json()
    old_name = before["properties"]["name"]
    # A client may PUT back what it read, with its read-only properties.
    feature = {**before, "properties": {**before["properties"], "name": "Nombre reemplazado"}}
    feature["properties"].pop("organization")
    replaced = http.put(path, json=feature, headers=bearer(tokens["editor"], **{"If-Match": etag_of(http, path)}))
    assert replaced.status_code == 200, replaced.text
    assert http.get(path).json()["properties"]["name"] == "Nombre reemplazado"
    assert http.delete(path, headers=bearer(tokens["editor"])).status_code == 204
    assert http.get(path).status_code == 404
    assert sql("SELECT deleted_at IS NOT NULL FROM monitor.instances WHERE id = %s", (target,))[0][0]
    assert_problem(http.post(f"{path}/restore", headers=bearer(tokens["org_a"])), 403)
    assert http.post(f"{path}/restore", headers=bearer(tokens["editor"])).status_code == 200
    assert http.get(path).status_code == 200
    changes = http.get(f"{path}/history", headers=bearer(tokens["editor"])).json()["changes"]
    renamed = next(c for c in changes if c["old_values"] and c["old_values"]["name"] == old_name)
    assert renamed["new_values"]["name"] == "Nombre reemplazado"
    (editor_id,) = sql("SELECT id FROM monitor.api_tokens WHERE name = 'test editor' AND role = 'editor'")[0]
    assert renamed["actor"] == f"token:{editor_id}:editor:test editor" and renamed["changed_at"]
    assert [c["action"] for c in changes[-3:]] == ["update", "update", "update"]  # replace, delete, restore
    assert_problem(http.get(f"{path}/history", headers=bearer(tokens["org_a"])), 403)


def test_moving_a_venue_updates_the_barrio_and_district_join(world):
    http, sql, tokens = world["http"], world["sql"], world["tokens"]
    target, barrio = sql("SELECT id, barrio_id FROM published.instances WHERE geom IS NOT NULL ORDER BY id LIMIT 1")[0]
    lon, lat, new_barrio, district = sql(
        "SELECT ST_X(p), ST_Y(p), mslink, district_code FROM (SELECT ST_PointOnSurface(geom) p, mslink, "
        "district_code FROM monitor.barrios WHERE mslink <> %s ORDER BY mslink DESC LIMIT 1) b", (barrio,))[0]
    path = f"/collections/instances/items/{target}"
    moved = http.patch(path, json={"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}},
                       headers=bearer(tokens["editor"], **{"If-Match": etag_of(http, path)}))
    assert moved.status_code == 200, moved.text
    props = http.get(path).json()["properties"]
    assert (props["barrio_id"], props["district"]) == (new_barrio, district)


def test_content_crs_22185_and_4326_on_writes(world):
    http, sql, tokens = world["http"], world["sql"], world["tokens"]
    easting, northing = sql("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), "
                            "4326), 22185) p) t", CENTRE)[0]
    for crs, point, name in (("http://www.opengis.net/def/crs/EPSG/0/22185", [northing, easting], "Mesa en 22185"),
                             ("http://www.opengis.net/def/crs/EPSG/0/4326", CENTRE[::-1], "Mesa en 4326")):
        created = http.post("/collections/instances/items", json=new_instance(name, point=point),
                            headers=bearer(tokens["editor"], **{"Content-Crs": f"<{crs}>"}))
        assert created.status_code == 201, created.text
        lon, lat = sql("SELECT ST_X(venue), ST_Y(venue) FROM monitor.instances WHERE id = %s",
                       (created.json()["id"],))[0]
        assert abs(lon - CENTRE[0]) < 1e-7 and abs(lat - CENTRE[1]) < 1e-7
    assert_problem(http.post("/collections/instances/items", json=new_instance("Mesa rara"),
                             headers=bearer(tokens["editor"], **{"Content-Crs": "<EPSG:2154>"})), 400)
