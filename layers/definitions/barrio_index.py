from layers.layer import Layer, Property
from layers.ramps import index_fills

PILLAR_NOTE = "0–1 (0 worst, 1 best)"

LAYER = Layer(
    id="barrio_index",
    title="Índice de Participación Ciudadana por barrio",
    description="Latest Citizen Participation Index run per barrio (id = barrio_id = MSLINK): the four pillars "
    f"({PILLAR_NOTE}): accessibility = coverage (share of residents within the coverage distance of an in-person "
    "instance), quality (minimum standards met), diversity (effective number of themes / themes), satisfaction "
    "(survey, never from fewer than 5 answers; imputed from the district when missing, see `imputed`); the "
    "composite (0–100), its rank and Monte Carlo rank interval, and the population without coverage. Method and "
    "parameters: GET /index/methodology.",
    source="published.barrio_index",
    geometry_type="MultiPolygon",
    properties=(
        Property("barrio_id", "integer", "Barrio (MSLINK)"),
        Property("name", "string", "Barrio"),
        Property("district", "string", "Distrito",
                 enum=("CENTRO", "NORTE", "NOROESTE", "OESTE", "SUDOESTE", "SUR")),
        Property("population", "number", "Población estimada"),
        Property("coverage", "number", f"Cobertura {PILLAR_NOTE}"),
        Property("accessibility", "number", f"Pilar accesibilidad {PILLAR_NOTE}"),
        Property("quality", "number", f"Pilar calidad {PILLAR_NOTE}"),
        Property("diversity", "number", f"Pilar diversidad {PILLAR_NOTE}"),
        Property("satisfaction", "number", f"Pilar satisfacción {PILLAR_NOTE}"),
        Property("composite", "number", "Índice compuesto (0–100)"),
        Property("rank", "integer", "Posición (1 = mejor)"),
        Property("rank_median", "number", "Posición mediana (Monte Carlo)"),
        Property("rank_p05", "number", "Posición, percentil 5"),
        Property("rank_p95", "number", "Posición, percentil 95"),
        Property("uncovered_population", "number", "Población sin instancia presencial cercana"),
        Property("mean_nearest_m", "number", "Distancia efectiva media a la instancia más cercana (m)"),
        Property("e2sfca", "number", "Accesibilidad E2SFCA (por 10.000 hab.)"),
        Property("imputed", "boolean", "Algún pilar imputado"),
        Property("satisfaction_imputed", "boolean", "Satisfacción imputada"),
        Property("satisfaction_source", "string", "Origen de la satisfacción",
                 enum=("residents", "offer", "district", "city", "missing")),
        Property("satisfaction_responses", "integer", "Respuestas (≥ 5) detrás de la satisfacción", in_tiles=False),
        Property("satisfaction_score", "number", "Satisfacción media (1–5)", in_tiles=False),
        Property("offer_count", "integer", "Instancias en la oferta del barrio"),
        Property("in_person_count", "integer", "Instancias presenciales en la oferta", in_tiles=False),
        Property("follow_through", "number", "Cumplimiento de compromisos (0–1, fuera del índice)", in_tiles=False),
        Property("effective_themes", "number", "Número efectivo de temas", in_tiles=False),
        Property("effective_kinds", "number", "Número efectivo de tipos (fuera del índice)", in_tiles=False),
        Property("state_share", "number", "Proporción estatal de la oferta", in_tiles=False),
        Property("cso_share", "number", "Proporción de la sociedad civil", in_tiles=False),
        Property("mixed_share", "number", "Proporción mixta", in_tiles=False),
        Property("run_id", "integer", "Corrida del índice", in_tiles=False),
        Property("theme_diversity", "number", f"Diversidad de temas {PILLAR_NOTE}", in_tiles=False),
        Property("participant_diversity", "number",
                 f"Diversidad de participantes (edad, género, barrio; método 2) {PILLAR_NOTE}", in_tiles=False),
        Property("participant_answers", "integer", "Respuestas (≥ 5) detrás de la diversidad de participantes",
                 in_tiles=False),
        Property("diversity_fallback", "boolean",
                 "Diversidad solo de temas: menos de 5 respuestas sobre la oferta (método 2)"),
    ),
    minzoom=0,
    maxzoom=16,
    simplify=True,
    cache_seconds=60,
    is_analytics=True,
    # One hidden fill per field (composite and pillars) with the ramps of layers/ramps.py, shared with the
    # district layer and the web map, so a value has one colour everywhere.
    style=(
        *index_fills("barrio_index"),
        {"id": "barrio_index-line", "type": "line", "layout": {"visibility": "none"},
         "paint": {"line-color": "#555555", "line-width": 0.6}},
    ),
    attribution="Monitor de Participación Ciudadana de Rosario; Municipalidad de Rosario (barrios)",
    role="index_barrio",
)
