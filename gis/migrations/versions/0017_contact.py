"""Personal data: an instance's `contact` becomes `public_contact` (one institutional channel, published as
`contact`) and `private_notes` (editors only, in no published view).

Stored contacts that are not one institutional channel (a person's name, several numbers, free text) are moved to
`private_notes` by the same rule the API applies (gis/registry.py), so that nothing a person typed as a private
detail stays public and every remaining public contact passes the write rules (a later PATCH is validated on the
whole row). The move is recorded in the history as the actor `migration:0017_contact`.
"""

from alembic import op

from gis.migrations.sqlfile import run_sql_file
from gis.registry import is_public_contact

revision = "0017_contact"
down_revision = "0014_evaluation"
branch_labels = None

ACTOR = "migration:0017_contact"


def upgrade() -> None:
    run_sql_file("0017_contact.sql")
    conn = op.get_bind().connection.driver_connection
    rows = conn.execute("SELECT id, public_contact FROM monitor.instances WHERE public_contact IS NOT NULL "
                        "ORDER BY id").fetchall()
    moved = [(value, row_id) for row_id, value in rows if not is_public_contact(value)]
    if moved:
        conn.execute("SELECT set_config('monitor.actor', %s, true)", (ACTOR,))
        with conn.cursor() as cur:
            cur.executemany("UPDATE monitor.instances SET private_notes = %s, public_contact = NULL WHERE id = %s",
                            moved)


def downgrade() -> None:
    run_sql_file("0017_contact_down.sql")
