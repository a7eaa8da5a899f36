"""Properties shared by the records published at their instance's place (assessments, experiences, commitments)."""

from layers.layer import Property

AT_INSTANCE = (
    Property("barrio_id", "integer", "Barrio (MSLINK)"),
    Property("barrio", "string", "Barrio"),
    Property("district", "string", "Distrito"),
    Property("is_demo", "boolean", "Dato de demostración"),
    Property("updated_at", "datetime", "Actualizado"),
)
# What the database computes for them: sent back on a PUT, ignored.
AT_INSTANCE_READ_ONLY = frozenset({"id", "version", "updated_at", "instance_name", "barrio_id", "barrio", "district"})
