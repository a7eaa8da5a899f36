"""Loads the real participation spaces among the municipal sites as instances: the vecinales (neighbourhood
associations) and the Centros Municipales de Distrito that have coordinates. Their source is named on every
record; nothing about them is invented (no schedule, no checklist: those stay empty until someone assesses them).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg

from data.districts.loader import manifest, source_path
from gis.bulk import point_ewkt, upsert_rows

MUNICIPALITY = "Municipalidad de Rosario"


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def vecinal_name(raw: str) -> str:
    return re.sub(r"^Vec\.\s*", "Vecinal ", raw.strip())


def street_address(row) -> str:
    street = str(row.calle).title()
    number = f"{int(row.altura)}" + (" bis" if int(row.bis or 0) else "")
    return f"{street} {number}"


def vecinal_records(data_dir: Path, verify: bool = True) -> tuple[list[dict], list[dict]]:
    conf = manifest()["sites"]
    sites = gpd.read_file(source_path(data_dir, conf, verify))
    vecinales = sites[sites.tipo.map(conf["kinds"]) == "vecinal"].sort_values("nombre")
    organizations, instances = [], []
    for row in vecinales.itertuples():
        name = vecinal_name(row.nombre)
        key = f"imusa:vecinal:{slug(name)}"
        organizations.append({"external_id": key, "name": name, "kind": "vecinal", "source": conf["source"],
                              "description": f"Asociación vecinal (jurisdicción: {row.vecinal})", "is_demo": False})
        instances.append({
            "external_id": key, "name": name, "kind": "vecinal", "promoter": "cso", "organization": key,
            "description": f"Asociación vecinal con sede en {street_address(row)}; "
                           f"jurisdicción vecinal: {row.vecinal}.",
            "how_to_participate": "Acercarse a la sede de la vecinal: las asociaciones vecinales están abiertas "
                                  "a los vecinos y vecinas de su jurisdicción.",
            "themes": ["vida_barrial"], "modality": "in_person",
            "venue": point_ewkt(row.geometry.x, row.geometry.y), "venue_address": street_address(row),
            "scope": "barrio", "scope_note": f"Jurisdicción vecinal: {row.vecinal}", "status": "active",
            "source": conf["source"], "moderation": "approved", "is_demo": False,
        })
    return organizations, instances


def district_centre_records(data_dir: Path, verify: bool = True) -> tuple[list[dict], list[str]]:
    conf = manifest()["district_centres"]
    table = pd.read_csv(source_path(data_dir, conf, verify))
    located = table.dropna(subset=["lon", "lat"])
    instances = [{
        "external_id": f"cmd:{row.distrito.lower()}", "name": row.nombre_cmd, "kind": "district_centre",
        "promoter": "state", "organization": "municipality",
        "description": "Centro Municipal de Distrito: sede descentralizada del gobierno municipal, donde se "
                       "realizan trámites y funcionan espacios de participación del distrito.",
        "themes": ["gobierno_abierto", "vida_barrial"], "modality": "in_person",
        "venue": point_ewkt(row.lon, row.lat), "venue_address": row.direccion,
        "scope": "district", "scope_district_code": row.distrito, "status": "active",
        "source": f"{conf['source']}; coordenadas: {row.coord_fuente}", "moderation": "approved", "is_demo": False,
    } for row in located.itertuples()]
    # Centres without coordinates are not placed: geocoding needs the municipal service, unreachable offline.
    skipped = sorted(table[table.lon.isna() | table.lat.isna()].nombre_cmd)
    return instances, skipped


def load_sites(url: str, data_dir: Path, verify: bool = True) -> dict:
    organizations, vecinales = vecinal_records(Path(data_dir), verify)
    centres, skipped = district_centre_records(Path(data_dir), verify)
    municipality = {"external_id": "org:municipalidad-rosario", "name": MUNICIPALITY, "kind": "government_area",
                    "source": "Municipalidad de Rosario", "description": "Gobierno de la ciudad de Rosario",
                    "is_demo": False}
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SELECT set_config('monitor.actor', 'loader:sites', true)")
        kept: list = []
        org_ids = upsert_rows(conn, "monitor.organizations", [municipality, *organizations], returning="id",
                              kept_local=kept)
        org_ids["municipality"] = org_ids[municipality["external_id"]]
        rows = []
        for record in [*vecinales, *centres]:
            org = record.pop("organization")
            record["organization_id"] = org_ids[org]
            rows.append(record)
        # One column set for every row: executemany needs the same keys throughout.
        columns = sorted({k for r in rows for k in r})
        rows = [{c: r.get(c) for c in columns} for r in rows]
        upsert_rows(conn, "monitor.instances", rows, kept_local=kept)
    # Records people corrected here since the last load keep their corrections (gis/bulk.py).
    return {"vecinales": len(vecinales), "district_centres": len(centres),
            "district_centres_without_coordinates": skipped, "kept_local_edits": kept}
