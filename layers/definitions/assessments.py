from gis import registry, tables
from gis.edits import EditPolicy, Reference
from layers.definitions.placed import AT_INSTANCE, AT_INSTANCE_READ_ONLY
from layers.layer import Layer, Property

EDIT = EditPolicy(
    table=tables.instance_standards,
    model=registry.AssessmentIn,
    geometry_field=None,
    placed_by_parent=True,
    read_only=AT_INSTANCE_READ_ONLY | {"criterion_label", "ordinal", "criterion_version"},
    checks=(registry.check_assessment_once,),
    import_names=("assessments", "evaluaciones", "estandares_cumplidos"),
    import_references=(Reference("instance_external_id", "instance_id", tables.instances, ("external_id",)),),
    file_keys=lambda item: [("instance and criterion", item.instance_id, item.criterion)],
)  # no owner: editors verify; what the registry shows is derived by the monitor itself (method = derived)

LAYER = Layer(
    id="assessments",
    title="Evaluaciones de estándares mínimos",
    description="One row per published instance and minimum standard: met, not met or not applicable. "
    "`method` = derived (computed by the monitor from the registry: purpose, how to take part, agenda announced "
    "7 days ahead, accessible venue, inclusive schedule, results published, government response, commitments "
    "tracked) or verified (checked by a person, named in `assessed_by`; a verification always wins). "
    "Placed at the instance's venue.",
    source="published.assessments",
    geometry_type="Point",
    properties=(
        Property("instance_id", "integer", "Instancia"),
        Property("instance_name", "string", "Nombre de la instancia"),
        Property("criterion", "string", "Estándar"),
        Property("criterion_label", "string", "Estándar (texto)"),
        Property("ordinal", "integer", "Orden del estándar"),
        Property("criterion_version", "integer", "Versión del estándar evaluada"),
        Property("status", "string", "Resultado", enum=("met", "not_met", "not_applicable")),
        Property("method", "string", "Método", enum=("derived", "verified")),
        Property("evidence_url", "string", "Evidencia", filterable=False),
        Property("assessed_by", "string", "Evaluado por"),
        Property("assessed_on", "date", "Fecha de evaluación"),
        Property("note", "string", "Nota", filterable=False),
        *AT_INSTANCE,
    ),
    order_by="instance_id, ordinal",
    cache_seconds=60,
    tiled=False,
    edit=EDIT,
)
