-- Incremental index runs (issue 14: an incremental run under 1 s with 100,000 instances).
--
-- 1. monitor.derive_assessments(only_instances) derives the standards of the given instances only (NULL: all, as
--    before; the rows written for an instance are those the whole-registry call writes for it). An index run passes
--    the instances whose inputs changed since the previous run, plus those an activity's start or a commitment's
--    due date has since passed (gis/index/changes.py). The statement is planned for each call (EXECUTE), so the
--    restricted call uses the indexes on instance_id and the full one scans as before.
-- 2. monitor.index_runs.snapshot_xmin: the oldest transaction still running when the run started reading. Rows
--    whose xmin is at least that (age(xmin) small enough) may be unseen by that run: the next run re-reads the
--    instances they belong to. NULL (runs before 0020): the next run reads and derives everything.
-- 3. published.index_offer: see below.

ALTER TABLE monitor.index_runs ADD COLUMN snapshot_xmin xid8;

DROP FUNCTION monitor.derive_assessments();

CREATE FUNCTION monitor.derive_assessments(only_instances integer[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SET search_path = monitor, public AS $fn$
DECLARE
    written integer;
BEGIN
    -- The index is recomputing already: these writes must not ask for another run.
    PERFORM set_config('monitor.deriving', 'on', true);
    EXECUTE $q$
    WITH live AS (
        SELECT i.* FROM monitor.instances i WHERE i.moderation = 'approved' AND i.deleted_at IS NULL
          AND ($1 IS NULL OR i.id = ANY ($1))
    ), agenda AS (
        SELECT a.instance_id,
               count(*) AS announced,
               count(*) FILTER (WHERE a.starts_at - a.created_at >= interval '7 days') AS ahead,
               count(*) FILTER (WHERE extract(isodow FROM a.starts_at AT TIME ZONE a.timezone) >= 6
                                 OR extract(hour FROM a.starts_at AT TIME ZONE a.timezone) >= 18) AS inclusive,
               count(*) FILTER (WHERE a.status = 'held' OR a.starts_at < now()) AS held
        FROM monitor.activities a
        WHERE a.deleted_at IS NULL AND a.status <> 'cancelled' AND ($1 IS NULL OR a.instance_id = ANY ($1))
        GROUP BY a.instance_id
    ), results AS (
        SELECT e.instance_id, count(*) AS records,
               count(*) FILTER (WHERE e.minutes_url IS NOT NULL OR e.document_sha256 IS NOT NULL) AS published
        FROM monitor.experiences e
        WHERE e.deleted_at IS NULL AND ($1 IS NULL OR e.instance_id = ANY ($1)) GROUP BY e.instance_id
    ), promises AS (
        SELECT c.instance_id, count(*) AS made,
               count(*) FILTER (WHERE nullif(btrim(c.government_response), '') IS NOT NULL) AS answered,
               count(*) FILTER (WHERE c.evidence_url IS NOT NULL OR c.status <> 'not_started'
                                 OR c.due_date IS NULL OR c.due_date > current_date) AS tracked
        FROM monitor.commitments c
        WHERE c.deleted_at IS NULL AND ($1 IS NULL OR c.instance_id = ANY ($1)) GROUP BY c.instance_id
    ), judged AS (
        SELECT l.id AS instance_id, v.criterion, v.status
        FROM live l
        LEFT JOIN agenda g ON g.instance_id = l.id
        LEFT JOIN results r ON r.instance_id = l.id
        LEFT JOIN promises p ON p.instance_id = l.id
        CROSS JOIN LATERAL (VALUES
            ('purpose_published', CASE WHEN nullif(btrim(l.decides), '') IS NOT NULL THEN 'met' ELSE 'not_met' END),
            ('participation_published',
             CASE WHEN nullif(btrim(l.how_to_participate), '') IS NOT NULL THEN 'met' ELSE 'not_met' END),
            ('agenda_ahead', CASE WHEN g.announced IS NULL THEN 'not_applicable'
                                  WHEN g.ahead = g.announced THEN 'met' ELSE 'not_met' END),
            ('results_published', CASE WHEN COALESCE(r.published, 0) > 0 THEN 'met'
                                       WHEN COALESCE(g.held, 0) = 0 AND r.records IS NULL THEN 'not_applicable'
                                       ELSE 'not_met' END),
            ('accessible_venue', CASE WHEN l.modality <> 'in_person' OR 'wheelchair' = ANY (l.accessibility)
                                      THEN 'met' ELSE 'not_met' END),
            ('inclusive_schedule', CASE WHEN l.accessibility && ARRAY['evening', 'weekend'] OR g.inclusive > 0
                                        THEN 'met' ELSE 'not_met' END),
            ('government_response', CASE WHEN p.made IS NULL THEN 'not_applicable'
                                         WHEN p.answered = p.made THEN 'met' ELSE 'not_met' END),
            ('commitments_tracked', CASE WHEN p.made IS NULL THEN 'not_applicable'
                                         WHEN p.tracked = p.made THEN 'met' ELSE 'not_met' END)
        ) AS v(criterion, status)
        WHERE EXISTS (SELECT 1 FROM monitor.standard_criteria c WHERE c.code = v.criterion AND c.deleted_at IS NULL)
    )
    INSERT INTO monitor.instance_standards AS s (instance_id, criterion, status, met, method, assessed_on)
    SELECT j.instance_id, j.criterion, j.status, j.status = 'met', 'derived', current_date
    FROM judged j
    LEFT JOIN monitor.instance_standards e ON e.instance_id = j.instance_id AND e.criterion = j.criterion
    -- Only the rows this will write: ON CONFLICT DO UPDATE locks (and so dirties) every conflicting row, even one
    -- its WHERE then leaves alone, and with 100,000 instances that was 800,000 rows locked a run (seconds).
    WHERE e.id IS NULL OR (e.method = 'derived' AND e.deleted_at IS NULL AND e.status IS DISTINCT FROM j.status)
    ON CONFLICT (instance_id, criterion) DO UPDATE
        SET status = EXCLUDED.status, met = EXCLUDED.met, assessed_on = EXCLUDED.assessed_on
        WHERE s.method = 'derived' AND s.deleted_at IS NULL AND s.status IS DISTINCT FROM EXCLUDED.status
    $q$ USING only_instances;
    GET DIAGNOSTICS written = ROW_COUNT;
    PERFORM set_config('monitor.deriving', 'off', true);
    RETURN written;
END $fn$;

-- 3. published.index_offer unnests each barrio's offer once and looks its instances up from there. As 0019 wrote
--    it (a join of the unnested arrays with published.instances), a planner without statistics (a fresh database)
--    nested the unnesting inside a loop over instances: /commitments spent 16 s on 800 offer rows. The LATERAL
--    subquery (OFFSET 0 keeps it whole) runs once per barrio version, and a barrio filter still reaches the versions.
DROP VIEW published.index_offer;
CREATE VIEW published.index_offer AS
SELECT k.run_id, v.barrio_id, x.instance_id, x.name, x.kind, x.kind_label, x.promoter, x.modality, x.scope, x.themes,
       x.venue_barrio, x.is_demo, x.distance_m, x.by_scope, x.by_proximity, x.standards_met, x.standards_total
FROM monitor.index_offer_runs k
JOIN monitor.index_offer_versions v ON v.run_id <= k.run_id AND (v.valid_to IS NULL OR v.valid_to > k.run_id)
CROSS JOIN LATERAL (
    SELECT u.instance_id, i.name, i.kind, i.kind_label, i.promoter, i.modality, i.scope, i.themes,
           i.barrio AS venue_barrio, i.is_demo, NULLIF(u.distance_m, 'NaN') AS distance_m, u.by_scope, u.by_proximity,
           i.standards_met, (SELECT count(*) FROM monitor.standard_criteria)::integer AS standards_total
    FROM unnest(v.instance_ids, v.distances, v.by_scope, v.by_proximity)
        AS u(instance_id, distance_m, by_scope, by_proximity)
    JOIN published.instances i ON i.id = u.instance_id
    OFFSET 0
) x
WHERE k.run_id = monitor.latest_index_run();
GRANT SELECT ON published.index_offer TO monitor_readonly;
