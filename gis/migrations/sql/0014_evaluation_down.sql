DROP VIEW published.experiences;
DROP VIEW published.assessments;
DROP VIEW published.criteria;
DROP VIEW published.commitments;
CREATE VIEW published.commitments AS
SELECT c.id, c.instance_id, c.description, c.made_on, c.due_date, c.status, c.evidence_url,
       c.government_response, c.source, c.is_demo
FROM monitor.commitments c
JOIN published.instances i ON i.id = c.instance_id;
GRANT SELECT ON published.commitments TO monitor_readonly;
DROP FUNCTION monitor.derive_assessments();
CREATE OR REPLACE FUNCTION monitor.notify_index_input() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed jsonb := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
BEGIN
    PERFORM pg_notify('monitor_index', json_build_object(
        'table', TG_TABLE_NAME,
        'instance_id', CASE WHEN TG_TABLE_NAME = 'instances' THEN changed ->> 'id' ELSE changed ->> 'instance_id' END
    )::text);
    RETURN NULL;
END $$;
DROP TRIGGER stamp_commitment ON monitor.commitments;
ALTER TABLE monitor.commitments DROP COLUMN progress, DROP COLUMN activity_id, DROP COLUMN experience_id,
    DROP COLUMN proposal_ref, DROP COLUMN created_at, DROP COLUMN created_by, DROP COLUMN updated_by,
    DROP COLUMN deleted_at;
DROP TABLE monitor.experiences;
DROP FUNCTION monitor.check_experience_activity();
DROP TRIGGER history ON monitor.instance_standards;
DROP TRIGGER stamp_assessment ON monitor.instance_standards;
DROP TRIGGER touch_assessment ON monitor.instance_standards;
DROP TRIGGER settle_assessment ON monitor.instance_standards;
DROP FUNCTION monitor.settle_assessment();
CREATE OR REPLACE VIEW published.instance_standards AS
SELECT s.instance_id, s.criterion, c.ordinal, c.label_es, s.met, s.evidence_url, s.assessed_on, s.is_demo
FROM monitor.instance_standards s
JOIN monitor.standard_criteria c ON c.code = s.criterion
JOIN published.instances i ON i.id = s.instance_id;
CREATE OR REPLACE VIEW published.instances AS
SELECT i.id, i.name, i.description, i.kind, k.label_es AS kind_label, i.promoter,
       o.name AS organization, i.themes, i.decides, i.how_it_works, i.how_to_participate,
       i.modality, i.venue_address, i.online_url, i.scope, i.scope_barrio_id, i.scope_district_code AS scope_district,
       i.scope_note, i.schedule, i.frequency, i.accessibility, i.contact, i.status, i.start_date, i.end_date,
       i.source, i.source_url, i.is_demo, i.barrio_id, b.name AS barrio, i.district_code AS district,
       (SELECT count(*) FROM monitor.instance_standards s WHERE s.instance_id = i.id AND s.met)::integer
           AS standards_met,
       i.updated_at, i.version,
       i.venue AS geom, i.venue_3857 AS geom_3857
FROM monitor.instances i
JOIN monitor.instance_kinds k ON k.code = i.kind
LEFT JOIN monitor.organizations o ON o.id = i.organization_id
LEFT JOIN monitor.barrios b ON b.mslink = i.barrio_id
WHERE i.moderation = 'approved' AND i.deleted_at IS NULL;
ALTER TABLE monitor.instance_standards DROP CONSTRAINT assessment_once;
ALTER TABLE monitor.instance_standards DROP COLUMN id, DROP COLUMN status, DROP COLUMN method,
    DROP COLUMN assessed_by, DROP COLUMN criterion_version, DROP COLUMN created_at, DROP COLUMN updated_at,
    DROP COLUMN created_by, DROP COLUMN updated_by, DROP COLUMN deleted_at, DROP COLUMN version;
ALTER TABLE monitor.instance_standards ADD PRIMARY KEY (instance_id, criterion);
CREATE TRIGGER history AFTER INSERT OR UPDATE OR DELETE ON monitor.instance_standards
    FOR EACH ROW EXECUTE FUNCTION monitor.record_history('instance_id', 'criterion');
DROP TRIGGER history ON monitor.standard_criteria;
DROP TRIGGER stamp_criterion ON monitor.standard_criteria;
DROP TRIGGER touch_criterion ON monitor.standard_criteria;
DROP TRIGGER keep_code ON monitor.standard_criteria;
DROP FUNCTION monitor.keep_criterion_code();
ALTER TABLE monitor.standard_criteria DROP COLUMN guidance_es, DROP COLUMN version, DROP COLUMN created_at,
    DROP COLUMN updated_at, DROP COLUMN created_by, DROP COLUMN updated_by, DROP COLUMN deleted_at;
