-- Databases migrated with the first version of 0003_index kept a full copy of every cell per run. Bring them to
-- versioned cell results (valid_to); a database created with the current 0003_index is left as it is.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_schema = 'monitor' AND table_name = 'index_cells' AND column_name = 'valid_to') THEN
        -- Only the latest run's copy stays current; older copies are superseded by it.
        DELETE FROM monitor.index_cells WHERE run_id < (SELECT max(run_id) FROM monitor.index_cells);
        ALTER TABLE monitor.index_cells ADD COLUMN valid_to integer CHECK (valid_to > run_id);
        CREATE UNIQUE INDEX index_cells_current_idx ON monitor.index_cells (resolution, h3) WHERE valid_to IS NULL;
        CREATE INDEX index_cells_valid_to_idx ON monitor.index_cells (valid_to);
        DROP VIEW published.hexagons;
        CREATE VIEW published.hexagons AS
        SELECT g.h3_id AS id, g.h3, g.resolution, c.population, c.nearest_m, c.covered,
               c.covered::integer AS coverage, c.e2sfca, g.barrio_id, b.name AS barrio, b.district_code AS district,
               monitor.latest_index_run() AS run_id, c.run_id AS changed_in_run, g.geom, g.geom_3857
        FROM monitor.index_cells c
        JOIN monitor.h3_cells g ON g.resolution = c.resolution AND g.h3 = c.h3
        JOIN monitor.barrios b ON b.mslink = g.barrio_id
        WHERE c.valid_to IS NULL;
        GRANT SELECT ON published.hexagons TO monitor_readonly;
    END IF;
END $$;
