"""Versioned cell results for databases migrated with the first version of 0003_index (no-op otherwise)."""

from gis.migrations.sqlfile import run_sql_file

revision = "0007_index_cells_versioned"
down_revision = "0006_index_readonly"
branch_labels = None


def upgrade() -> None:
    run_sql_file("0007_index_cells_versioned.sql")


def downgrade() -> None:
    run_sql_file("0007_index_cells_versioned_down.sql")
