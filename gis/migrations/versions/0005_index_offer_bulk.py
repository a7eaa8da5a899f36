"""The index offer table without a per-row foreign key check (bulk COPY), pruned with the cell results."""

from gis.migrations.sqlfile import run_sql_file

revision = "0005_index_offer_bulk"
down_revision = "0004_index_census"
branch_labels = None


def upgrade() -> None:
    run_sql_file("0005_index_offer_bulk.sql")


def downgrade() -> None:
    run_sql_file("0005_index_offer_bulk_down.sql")
