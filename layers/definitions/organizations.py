from gis import registry, tables
from gis.edits import EditPolicy
from layers.layer import Layer, Property

KINDS = ("government_area", "cso", "vecinal", "university", "school", "company", "international", "other")

EDIT = EditPolicy(
    table=tables.organizations,
    model=registry.OrganizationIn,
    geometry_field=None,
    read_only=frozenset({"id", "version", "updated_at"}),
    owner_column="id",  # an organisation token edits its own organisation's record
    import_names=("organizations", "organisations", "organizaciones"),
    file_keys=lambda item: [("name", item.name.lower())],
)

LAYER = Layer(
    id="organizations",
    title="Organizaciones",
    description="Government areas and civil-society organisations that promote or take part in participation "
    "instances. No geometry: they are placed through their instances. Records with is_demo = true are demo data.",
    source="published.organizations",
    geometry_type=None,
    properties=(
        Property("name", "string", "Nombre"),
        Property("kind", "string", "Tipo", enum=KINDS),
        Property("description", "string", "Descripción", in_tiles=False, filterable=False),
        Property("website", "string", "Sitio web", in_tiles=False, filterable=False),
        Property("source", "string", "Fuente"),
        Property("is_demo", "boolean", "Dato de demostración"),
        Property("updated_at", "datetime", "Actualizado"),
    ),
    order_by="name",
    cache_seconds=60,
    edit=EDIT,
)
