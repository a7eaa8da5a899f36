"""Every published layer, by id. A new layer is a new module in layers/definitions/ listed here."""

from __future__ import annotations

from layers.definitions import activities, barrio_index, barrios, district_index, districts, hexagons, instances
from layers.layer import Layer

LAYERS: tuple[Layer, ...] = (
    districts.LAYER,
    barrios.LAYER,
    instances.LAYER,
    activities.LAYER,
    hexagons.LAYER,
    barrio_index.LAYER,
    district_index.LAYER,
)

CATALOGUE: dict[str, Layer] = {layer.id: layer for layer in LAYERS}


def get_layer(layer_id: str) -> Layer | None:
    return CATALOGUE.get(layer_id)
