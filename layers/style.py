"""The MapLibre style of the monitor, generated from the catalogue: one vector source `monitor` (the all-layers
tiles), source layers named by layer id, each layer's own style entries, plus a generic cluster symbol for point
layers. Offline by construction: no glyphs, sprites or remote basemap (circles, fills and lines only).
Each style layer's metadata names its catalogue layer (`monitor:layer`) and that layer's role
(`monitor:layer-role`); the index fills also name their field and ramp (`monitor:field`, layers/ramps.py)."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from layers.layer import Layer

SOURCE = "monitor"
DRAW_ORDER = {"background": 0, "fill": 1, "fill-extrusion": 2, "line": 3, "circle": 4, "heatmap": 5}
IS_CLUSTER = [">", ["coalesce", ["get", "point_count"], 1], 1]
NOT_CLUSTER = ["!", IS_CLUSTER]


def _base_colour(layer: Layer) -> str:
    for entry in layer.style:
        colour = entry.get("paint", {}).get("circle-color")
        if isinstance(colour, str):
            return colour
    return "#4a4a68"


def _with_filter(entry: dict, condition: list) -> dict:
    entry["filter"] = ["all", entry["filter"], condition] if "filter" in entry else condition
    return entry


def cluster_style(layer: Layer) -> dict:
    """Clusters (low zooms, or tiles too dense to show every point) as circles sized by their count."""
    return {
        "id": f"{layer.id}-clusters",
        "type": "circle",
        "source": SOURCE,
        "source-layer": layer.id,
        "minzoom": layer.minzoom,
        "filter": IS_CLUSTER,
        "paint": {
            "circle-color": _base_colour(layer),
            "circle-opacity": 0.75,
            "circle-radius": ["interpolate", ["linear"], ["get", "point_count"], 2, 6, 20, 11, 200, 18, 2000, 26],
            "circle-stroke-color": "#ffffff",
            "circle-stroke-width": 1.5,
        },
        "metadata": {"monitor:layer": layer.id, "monitor:role": "clusters",
                     **({"monitor:layer-role": layer.role} if layer.role else {})},
    }


def layer_styles(layer: Layer) -> list[dict]:
    entries = []
    for entry in layer.style:
        styled = copy.deepcopy(entry)
        styled.update({"source": SOURCE, "source-layer": layer.id})
        styled.setdefault("minzoom", layer.minzoom)
        styled.setdefault("metadata", {})["monitor:layer"] = layer.id
        if layer.role:
            styled["metadata"]["monitor:layer-role"] = layer.role
        if layer.geometry_type == "Point":
            _with_filter(styled, NOT_CLUSTER)
        entries.append(styled)
    if layer.geometry_type == "Point":
        entries.append(cluster_style(layer))
    return entries


def monitor_style(layers: Sequence[Layer], tilejson_url: str, center: tuple[float, float] = (-60.66, -32.95),
                  zoom: float = 11.5) -> dict:
    styled = [entry for layer in layers for entry in layer_styles(layer)]
    styled.sort(key=lambda entry: DRAW_ORDER.get(entry["type"], 9))  # stable: catalogue order within a kind
    return {
        "version": 8,
        "name": "Monitor de Participación Ciudadana de Rosario",
        "metadata": {"monitor:layers": [layer.id for layer in layers]},
        "center": list(center),
        "zoom": zoom,
        "sources": {SOURCE: {"type": "vector", "url": tilejson_url}},
        "layers": [{"id": "background", "type": "background", "paint": {"background-color": "#fbfaf7"}}, *styled],
    }
