"""The MapLibre style of the monitor, generated from the catalogue: one vector source `monitor` (the all-layers
tiles), source layers named by layer id, each layer's own style entries, plus a generic cluster symbol for point
layers. Offline by construction: the only glyphs are the service's own (/fonts/…, for the local basemap's labels),
and a third-party basemap comes in only when MONITOR_BASEMAP asks for one (layers/basemap.py).
Each style layer's metadata names its catalogue layer (`monitor:layer`) and that layer's role
(`monitor:layer-role`); the index fills also name their field and ramp (`monitor:field`, layers/ramps.py)."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from layers.basemap import BasemapStyle
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


def _has_text(entry: dict) -> bool:
    return entry["type"] == "symbol" and "text-field" in entry.get("layout", {})


def _draw_key(entry: dict) -> tuple[int, int]:
    # By kind (fills, lines, circles, labels); within a kind the local basemap's layers (streets) come first.
    return DRAW_ORDER.get(entry["type"], 9), 0 if entry.get("metadata", {}).get("monitor:basemap") else 1


def monitor_style(layers: Sequence[Layer], tilejson_url: str, center: tuple[float, float] = (-60.66, -32.95),
                  zoom: float = 11.5, *, glyphs_url: str | None = None, basemap: BasemapStyle | None = None) -> dict:
    """The style of `layers` over the all-layers tiles. Labels need glyphs: without `glyphs_url` (the service's
    own /fonts/…) or a basemap bringing its own, text layers are left out and the style loads nothing else.
    `basemap` (layers/basemap.py) adds a third-party basemap's sources, its layers under the monitor's and its
    labels over them; the local basemap is the catalogue's basemap layers, already in `layers`."""
    styled = sorted((entry for layer in layers for entry in layer_styles(layer)), key=_draw_key)  # stable
    glyphs = (basemap.glyphs if basemap and basemap.glyphs else None) or glyphs_url
    under = [entry for entry in basemap.under if entry["type"] != "background"] if basemap else []
    over = list(basemap.over) if basemap else []
    if glyphs is None:
        styled, over = [e for e in styled if not _has_text(e)], [e for e in over if not _has_text(e)]
    background = next((entry for entry in (basemap.under if basemap else []) if entry["type"] == "background"),
                      {"id": "background", "type": "background", "paint": {"background-color": "#fbfaf7"}})
    doc = {
        "version": 8,
        "name": "Monitor de Participación Ciudadana de Rosario",
        "metadata": {"monitor:layers": [layer.id for layer in layers]},
        "center": list(center),
        "zoom": zoom,
        "sources": {SOURCE: {"type": "vector", "url": tilejson_url}, **(basemap.sources if basemap else {})},
        "layers": [background, *under, *styled, *over],
    }
    if basemap is not None:
        doc["metadata"]["monitor:basemap"] = basemap.kind
        if basemap.note:
            doc["metadata"]["monitor:basemap-note"] = basemap.note
        if basemap.sprite:
            doc["sprite"] = basemap.sprite
    if glyphs and any(_has_text(entry) for entry in doc["layers"]):
        doc["glyphs"] = glyphs
    return doc
