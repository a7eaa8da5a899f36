"""The back-office's forms, read from the registry's own models: one field per model field, in the model's order,
its control chosen from the field's type and rules (a one-line text, prose, a URL, a choice among the model's
values…), with Spanish labels. A field added to a model appears in the form; the rules stay in the model and the
edit engine, which the pages reach through the feature API: the forms check nothing themselves.
"""

from __future__ import annotations

import types
from datetime import date, datetime
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from api.commitments import STATUS_LABELS as COMMITMENT_STATUS
from api.web.card import LABELS as CARD_LABELS
from gis import registry
from gis.auth import Principal
from gis.edits import EditPolicy
from layers.catalogue import get_layer

# The collections the back-office edits, with how a record is named in Spanish.
COLLECTIONS = {
    "instances": {"one": "instancia", "new": "Proponer una instancia", "title": "name"},
    "activities": {"one": "actividad", "new": "Agregar una actividad", "title": "title"},
    "experiences": {"one": "registro de experiencia", "new": "Registrar lo que produjo una actividad",
                    "title": "held_on"},
    "commitments": {"one": "compromiso", "new": "Registrar un compromiso", "title": "description"},
    "organizations": {"one": "organización", "new": "Agregar una organización", "title": "name"},
    "criteria": {"one": "estándar mínimo", "new": "Agregar un estándar mínimo", "title": "label_es"},
    "assessments": {"one": "evaluación de un estándar", "new": "Evaluar un estándar", "title": "criterion"},
}
EDITORS_ONLY = ("organizations", "criteria", "assessments")  # create: organisations cannot (the API says 403 too)

# Fields that name another record: the page offers them as choices from these lists.
SOURCES = {"kind": "kinds", "themes": "themes", "scope_barrio_id": "barrios", "scope_district_code": "districts",
           "organization_id": "organizations", "instance_id": "instance", "activity_id": "activities",
           "experience_id": "experiences", "criterion": "criteria"}
# Fields only editors set (the API refuses moderation fields and another owner from organisations).
EDITOR_FIELDS = {"moderation", "moderation_reason", "organization_id", "is_demo", "private_notes"}
# Fields most people leave as they are: shown folded under "Más datos".
ADVANCED = {"external_id", "source", "source_url", "is_demo", "timezone", "moderation", "moderation_reason",
            "private_notes"}
DEFAULT_SOURCE = "Gestión del monitor"
# `moderation` offers no default: left empty, the API decides (an editor's record is approved, an organisation's
# waits for moderation).

