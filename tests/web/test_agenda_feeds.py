"""The agenda as JSON and as iCalendar feeds, checked against the same selection made in SQL."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar

UPCOMING = """
SELECT a.id, a.title, a.instance_id, a.barrio_id, a.district, a.kind, a.starts_at, a.ends_at, a.is_demo,
       a.status, a.version, a.venue_address
FROM published.activities a
WHERE coalesce(a.ends_at, a.starts_at) >= %s {extra}
ORDER BY a.starts_at, a.id
"""


def upcoming(sql, extra="", params=()):
    return sql(UPCOMING.format(extra=extra), (datetime.now(UTC), *params))


def parse_feed(response) -> icalendar.Calendar:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.content)


def uid_of(activity_id: int) -> str:
    return f"activity-{activity_id}@monitor-participacion.rosario"


def test_agenda_lists_the_next_activities_in_order(http, sql):
    expected = upcoming(sql)[:100]
    assert expected, "the demo registry has upcoming activities"
    body = http.get("/agenda").json()
    assert [a["id"] for a in body["activities"]] == [row["id"] for row in expected]
    first = body["activities"][0]
    assert first["starts_at"].endswith("-03:00")  # local time of Rosario
    assert datetime.fromisoformat(first["starts_at"]) == expected[0]["starts_at"]
    assert first["is_demo"] == expected[0]["is_demo"]


def test_agenda_filters_by_barrio_district_kind_and_instance(http, sql):
    row = upcoming(sql)[0]
    for param, column, value in (("barrio", "barrio_id", row["barrio_id"]), ("district", "district", row["district"]),
                                 ("kind", "kind", row["kind"]), ("instance", "instance_id", row["instance_id"])):
        expected = upcoming(sql, f"AND a.{column} = %s", (value,))[:100]
        got = http.get("/agenda", params={param: value}).json()["activities"]
        assert [a["id"] for a in got] == [r["id"] for r in expected], param
        assert got and all(a[{"instance": "instance_id", "barrio": "barrio_id"}.get(param, param)] == value
                           for a in got)


def test_agenda_can_leave_demo_records_out(http, sql):
    expected = upcoming(sql, "AND NOT a.is_demo")[:100]
    got = http.get("/agenda", params={"demo": "false"}).json()["activities"]
    assert [a["id"] for a in got] == [r["id"] for r in expected]
    assert all(not a["is_demo"] for a in got)


def test_bad_agenda_filters_are_400_problems(http):
    for params in ({"kind": "fiesta"}, {"district": "ATLANTIDA"}, {"barrio": "abc"}, {"limit": 0}):
        response = http.get("/agenda", params=params)
        assert response.status_code == 400, params
        assert response.headers["content-type"] == "application/problem+json"
    assert http.get("/instances/999999/agenda.ics").status_code == 404
    assert http.get("/barrios/999999/agenda.ics").status_code == 404


def test_city_feed_parses_and_holds_the_expected_events(http, sql):
    calendar = parse_feed(http.get("/agenda.ics", params={"district": "CENTRO"}))
    assert str(calendar["VERSION"]) == "2.0" and calendar["PRODID"]
    timezones = [tz["TZID"] for tz in calendar.walk("VTIMEZONE")]
    assert timezones == ["America/Argentina/Cordoba"]
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    recent = sql("""SELECT id, title, starts_at, ends_at, is_demo, status, version, venue_address
                    FROM published.activities WHERE district = 'CENTRO' AND coalesce(ends_at, starts_at)
                    >= now() - interval '30 days' ORDER BY starts_at, id""")
    assert set(events) == {uid_of(r["id"]) for r in recent}
    for row in recent:
        event = events[uid_of(row["id"])]
        assert event.decoded("DTSTART") == row["starts_at"]
        assert event["DTSTART"].params["TZID"] == "America/Argentina/Cordoba"
        assert event.decoded("DTSTAMP").tzinfo is not None
        assert str(event["SUMMARY"]) == ("[DEMO] " if row["is_demo"] else "") + row["title"]
        assert ("DEMO" in [str(c) for c in event["CATEGORIES"].cats]) == row["is_demo"]
        assert str(event["STATUS"]) == ("CANCELLED" if row["status"] == "cancelled" else "CONFIRMED")
        assert int(event["SEQUENCE"]) == row["version"] - 1
        assert str(event["URL"]).startswith("http")
        if row["venue_address"]:
            assert str(event["LOCATION"]) == row["venue_address"]


def test_uids_are_stable_between_requests(http):
    first = parse_feed(http.get("/agenda.ics"))
    second = parse_feed(http.get("/agenda.ics"))
    assert [str(e["UID"]) for e in first.walk("VEVENT")] == [str(e["UID"]) for e in second.walk("VEVENT")]
    assert len({str(e["UID"]) for e in first.walk("VEVENT")}) == len(first.walk("VEVENT"))


def test_instance_and_barrio_feeds_hold_their_own_activities(http, sql):
    row = upcoming(sql)[0]
    for path, column, value, name_query in (
        (f"/instances/{row['instance_id']}/agenda.ics", "instance_id", row["instance_id"],
         "SELECT name FROM published.instances WHERE id = %s"),
        (f"/barrios/{row['barrio_id']}/agenda.ics", "barrio_id", row["barrio_id"],
         "SELECT name FROM published.barrios WHERE id = %s"),
    ):
        calendar = parse_feed(http.get(path))
        expected = sql(f"""SELECT id FROM published.activities WHERE {column} = %s
                           AND coalesce(ends_at, starts_at) >= now() - interval '30 days'""", (value,))
        assert {str(e["UID"]) for e in calendar.walk("VEVENT")} == {uid_of(r["id"]) for r in expected}
        assert uid_of(row["id"]) in {str(e["UID"]) for e in calendar.walk("VEVENT")}
        assert sql(name_query, (value,))[0]["name"] in str(calendar["X-WR-CALNAME"])
