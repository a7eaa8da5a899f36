"""Atom feeds of instances, activities and commitments: valid Atom (RFC 4287, read by `feedparser` and checked
element by element), filtered by barrio and theme, the same entries as the published views."""

from __future__ import annotations

from datetime import UTC, datetime

import feedparser
import pytest
from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"
FEEDS = {  # feed → (view, barrio column, themes expression, order)
    "instancias": ("published.instances x", "x.barrio_id", "x.themes", "x.updated_at DESC, x.id DESC"),
    "actividades": ("published.activities x JOIN published.instances i ON i.id = x.instance_id "
                    "AND coalesce(x.ends_at, x.starts_at) >= now()", "x.barrio_id", "i.themes", "x.starts_at, x.id"),
    "compromisos": ("published.commitments x", "x.barrio_id", "x.themes", "x.updated_at DESC, x.id DESC"),
}
COLLECTION = {"instancias": "instances", "actividades": "activities", "compromisos": "commitments"}


def expected_ids(sql, feed: str, barrio: int | None = None, theme: str | None = None) -> list[int]:
    source, barrio_column, themes, order = FEEDS[feed]
    where = ["TRUE"] + ([f"{barrio_column} = %(barrio)s"] if barrio else []) + \
        ([f"%(theme)s = ANY({themes})"] if theme else [])
    return [r[0] for r in sql(f"SELECT x.id FROM {source} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT 50",
                              {"barrio": barrio, "theme": theme})]


def check_atom(body: bytes) -> etree._Element:
    """RFC 4287 §4.1: a feed has one id, title and updated, an author (or every entry has one), a self link; each
    entry one id, title, updated and an alternate link; ids are IRIs and dates RFC 3339."""
    root = etree.fromstring(body)
    assert root.tag == f"{ATOM}feed"
    for parent in [root, *root.findall(f"{ATOM}entry")]:
        for tag in ("id", "title", "updated"):
            assert len(parent.findall(f"{ATOM}{tag}")) == 1, (parent.tag, tag)
        assert parent.findtext(f"{ATOM}id").startswith("http")
        datetime.fromisoformat(parent.findtext(f"{ATOM}updated"))
        alternates = [x for x in parent.findall(f"{ATOM}link") if x.get("rel", "alternate") == "alternate"]
        assert len(alternates) == 1, parent.findtext(f"{ATOM}id")  # no rel: alternate (RFC 4287 §4.2.7.2)
    assert root.find(f"{ATOM}author/{ATOM}name") is not None
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    return root


@pytest.mark.parametrize("feed", list(FEEDS))
def test_feeds_are_valid_atom_with_the_published_records(http, sql, feed):
    response = http.get(f"/feeds/{feed}.atom")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    root = check_atom(response.content)
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10" and parsed.feed.language == "es"
    ids = [int(e.id.rsplit("/", 1)[1]) for e in parsed.entries]
    assert ids == expected_ids(sql, feed) and ids, feed
    assert all(e.id.endswith(f"/collections/{COLLECTION[feed]}/items/{i}") for e, i in zip(parsed.entries, ids,
                                                                                             strict=True))
    updated = max(datetime.fromisoformat(x.findtext(f"{ATOM}updated")) for x in root.findall(f"{ATOM}entry"))
    assert datetime.fromisoformat(root.findtext(f"{ATOM}updated")) == updated <= datetime.now(UTC)
    assert http.get(f"/feeds/{feed}.atom", headers={"If-None-Match": response.headers["etag"]}).status_code == 304


@pytest.mark.parametrize("feed", list(FEEDS))
def test_feeds_filter_by_barrio_and_theme(http, sql, feed):
    source, barrio_column, themes, _ = FEEDS[feed]
    barrio, theme = sql(f"SELECT {barrio_column}, t FROM {source}, unnest({themes}) t "
                        f"WHERE {barrio_column} IS NOT NULL GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1")[0]
    for params in ({"barrio": barrio}, {"theme": theme}, {"barrio": barrio, "theme": theme}):
        parsed = feedparser.parse(http.get(f"/feeds/{feed}.atom", params=params).content)
        assert not parsed.bozo
        assert [int(e.id.rsplit("/", 1)[1]) for e in parsed.entries] == expected_ids(sql, feed, **params), params
        assert parsed.feed.links[0].href.endswith("?" + "&".join(f"{k}={v}" for k, v in params.items()))
    if theme:
        entry = feedparser.parse(http.get(f"/feeds/{feed}.atom", params={"theme": theme}).content).entries[0]
        assert theme in [t.term for t in entry.tags]


def test_feed_refusals(http):
    for params in ({"barrio": 0}, {"barrio": 987654}, {"theme": "nada"}, {"barrio": "x"}):
        response = http.get("/feeds/instancias.atom", params=params)
        assert response.status_code == 400, params
        assert response.headers["content-type"] == "application/problem+json"


def test_demo_records_say_so_in_their_title(http, sql):
    parsed = feedparser.parse(http.get("/feeds/instancias.atom").content)
    demo = {r[0] for r in sql("SELECT id FROM published.instances WHERE is_demo")}
    for entry in parsed.entries:
        assert entry.title.endswith("(dato de demostración)") == (int(entry.id.rsplit("/", 1)[1]) in demo)
