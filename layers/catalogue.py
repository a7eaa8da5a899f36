"""Every published layer, by id. A new layer is a new module in layers/definitions/ listed here."""

from __future__ import annotations

from gis.edits import EditPolicy
from layers.definitions import (
    activities,
    barrio_index,
    barrios,
    district_index,
    districts,
    hexagons,
    instances,
    organizations,
)
from layers.layer import Layer

LAYERS: tuple[Layer, ...] = (
    districts.LAYER,
    barrios.LAYER,
    organizations.LAYER,
    instances.LAYER,
    activities.LAYER,
    hexagons.LAYER,
    barrio_index.LAYER,
    district_index.LAYER,
)

CATALOGUE: dict[str, Layer] = {layer.id: layer for layer in LAYERS}

# What the map draws: layers with a geometry (vector tiles, PMTiles, the MapLibre style).
MAP_LAYERS: tuple[Layer, ...] = tuple(layer for layer in LAYERS if layer.has_geometry)

# Editable layers in the order a file holding several must be written (a row may name one written before it).
EDIT_POLICIES: dict[str, EditPolicy] = {layer.id: layer.edit for layer in LAYERS if layer.edit is not None}


def get_layer(layer_id: str) -> Layer | None:
    return CATALOGUE.get(layer_id)


def get_map_layer(layer_id: str) -> Layer | None:
    layer = CATALOGUE.get(layer_id)
    return layer if layer is not None and layer.has_geometry else None
