"""The Citizen Participation Index: runs, H3 grid, results and their published views."""

from gis.migrations.sqlfile import run_sql_file

revision = "0003_index"
down_revision = "0002_published"
branch_labels = ("index",)


def upgrade() -> None:
    run_sql_file("0003_index.sql")


def downgrade() -> None:
    run_sql_file("0003_index_down.sql")
