"""Public surveys: survey links with a short code that expire, and the anonymous answers made through them.

No HTTP here: `api/surveys.py` serves the form and `cli/survey.py` makes links; both call these functions with a
connection opened by `gis.db.connect(url, actor=…)`.

What an answer keeps is what the method asks (docs: index methodology §1 and §6): one overall satisfaction score
from 1 to 5 about the instance, the themes the person would like to take part in, and, only if given, an age band,
a gender and the barrio they live in. Nothing that identifies a person is asked or stored: no name, contact,
address, IP address or time of day (`answered_on` is a date, in Rosario's time zone). Answers are published only
in aggregate, in `published.instance_satisfaction`, for groups of at least 5.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.config import Settings, get_settings

CITY_TZ = "America/Argentina/Cordoba"
DEFAULT_BASE = "http://127.0.0.1:8000"
# Codes are read off paper and typed on phones: lower case, no 0/o, 1/l/i. 31^8 ≈ 8.5e11 codes.
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 8
CODE_PATTERN = re.compile(r"[a-z0-9]{6,32}")  # what the database accepts (older or longer codes included)
DEFAULT_DAYS = 30
MAX_DAYS = 366
MAX_THEMES = 32

# The questions of the method: one overall satisfaction item (1–5). Interest themes, age band, gender and barrio
# of residence are the optional profile the index reads (participant diversity) and the CHECKs of the table allow.
SATISFACTION_QUESTION = "En general, ¿qué tan satisfecho o satisfecha estás con esta instancia de participación?"
SATISFACTION_SCALE = {
    1: "Muy insatisfecho/a",
    2: "Insatisfecho/a",
    3: "Ni satisfecho/a ni insatisfecho/a",
    4: "Satisfecho/a",
    5: "Muy satisfecho/a",
}
THEMES_QUESTION = "¿Sobre qué temas te interesaría participar?"
AGE_BANDS = {"16-24": "De 16 a 24 años", "25-34": "De 25 a 34 años", "35-49": "De 35 a 49 años",
             "50-64": "De 50 a 64 años", "65+": "65 años o más"}
GENDERS = {"female": "Mujer", "male": "Varón", "non_binary": "No binario", "other": "Otro",
           "prefer_not_to_say": "Prefiero no decirlo"}
FIELDS = ("satisfaction", "themes", "age_band", "gender", "barrio_id")


class SurveyError(ValueError):
    """A link cannot be made as asked (bad duration, unpublished instance, activity of another instance)."""


class NotFound(LookupError):
    """No such instance, activity or link."""


class LinkNotFound(NotFound):
    def __init__(self, code: str):
        super().__init__(f"no survey link {code!r}")
        self.code = code


class LinkClosed(Exception):
    """The link exists but takes no more answers: `reason` is expired, revoked or unpublished."""

    def __init__(self, link: dict, reason: str):
        super().__init__(f"survey link {link['code']!r} is {reason}")
        self.link, self.reason = link, reason


class InvalidAnswer(ValueError):
    """`errors` maps each refused field to a message in Spanish for the person answering."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# ---------------------------------------------------------------------------------------------- links
def public_base(settings: Settings | None = None) -> str:
    """Where residents reach the service: MONITOR_PUBLIC_URL (`public_url`), else the local default."""
    settings = settings or get_settings()
    return (settings.public_url or DEFAULT_BASE).rstrip("/")


def form_url(base: str, code: str) -> str:
    return f"{base.rstrip('/')}/encuesta/{code}"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


LINK_SELECT = """
SELECT l.id, l.code, l.instance_id, i.name AS instance_name, i.is_demo AS instance_is_demo,
       (p.id IS NOT NULL) AS instance_published,
       l.activity_id, a.title AS activity_title, a.starts_at AS activity_starts_at,
       (a.id IS NOT NULL AND a.deleted_at IS NOT NULL) AS activity_deleted,
       l.expires_at, l.revoked_at, l.created_by, l.created_at, (l.expires_at <= now()) AS expired,
       (SELECT count(*) FROM monitor.survey_responses r WHERE r.link_id = l.id)::integer AS responses
FROM monitor.survey_links l
JOIN monitor.instances i ON i.id = l.instance_id
LEFT JOIN published.instances p ON p.id = l.instance_id
LEFT JOIN monitor.activities a ON a.id = l.activity_id
"""