LABELS: dict[str, tuple[str, str]] = {
    "name": ("Nombre", "Como la conoce la gente del barrio."),
    "description": ("Descripción", "Qué es y para qué sirve, en pocas líneas."),
    "kind": ("Tipo de instancia", ""),
    "promoter": ("Quién la promueve", ""),
    "organization_id": ("Organización", "La organización responsable (si la hay)."),
    "themes": ("Temas", "Elegí uno o más."),
    "decides": ("Qué se decide", "Qué puede decidir o proponer la gente que participa."),
    "how_it_works": ("Cómo funciona", "Por ejemplo: asamblea mensual abierta, con orden del día previo."),
    "how_to_participate": ("Cómo participar", "Qué tiene que hacer una vecina o un vecino para sumarse."),
    "modality": ("Modalidad", ""),
    "venue": ("Lugar", "Tocá el mapa donde se reúne, o escribí sus coordenadas."),
    "venue_address": ("Dirección", "Calle y número, o una referencia."),
    "online_url": ("Enlace para participar en línea", "La dirección web completa (https://…)."),
    "scope": ("Alcance", "A quiénes abarca."),
    "scope_barrio_id": ("Barrio que abarca", "Si el alcance es un barrio y no marcaste el lugar."),
    "scope_district_code": ("Distrito que abarca", "Si el alcance es un distrito y no marcaste el lugar."),
    "scope_note": ("Nota sobre el alcance", ""),
    "schedule": ("Días y horarios", "Por ejemplo: primer martes de cada mes, 18 h."),
    "frequency": ("Frecuencia", ""),
    "accessibility": ("Accesibilidad", "Lo que ofrece para que todas las personas puedan participar."),
    "contact": ("Contacto", "Teléfono, correo o redes para consultas."),
    "public_contact": ("Contacto institucional", "Un solo canal de la organización, que se publica: un correo, "
                       "una página web o un teléfono. Nunca los datos de una persona."),
    "private_notes": ("Notas privadas", "Solo las ve el equipo del monitor: nunca se publican."),
    "status": ("Estado", ""),
    "start_date": ("Fecha de inicio", ""),
    "end_date": ("Fecha de fin", ""),
    "source": ("Fuente", "De dónde sale esta información."),
    "source_url": ("Enlace a la fuente", ""),
    "moderation": ("Moderación", ""),
    "moderation_reason": ("Motivo de la moderación", "Lo lee la organización que lo envió."),
    "is_demo": ("Dato de demostración", "Marcar solo para datos inventados."),
    "external_id": ("Identificador externo", "El código de este registro en otro sistema (opcional)."),
    "instance_id": ("Instancia", ""),
    "title": ("Título", "Por ejemplo: Asamblea de vecinos."),
    "starts_at": ("Comienza", "Día y hora (hora de Rosario)."),
    "ends_at": ("Termina", ""),
    "timezone": ("Zona horaria", ""),
    "registration_url": ("Enlace de inscripción", ""),
    "registration_required": ("Requiere inscripción", ""),
    "activity_id": ("Actividad", "La actividad de la instancia a la que se refiere (si corresponde)."),
    "held_on": ("Fecha en que se realizó", ""),
    "attendance": ("Asistencia", "Cantidad de personas que participaron."),
    "participant_profile": ("Quiénes participaron", "Solo cantidades, nunca nombres."),
    "minutes_url": ("Enlace al acta o a los resultados", ""),
    "proposals_count": ("Cantidad de propuestas surgidas", ""),
    "proposals": ("Propuestas", "Las propuestas que surgieron."),
    "lessons_learned": ("Aprendizajes", "Qué funcionó y qué cambiarían."),
    "made_on": ("Fecha del compromiso", ""),
    "due_date": ("Plazo", "Hasta cuándo se comprometió."),
    "progress": ("Avance (%)", "De 0 a 100."),
    "evidence_url": ("Enlace a la evidencia", ""),
    "government_response": ("Respuesta del gobierno", ""),
    "experience_id": ("Registro de experiencia", "El registro del que surgió (si corresponde)."),
    "proposal_ref": ("Referencia de la propuesta", "Por ejemplo: PP-2026-07."),
    "website": ("Sitio web", ""),
    "code": ("Código", "En minúsculas y sin espacios; no cambia nunca."),
    "ordinal": ("Orden", ""),
    "label_es": ("Nombre (español)", ""),
    "label_en": ("Nombre (inglés)", ""),
    "guidance_es": ("Orientación", "Cómo cumplir este estándar."),
    "criterion": ("Estándar", ""),
    "method": ("Método", ""),
    "note": ("Nota", ""),
    "assessed_by": ("Evaluado por", "Quién lo comprobó."),
    "assessed_on": ("Fecha de evaluación", ""),
}
# Per collection, where a field means something else.
COLLECTION_LABELS = {
    ("commitments", "description"): ("Qué se comprometió el gobierno", ""),
    ("commitments", "status"): ("Estado de cumplimiento", ""),
    ("assessments", "status"): ("Resultado", ""),
    ("organizations", "kind"): ("Tipo de organización", ""),
    ("organizations", "description"): ("Descripción", "Qué hace la organización."),
    ("activities", "description"): ("Descripción", "De qué se trata la actividad."),
    ("activities", "venue"): ("Lugar", "Solo si no es el lugar de la instancia."),
}

OPTION_LABELS: dict[str, dict[str, str]] = {
    **CARD_LABELS,
    "accessibility": {"wheelchair": "Accesible en silla de ruedas", "sign_language": "Lengua de señas",
                      "childcare": "Espacio de cuidado para niñas y niños", "evening": "Se reúne de noche",
                      "weekend": "Se reúne el fin de semana", "online_access": "Se puede participar en línea",
                      "easy_read": "Materiales de lectura fácil", "interpretation": "Interpretación a otros idiomas"},
    "moderation": {"pending": "Pendiente de revisión", "approved": "Aprobada", "rejected": "Rechazada"},
    "gender": {"female": "Mujeres", "male": "Varones", "non_binary": "No binarias", "other": "Otras identidades",
               "prefer_not_to_say": "Prefirieron no decirlo"},
    "age_band": {"16-24": "16 a 24 años", "25-34": "25 a 34 años", "35-49": "35 a 49 años", "50-64": "50 a 64 años",
                 "65+": "65 años o más"},
    "method": {"derived": "Derivada por el monitor", "verified": "Verificada por una persona"},
}
COLLECTION_OPTIONS = {
    ("activities", "status"): {"scheduled": "Programada", "cancelled": "Cancelada", "held": "Realizada"},
    ("commitments", "status"): COMMITMENT_STATUS,
    ("assessments", "status"): {"met": "Cumple", "not_met": "No cumple", "not_applicable": "No corresponde"},
    ("organizations", "kind"): {"government_area": "Área de gobierno", "cso": "Organización de la sociedad civil",
                                "vecinal": "Vecinal", "university": "Universidad", "school": "Escuela",
                                "company": "Empresa", "international": "Organismo internacional", "other": "Otra"},
}


