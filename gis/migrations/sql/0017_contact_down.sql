-- Back to one `contact` column: private notes are appended to it (nothing is lost, but they become public again).
UPDATE monitor.instances
SET public_contact = concat_ws(' — ', public_contact, private_notes)
WHERE private_notes IS NOT NULL;
ALTER TABLE monitor.instances DROP COLUMN private_notes;
ALTER TABLE monitor.instances RENAME COLUMN public_contact TO contact;
CREATE OR REPLACE VIEW published.instances WITH (security_barrier = true) AS
SELECT i.id, i.name, i.description, i.kind, k.label_es AS kind_label, i.promoter,
       o.name AS organization, i.themes, i.decides, i.how_it_works, i.how_to_participate,
       i.modality, i.venue_address, i.online_url, i.scope, i.scope_barrio_id, i.scope_district_code AS scope_district,
       i.scope_note, i.schedule, i.frequency, i.accessibility, i.contact, i.status, i.start_date, i.end_date,
       i.source, i.source_url, i.is_demo, i.barrio_id, b.name AS barrio, i.district_code AS district,
       (SELECT count(*) FROM monitor.instance_standards s
        WHERE s.instance_id = i.id AND s.met AND s.deleted_at IS NULL)::integer AS standards_met,
       i.updated_at, i.version,
       i.venue AS geom, i.venue_3857 AS geom_3857
FROM monitor.instances i
JOIN monitor.instance_kinds k ON k.code = i.kind
LEFT JOIN monitor.organizations o ON o.id = i.organization_id
LEFT JOIN monitor.barrios b ON b.mslink = i.barrio_id
WHERE i.moderation = 'approved' AND i.deleted_at IS NULL;
