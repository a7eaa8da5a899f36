"""The demo registry: invented, deterministic, and flagged `is_demo = true` on every record.

It exists so that the map, the index and the APIs can be seen working before the city's own registry is
loaded. The same seed, instance count and anchor date always give the same records. Dates are laid out
from the anchor (default: today in Rosario) so the agenda always shows coming months.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
from psycopg.types.json import Jsonb
from shapely import Point, wkb
from shapely.prepared import prep

from gis.bulk import delete_missing, point_ewkt, upsert_rows

TZ = ZoneInfo("America/Argentina/Cordoba")
SOURCE = "Datos de demostración generados (no son instancias reales)"
DEMO_NOTE = "Dato de demostración: instancia inventada para mostrar el monitor. "

THEMES = ["ambiente", "movilidad", "seguridad", "salud", "educacion", "cultura", "deporte", "genero", "juventudes",
          "personas_mayores", "discapacidad", "vivienda", "espacio_publico", "economia_social", "gobierno_abierto",
          "vida_barrial"]
CRITERIA = ["purpose_published", "participation_published", "agenda_ahead", "results_published",
            "accessible_venue", "inclusive_schedule", "government_response", "commitments_tracked"]
ACCESSIBILITY = ["wheelchair", "sign_language", "childcare", "evening", "weekend", "online_access", "easy_read"]
COMMITMENT_STATUSES = ["not_started", "limited", "substantial", "complete"]
# Invented first names for the demo's private notes (a referent to call): never published.
REFERENTS = ["Marta", "Julio", "Carla", "Nicolás", "Silvia", "Ramón", "Lucía", "Héctor"]
GENDERS, GENDER_SHARES = ["female", "male", "non_binary", "prefer_not_to_say"], [0.5, 0.42, 0.03, 0.05]


@dataclass(frozen=True)
class KindProfile:
    """How instances of one kind usually look: shares of the demo, and the choices they draw from."""
    share: float
    label: str
    promoters: tuple[str, ...]
    modalities: tuple[str, ...]
    scopes: tuple[str, ...]
    themes: tuple[str, ...] = ()
    frequency: str = "monthly"


KINDS: dict[str, KindProfile] = {
    "consejo_barrial": KindProfile(0.14, "Consejo Barrial", ("state", "mixed"), ("in_person", "hybrid"), ("barrio",),
                                   ("vida_barrial", "espacio_publico", "seguridad")),
    "presupuesto_participativo": KindProfile(0.10, "Presupuesto Participativo", ("state",),
                                             ("in_person", "hybrid", "online"), ("district",),
                                             ("gobierno_abierto", "espacio_publico"), "yearly"),
    "vecinal": KindProfile(0.16, "Vecinal", ("cso",), ("in_person",), ("barrio",), ("vida_barrial",)),
    "thematic_council": KindProfile(0.09, "Consejo", ("state", "mixed"), ("in_person", "hybrid"), ("city",),
                                    ("genero", "juventudes", "personas_mayores", "discapacidad", "ambiente")),
    "roundtable": KindProfile(0.13, "Mesa", ("mixed", "state", "cso"), ("in_person", "hybrid"),
                              ("barrio", "district"), ("salud", "educacion", "vivienda", "economia_social")),
    "public_hearing": KindProfile(0.05, "Audiencia Pública", ("state",), ("in_person", "hybrid"),
                                  ("city", "district"), ("movilidad", "ambiente", "espacio_publico"), "irregular"),
    "digital_process": KindProfile(0.10, "Proceso en Rosario Participa", ("state",), ("online",),
                                   ("city", "district"), ("gobierno_abierto", "movilidad", "cultura"), "permanent"),
    "cso_initiative": KindProfile(0.20, "Iniciativa", ("cso", "mixed"), ("in_person", "hybrid", "online"),
                                  ("barrio", "district", "city"), ("cultura", "deporte", "ambiente", "juventudes")),
    "interdistrict_council": KindProfile(0.03, "Consejo Interdistrital", ("state",), ("in_person", "hybrid"),
                                         ("city",), ("gobierno_abierto", "vida_barrial"), "quarterly"),
}

ORGANIZATIONS = [
    ("Secretaría de Proximidad y Participación [demo]", "government_area"),
    ("Secretaría de Ambiente [demo]", "government_area"),
    ("Secretaría de Desarrollo Humano [demo]", "government_area"),
    ("Secretaría de Cultura [demo]", "government_area"),
    ("Área de Juventudes [demo]", "government_area"),
    ("Área de Género y Diversidad [demo]", "government_area"),
    ("Concejo Municipal, comisión de participación [demo]", "government_area"),
    ("Red de Clubes Barriales [demo]", "cso"),
    ("Colectivo Ambiental del Oeste [demo]", "cso"),
    ("Asociación Civil Puentes [demo]", "cso"),
    ("Fundación Ciudad Abierta [demo]", "cso"),
    ("Cooperativa de Trabajo La Huerta [demo]", "cso"),
    ("Centro Comunitario Sur [demo]", "cso"),
    ("Mesa de Organizaciones de Ludueña [demo]", "cso"),
    ("Biblioteca Popular del Norte [demo]", "cso"),
    ("Federación de Vecinales [demo]", "vecinal"),
    ("Universidad, Observatorio Social [demo]", "university"),
    ("Facultad de Arquitectura, taller barrial [demo]", "university"),
    ("Escuela Secundaria Orientada [demo]", "school"),
]

TOPIC_WORDS = {
    "ambiente": "Ambiente", "movilidad": "Movilidad", "seguridad": "Convivencia", "salud": "Salud",
    "educacion": "Educación", "cultura": "Cultura", "deporte": "Deporte", "genero": "Género",
    "juventudes": "Juventudes", "personas_mayores": "Personas Mayores", "discapacidad": "Inclusión",
    "vivienda": "Hábitat", "espacio_publico": "Espacio Público", "economia_social": "Economía Social",
    "gobierno_abierto": "Gobierno Abierto", "vida_barrial": "Vida Barrial",
}


@dataclass
class Barrio:
    mslink: int
    name: str
    district: str
    population: float
    geometry: object


@dataclass
class DemoRegistry:
    organizations: list[dict] = field(default_factory=list)
    instances: list[dict] = field(default_factory=list)  # each with "organization" = an organization external_id
    standards: list[dict] = field(default_factory=list)  # "instance" = an instance external_id
    commitments: list[dict] = field(default_factory=list)
    activities: list[dict] = field(default_factory=list)
    surveys: list[dict] = field(default_factory=list)
    experiences: list[dict] = field(default_factory=list)


def _point_in(rng: np.random.Generator, barrio: Barrio) -> Point:
    """A uniform random point inside the barrio (rejection sampling in its bounding box)."""
    minx, miny, maxx, maxy = barrio.geometry.bounds
    shape = prep(barrio.geometry.buffer(-0.0002) if barrio.geometry.area > 2e-6 else barrio.geometry)
    for _ in range(1000):
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if shape.contains(p):
            return p
    return barrio.geometry.representative_point()


def _pick(rng: np.random.Generator, options, p=None):
    return options[int(rng.choice(len(options), p=p))]


def generate(seed: int, count: int, barrios: list[Barrio], anchor: date) -> DemoRegistry:
    rng = np.random.default_rng(seed)
    registry = DemoRegistry()
    for i, (name, kind) in enumerate(ORGANIZATIONS, start=1):
        registry.organizations.append({"external_id": f"demo:org:{i:02d}", "name": name, "kind": kind,
                                       "source": SOURCE, "is_demo": True,
                                       "description": "Organización ficticia de los datos de demostración."})
    state_orgs = [o["external_id"] for o in registry.organizations if o["kind"] == "government_area"]
    civil_orgs = [o["external_id"] for o in registry.organizations if o["kind"] != "government_area"]

    barrios = sorted(barrios, key=lambda b: b.mslink)
    weights = np.array([b.population for b in barrios])
    weights = weights / weights.sum()
    kinds = list(KINDS)
    shares = np.array([KINDS[k].share for k in kinds])
    shares = shares / shares.sum()

    for n in range(1, count + 1):
        # Cycle through kinds first so every kind appears even in a small demo, then draw by share.
        kind = kinds[n - 1] if n <= len(kinds) else _pick(rng, kinds, shares)
        profile = KINDS[kind]
        promoter = _pick(rng, profile.promoters)
        modality = _pick(rng, profile.modalities)
        scope = _pick(rng, profile.scopes)
        barrio = _pick(rng, barrios, weights)
        topics = list(profile.themes) + THEMES
        n_themes = int(rng.integers(1, 4))
        themes = sorted({_pick(rng, topics[: len(profile.themes) + 4]) if j == 0 else _pick(rng, topics)
                         for j in range(n_themes)})
        place = barrio.name if scope == "barrio" else (
            f"Distrito {barrio.district.title()}" if scope == "district" else "Rosario")
        name = f"{profile.label} {TOPIC_WORDS[themes[0]]} – {place}"
        if kind in ("consejo_barrial", "vecinal"):
            name = f"{profile.label} {barrio.name}" + (f" {n}" if rng.random() < 0.3 else "")
        organization = _pick(rng, state_orgs if promoter == "state" else civil_orgs if promoter == "cso"
                             else state_orgs + civil_orgs)
        status = _pick(rng, ["active", "paused", "ended"], [0.86, 0.09, 0.05])
        moderation = "approved"
        if promoter == "cso" and rng.random() < 0.08:
            moderation = _pick(rng, ["pending", "rejected"], [0.6, 0.4])
        venue = None if modality == "online" else _point_in(rng, barrio)
        start = anchor - timedelta(days=int(rng.integers(60, 3000)))
        key = f"demo:instance:{n:04d}"
        registry.instances.append({
            "external_id": key, "name": name, "kind": kind, "promoter": promoter, "organization": organization,
            "description": DEMO_NOTE + f"Espacio de participación sobre {', '.join(TOPIC_WORDS[t] for t in themes)}.",
            "decides": "Prioriza proyectos y propuestas para el territorio y hace seguimiento de su ejecución.",
            "how_it_works": "Se reúne periódicamente en plenario abierto; las decisiones se toman por consenso.",
            "how_to_participate": "Abierto a vecinos y vecinas mayores de 16 años; inscripción en la primera reunión.",
            "themes": themes, "modality": modality,
            "venue": point_ewkt(venue.x, venue.y) if venue else None,
            "venue_address": f"Calle Ficticia {int(rng.integers(100, 9000))}" if venue else None,
            "online_url": f"https://participa.example.org/procesos/{n}" if modality != "in_person" else None,
            "scope": scope,
            "scope_barrio_id": barrio.mslink if scope == "barrio" else None,
            "scope_district_code": barrio.district if scope == "district" else None,
            "schedule": _pick(rng, ["Martes 19 h", "Jueves 18.30 h", "Sábados 10 h", "Miércoles 20 h"]),
            "frequency": profile.frequency if rng.random() < 0.7 else _pick(rng, ["weekly", "biweekly", "monthly"]),
            "accessibility": sorted({_pick(rng, ACCESSIBILITY) for _ in range(int(rng.integers(0, 4)))}),
            "public_contact": f"participa+demo{n}@example.org",
            # Editors only, never published; made from n, not drawn, so the other records stay as they were.
            "private_notes": f"Dato de demostración (privado): referente {REFERENTS[n % len(REFERENTS)]}, "
                             f"celular 341 15 {500 + n % 200}-{1000 + (n * 7919) % 9000}.",
            "status": status, "start_date": start,
            "end_date": anchor - timedelta(days=int(rng.integers(1, 50))) if status == "ended" else None,
            "source": SOURCE, "moderation": moderation,
            "moderation_reason": "Demo: no cumple los criterios de publicación" if moderation == "rejected" else None,
            "is_demo": True,
        })
        maturity = rng.beta(2.5, 2.0)
        for criterion in CRITERIA:
            registry.standards.append({"instance": key, "criterion": criterion, "met": bool(rng.random() < maturity),
                                       "assessed_on": anchor - timedelta(days=int(rng.integers(5, 120))),
                                       "assessed_by": "Equipo del monitor (demo)", "is_demo": True})
        if promoter in ("state", "mixed") and rng.random() < 0.55:
            for c in range(int(rng.integers(1, 4))):
                made = start + timedelta(days=int(rng.integers(10, 400)))
                registry.commitments.append({
                    "external_id": f"{key}:commitment:{c + 1}", "instance": key,
                    "description": _pick(rng, ["Obra de iluminación en la plaza", "Nuevo recorrido de colectivo",
                                               "Programa de talleres para jóvenes", "Reparación de veredas",
                                               "Punto verde de reciclaje", "Publicación de actas en línea"]),
                    "made_on": made, "due_date": made + timedelta(days=int(rng.integers(90, 540))),
                    "status": _pick(rng, COMMITMENT_STATUSES, [0.25, 0.25, 0.2, 0.3]),
                    "government_response": "Respuesta registrada (demo)." if rng.random() < 0.6 else None,
                    "source": SOURCE, "is_demo": True,
                })
        if status == "active":
            for a in range(int(rng.integers(1, 5))):
                day = anchor + timedelta(days=int(rng.integers(1, 150)))
                hour = _pick(rng, [10, 18, 19, 20]) if day.weekday() < 5 else _pick(rng, [10, 11, 16])
                starts = datetime.combine(day, time(hour, 0), tzinfo=TZ)
                online = modality == "online" or (modality == "hybrid" and rng.random() < 0.3)
                registry.activities.append({
                    "external_id": f"{key}:activity:{a + 1}", "instance": key,
                    "title": _pick(rng, ["Reunión plenaria", "Taller de propuestas", "Asamblea abierta",
                                         "Recorrido barrial", "Jornada de votación", "Encuentro informativo"]),
                    "description": DEMO_NOTE.strip(), "starts_at": starts, "ends_at": starts + timedelta(hours=2),
                    "online_url": f"https://participa.example.org/encuentros/{n}-{a + 1}" if online else None,
                    "registration_required": bool(rng.random() < 0.3), "source": SOURCE, "is_demo": True,
                })
        if moderation == "approved" and rng.random() < 0.65:
            for _ in range(int(rng.integers(1, 16))):
                resident = rng.random() < 0.7
                registry.surveys.append({
                    "instance": key, "kind": "satisfaction", "satisfaction": int(rng.integers(1, 6)),
                    "interest_themes": [],
                    "respondent_barrio_id": barrio.mslink if resident else None,
                    "age_band": _pick(rng, ["16-24", "25-34", "35-49", "50-64", "65+"]),
                    "gender": _pick(rng, GENDERS, GENDER_SHARES),
                    "answered_on": anchor - timedelta(days=int(rng.integers(1, 200))), "is_demo": True,
                })
    for _ in range(200):
        barrio = _pick(rng, barrios, weights)
        registry.surveys.append({
            "instance": None, "kind": "interest", "interest": int(rng.integers(1, 6)),
            "interest_themes": sorted({_pick(rng, THEMES) for _ in range(int(rng.integers(1, 4)))}),
            "respondent_barrio_id": barrio.mslink if rng.random() < 0.8 else None,
            "age_band": _pick(rng, ["16-24", "25-34", "35-49", "50-64", "65+"]),
            "gender": _pick(rng, GENDERS, GENDER_SHARES),
            "answered_on": anchor - timedelta(days=int(rng.integers(1, 200))), "is_demo": True,
        })
    add_experiences(registry, np.random.default_rng(seed + 1), anchor)
    return registry


def add_experiences(registry: DemoRegistry, rng: np.random.Generator, anchor: date) -> None:
    """Records of meetings already held, for about half of the published instances, and the commitments that
    came out of some of them. Their own random stream, so the rest of the demo stays as it was."""
    for instance in registry.instances:
        if instance["moderation"] != "approved" or rng.random() < 0.5:
            continue
        for k in range(int(rng.integers(1, 4))):
            attendance = int(rng.integers(6, 80))
            women = int(rng.binomial(attendance, 0.55))
            young = int(rng.binomial(attendance, 0.2))
            registry.experiences.append({
                "external_id": f"{instance['external_id']}:experience:{k + 1}", "instance": instance["external_id"],
                "held_on": anchor - timedelta(days=int(rng.integers(7, 300))), "attendance": attendance,
                "participant_profile": {"gender": {"female": women, "male": attendance - women},
                                        "age_band": {"16-24": young, "25-34": attendance - young}},
                "minutes_url": f"https://participa.example.org/actas/{instance['external_id'].split(':')[-1]}-{k + 1}"
                if rng.random() < 0.6 else None,
                "proposals_count": int(rng.integers(0, 12)),
                "lessons_learned": "Dato de demostración: convocar con más anticipación." if rng.random() < 0.4
                else None,
                "source": SOURCE, "is_demo": True,
            })


def read_barrios(conn: psycopg.Connection) -> list[Barrio]:
    rows = conn.execute("SELECT mslink, name, district_code, population, ST_AsBinary(geom) FROM monitor.barrios "
                        "ORDER BY mslink").fetchall()
    if not rows:
        raise RuntimeError("no barrios loaded: run `monitor load geography` first")
    return [Barrio(m, n, d, p, wkb.loads(bytes(g))) for m, n, d, p, g in rows]


def _resolve(rows: list[dict], ref: str, column: str, ids: dict) -> list[dict]:
    out = []
    for row in rows:
        row = dict(row)
        target = row.pop(ref)
        row[column] = ids[target] if target is not None else None
        out.append(row)
    return out


def load_demo(url: str, seed: int, count: int = 300, anchor: date | None = None) -> dict:
    """Upsert the demo registry (by external ids) in one transaction; real records are never touched."""
    anchor = anchor or datetime.now(TZ).date()
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SELECT set_config('monitor.actor', 'loader:demo', true)")
        demo = generate(seed, count, read_barrios(conn), anchor)
        kept: list = []
        org_ids = upsert_rows(conn, "monitor.organizations", demo.organizations, returning="id", kept_local=kept)
        instances = _resolve(demo.instances, "organization", "organization_id", org_ids)
        instance_ids = upsert_rows(conn, "monitor.instances", instances, returning="id", kept_local=kept)
        upsert_rows(conn, "monitor.instance_standards", _resolve(demo.standards, "instance", "instance_id",
                                                                 instance_ids), key=("instance_id", "criterion"))
        experiences = [{**e, "participant_profile": Jsonb(e["participant_profile"])} for e in demo.experiences]
        upsert_rows(conn, "monitor.experiences", _resolve(experiences, "instance", "instance_id", instance_ids))
        upsert_rows(conn, "monitor.commitments", _resolve(demo.commitments, "instance", "instance_id", instance_ids))
        upsert_rows(conn, "monitor.activities", _resolve(demo.activities, "instance", "instance_id", instance_ids))
        # Survey answers have no natural key; demo answers are replaced as a whole (real answers stay).
        conn.execute("DELETE FROM monitor.survey_responses WHERE is_demo")
        surveys = _resolve(demo.surveys, "instance", "instance_id", instance_ids)
        columns = sorted({k for s in surveys for k in s})
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO monitor.survey_responses ({', '.join(columns)}) "  # fixed column names, not input
                f"VALUES ({', '.join('%(' + c + ')s' for c in columns)})",
                [{c: s.get(c) for c in columns} for s in surveys])
        removed = 0
        for table in ("monitor.activities", "monitor.commitments", "monitor.experiences"):
            removed += delete_missing(conn, table, [r["external_id"] for r in getattr(demo, table.split(".")[1])],
                                      "is_demo")
        removed += delete_missing(conn, "monitor.instances", [r["external_id"] for r in demo.instances], "is_demo")
    return {"seed": seed, "anchor": anchor.isoformat(), "organizations": len(demo.organizations),
            "instances": len(demo.instances), "activities": len(demo.activities),
            "commitments": len(demo.commitments), "standards": len(demo.standards),
            "experiences": len(demo.experiences), "kept_local_edits": kept,
            "survey_responses": len(demo.surveys), "removed": removed}
