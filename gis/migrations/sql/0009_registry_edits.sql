-- Organisations are edited through the same engine as instances and activities (gis/edits.py): they need the
-- same stamps (who created and changed them), a soft delete an editor can undo, and a published view that
-- hides deleted rows and carries the version (the feature API's ETag).

ALTER TABLE monitor.organizations
    ADD COLUMN created_by text,
    ADD COLUMN updated_by text,
    ADD COLUMN deleted_at timestamptz;

CREATE FUNCTION monitor.stamp_actor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_by := monitor.current_actor();
    IF TG_OP = 'INSERT' THEN
        NEW.created_by := NEW.updated_by;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER stamp_organization BEFORE INSERT OR UPDATE ON monitor.organizations
    FOR EACH ROW EXECUTE FUNCTION monitor.stamp_actor();

CREATE OR REPLACE VIEW published.organizations AS
SELECT o.id, o.name, o.kind, o.description, o.website, o.source, o.is_demo, o.updated_at, o.version
FROM monitor.organizations o
WHERE o.deleted_at IS NULL;
