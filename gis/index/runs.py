"""Storing an index run: the run record, the grid (once per resolution), and results by cell, barrio, district.

Bulk rows go through COPY; a run and all its results share one transaction, so readers see whole runs only.
Cell results and barrios' offers are versioned: a run writes only those that changed (see 0007 and 0019).
"""

from __future__ import annotations

import hashlib
import io
import json
import struct

import h3
import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql

from gis.index.grid import Grid, cell_polygons

LOCK_KEY = 5_000_001  # pg_advisory_xact_lock key: one index writer at a time


def copy_frame(conn: psycopg.Connection, table: str, frame: pd.DataFrame) -> None:
    """COPY a DataFrame into `table` (text format; NaN and None become NULL)."""
    buffer = io.StringIO()
    frame.to_csv(buffer, sep="\t", header=False, index=False, na_rep="\\N", lineterminator="\n")
    columns = ", ".join(f'"{c}"' for c in frame.columns)  # our own column names, never user input
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        copy.write(buffer.getvalue())


def stored_grid_signature(conn: psycopg.Connection, resolution: int) -> str | None:
    row = conn.execute("SELECT signature FROM monitor.h3_grids WHERE resolution = %s", (resolution,)).fetchone()
    return row[0] if row else None


def store_grid(conn: psycopg.Connection, grid: Grid, barrio_ids: np.ndarray, signature: str) -> None:
    """Replace the stored grid of this resolution (old cell results of it go with it)."""
    for table in ("index_cells", "h3_pieces", "h3_cells", "h3_grids"):  # no cascades: see 0003_index.sql
        conn.execute(sql.SQL("DELETE FROM {} WHERE resolution = %s").format(sql.Identifier("monitor", table)),
                     (grid.resolution,))
    conn.execute("INSERT INTO monitor.h3_grids (resolution, signature, cells, pieces) VALUES (%s, %s, %s, %s)",
                 (grid.resolution, signature, grid.size, len(grid.piece_cell)))
    hexagons = grid.hexagons_wgs84 if grid.hexagons_wgs84 is not None else cell_polygons(grid.cells, None)[0]
    copy_frame(conn, "monitor.h3_cells", pd.DataFrame({
        "resolution": grid.resolution,
        "h3": grid.cells,
        "h3_id": [h3.str_to_int(c) for c in grid.cells],
        "barrio_id": barrio_ids[grid.majority_barrio()],
        "centre_x": grid.centres[:, 0],
        "centre_y": grid.centres[:, 1],
        "geom": shapely.to_wkb(shapely.set_srid(hexagons, 4326), hex=True, include_srid=True),
    }))
    copy_frame(conn, "monitor.h3_pieces", pd.DataFrame({
        "resolution": grid.resolution,
        "h3": grid.cells[grid.piece_cell],
        "barrio_id": barrio_ids[grid.piece_barrio],
        "area_m2": grid.piece_area,
    }))


def load_grid(conn: psycopg.Connection, resolution: int, barrio_ids: np.ndarray) -> Grid | None:
    cells = conn.execute("SELECT h3, centre_x, centre_y FROM monitor.h3_cells WHERE resolution = %s "
                         "ORDER BY h3 COLLATE \"C\"",  # as build_grid sorts them
                         (resolution,)).fetchall()
    if not cells:
        return None
    pieces = conn.execute("SELECT h3, barrio_id, area_m2 FROM monitor.h3_pieces WHERE resolution = %s "
                          "ORDER BY barrio_id, h3 COLLATE \"C\"", (resolution,)).fetchall()  # build_grid's order
    names = np.array([c[0] for c in cells])
    position = pd.Series(np.arange(len(names)), index=names)
    barrio_position = pd.Series(np.arange(len(barrio_ids)), index=barrio_ids)
    frame = pd.DataFrame(pieces, columns=["h3", "barrio_id", "area"])
    return Grid(resolution=resolution, cells=names, centres=np.array([c[1:] for c in cells], dtype=float),
                piece_cell=position.loc[frame.h3].to_numpy(np.int64),
                piece_barrio=barrio_position.loc[frame.barrio_id].to_numpy(np.int64),
                piece_area=frame.area.to_numpy(float))


def insert_run(conn: psycopg.Connection, record: dict, snapshot_xmin: str | None = None) -> int:
    row = conn.execute(
        """INSERT INTO monitor.index_runs (method_version, parameters, population_method, input_counts, trigger,
                                           path, changed_instance_id, summary, snapshot_xmin)
           VALUES (%(method_version)s, %(parameters)s, %(population_method)s, %(input_counts)s, %(trigger)s,
                   %(path)s, %(changed_instance_id)s, %(summary)s, %(snapshot_xmin)s::xid8)
           RETURNING id""",
        {"snapshot_xmin": snapshot_xmin, **record, "parameters": json.dumps(record["parameters"]),
         "input_counts": json.dumps(record["input_counts"]), "summary": json.dumps(record["summary"])},
    ).fetchone()
    return row[0]


