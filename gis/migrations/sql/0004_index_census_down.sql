DROP TABLE IF EXISTS monitor.census_areas;
