"""The database itself refuses bad rows (whatever client writes them): each case names the rule that fires."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors
from registry_helpers import insert_row, valid_instance

# (overrides of a valid instance, exception class, constraint name or None, fragment of the message)
INSTANCE_CASES = {
    "venue outside Rosario (inside the bbox, in no barrio)": (
        {"venue": "SRID=4326;POINT(-60.60 -33.06)"}, errors.CheckViolation, None,
        "venue POINT(-60.6 -33.06) is outside Rosario: no barrio contains it"),
    "venue with swapped axes": (
        {"venue": "SRID=4326;POINT(-32.9468 -60.6505)"}, errors.CheckViolation, None, "is outside Rosario"),
    "venue in projected metres": (
        {"venue": "SRID=4326;POINT(5432003 6350000)"}, errors.CheckViolation, None, "is outside Rosario"),
    "empty venue": ({"venue": "SRID=4326;POINT EMPTY"}, errors.CheckViolation, "venue_valid",
                    "venue is not a valid, non-empty point"),
    "venue that is not a point": (
        {"venue": "SRID=4326;POLYGON((-60.66 -32.95,-60.65 -32.95,-60.65 -32.94,-60.66 -32.95))"},
        errors.InvalidParameterValue, None, "Geometry type (Polygon) does not match column type (Point)"),
    "venue in another SRID": ({"venue": "SRID=3857;POINT(-6751500 -3884000)"}, errors.InvalidParameterValue, None,
                              "Geometry SRID (3857) does not match column SRID (4326)"),
    "unknown kind": ({"kind": "asamblea"}, errors.ForeignKeyViolation, "instances_kind_fkey",
                     'Key (kind)=(asamblea) is not present in table "instance_kinds"'),
    "unknown theme": ({"themes": ["ambiente", "clima"]}, errors.ForeignKeyViolation, None,
                      "unknown theme in {ambiente,clima}; known themes: ambiente,"),
    "no theme": ({"themes": []}, errors.CheckViolation, None, "an instance needs at least one theme"),
    "unknown organization": ({"organization_id": 987654}, errors.ForeignKeyViolation,
                             "instances_organization_id_fkey", "Key (organization_id)=(987654) is not present"),
    "unknown scope barrio": ({"scope": "barrio", "scope_barrio_id": 999}, errors.ForeignKeyViolation,
                             "instances_scope_barrio_id_fkey", "Key (scope_barrio_id)=(999) is not present"),
    "unknown scope district": ({"scope": "district", "scope_district_code": "ESTE"}, errors.ForeignKeyViolation,
                               "instances_scope_district_code_fkey", "Key (scope_district_code)=(ESTE)"),
    "end before start": ({"start_date": "2025-03-01", "end_date": "2025-02-01"}, errors.CheckViolation,
                         "dates_ordered", "dates_ordered"),
    "rejected without reason": ({"moderation": "rejected"}, errors.CheckViolation, "rejection_has_reason",
                                "rejection_has_reason"),
    "in person without venue": ({"venue": None}, errors.CheckViolation, "venue_required", "venue_required"),
    "online without link": ({"modality": "online", "venue": None}, errors.CheckViolation, "online_url_required",
                            "online_url_required"),
    "barrio scope without barrio or venue": (
        {"modality": "online", "venue": None, "online_url": "https://participa.rosario.gob.ar", "scope": "barrio"},
        errors.CheckViolation, "scope_barrio_given", "scope_barrio_given"),
    "unknown modality": ({"modality": "presencial"}, errors.CheckViolation, "instances_modality_check",
                         "instances_modality_check"),
    "unknown promoter": ({"promoter": "church"}, errors.CheckViolation, "instances_promoter_check",
                         "instances_promoter_check"),
    "unknown accessibility feature": ({"accessibility": ["wheelchair", "ramp"]}, errors.CheckViolation,
                                      "instances_accessibility_check", "instances_accessibility_check"),
    "link that is not http": ({"online_url": "javascript:alert(1)"}, errors.CheckViolation,
                              "instances_online_url_check", "instances_online_url_check"),
    "blank source": ({"source": "  "}, errors.CheckViolation, "instances_source_check", "instances_source_check"),
}


def test_the_valid_instance_is_accepted_and_placed(db):
    """The control: without a change, the row the cases below break is accepted."""
    instance_id = insert_row(db, "instances", valid_instance())
    assert db.execute("SELECT barrio_id, district_code FROM monitor.instances WHERE id = %s",
                      (instance_id,)).fetchone() == (15, "CENTRO")


@pytest.mark.parametrize("overrides, error, constraint, message", INSTANCE_CASES.values(), ids=INSTANCE_CASES.keys())
def test_bad_instance_is_refused(db, overrides, error, constraint, message):
    with pytest.raises(error) as refused:
        insert_row(db, "instances", valid_instance(**overrides))
    assert refused.value.diag.constraint_name == constraint
    assert message in str(refused.value)


def test_moving_an_instance_out_of_rosario_is_refused(db):
    instance_id = insert_row(db, "instances", valid_instance())
    with pytest.raises(errors.CheckViolation, match="is outside Rosario: no barrio contains it"):
        db.execute("UPDATE monitor.instances SET venue = 'SRID=4326;POINT(-60.5 -32.9)' WHERE id = %s",
                   (instance_id,))


def _instance(db) -> int:
    return insert_row(db, "instances", valid_instance())


OTHER_CASES = {
    "activity ending before it starts": (
        "activities", lambda i: {"instance_id": i, "title": "Reunión", "source": "t",
                                 "starts_at": "2026-12-01 18:00-03", "ends_at": "2026-12-01 17:00-03"},
        errors.CheckViolation, "activity_times_ordered"),
    "activity of an unknown instance": (
        "activities", lambda i: {"instance_id": 987654, "title": "Reunión", "source": "t",
                                 "starts_at": "2026-12-01 18:00-03", "online_url": "https://meet.example.org/x"},
        errors.ForeignKeyViolation, "activities_instance_id_fkey"),
    "activity outside Rosario": (
        "activities", lambda i: {"instance_id": i, "title": "Reunión", "source": "t",
                                 "starts_at": "2026-12-01 18:00-03", "venue": "SRID=4326;POINT(-60.7 -32.86)"},
        errors.CheckViolation, "activity venue POINT(-60.7 -32.86) is outside Rosario"),
    "activity with an empty venue": (
        "activities", lambda i: {"instance_id": i, "title": "Reunión", "source": "t",
                                 "starts_at": "2026-12-01 18:00-03", "venue": "SRID=4326;POINT EMPTY"},
        errors.CheckViolation, "activity_venue_valid"),
    "activity in an unknown time zone": (
        "activities", lambda i: {"instance_id": i, "title": "Reunión", "source": "t", "timezone": "America/Rosario_X",
                                 "starts_at": "2026-12-01 18:00-03"},
        errors.CheckViolation, 'unknown time zone "America/Rosario_X"'),
    "satisfaction above 5": (
        "survey_responses", lambda i: {"instance_id": i, "kind": "satisfaction", "satisfaction": 6},
        errors.CheckViolation, "survey_responses_satisfaction_check"),
    "satisfaction below 1": (
        "survey_responses", lambda i: {"instance_id": i, "kind": "satisfaction", "satisfaction": 0},
        errors.CheckViolation, "survey_responses_satisfaction_check"),
    "satisfaction answer without a score": (
        "survey_responses", lambda i: {"instance_id": i, "kind": "satisfaction"},
        errors.CheckViolation, "satisfaction_answer"),
    "satisfaction about no instance": (
        "survey_responses", lambda i: {"kind": "satisfaction", "satisfaction": 4},
        errors.CheckViolation, "satisfaction_about_instance"),
    "survey interest in an unknown theme": (
        "survey_responses", lambda i: {"kind": "interest", "interest": 3, "interest_themes": ["clima"]},
        errors.ForeignKeyViolation, "unknown theme in {clima}"),
    "survey age band that is not a band": (
        "survey_responses", lambda i: {"instance_id": i, "kind": "satisfaction", "satisfaction": 3, "age_band": "40"},
        errors.CheckViolation, "survey_responses_age_band_check"),
    "standard criterion that does not exist": (
        "instance_standards", lambda i: {"instance_id": i, "criterion": "pretty_logo", "met": True},
        errors.ForeignKeyViolation, "instance_standards_criterion_fkey"),
    "commitment in an unknown status": (
        "commitments", lambda i: {"instance_id": i, "description": "Arreglar la plaza", "status": "done",
                                  "source": "t"},
        errors.CheckViolation, "commitments_status_check"),
    "commitment due before it was made": (
        "commitments", lambda i: {"instance_id": i, "description": "Arreglar la plaza", "source": "t",
                                  "made_on": "2026-05-01", "due_date": "2026-04-01"},
        errors.CheckViolation, "commitment_dates_ordered"),
    "organization token without organization": (
        "api_tokens", lambda i: {"name": "t", "role": "organization", "token_hash": "x"},
        errors.CheckViolation, "organization_token_has_organization"),
    "organization of an unknown kind": (
        "organizations", lambda i: {"name": "Club Atlético", "kind": "club", "source": "t"},
        errors.CheckViolation, "organizations_kind_check"),
}


@pytest.mark.parametrize("table, values, error, message", OTHER_CASES.values(), ids=OTHER_CASES.keys())
def test_bad_row_is_refused(db, table, values, error, message):
    instance_id = _instance(db)
    returning = "instance_id" if table == "instance_standards" else "id"
    with pytest.raises(error) as refused:
        insert_row(db, table, values(instance_id), returning=returning)
    assert message in str(refused.value) or message == refused.value.diag.constraint_name


def test_duplicate_external_id_and_organization_name_are_refused(db):
    insert_row(db, "organizations", {"name": "Vecinal Prueba", "kind": "vecinal", "source": "t", "external_id": "o:1"})
    with pytest.raises(errors.UniqueViolation, match="organizations_name_key"), db.transaction():
        insert_row(db, "organizations", {"name": "Vecinal Prueba", "kind": "vecinal", "source": "t"})
    with pytest.raises(errors.UniqueViolation, match="organizations_external_id_key"), db.transaction():
        insert_row(db, "organizations", {"name": "Otra vecinal", "kind": "vecinal", "source": "t",
                                         "external_id": "o:1"})


def test_a_theme_in_use_cannot_be_removed(db):
    _instance(db)
    with pytest.raises(errors.ForeignKeyViolation, match='theme "ambiente" is used by instances'):
        db.execute("DELETE FROM monitor.themes WHERE code = 'ambiente'")


def test_an_instance_with_activities_cannot_be_deleted_from_under_them(db):
    instance_id = _instance(db)
    insert_row(db, "activities", {"instance_id": instance_id, "title": "Reunión", "source": "t",
                                  "starts_at": "2026-12-01 18:00-03"})
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="activities_instance_id_fkey"):
        db.execute("DELETE FROM monitor.instances WHERE id = %s", (instance_id,))
