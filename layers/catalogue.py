"""Every published layer, by id. A new layer is a new module in layers/definitions/ listed here."""

from __future__ import annotations

from gis.edits import EditPolicy
from layers.definitions import (
    activities,
    assessments,
    barrio_index,
    barrios,
    basemap_labels,
    basemap_routes,
    commitments,
    criteria,
    district_index,
    districts,
    experiences,
    hexagons,
    instances,
    organizations,
    satisfaction,
    survey_responses,
)
from layers.layer import Layer

LAYERS: tuple[Layer, ...] = (
    districts.LAYER,
    barrios.LAYER,
    organizations.LAYER,
    instances.LAYER,
    activities.LAYER,
    criteria.LAYER,
    assessments.LAYER,
    experiences.LAYER,
    commitments.LAYER,
    hexagons.LAYER,
    barrio_index.LAYER,
    district_index.LAYER,
    basemap_routes.LAYER,
    basemap_labels.LAYER,
)

CATALOGUE: dict[str, Layer] = {layer.id: layer for layer in LAYERS}

# What open data offers for download (api/downloads.py, data.json): every collection, and aggregate tables
# published only as downloads (the satisfaction of each instance: never one answer, never fewer than 5).
DOWNLOAD_LAYERS: tuple[Layer, ...] = (*LAYERS, satisfaction.LAYER)

# What the map draws: layers with a geometry (vector tiles, PMTiles, the MapLibre style).
MAP_LAYERS: tuple[Layer, ...] = tuple(layer for layer in LAYERS if layer.has_geometry and layer.tiled)

# The local basemap (MONITOR_BASEMAP, layers/basemap.py): streets and names drawn from what the monitor holds.
BASEMAP_LAYERS: tuple[Layer, ...] = (basemap_routes.LAYER, basemap_labels.LAYER)

# Editable layers in the order a file holding several must be written (a row may name one written before it).
# Survey answers are imported (paper forms) but never published one by one: a policy without a layer.
EDIT_POLICIES: dict[str, EditPolicy] = {
    **{layer.id: layer.edit for layer in LAYERS if layer.edit is not None},
    "survey_responses": survey_responses.EDIT,
}


def get_layer(layer_id: str) -> Layer | None:
    return CATALOGUE.get(layer_id)


def get_map_layer(layer_id: str) -> Layer | None:
    layer = CATALOGUE.get(layer_id)
    return layer if layer in MAP_LAYERS else None


def get_download_layer(layer_id: str) -> Layer | None:
    return next((layer for layer in DOWNLOAD_LAYERS if layer.id == layer_id), None)
