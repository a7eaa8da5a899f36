"""Index runs at scale (issue 14): derived assessments write only what changes; the offer is stored versioned."""

from gis.migrations.sqlfile import run_sql_file

revision = "0019_index_speed"
down_revision = "0018_instance_changes"
branch_labels = None


def upgrade() -> None:
    run_sql_file("0019_index_speed.sql")


def downgrade() -> None:
    run_sql_file("0019_index_speed_down.sql")
