-- Back to method 1's columns: the view as 0003_index created it (a view cannot lose columns in place).
DROP VIEW IF EXISTS published.barrio_index;
CREATE VIEW published.barrio_index AS
SELECT r.barrio_id AS id, r.barrio_id, b.name, b.district_code AS district, r.run_id,
       r.population, r.coverage, r.mean_nearest_m, r.e2sfca, r.uncovered_population,
       r.accessibility, r.quality, r.diversity, r.satisfaction, r.satisfaction_score, r.satisfaction_source,
       r.satisfaction_responses, r.satisfaction_imputed, r.satisfaction_imputed AS imputed,
       r.follow_through, r.effective_themes, r.effective_kinds, r.state_share, r.cso_share, r.mixed_share,
       r.offer_count, r.in_person_count, r.composite, r.rank, r.rank_median, r.rank_p05, r.rank_p95,
       b.geom, b.geom_3857
FROM monitor.index_barrios r
JOIN monitor.barrios b ON b.mslink = r.barrio_id
WHERE r.run_id = monitor.latest_index_run();
GRANT SELECT ON published.barrio_index TO monitor_readonly;
ALTER TABLE monitor.index_barrios
    DROP CONSTRAINT IF EXISTS fallback_has_no_participants,
    DROP CONSTRAINT IF EXISTS participant_answers_are_counted,
    DROP COLUMN IF EXISTS diversity_fallback,
    DROP COLUMN IF EXISTS participant_answers,
    DROP COLUMN IF EXISTS participant_diversity,
    DROP COLUMN IF EXISTS theme_diversity;
