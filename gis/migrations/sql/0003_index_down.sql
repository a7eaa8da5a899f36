DROP TRIGGER IF EXISTS index_input ON monitor.survey_responses;
DROP TRIGGER IF EXISTS index_input ON monitor.commitments;
DROP TRIGGER IF EXISTS index_input ON monitor.instance_standards;
DROP TRIGGER IF EXISTS index_input ON monitor.instances;
DROP FUNCTION IF EXISTS monitor.notify_index_input();
DROP VIEW IF EXISTS published.index_offer, published.district_index, published.barrio_index, published.hexagons,
    published.index_runs;
DROP FUNCTION IF EXISTS monitor.latest_index_run();
DROP TABLE IF EXISTS monitor.index_offer, monitor.index_districts, monitor.index_barrios, monitor.index_cells,
    monitor.h3_pieces, monitor.h3_cells, monitor.h3_grids, monitor.index_runs;
