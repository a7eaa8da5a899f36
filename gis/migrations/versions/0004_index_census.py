"""A census layer by small area for the index's population (areal interpolation)."""

from gis.migrations.sqlfile import run_sql_file

revision = "0004_index_census"
down_revision = "0003_index"
branch_labels = None


def upgrade() -> None:
    run_sql_file("0004_index_census.sql")


def downgrade() -> None:
    run_sql_file("0004_index_census_down.sql")
