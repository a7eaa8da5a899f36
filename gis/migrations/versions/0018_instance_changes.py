"""Organisations' changes to approved instances wait for an editor (monitor.instance_changes)."""

from gis.migrations.sqlfile import run_sql_file

revision = "0018_instance_changes"
down_revision = "0017_contact"
branch_labels = None


def upgrade() -> None:
    run_sql_file("0018_instance_changes.sql")


def downgrade() -> None:
    run_sql_file("0018_instance_changes_down.sql")
