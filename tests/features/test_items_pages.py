"""Items pages: chosen by key then read by id (layers/features_sql.items_sql), kept per selection and checked
against the data versions of their tables (api/features/pages.py). Every answer is the selection as it is now."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from psycopg import sql as psql
from psycopg_pool import AsyncConnectionPool

from api.features.pages import layer_tables
from layers.catalogue import LAYERS, get_layer


def reference_ids(sql, layer_id: str, limit: int, offset: int, order: str | None = None) -> list:
    """The page's ids as one plain statement over the published view chooses them (the layer's order, then id)."""
    layer = get_layer(layer_id)
    order = order or ", ".join([*(c.strip() for c in layer.order_by.split(",")), layer.id_column])
    query = psql.SQL("SELECT {id} FROM {src} ORDER BY {order} LIMIT %s OFFSET %s").format(
        id=psql.Identifier(layer.id_column), src=psql.Identifier(*layer.source.split(".")), order=psql.SQL(order))
    return [row[0] for row in sql(query, (limit, offset))]


@pytest.mark.parametrize("layer", [layer.id for layer in LAYERS])
def test_a_page_is_the_selection_one_plain_statement_makes(http, sql, layer):
    for offset in (0, 3):
        body = http.get(f"/collections/{layer}/items", params={"limit": 7, "offset": offset}).json()
        expected = reference_ids(sql, layer, 7, offset)
        assert [f["id"] for f in body["features"]] == expected
        assert body["numberReturned"] == len(expected)
        source = get_layer(layer).source
        assert body["numberMatched"] == sql(f"SELECT count(*) FROM {source}")[0][0]  # noqa: S608 (catalogue)


def test_sorted_and_filtered_pages_match_plain_sql(http, sql):
    body = http.get("/collections/instances/items", params={
        "limit": 5, "offset": 2, "sortby": "-standards_met,name", "filter": "promoter = 'state'"}).json()
    expected = [r[0] for r in sql("SELECT id FROM published.instances WHERE promoter = 'state' "
                                  "ORDER BY standards_met DESC NULLS LAST, name ASC NULLS LAST, id LIMIT 5 OFFSET 2")]
    assert [f["id"] for f in body["features"]] == expected
    assert body["numberMatched"] == sql("SELECT count(*) FROM published.instances WHERE promoter = 'state'")[0][0]


def test_a_page_past_the_end_still_counts_the_selection(http, sql):
    matched = sql("SELECT count(*) FROM published.barrios")[0][0]
    body = http.get("/collections/barrios/items", params={"limit": 10, "offset": matched + 5}).json()
    assert body["numberMatched"] == matched and body["numberReturned"] == 0 and body["features"] == []
    rels = {link["rel"] for link in body["links"]}
    assert "prev" in rels and "next" not in rels


def test_kept_pages_follow_writes_made_outside_the_api(world):
    """Writes by psql, an import or another worker: the next answer shows them (no time to live)."""
    http, sql = world["http"], world["sql"]

    def write(statement: str, params: tuple) -> None:
        with psycopg.connect(world["url"], autocommit=True) as conn:
            conn.execute(statement, params)

    def page() -> dict:
        return http.get("/collections/activities/items", params={"limit": 5}).json()

    first = page()
    assert page() == first  # asked again: the kept page, unchanged
    activity = first["features"][0]["id"]
    write("UPDATE monitor.activities SET title = 'Título cambiado por SQL' WHERE id = %s", (activity,))
    changed = page()
    assert changed["features"][0]["properties"]["title"] == "Título cambiado por SQL"
    assert changed["numberMatched"] == first["numberMatched"]

    write("UPDATE monitor.activities SET deleted_at = now() WHERE id = %s", (activity,))
    gone = page()
    assert activity not in [f["id"] for f in gone["features"]]
    assert gone["numberMatched"] == first["numberMatched"] - 1

    # Another table the layer reads: withdrawing an instance withdraws its activities.
    instance = gone["features"][0]["properties"]["instance_id"]
    own = sql("SELECT count(*) FROM published.activities WHERE instance_id = %s", (instance,))[0][0]
    write("UPDATE monitor.instances SET moderation = 'pending' WHERE id = %s", (instance,))
    withdrawn = page()
    assert instance not in [f["properties"]["instance_id"] for f in withdrawn["features"]]
    assert withdrawn["numberMatched"] == gone["numberMatched"] - own


def test_only_layers_whose_rows_decide_their_pages_are_kept(template_db):
    """A view that reads the clock (commitments: overdue) or calls a function of ours that reads other tables
    (the index layers: the latest run) changes without a write to its tables: never kept."""
    async def tables() -> dict:
        async with AsyncConnectionPool(template_db, min_size=1, max_size=1, open=False) as pool:
            return {layer.id: await layer_tables(pool, layer) for layer in LAYERS}

    found = asyncio.run(tables())
    assert found["commitments"] is None and found["hexagons"] is None and found["barrio_index"] is None
    with_oids = {name: oid for oid, name in _relations(template_db)}
    assert with_oids["monitor.activities"] in found["activities"]
    assert with_oids["monitor.instances"] in found["activities"]
    assert with_oids["monitor.instance_standards"] in found["instances"]  # standards_met


def _relations(url: str) -> list[tuple[int, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT oid::int8, oid::regclass::text FROM pg_class "
                            "WHERE relnamespace = 'monitor'::regnamespace AND relkind = 'r'").fetchall()


def test_paging_a_kept_selection_follows_writes_made_outside_the_api(world):
    """Pages after the first are read by id from the selection's kept ids: a write in between must show."""
    http, sql = world["http"], world["sql"]

    def page(offset: int) -> dict:
        return http.get("/collections/instances/items", params={"limit": 5, "offset": offset}).json()

    first = page(0)
    assert [f["id"] for f in page(5)["features"]] == reference_ids(sql, "instances", 5, 5)
    moved = reference_ids(sql, "instances", 5, 7)[0]  # on the second page
    with psycopg.connect(world["url"], autocommit=True) as conn:
        conn.execute("UPDATE monitor.instances SET moderation = 'pending' WHERE id = %s", (moved,))
    second = page(5)
    assert moved not in [f["id"] for f in second["features"]]
    assert [f["id"] for f in second["features"]] == reference_ids(sql, "instances", 5, 5)
    assert second["numberMatched"] == first["numberMatched"] - 1


