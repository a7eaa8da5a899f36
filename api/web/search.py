"""GET /map/search?q=: instances and barrios whose name contains the words typed (accents ignored)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from api.database import get_pool

router = APIRouter(tags=["map"])

# translate() folds Spanish accents without needing the unaccent extension on the server.
FOLD = "translate(lower({}), 'áéíóúüñ', 'aeiouun')"
SEARCH = f"""
(SELECT 'barrio' AS type, b.id, b.name, b.district_name AS detail, false AS is_demo,
        ST_X(ST_PointOnSurface(b.geom)) AS lon, ST_Y(ST_PointOnSurface(b.geom)) AS lat,
        ARRAY[ST_XMin(b.geom), ST_YMin(b.geom), ST_XMax(b.geom), ST_YMax(b.geom)] AS bbox
 FROM published.barrios b WHERE {FOLD.format('b.name')} LIKE %(pattern)s
 ORDER BY position(%(folded)s IN {FOLD.format('b.name')}), b.name LIMIT %(limit)s)
UNION ALL
(SELECT 'instance', i.id, i.name, i.kind_label || coalesce(' · ' || i.barrio, ''), i.is_demo,
        ST_X(i.geom), ST_Y(i.geom), NULL
 FROM published.instances i WHERE {FOLD.format('i.name')} LIKE %(pattern)s
 ORDER BY position(%(folded)s IN {FOLD.format('i.name')}), i.name LIMIT %(limit)s)
"""


def fold(text: str) -> str:
    return text.lower().translate(str.maketrans("áéíóúüñ", "aeiouun"))


@router.get("/map/search", summary="Find instances and barrios by name")
async def search(q: str = Query(..., min_length=2, max_length=100, description="part of a name"),
                 limit: int = Query(8, ge=1, le=50), pool: AsyncConnectionPool = Depends(get_pool)):
    folded = fold(q.strip())
    pattern = "%" + folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SEARCH, {"pattern": pattern, "folded": folded, "limit": limit})
        return {"query": q, "results": await cur.fetchall()}
