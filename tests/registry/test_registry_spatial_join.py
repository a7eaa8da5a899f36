"""The placement trigger puts every venue on its barrio and district, on insert and on every update.

Rule for a point on a boundary shared by two barrios (0001_registry.sql, monitor.barrio_at): ST_Intersects
counts the boundary as inside, so both barrios match, and the lowest MSLINK wins.
"""

from __future__ import annotations

from registry_helpers import insert_row, valid_instance

# One barrio per district, with a point certainly inside it.
INTERIOR_POINTS = """
SELECT DISTINCT ON (district_code) mslink, district_code, ST_AsEWKT(ST_PointOnSurface(geom))
FROM monitor.barrios ORDER BY district_code, mslink
"""

# A vertex shared by exactly two barrios of different districts: the same coordinates in both rings, so the
# point lies on both boundaries exactly (no floating-point doubt about an interpolated point).
SHARED_VERTEX = """
WITH vertices AS (
    SELECT b.mslink, b.district_code, (ST_DumpPoints(b.geom)).geom AS p FROM monitor.barrios b
), shared AS (
    SELECT ST_X(p) AS x, ST_Y(p) AS y, array_agg(DISTINCT mslink ORDER BY mslink) AS barrios,
           array_agg(DISTINCT district_code) AS districts
    FROM vertices GROUP BY ST_X(p), ST_Y(p)
)
SELECT x, y, barrios FROM shared
WHERE cardinality(barrios) = 2 AND cardinality(districts) = 2
ORDER BY barrios, x, y LIMIT 1
"""


def place(conn, instance_id: int) -> tuple[int, str]:
    return conn.execute("SELECT barrio_id, district_code FROM monitor.instances WHERE id = %s",
                        (instance_id,)).fetchone()


def test_points_land_in_their_barrio_and_district(writer):
    points = writer.execute(INTERIOR_POINTS).fetchall()
    assert len(points) == 6
    for mslink, district, point in points:
        instance_id = insert_row(writer, "instances", valid_instance(name=f"Consejo {mslink}", venue=point))
        assert place(writer, instance_id) == (mslink, district)


def test_a_point_on_a_shared_boundary_goes_to_the_lowest_mslink(writer):
    x, y, (low, high) = writer.execute(SHARED_VERTEX).fetchone()
    point = f"SRID=4326;POINT({x!r} {y!r})"
    touching = [r[0] for r in writer.execute(
        "SELECT mslink FROM monitor.barrios WHERE ST_Intersects(geom, %s::geometry) ORDER BY mslink", (point,))]
    assert touching == [low, high]  # the point really is on both barrios
    districts = dict(writer.execute("SELECT mslink, district_code FROM monitor.barrios WHERE mslink = ANY(%s)",
                                    ([low, high],)).fetchall())
    assert districts[low] != districts[high]

    instance_id = insert_row(writer, "instances", valid_instance(venue=point))
    assert place(writer, instance_id) == (low, districts[low])
    activity_id = insert_row(writer, "activities", {"instance_id": instance_id, "title": "Reunión", "source": "t",
                                                    "starts_at": "2026-12-01 18:00-03", "venue": point})
    assert writer.execute("SELECT barrio_id, district_code FROM monitor.activities WHERE id = %s",
                          (activity_id,)).fetchone() == (low, districts[low])


def test_moving_the_venue_moves_the_instance_and_its_placement_follows(writer):
    (a, district_a, point_a), *_, (b, district_b, point_b) = writer.execute(INTERIOR_POINTS).fetchall()
    instance_id = insert_row(writer, "instances", valid_instance(venue=point_a))
    assert place(writer, instance_id) == (a, district_a)
    writer.execute("UPDATE monitor.instances SET venue = %s WHERE id = %s", (point_b, instance_id))
    assert place(writer, instance_id) == (b, district_b)
    # An update that does not touch the venue keeps the placement.
    writer.execute("UPDATE monitor.instances SET name = 'Consejo renombrado' WHERE id = %s", (instance_id,))
    assert place(writer, instance_id) == (b, district_b)
    # Going online without a venue: no barrio; the district comes from the scope only.
    writer.execute("UPDATE monitor.instances SET modality = 'online', venue = NULL, "
                   "online_url = 'https://participa.rosario.gob.ar', scope = 'district', "
                   "scope_district_code = %s WHERE id = %s", (district_a, instance_id))
    assert place(writer, instance_id) == (None, district_a)


def test_an_activity_without_a_place_happens_at_its_instance(writer):
    (mslink, district, point), *_ = writer.execute(INTERIOR_POINTS).fetchall()
    instance_id = insert_row(writer, "instances", valid_instance(venue=point, venue_address="Calle 123"))
    activity_id = insert_row(writer, "activities", {"instance_id": instance_id, "title": "Asamblea", "source": "t",
                                                    "starts_at": "2026-12-01 18:00-03"})
    row = writer.execute("SELECT barrio_id, district_code, venue_address, ST_AsEWKT(venue) = %s "
                         "FROM monitor.activities WHERE id = %s", (point, activity_id)).fetchone()
    assert row == (mslink, district, "Calle 123", True)


def test_a_barrio_scoped_instance_takes_its_venue_barrio_as_scope(writer):
    (mslink, _district, point), *_ = writer.execute(INTERIOR_POINTS).fetchall()
    instance_id = insert_row(writer, "instances", valid_instance(venue=point, scope="barrio"))
    assert writer.execute("SELECT scope_barrio_id FROM monitor.instances WHERE id = %s",
                          (instance_id,)).fetchone()[0] == mslink
