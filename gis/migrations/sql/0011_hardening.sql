-- Hardening: backups that restore, and a read-only role that is really read-only.

-- 1 and 2 (functions pin their search_path; views hiding rows are security barriers): invariants.sql, which
-- 0011_hardening.py runs with this file and gis/db.py after every upgrade.

-- 3. The read-only role (QGIS users): read-only by privileges, whatever it sets in its session.
--    Attributes and limits: no more than 20 sessions, no statement longer than 30 s, no transaction left idle.
--    The role is the server's: changed only when it differs, so that databases migrated at the same time (tests)
--    do not update its catalogue row together.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'monitor_readonly' AND rolconnlimit = 20 AND NOT rolsuper
                   AND NOT rolcreatedb AND NOT rolcreaterole AND NOT rolreplication AND NOT rolbypassrls
                   AND NOT rolinherit) THEN
        ALTER ROLE monitor_readonly NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT
            CONNECTION LIMIT 20;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_db_role_setting WHERE setrole = 'monitor_readonly'::regrole AND setdatabase = 0
                   AND setconfig @> ARRAY['statement_timeout=30s', 'idle_in_transaction_session_timeout=60s',
                                          'default_transaction_read_only=on']) THEN
        ALTER ROLE monitor_readonly SET statement_timeout = '30s';
        ALTER ROLE monitor_readonly SET idle_in_transaction_session_timeout = '60s';
        ALTER ROLE monitor_readonly SET default_transaction_read_only = on;  -- a default; privileges decide
    END IF;
END $$;
-- Creating anything anywhere (a function to leak rows with, a table to fill): no schema takes its objects.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON SCHEMA monitor FROM monitor_readonly;
REVOKE CREATE ON SCHEMA published, tiles FROM PUBLIC, monitor_readonly;
-- Nothing but SELECT on what it reads (the grants of 0002 and 0003 were SELECT only; this states it for all).
REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA published, tiles, public
    FROM PUBLIC, monitor_readonly;
-- The tile bookkeeping functions are the application's, not the public's.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA tiles FROM PUBLIC;
-- Advisory locks: the application's writers and its index recomputer queue on them; a reader holding one
-- would stop them. Revoked from PUBLIC in this database only, kept for the application's own user.
DO $$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN SELECT p.oid::regprocedure FROM pg_proc p
              WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.proname ~ '^pg_(try_)?advisory_(xact_)?lock'
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', fn);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO CURRENT_USER', fn);
    END LOOP;
END $$;
