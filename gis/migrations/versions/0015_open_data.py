"""Open data: the aggregated satisfaction of each instance as a layer (at least 5 answers, count and mean only)."""

from gis.migrations.sqlfile import run_sql_file

revision = "0015_open_data"
down_revision = "0015_editions"
branch_labels = None


def upgrade() -> None:
    run_sql_file("0015_open_data.sql")


def downgrade() -> None:
    run_sql_file("0015_open_data_down.sql")
