"""Incremental index runs (issue 14): assessments derived for given instances; runs record their snapshot."""

from gis.migrations.sqlfile import run_sql_file

revision = "0020_index_incremental"
down_revision = "0019_index_speed"
branch_labels = None


def upgrade() -> None:
    run_sql_file("0020_index_incremental.sql")


def downgrade() -> None:
    run_sql_file("0020_index_incremental_down.sql")
