"""Method 2: participant diversity on the real PostGIS registry, against values worked out here from the answers.

The oracle is this file's own arithmetic on the answers it inserts (Shannon entropy with `math`, the groups of
the survey's CHECK constraints), never the index code. The demo answers are removed first, so the answers about
the chosen instance are the only ones and every barrio whose offer includes it sees exactly them.
"""

from __future__ import annotations

import math
from collections import Counter

import psycopg
import pytest

from gis.index.compute import run
from gis.index.parameters import IndexParameters, load_parameters, parameters_from_record

K_AGE_BANDS = 5  # 16-24, 25-34, 35-49, 50-64, 65+
K_GENDERS = 4  # female, male, non_binary, other ("prefer_not_to_say" and blank state no gender)
STATED_GENDERS = {"female", "male", "non_binary", "other"}


def shannon_diversity(values: list, groups: int) -> float | None:
    """e^H / min(K, n) over the stated values; None below 5 of them (the method's k)."""
    stated = [v for v in values if v is not None]
    if len(stated) < 5:
        return None
    n = len(stated)
    entropy = -sum(c / n * math.log(c / n) for c in Counter(stated).values())
    return math.exp(entropy) / min(groups, n)


def chosen_instance(conn: psycopg.Connection) -> tuple[int, int, int]:
    """(instance id, its barrio, another barrio): an active approved instance scoped to one barrio."""
    instance, barrio = conn.execute(
        "SELECT id, scope_barrio_id FROM monitor.instances WHERE moderation = 'approved' AND deleted_at IS NULL "
        "AND status = 'active' AND scope = 'barrio' AND scope_barrio_id IS NOT NULL ORDER BY id LIMIT 1").fetchone()
    other = conn.execute("SELECT min(mslink) FROM monitor.barrios WHERE mslink <> %s", (barrio,)).fetchone()[0]
    return instance, barrio, other


def answer_only(url: str, answers: list[tuple]) -> tuple[int, int, int]:
    """Replace every survey answer by `answers` (age band, gender, respondent barrio) about one instance."""
    with psycopg.connect(url) as conn:
        instance, barrio, other = chosen_instance(conn)
        conn.execute("DELETE FROM monitor.survey_responses")
        rows = [(instance, age, gender, {"own": barrio, "other": other}.get(where)) for age, gender, where in answers]
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO monitor.survey_responses (instance_id, kind, satisfaction, age_band, gender, "
                            "respondent_barrio_id) VALUES (%s, 'satisfaction', 4, %s, %s, %s)", rows)
    return instance, barrio, other


def published(url: str) -> dict[int, dict]:
    with psycopg.connect(url) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        rows = cur.execute("SELECT barrio_id, diversity, theme_diversity, participant_diversity, participant_answers, "
                           "diversity_fallback FROM published.barrio_index").fetchall()
    return {r["barrio_id"]: r for r in rows}


def offering(url: str, instance: int) -> set[int]:
    """Barrios whose offer (latest run) includes the instance."""
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT barrio_id FROM published.index_offer WHERE instance_id = %s",
                                           (instance,))}


# Ten answers: ages stated by 8 (3, 2, 2, 0, 1), genders by 8 (4 female, 3 male, 1 non-binary; 2 prefer not to
# say), residence by 7 (5 in the instance's barrio, 2 in another; 3 not stated).
TEN_ANSWERS = [
    ("16-24", "female", "own"), ("16-24", "female", "own"), ("16-24", "male", "own"),
    ("25-34", "female", "own"), ("25-34", "male", "other"), ("35-49", "male", None),
    ("35-49", "non_binary", "own"), ("65+", "prefer_not_to_say", "other"),
    (None, "female", None), (None, "prefer_not_to_say", None),
]


