"""Runs one of the SQL files beside this module inside the current Alembic transaction."""

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).parent / "sql"


def run_sql_file(name: str) -> None:
    # The raw psycopg connection runs a multi-statement script as is (no bind-parameter parsing of `::`).
    op.get_bind().connection.driver_connection.execute((SQL_DIR / name).read_text())
