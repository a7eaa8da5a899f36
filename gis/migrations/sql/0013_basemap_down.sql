DROP VIEW published.basemap_labels;
DROP VIEW published.basemap_routes;
DROP TABLE monitor.bus_routes;
DELETE FROM monitor.datasets WHERE name = 'bus_routes';
