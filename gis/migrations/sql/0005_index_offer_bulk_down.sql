DELETE FROM monitor.index_offer o WHERE NOT EXISTS (SELECT 1 FROM monitor.index_runs r WHERE r.id = o.run_id);
ALTER TABLE monitor.index_offer ADD CONSTRAINT index_offer_run_id_fkey
    FOREIGN KEY (run_id) REFERENCES monitor.index_runs (id) ON DELETE CASCADE;
