"""Helpers of the survey tests: make links as the CLI and the API do, count what was stored."""

from __future__ import annotations

import httpx

from gis import surveys
from gis.db import connect


def make_link(database_url: str, instance: int, activity: int | None = None, days: int = 30) -> str:
    with connect(database_url, actor="test:survey") as conn:
        return surveys.create_link(conn, instance, activity, days)["code"]


def expire(database_url: str, code: str) -> None:
    """Move a link's creation and expiry into the past, as if its days had run out."""
    with connect(database_url, actor="test:survey") as conn:
        conn.execute("ALTER TABLE monitor.survey_links DISABLE TRIGGER check_survey_link")
        conn.execute("UPDATE monitor.survey_links SET created_at = now() - interval '10 days', "
                     "expires_at = now() - interval '1 day' WHERE code = %s", (code,))
        conn.execute("ALTER TABLE monitor.survey_links ENABLE TRIGGER check_survey_link")


def answers(world, code: str | None = None) -> int:
    if code is None:
        return world.sql("SELECT count(*) FROM monitor.survey_responses WHERE instance_id = %s",
                         (world.instance,))[0][0]
    return world.sql("SELECT count(*) FROM monitor.survey_responses r JOIN monitor.survey_links l "
                     "ON l.id = r.link_id WHERE l.code = %s", (code,))[0][0]


def answer_from_new_browser(world, code: str, answer: dict) -> int:
    """Answer in JSON from a client with no cookies yet (another person's browser); returns the status."""
    with httpx.Client(base_url=world.server.url, timeout=60) as client:
        return client.post(f"/encuesta/{code}", json=answer).status_code
