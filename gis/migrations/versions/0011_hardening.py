"""Hardening: functions pin their search_path (pg_restore works), views hiding rows are security barriers, and the
read-only role is read-only by privileges, with a statement timeout and a connection limit.

A merge of the three heads of today (surveys, registry edits, index participants), so that it sees every view and
function they create.
"""

from alembic import op

from gis.config import get_settings
from gis.migrations.sqlfile import run_sql_file

revision = "0011_hardening"
down_revision = ("0008_surveys", "0009_registry_edits", "0010_index_participants")
branch_labels = None


def upgrade() -> None:
    run_sql_file("invariants.sql")
    run_sql_file("0011_hardening.sql")
    run_sql_file("0011_database_grants.sql")
    if get_settings().database_url is None:
        # The private cluster belongs to this checkout: nobody but its superuser needs the maintenance database.
        # On a shared server this is the administrator's decision (docs/operations.md).
        op.execute("DO $$ BEGIN IF has_database_privilege('public', 'postgres', 'CONNECT') THEN "
                   "REVOKE CONNECT ON DATABASE postgres FROM PUBLIC; END IF; END $$")


def downgrade() -> None:
    run_sql_file("0011_hardening_down.sql")
