"""GET /health: is the database there, which schema, how much is loaded."""

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool

from api.database import get_pool
from api.errors import RETRY_AFTER_SECONDS

router = APIRouter(tags=["health"])

COUNTS = """
SELECT (SELECT count(*) FROM published.barrios) AS barrios,
       (SELECT count(*) FROM published.districts) AS districts,
       (SELECT count(*) FROM published.instances) AS instances,
       (SELECT count(*) FROM published.activities) AS activities,
       (SELECT count(*) FROM published.instances WHERE is_demo) AS demo_instances,
       (SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version) AS schema_revision,
       postgis_lib_version() AS postgis
"""


@router.get("/health", summary="Service and database state")
async def health(pool: AsyncConnectionPool = Depends(get_pool)):
    try:
        async with pool.connection(timeout=5) as conn:
            row = await (await conn.execute(COUNTS)).fetchone()
    except Exception as exc:  # the answer itself must say the database is down, not fail
        # `degraded`: the service is up and answers (pages, errors), the data is not reachable until it returns.
        return JSONResponse({"status": "degraded", "database": "unavailable", "detail": str(exc)[:200]},
                            status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    barrios, districts, instances, activities, demo, revision, postgis = row
    return {
        "status": "ok",
        "database": "ok",
        "schema_revision": revision,
        "postgis": postgis,
        "counts": {"barrios": barrios, "districts": districts, "instances": instances, "activities": activities},
        "demo_instances": demo,
    }
