from gis import registry, tables
from gis.edits import EditPolicy, Parent, Reference
from layers.definitions.placed import AT_INSTANCE, AT_INSTANCE_READ_ONLY
from layers.layer import Layer, Property

STATUSES = ("not_started", "limited", "substantial", "complete")

EDIT = EditPolicy(
    table=tables.commitments,
    model=registry.CommitmentIn,
    geometry_field=None,
    placed_by_parent=True,
    read_only=AT_INSTANCE_READ_ONLY | {"overdue", "origin", "themes"},
    parent=Parent("instance_id", tables.instances),
    checks=(registry.check_activity_of_instance, registry.check_experience_of_instance),
    import_names=("commitments", "compromisos"),
    import_references=(Reference("instance_external_id", "instance_id", tables.instances, ("external_id",)),),
)

LAYER = Layer(
    id="commitments",
    title="Compromisos del gobierno y su cumplimiento",
    description="What the government committed to in a participation instance, where it came from (an activity, "
    "an experience record or a proposal), the government's response, evidence, progress and status "
    "(not_started, limited, substantial, complete; OGP's scale); `overdue` when past its due date and not "
    "complete. Its status over time is in the history (GET …/items/{id}/history). Placed at the instance's venue.",
    source="published.commitments",
    geometry_type="Point",
    properties=(
        Property("instance_id", "integer", "Instancia"),
        Property("instance_name", "string", "Nombre de la instancia"),
        Property("description", "string", "Compromiso"),
        Property("made_on", "date", "Asumido el"),
        Property("due_date", "date", "Plazo"),
        Property("status", "string", "Estado", enum=STATUSES),
        Property("progress", "integer", "Avance (%)"),
        Property("overdue", "boolean", "Vencido"),
        Property("evidence_url", "string", "Evidencia", filterable=False),
        Property("government_response", "string", "Respuesta del gobierno", filterable=False),
        Property("origin", "string", "Origen", enum=("activity", "experience", "proposal")),
        Property("activity_id", "integer", "Actividad de origen"),
        Property("experience_id", "integer", "Experiencia de origen"),
        Property("proposal_ref", "string", "Propuesta de origen"),
        Property("themes", "array", "Temas de la instancia"),
        Property("source", "string", "Fuente"),
        *AT_INSTANCE,
    ),
    order_by="due_date",
    cache_seconds=60,
    tiled=False,
    edit=EDIT,
)
