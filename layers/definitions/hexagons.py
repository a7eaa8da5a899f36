from layers.layer import Layer, Property
from layers.ramps import HEXAGONS

LAYER = Layer(
    id="hexagons",
    title="Accesibilidad por hexágono H3",
    description="Latest Citizen Participation Index run, per H3 cell (resolution in `resolution`): population by "
    "areal weighting from barrios, effective distance to the nearest in-person or hybrid instance (straight line "
    "in EPSG:22185 × circuity factor), coverage within the coverage distance (1/0) and E2SFCA score per 10,000 "
    "people. Parameters: GET /index. Feature id = the H3 index as an integer; `h3` is its usual hex form.",
    source="published.hexagons",
    geometry_type="Polygon",
    properties=(
        Property("h3", "string", "Índice H3"),
        Property("resolution", "integer", "Resolución H3"),
        Property("population", "number", "Población estimada"),
        Property("nearest_m", "number", "Distancia efectiva a la instancia presencial más cercana (m)"),
        Property("coverage", "integer", "Cubierto (1) o no (0)"),
        Property("covered", "boolean", "Cubierto"),
        Property("e2sfca", "number", "Accesibilidad E2SFCA (por 10.000 hab.)"),
        Property("barrio_id", "integer", "Barrio (MSLINK) con mayor superficie"),
        Property("barrio", "string", "Barrio"),
        Property("district", "string", "Distrito"),
        Property("run_id", "integer", "Corrida del índice", in_tiles=False),
    ),
    order_by="id",
    minzoom=10,
    maxzoom=16,
    cache_seconds=60,
    is_analytics=True,
    style=(
        {
            "id": "hexagons-fill",
            "type": "fill",
            "layout": {"visibility": "none"},
            "paint": {
                "fill-color": HEXAGONS.expression(),  # layers/ramps.py: also the web map's legend
                "fill-opacity": 0.55,
                "fill-outline-color": "#ffffff",
            },
        },
    ),
    attribution="Monitor de Participación Ciudadana de Rosario; H3 (Uber)",
    role="hexagon_grid",
)
