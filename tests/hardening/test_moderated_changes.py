"""An organisation's edit of its own approved instance waits for an editor (issue 13, item 5).

Before: an organisation token's PATCH of an approved instance was published at once. Now it is answered 202, kept
as a pending change (validated now), and the public — items, the card, the read-only role — keeps the approved
version, with the same ETag, until an editor accepts the change; a rejected change leaves it as it was.
"""

from __future__ import annotations

import psycopg
from hardening_helpers import assert_problem, bearer


def published(http, instance_id) -> tuple[dict, str]:
    response = http.get(f"/collections/instances/items/{instance_id}")
    assert response.status_code == 200, response.text
    return response.json()["properties"], response.headers["etag"]


def test_organisation_changes_to_approved_instances_wait_for_an_editor(writer):
    http, sql, tokens = writer["http"], writer["sql"], writer["tokens"]
    org, editor = bearer(tokens["org"]), bearer(tokens["editor"])
    instance_id = sql("SELECT id FROM published.instances i JOIN monitor.instances m USING (id) "
                      "WHERE m.organization_id = %s ORDER BY id LIMIT 1", (writer["org"],))[0][0]
    path = f"/collections/instances/items/{instance_id}"
    before, etag = published(http, instance_id)
    version = sql("SELECT version FROM monitor.instances WHERE id = %s", (instance_id,))[0][0]

    proposed = http.patch(path, json={"type": "Feature", "properties": {"schedule": "Lunes 21 h"}},
                          headers={**org, "If-Match": etag})
    assert proposed.status_code == 202, proposed.text
    assert proposed.json()["moderation"] == "pending" and proposed.json()["changes"] == ["schedule"]
    assert proposed.headers["etag"] == etag  # the row did not change
    # A second edit with the same ETag adds to the pending change.
    second = http.patch(path, json={"type": "Feature", "properties": {"status": "paused"}},
                        headers={**org, "If-Match": etag})
    assert second.status_code == 202 and second.json()["changes"] == ["schedule", "status"]
    # An edit the rules refuse is refused now, not at approval, and leaves the pending change as it was.
    assert_problem(http.patch(path, json={"type": "Feature", "properties": {"contact": "Marta, 341 15 555-1234"}},
                              headers={**org, "If-Match": etag}), 400)

    # The public keeps the approved version: items, card, read-only role, the row itself.
    after, same_etag = published(http, instance_id)
    assert (after, same_etag) == (before, etag)
    assert http.get(f"/instances/{instance_id}/card").json()["instance"]["schedule"] == before["schedule"]
    with psycopg.connect(writer["url"]) as conn:
        conn.execute("SET ROLE monitor_readonly")
        assert conn.execute("SELECT schedule, status FROM published.instances WHERE id = %s",
                            (instance_id,)).fetchone() == (before["schedule"], before["status"])
    assert sql("SELECT version FROM monitor.instances WHERE id = %s", (instance_id,))[0][0] == version

    # Editors see the change beside the approved values; the organisation sees its own.
    queue = http.get("/moderation/pending", headers=editor).json()
    change = next(c for c in queue["changes"] if c["id"] == instance_id)
    assert change["changes"] == {"schedule": "Lunes 21 h", "status": "paused"}
    assert change["current"] == {"schedule": before["schedule"], "status": before["status"]}
    assert change["state"] == "pending" and change["proposed_by"].startswith("token:")
    assert [c["id"] for c in http.get("/moderation/pending", headers=org).json()["changes"]] == [instance_id]

    # Rejected (a reason is required): still the approved version; the organisation reads why.
    assert_problem(http.post(f"/moderation/{instance_id}", json={"decision": "reject"}, headers=editor), 400)
    rejected = http.post(f"/moderation/{instance_id}", json={"decision": "reject", "reason": "El horario no es ese"},
                         headers=editor)
    assert rejected.status_code == 200 and rejected.json()["change"] == "rejected"
    assert published(http, instance_id) == (before, etag)
    mine = http.get("/moderation/pending", headers=org).json()["changes"]
    assert mine[0]["state"] == "rejected" and mine[0]["reason"] == "El horario no es ese"
    assert http.get("/moderation/pending", headers=editor).json()["changes"] == []

    # Proposed again and accepted: now it is public, as one new version by the editor.
    again = http.patch(path, json={"type": "Feature", "properties": {"schedule": "Martes 20 h"}},
                       headers={**org, "If-Match": etag})
    assert again.status_code == 202 and again.json()["changes"] == ["schedule"]
    accepted = http.post(f"/moderation/{instance_id}", json={"decision": "approve"}, headers=editor)
    assert accepted.status_code == 200 and accepted.json()["change"] == "approved"
    now, new_etag = published(http, instance_id)
    assert now["schedule"] == "Martes 20 h" and now["status"] == before["status"] and new_etag != etag
    assert sql("SELECT version FROM monitor.instances WHERE id = %s", (instance_id,))[0][0] == version + 1
    assert http.get("/moderation/pending", headers=org).json()["changes"] == []
    # Who proposed and who decided is in the history.
    actors = [r[0] for r in sql("SELECT actor FROM monitor.history WHERE table_name = 'instance_changes' "
                                "AND row_key = %s ORDER BY id", (str(instance_id),))]
    assert any(":organization:" in a for a in actors) and any(":editor:" in a for a in actors)

    # An editor's own edit of an approved instance is published at once, as before.
    edited = http.patch(path, json={"type": "Feature", "properties": {"schedule": "Miércoles 19 h"}},
                        headers={**editor, "If-Match": new_etag})
    assert edited.status_code == 200
    assert published(http, instance_id)[0]["schedule"] == "Miércoles 19 h"