CELL_VALUES = ("population", "nearest_m", "covered", "e2sfca", "nearest_instance_id")


def current_cells(conn: psycopg.Connection, resolution: int) -> pd.DataFrame:
    """The cell results valid for the latest run at this resolution (what the next run compares against)."""
    rows = conn.execute(
        "SELECT h3, population, nearest_m, covered, e2sfca, nearest_instance_id FROM monitor.index_cells "
        "WHERE valid_to IS NULL AND resolution = %s", (resolution,)).fetchall()
    return pd.DataFrame(rows, columns=["h3", *CELL_VALUES])


def changed_cells(cells: pd.DataFrame, current: pd.DataFrame) -> np.ndarray:
    """Which rows of `cells` differ from the current results (or have none)."""
    merged = cells.merge(current, on="h3", how="left", suffixes=("", "_now"), indicator=True)
    same = merged["_merge"].eq("both").to_numpy(copy=True)
    for column in ("population", "nearest_m", "e2sfca"):
        a, b = merged[column].to_numpy(float), merged[column + "_now"].to_numpy(float)
        # Exactly: a tolerance would keep a value a full run would store a last bit differently.
        same &= (a == b) | (np.isnan(a) & np.isnan(b))
    same = same & merged.covered.eq(merged.covered_now).to_numpy()
    same = same & merged.nearest_instance_id.fillna(-1).eq(merged.nearest_instance_id_now.fillna(-1)).to_numpy()
    return ~same


def store_cells(conn: psycopg.Connection, run_id: int, cells: pd.DataFrame, current: pd.DataFrame) -> int:
    """Write only the cells whose values changed (and close their previous rows); returns how many were written.

    Results of another resolution stop being current too: the latest run's resolution is the published one.
    """
    changed = changed_cells(cells, current)
    resolution = int(cells.resolution.iloc[0]) if len(cells) else 0
    conn.execute("UPDATE monitor.index_cells SET valid_to = %s WHERE valid_to IS NULL "
                 "AND (resolution <> %s OR h3 = ANY(%s))", (run_id, resolution, cells.h3[changed].tolist()))
    copy_frame(conn, "monitor.index_cells", cells[changed].assign(run_id=run_id))
    return int(changed.sum())