def link_status(link: dict) -> str:
    """open, or why it takes no answers: revoked, expired, unpublished (instance or activity withdrawn)."""
    if link["revoked_at"] is not None:
        return "revoked"
    if link["expired"]:
        return "expired"
    if not link["instance_published"] or link["activity_deleted"]:
        return "unpublished"
    return "open"


def _with_status(link: dict) -> dict:
    return {**link, "status": link_status(link)}


def find_link(conn: psycopg.Connection, code: str) -> dict | None:
    if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code):
        return None
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(LINK_SELECT + " WHERE l.code = %s", (code,)).fetchone()
    return _with_status(row) if row else None


def open_link(conn: psycopg.Connection, code: str) -> dict:
    """The link if it takes answers; LinkNotFound (unknown code) or LinkClosed (expired, revoked, withdrawn)."""
    link = find_link(conn, code)
    if link is None:
        raise LinkNotFound(code)
    if link["status"] != "open":
        raise LinkClosed(link, link["status"])
    return link


def list_links(conn: psycopg.Connection, instance_id: int | None = None) -> list[dict]:
    """Every link, newest first, with its status and how many answers came through it."""
    where, params = ("WHERE l.instance_id = %s", (instance_id,)) if instance_id is not None else ("", ())
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(f"{LINK_SELECT} {where} ORDER BY l.created_at DESC, l.id DESC", params).fetchall()
    return [_with_status(row) for row in rows]


