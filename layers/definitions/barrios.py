from layers.layer import Layer, Property

LAYER = Layer(
    id="barrios",
    title="Barrios",
    description="The 50 official barrios of Rosario (id = MSLINK). Population is the 2022 census city total "
    "spread by area (see population_method).",
    source="published.barrios",
    geometry_type="MultiPolygon",
    properties=(
        Property("name", "string", "Barrio"),
        Property("district", "string", "Distrito",
                 enum=("CENTRO", "NORTE", "NOROESTE", "OESTE", "SUDOESTE", "SUR")),
        Property("population", "integer", "Población estimada 2022"),
        Property("population_method", "string", "Método de población"),
        Property("area_km2", "number", "Superficie (km²)"),
        Property("district_name", "string", "Nombre del distrito", in_tiles=False),
        Property("district_method", "string", "Asignación de distrito", in_tiles=False),
    ),
    minzoom=0,
    maxzoom=16,
    simplify=True,
    cache_seconds=3600,
    style=(
        {"id": "barrios-fill", "type": "fill", "paint": {"fill-color": "#f4f1ea", "fill-opacity": 0.6}},
        {"id": "barrios-line", "type": "line", "paint": {"line-color": "#9a8f7a", "line-width": 0.8}},
    ),
    attribution="Municipalidad de Rosario, capa Barrios",
    role="barrio_boundaries",
)