def offer_digest(instance_ids: np.ndarray, distances: np.ndarray, by_scope: np.ndarray,
                 by_proximity: np.ndarray) -> str:
    """A fingerprint of one barrio's offer: equal offers, equal digests (NaN normalised, fixed byte order)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(np.asarray(instance_ids, dtype="<i8").tobytes())
    digest.update(np.where(np.isnan(distances), np.nan, distances).astype("<f8").tobytes())
    digest.update(np.asarray(by_scope, dtype=np.uint8).tobytes())
    digest.update(np.asarray(by_proximity, dtype=np.uint8).tobytes())
    return digest.hexdigest()


def store_offer(conn: psycopg.Connection, run_id: int, barrio_ids: np.ndarray, offer) -> int:
    """Write the offer of the barrios whose offer changed (closing their previous rows) and mark the run's offer
    readable; returns how many barrios were written. `offer` is a pillars.Offer sorted by (barrio, instance),
    its `instance` already instance ids."""
    current = dict(conn.execute("SELECT barrio_id, digest FROM monitor.index_offer_versions "
                                "WHERE valid_to IS NULL").fetchall())
    bounds = np.searchsorted(offer.barrio, np.arange(len(barrio_ids) + 1))
    rows, seen = [], set()
    for b in np.flatnonzero(np.diff(bounds)):
        part = slice(bounds[b], bounds[b + 1])
        barrio = int(barrio_ids[b])
        seen.add(barrio)
        digest = offer_digest(offer.instance[part], offer.distance_m[part], offer.by_scope[part],
                              offer.by_proximity[part])
        if current.get(barrio) != digest:
            rows.append((run_id, barrio, digest, offer.instance[part], offer.distance_m[part], offer.by_scope[part],
                         offer.by_proximity[part]))
    closed = [b for b in current if b not in seen] + [r[1] for r in rows if r[1] in current]
    conn.execute("UPDATE monitor.index_offer_versions SET valid_to = %s WHERE valid_to IS NULL "
                 "AND barrio_id = ANY(%s)", (run_id, closed))
    with conn.cursor().copy("COPY monitor.index_offer_versions (run_id, barrio_id, digest, instance_ids, distances, "
                            "by_scope, by_proximity) FROM STDIN (FORMAT binary)") as copy:
        copy.write(offer_copy(rows))
    conn.execute("INSERT INTO monitor.index_offer_runs (run_id) VALUES (%s)", (run_id,))
    return len(rows)


def offer_copy(rows: list[tuple]) -> bytes:
    """Offer rows in COPY's binary format, arrays packed by numpy: psycopg adapts lists element by element (and
    text needs every double printed), which cost a second a run with 100,000 instances."""
    parts = [b"PGCOPY\n\xff\r\n\x00", struct.pack(">ii", 0, 0)]
    for run_id, barrio, digest, instance_ids, distances, by_scope, by_proximity in rows:
        fields = [struct.pack(">i", int(run_id)), struct.pack(">i", int(barrio)), digest.encode(),
                  _binary_array(instance_ids, ">i4", 23), _binary_array(distances, ">f8", 701),
                  _binary_array(np.asarray(by_scope, bool), "u1", 16),
                  _binary_array(np.asarray(by_proximity, bool), "u1", 16)]
        parts.append(struct.pack(">h", len(fields)))
        for field in fields:
            parts.append(struct.pack(">i", len(field)))
            parts.append(field)
    parts.append(struct.pack(">h", -1))
    return b"".join(parts)


def _binary_array(values: np.ndarray, dtype: str, element_oid: int) -> bytes:
    """A one-dimensional array without NULLs as array_send writes it."""
    values = np.asarray(values)
    if len(values) == 0:
        return struct.pack(">iiI", 0, 0, element_oid)
    size = np.dtype(dtype).itemsize
    packed = np.empty(len(values), dtype=[("length", ">i4"), ("value", dtype)])
    packed["length"] = size
    packed["value"] = values
    return struct.pack(">iiIii", 1, 0, element_oid, len(values), 1) + packed.tobytes()


def latest_run(conn: psycopg.Connection) -> tuple[int, str | None] | None:
    """(id, snapshot_xmin as text) of the latest run, or None before the first."""
    return conn.execute("SELECT id, snapshot_xmin::text FROM monitor.index_runs ORDER BY id DESC LIMIT 1").fetchone()


def cells_of_run(conn: psycopg.Connection, run_id: int) -> list[tuple]:
    """(h3, values…) of any kept run: the rows computed by it or before it and still valid at it."""
    return conn.execute(
        "SELECT h3, population, nearest_m, covered, e2sfca, nearest_instance_id FROM monitor.index_cells "
        "WHERE run_id <= %s AND (valid_to IS NULL OR valid_to > %s) "
        "AND resolution = (SELECT (parameters ->> 'h3_resolution')::smallint FROM monitor.index_runs WHERE id = %s)",
        (run_id, run_id, run_id)).fetchall()


def prune(conn: psycopg.Connection, keep_runs: int) -> None:
    """Cell results superseded before the latest `keep_runs` runs, and those runs' offers, are dropped
    (barrio and district results of every run stay). Runs published as editions (monitor.index_editions) keep
    theirs whatever their age: the cells valid at an edition's run and its offer are never pruned."""
    oldest_kept = conn.execute("SELECT min(id) FROM (SELECT id FROM monitor.index_runs ORDER BY id DESC LIMIT %s) r",
                               (keep_runs,)).fetchone()[0]
    conn.execute("DELETE FROM monitor.index_cells c WHERE c.valid_to <= %s AND NOT EXISTS ("
                 "SELECT 1 FROM monitor.index_editions e WHERE c.run_id <= e.run_id AND c.valid_to > e.run_id)",
                 (oldest_kept,))
    conn.execute("DELETE FROM monitor.index_offer_runs k WHERE k.run_id < %s AND NOT EXISTS ("
                 "SELECT 1 FROM monitor.index_editions e WHERE e.run_id = k.run_id)", (oldest_kept,))
    conn.execute("DELETE FROM monitor.index_offer_versions o WHERE o.valid_to IS NOT NULL AND NOT EXISTS ("
                 "SELECT 1 FROM monitor.index_offer_runs k WHERE o.run_id <= k.run_id AND o.valid_to > k.run_id)")


def finish_run(conn: psycopg.Connection, run_id: int, duration_ms: float) -> None:
    conn.execute("UPDATE monitor.index_runs SET duration_ms = %s WHERE id = %s", (duration_ms, run_id))
