DROP VIEW IF EXISTS published.satisfaction;
