DROP EVENT TRIGGER IF EXISTS tiles_track_new_relations;
DO $$
DECLARE
    rel record;
BEGIN
    FOR rel IN SELECT tgrelid::regclass AS name FROM pg_trigger WHERE tgname = 'tiles_data_version' LOOP
        EXECUTE format('DROP TRIGGER tiles_data_version ON %s', rel.name);
    END LOOP;
END $$;
DROP SCHEMA tiles CASCADE;
