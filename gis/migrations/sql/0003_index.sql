-- The Citizen Participation Index (docs/methodology.md): runs with their parameters, the stored H3 grid,
-- results per cell, barrio and district, and the published views of the latest run that the layers read.
-- A run and all its results are written in one transaction, so the latest run id always has complete results.

CREATE TABLE monitor.index_runs (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    computed_at timestamptz NOT NULL DEFAULT now(),
    method_version text NOT NULL,
    parameters jsonb NOT NULL,
    population_method text NOT NULL,
    input_counts jsonb NOT NULL,
    trigger text NOT NULL CHECK (btrim(trigger) <> ''),
    path text NOT NULL CHECK (path IN ('full', 'incremental')),
    changed_instance_id integer,
    duration_ms double precision,
    summary jsonb NOT NULL DEFAULT '{}'
);

-- The grid is stored once per resolution and rebuilt only when the barrios' geometry changes (signature).
-- The bulk tables (cells, pieces, cell results, offer) carry no foreign keys: their rows are written only by
-- gis/index in whole runs, and per-row key checks cost more than the rest of a run (see bench/README.md).
CREATE TABLE monitor.h3_grids (
    resolution smallint PRIMARY KEY CHECK (resolution BETWEEN 0 AND 15),
    signature text NOT NULL,
    cells integer NOT NULL,
    pieces integer NOT NULL,
    built_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE monitor.h3_cells (
    resolution smallint NOT NULL,
    h3 text NOT NULL CHECK (h3 ~ '^[0-9a-f]{15}$'),
    h3_id bigint NOT NULL,  -- the same index as an integer: the feature id in tiles
    barrio_id integer NOT NULL,  -- the barrio holding the largest share of the cell's area
    centre_x double precision NOT NULL,  -- EPSG:22185
    centre_y double precision NOT NULL,
    geom geometry(Polygon, 4326) NOT NULL,
    geom_3857 geometry(Polygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
    PRIMARY KEY (resolution, h3)
);
CREATE INDEX h3_cells_geom_idx ON monitor.h3_cells USING gist (geom);
CREATE INDEX h3_cells_geom_3857_idx ON monitor.h3_cells USING gist (geom_3857);

CREATE TABLE monitor.h3_pieces (
    resolution smallint NOT NULL,
    h3 text NOT NULL,
    barrio_id integer NOT NULL,
    area_m2 double precision NOT NULL CHECK (area_m2 > 0),
    PRIMARY KEY (resolution, h3, barrio_id)
);

-- Cell results are versioned rather than copied: a row holds the values computed by run `run_id` and stays
-- valid for every later run until run `valid_to` computed different values (NULL: valid for the latest run).
-- An incremental run therefore writes only the cells it changed.
CREATE TABLE monitor.index_cells (
    run_id integer NOT NULL,
    valid_to integer CHECK (valid_to > run_id),
    h3 text NOT NULL,
    resolution smallint NOT NULL,
    population double precision NOT NULL CHECK (population >= 0),
    nearest_m double precision CHECK (nearest_m >= 0),  -- NULL: no in-person instance in the city
    covered boolean NOT NULL,
    e2sfca double precision NOT NULL CHECK (e2sfca >= 0),
    nearest_instance_id integer,
    PRIMARY KEY (run_id, h3)
);
CREATE UNIQUE INDEX index_cells_current_idx ON monitor.index_cells (resolution, h3) WHERE valid_to IS NULL;
CREATE INDEX index_cells_valid_to_idx ON monitor.index_cells (valid_to);

CREATE TABLE monitor.index_barrios (
    run_id integer NOT NULL REFERENCES monitor.index_runs (id) ON DELETE CASCADE,
    barrio_id integer NOT NULL REFERENCES monitor.barrios (mslink) ON DELETE CASCADE,
    population double precision NOT NULL,
    coverage double precision NOT NULL CHECK (coverage BETWEEN 0 AND 1),
    mean_nearest_m double precision,
    e2sfca double precision NOT NULL,
    uncovered_population double precision NOT NULL CHECK (uncovered_population >= 0),
    accessibility double precision NOT NULL CHECK (accessibility BETWEEN 0 AND 1),
    quality double precision NOT NULL CHECK (quality BETWEEN 0 AND 1),
    diversity double precision NOT NULL CHECK (diversity BETWEEN 0 AND 1),
    satisfaction double precision CHECK (satisfaction BETWEEN 0 AND 1),
    satisfaction_score double precision CHECK (satisfaction_score BETWEEN 1 AND 5),
    satisfaction_source text NOT NULL CHECK (satisfaction_source IN ('residents', 'offer', 'district', 'city', 'missing')),
    -- Privacy (method §6): a value from a barrio's own answers always rests on at least 5 of them.
    satisfaction_responses integer CHECK (satisfaction_responses >= 5),
    satisfaction_imputed boolean NOT NULL,
    follow_through double precision CHECK (follow_through BETWEEN 0 AND 1),
    effective_themes double precision NOT NULL,
    effective_kinds double precision NOT NULL,
    state_share double precision NOT NULL,
    cso_share double precision NOT NULL,
    mixed_share double precision NOT NULL,
    offer_count integer NOT NULL,
    in_person_count integer NOT NULL,
    composite double precision CHECK (composite BETWEEN 0 AND 100),
    rank integer NOT NULL,
    rank_median double precision NOT NULL,
    rank_p05 double precision NOT NULL,
    rank_p95 double precision NOT NULL,
    PRIMARY KEY (run_id, barrio_id),
    CONSTRAINT own_answers_are_counted CHECK (
        satisfaction_source NOT IN ('residents', 'offer') OR satisfaction_responses IS NOT NULL),
    CONSTRAINT rank_interval_ordered CHECK (rank_p05 <= rank_median AND rank_median <= rank_p95)
);

CREATE TABLE monitor.index_districts (
    run_id integer NOT NULL REFERENCES monitor.index_runs (id) ON DELETE CASCADE,
    district_code text NOT NULL REFERENCES monitor.districts (code) ON UPDATE CASCADE ON DELETE CASCADE,
    barrios integer NOT NULL,
    population double precision NOT NULL,
    coverage double precision NOT NULL CHECK (coverage BETWEEN 0 AND 1),
    mean_nearest_m double precision,
    e2sfca double precision NOT NULL,
    uncovered_population double precision NOT NULL CHECK (uncovered_population >= 0),
    accessibility double precision NOT NULL CHECK (accessibility BETWEEN 0 AND 1),
    quality double precision NOT NULL CHECK (quality BETWEEN 0 AND 1),
    diversity double precision NOT NULL CHECK (diversity BETWEEN 0 AND 1),
    satisfaction double precision CHECK (satisfaction BETWEEN 0 AND 1),
    satisfaction_imputed_barrios integer NOT NULL,
    composite double precision CHECK (composite BETWEEN 0 AND 100),
    rank integer NOT NULL,
    rank_median double precision NOT NULL,
    rank_p05 double precision NOT NULL,
    rank_p95 double precision NOT NULL,
    PRIMARY KEY (run_id, district_code)
);

-- The offer O_b of each barrio (method §4), for the barrio profile.
CREATE TABLE monitor.index_offer (
    run_id integer NOT NULL REFERENCES monitor.index_runs (id) ON DELETE CASCADE,
    barrio_id integer NOT NULL,
    instance_id integer NOT NULL,
    distance_m double precision,  -- effective metres from the barrio's nearest populated cell; NULL online
    by_scope boolean NOT NULL,
    by_proximity boolean NOT NULL,
    PRIMARY KEY (run_id, barrio_id, instance_id)
);

-- ---------------------------------------------------------------- the published latest run
CREATE FUNCTION monitor.latest_index_run() RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT max(id) FROM monitor.index_runs
$$;

CREATE VIEW published.index_runs AS
SELECT r.id, r.computed_at, r.method_version, r.parameters, r.population_method, r.input_counts,
       r.trigger, r.path, r.changed_instance_id, r.duration_ms, r.summary
FROM monitor.index_runs r;

CREATE VIEW published.hexagons AS
SELECT g.h3_id AS id, g.h3, g.resolution, c.population, c.nearest_m, c.covered,
       c.covered::integer AS coverage, c.e2sfca, g.barrio_id, b.name AS barrio, b.district_code AS district,
       monitor.latest_index_run() AS run_id, c.run_id AS changed_in_run, g.geom, g.geom_3857
FROM monitor.index_cells c
JOIN monitor.h3_cells g ON g.resolution = c.resolution AND g.h3 = c.h3
JOIN monitor.barrios b ON b.mslink = g.barrio_id
WHERE c.valid_to IS NULL;

CREATE VIEW published.barrio_index AS
SELECT r.barrio_id AS id, r.barrio_id, b.name, b.district_code AS district, r.run_id,
       r.population, r.coverage, r.mean_nearest_m, r.e2sfca, r.uncovered_population,
       r.accessibility, r.quality, r.diversity, r.satisfaction, r.satisfaction_score, r.satisfaction_source,
       r.satisfaction_responses, r.satisfaction_imputed, r.satisfaction_imputed AS imputed,
       r.follow_through, r.effective_themes, r.effective_kinds, r.state_share, r.cso_share, r.mixed_share,
       r.offer_count, r.in_person_count, r.composite, r.rank, r.rank_median, r.rank_p05, r.rank_p95,
       b.geom, b.geom_3857
FROM monitor.index_barrios r
JOIN monitor.barrios b ON b.mslink = r.barrio_id
WHERE r.run_id = monitor.latest_index_run();

CREATE VIEW published.district_index AS
SELECT d.id, r.district_code AS code, d.name, r.run_id, r.barrios, r.population, r.coverage, r.mean_nearest_m,
       r.e2sfca, r.uncovered_population, r.accessibility, r.quality, r.diversity, r.satisfaction,
       r.satisfaction_imputed_barrios, r.satisfaction_imputed_barrios > 0 AS imputed,
       r.composite, r.rank, r.rank_median, r.rank_p05, r.rank_p95,
       d.geom, d.geom_3857
FROM monitor.index_districts r
JOIN monitor.districts d ON d.code = r.district_code
WHERE r.run_id = monitor.latest_index_run();

CREATE VIEW published.index_offer AS
SELECT o.run_id, o.barrio_id, o.instance_id, i.name, i.kind, i.kind_label, i.promoter, i.modality, i.scope,
       i.themes, i.barrio AS venue_barrio, i.is_demo, o.distance_m, o.by_scope, o.by_proximity, i.standards_met,
       (SELECT count(*) FROM monitor.standard_criteria)::integer AS standards_total
FROM monitor.index_offer o
JOIN published.instances i ON i.id = o.instance_id
WHERE o.run_id = monitor.latest_index_run();

GRANT SELECT ON published.index_runs, published.hexagons, published.barrio_index, published.district_index,
    published.index_offer TO monitor_readonly;

-- ---------------------------------------------------------------- recompute after writes
-- Only a notification, delivered at commit: the write never waits for the index. The API's listener
-- debounces these and recomputes (incrementally when a single instance changed).
CREATE FUNCTION monitor.notify_index_input() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed jsonb := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
BEGIN
    PERFORM pg_notify('monitor_index', json_build_object(
        'table', TG_TABLE_NAME,
        'instance_id', CASE WHEN TG_TABLE_NAME = 'instances' THEN changed ->> 'id' ELSE changed ->> 'instance_id' END
    )::text);
    RETURN NULL;
END $$;

CREATE TRIGGER index_input AFTER INSERT OR UPDATE OR DELETE ON monitor.instances
    FOR EACH ROW EXECUTE FUNCTION monitor.notify_index_input();
CREATE TRIGGER index_input AFTER INSERT OR UPDATE OR DELETE ON monitor.instance_standards
    FOR EACH ROW EXECUTE FUNCTION monitor.notify_index_input();
CREATE TRIGGER index_input AFTER INSERT OR UPDATE OR DELETE ON monitor.commitments
    FOR EACH ROW EXECUTE FUNCTION monitor.notify_index_input();
CREATE TRIGGER index_input AFTER INSERT OR UPDATE OR DELETE ON monitor.survey_responses
    FOR EACH ROW EXECUTE FUNCTION monitor.notify_index_input();
