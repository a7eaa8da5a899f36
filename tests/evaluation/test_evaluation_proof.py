"""Issue 9's proof: a database with no demo data (real geography and sites only) gets its evaluation half from
imported files — assessments, commitments, experiences and paper survey answers — and the index shows it: a quality
pillar exactly where standards are met, satisfaction only where at least 5 answers exist, follow-through from the
commitments due, participant diversity from the answers."""

from __future__ import annotations

import csv
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from data.districts.loader import load_geography
from data.districts.sites import load_sites
from gis.config import get_settings
from gis.db import migrate
from gis.importer import import_path
from gis.index.compute import run as index_run
from layers.catalogue import EDIT_POLICIES


@pytest.fixture(scope="module")
def bare_db(admin_url):
    name = f"monitor_test_bare_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(admin_url)._replace(path="/" + name))
    migrate(url)
    load_geography(url, get_settings().data_dir)
    load_sites(url, get_settings().data_dir)
    yield url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_csv(path: Path, rows: list[dict]) -> Path:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def rows(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def test_the_evaluation_half_from_files_reaches_the_index(bare_db, tmp_path):
    url = bare_db
    assert rows(url, "SELECT count(*) FROM monitor.instances WHERE is_demo")[0][0] == 0
    (a, a_barrio), (b, b_barrio) = rows(url, """
        SELECT id, barrio_id FROM monitor.instances WHERE kind = 'vecinal' AND barrio_id IS NOT NULL
        ORDER BY id LIMIT 2""")
    today = date.today()
    imported = {
        "assessments": [
            {"instance_id": a, "criterion": "results_published", "status": "met", "assessed_by": "Equipo GA",
             "evidence_url": "https://www.rosario.gob.ar/actas/1"},
            {"instance_id": a, "criterion": "government_response", "status": "met", "assessed_by": "Equipo GA"},
            {"instance_id": b, "criterion": "results_published", "status": "not_met", "assessed_by": "Equipo GA"},
        ],
        "experiences": [{"instance_id": a, "held_on": (today - timedelta(days=20)).isoformat(), "attendance": 25,
                         "minutes_url": "https://www.rosario.gob.ar/actas/1", "proposals_count": 3}],
        "commitments": [
            {"instance_id": a, "description": "Reparar la plaza", "made_on": "2025-01-10", "due_date": "2025-06-30",
             "status": status}
            for status in ("complete", "not_started", "substantial")],
        "survey_responses": [
            {"instance_id": instance, "satisfaction": score, "age_band": age, "gender": gender,
             "respondent_barrio_id": barrio}
            for instance, answers, barrio in ((a, 5, a_barrio), (b, 4, b_barrio))
            for score, age, gender in list(zip((5, 4, 4, 3, 5), ("16-24", "25-34", "35-49", "50-64", "65+"),
                                               ("female", "male", "female", "non_binary", "male"),
                                               strict=True))[:answers]],
    }
    for layer, records in imported.items():
        result = import_path(url, EDIT_POLICIES, write_csv(tmp_path / f"{layer}.csv", records), actor="test:proof")
        assert result["imported"] == {layer: len(records)}
    index_run(url, trigger="test")

    # Quality: non-zero exactly in the barrios whose offer holds an instance with a standard met — the imported
    # ones, and the ones the monitor derives from the registry (a published purpose, an accessible venue…).
    quality = dict(rows(url, "SELECT barrio_id, quality FROM published.barrio_index"))
    met_somewhere = {r[0] for r in rows(url, """
        SELECT DISTINCT o.barrio_id FROM published.index_offer o
        JOIN monitor.instance_standards s ON s.instance_id = o.instance_id AND s.met AND s.deleted_at IS NULL""")}
    assert {b for b, q in quality.items() if q and q > 0} == met_somewhere
    assert met_somewhere and len(met_somewhere) < len(quality)
    assert rows(url, "SELECT method, count(*) FROM monitor.instance_standards WHERE instance_id = %s "
                     "GROUP BY 1 ORDER BY 1", (a,)) == [("derived", 6), ("verified", 2)]

    # Satisfaction: published with 5 answers, not with 4.
    published = dict(rows(url, "SELECT instance_id, responses FROM published.instance_satisfaction"))
    assert published == {a: 5}

    # Follow-through: 2 of the 3 commitments due are substantial or complete.
    offers = rows(url, "SELECT barrio_id, array_agg(instance_id) FROM published.index_offer GROUP BY 1")
    follow = dict(rows(url, "SELECT barrio_id, follow_through FROM published.barrio_index"))
    for barrio, offer in offers:
        if a in offer:
            assert follow[barrio] == pytest.approx(2 / 3)
        else:
            assert follow[barrio] is None

    # Participant diversity: from the answers about each barrio's offer, used only with at least 5 of them.
    answers = {a: 5, b: 4}
    diversity = {r[0]: r[1:] for r in rows(url, "SELECT barrio_id, participant_answers, participant_diversity "
                                                "FROM published.barrio_index")}
    for barrio, offer in offers:
        expected = sum(answers.get(i, 0) for i in offer)
        counted, value = diversity[barrio]
        if expected >= 5:
            assert counted == expected and 0 < value <= 1
        else:
            assert counted is None and value is None
    assert any(diversity[barrio][0] == 5 for barrio, offer in offers if a in offer and b not in offer)
