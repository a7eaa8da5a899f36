-- What each synchronisation from an external platform (Decidim: `monitor import decidim`, `monitor sync`) last
-- wrote, one row per record it keeps in step. The next run compares the upstream record's hash with
-- `upstream_hash` (unchanged upstream: nothing is written) and the row's version with `version_written` (a
-- different version means someone edited the record here since: the local version stays and the conflict is
-- reported). See docs/import.md, "Decidim".
CREATE TABLE monitor.sync_state (
    source text NOT NULL CHECK (source ~ '^[A-Za-z0-9:._/-]+$'),  -- e.g. decidim:rosario
    table_name text NOT NULL CHECK (table_name ~ '^[a-z_]+$'),     -- instances, activities, commitments
    external_id text NOT NULL CHECK (external_id ~ '^[A-Za-z0-9:._/-]+$'),
    row_id integer NOT NULL,
    version_written integer NOT NULL CHECK (version_written > 0),
    upstream_hash text NOT NULL,
    synced_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, table_name, external_id)
);
CREATE INDEX sync_state_row_idx ON monitor.sync_state (table_name, row_id);
COMMENT ON TABLE monitor.sync_state IS
    'Last write of each synchronised record: version written and hash of the upstream record (docs/import.md)';
