"""The QGIS role `monitor_readonly` reads the published views and nothing else."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors
from registry_helpers import as_user, insert_row, valid_instance

from gis.db import connect

PRIVATE = ["monitor.instances", "monitor.activities", "monitor.organizations", "monitor.history",
           "monitor.survey_responses", "monitor.api_tokens", "monitor.barrios"]


@pytest.fixture
def readonly_url(fresh_db) -> dict:
    """The test database with one pending and one approved instance, survey rows and a token, as the read-only
    role sees it."""
    with connect(fresh_db, actor="test:setup") as conn:
        pending = insert_row(conn, "instances", valid_instance(name="Propuesta pendiente de revisión"))
        approved = insert_row(conn, "instances", valid_instance(name="Mesa aprobada", moderation="approved"))
        for score in (1, 2, 3, 4):  # four answers: fewer than the five needed to publish a mean
            insert_row(conn, "survey_responses", {"instance_id": approved, "kind": "satisfaction",
                                                  "satisfaction": score})
        insert_row(conn, "api_tokens", {"name": "admin", "role": "admin", "token_hash": "hash-never-shown"})
    return {"url": as_user(fresh_db, "monitor_readonly"), "pending": pending, "approved": approved}


def test_reads_published_views(readonly_url):
    with psycopg.connect(readonly_url["url"]) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "monitor_readonly"
        ids = {r[0] for r in conn.execute("SELECT id FROM published.instances")}
        assert readonly_url["approved"] in ids
        assert readonly_url["pending"] not in ids  # pending submissions are never published
        assert conn.execute("SELECT count(*) FROM published.barrios").fetchone()[0] == 50
        assert conn.execute("SELECT count(*) FROM published.districts").fetchone()[0] == 6
        assert conn.execute("SELECT count(*) FROM published.activities").fetchone()[0] > 0
        # Its search_path makes the views readable without the schema name, as QGIS lists them.
        assert conn.execute("SELECT count(*) FROM instances").fetchone()[0] == len(ids)
        # Four answers are not enough to publish a satisfaction mean.
        assert not conn.execute("SELECT 1 FROM published.instance_satisfaction WHERE instance_id = %s",
                                (readonly_url["approved"],)).fetchall()


@pytest.mark.parametrize("table", PRIVATE)
def test_cannot_read_the_tables_behind_the_views(readonly_url, table):
    with psycopg.connect(readonly_url["url"]) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(f"SELECT * FROM {table} LIMIT 1")  # a fixed name from PRIVATE, not user input


def test_no_published_view_exposes_private_columns(readonly_url):
    with psycopg.connect(readonly_url["url"]) as conn:
        columns = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'published'")}
        views = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'published'")}
    assert columns >= {"id", "name", "geom"}
    assert not columns & {"token_hash", "moderation", "moderation_reason", "created_by", "updated_by",
                          "old_values", "new_values", "age_band", "gender", "respondent_barrio_id"}
    assert not views & {"history", "api_tokens", "survey_responses"}


def test_cannot_write(readonly_url):
    with psycopg.connect(readonly_url["url"]) as conn, pytest.raises(
            (errors.ReadOnlySqlTransaction, errors.InsufficientPrivilege)):
        conn.execute("DELETE FROM published.districts")  # a simple view: automatically updatable
