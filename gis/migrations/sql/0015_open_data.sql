-- Open data (docs/api.md, "Open data"): the aggregated satisfaction of each instance placed at its venue, so that
-- it downloads as a layer like the others. The same privacy rule as published.instance_satisfaction, which it reads:
-- only instances with at least 5 answers, and only their count and mean.
CREATE VIEW published.satisfaction AS
SELECT s.instance_id AS id, s.instance_id, i.name, i.kind, i.promoter, i.modality, i.scope, i.themes,
       s.responses, s.mean_score, round(((s.mean_score - 1) / 4)::numeric, 4)::double precision AS satisfaction,
       i.barrio_id, i.barrio, i.district, i.is_demo, i.geom, i.geom_3857
FROM published.instance_satisfaction s
JOIN published.instances i ON i.id = s.instance_id;
GRANT SELECT ON published.satisfaction TO monitor_readonly;
