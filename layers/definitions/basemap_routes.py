"""The local basemap's street skeleton: the municipal bus routes, drawn as streets under the monitor's layers."""

from layers.layer import Layer, Property

BASEMAP = {"monitor:basemap": "local"}  # style metadata: a layer of the local basemap (MONITOR_BASEMAP)
FONT = ["DejaVu Sans Book"]  # glyphs served by the monitor itself (/fonts/{fontstack}/{range}.pbf)

LAYER = Layer(
    id="basemap_routes",
    title="Mapa base: recorridos de colectivos",
    description="The municipal bus routes (Transporte Urbano de Pasajeros, 16/05/2022), one feature per line, "
    "branch and direction: the local basemap draws them as the city's street skeleton. Route lines, not stops.",
    source="published.basemap_routes",
    geometry_type="MultiLineString",
    properties=(
        Property("line", "string", "Línea"),
        Property("name", "string", "Nombre"),
        Property("branch", "string", "Línea y bandera"),
        Property("direction", "string", "Sentido", enum=("Ida", "Vuelta")),
        Property("route_code", "string", "Código de recorrido", in_tiles=False),
        Property("source", "string", "Fuente", in_tiles=False, filterable=False),
    ),
    minzoom=9,
    maxzoom=16,
    simplify=True,
    cache_seconds=3600,
    style=(
        {"id": "basemap_routes-casing", "type": "line", "metadata": dict(BASEMAP),
         "layout": {"line-join": "round", "line-cap": "round"},
         "paint": {"line-color": "#cfc7b8", "line-width": ["interpolate", ["linear"], ["zoom"], 10, 1.6, 16, 7]}},
        {"id": "basemap_routes-line", "type": "line", "metadata": dict(BASEMAP),
         "layout": {"line-join": "round", "line-cap": "round"},
         "paint": {"line-color": "#ffffff", "line-width": ["interpolate", ["linear"], ["zoom"], 10, 0.6, 16, 4.5]}},
        {"id": "basemap_routes-label", "type": "symbol", "minzoom": 15, "metadata": dict(BASEMAP),
         "layout": {"symbol-placement": "line", "text-field": ["get", "name"], "text-font": FONT,
                    "text-size": 11, "symbol-spacing": 400},
         "paint": {"text-color": "#6b6457", "text-halo-color": "#ffffff", "text-halo-width": 1.5}},
    ),
    attribution="Municipalidad de Rosario / Ente de la Movilidad de Rosario (recorridos TUP 2022)",
)
