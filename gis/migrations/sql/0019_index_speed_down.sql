-- Back to 0018: the offer as one row per (run, barrio, instance), and derive_assessments() as in 0014.
CREATE TABLE monitor.index_offer_rows (
    run_id integer NOT NULL,
    barrio_id integer NOT NULL,
    instance_id integer NOT NULL,
    distance_m double precision,
    by_scope boolean NOT NULL,
    by_proximity boolean NOT NULL,
    PRIMARY KEY (run_id, barrio_id, instance_id)
);
INSERT INTO monitor.index_offer_rows SELECT run_id, barrio_id, instance_id, distance_m, by_scope, by_proximity
FROM monitor.index_offer;
DROP VIEW published.index_offer;
DROP VIEW monitor.index_offer;
DROP TABLE monitor.index_offer_versions, monitor.index_offer_runs;
ALTER TABLE monitor.index_offer_rows RENAME TO index_offer;
ALTER INDEX monitor.index_offer_rows_pkey RENAME TO index_offer_pkey;

CREATE VIEW published.index_offer AS
SELECT o.run_id, o.barrio_id, o.instance_id, i.name, i.kind, i.kind_label, i.promoter, i.modality, i.scope,
       i.themes, i.barrio AS venue_barrio, i.is_demo, o.distance_m, o.by_scope, o.by_proximity, i.standards_met,
       (SELECT count(*) FROM monitor.standard_criteria)::integer AS standards_total
FROM monitor.index_offer o
JOIN published.instances i ON i.id = o.instance_id
WHERE o.run_id = monitor.latest_index_run();
GRANT SELECT ON published.index_offer TO monitor_readonly;

CREATE OR REPLACE FUNCTION monitor.derive_assessments() RETURNS integer LANGUAGE plpgsql
SET search_path = monitor, public AS $$
DECLARE
    written integer;
BEGIN
    -- The index is recomputing already: these writes must not ask for another run.
    PERFORM set_config('monitor.deriving', 'on', true);
    WITH live AS (
        SELECT i.* FROM monitor.instances i WHERE i.moderation = 'approved' AND i.deleted_at IS NULL
    ), agenda AS (
        SELECT a.instance_id,
               count(*) AS announced,
               count(*) FILTER (WHERE a.starts_at - a.created_at >= interval '7 days') AS ahead,
               count(*) FILTER (WHERE extract(isodow FROM a.starts_at AT TIME ZONE a.timezone) >= 6
                                 OR extract(hour FROM a.starts_at AT TIME ZONE a.timezone) >= 18) AS inclusive,
               count(*) FILTER (WHERE a.status = 'held' OR a.starts_at < now()) AS held
        FROM monitor.activities a
        WHERE a.deleted_at IS NULL AND a.status <> 'cancelled'
        GROUP BY a.instance_id
    ), results AS (
        SELECT e.instance_id, count(*) AS records,
               count(*) FILTER (WHERE e.minutes_url IS NOT NULL OR e.document_sha256 IS NOT NULL) AS published
        FROM monitor.experiences e WHERE e.deleted_at IS NULL GROUP BY e.instance_id
    ), promises AS (
        SELECT c.instance_id, count(*) AS made,
               count(*) FILTER (WHERE nullif(btrim(c.government_response), '') IS NOT NULL) AS answered,
               count(*) FILTER (WHERE c.evidence_url IS NOT NULL OR c.status <> 'not_started'
                                 OR c.due_date IS NULL OR c.due_date > current_date) AS tracked
        FROM monitor.commitments c WHERE c.deleted_at IS NULL GROUP BY c.instance_id
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
    SELECT instance_id, criterion, status, status = 'met', 'derived', current_date FROM judged
    ON CONFLICT (instance_id, criterion) DO UPDATE
        SET status = EXCLUDED.status, met = EXCLUDED.met, assessed_on = EXCLUDED.assessed_on
        WHERE s.method = 'derived' AND s.deleted_at IS NULL AND s.status IS DISTINCT FROM EXCLUDED.status;
    GET DIAGNOSTICS written = ROW_COUNT;
    PERFORM set_config('monitor.deriving', 'off', true);
    RETURN written;
END $$;
