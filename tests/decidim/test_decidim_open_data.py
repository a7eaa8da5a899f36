"""`monitor import decidim-open-data FILE.zip`: the same records as the API, under the same keys."""

from __future__ import annotations

import zipfile

import psycopg
import pytest
from test_decidim_api import SOURCE, counts, row, run

from gis.decidim.mapping import Platform, html_to_text, pick, progress_status
from gis.decidim.opendata import OpenDataError, parse_time, read_zip
from gis.decidim.sync import from_open_data

TABLES = ("instances", "activities", "commitments")


def imported(db: str) -> dict[str, dict[str, dict]]:
    """Every synced record, by table and external id, without what the database stamps."""
    stamps = {"id", "instance_id", "version", "created_at", "updated_at", "created_by", "updated_by", "venue_3857"}
    found: dict[str, dict[str, dict]] = {}
    with psycopg.connect(db) as conn:
        for table in TABLES:
            rows = conn.execute(f"SELECT external_id, to_jsonb(t) FROM monitor.{table} t "
                                "WHERE external_id LIKE 'decidim:%'").fetchall()
            found[table] = {key: {k: v for k, v in value.items() if k not in stamps} for key, value in rows}
    return found


def test_the_zip_alone_gives_the_same_records_as_the_api(decidim_031, fresh_db, second_db, tmp_path):
    archive = decidim_031.write_zip(tmp_path / "open-data.zip")
    report = from_open_data(fresh_db, archive, Platform(base_url=decidim_031.base))
    assert report.created == {"instances": 4, "activities": 10, "commitments": 4}, report.as_dict()
    assert [u["external_id"] for u in report.unplaced] == [f"{SOURCE}:meeting:204", f"{SOURCE}:meeting:206"]
    assert run(second_db, decidim_031).created == report.created
    by_zip, by_api = imported(fresh_db), imported(second_db)
    for table in TABLES:
        assert set(by_api[table]) == set(by_zip[table])
        for key in by_zip[table]:
            assert by_api[table][key] == by_zip[table][key], (table, key)


def test_api_then_zip_is_the_same_record_and_changes_nothing(decidim_031, fresh_db, tmp_path):
    run(fresh_db, decidim_031)
    ids = {t: {k: row(fresh_db, t, k)["id"] for k in imported(fresh_db)[t]} for t in TABLES}
    before = counts(fresh_db)
    report = from_open_data(fresh_db, decidim_031.write_zip(tmp_path / "od.zip"), Platform(base_url=decidim_031.base))
    assert not report.created and not report.updated and not report.conflicts and not report.ended
    assert counts(fresh_db) == before  # no history row either
    assert {t: {k: row(fresh_db, t, k)["id"] for k in ids[t]} for t in TABLES} == ids
    led = row(fresh_db, "commitments", f"{SOURCE}:result:402")
    assert led["proposal_ref"] == f"{SOURCE}:proposal:302, {SOURCE}:proposal:303"
    assert "«Bicisenda en calle Junín» (#302)" in led["government_response"]


def test_an_older_api_then_the_zip_only_adds_what_the_api_could_not_tell(decidim, fresh_db, tmp_path):
    """Decidim 0.27's API does not link results to proposals; its open data does: the ZIP adds the links (one
    history entry per linked commitment) and a later API run does not take them away."""
    run(fresh_db, decidim)
    report = from_open_data(fresh_db, decidim.write_zip(tmp_path / "od.zip"), Platform(base_url=decidim.base))
    assert not report.created and report.updated == {"commitments": 4}, report.as_dict()
    assert row(fresh_db, "commitments", f"{SOURCE}:result:401")["proposal_ref"] == f"{SOURCE}:proposal:301"
    again = run(fresh_db, decidim)
    assert not again.updated and not again.conflicts
    assert row(fresh_db, "commitments", f"{SOURCE}:result:401")["proposal_ref"] == f"{SOURCE}:proposal:301"


def test_a_file_that_is_not_decidim_open_data_writes_nothing(fresh_db, tmp_path):
    before = counts(fresh_db)
    not_zip = tmp_path / "datos.zip"
    not_zip.write_text("hola")
    with pytest.raises(OpenDataError, match="not a ZIP"):
        from_open_data(fresh_db, not_zip, Platform())
    other = tmp_path / "otro.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("README.md", "nada")
    with pytest.raises(OpenDataError, match="no Decidim open-data CSV"):
        read_zip(other)
    assert counts(fresh_db) == before


def test_text_and_value_rules():
    assert pick({"es": "", "en": "Hello", "ca": "Hola"}, "es") == "Hola"  # any locale, in a stable order
    assert pick({"es-AR": "Hola", "en": "Hello"}, "es") == "Hola"
    assert pick({"en": "Hello"}, "es") == "Hello" and pick({}, "es") == ""
    assert html_to_text("<p>A&nbsp;&amp;&nbsp;B</p><ol><li>uno</li><li>dos</li></ol>") == "A & B\n\n- uno\n- dos"
    assert [progress_status(p) for p in (None, 0, 10, 50, 99.9, 100)] == [
        "not_started", "not_started", "limited", "substantial", "substantial", "complete"]
    assert parse_time("2025-05-10 18:00:00 -0300").isoformat() == "2025-05-10T18:00:00-03:00"
    assert parse_time("2025-05-10 21:00:00").isoformat() == "2025-05-10T21:00:00+00:00"  # 0.27: UTC (:db)
    assert parse_time("2025-05-10T18:00:00-03:00").isoformat() == "2025-05-10T18:00:00-03:00"
