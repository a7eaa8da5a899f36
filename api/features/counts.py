"""numberMatched without a count per page: clients page through one selection (same filter, next offsets),
so its count is kept for a few seconds, keyed by the layer and the compiled WHERE clause with its values.

Any write through this API clears every count (a moderation decision on an instance also changes which
activities are published). Writes made elsewhere (imports, another worker) show within `TTL_SECONDS`.
"""

from __future__ import annotations

import time
from collections import OrderedDict

TTL_SECONDS = 10.0
MAX_ENTRIES = 1024

_counts: OrderedDict[tuple, tuple[float, int]] = OrderedDict()


def key(database: str, layer_id: str, statement: str, params: list) -> tuple:
    return (database, layer_id, statement, tuple(repr(p) for p in params))


def get(cache_key: tuple) -> int | None:
    entry = _counts.get(cache_key)
    if entry is None or entry[0] < time.monotonic():
        return None
    _counts.move_to_end(cache_key)
    return entry[1]


def put(cache_key: tuple, count: int, ttl: float) -> None:
    _counts[cache_key] = (time.monotonic() + min(ttl, TTL_SECONDS), count)
    _counts.move_to_end(cache_key)
    while len(_counts) > MAX_ENTRIES:
        _counts.popitem(last=False)


def forget_all() -> None:
    _counts.clear()
