"""Index method 2: the diversity pillar combines theme diversity with the diversity of the survey's participants."""

from gis.migrations.sqlfile import run_sql_file

revision = "0010_index_participants"
down_revision = "0007_index_cells_versioned"
branch_labels = None


def upgrade() -> None:
    run_sql_file("0010_index_participants.sql")


def downgrade() -> None:
    run_sql_file("0010_index_participants_down.sql")
