from gis import registry, tables
from gis.edits import EditPolicy
from layers.layer import Layer, Property

EDIT = EditPolicy(
    table=tables.standard_criteria,
    model=registry.CriterionIn,
    geometry_field=None,
    read_only=frozenset({"id", "version", "updated_at", "instances_meeting"}),
    import_names=("criteria", "criterios", "standards", "estandares"),
)  # no owner: only editors and admins change the standards

LAYER = Layer(
    id="criteria",
    title="Estándares mínimos",
    description="The good-practice guide's minimum standards each instance is checked against, with their guidance "
    "(Spanish). Versioned as data: `version` goes up with every change, every assessment records the version it "
    "was made against, and each version's text stays in the history (GET …/items/{code}/history).",
    source="published.criteria",
    geometry_type=None,
    properties=(
        Property("code", "string", "Código"),
        Property("ordinal", "integer", "Orden"),
        Property("label_es", "string", "Estándar"),
        Property("label_en", "string", "Standard (English)"),
        Property("guidance_es", "string", "Orientación", filterable=False),
        Property("version", "integer", "Versión"),
        Property("instances_meeting", "integer", "Instancias que lo cumplen"),
        Property("updated_at", "datetime", "Actualizado"),
    ),
    id_type="string",
    order_by="ordinal",
    cache_seconds=300,
    edit=EDIT,
)
