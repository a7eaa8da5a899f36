-- Index method 2 (docs/methodology.md, "Diversity"): the diversity pillar is a weighted mean of theme diversity and
-- participant diversity (age bands, genders and barrios of residence of the survey answers about the barrio's
-- offer), or theme diversity alone, flagged, when fewer than k answers allow it. Runs of method 1 have
-- diversity = theme_diversity, no participant values and no fallback flag. gis/index writes every column.
ALTER TABLE monitor.index_barrios
    ADD COLUMN theme_diversity double precision CHECK (theme_diversity BETWEEN 0 AND 1),
    ADD COLUMN participant_diversity double precision CHECK (participant_diversity BETWEEN 0 AND 1),
    -- Privacy: a participant value always rests on at least 5 answers, and no smaller count is published.
    ADD COLUMN participant_answers integer CHECK (participant_answers >= 5),
    ADD COLUMN diversity_fallback boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT participant_answers_are_counted CHECK (
        (participant_diversity IS NULL) = (participant_answers IS NULL)),
    ADD CONSTRAINT fallback_has_no_participants CHECK (NOT diversity_fallback OR participant_diversity IS NULL);
-- In a run of method 1 the diversity is theme diversity. (Rows of a method 2 run that lost the split through a
-- downgrade keep theme_diversity NULL: it cannot be recovered from their diversity.)
UPDATE monitor.index_barrios r SET theme_diversity = r.diversity
FROM monitor.index_runs x WHERE x.id = r.run_id AND x.method_version = '1';

-- The published view gains the new columns at its end (CREATE OR REPLACE keeps its grants, including the
-- read-only role's, and fails rather than silently dropping a column another migration added).
CREATE OR REPLACE VIEW published.barrio_index AS
SELECT r.barrio_id AS id, r.barrio_id, b.name, b.district_code AS district, r.run_id,
       r.population, r.coverage, r.mean_nearest_m, r.e2sfca, r.uncovered_population,
       r.accessibility, r.quality, r.diversity, r.satisfaction, r.satisfaction_score, r.satisfaction_source,
       r.satisfaction_responses, r.satisfaction_imputed, r.satisfaction_imputed AS imputed,
       r.follow_through, r.effective_themes, r.effective_kinds, r.state_share, r.cso_share, r.mixed_share,
       r.offer_count, r.in_person_count, r.composite, r.rank, r.rank_median, r.rank_p05, r.rank_p95,
       b.geom, b.geom_3857,
       r.theme_diversity, r.participant_diversity, r.participant_answers, r.diversity_fallback
FROM monitor.index_barrios r
JOIN monitor.barrios b ON b.mslink = r.barrio_id
WHERE r.run_id = monitor.latest_index_run();
GRANT SELECT ON published.barrio_index TO monitor_readonly;
