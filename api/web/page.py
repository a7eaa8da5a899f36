"""GET /map: the public web map page, its own static files and the front-end packages installed by npm."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.errors import Problem

router = APIRouter(tags=["map"])

STATIC_DIR = Path(__file__).resolve().parent / "static"
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
# Only the built files of the two packages the page uses are served, never the whole node_modules.
VENDOR = {"maplibre-gl": NODE_MODULES / "maplibre-gl" / "dist", "pmtiles": NODE_MODULES / "pmtiles" / "dist"}


class CachedStaticFiles(StaticFiles):
    """Static files with a Cache-Control header (ETag and Last-Modified come from StaticFiles)."""

    def __init__(self, *args, max_age: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_age = max_age

    def file_response(self, *args, **kwargs):
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = f"public, max-age={self.max_age}"
        return response


@router.get("/map", include_in_schema=False)
async def map_page():
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})


@router.get("/map/", include_in_schema=False)
async def map_page_slash():
    return RedirectResponse("/map", status_code=308)


def missing_package(package: str):
    async def endpoint(path: str):
        raise Problem(503, "Front-end package missing",
                      f"{package} is not installed: run `make setup` (npm ci) in the checkout")
    return endpoint


router.mount("/map/static", CachedStaticFiles(directory=STATIC_DIR, max_age=300), name="map-static")
for package, folder in VENDOR.items():
    if folder.is_dir():
        router.mount(f"/map/vendor/{package}", CachedStaticFiles(directory=folder, max_age=86400),
                     name=f"vendor-{package}")
    else:  # `make setup` (npm ci) was not run: say so instead of a bare 404
        router.add_api_route(f"/map/vendor/{package}/{{path:path}}", missing_package(package),
                             include_in_schema=False)
