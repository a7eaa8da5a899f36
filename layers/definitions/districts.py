from layers.layer import Layer, Property

LAYER = Layer(
    id="districts",
    title="Distritos municipales",
    description="The six municipal districts of Rosario. Approximate where `is_approximate` is true: dissolved "
    "from the official barrios through a derived barrio-to-district table, since no official district layer "
    "was available.",
    source="published.districts",
    geometry_type="MultiPolygon",
    properties=(
        Property("code", "string", "Código", enum=("CENTRO", "NORTE", "NOROESTE", "OESTE", "SUDOESTE", "SUR")),
        Property("name", "string", "Nombre"),
        Property("population", "integer", "Población estimada 2022"),
        Property("population_method", "string", "Método de población"),
        Property("area_km2", "number", "Superficie (km²)"),
        Property("is_approximate", "boolean", "Límite aproximado"),
        Property("boundary_method", "string", "Origen del límite", in_tiles=False),
    ),
    minzoom=0,
    maxzoom=16,
    simplify=True,
    cache_seconds=3600,
    style=(
        {"id": "districts-line", "type": "line", "paint": {"line-color": "#3b3b58", "line-width": 2.2}},
    ),
    attribution="Municipalidad de Rosario (barrios); distritos derivados",
    role="district_boundaries",
)
