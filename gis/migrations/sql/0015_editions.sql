-- Editions of the index (docs/methodology.md, "Editions"): an index run frozen under a name as an official
-- edition. An edition keeps what the run said, copied when it is published: the run's parameters, method version,
-- population method and input counts, and the values of every barrio and district with their names at the time,
-- so that an edition reads the same after the barrios are reloaded or renamed. Editions are immutable: no row of
-- these tables is ever updated or deleted, and an edition's values are written only with the edition itself.
-- The run stays too (no run is deleted), and gis/index/runs.py `prune` keeps its cell results and offer.

CREATE TABLE monitor.index_editions (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The edition's name is its address (/index/editions/{name}): lower case, digits, '.', '_' and '-'.
    name text NOT NULL UNIQUE CONSTRAINT edition_name_is_a_slug CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    run_id integer NOT NULL REFERENCES monitor.index_runs (id) ON DELETE RESTRICT,
    published_at timestamptz NOT NULL DEFAULT now(),
    published_by text NOT NULL DEFAULT monitor.current_actor(),
    note text,
    computed_at timestamptz NOT NULL,
    method_version text NOT NULL,
    parameters jsonb NOT NULL,
    population_method text NOT NULL,
    input_counts jsonb NOT NULL,
    summary jsonb NOT NULL
);
CREATE INDEX index_editions_run_idx ON monitor.index_editions (run_id);

-- The headline values as columns (what history and differences read); `results` holds every value the run
-- published for the barrio (the published.barrio_index row), whatever the method version.
CREATE TABLE monitor.index_edition_barrios (
    edition_id integer NOT NULL REFERENCES monitor.index_editions (id),
    barrio_id integer NOT NULL,  -- MSLINK when published; no foreign key: a barrio removed later stays here
    name text NOT NULL,
    district text,
    population double precision,
    uncovered_population double precision,
    accessibility double precision,
    quality double precision,
    diversity double precision,
    satisfaction double precision,
    composite double precision,
    rank integer,
    rank_p05 double precision,
    rank_p95 double precision,
    results jsonb NOT NULL,
    PRIMARY KEY (edition_id, barrio_id)
);

CREATE TABLE monitor.index_edition_districts (
    edition_id integer NOT NULL REFERENCES monitor.index_editions (id),
    code text NOT NULL,
    name text,
    population double precision,
    accessibility double precision,
    quality double precision,
    diversity double precision,
    satisfaction double precision,
    composite double precision,
    rank integer,
    results jsonb NOT NULL,
    PRIMARY KEY (edition_id, code)
);

-- Immutable: no update, delete or truncate; values only in the transaction that publishes their edition.
CREATE FUNCTION monitor.refuse_edition_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'index editions are immutable: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE FUNCTION monitor.check_edition_values() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM monitor.index_editions e
                   WHERE e.id = NEW.edition_id AND e.xmin = pg_current_xact_id()::xid) THEN
        RAISE EXCEPTION 'edition % is published: its values cannot change', NEW.edition_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['index_editions', 'index_edition_barrios', 'index_edition_districts'] LOOP
        EXECUTE format('CREATE TRIGGER immutable BEFORE UPDATE OR DELETE ON monitor.%I '
                       'FOR EACH ROW EXECUTE FUNCTION monitor.refuse_edition_change()', t);
        EXECUTE format('CREATE TRIGGER immutable_truncate BEFORE TRUNCATE ON monitor.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION monitor.refuse_edition_change()', t);
    END LOOP;
END $$;
CREATE TRIGGER written_with_edition BEFORE INSERT ON monitor.index_edition_barrios
    FOR EACH ROW EXECUTE FUNCTION monitor.check_edition_values();
CREATE TRIGGER written_with_edition BEFORE INSERT ON monitor.index_edition_districts
    FOR EACH ROW EXECUTE FUNCTION monitor.check_edition_values();

-- Published (QGIS, the read-only role): who published is not (it may name a token).
CREATE VIEW published.index_editions AS
SELECT e.id, e.name, e.run_id, e.published_at, e.note, e.computed_at, e.method_version, e.parameters,
       e.population_method, e.input_counts, e.summary
FROM monitor.index_editions e;

CREATE VIEW published.index_edition_barrios AS
SELECT e.name AS edition, e.published_at, v.barrio_id, v.name, v.district, v.population, v.uncovered_population,
       v.accessibility, v.quality, v.diversity, v.satisfaction, v.composite, v.rank, v.rank_p05, v.rank_p95,
       v.results, b.geom
FROM monitor.index_edition_barrios v
JOIN monitor.index_editions e ON e.id = v.edition_id
LEFT JOIN monitor.barrios b ON b.mslink = v.barrio_id;

CREATE VIEW published.index_edition_districts AS
SELECT e.name AS edition, e.published_at, v.code, v.name, v.population, v.accessibility, v.quality, v.diversity,
       v.satisfaction, v.composite, v.rank, v.results
FROM monitor.index_edition_districts v
JOIN monitor.index_editions e ON e.id = v.edition_id;

GRANT SELECT ON published.index_editions, published.index_edition_barrios, published.index_edition_districts
    TO monitor_readonly;
