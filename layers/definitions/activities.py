from gis import registry, tables
from gis.edits import EditPolicy, Parent, Reference
from layers.layer import Layer, Property

EDIT = EditPolicy(
    table=tables.activities,
    model=registry.ActivityIn,
    read_only=frozenset({"id", "version", "updated_at", "instance_name", "kind", "barrio", "barrio_id",
                         "district"}),
    parent=Parent("instance_id", tables.instances),
    checks=(registry.check_in_a_barrio, registry.check_duplicate_activity),
    import_names=("activities", "actividades", "agenda"),
    import_references=(
        Reference("instance_external_id", "instance_id", tables.instances, ("external_id",)),
        Reference("instance", "instance_id", tables.instances, ("name",), label="instance (name)"),
    ),
    file_keys=lambda item: [("instance, title and start", item.instance_id, item.title.lower(), item.starts_at)],
)

LAYER = Layer(
    id="activities",
    title="Agenda de actividades",
    description="Upcoming and past activities of approved instances (times in America/Argentina/Cordoba). "
    "Online activities have no geometry.",
    source="published.activities",
    geometry_type="Point",
    properties=(
        Property("title", "string", "Actividad"),
        Property("instance_id", "integer", "Instancia"),
        Property("instance_name", "string", "Nombre de la instancia"),
        Property("kind", "string", "Tipo de instancia"),
        Property("starts_at", "datetime", "Comienza"),
        Property("ends_at", "datetime", "Termina"),
        Property("status", "string", "Estado", enum=("scheduled", "cancelled", "held")),
        Property("is_demo", "boolean", "Dato de demostración"),
        Property("barrio_id", "integer", "Barrio (MSLINK)"),
        Property("barrio", "string", "Barrio"),
        Property("district", "string", "Distrito"),
        Property("description", "string", "Descripción", in_tiles=False, filterable=False),
        Property("venue_address", "string", "Dirección", in_tiles=False),
        Property("online_url", "string", "Enlace", in_tiles=False, filterable=False),
        Property("registration_url", "string", "Inscripción", in_tiles=False, filterable=False),
        Property("registration_required", "boolean", "Requiere inscripción", in_tiles=False),
        Property("timezone", "string", "Zona horaria", in_tiles=False),
        Property("source", "string", "Fuente", in_tiles=False),
    ),
    minzoom=10,
    maxzoom=16,
    cluster_below_zoom=13,
    role="agenda_points",
    datetime_columns=("starts_at", "ends_at"),
    order_by="starts_at, id",
    cache_seconds=30,
    edit=EDIT,
    style=(
        {
            "id": "activities-circle",
            "type": "circle",
            "paint": {"circle-radius": 4, "circle-color": "#c51b7d", "circle-stroke-color": "#ffffff",
                      "circle-stroke-width": 1},
        },
    ),
)
