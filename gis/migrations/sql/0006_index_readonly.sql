-- The published index views call monitor.latest_index_run(); functions run with the caller's rights, and the
-- read-only role has no right on schema monitor. The function runs as its owner instead (it only reads an id).
ALTER FUNCTION monitor.latest_index_run() SECURITY DEFINER SET search_path = pg_catalog, monitor;
REVOKE ALL ON FUNCTION monitor.latest_index_run() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION monitor.latest_index_run() TO monitor_readonly;