def test_a_selection_too_large_to_keep_is_paged_exactly(world, monkeypatch):
    """Past MAX_SELECTION_KEYS ids a selection is read page by page (a top-N sort each), its pages still kept."""
    from api.features import items

    monkeypatch.setattr(items, "MAX_SELECTION_KEYS", 10)  # the test server runs in this process
    http, sql = world["http"], world["sql"]

    def page(offset: int) -> dict:
        return http.get("/collections/instances/items", params={"limit": 5, "offset": offset}).json()

    for offset in (0, 5, 5, 10):
        assert [f["id"] for f in page(offset)["features"]] == reference_ids(sql, "instances", 5, offset)
    matched = page(5)["numberMatched"]
    moved = reference_ids(sql, "instances", 5, 7)[0]
    with psycopg.connect(world["url"], autocommit=True) as conn:
        conn.execute("UPDATE monitor.instances SET moderation = 'pending' WHERE id = %s", (moved,))
    again = page(5)
    assert [f["id"] for f in again["features"]] == reference_ids(sql, "instances", 5, 5)
    assert again["numberMatched"] == matched - 1


def test_a_kept_page_is_tagged_by_what_it_is_and_every_change_of_its_body_changes_the_tag(world):
    """Pages read with data versions are tagged from their query, versions and head, not by hashing the body: the
    tag must still follow the body exactly."""
    http = world["http"]
    url = "/collections/activities/items"

    def ask(**params):
        answer = http.get(url, params={"limit": 5, **params}, headers={"Accept-Encoding": "identity"})
        assert answer.status_code == 200
        return answer

    first = ask()
    tag = first.headers["etag"]
    assert ask().headers["etag"] == tag and ask().content == first.content
    assert http.get(url, params={"limit": 5}, headers={"If-None-Match": tag}).status_code == 304
    assert ask(offset=1).headers["etag"] != tag  # another page
    assert ask(properties="title").headers["etag"] != tag  # the same rows, other properties
    same_rows = ask(f="json")  # the same features, but links that carry f=json: another body, another tag
    assert same_rows.json()["features"] == first.json()["features"] and same_rows.content != first.content
    assert same_rows.headers["etag"] != tag
    activity = first.json()["features"][0]["id"]
    with psycopg.connect(world["url"], autocommit=True) as conn:
        conn.execute("UPDATE monitor.activities SET title = 'Otro título' WHERE id = %s", (activity,))
    changed = ask()
    assert changed.content != first.content and changed.headers["etag"] != tag
    assert http.get(url, params={"limit": 5}, headers={"If-None-Match": tag}).status_code == 200
    gzipped = http.get(url, params={"limit": 5}, headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["etag"] in (changed.headers["etag"][:-1] + '-gzip"', changed.headers["etag"])