def test_an_edit_to_the_approved_values_leaves_nothing_to_review(writer):
    http, sql, tokens = writer["http"], writer["sql"], writer["tokens"]
    instance_id = sql("SELECT id FROM published.instances i JOIN monitor.instances m USING (id) "
                      "WHERE m.organization_id = %s ORDER BY id DESC LIMIT 1", (writer["org"],))[0][0]
    properties, etag = published(http, instance_id)
    same = http.patch(f"/collections/instances/items/{instance_id}", json={"type": "Feature", "properties": {
        "schedule": properties["schedule"], "name": properties["name"]}},
        headers=bearer(tokens["org"], **{"If-Match": etag}))
    assert same.status_code == 200, same.text
    assert same.headers["etag"] == etag
    assert sql("SELECT count(*) FROM monitor.instance_changes WHERE instance_id = %s", (instance_id,))[0][0] == 0


def test_a_put_of_the_published_feature_leaves_nothing_to_review(writer):
    """What GET returned, sent back with PUT, changes nothing: fields the feature does not publish (the source's
    key, scope note, source URL, private notes) are kept, so nothing waits for an editor."""
    http, sql, tokens = writer["http"], writer["sql"], writer["tokens"]
    instance_id = sql("SELECT id FROM published.instances i JOIN monitor.instances m USING (id) "
                      "WHERE m.organization_id = %s AND m.external_id IS NOT NULL ORDER BY id LIMIT 1",
                      (writer["org"],))[0][0]
    stored = sql("SELECT external_id, private_notes, version FROM monitor.instances WHERE id = %s", (instance_id,))
    response = http.get(f"/collections/instances/items/{instance_id}")
    same = http.put(f"/collections/instances/items/{instance_id}", json=response.json(),
                    headers=bearer(tokens["org"], **{"If-Match": response.headers["etag"]}))
    assert same.status_code == 200, same.text
    assert sql("SELECT count(*) FROM monitor.instance_changes WHERE instance_id = %s", (instance_id,))[0][0] == 0
    assert sql("SELECT external_id, private_notes, version FROM monitor.instances WHERE id = %s",
               (instance_id,)) == stored
