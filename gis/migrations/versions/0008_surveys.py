"""Public surveys: expiring survey links (short codes, QR) and the link and activity each answer came through."""

from gis.migrations.sqlfile import run_sql_file

revision = "0008_surveys"
down_revision = "0007_index_cells_versioned"
branch_labels = None


def upgrade() -> None:
    run_sql_file("0008_surveys.sql")


def downgrade() -> None:
    run_sql_file("0008_surveys_down.sql")
