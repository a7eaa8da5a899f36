"""gis.registry and gis.edits: the input models and the edit engine that the importer and the feature API share."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest
from pydantic import ValidationError

from gis.db import connect
from gis.edits import create
from gis.registry import ActivityIn, InstanceIn, OrganizationIn, RegistryError
from layers.catalogue import EDIT_POLICIES


def insert_organization(conn, item):
    return create(conn, EDIT_POLICIES["organizations"], item)


def insert_instance(conn, item):
    return create(conn, EDIT_POLICIES["instances"], item)


def insert_activity(conn, item):
    return create(conn, EDIT_POLICIES["activities"], item)

CENTRO = (-60.6505, -32.9468)  # barrio 15, Centro


def instance_values(**overrides) -> dict:
    values = {"name": "Consejo de prueba", "kind": "consejo_barrial", "promoter": "state", "themes": ["ambiente"],
              "modality": "in_person", "lon": CENTRO[0], "lat": CENTRO[1], "scope": "city", "source": "test"}
    return values | overrides


def instance(**overrides) -> InstanceIn:
    return InstanceIn.model_validate(instance_values(**overrides))


def test_models_take_geojson_or_lon_lat_and_refuse_unknown_fields():
    from_lon_lat = instance()
    from_geojson = instance(lon=None, lat=None, venue={"type": "Point", "coordinates": list(CENTRO)})
    assert from_lon_lat.venue == from_geojson.venue
    with pytest.raises(ValidationError) as refused:
        instance(colour="red")
    assert refused.value.errors()[0]["type"] == "extra_forbidden"
    with pytest.raises(ValidationError, match="lon and lat must be given together"):
        instance(lat=None)
    with pytest.raises(ValidationError, match="coordinates must be finite numbers"):
        instance(lon=float("nan"))
    with pytest.raises(ValidationError, match="Input should be 'in_person', 'online' or 'hybrid'"):
        instance(modality="presencial")


def test_an_activity_time_without_offset_is_local_to_its_time_zone():
    activity = ActivityIn(instance_id=1, title="Asamblea", starts_at="2026-12-05 18:00", source="t")
    assert activity.starts_at == datetime(2026, 12, 5, 21, 0, tzinfo=ZoneInfo("UTC"))
    explicit = ActivityIn(instance_id=1, title="Asamblea", starts_at="2026-12-05T18:00:00+00:00", source="t")
    assert explicit.starts_at.utcoffset().total_seconds() == 0


def test_inserts_place_link_and_record_the_actor(fresh_db):
    with connect(fresh_db, actor="api:editor") as conn:
        org_id = insert_organization(conn, OrganizationIn(name="Biblioteca Popular", kind="cso", source="t"))
        instance_id = insert_instance(conn, instance(organization_id=org_id, moderation="approved"))
        activity_id = insert_activity(conn, ActivityIn(instance_id=instance_id, title="Asamblea",
                                                       starts_at="2026-12-05 18:00", source="t"))
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT barrio_id, district_code, created_by FROM monitor.instances WHERE id = %s",
                            (instance_id,)).fetchone() == (15, "CENTRO", "api:editor")
        assert conn.execute("SELECT organization_id, role FROM monitor.instance_organizations WHERE instance_id = %s",
                            (instance_id,)).fetchall() == [(org_id, "promoter")]
        assert conn.execute("SELECT barrio_id FROM monitor.activities WHERE id = %s",
                            (activity_id,)).fetchone() == (15,)


REFUSALS = {
    "outside Rosario": (dict(lon=-60.6, lat=-33.06), "venue",
                        "venue is outside Rosario: POINT(-60.6 -33.06) falls in no barrio"),
    "unknown kind": (dict(kind="asamblea"), "kind", "kind: unknown kind 'asamblea'; known kinds: consejo_barrial,"),
    "unknown theme": (dict(themes=["clima"]), "themes", "themes: unknown theme 'clima'; known themes: ambiente,"),
    "no venue": (dict(lon=None, lat=None), "venue", "venue is required for in-person and hybrid instances"),
    "rejected without reason": (dict(moderation="rejected"), "moderation_reason",
                                "moderation_reason is required when moderation is 'rejected'"),
    "unknown organization": (dict(organization_id=987654), "organization_id",
                             "organization_id '987654' does not exist in organizations"),
    "unknown barrio": (dict(scope="barrio", scope_barrio_id=999), "scope_barrio_id",
                       "scope_barrio_id '999' does not exist in barrios"),
    "end before start": (dict(start_date="2026-02-01", end_date="2026-01-01"), "end_date",
                         "end_date is before start_date"),
}


@pytest.mark.parametrize("change, field, message", REFUSALS.values(), ids=REFUSALS.keys())
def test_refusals_name_the_field(fresh_db, change, field, message):
    with psycopg.connect(fresh_db) as conn:
        with pytest.raises(RegistryError) as refused:
            insert_instance(conn, instance_values(name="Consejo rechazado", **change))
        assert (refused.value.field, refused.value.conflict) == (field, False)
        assert refused.value.message.startswith(message)
        # The refusal was confined to a savepoint: the same transaction goes on.
        assert insert_instance(conn, instance(name="Consejo aceptado")) > 0


def test_duplicates_are_conflicts(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        insert_instance(conn, instance(external_id="t:1"))
        with pytest.raises(RegistryError) as refused:
            insert_instance(conn, instance(external_id="t:1", name="Otro nombre"))
        assert (refused.value.field, refused.value.conflict, refused.value.message) == (
            "external_id", True, "external_id 't:1' already exists")
        with pytest.raises(RegistryError) as refused:
            insert_instance(conn, instance(name="consejo DE PRUEBA"))
        assert (refused.value.field, refused.value.conflict) == ("name", True)
        # Same name and kind somewhere else is another instance.
        assert insert_instance(conn, instance(lon=-60.6878, lat=-32.93245)) > 0
        insert_organization(conn, OrganizationIn(name="Club", kind="cso", source="t"))
        with pytest.raises(RegistryError) as refused:
            insert_organization(conn, OrganizationIn(name="Club", kind="cso", source="t"))
        assert (refused.value.field, refused.value.conflict, refused.value.message) == (
            "name", True, "name 'Club' already exists")
