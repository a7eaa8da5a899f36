"""Each tile statement is prepared once per connection, whatever the zoom and address: the warm-up at start-up
(api/tiles/service.py) then leaves no planning to the first tiles a server is asked for."""

from __future__ import annotations

import psycopg

from api.tiles.service import served_statements, statement
from layers.catalogue import MAP_LAYERS
from layers.tiles_sql import layers_at_zoom, tile_params

ADDRESSES = [(0, 0, 0), (10, 339, 611), (11, 679, 1222), (12, 1358, 2445), (14, 5433, 9781), (16, 21732, 39125)]


def test_one_prepared_statement_per_text_for_every_zoom_and_address(template_db):
    with psycopg.connect(template_db, autocommit=True) as conn:
        texts = set()
        for z, x, y in ADDRESSES:
            for layers in (MAP_LAYERS, *([layer] for layer in MAP_LAYERS)):
                active = layers_at_zoom(layers, z)
                if active:
                    text = statement(active, z)
                    texts.add(text)
                    conn.execute(text, tile_params(z, x, y), prepare=True)
        prepared = conn.execute("SELECT count(*), count(DISTINCT statement) FROM pg_prepared_statements").fetchone()
    assert prepared == (len(texts), len(texts))
    assert texts <= set(served_statements())  # the warm-up prepares every one of them
