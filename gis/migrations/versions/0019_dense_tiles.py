"""Published points counted per grid cell on write (tiles.point_cells), for exact low-zoom and dense tiles."""

from gis.migrations.sqlfile import run_sql_file

revision = "0019_dense_tiles"
down_revision = "0018_instance_changes"
branch_labels = None


def upgrade() -> None:
    run_sql_file("0019_dense_tiles.sql")


def downgrade() -> None:
    run_sql_file("0019_dense_tiles_down.sql")
