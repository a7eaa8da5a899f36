"""The local basemap: the municipal bus routes (the city's street skeleton) and the label points of the barrios
and districts, published for the tiles, the style and QGIS."""

from gis.migrations.sqlfile import run_sql_file

revision = "0013_basemap"
down_revision = "0009_registry_edits"
branch_labels = None


def upgrade() -> None:
    run_sql_file("0013_basemap.sql")


def downgrade() -> None:
    run_sql_file("0013_basemap_down.sql")
