ALTER FUNCTION monitor.latest_index_run() SECURITY INVOKER RESET search_path;
GRANT EXECUTE ON FUNCTION monitor.latest_index_run() TO PUBLIC;
