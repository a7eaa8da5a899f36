"""Synchronisation state: what each sync from an external platform (Decidim) last wrote, per record."""

from gis.migrations.sqlfile import run_sql_file

revision = "0012_sync"
down_revision = "0009_registry_edits"
branch_labels = None


def upgrade() -> None:
    run_sql_file("0012_sync.sql")


def downgrade() -> None:
    run_sql_file("0012_sync_down.sql")
