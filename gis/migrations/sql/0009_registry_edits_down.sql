DROP VIEW published.organizations;
CREATE VIEW published.organizations AS
SELECT o.id, o.name, o.kind, o.description, o.website, o.source, o.is_demo
FROM monitor.organizations o;
GRANT SELECT ON published.organizations TO monitor_readonly;
DROP TRIGGER stamp_organization ON monitor.organizations;
DROP FUNCTION monitor.stamp_actor();
ALTER TABLE monitor.organizations DROP COLUMN created_by, DROP COLUMN updated_by, DROP COLUMN deleted_at;
