"""Back-office sessions (hashed, tied to a token, expiring) and one-time invitations for organisations."""

from gis.migrations.sqlfile import run_sql_file

revision = "0016_sessions"
down_revision = "0014_evaluation"
branch_labels = None


def upgrade() -> None:
    run_sql_file("0016_sessions.sql")


def downgrade() -> None:
    run_sql_file("0016_sessions_down.sql")
