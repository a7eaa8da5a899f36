"""Where a view's points are counted, computed in one function (tiles.point_members_of) for refresh and rebuild."""

from gis.migrations.sqlfile import run_sql_file

revision = "0022_point_members_of"
down_revision = ("0021_standards_met_index", "0019_dense_tiles")  # a merge: 0019_dense_tiles made what it changes
branch_labels = None


def upgrade() -> None:
    run_sql_file("0022_point_members_of.sql")


def downgrade() -> None:
    run_sql_file("0022_point_members_of_down.sql")
