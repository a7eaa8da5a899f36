"""What a published layer is. Endpoints never name a layer: they read these definitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from gis.edits import EditPolicy

PropertyType = Literal["string", "integer", "number", "boolean", "date", "datetime", "array", "object"]
# What a layer is for on a map, so clients find it by role rather than by id (GET /map/config.json): the barrio
# and district boundaries, the registry's instance points, the agenda's activity points, the H3 accessibility
# grid, and the index by barrio and by district. At most one layer of the catalogue per role.
LayerRole = Literal["barrio_boundaries", "district_boundaries", "registry_points", "agenda_points", "hexagon_grid",
                    "index_barrio", "index_district"]


@dataclass(frozen=True)
class Property:
    name: str
    type: PropertyType
    title: str
    description: str = ""
    in_tiles: bool = True  # carried in vector tiles (keep tiles small: long texts stay out)
    filterable: bool = True  # offered as a Part 1 equality filter and a CQL2 queryable
    enum: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Layer:
    id: str  # collection id and tile layer name: no dots (QGIS issue 51663)
    title: str
    description: str
    source: str  # a view or table in the `published` schema (or an analytics result table)
    # None: a table without geometry (features and CSV only, no tiles)
    geometry_type: Literal["Point", "MultiLineString", "MultiPolygon", "Polygon"] | None
    properties: tuple[Property, ...]
    id_column: str = "id"
    id_type: Literal["integer", "string"] = "integer"
    geom_column: str = "geom"  # EPSG:4326
    mercator_column: str = "geom_3857"  # stored Web Mercator copy: tiles filter on its index
    minzoom: int = 0
    maxzoom: int = 16
    cluster_below_zoom: int | None = None  # points: clustered with counts under this zoom
    # Points counted per grid cell on write (tiles.point_cells and point_members, migration 0019): clustered and
    # dense tiles read those counts instead of grouping every point live, and other tiles find their points' ids
    # there. Needs the migration's triggers on the source's base table.
    point_cells: bool = False
    simplify: bool = False  # polygons: simplify by pixel size per zoom
    # Tiles: a SQL condition on the source's columns chosen by zoom, `{z}` bound as a parameter (never formatted
    # in; write mod() rather than %), e.g. one H3 resolution per zoom: "resolution = LEAST(9, GREATEST(7, {z} - 5))".
    zoom_filter: str | None = None
    datetime_columns: tuple[str, str] | None = None  # (start, end) for `datetime` filters
    order_by: str = "id"
    cache_seconds: int = 60
    tiled: bool = True  # drawn in vector tiles, PMTiles and the style (a point per commitment would only crowd them)
    edit: EditPolicy | None = None  # how Part 4 writes reach the registry (None: read-only)
    is_analytics: bool = False
    style: tuple[dict, ...] = field(default_factory=tuple)  # MapLibre style layers (source/source-layer added)
    attribution: str = ""
    role: LayerRole | None = None  # what the layer is for on a map (see LayerRole)

    @property
    def has_geometry(self) -> bool:
        return self.geometry_type is not None

    @property
    def editable(self) -> bool:
        return self.edit is not None

    def get_property(self, name: str) -> Property | None:
        return next((p for p in self.properties if p.name == name), None)

    @property
    def property_names(self) -> list[str]:
        return [p.name for p in self.properties]

    @property
    def tile_relations(self) -> tuple[str, ...]:
        """Relations the layer's tiles read besides `source` (and what it reads): the tile cache depends on them."""
        return ("tiles.point_cells", "tiles.point_members") if self.point_cells else ()

    @property
    def tile_properties(self) -> list[str]:
        return [p.name for p in self.properties if p.in_tiles]
