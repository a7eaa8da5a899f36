"""Deletes recorded in monitor.history found by transaction: the incremental index reads those of its tables since
its latest run (gis/index/changes.py) without scanning the whole history."""

from alembic import op

revision = "0023_history_deletes"
down_revision = "0022_point_members_of"
branch_labels = None


def upgrade() -> None:
    op.execute("CREATE INDEX history_deletes ON monitor.history (transaction_id) WHERE action = 'delete'")


def downgrade() -> None:
    op.execute("DROP INDEX monitor.history_deletes")
