-- Who may connect to this database and create temporary objects in it: the application's user and, to read,
-- monitor_readonly; nobody else by default (PUBLIC). Database privileges are not copied by CREATE DATABASE …
-- TEMPLATE nor kept by pg_dump without --create: `monitor restore` runs this file again on the new database.
DO $$
BEGIN
    EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO CURRENT_USER', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO monitor_readonly', current_database());
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM monitor_readonly', current_database());
END $$;