def create_link(conn: psycopg.Connection, instance_id: int, activity_id: int | None = None,
                days: int = DEFAULT_DAYS) -> dict:
    """A new link to the survey about a published instance (or one of its activities), open for `days` days."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise SurveyError(f"days must be a whole number from 1 to {MAX_DAYS}")
    instance = conn.execute("SELECT i.id, (p.id IS NOT NULL) FROM monitor.instances i "
                            "LEFT JOIN published.instances p ON p.id = i.id WHERE i.id = %s",
                            (instance_id,)).fetchone()
    if instance is None:
        raise NotFound(f"no instance {instance_id}")
    if not instance[1]:
        raise SurveyError(f"instance {instance_id} is not published (pending, rejected or deleted): "
                          "residents could not see what the survey is about")
    if activity_id is not None:
        activity = conn.execute("SELECT instance_id, deleted_at IS NOT NULL FROM monitor.activities WHERE id = %s",
                                (activity_id,)).fetchone()
        if activity is None or activity[1]:
            raise NotFound(f"no activity {activity_id}")
        if activity[0] != instance_id:
            raise SurveyError(f"activity {activity_id} belongs to instance {activity[0]}, not {instance_id}")
    for _ in range(8):  # a collision is astronomically rare; retry with a new code if it happens
        code = new_code()
        try:
            with conn.transaction():
                conn.execute("INSERT INTO monitor.survey_links (code, instance_id, activity_id, expires_at) "
                             "VALUES (%s, %s, %s, now() + make_interval(days => %s))",
                             (code, instance_id, activity_id, days))
        except psycopg.errors.UniqueViolation:
            continue
        return find_link(conn, code)
    raise RuntimeError("could not draw an unused survey code")


def revoke_link(conn: psycopg.Connection, code: str) -> bool:
    """Close a link now; False when there is no such link or it was already revoked."""
    row = conn.execute("UPDATE monitor.survey_links SET revoked_at = now() WHERE code = %s AND revoked_at IS NULL "
                       "RETURNING id", (code,)).fetchone()
    return row is not None


def public_link(link: dict, base: str) -> dict:
    """A link as editors see it through the API and the CLI."""
    keys = ("code", "instance_id", "instance_name", "activity_id", "activity_title", "expires_at", "revoked_at",
            "created_by", "created_at", "status", "responses")
    url = form_url(base, link["code"])
    return {**{k: link[k] for k in keys}, "url": url, "qr": f"{url}/qr.svg"}


# ---------------------------------------------------------------------------------------------- answers
@dataclass(frozen=True)
class Choices:
    """What the form offers: theme code → Spanish label, barrio id (MSLINK) → name."""

    themes: dict[str, str]
    barrios: dict[int, str]


def choices(conn: psycopg.Connection) -> Choices:
    themes = conn.execute("SELECT code, label_es FROM published.themes ORDER BY label_es").fetchall()
    barrios = conn.execute("SELECT id, name FROM published.barrios ORDER BY name, id").fetchall()
    return Choices(dict(themes), dict(barrios))


@dataclass(frozen=True)
class Answer:
    satisfaction: int
    themes: tuple[str, ...] = ()
    age_band: str | None = None
    gender: str | None = None
    barrio_id: int | None = None


def _single(value: Any) -> Any:
    """A form field arrives as a list of strings, a JSON field as a value; blank means not answered."""
    if isinstance(value, list | tuple):
        values = [v for v in value if not (isinstance(v, str) and not v.strip())]
        if len(values) > 1:
            raise ValueError("several values")
        value = values[0] if values else None
    if isinstance(value, str):
        value = value.strip() or None
    return value


def _whole(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value):
        return int(value)
    raise ValueError("not a whole number")


def parse_answer(raw: Mapping[str, Any], options: Choices) -> Answer:
    """Check an answer from the form or from JSON; every problem is reported at once, in Spanish."""
    errors: dict[str, str] = {}
    for name in raw:
        if name not in FIELDS:
            errors[name] = "Esta pregunta no es parte de la encuesta."
    values: dict[str, Any] = {}
    try:
        satisfaction = _single(raw.get("satisfaction"))
        if satisfaction is None:
            errors["satisfaction"] = "Elegí qué tan satisfecho o satisfecha estás, del 1 al 5."
        elif (score := _whole(satisfaction)) not in SATISFACTION_SCALE:
            errors["satisfaction"] = f"La satisfacción va del 1 al 5; {score} está fuera de la escala."
        else:
            values["satisfaction"] = score
    except ValueError:
        errors["satisfaction"] = "La satisfacción es un número entero del 1 al 5."
    themes = raw.get("themes") or []
    themes = [themes] if isinstance(themes, str) else themes
    if not isinstance(themes, list | tuple) or not all(isinstance(t, str) for t in themes):
        errors["themes"] = "Los temas son una lista de códigos de tema."
    else:
        chosen = list(dict.fromkeys(t.strip() for t in themes if t.strip()))
        unknown = [t for t in chosen if t not in options.themes]
        if unknown:
            errors["themes"] = f"Tema desconocido: {', '.join(unknown[:5])}. Elegí temas de la lista."
        elif len(chosen) > MAX_THEMES:
            errors["themes"] = "Demasiados temas."
        else:
            values["themes"] = tuple(chosen)
    for name, allowed, message in (
            ("age_band", AGE_BANDS, "Elegí una franja de edad de la lista, o dejala en blanco."),
            ("gender", GENDERS, "Elegí una opción de género de la lista, o dejala en blanco.")):
        try:
            value = _single(raw.get(name))
        except ValueError:
            value = ""
        if value is not None and value not in allowed:
            errors[name] = message
        else:
            values[name] = value
    try:
        barrio = _single(raw.get("barrio_id"))
        if barrio is not None:
            barrio = _whole(barrio)
            if barrio not in options.barrios:
                raise ValueError("unknown barrio")
        values["barrio_id"] = barrio
    except ValueError:
        errors["barrio_id"] = "Elegí un barrio de Rosario de la lista, o dejalo en blanco."
    if errors:
        raise InvalidAnswer(errors)
    return Answer(**values)


def store_answer(conn: psycopg.Connection, link: dict, answer: Answer) -> int:
    """Store one answer through a link. The database takes the instance and activity from the link and refuses
    a closed link (LinkClosed here), so an answer racing the expiry is not stored."""
    try:
        with conn.transaction():
            row = conn.execute(
                "INSERT INTO monitor.survey_responses (link_id, kind, satisfaction, interest_themes, age_band, gender, "
                "respondent_barrio_id, answered_on) VALUES (%s, 'satisfaction', %s, %s, %s, %s, %s, "
                "(now() AT TIME ZONE %s)::date) RETURNING id",
                (link["id"], answer.satisfaction, list(answer.themes), answer.age_band, answer.gender,
                 answer.barrio_id, CITY_TZ)).fetchone()
    except psycopg.errors.CheckViolation as exc:
        if "is closed" in str(exc):
            raise LinkClosed(link, "expired") from None
        raise
    return row[0]
