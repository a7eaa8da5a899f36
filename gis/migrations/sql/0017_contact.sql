-- Personal data (issue 13, item 7): the free-text `contact` of an instance held e-mail addresses and phone numbers
-- of people and was published everywhere (items, cards, CSV, the read-only role). It becomes two columns:
--   public_contact  one institutional channel of the organisation (an e-mail address, a web address or a phone
--                   number, checked by gis/registry.py), published under its old name `contact`;
--   private_notes   for editors only: in no published view, so in no item, card, tile, CSV or QGIS layer.
-- The rename keeps every stored value where it was (no row is rewritten here); 0017_contact.py then moves the
-- values that are not one institutional channel into private_notes.

ALTER TABLE monitor.instances RENAME COLUMN contact TO public_contact;
ALTER TABLE monitor.instances ADD COLUMN private_notes text;
COMMENT ON COLUMN monitor.instances.public_contact IS
    'One institutional channel of the organisation (e-mail, http(s) URL or phone), published as `contact`';
COMMENT ON COLUMN monitor.instances.private_notes IS
    'Notes for editors (people to call, phone numbers of persons): never in a published view';

-- The same columns in the same order (CREATE OR REPLACE VIEW may only append): `contact` is now the published
-- name of public_contact, and private_notes is not selected.
CREATE OR REPLACE VIEW published.instances WITH (security_barrier = true) AS
SELECT i.id, i.name, i.description, i.kind, k.label_es AS kind_label, i.promoter,
       o.name AS organization, i.themes, i.decides, i.how_it_works, i.how_to_participate,
       i.modality, i.venue_address, i.online_url, i.scope, i.scope_barrio_id, i.scope_district_code AS scope_district,
       i.scope_note, i.schedule, i.frequency, i.accessibility, i.public_contact AS contact, i.status, i.start_date,
       i.end_date, i.source, i.source_url, i.is_demo, i.barrio_id, b.name AS barrio, i.district_code AS district,
       (SELECT count(*) FROM monitor.instance_standards s
        WHERE s.instance_id = i.id AND s.met AND s.deleted_at IS NULL)::integer AS standards_met,
       i.updated_at, i.version,
       i.venue AS geom, i.venue_3857 AS geom_3857
FROM monitor.instances i
JOIN monitor.instance_kinds k ON k.code = i.kind
LEFT JOIN monitor.organizations o ON o.id = i.organization_id
LEFT JOIN monitor.barrios b ON b.mslink = i.barrio_id
WHERE i.moderation = 'approved' AND i.deleted_at IS NULL;