def policy_of(collection: str) -> EditPolicy | None:
    layer = get_layer(collection)
    return layer.edit if layer is not None and collection in COLLECTIONS else None


def _unwrap(annotation: Any) -> tuple[Any, list, bool]:
    """(the bare type, every validator and constraint on the way, whether None is allowed)."""
    metadata, optional = [], False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            metadata.extend(annotation.__metadata__)
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(get_args(annotation))
            annotation = args[0]
        else:
            return annotation, metadata, optional


def _options(collection: str, name: str, values: tuple) -> list[dict]:
    labels = COLLECTION_OPTIONS.get((collection, name)) or OPTION_LABELS.get(name, {})
    return [{"value": v, "label": labels.get(v, v)} for v in values]


def _validators(metadata: list) -> set:
    return {getattr(m, "func", None) for m in metadata}


PROFILE_PARTS = {"gender": "Por género", "age_band": "Por edad", "barrio": "Por barrio donde viven"}


def _profile_part(collection: str, name: str, info) -> dict:
    """One count table of an aggregate profile (a dict from a choice, or a barrio, to a count)."""
    key, _, _ = _unwrap(get_args(info.annotation)[0])
    part = {"name": name, "label": PROFILE_PARTS.get(name, name)}
    if get_origin(key) is Literal:
        return {**part, "options": _options(collection, name, get_args(key))}
    return {**part, "source": "barrios"}


def field_spec(collection: str, policy: EditPolicy, name: str, info) -> dict:
    base, metadata, optional = _unwrap(info.annotation)
    metadata = [*info.metadata, *metadata]
    label, hint = COLLECTION_LABELS.get((collection, name)) or LABELS.get(name, (name, ""))
    spec: dict[str, Any] = {"name": name, "label": label, "hint": hint, "required": info.is_required(),
                            "advanced": name in ADVANCED}
    default = info.get_default(call_default_factory=False) if not info.is_required() else None
    if isinstance(default, str | int | float | bool | list) and default != "" and name != "moderation":
        spec["default"] = default
    if name == "source":
        spec["default"] = DEFAULT_SOURCE
    if name == policy.geometry_field:
        spec["widget"] = "place"
    elif get_origin(base) is Literal:
        spec.update(widget="select", options=_options(collection, name, get_args(base)))
    elif get_origin(base) is list:
        item, _, _ = _unwrap(get_args(base)[0])
        spec["widget"] = "checkboxes"
        spec["required"] = spec["required"] or any(getattr(m, "min_length", 0) for m in metadata)
        if get_origin(item) is Literal:
            spec["options"] = _options(collection, name, get_args(item))
        else:
            spec["source"] = SOURCES.get(name, name)
    elif base is bool:
        spec["widget"] = "checkbox"
    elif isinstance(base, type) and issubclass(base, BaseModel):
        spec.update(widget="profile",
                    parts=[_profile_part(collection, part, p) for part, p in base.model_fields.items()])
    elif name in SOURCES:
        spec.update(widget="select", source=SOURCES[name])
    elif base is datetime:
        spec["widget"] = "datetime"
    elif base is date:
        spec["widget"] = "date"
    elif base is int:
        spec["widget"] = "number"
    elif registry._http_url in _validators(metadata):
        spec["widget"] = "url"
    elif registry._one_line in _validators(metadata) or any(getattr(m, "pattern", None) for m in metadata):
        spec["widget"] = "text"
    else:
        spec["widget"] = "textarea"  # prose: line breaks allowed
    spec["nullable"] = optional
    return spec


def form_spec(collection: str, caller: Principal) -> dict:
    """The form of one collection for this caller: what it may set, in the model's order."""
    policy = policy_of(collection)
    fields = []
    for name, info in policy.model.model_fields.items():
        if not caller.is_editor and name in EDITOR_FIELDS:
            continue
        fields.append(field_spec(collection, policy, name, info))
    names = COLLECTIONS[collection]
    return {"collection": collection, "one": names["one"], "new_title": names["new"], "title_field": names["title"],
            "geometry_field": policy.geometry_field, "moderated": policy.moderated, "fields": fields,
            "has_document": policy.has_document,
            "can_create": caller.is_editor or collection not in EDITORS_ONLY}
