DO $$
BEGIN
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
END $$;
DO $$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN SELECT p.oid::regprocedure FROM pg_proc p
              WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.proname ~ '^pg_(try_)?advisory_(xact_)?lock'
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC', fn);
    END LOOP;
    FOR fn IN SELECT p.oid::regprocedure FROM pg_proc p
              WHERE p.pronamespace IN ('monitor'::regnamespace, 'tiles'::regnamespace) AND p.prokind = 'f'
                AND p.oid <> 'monitor.latest_index_run()'::regprocedure
    LOOP
        EXECUTE format('ALTER FUNCTION %s RESET search_path', fn);
    END LOOP;
END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tiles TO PUBLIC;
ALTER ROLE monitor_readonly RESET statement_timeout;
ALTER ROLE monitor_readonly RESET idle_in_transaction_session_timeout;
ALTER ROLE monitor_readonly CONNECTION LIMIT -1 INHERIT;
DO $$
DECLARE
    view regclass;
BEGIN
    FOR view IN SELECT c.oid::regclass FROM pg_class c
                WHERE c.relnamespace = 'published'::regnamespace AND c.relkind = 'v'
                  AND c.reloptions @> ARRAY['security_barrier=true']
    LOOP
        EXECUTE format('ALTER VIEW %s RESET (security_barrier)', view);
    END LOOP;
END $$;
