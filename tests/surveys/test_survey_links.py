"""Survey links: made with the CLI or by editors over the API, listed, revoked; private to the registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from survey_helpers import answers

MONITOR = [sys.executable, "-m", "cli.main"]  # the `monitor` command, whatever the venv's entry script says


def monitor(world, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": world.url, "MONITOR_PUBLIC_URL": world.server.url}
    return subprocess.run([*MONITOR, "survey", *args], capture_output=True, text=True, env=env, timeout=120,
                          check=check)


def test_cli_link_prints_a_url_that_works(survey_world):
    w = survey_world
    made = monitor(w, "link", "--instance", str(w.instance), "--activity", str(w.activity), "--days", "3")
    url = made.stdout.strip()
    assert url.startswith(f"{w.server.url}/encuesta/") and "\n" not in url
    code = url.rsplit("/", 1)[1]
    assert len(code) == 8 and code.isalnum() and code.islower()
    assert "QR" in made.stderr and f"{url}/qr.svg" in made.stderr
    name, title = w.sql("SELECT i.name, a.title FROM monitor.instances i JOIN monitor.activities a "
                        "ON a.instance_id = i.id WHERE a.id = %s", (w.activity,))[0]
    form = w.http.get(url)
    assert form.status_code == 200 and form.headers["content-type"].startswith("text/html")
    assert '<html lang="es">' in form.text and name in form.text and title in form.text
    stored = w.sql("SELECT instance_id, activity_id, created_by, expires_at - created_at FROM monitor.survey_links "
                   "WHERE code = %s", (code,))[0]
    assert stored[:3] == (w.instance, w.activity, "cli:survey") and stored[3].days == 3
    listed = [json.loads(line) for line in monitor(w, "list").stdout.splitlines()]
    assert [(e["code"], e["status"], e["responses"], e["url"]) for e in listed] == [(code, "open", 0, url)]
    monitor(w, "revoke", code)
    assert w.http.get(url).status_code == 410
    assert monitor(w, "revoke", code, check=False).returncode != 0
    # Refusals are clear and make nothing: an activity of another instance, an unknown instance, a bad duration.
    for args in (["--instance", str(w.instance), "--activity", str(w.other_activity)],
                 ["--instance", "999999"], ["--instance", str(w.instance), "--days", "0"]):
        refused = monitor(w, "link", *args, check=False)
        assert refused.returncode != 0 and refused.stdout == "", args
    assert w.sql("SELECT count(*) FROM monitor.survey_links")[0][0] == 1


def test_api_links_need_an_editor_token(survey_world):
    w = survey_world
    body = {"instance_id": w.instance, "days": 7}
    editor = {"Authorization": f"Bearer {w.tokens['editor']}"}
    organization = {"Authorization": f"Bearer {w.tokens['organization']}"}
    assert w.http.post("/surveys/links", json=body).status_code == 401
    refused = w.http.post("/surveys/links", json=body, headers=organization)
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert w.http.get("/surveys/links").status_code == 401
    assert w.http.get("/surveys/links", headers=organization).status_code == 403
    assert w.sql("SELECT count(*) FROM monitor.survey_links")[0][0] == 0

    made = w.http.post("/surveys/links", json=body, headers=editor)
    assert made.status_code == 201, made.text
    link = made.json()
    assert link["url"] == f"{w.server.url}/encuesta/{link['code']}" == made.headers["location"]
    assert link["qr"] == link["url"] + "/qr.svg" and link["status"] == "open" and link["activity_id"] is None
    assert link["created_by"].startswith("token:") and link["created_by"].endswith(":editor:test editor")
    assert w.http.get(link["url"]).status_code == 200
    listed = w.http.get("/surveys/links", params={"instance": w.instance}, headers=editor).json()["links"]
    assert [entry["code"] for entry in listed] == [link["code"]]

    # Bad requests are refused with a reason, and nothing is made.
    for bad, status in (({"instance_id": w.instance, "activity_id": w.other_activity}, 400),
                        ({"instance_id": 999999}, 404), ({"instance_id": w.instance, "days": 0}, 400),
                        ({"instance_id": w.instance, "days": 1000}, 400), ({"instance_id": w.instance, "x": 1}, 400)):
        response = w.http.post("/surveys/links", json=bad, headers=editor)
        assert response.status_code == status, (bad, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert w.sql("SELECT count(*) FROM monitor.survey_links")[0][0] == 1

    assert w.http.delete(f"/surveys/links/{link['code']}", headers=organization).status_code == 403
    assert w.http.delete(f"/surveys/links/{link['code']}", headers=editor).status_code == 204
    assert w.http.delete(f"/surveys/links/{link['code']}", headers=editor).status_code == 404
    assert w.http.get(link["url"]).status_code == 410
    history = w.sql("SELECT action, actor FROM monitor.history WHERE table_name = 'survey_links' ORDER BY id")
    assert [h[0] for h in history] == ["insert", "update"] and all(h[1].startswith("token:") for h in history)


def test_links_and_raw_answers_stay_private(survey_world):
    w = survey_world
    for table in ("monitor.survey_links", "monitor.survey_responses"):
        privileges = w.sql("SELECT has_table_privilege('monitor_readonly', %s, 'SELECT'), "
                           "has_schema_privilege('monitor_readonly', 'monitor', 'USAGE')", (table,))[0]
        assert privileges == (False, False), table
    # Nothing in the published schema exposes links or single answers.
    exposed = w.sql("""SELECT DISTINCT v.table_name FROM information_schema.view_table_usage v
                       WHERE v.view_schema = 'published' AND v.table_name IN ('survey_links', 'survey_responses')""")
    assert ("survey_links",) not in exposed
    columns = {r[0] for r in w.sql("SELECT column_name FROM information_schema.columns "
                                   "WHERE table_schema = 'published' AND table_name = 'instance_satisfaction'")}
    assert columns == {"instance_id", "responses", "mean_score"}
    assert answers(w) == 0
