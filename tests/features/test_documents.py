"""An experience's minutes as a file: uploaded by whoever may edit the record, kept under its SHA-256, served back."""

from __future__ import annotations

import hashlib

from features_helpers import assert_problem, bearer

PDF = b"%PDF-1.4\n% acta de la reunion del consejo barrial\n" + bytes(range(256)) * 40


def new_experience(world) -> int:
    instance = world["sql"]("SELECT id FROM published.instances WHERE id IN (SELECT id FROM monitor.instances "
                            "WHERE organization_id = %s) ORDER BY id LIMIT 1", (world["org_a"],))[0][0]
    created = world["http"].post("/collections/experiences/items", headers=bearer(world["tokens"]["org_a"]), json={
        "type": "Feature", "geometry": None,
        "properties": {"instance_id": instance, "held_on": "2026-11-01", "attendance": 12, "source": "test"}})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def test_a_document_is_kept_with_its_hash_and_served_back(world, tmp_path):
    http, sql, tokens = world["http"], world["sql"], world["tokens"]
    experience = new_experience(world)
    path = f"/collections/experiences/items/{experience}/document"
    assert_problem(http.get(path), 404)  # nothing attached yet
    uploaded = http.put(path, content=PDF, params={"name": "../../acta noviembre.pdf"},
                        headers={"Authorization": f"Bearer {tokens['org_a']}", "Content-Type": "application/pdf"})
    assert uploaded.status_code == 200, uploaded.text
    sha256 = hashlib.sha256(PDF).hexdigest()
    assert uploaded.json()["document_sha256"] == sha256 and uploaded.json()["document_name"] == "acta noviembre.pdf"
    assert sql("SELECT document_name, document_sha256, version FROM monitor.experiences WHERE id = %s",
               (experience,)) == [("acta noviembre.pdf", sha256, 2)]
    record = http.get(f"/collections/experiences/items/{experience}").json()["properties"]
    assert record["document_sha256"] == sha256
    served = http.get(path)
    assert served.status_code == 200 and served.content == PDF
    assert hashlib.sha256(served.content).hexdigest() == sha256
    assert served.headers["content-type"] == "application/pdf"
    assert 'filename="acta noviembre.pdf"' in served.headers["content-disposition"]
    assert http.get(path, headers={"If-None-Match": f'"{sha256}"'}).status_code == 304


def test_documents_are_refused_to_strangers_and_for_bad_bodies(world):
    http, sql, tokens = world["http"], world["sql"], world["tokens"]
    experience = new_experience(world)
    path = f"/collections/experiences/items/{experience}/document"
    before = sql("SELECT version, document_sha256 FROM monitor.experiences WHERE id = %s", (experience,))
    pdf = {"Content-Type": "application/pdf"}
    assert_problem(http.put(path, content=PDF, headers=pdf), 401)
    other = http.put(path, content=PDF, headers={**pdf, "Authorization": f"Bearer {tokens['org_b']}"})
    assert "their own organisation's records" in assert_problem(other, 403)["detail"]
    html = http.put(path, content=b"<script>alert(1)</script>",
                    headers={"Content-Type": "text/html", "Authorization": f"Bearer {tokens['editor']}"})
    assert "application/pdf" in assert_problem(html, 415)["detail"]
    empty = http.put(path, content=b"", headers={**pdf, "Authorization": f"Bearer {tokens['editor']}"})
    assert_problem(empty, 400)
    # Records without documents have no such route.
    assert_problem(http.put("/collections/commitments/items/1/document", content=PDF,
                            headers={**pdf, "Authorization": f"Bearer {tokens['editor']}"}), 404)
    assert sql("SELECT version, document_sha256 FROM monitor.experiences WHERE id = %s", (experience,)) == before
