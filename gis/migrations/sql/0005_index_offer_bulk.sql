-- The offer grows with barrios × instances (60,000 rows a run with 10,000 instances): like cell results it is
-- written by COPY without a per-row key check, and kept for the latest runs only (gis/index/runs.py).
ALTER TABLE monitor.index_offer DROP CONSTRAINT IF EXISTS index_offer_run_id_fkey;
