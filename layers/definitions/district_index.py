from layers.layer import Layer, Property
from layers.ramps import index_fills

LAYER = Layer(
    id="district_index",
    title="Índice de Participación Ciudadana por distrito",
    description="Latest Citizen Participation Index run per municipal district: population-weighted means of its "
    "barrios' pillars (0–1), the composite (0–100), rank and Monte Carlo rank interval, and the population "
    "without coverage. District boundaries are approximate (see the districts layer).",
    source="published.district_index",
    geometry_type="MultiPolygon",
    properties=(
        Property("code", "string", "Distrito", enum=("CENTRO", "NORTE", "NOROESTE", "OESTE", "SUDOESTE", "SUR")),
        Property("name", "string", "Nombre"),
        Property("barrios", "integer", "Barrios"),
        Property("population", "number", "Población estimada"),
        Property("coverage", "number", "Cobertura (0–1)"),
        Property("accessibility", "number", "Pilar accesibilidad (0–1)"),
        Property("quality", "number", "Pilar calidad (0–1)"),
        Property("diversity", "number", "Pilar diversidad (0–1)"),
        Property("satisfaction", "number", "Pilar satisfacción (0–1)"),
        Property("composite", "number", "Índice compuesto (0–100)"),
        Property("rank", "integer", "Posición (1 = mejor)"),
        Property("rank_median", "number", "Posición mediana (Monte Carlo)"),
        Property("rank_p05", "number", "Posición, percentil 5"),
        Property("rank_p95", "number", "Posición, percentil 95"),
        Property("uncovered_population", "number", "Población sin instancia presencial cercana"),
        Property("mean_nearest_m", "number", "Distancia efectiva media (m)"),
        Property("e2sfca", "number", "Accesibilidad E2SFCA (por 10.000 hab.)"),
        Property("imputed", "boolean", "Algún barrio con satisfacción imputada"),
        Property("satisfaction_imputed_barrios", "integer", "Barrios con satisfacción imputada", in_tiles=False),
        Property("run_id", "integer", "Corrida del índice", in_tiles=False),
    ),
    minzoom=0,
    maxzoom=16,
    simplify=True,
    cache_seconds=60,
    is_analytics=True,
    style=index_fills("district_index"),  # the barrio layer's ramps (layers/ramps.py)
    attribution="Monitor de Participación Ciudadana de Rosario",
    role="index_district",
)
