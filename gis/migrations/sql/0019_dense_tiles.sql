-- Point counts per grid cell, kept on write (issue 14): a low-zoom tile of 200,000 instances sums at most 32 × 32
-- stored cells instead of grouping every point of the city, and stays exact.
--
-- The grid is the one tiles cluster on (layers/tiles_sql.py): at level L the world is 2^L × 2^L square cells of
-- Web Mercator, numbered from the top-left corner (ix east, iy south), so level L is the tile grid of zoom L and
-- the cells of one tile at level L + k are the 2^k × 2^k cells of its own area. Clusters of zoom z read level
-- z + 5 (128-unit cells of a 4,096-unit tile), dense tiles level z + 6 (64-unit cells), and the number of points
-- in a tile is its one cell at level z. Levels 0 to 20 (z14's dense grid, 38 m) are kept. Cells are keyed in
-- Morton (Z) order, the bits of ix and iy interleaved (tiles.cell_key): the cells of tile z/x/y at level L are
-- then the one key range [key(x, y) << 2(L - z), (key(x, y) + 1) << 2(L - z)), one index range scan per tile.
--
-- What is counted is what the layer's view publishes, read from the view itself (published.instances: approved,
-- not deleted, with a venue): `point_members` remembers which rows were counted in which cell, so a write
-- subtracts exactly what it had added. A statement-level trigger on the base table (transition tables: a bulk
-- import is one pass) re-reads the view for the rows the statement touched, and turns the difference into signed
-- deltas of count, coordinate sums and id sums on the 21 levels. Sums are integers (millimetres, ids): the same rows
-- give the same cells whatever the order of the writes, so tiles are deterministic; a cell of one point has its
-- id as id sum. Only writes to the base table are seen: the view's other tables (kinds, organisations, barrios)
-- are joined on their keys and never change which rows it publishes (tests/tiles/test_point_cells.py compares the
-- cells with the view after every kind of write). A migration that changes what the view publishes calls
-- tiles.point_cells_rebuild(view).
--
-- Concurrency: every writer of monitor.instances already holds its row of tiles.data_versions until commit (the
-- tile cache's bump, trigger tiles_data_version, which fires before these: triggers fire by name), so cell rows are
-- updated by one writing transaction at a time, always after that lock: no lost update, no deadlock.

-- The Morton key of cell (ix, iy): bit i of ix is bit 2i of the key, bit i of iy bit 2i + 1 (ix, iy < 2^21).
CREATE FUNCTION tiles.cell_key(ix integer, iy integer) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    x bigint := ix;
    y bigint := iy;
BEGIN
    -- Spread the bits apart (the classic magic numbers 0x0000FFFF0000FFFF, 0x00FF00FF00FF00FF, ... in decimal).
    x := (x | (x << 16)) & 281470681808895;
    x := (x | (x << 8)) & 71777214294589695;
    x := (x | (x << 4)) & 1085102592571150095;
    x := (x | (x << 2)) & 3689348814741910323;
    x := (x | (x << 1)) & 6148914691236517205;
    y := (y | (y << 16)) & 281470681808895;
    y := (y | (y << 8)) & 71777214294589695;
    y := (y | (y << 4)) & 1085102592571150095;
    y := (y | (y << 2)) & 3689348814741910323;
    y := (y | (y << 1)) & 6148914691236517205;
    RETURN x | (y << 1);
END $$;

CREATE TABLE tiles.point_cells (
    source text NOT NULL,                  -- the layer's view, e.g. published.instances
    level smallint NOT NULL CHECK (level BETWEEN 0 AND 20),
    key bigint NOT NULL,                   -- tiles.cell_key(ix, iy)
    ix integer NOT NULL,                   -- cell column from the west edge of the world
    iy integer NOT NULL,                   -- cell row from the north edge of the world
    n integer NOT NULL CHECK (n >= 0),     -- points; a negative count would mean a lost write: fail loudly
    sx bigint NOT NULL,                    -- sum of the points' Web Mercator x, millimetres
    sy bigint NOT NULL,                    -- sum of their y, millimetres
    sid bigint NOT NULL,                   -- sum of their ids: the id of the point when n = 1
    PRIMARY KEY (source, level, key)
);
-- Cells emptied by a write are deleted at the end of its statement; this finds them without a scan.
CREATE INDEX point_cells_emptied ON tiles.point_cells (source) WHERE n = 0;
COMMENT ON TABLE tiles.point_cells IS
    'Published points per grid cell (levels 0-20), maintained on write from the layer''s view: tile clusters';

CREATE TABLE tiles.point_members (
    source text NOT NULL,
    id bigint NOT NULL,                    -- the row's id in the view
    key bigint NOT NULL,                   -- its level-20 cell: tiles.cell_key(ix, iy)
    ix integer NOT NULL,
    iy integer NOT NULL,
    x bigint NOT NULL,                     -- its position as counted, millimetres
    y bigint NOT NULL,
    PRIMARY KEY (source, id)
);
-- Tiles of up to 4,096 points find their ids here by cell, then read those rows from the view by primary key:
-- a tile box condition (&&, not leakproof) cannot reach the spatial index through a security_barrier view, an id
-- list can (the view would otherwise be computed whole for every tile).
CREATE INDEX point_members_cell ON tiles.point_members (source, key) INCLUDE (id);
COMMENT ON TABLE tiles.point_members IS
    'Which published point is counted in which level-20 cell of tiles.point_cells, so writes subtract exactly';

-- Re-read the view for the given ids and move their counts: what was counted goes, what is published now comes.
CREATE FUNCTION tiles.point_cells_refresh(src text, ids bigint[]) RETURNS void
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

-- Statement-level triggers of the base table: the ids the statement touched (before and after), in one pass.
CREATE FUNCTION tiles.point_cells_sync() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM tiles.point_cells_refresh(TG_ARGV[0], ARRAY(SELECT id FROM new_rows));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM tiles.point_cells_refresh(TG_ARGV[0], ARRAY(SELECT id FROM old_rows UNION SELECT id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM tiles.point_cells_refresh(TG_ARGV[0], ARRAY(SELECT id FROM old_rows));
    ELSE  -- TRUNCATE: no transition table; count again from what the view still publishes
        PERFORM tiles.point_cells_rebuild(TG_ARGV[0]);
    END IF;
    RETURN NULL;
END $$;

-- Count a view's points from scratch (this migration, and any later one that changes what the view publishes).
CREATE FUNCTION tiles.point_cells_rebuild(src text) RETURNS bigint
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

-- The instances layer (layers/definitions/instances.py, point_cells=True). Named after tiles_data_version so
-- that they fire after it (see "Concurrency" above).
CREATE TRIGGER tiles_point_cells_insert AFTER INSERT ON monitor.instances
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tiles.point_cells_sync('published.instances');
CREATE TRIGGER tiles_point_cells_update AFTER UPDATE ON monitor.instances
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tiles.point_cells_sync('published.instances');
CREATE TRIGGER tiles_point_cells_delete AFTER DELETE ON monitor.instances
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tiles.point_cells_sync('published.instances');
CREATE TRIGGER tiles_point_cells_truncate AFTER TRUNCATE ON monitor.instances
    FOR EACH STATEMENT EXECUTE FUNCTION tiles.point_cells_sync('published.instances');

SELECT tiles.point_cells_rebuild('published.instances');

-- Tiles read both tables: a rebuild must reach the tile cache like any write. The event trigger does not track
-- the tiles schema (its own tables), so track them here.
SELECT tiles.track('tiles.point_cells');
SELECT tiles.track('tiles.point_members');

-- The published views are the read-only role's interface; these tables are the tile server's.
REVOKE ALL ON tiles.point_cells, tiles.point_members FROM PUBLIC;
