"""The read-only role `monitor_readonly` (QGIS users) is read-only by privileges and leaks nothing.

Before: the published views were not security barriers, so a cheap function of the reader's in a WHERE ran on
the rows of monitor.instances before the moderation filter and saw unmoderated submissions and their contacts;
the role could switch `default_transaction_read_only` off and create objects, had no statement timeout, no
connection limit, and could connect to the `postgres` database.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import errors, sql

from gis.config import get_settings
from gis.db import migrate

PENDING = "Propuesta secreta pendiente"
CONTACT = "vecina.pendiente@example.org"


def as_user(url: str, user: str, database: str | None = None) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}", path="/" + database if database else parts.path))


@pytest.fixture(scope="module")
def migrated(admin_url):
    """A database migrated from scratch (its own database privileges, which a TEMPLATE copy would not keep), with
    one approved and one pending instance, each with an activity, an organisation link and a commitment."""
    name = f"monitor_test_ro_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(admin_url)._replace(path="/" + name))
    migrate(url)
    with psycopg.connect(url, autocommit=True) as conn:
        org = conn.execute("INSERT INTO monitor.organizations (name, kind, source) VALUES ('Org pendiente', 'cso', "
                           "'test') RETURNING id").fetchone()[0]
        ids = {}
        for name_, moderation in ((PENDING, "pending"), ("Mesa aprobada y pública", "approved")):
            ids[moderation] = conn.execute(
                "INSERT INTO monitor.instances (name, kind, promoter, themes, modality, online_url, scope, source, "
                "public_contact, moderation) VALUES (%s, 'roundtable', 'cso', '{ambiente}', 'online', "
                "'https://participa.example.org', 'city', 'test', %s, %s) RETURNING id",
                (name_, CONTACT if moderation == "pending" else "mesa@example.org", moderation)).fetchone()[0]
            conn.execute("INSERT INTO monitor.activities (instance_id, title, starts_at, source) VALUES "
                         "(%s, %s, now() + interval '3 days', 'test')", (ids[moderation], f"Reunión de {name_}"))
            conn.execute("INSERT INTO monitor.instance_organizations (instance_id, organization_id, role) VALUES "
                         "(%s, %s, 'promoter')", (ids[moderation], org))
        # A function of the reader's kind: cheap (so the planner runs it first), not LEAKPROOF, and it tells
        # what it was shown. Created here by the test's superuser: the role itself may create nothing.
        conn.execute("CREATE FUNCTION published.peek(value anyelement) RETURNS boolean LANGUAGE plpgsql COST 0.0001 "
                     "AS $$ BEGIN RAISE NOTICE 'peek: %', value; RETURN true; END $$")
        conn.execute("GRANT EXECUTE ON FUNCTION published.peek(anyelement) TO monitor_readonly")
    yield {"url": url, "readonly": as_user(url, "monitor_readonly"), "ids": ids}
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


LEAKS = [
    "SELECT id FROM published.instances WHERE published.peek(name) AND published.peek(contact)",
    "SELECT id FROM published.instances WHERE published.peek(id::text || ':' || name || ':' || contact)",
    "SELECT id FROM published.activities WHERE published.peek(title)",
    "SELECT * FROM published.instance_organizations WHERE published.peek(instance_id)",
    "SELECT * FROM published.organizations o JOIN published.instance_organizations io ON io.organization_id = o.id "
    "WHERE published.peek(io.instance_id)",
]


@pytest.mark.parametrize("query", LEAKS)
def test_a_cheap_function_of_the_reader_never_sees_a_pending_row(migrated, query):
    seen: list[str] = []
    with psycopg.connect(migrated["readonly"], autocommit=True) as conn:
        conn.add_notice_handler(lambda notice: seen.append(notice.message_primary or ""))
        rows = conn.execute(query).fetchall()
    assert rows and seen  # the function ran, on what the view shows
    pending = migrated["ids"]["pending"]
    leaked = [s for s in seen if PENDING in s or CONTACT in s or s == f"peek: {pending}"
              or s.startswith(f"peek: {pending}:")]
    assert not leaked, leaked


def test_read_only_by_privileges_whatever_the_session_says(migrated):
    with psycopg.connect(migrated["readonly"], autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = off")
        conn.execute("SET transaction_read_only = off")
        for statement in ("DELETE FROM published.districts", "INSERT INTO published.themes VALUES ('x', 'x', 'x')",
                          "UPDATE published.organizations SET name = 'x'", "CREATE TABLE public.t (a int)",
                          "CREATE TEMP TABLE t (a int)", "CREATE FUNCTION pg_temp.f() RETURNS int AS 'SELECT 1' "
                          "LANGUAGE sql", "CREATE VIEW published.v AS SELECT 1", "SELECT pg_advisory_lock(1)",
                          "SELECT pg_try_advisory_xact_lock(5000002)", "SELECT * FROM monitor.instances"):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)
        writable = conn.execute(
            "SELECT format('%I.%I', n.nspname, c.relname), p FROM pg_class c JOIN pg_namespace n ON n.oid = "
            "c.relnamespace, unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p "
            "WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND has_table_privilege(c.oid, p)").fetchall()
        assert not writable
        creatable = conn.execute("SELECT nspname FROM pg_namespace WHERE has_schema_privilege(oid, 'CREATE')"
                                 ).fetchall()
        assert not creatable
        assert not conn.execute("SELECT has_database_privilege(current_database(), 'TEMPORARY')").fetchone()[0]


def test_limits_of_the_role(migrated):
    with psycopg.connect(migrated["readonly"], autocommit=True) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "30s"
        assert conn.execute("SHOW idle_in_transaction_session_timeout").fetchone()[0] == "1min"
        attributes = conn.execute("SELECT rolconnlimit, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls "
                                  "FROM pg_roles WHERE rolname = current_user").fetchone()
        assert attributes == (20, False, False, False, False)
    with psycopg.connect(migrated["url"], autocommit=True) as conn:  # nobody else may connect by default
        assert not conn.execute("SELECT has_database_privilege('public', current_database(), 'CONNECT')"
                                ).fetchone()[0]


@pytest.mark.skipif(get_settings().database_url is not None,
                    reason="only the private cluster's maintenance database is closed (a shared server's is the "
                           "administrator's decision)")
def test_no_connection_to_the_maintenance_database(migrated):
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        psycopg.connect(as_user(migrated["url"], "monitor_readonly", "postgres")).close()


def test_every_view_hiding_rows_is_a_security_barrier(template_db):
    """The rule, for every published view present and future: one reading (directly or through another view) a
    table with rows the public must not see (a `moderation` or `deleted_at` column) is a security barrier."""
    with psycopg.connect(template_db, autocommit=True) as conn:
        plain = conn.execute("""
            WITH RECURSIVE reads(view, rel) AS (
                SELECT r.ev_class, d.refobjid FROM pg_rewrite r
                JOIN pg_class v ON v.oid = r.ev_class AND v.relkind = 'v'
                                 AND v.relnamespace = 'published'::regnamespace
                JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                    AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class
                UNION
                SELECT reads.view, d.refobjid FROM reads JOIN pg_rewrite r ON r.ev_class = reads.rel
                JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                    AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class)
            SELECT DISTINCT reads.view::regclass::text FROM reads
            JOIN pg_attribute a ON a.attrelid = reads.rel AND a.attname IN ('moderation', 'deleted_at')
            JOIN pg_class v ON v.oid = reads.view
            WHERE NOT coalesce(v.reloptions @> ARRAY['security_barrier=true'], false)""").fetchall()
    assert not plain, f"views hiding rows that are not security barriers: {plain}"
