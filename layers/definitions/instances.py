from gis import registry, tables
from gis.edits import EditPolicy, Reference
from layers.layer import Layer, Property

KINDS = ("consejo_barrial", "presupuesto_participativo", "vecinal", "thematic_council", "roundtable",
         "public_hearing", "digital_process", "cso_initiative", "district_centre", "interdistrict_council")

EDIT = EditPolicy(
    table=tables.instances,
    model=registry.InstanceIn,
    # `contact` is the published name of public_contact (one institutional channel); private_notes is never
    # published (not a property below), so a PUT that does not send it keeps it.
    aliases={"scope_district": "scope_district_code", "contact": "public_contact"},
    read_only=frozenset({"id", "version", "updated_at", "created_at", "kind_label", "organization", "barrio",
                         "barrio_id", "district", "standards_met"}),
    owner_column="organization_id",
    moderated=True,
    checks=(registry.check_instance_codes, registry.check_in_a_barrio, registry.check_duplicate_instance),
    after_insert=registry.link_promoter,
    # A PUT of what GET returned changes nothing: fields that are not published properties stay when not sent.
    keep_on_replace=("moderation", "moderation_reason", "organization_id", "private_notes", "external_id", "scope_note",
                     "source_url"),
    import_names=("instances", "instancias"),
    import_references=(Reference("organization", "organization_id", tables.organizations, ("name", "external_id")),),
    file_keys=lambda item: [("name, kind and venue", item.name.lower(), item.kind,
                             tuple(round(c, 6) for c in item.venue.coordinates[:2]) if item.venue else None)],
)

LAYER = Layer(
    id="instances",
    title="Instancias de participación",
    description="Approved participation instances (state and civil society). Online-only instances have no "
    "geometry. Records with is_demo = true are generated demo data, not real instances.",
    source="published.instances",
    geometry_type="Point",
    properties=(
        Property("name", "string", "Nombre"),
        Property("kind", "string", "Tipo", enum=KINDS),
        Property("kind_label", "string", "Tipo (texto)", filterable=False),
        Property("promoter", "string", "Promotor", enum=("state", "cso", "mixed")),
        Property("organization", "string", "Organización"),
        Property("themes", "array", "Temas"),
        Property("modality", "string", "Modalidad", enum=("in_person", "online", "hybrid")),
        Property("scope", "string", "Alcance", enum=("barrio", "district", "city")),
        Property("status", "string", "Estado", enum=("active", "paused", "ended")),
        Property("is_demo", "boolean", "Dato de demostración"),
        Property("barrio_id", "integer", "Barrio (MSLINK)"),
        Property("barrio", "string", "Barrio"),
        Property("district", "string", "Distrito"),
        Property("standards_met", "integer", "Estándares mínimos cumplidos (de 8)"),
        Property("frequency", "string", "Frecuencia"),
        Property("description", "string", "Descripción", in_tiles=False, filterable=False),
        Property("decides", "string", "Qué se decide", in_tiles=False, filterable=False),
        Property("how_it_works", "string", "Cómo funciona", in_tiles=False, filterable=False),
        Property("how_to_participate", "string", "Cómo participar", in_tiles=False, filterable=False),
        Property("venue_address", "string", "Dirección", in_tiles=False),
        Property("online_url", "string", "Enlace", in_tiles=False, filterable=False),
        Property("scope_barrio_id", "integer", "Barrio que abarca", in_tiles=False),
        Property("scope_district", "string", "Distrito que abarca", in_tiles=False),
        Property("schedule", "string", "Horario", in_tiles=False, filterable=False),
        Property("accessibility", "array", "Accesibilidad", in_tiles=False),
        Property("contact", "string", "Contacto institucional", in_tiles=False, filterable=False),
        Property("start_date", "date", "Inicio", in_tiles=False),
        Property("end_date", "date", "Fin", in_tiles=False),
        Property("source", "string", "Fuente", in_tiles=False),
        Property("updated_at", "datetime", "Actualizado", in_tiles=False),
    ),
    minzoom=0,
    maxzoom=16,
    cluster_below_zoom=13,
    point_cells=True,  # 200,000 points cluster from stored per-cell counts (migration 0019)
    role="registry_points",
    cache_seconds=30,
    edit=EDIT,
    style=(
        {
            "id": "instances-circle",
            "type": "circle",
            "paint": {
                "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 3, 16, 7],
                "circle-color": ["match", ["get", "kind"],
                                 "consejo_barrial", "#1b9e77", "presupuesto_participativo", "#d95f02",
                                 "vecinal", "#7570b3", "thematic_council", "#e7298a", "roundtable", "#66a61e",
                                 "public_hearing", "#e6ab02", "digital_process", "#a6761d",
                                 "cso_initiative", "#1f78b4", "district_centre", "#333333", "#999999"],
                "circle-stroke-color": "#ffffff",
                "circle-stroke-width": 1,
            },
        },
    ),
)