def test_participant_diversity_equals_the_hand_computed_value(fresh_db):
    instance, barrio, _ = answer_only(fresh_db, TEN_ANSWERS)
    with psycopg.connect(fresh_db) as conn:
        barrios = conn.execute("SELECT count(*) FROM monitor.barrios").fetchone()[0]
    ages = shannon_diversity([a for a, _, _ in TEN_ANSWERS], K_AGE_BANDS)
    genders = shannon_diversity([g if g in STATED_GENDERS else None for _, g, _ in TEN_ANSWERS], K_GENDERS)
    residence = shannon_diversity([w for _, _, w in TEN_ANSWERS], barrios)
    # By hand: ages p = (3, 2, 2, 1)/8 → e^H = 3.7467, / min(5, 8); genders (4, 3, 1)/8 → 2.6494, / 4;
    # residence (5, 2)/7 → 1.8190, / min(50, 7) = 7.
    assert ages == pytest.approx(3.7467 / 5, abs=1e-4) and genders == pytest.approx(2.6494 / 4, abs=1e-4)
    assert residence == pytest.approx(1.8190 / 7, abs=1e-4)
    expected = (ages + genders + residence) / 3

    record = run(fresh_db, load_parameters(method_version="2"), trigger="test")
    assert record["method_version"] == "2" and record["parameters"]["participant_min_answers"] == 5
    with psycopg.connect(fresh_db) as conn:
        stored = conn.execute("SELECT method_version, parameters FROM monitor.index_runs WHERE id = %s",
                              (record["run_id"],)).fetchone()
    assert stored[0] == "2" and stored[1]["participant_weight"] == 0.5
    assert stored[1]["participant_dimensions"] == ["age_band", "gender", "barrio"]

    rows, reached = published(fresh_db), offering(fresh_db, instance)
    assert barrio in reached and len(reached) < len(rows)  # the oracle covers both cases below
    for barrio_id, row in rows.items():
        if barrio_id in reached:
            assert row["participant_diversity"] == pytest.approx(expected, rel=1e-9)
            assert row["participant_answers"] == len(TEN_ANSWERS) and row["diversity_fallback"] is False
            assert row["diversity"] == pytest.approx(0.5 * row["theme_diversity"] + 0.5 * expected, rel=1e-9)
        else:  # no answer about its offer: themes alone, flagged, nothing published about participants
            assert row["participant_diversity"] is None and row["participant_answers"] is None
            assert row["diversity_fallback"] is True and row["diversity"] == row["theme_diversity"]

    # Theme diversity is method 1's pillar: the same run in method 1 publishes it as the diversity.
    run(fresh_db, load_parameters(method_version="1"), trigger="test")
    method_1 = published(fresh_db)
    assert all(method_1[b]["diversity"] == pytest.approx(rows[b]["theme_diversity"], rel=1e-12) for b in rows)


def test_a_dimension_stated_by_fewer_than_five_answers_is_left_out(fresh_db):
    # Residence stated by 4 answers only: participant diversity is the mean of age bands and genders.
    answers = [(a, g, w if i < 4 else None) for i, (a, g, w) in enumerate(
        [("16-24", "female", "own"), ("25-34", "male", "own"), ("25-34", "female", "other"),
         ("50-64", "female", "own"), ("65+", "male", None), ("65+", "other", None)])]
    instance, barrio, _ = answer_only(fresh_db, answers)
    assert shannon_diversity([w for _, _, w in answers], 50) is None
    expected = (shannon_diversity([a for a, _, _ in answers], K_AGE_BANDS)
                + shannon_diversity([g for _, g, _ in answers], K_GENDERS)) / 2
    run(fresh_db, load_parameters(method_version="2"), trigger="test")
    row = published(fresh_db)[barrio]
    assert row["participant_diversity"] == pytest.approx(expected, rel=1e-9) and row["participant_answers"] == 6


def test_four_answers_are_not_used(fresh_db):
    instance, barrio, _ = answer_only(fresh_db, TEN_ANSWERS[:4])
    run(fresh_db, load_parameters(method_version="2"), trigger="test")
    rows = published(fresh_db)
    assert barrio in offering(fresh_db, instance)
    for row in rows.values():
        assert row["participant_diversity"] is None and row["participant_answers"] is None
        assert row["diversity_fallback"] is True and row["diversity"] == row["theme_diversity"]


def test_method_1_ignores_participants(fresh_db):
    instance, barrio, _ = answer_only(fresh_db, TEN_ANSWERS)
    record = run(fresh_db, IndexParameters(method_version="1"), trigger="test")
    assert record["method_version"] == "1"
    assert not {"participant_weight", "participant_min_answers", "participant_dimensions"} & set(record["parameters"])
    with_answers = published(fresh_db)
    assert barrio in offering(fresh_db, instance)
    for row in with_answers.values():
        assert row["participant_diversity"] is None and row["participant_answers"] is None
        assert row["diversity_fallback"] is False and row["diversity"] == row["theme_diversity"]

    with psycopg.connect(fresh_db) as conn:  # without any answer, method 1's diversity is the same
        conn.execute("DELETE FROM monitor.survey_responses")
    run(fresh_db, IndexParameters(method_version="1"), trigger="test")
    without = published(fresh_db)
    assert {b: r["diversity"] for b, r in without.items()} == pytest.approx(
        {b: r["diversity"] for b, r in with_answers.items()}, rel=1e-12)


def test_the_method_version_is_chosen_by_configuration(monkeypatch):
    assert load_parameters().method_version == "2"
    monkeypatch.setenv("MONITOR_INDEX_METHOD_VERSION", "1")
    params = load_parameters()
    assert params.method_version == "1" and params.as_record()["method_version"] == "1"
    assert "participant_weight" not in params.as_record()
    monkeypatch.setenv("MONITOR_INDEX_METHOD_VERSION", "3")
    with pytest.raises(ValueError):
        load_parameters()
    monkeypatch.delenv("MONITOR_INDEX_METHOD_VERSION")
    # A stored run is read back with its own method version (runs recorded before method 2 were method 1).
    assert parameters_from_record({"h3_resolution": 9}).method_version == "1"
    assert parameters_from_record(IndexParameters(participant_weight=0.3).as_record()).participant_weight == 0.3
    with pytest.raises(ValueError):
        IndexParameters(participant_min_answers=4)  # the privacy threshold never goes below 5
