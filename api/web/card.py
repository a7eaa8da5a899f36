"""GET /instances/{id}/card: everything the map's instance card shows, in one request, from `published.*`."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from psycopg_pool import AsyncConnectionPool

from api.agenda import AgendaFilter, activity_json, fetch_activities
from api.commitments import STATUS_LABELS as COMMITMENT_STATUS
from api.commitments import follow_through_of
from api.database import fetch_rows, get_pool
from api.errors import Problem
from api.http import base_url

router = APIRouter(tags=["map"])

NEXT_ACTIVITIES = 5
LABELS = {
    "promoter": {"state": "Estado", "cso": "Sociedad civil", "mixed": "Mixto"},
    "modality": {"in_person": "Presencial", "online": "En línea", "hybrid": "Híbrida"},
    "scope": {"barrio": "Barrio", "district": "Distrito", "city": "Ciudad"},
    "status": {"active": "Activa", "paused": "En pausa", "ended": "Finalizada"},
    "frequency": {"weekly": "Semanal", "biweekly": "Quincenal", "monthly": "Mensual", "quarterly": "Trimestral",
                  "yearly": "Anual", "irregular": "Irregular", "permanent": "Permanente"},
}

INSTANCE = """
SELECT i.id, i.name, i.description, i.kind, i.kind_label, i.promoter, i.organization, i.themes,
       ARRAY(SELECT t.label_es FROM unnest(i.themes) WITH ORDINALITY u(code, n)
             JOIN published.themes t ON t.code = u.code ORDER BY u.n) AS theme_labels,
       i.decides, i.how_it_works, i.how_to_participate, i.modality, i.venue_address, i.online_url, i.scope,
       i.scope_barrio_id, i.scope_district, i.scope_note, i.schedule, i.frequency, i.accessibility, i.contact,
       i.status, i.start_date, i.end_date, i.source, i.source_url, i.is_demo, i.barrio_id, i.barrio, i.district,
       i.standards_met, i.updated_at, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat
FROM published.instances i WHERE i.id = %s
"""
# Every criterion of the checklist, met or not, so the card can say which ones are missing.
STANDARDS = """
SELECT c.code AS criterion, c.ordinal, c.label_es AS label, coalesce(s.met, false) AS met,
       s.met IS NOT NULL AS assessed, s.evidence_url, s.assessed_on
FROM published.standard_criteria c
LEFT JOIN published.instance_standards s ON s.criterion = c.code AND s.instance_id = %s
ORDER BY c.ordinal
"""
# `is_due`: the follow-through's "due" (api/commitments.py, the index's definition), today in Rosario.
COMMITMENTS = """
SELECT id, description, made_on, due_date, status, progress, overdue, due_date <= current_date AS is_due,
       evidence_url, government_response, origin, source, is_demo
FROM published.commitments WHERE instance_id = %s ORDER BY due_date NULLS LAST, id
"""
# The view publishes only groups of at least 5 answers: fewer and there is no row at all.
SATISFACTION = "SELECT responses, mean_score FROM published.instance_satisfaction WHERE instance_id = %s"
ORGANIZATIONS = "SELECT organization_id AS id, organization AS name, role FROM published.instance_organizations " \
                "WHERE instance_id = %s ORDER BY role, organization"


def with_labels(instance: dict) -> dict:
    labels = {f"{field}_label": LABELS[field].get(instance[field]) for field in LABELS if instance.get(field)}
    return {**instance, **labels}


@router.get("/instances/{instance_id}/card", summary="The instance card of the map: the instance, its next "
            "activities, standards met, commitments with their follow-through and satisfaction (only with at least 5 "
            "answers)")
async def instance_card(request: Request, instance_id: int, pool: AsyncConnectionPool = Depends(get_pool)):
    found = await fetch_rows(pool, INSTANCE, (instance_id,))
    if not found:
        raise Problem(404, "Not Found", f"no published instance with id {instance_id}")
    base = base_url(request)
    upcoming = AgendaFilter(instance=instance_id, limit=NEXT_ACTIVITIES)
    activities = await fetch_activities(pool, upcoming, datetime.now(UTC))
    standards = await fetch_rows(pool, STANDARDS, (instance_id,))
    commitments = await fetch_rows(pool, COMMITMENTS, (instance_id,))
    satisfaction = await fetch_rows(pool, SATISFACTION, (instance_id,))
    return {
        "instance": with_labels(found[0]),
        "organizations": await fetch_rows(pool, ORGANIZATIONS, (instance_id,)),
        "next_activities": [activity_json(row, base) for row in activities],
        "standards": standards,
        "standards_met": sum(s["met"] for s in standards),
        "standards_total": len(standards),
        "commitments": [{**{k: v for k, v in c.items() if k != "is_due"},
                         "status_label": COMMITMENT_STATUS[c["status"]]} for c in commitments],
        "follow_through": follow_through_of(commitments),
        "satisfaction": satisfaction[0] if satisfaction else None,
        "links": {
            "agenda_ics": f"{base}/instances/{instance_id}/agenda.ics",
            "feature": f"{base}/collections/instances/items/{instance_id}",
            "map": f"{base}/map#instancia={instance_id}",
            "commitments": f"{base}/compromisos?instance={instance_id}",
            "commitments_json": f"{base}/commitments?instance={instance_id}",
        },
    }
