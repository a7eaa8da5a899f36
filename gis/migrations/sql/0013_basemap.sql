-- The local basemap, drawn from what the monitor holds so the map has streets and names with no internet:
-- the municipal bus routes (recorridos TUP 2022, one row per line, branch and direction) as the street skeleton,
-- and one label point per barrio and per district. Loaded by `monitor load geography` (data/districts/basemap.py).

CREATE TABLE monitor.bus_routes (
    id integer PRIMARY KEY CHECK (id > 0),
    line text NOT NULL CHECK (btrim(line) <> ''),
    branch text,
    direction text,
    route_code text,
    source text NOT NULL,
    geom geometry(MultiLineString, 4326) NOT NULL CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    geom_3857 geometry(MultiLineString, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bus_routes_geom_idx ON monitor.bus_routes USING gist (geom);
CREATE INDEX bus_routes_geom_3857_idx ON monitor.bus_routes USING gist (geom_3857);

CREATE VIEW published.basemap_routes AS
SELECT r.id, r.line, 'Línea ' || r.line AS name, r.branch, r.direction, r.route_code, r.source,
       r.geom, r.geom_3857
FROM monitor.bus_routes r;

-- Label points: the centroid when it lies inside the area, else a point surely inside it. Computed on the fly
-- (56 rows), so a reloaded barrio moves its label at once and the tile cache follows the base tables.
CREATE VIEW published.basemap_labels AS
WITH areas AS (
    SELECT b.mslink AS id, 'barrio'::text AS kind, b.name, b.geom FROM monitor.barrios b
    UNION ALL
    SELECT 1000 + d.id, 'district'::text, d.name, d.geom FROM monitor.districts d
), points AS (
    SELECT id, kind, name,
           CASE WHEN ST_Intersects(geom, ST_Centroid(geom)) THEN ST_Centroid(geom)
                ELSE ST_PointOnSurface(geom) END AS geom
    FROM areas
)
SELECT id, kind, name, geom, ST_Transform(geom, 3857) AS geom_3857 FROM points;

GRANT SELECT ON published.basemap_routes, published.basemap_labels TO monitor_readonly;
