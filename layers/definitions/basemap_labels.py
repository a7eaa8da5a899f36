"""The local basemap's names: one label point per barrio and per district, placed inside the area."""

from layers.definitions.basemap_routes import BASEMAP, FONT
from layers.layer import Layer, Property

BOLD = ["DejaVu Sans Bold"]

LAYER = Layer(
    id="basemap_labels",
    title="Mapa base: nombres de barrios y distritos",
    description="Label points of the local basemap: each barrio's and each district's name at its centroid (or "
    "at a point inside the area when the centroid falls outside). `kind` is barrio or district; districts have "
    "id 1000 + the district's id, barrios their MSLINK.",
    source="published.basemap_labels",
    geometry_type="Point",
    properties=(
        Property("name", "string", "Nombre"),
        Property("kind", "string", "Tipo de lugar", enum=("barrio", "district")),
    ),
    minzoom=9,
    maxzoom=16,
    cache_seconds=3600,
    style=(
        {"id": "basemap_labels-district", "type": "symbol", "maxzoom": 12.5, "metadata": dict(BASEMAP),
         "filter": ["==", ["get", "kind"], "district"],
         "layout": {"text-field": ["get", "name"], "text-font": BOLD, "text-size": 13,
                    "text-transform": "uppercase", "text-letter-spacing": 0.08, "text-max-width": 7},
         "paint": {"text-color": "#3b3b58", "text-halo-color": "#ffffff", "text-halo-width": 1.6}},
        {"id": "basemap_labels-barrio", "type": "symbol", "minzoom": 12, "metadata": dict(BASEMAP),
         "filter": ["==", ["get", "kind"], "barrio"],
         "layout": {"text-field": ["get", "name"], "text-font": FONT,
                    "text-size": ["interpolate", ["linear"], ["zoom"], 12, 11, 16, 15], "text-max-width": 8},
         "paint": {"text-color": "#4f4636", "text-halo-color": "#ffffff", "text-halo-width": 1.4}},
    ),
    attribution="Municipalidad de Rosario, capa Barrios; distritos derivados",
)
