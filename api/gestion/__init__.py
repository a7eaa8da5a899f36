"""The back-office in Spanish (/gestion): sign-in with sessions, pages for organisations, editors and admins, over
the same API and rules as every other client (docs/api.md, "The back-office")."""

from fastapi import APIRouter

from api.gestion import routes, sessions

router = APIRouter()
for part in (sessions.router, routes.pages, routes.router):
    router.include_router(part)
