-- Back to migration 0019's bodies (each computed the points' cells itself).
CREATE OR REPLACE FUNCTION tiles.point_cells_refresh(src text, ids bigint[]) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    source_view regclass := src::regclass;
    expected bigint;
    updated bigint;
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    -- Subtract what these rows had added. An UPDATE, not an upsert (whose insert would trip the CHECK first):
    -- every cell of a counted point exists, so a row not found means the counts were changed behind our back.
    WITH gone AS (
        DELETE FROM tiles.point_members m WHERE m.source = src AND m.id = ANY (ids)
        RETURNING m.id, m.key, m.x, m.y
    ), delta AS (
        SELECT l.level, g.key >> (2 * (20 - l.level)) AS key,
               count(*) AS n, sum(g.x) AS sx, sum(g.y) AS sy, sum(g.id) AS sid
        FROM gone g CROSS JOIN generate_series(0, 20) AS l(level)
        GROUP BY 1, 2
    ), done AS (
        UPDATE tiles.point_cells c
        SET n = c.n - d.n, sx = c.sx - d.sx, sy = c.sy - d.sy, sid = c.sid - d.sid
        FROM delta d
        WHERE c.source = src AND c.level = d.level AND c.key = d.key
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM delta), (SELECT count(*) FROM done) INTO expected, updated;
    IF updated <> expected THEN
        RAISE EXCEPTION 'tiles.point_cells of % misses % cells: run tiles.point_cells_rebuild(%L)',
            src, expected - updated, src;
    END IF;

    EXECUTE format($sql$
        WITH came AS (
            INSERT INTO tiles.point_members (source, id, key, ix, iy, x, y)
            SELECT $1, p.id, tiles.cell_key(p.ix, p.iy), p.ix, p.iy, p.x, p.y
            FROM (SELECT v.id::bigint AS id,
                         floor((ST_X(v.geom_3857) + 20037508.342789244) / 40075016.685578488 * 1048576)::integer AS ix,
                         floor((20037508.342789244 - ST_Y(v.geom_3857)) / 40075016.685578488 * 1048576)::integer AS iy,
                         round(ST_X(v.geom_3857) * 1000)::bigint AS x,
                         round(ST_Y(v.geom_3857) * 1000)::bigint AS y
                  FROM %s v WHERE v.id = ANY ($2) AND v.geom_3857 IS NOT NULL) p
            RETURNING id, key, ix, iy, x, y
        )
        INSERT INTO tiles.point_cells AS c (source, level, key, ix, iy, n, sx, sy, sid)
        SELECT $1, l.level, g.key >> (2 * (20 - l.level)), min(g.ix) >> (20 - l.level), min(g.iy) >> (20 - l.level),
               count(*), sum(g.x), sum(g.y), sum(g.id)
        FROM came g CROSS JOIN generate_series(0, 20) AS l(level)
        GROUP BY 2, 3
        ON CONFLICT (source, level, key) DO UPDATE
            SET n = c.n + excluded.n, sx = c.sx + excluded.sx, sy = c.sy + excluded.sy, sid = c.sid + excluded.sid
    $sql$, source_view) USING src, ids;

    DELETE FROM tiles.point_cells WHERE source = src AND n = 0;
END $$;

CREATE OR REPLACE FUNCTION tiles.point_cells_rebuild(src text) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    counted bigint;
BEGIN
    LOCK TABLE tiles.point_cells, tiles.point_members IN EXCLUSIVE MODE;
    DELETE FROM tiles.point_cells WHERE source = src;
    DELETE FROM tiles.point_members WHERE source = src;
    EXECUTE format($sql$
        INSERT INTO tiles.point_members (source, id, key, ix, iy, x, y)
        SELECT $1, p.id, tiles.cell_key(p.ix, p.iy), p.ix, p.iy, p.x, p.y
        FROM (SELECT v.id::bigint AS id,
                     floor((ST_X(v.geom_3857) + 20037508.342789244) / 40075016.685578488 * 1048576)::integer AS ix,
                     floor((20037508.342789244 - ST_Y(v.geom_3857)) / 40075016.685578488 * 1048576)::integer AS iy,
                     round(ST_X(v.geom_3857) * 1000)::bigint AS x,
                     round(ST_Y(v.geom_3857) * 1000)::bigint AS y
              FROM %s v WHERE v.geom_3857 IS NOT NULL) p
    $sql$, src::regclass) USING src;
    GET DIAGNOSTICS counted = ROW_COUNT;
    INSERT INTO tiles.point_cells (source, level, key, ix, iy, n, sx, sy, sid)
    SELECT src, l.level, m.key >> (2 * (20 - l.level)), min(m.ix) >> (20 - l.level), min(m.iy) >> (20 - l.level),
           count(*), sum(m.x), sum(m.y), sum(m.id)
    FROM tiles.point_members m CROSS JOIN generate_series(0, 20) AS l(level)
    WHERE m.source = src
    GROUP BY 2, 3;
    RETURN counted;
END $$;

DROP FUNCTION tiles.point_members_of(text, bigint[]);
