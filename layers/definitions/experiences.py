from gis import registry, tables
from gis.edits import EditPolicy, Parent, Reference
from layers.definitions.placed import AT_INSTANCE, AT_INSTANCE_READ_ONLY
from layers.layer import Layer, Property

EDIT = EditPolicy(
    table=tables.experiences,
    model=registry.ExperienceIn,
    geometry_field=None,
    placed_by_parent=True,
    read_only=AT_INSTANCE_READ_ONLY | {"activity_title", "document_name", "document_sha256"},
    parent=Parent("instance_id", tables.instances),
    checks=(registry.check_activity_of_instance,),
    has_document=True,  # the minutes or results as a file: PUT …/items/{id}/document
    import_names=("experiences", "experiencias", "actas"),
    import_references=(Reference("instance_external_id", "instance_id", tables.instances, ("external_id",)),),
)

LAYER = Layer(
    id="experiences",
    title="Experiencias: lo que produjo cada actividad",
    description="The record of a held activity: attendance, who took part (counts by age band, gender and barrio "
    "of residence, never people), the minutes or results (a link, or a document kept with its SHA-256), "
    "proposals produced and lessons learned. Placed at the instance's venue.",
    source="published.experiences",
    geometry_type="Point",
    properties=(
        Property("instance_id", "integer", "Instancia"),
        Property("instance_name", "string", "Nombre de la instancia"),
        Property("activity_id", "integer", "Actividad"),
        Property("activity_title", "string", "Actividad (título)"),
        Property("held_on", "date", "Fecha"),
        Property("attendance", "integer", "Asistencia"),
        Property("participant_profile", "object", "Perfil de participantes (agregado)", filterable=False),
        Property("minutes_url", "string", "Acta o resultados", filterable=False),
        Property("document_name", "string", "Documento", filterable=False),
        Property("document_sha256", "string", "SHA-256 del documento"),
        Property("proposals_count", "integer", "Propuestas surgidas"),
        Property("proposals", "string", "Propuestas", filterable=False),
        Property("lessons_learned", "string", "Aprendizajes", filterable=False),
        Property("source", "string", "Fuente"),
        *AT_INSTANCE,
    ),
    order_by="held_on",
    cache_seconds=60,
    tiled=False,
    edit=EDIT,
)
