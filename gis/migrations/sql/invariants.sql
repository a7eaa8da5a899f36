-- Rules every migrated database keeps, whatever migration added a function or a view: run by 0011_hardening and
-- again after every upgrade (gis/db.py `migrate`), so a later migration cannot forget them. Idempotent.

-- 1. Every function of the schema pins its search_path. pg_dump/pg_restore run with an empty one, and a CHECK
--    constraint calling monitor.in_rosario_bbox() (which calls ST_X unqualified) then refused every instance
--    and activity of a restore. Triggers, views and defaults call the others: pinned too, for the same reason.
DO $$
DECLARE
    fn regprocedure;
    postgis_schema text := (SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'postgis');
BEGIN
    FOR fn IN
        SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.pronamespace IN ('monitor'::regnamespace, 'tiles'::regnamespace) AND p.prokind = 'f'
          AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, %I, pg_temp', fn, postgis_schema);
    END LOOP;
END $$;

-- 2. Views that hide rows are security barriers: a condition of the reader's query (a cheap function of theirs,
--    a cast that fails on some value) is evaluated only on rows the view lets through, never on a pending or
--    deleted one. Which views: every published view reading, directly or through another view, a table with
--    rows the public must not see (those with a `moderation` or `deleted_at` column). The index and geography
--    views hide nothing and stay plain (their tiles keep filtering on the spatial indexes).
DO $$
DECLARE
    view regclass;
BEGIN
    FOR view IN
        WITH RECURSIVE reads(view, rel) AS (
            SELECT r.ev_class::regclass, d.refobjid::regclass
            FROM pg_rewrite r
            JOIN pg_class v ON v.oid = r.ev_class AND v.relkind = 'v' AND v.relnamespace = 'published'::regnamespace
            JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class
            UNION
            SELECT reads.view, d.refobjid::regclass
            FROM reads
            JOIN pg_rewrite r ON r.ev_class = reads.rel
            JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class
        )
        SELECT DISTINCT reads.view FROM reads
        JOIN pg_attribute a ON a.attrelid = reads.rel AND a.attname IN ('moderation', 'deleted_at') AND NOT a.attisdropped
        JOIN pg_class t ON t.oid = reads.rel AND t.relkind IN ('r', 'p')
    LOOP
        EXECUTE format('ALTER VIEW %s SET (security_barrier = true)', view);
    END LOOP;
END $$;
