"""Helpers for the registry tests: raw SQL inserts (to test the database's own rules) and a valid instance."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

# A point in the middle of Rosario (inside a barrio) used as a default venue.
CENTRE = (-60.6505, -32.9468)


def valid_instance(**overrides) -> dict:
    """Values of a row monitor.instances accepts; tests change one thing to see it refused."""
    values = {
        "name": "Consejo barrial de prueba", "kind": "consejo_barrial", "promoter": "state",
        "themes": ["ambiente"], "modality": "in_person", "venue": f"SRID=4326;POINT({CENTRE[0]} {CENTRE[1]})",
        "scope": "city", "source": "test",
    }
    values.update(overrides)
    return values


def insert_row(conn: psycopg.Connection, table: str, values: dict, returning: str = "id"):
    """INSERT straight into monitor.<table>, bypassing gis.registry (geometries as EWKT text)."""
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING {}").format(
        sql.Identifier("monitor", table), sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(sql.Placeholder(c) for c in values), sql.Identifier(returning))
    return conn.execute(statement, values).fetchone()[0]


def as_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))
