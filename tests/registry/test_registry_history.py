"""The change history keeps who changed what, when, and the values before the change; it cannot be rewritten."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors
from registry_helpers import insert_row, valid_instance

from gis.db import connect


def history(url: str, table: str, key: int) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT action, actor, old_values, new_values FROM monitor.history "
                            "WHERE table_name = %s AND row_key = %s ORDER BY id", (table, str(key))).fetchall()


def test_history_records_actor_action_and_previous_values(fresh_db):
    with connect(fresh_db, actor="test:alice") as conn:
        instance_id = insert_row(conn, "instances", valid_instance(name="Mesa de ambiente"))
    with connect(fresh_db, actor="test:bob") as conn:
        conn.execute("UPDATE monitor.instances SET name = 'Mesa de ambiente y clima', status = 'paused' "
                     "WHERE id = %s", (instance_id,))
    with connect(fresh_db, actor="test:carol") as conn:
        conn.execute("DELETE FROM monitor.instances WHERE id = %s", (instance_id,))

    (ins, upd, dele) = history(fresh_db, "instances", instance_id)
    assert ins[:2] == ("insert", "test:alice") and ins[2] is None and ins[3]["name"] == "Mesa de ambiente"
    assert upd[:2] == ("update", "test:bob")
    assert (upd[2]["name"], upd[2]["status"], upd[2]["version"]) == ("Mesa de ambiente", "active", 1)
    assert (upd[3]["name"], upd[3]["status"], upd[3]["version"]) == ("Mesa de ambiente y clima", "paused", 2)
    assert dele[:2] == ("delete", "test:carol") and dele[3] is None
    assert dele[2]["name"] == "Mesa de ambiente y clima" and dele[2]["barrio_id"] == 15
    assert dele[2]["venue"]["type"] == "Point"  # the geometry itself is kept (as GeoJSON)
    assert "venue_3857" not in dele[2]  # generated copies are left out


def test_without_an_actor_the_database_user_is_recorded(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        instance_id = insert_row(conn, "instances", valid_instance())
        user = conn.execute("SELECT session_user").fetchone()[0]
    assert history(fresh_db, "instances", instance_id)[0][:2] == ("insert", user)


def test_the_history_of_tokens_never_holds_the_hash(fresh_db):
    with connect(fresh_db, actor="test:admin") as conn:
        token_id = insert_row(conn, "api_tokens", {"name": "editor", "role": "editor", "token_hash": "secret-hash"})
    ((action, actor, _old, new),) = history(fresh_db, "api_tokens", token_id)
    assert (action, actor, new["name"]) == ("insert", "test:admin", "editor")
    assert "token_hash" not in new


@pytest.mark.parametrize("statement", [
    "UPDATE monitor.history SET actor = 'someone else'",
    "DELETE FROM monitor.history",
    "TRUNCATE monitor.history",
])
def test_history_rows_cannot_be_changed_or_removed(fresh_db, statement):
    with connect(fresh_db, actor="test:alice") as conn:
        insert_row(conn, "instances", valid_instance())
    with psycopg.connect(fresh_db) as conn:
        before = conn.execute("SELECT count(*) FROM monitor.history").fetchone()[0]
        assert before > 0
        with pytest.raises(errors.InsufficientPrivilege, match="the change history is append-only"):
            conn.execute(statement)
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM monitor.history").fetchone()[0] == before
