"""Tile cache invalidation: per-table data versions bumped by statement-level triggers."""

from gis.migrations.sqlfile import run_sql_file

revision = "0003_tiles"
down_revision = "0002_published"
branch_labels = ("tiles",)


def upgrade() -> None:
    run_sql_file("0003_tiles.sql")


def downgrade() -> None:
    run_sql_file("0003_tiles_down.sql")
