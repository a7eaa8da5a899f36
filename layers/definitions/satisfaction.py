"""The aggregated satisfaction of each instance, placed at its venue: published only as open data (downloads,
data.json), not as a feature collection or tiles. Privacy: only instances with at least 5 answers, and only their
count and mean (published.satisfaction reads published.instance_satisfaction, 0015_open_data.sql)."""

from layers.definitions.instances import KINDS
from layers.layer import Layer, Property

LAYER = Layer(
    id="satisfaction",
    title="Satisfacción con las instancias de participación",
    description="Aggregated answers of the anonymous satisfaction survey per instance (1 = very unsatisfied, "
    "5 = very satisfied): the number of answers and their mean, only for instances with at least 5 answers "
    "(no smaller group is ever published); `satisfaction` maps the mean to 0–1 as the index does. Placed at the "
    "instance's venue (online-only instances have no geometry).",
    source="published.satisfaction",
    geometry_type="Point",
    properties=(
        Property("instance_id", "integer", "Instancia"),
        Property("name", "string", "Nombre de la instancia"),
        Property("kind", "string", "Tipo", enum=KINDS),
        Property("promoter", "string", "Promotor", enum=("state", "cso", "mixed")),
        Property("modality", "string", "Modalidad", enum=("in_person", "online", "hybrid")),
        Property("scope", "string", "Alcance", enum=("barrio", "district", "city")),
        Property("themes", "array", "Temas"),
        Property("responses", "integer", "Respuestas (al menos 5)"),
        Property("mean_score", "number", "Satisfacción media (1–5)"),
        Property("satisfaction", "number", "Satisfacción (0–1)"),
        Property("barrio_id", "integer", "Barrio (MSLINK)"),
        Property("barrio", "string", "Barrio"),
        Property("district", "string", "Distrito"),
        Property("is_demo", "boolean", "Dato de demostración"),
    ),
    cache_seconds=300,
    tiled=False,
    attribution="Monitor de Participación Ciudadana de Rosario (encuesta de satisfacción)",
)
