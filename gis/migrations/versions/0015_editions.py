"""Editions of the index: a run frozen under a name, immutable, with its values per barrio and district."""

from gis.migrations.sqlfile import run_sql_file

revision = "0015_editions"
down_revision = "0014_evaluation"
branch_labels = None


def upgrade() -> None:
    run_sql_file("0015_editions.sql")


def downgrade() -> None:
    run_sql_file("0015_editions_down.sql")
