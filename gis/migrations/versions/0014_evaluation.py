"""The evaluation half: versioned criteria, assessments (derived or verified), experiences, commitments' origin."""

from gis.migrations.sqlfile import run_sql_file

revision = "0014_evaluation"
down_revision = ("0009_registry_edits", "0010_index_participants")  # needs the index's notify function
branch_labels = None


def upgrade() -> None:
    run_sql_file("0014_evaluation.sql")


def downgrade() -> None:
    run_sql_file("0014_evaluation_down.sql")
