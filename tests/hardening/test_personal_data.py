"""Personal data (issue 13, item 7): an instance's contact is split into a public institutional channel and
private notes for editors, which no public output carries.

Before: the free-text `contact` held e-mail addresses and phone numbers of people and was published in items, CSV,
cards and the read-only role's views. Now `public_contact` (published as `contact`) accepts one e-mail address, web
address or telephone number, and `private_notes` is in no published view, so in no item, card, tile, CSV, QGIS
project or read-only query. The demo fills both (its private notes start "Dato de demostración (privado)").
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from urllib.parse import urlsplit, urlunsplit

import mapbox_vector_tile
import morecantile
import psycopg
from hardening_helpers import assert_problem, bearer, new_instance
from psycopg import sql as pgsql

MARKER = "NOTA-PRIVADA-4f1c"
NOTES = f"{MARKER}: llamar a Marta Gómez, celular 341 15 555-1234, marta.gomez@example.com"
DEMO_NOTES = "Dato de demostración (privado)"
PUBLIC = "participa@vecinal-prueba.org.ar"
TMS = morecantile.tms.get("WebMercatorQuad")


def leaks(text: str) -> list[str]:
    return [secret for secret in (MARKER, "marta.gomez@example.com", DEMO_NOTES) if secret in text]


def readonly_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"monitor_readonly@{parts.netloc.rsplit('@', 1)[-1]}"))


def test_private_notes_are_in_no_public_output(writer):
    http, sql, tokens = writer["http"], writer["sql"], writer["tokens"]
    # The demo filled both halves of every demo instance.
    assert sql("SELECT count(*) FROM monitor.instances WHERE is_demo AND public_contact LIKE 'participa+demo%%' "
               f"AND private_notes LIKE '{DEMO_NOTES}%%'")[0][0] >= 250
    point = [-60.6432, -32.9512]
    created = http.post("/collections/instances/items", headers=bearer(tokens["editor"]), json=new_instance(
        "Mesa de contacto reservado", point, contact=PUBLIC, private_notes=NOTES))
    assert created.status_code == 201, created.text
    new_id = created.json()["id"]
    assert sql("SELECT public_contact, private_notes FROM monitor.instances WHERE id = %s", (new_id,)) == [
        (PUBLIC, NOTES)]
    # An organisation's own pending submission: the editors read its notes in the queue, the organisation does not.
    submitted = http.post("/collections/instances/items", headers=bearer(tokens["org"]), json=new_instance(
        "Mesa propuesta con notas", [-60.6441, -32.9507], private_notes=NOTES))
    assert submitted.status_code == 201, submitted.text
    queue = http.get("/moderation/pending", headers=bearer(tokens["editor"])).json()["submissions"]
    queue = {r["id"]: r for r in queue}
    assert queue[submitted.json()["id"]]["private_notes"] == NOTES
    assert MARKER not in http.get("/moderation/pending", headers=bearer(tokens["org"])).text
    # Editors read the notes in the history; a PUT of the published feature (which has no notes) keeps them.
    history = http.get(f"/collections/instances/items/{new_id}/history", headers=bearer(tokens["editor"]))
    assert MARKER in history.text
    item = http.get(f"/collections/instances/items/{new_id}")
    feature = item.json()
    assert feature["properties"]["contact"] == PUBLIC and "private_notes" not in feature["properties"]
    put = http.put(f"/collections/instances/items/{new_id}", json=feature,
                   headers=bearer(tokens["editor"], **{"If-Match": item.headers["etag"]}))
    assert put.status_code == 200, put.text
    assert sql("SELECT private_notes FROM monitor.instances WHERE id = %s", (new_id,)) == [(NOTES,)]

    outputs = {
        "items": http.get("/collections/instances/items", params={"limit": 10000}).text,
        "item": http.get(f"/collections/instances/items/{new_id}").text,
        "item html": http.get(f"/collections/instances/items/{new_id}", params={"f": "html"}).text,
        "csv": http.get("/collections/instances/items", params={"limit": 10000, "f": "csv"}).text,
        "card": http.get(f"/instances/{new_id}/card").text,
        "agenda": http.get("/agenda").text,
        "commitments": http.get("/commitments", params={"limit": 1000}).text,
    }
    assert PUBLIC in outputs["item"] and PUBLIC in outputs["card"] and PUBLIC in outputs["csv"]
    for source in ("oapif", "postgis", "tiles"):
        project = http.get("/qgis/monitor.qgz", params={"source": source})
        assert project.status_code == 200
        with zipfile.ZipFile(io.BytesIO(project.content)) as archive:
            outputs[f"qgis {source}"] = " ".join(archive.read(n).decode(errors="replace") for n in archive.namelist())
    # Tiles: every zoom of the map, the layer's own tiles and the all-layers tile, decoded.
    for z in range(8, 17):
        tile = TMS.tile(*point, z)
        for path in (f"/tiles/instances/{z}/{tile.x}/{tile.y}.mvt", f"/tiles/{z}/{tile.x}/{tile.y}.mvt"):
            response = http.get(path)
            assert response.status_code in (200, 204), (path, response.status_code)
            decoded = mapbox_vector_tile.decode(response.content) if response.content else {}
            outputs[path] = json.dumps(decoded, ensure_ascii=False, default=str)
        if z >= 13:  # unclustered from zoom 13: the new instance itself is in its tile, without notes
            names = [f["properties"].get("name") for f in json.loads(outputs[f"/tiles/instances/{z}/{tile.x}/"
                                                                             f"{tile.y}.mvt"])["instances"]["features"]]
            assert "Mesa de contacto reservado" in names
    found = {name: leaks(text) for name, text in outputs.items() if leaks(text)}
    assert not found, found

    # The read-only role (QGIS users on PostGIS): every published view, every row, every column.
    with psycopg.connect(readonly_url(writer["url"]), autocommit=True) as conn:
        views = [r[0] for r in conn.execute(
            "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables "
            "WHERE table_schema = 'published' ORDER BY 1").fetchall()]
        assert "published.instances" in views
        columns = conn.execute("SELECT table_name, column_name FROM information_schema.columns "
                               "WHERE table_schema = 'published' AND column_name IN ('private_notes', "
                               "'public_contact')").fetchall()
        assert columns == []
        for view in views:
            text = conn.execute(f"SELECT coalesce(string_agg(row_to_json(v)::text, ' '), '') FROM {view} v"
                                ).fetchone()[0]
            assert not leaks(text), view
        contact = conn.execute("SELECT contact FROM published.instances WHERE id = %s", (new_id,)).fetchone()[0]
        assert contact == PUBLIC


def test_the_public_contact_is_one_institutional_channel(writer):
    http, tokens = writer["http"], writer["tokens"]
    for n, value in enumerate(("Juan Pérez 155-123456", "juan@example.org, 4802222", "javascript:alert(1)",
                               "llamar a Marta", "12", "marta@", "https://example.org/a b")):
        refused = http.post("/collections/instances/items", headers=bearer(tokens["editor"]),
                            json=new_instance(f"Mesa con contacto {n}", contact=value))
        body = assert_problem(refused, 400)
        assert body["field"] == "public_contact", (value, body)
    accepted = {}
    for n, value in enumerate(("participa@rosario.gob.ar", "https://www.rosario.gob.ar/participa", "0341 480-2222",
                               "+54 341 480-2222 int. 12", "147")):
        # The published name `contact` and the field's own name are both accepted on writes.
        prop = "contact" if n % 2 else "public_contact"
        created = http.post("/collections/instances/items", headers=bearer(tokens["editor"]),
                            json=new_instance(f"Mesa con canal {n}", [-60.65 + n / 1000, -32.95], **{prop: value}))
        assert created.status_code == 201, (value, created.text)
        accepted[created.json()["id"]] = value
    for row_id, value in accepted.items():
        assert http.get(f"/collections/instances/items/{row_id}").json()["properties"]["contact"] == value


def test_the_migration_moves_contacts_that_are_not_an_institutional_channel(admin_url):
    """0017_contact on a database with data: a stored contact that is one institutional channel stays public; a
    person's name, several channels or free text go to private_notes, recorded in the history."""
    from alembic import command

    from gis.db import alembic_config, migrate

    name = f"monitor_test_contact_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
    url = urlunsplit(urlsplit(admin_url)._replace(path="/" + name))
    try:
        command.upgrade(alembic_config(url), "0014_evaluation")
        contacts = {"Mesa institucional": "participa@rosario.gob.ar", "Mesa con teléfono": "0341 480-2222",
                    "Mesa con persona": "Marta Gómez 341 15 555-1234", "Mesa sin contacto": None}
        with psycopg.connect(url, autocommit=True) as conn:
            for instance, contact in contacts.items():
                conn.execute("INSERT INTO monitor.instances (name, kind, promoter, themes, modality, online_url, "
                             "scope, source, contact, moderation) VALUES (%s, 'roundtable', 'cso', '{ambiente}', "
                             "'online', 'https://participa.example.org', 'city', 'test', %s, 'approved')",
                             (instance, contact))
        migrate(url)
        with psycopg.connect(url, autocommit=True) as conn:
            rows = dict((r[0], r[1:]) for r in conn.execute(
                "SELECT name, public_contact, private_notes, updated_by FROM monitor.instances"))
            published = dict(conn.execute("SELECT name, contact FROM published.instances").fetchall())
        assert rows["Mesa institucional"][:2] == ("participa@rosario.gob.ar", None)
        assert rows["Mesa con teléfono"][:2] == ("0341 480-2222", None)
        assert rows["Mesa con persona"] == (None, "Marta Gómez 341 15 555-1234", "migration:0017_contact")
        assert rows["Mesa sin contacto"][:2] == (None, None)
        assert published == {"Mesa institucional": "participa@rosario.gob.ar", "Mesa con teléfono": "0341 480-2222",
                             "Mesa con persona": None, "Mesa sin contacto": None}
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name)))
