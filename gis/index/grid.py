"""The H3 population grid (method §2): every cell overlapping a barrio, and each barrio's share of each cell.

Geometry is measured in EPSG:22185 (POSGAR 94 / Argentina 5). A cell's hexagon is taken with straight edges
between its H3 vertices, so neighbouring cells share edges exactly and the pieces of a barrio tile it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import h3
import numpy as np
import shapely
from pyproj import Transformer

METRIC_CRS = "EPSG:22185"


@lru_cache
def to_metric() -> Transformer:
    return Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)


@dataclass(frozen=True)
class Barrios:
    """The reference geography the grid is cut from, in one order (index b)."""

    ids: np.ndarray  # MSLINK
    names: list[str]
    districts: np.ndarray  # district code of each barrio
    population: np.ndarray  # P_b
    geoms_wgs84: np.ndarray  # shapely (Multi)Polygons, EPSG:4326
    geoms_metric: np.ndarray  # the same in EPSG:22185


@dataclass(frozen=True)
class Grid:
    """Cells (index i) and pieces: piece k is the part of cell piece_cell[k] inside barrio piece_barrio[k]."""

    resolution: int
    cells: np.ndarray  # H3 indexes as strings
    centres: np.ndarray  # (n, 2) cell centres in EPSG:22185
    piece_cell: np.ndarray
    piece_barrio: np.ndarray
    piece_area: np.ndarray  # m² of cell ∩ barrio
    hexagons_wgs84: np.ndarray | None = None  # the cells as EPSG:4326 polygons, kept when built here (for storage)

    @property
    def size(self) -> int:
        return len(self.cells)

    def piece_population(self, barrio_population: np.ndarray) -> np.ndarray:
        """P_ib = P_b · area(cell_i ∩ b) / area(b), with area(b) = Σ_i area(cell_i ∩ b) so Σ_i P_ib = P_b exactly."""
        barrio_area = np.bincount(self.piece_barrio, weights=self.piece_area, minlength=len(barrio_population))
        share = self.piece_area / barrio_area[self.piece_barrio]
        return barrio_population[self.piece_barrio] * share

    def cell_population(self, piece_population: np.ndarray) -> np.ndarray:
        return np.bincount(self.piece_cell, weights=piece_population, minlength=self.size)

    def majority_barrio(self) -> np.ndarray:
        """For display, each cell belongs to the barrio holding the largest part of its area (index b)."""
        order = np.lexsort((-self.piece_area, self.piece_cell))
        first = np.ones(len(order), dtype=bool)
        first[1:] = self.piece_cell[order][1:] != self.piece_cell[order][:-1]
        owner = np.empty(self.size, dtype=np.int64)
        owner[self.piece_cell[order][first]] = self.piece_barrio[order][first]
        return owner


def cell_polygons(cells: np.ndarray, transformer: Transformer | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Hexagons (or the rare pentagon) of `cells`: (EPSG:4326, EPSG:22185 when a transformer is given)."""
    rings = [h3.cell_to_boundary(c) for c in cells]
    wgs84, metric = np.empty(len(cells), dtype=object), np.empty(len(cells), dtype=object)
    for size in sorted({len(r) for r in rings}):
        idx = np.array([k for k, r in enumerate(rings) if len(r) == size])
        latlng = np.array([rings[k] for k in idx])  # (m, size, 2) as (lat, lng)
        lon, lat = latlng[..., 1], latlng[..., 0]
        wgs84[idx] = _closed_polygons(lon, lat)
        if transformer is not None:
            metric[idx] = _closed_polygons(*transformer.transform(lon, lat))
    return wgs84, (metric if transformer is not None else None)


def _closed_polygons(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    coords = np.stack([x, y], axis=-1)
    return shapely.polygons(np.concatenate([coords, coords[:, :1]], axis=1))


def cell_centres(cells: np.ndarray, transformer: Transformer) -> np.ndarray:
    latlng = np.array([h3.cell_to_latlng(c) for c in cells]).reshape(-1, 2)
    x, y = transformer.transform(latlng[:, 1], latlng[:, 0])
    return np.column_stack([x, y])


def overlapping_cells(geom_wgs84, resolution: int) -> list[str]:
    return h3.h3shape_to_cells_experimental(h3.geo_to_h3shape(geom_wgs84), resolution, contain="overlap")


def build_grid(barrios: Barrios, resolution: int) -> Grid:
    transformer = to_metric()
    candidates = [overlapping_cells(g, resolution) for g in barrios.geoms_wgs84]
    cells = np.array(sorted({c for found in candidates for c in found}))
    position = {c: i for i, c in enumerate(cells)}
    pair_cell = np.array([position[c] for found in candidates for c in found], dtype=np.int64)
    pair_barrio = np.repeat(np.arange(len(candidates)), [len(found) for found in candidates])

    # Pieces in one canonical order (barrio, then cell), the order load_grid reads them back in: sums over pieces
    # then add up in the same order whether the grid was just built or read, so results match to the last bit.
    order = np.lexsort((pair_cell, pair_barrio))
    pair_cell, pair_barrio = pair_cell[order], pair_barrio[order]
    wgs84, metric = cell_polygons(cells, transformer)
    areas = intersection_areas(metric[pair_cell], barrios.geoms_metric[pair_barrio])
    keep = areas > 0
    return Grid(resolution=resolution, cells=cells, centres=cell_centres(cells, transformer),
                piece_cell=pair_cell[keep], piece_barrio=pair_barrio[keep], piece_area=areas[keep],
                hexagons_wgs84=wgs84)


def intersection_areas(cells: np.ndarray, barrios: np.ndarray) -> np.ndarray:
    """area(cell ∩ barrio) per pair; cells wholly inside skip the (costly) overlay and keep their own area."""
    shapely.prepare(barrios)
    inside = shapely.contains_properly(barrios, cells)
    areas = shapely.area(cells)
    edge = ~inside
    areas[edge] = shapely.area(shapely.intersection(cells[edge], barrios[edge]))
    return areas
