-- Organisations' changes to approved instances wait for an editor (issue 13, item 5): the instance itself is not
-- touched, so the public (items, cards, tiles, the read-only role) keeps seeing the approved version until an
-- editor accepts the change; then it is applied through the edit engine like any edit.
--
-- One open change per instance: an organisation's later edit is merged into its pending change. `changes` holds
-- only the fields that differ from the instance as it was when proposed, in the input model's JSON form (field →
-- value), `base_version` the version the organisation saw. A rejected change stays, with the editor's reason for
-- the organisation to read, until the organisation proposes another. Not published: the read-only role has no
-- right on schema monitor. The history records who proposed and who decided (the applied change itself is in the
-- instance's history, by the editor who accepted it).

CREATE TABLE monitor.instance_changes (
    instance_id integer PRIMARY KEY REFERENCES monitor.instances (id) ON DELETE CASCADE,
    changes jsonb NOT NULL CHECK (jsonb_typeof(changes) = 'object'),
    base_version integer NOT NULL,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'rejected')),
    reason text,
    proposed_by text NOT NULL DEFAULT monitor.current_actor(),
    proposed_at timestamptz NOT NULL DEFAULT now(),
    decided_by text,
    decided_at timestamptz,
    CONSTRAINT rejected_change_has_reason CHECK (state <> 'rejected' OR (reason IS NOT NULL AND btrim(reason) <> ''))
);
CREATE INDEX instance_changes_state_idx ON monitor.instance_changes (state, proposed_at);

CREATE TRIGGER history AFTER INSERT OR UPDATE OR DELETE ON monitor.instance_changes
    FOR EACH ROW EXECUTE FUNCTION monitor.record_history('instance_id');

REVOKE ALL ON monitor.instance_changes FROM PUBLIC;
REVOKE ALL ON monitor.instance_changes FROM monitor_readonly;
