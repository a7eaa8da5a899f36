-- Tile cache invalidation: every write to a table that a published layer reads bumps that table's data version,
-- in the writer's own transaction, whoever writes (API, import, CLI, psql). The tile server compares the
-- versions of a layer's tables with those its cached tile was built from, so a committed write shows up in the
-- very next tile request.

CREATE SCHEMA tiles;

CREATE TABLE tiles.data_versions (
    relid oid PRIMARY KEY,            -- pg_class oid of the table (copied unchanged by CREATE DATABASE … TEMPLATE)
    relation text NOT NULL,           -- its name, for people reading the table
    version bigint NOT NULL DEFAULT 0,
    changed_at timestamptz NOT NULL DEFAULT now()
);

-- Statement-level: one bump per statement however many rows it touched (a 10,000-row import costs one row update).
CREATE FUNCTION tiles.bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tiles.data_versions AS v (relid, relation, version)
    VALUES (TG_RELID, TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, 1)
    ON CONFLICT (relid) DO UPDATE SET version = v.version + 1, changed_at = now();
    RETURN NULL;
END $$;

-- Attach the bump to a table; idempotent. Other areas' migrations may call it for tables their layers read.
CREATE FUNCTION tiles.track(rel regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE OR REPLACE TRIGGER tiles_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
                   'ON %s FOR EACH STATEMENT EXECUTE FUNCTION tiles.bump_data_version()', rel);
    INSERT INTO tiles.data_versions (relid, relation) VALUES (rel, rel::text) ON CONFLICT (relid) DO NOTHING;
END $$;

-- Every table there is now, in any schema but this one and public (the order of sibling migrations must not matter).
SELECT tiles.track(c.oid::regclass)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.oid <> 'monitor.history'::regclass
  AND n.nspname NOT IN ('tiles', 'public', 'information_schema') AND n.nspname NOT LIKE 'pg\_%';

-- Tables created later (other areas' migrations, analytics results) are tracked as they appear, and a refreshed
-- materialised view bumps its own version. Event triggers need a superuser: without one, the tile server still
-- finds untracked layers at start-up and serves them uncached (never stale).
CREATE FUNCTION tiles.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
    cmd record;
BEGIN
    FOR cmd IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
        CONTINUE WHEN cmd.schema_name IS NULL OR cmd.schema_name IN ('tiles', 'public', 'information_schema')
            OR cmd.schema_name LIKE 'pg\_%';
        IF cmd.command_tag = 'REFRESH MATERIALIZED VIEW' THEN
            INSERT INTO tiles.data_versions AS v (relid, relation, version)
            VALUES (cmd.objid, cmd.object_identity, 1)
            ON CONFLICT (relid) DO UPDATE SET version = v.version + 1, changed_at = now();
        ELSIF cmd.object_type = 'table' AND cmd.objid <> 'monitor.history'::regclass THEN
            PERFORM tiles.track(cmd.objid::regclass);
        END IF;
    END LOOP;
EXCEPTION WHEN OTHERS THEN
    -- Never break another migration: the start-up check serves an untracked layer uncached instead.
    RAISE WARNING 'tiles: could not track a new relation: %', SQLERRM;
END $$;

DO $$
BEGIN
    CREATE EVENT TRIGGER tiles_track_new_relations ON ddl_command_end
        WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'REFRESH MATERIALIZED VIEW')
        EXECUTE FUNCTION tiles.on_ddl();
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'tiles: not a superuser, new tables must call tiles.track() themselves';
END $$;

GRANT USAGE ON SCHEMA tiles TO monitor_readonly;
GRANT SELECT ON tiles.data_versions TO monitor_readonly;
