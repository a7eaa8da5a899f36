"""The participation registry: geography, catalogues, instances, agenda, standards, commitments, surveys, history."""

from gis.migrations.sqlfile import run_sql_file

revision = "0001_registry"
down_revision = None


def upgrade() -> None:
    run_sql_file("0001_registry.sql")


def downgrade() -> None:
    run_sql_file("0001_registry_down.sql")
