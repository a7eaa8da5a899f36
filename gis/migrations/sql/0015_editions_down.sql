DROP VIEW IF EXISTS published.index_edition_districts, published.index_edition_barrios, published.index_editions;
DROP TABLE IF EXISTS monitor.index_edition_districts, monitor.index_edition_barrios, monitor.index_editions;
DROP FUNCTION IF EXISTS monitor.check_edition_values(), monitor.refuse_edition_change();
