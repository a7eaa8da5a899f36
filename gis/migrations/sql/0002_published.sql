-- What the public, the feature and tile API and QGIS users see: approved, not deleted, no personal data.
-- The read-only role `monitor_readonly` has USAGE on this schema only; views run with their owner's
-- rights, so it reads these views without any right on the tables behind them.

CREATE VIEW published.districts AS
SELECT d.id, d.code, d.name, d.is_approximate, d.boundary_method,
       round(d.population)::integer AS population, d.population_method,
       round((d.area_m2 / 1e6)::numeric, 3)::double precision AS area_km2,
       d.geom, d.geom_3857
FROM monitor.districts d;

CREATE VIEW published.barrios AS
SELECT b.mslink AS id, b.mslink, b.name, b.district_code AS district, d.name AS district_name,
       b.district_method, round(b.population)::integer AS population, b.population_method,
       round((b.area_m2 / 1e6)::numeric, 3)::double precision AS area_km2, b.source,
       b.geom, b.geom_3857
FROM monitor.barrios b
JOIN monitor.districts d ON d.code = b.district_code;

CREATE VIEW published.instances AS
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

CREATE VIEW published.activities AS
SELECT a.id, a.instance_id, i.name AS instance_name, i.kind, a.title, a.description,
       a.starts_at, a.ends_at, a.timezone, a.venue_address, a.online_url, a.registration_url,
       a.registration_required, a.status, a.source, a.is_demo, a.barrio_id, b.name AS barrio,
       a.district_code AS district, a.updated_at, a.version,
       a.venue AS geom, a.venue_3857 AS geom_3857
FROM monitor.activities a
JOIN monitor.instances i ON i.id = a.instance_id
LEFT JOIN monitor.barrios b ON b.mslink = a.barrio_id
WHERE a.deleted_at IS NULL AND i.moderation = 'approved' AND i.deleted_at IS NULL;

CREATE VIEW published.organizations AS
SELECT o.id, o.name, o.kind, o.description, o.website, o.source, o.is_demo
FROM monitor.organizations o;

CREATE VIEW published.instance_organizations AS
SELECT io.instance_id, io.organization_id, o.name AS organization, io.role
FROM monitor.instance_organizations io
JOIN monitor.organizations o ON o.id = io.organization_id
JOIN published.instances i ON i.id = io.instance_id;

CREATE VIEW published.instance_standards AS
SELECT s.instance_id, s.criterion, c.ordinal, c.label_es, s.met, s.evidence_url, s.assessed_on, s.is_demo
FROM monitor.instance_standards s
JOIN monitor.standard_criteria c ON c.code = s.criterion
JOIN published.instances i ON i.id = s.instance_id;

CREATE VIEW published.commitments AS
SELECT c.id, c.instance_id, c.description, c.made_on, c.due_date, c.status, c.evidence_url,
       c.government_response, c.source, c.is_demo
FROM monitor.commitments c
JOIN published.instances i ON i.id = c.instance_id;

-- Satisfaction is published only in groups of at least 5 answers (privacy; methodology §6).
CREATE VIEW published.instance_satisfaction AS
SELECT r.instance_id, count(*)::integer AS responses, round(avg(r.satisfaction), 2)::double precision AS mean_score
FROM monitor.survey_responses r
JOIN published.instances i ON i.id = r.instance_id
WHERE r.kind = 'satisfaction'
GROUP BY r.instance_id
HAVING count(*) >= 5;

CREATE VIEW published.instance_kinds AS SELECT code, label_es, label_en FROM monitor.instance_kinds;
CREATE VIEW published.themes AS SELECT code, label_es, label_en FROM monitor.themes;
CREATE VIEW published.standard_criteria AS SELECT code, ordinal, label_es, label_en FROM monitor.standard_criteria;
-- Only the file name: the server's folders are nobody's business.
CREATE VIEW published.datasets AS
SELECT name, regexp_replace(path, '^.*/', '') AS file, sha256, features, note, loaded_at FROM monitor.datasets;

-- The read-only role for QGIS users. Roles are cluster-wide, so it may already exist.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'monitor_readonly') THEN
        CREATE ROLE monitor_readonly LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO monitor_readonly', current_database());
END $$;
ALTER ROLE monitor_readonly SET search_path = published, public;
ALTER ROLE monitor_readonly SET default_transaction_read_only = on;
REVOKE ALL ON SCHEMA monitor FROM PUBLIC;
GRANT USAGE ON SCHEMA published TO monitor_readonly;
GRANT SELECT ON ALL TABLES IN SCHEMA published TO monitor_readonly;
ALTER DEFAULT PRIVILEGES IN SCHEMA published GRANT SELECT ON TABLES TO monitor_readonly;
