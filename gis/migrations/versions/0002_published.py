"""Published views and the read-only role for QGIS users."""

from gis.migrations.sqlfile import run_sql_file

revision = "0002_published"
down_revision = "0001_registry"


def upgrade() -> None:
    run_sql_file("0002_published.sql")


def downgrade() -> None:
    run_sql_file("0002_published_down.sql")
