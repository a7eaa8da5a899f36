"""Organisations become an editable collection: soft delete and who-wrote stamps like instances and activities."""

from gis.migrations.sqlfile import run_sql_file

revision = "0009_registry_edits"
down_revision = "0003_tiles"
branch_labels = None


def upgrade() -> None:
    run_sql_file("0009_registry_edits.sql")


def downgrade() -> None:
    run_sql_file("0009_registry_edits_down.sql")
