"""The read-only role reads the published index views (the latest-run function runs as its owner)."""

from gis.migrations.sqlfile import run_sql_file

revision = "0006_index_readonly"
down_revision = "0005_index_offer_bulk"
branch_labels = None


def upgrade() -> None:
    run_sql_file("0006_index_readonly.sql")


def downgrade() -> None:
    run_sql_file("0006_index_readonly_down.sql")
