"""A local Decidim for the tests: Decidim's GraphQL schema (the SDL in gis/decidim/schema, written from Decidim's
type definitions) served by graphql-core over real HTTP, and the same records as an open-data ZIP.

The records are Rosario-like (Spanish, with awkward cases: HTML descriptions, missing translations, meetings
without coordinates, one in the river, several pages of everything). A test changes `platform.data` between runs
to play an upstream change. Behaviours: `throttle` answers 429 to that many requests first, `down` answers 503
forever, `version` is what `decidim { version }` says (None: hidden).
"""

from __future__ import annotations

import base64
import copy
import csv
import io
import threading
import time
import zipfile
from pathlib import Path

import uvicorn
from graphql import GraphQLSchema, build_schema, graphql_sync
from http_helpers import free_port
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "gis" / "decidim" / "schema"
HOST = "participa.rosario.test"


def schema_for(version: str | None, taxonomies: bool | None = None) -> GraphQLSchema:
    numbers = tuple(int(p) for p in (version or "0.30").split(".")[:2])
    taxonomies = numbers >= (0, 30) if taxonomies is None else taxonomies
    parts = [(SCHEMA_DIR / "decidim.graphql").read_text(),
             (SCHEMA_DIR / ("taxonomies.graphql" if taxonomies else "categories.graphql")).read_text()]
    if numbers >= (0, 31):
        parts.append((SCHEMA_DIR / "result_proposals.graphql").read_text())
    return build_schema("\n".join(parts))


# ---------------------------------------------------------------- the records (Decidim's attributes)

CATEGORIES = {
    "1": {"es": "Espacio público", "en": "Public space"},
    "2": {"es": "Ambiente y sustentabilidad"},
    "3": {"es": "Movilidad"},
    "4": {"es": "Niñez", "ca": "Infància"},
    "5": {"es": "Educación"},
    "6": {"es": "Personas mayores"},
    "7": {"es": "Misceláneas"},
}


def rosario_data() -> dict:
    """Four spaces (two processes, two assemblies), 9 meetings, 7 proposals, 4 results."""
    spaces = [
        {"kind": "process", "id": "12", "slug": "pp-2025",
         "title": {"es": "Presupuesto Participativo 2025", "en": "Participatory Budget 2025"},
         "subtitle": {"es": "Tu barrio, tus prioridades"},
         "short_description": {"es": "<p>Decidí en qué se invierte&nbsp;el presupuesto de <strong>tu distrito</strong>."
                                     "</p>"},
         "description": {"es": "<h2>Etapas</h2><ul><li>Propuestas vecinales</li><li>Votación</li></ul>"
                               "<p>Más información en los <em>Centros Municipales de Distrito</em>."
                               "<br>¡Participá!</p>"},
         "meta_scope": {"es": "Los seis distritos"},
         "participatory_scope": {"es": "<p>Qué obras se hacen con el 10 % del presupuesto de cada distrito.</p>"},
         "participatory_structure": {"es": "Asambleas barriales y votación en línea."},
         "target": {"es": "Vecinas y vecinos desde los 16 años."},
         "start_date": "2025-03-01", "end_date": "2030-12-15", "published_at": "2025-02-20T09:00:00-03:00",
         "created_at": "2025-02-01T09:00:00-03:00", "updated_at": "2025-03-01T10:00:00-03:00",
         "categories": ["1", "2"], "taxonomies": ["1", "2"],
         "components": [{"id": "101", "type": "Meetings", "name": {"es": "Encuentros"}},
                        {"id": "102", "type": "Proposals", "name": {"es": "Propuestas"}},
                        {"id": "103", "type": "Accountability", "name": {"es": "Seguimiento"}},
                        {"id": "104", "type": "Pages", "name": {"es": "Preguntas frecuentes"}}]},
        {"kind": "process", "id": "13", "slug": "plan-movilidad",
         "title": {"en": "Sustainable Mobility Plan"},  # no Spanish title: falls back to English
         "short_description": {"es": "", "en": "A plan for buses, bikes and walking."},
         "description": {"es": "Plan de movilidad sustentable: colectivos, bicisendas y peatones."},
         "start_date": "2025-04-01", "end_date": "2030-06-30", "published_at": "2025-03-20T09:00:00-03:00",
         "created_at": "2025-03-01T09:00:00-03:00", "updated_at": "2025-04-01T10:00:00-03:00",
         "categories": ["3"], "taxonomies": ["3"],
         "components": [{"id": "111", "type": "Meetings", "name": {"es": "Encuentros"}}]},
        {"kind": "assembly", "id": "5", "slug": "consejo-ninas-ninos",
         "title": {"es": "Consejo de Niñas y Niños"},
         "short_description": {"es": "<p>Chicas y chicos de 9 a 11 años proponen mejoras para la ciudad.</p>"},
         "description": {"es": "<div>Se reúne los <b>sábados</b> en el Centro Municipal de Distrito Norte.</div>"},
         "participatory_scope": {"es": "Propuestas para la ciudad desde la mirada de las infancias."},
         "target": {"es": "Niñas y niños de escuelas de Rosario."},
         "creation_date": "2018-03-01", "closing_date": None, "published_at": "2018-03-01T09:00:00-03:00",
         "created_at": "2018-03-01T09:00:00-03:00", "updated_at": "2025-02-01T10:00:00-03:00",
         "categories": ["4", "5"], "taxonomies": ["4", "5"],
         "components": [{"id": "121", "type": "Meetings", "name": {"es": "Sesiones"}},
                        {"id": "122", "type": "Accountability", "name": {"es": "Resultados"}}]},
        {"kind": "assembly", "id": "6", "slug": "consejo-personas-mayores",
         "title": {"es": "Consejo Asesor de Personas Mayores"},
         "short_description": {"es": "Consejo consultivo (cerrado en 2019)."},
         "creation_date": "2012-05-01", "closing_date": "2019-12-31", "published_at": "2012-05-01T09:00:00-03:00",
         "created_at": "2012-05-01T09:00:00-03:00", "updated_at": "2020-01-10T10:00:00-03:00",
         "categories": ["6", "7"], "taxonomies": ["6", "7"],
         "components": [{"id": "131", "type": "Meetings", "name": {"es": "Reuniones"}}]},
    ]
    meetings = [
        {"id": "201", "component": "101", "title": {"es": "Asamblea barrial Distrito Norte"},
         "description": {"es": "<p>Presentación de propuestas &amp; priorización.</p>"},
         "start_time": "2025-05-10T18:00:00-03:00", "end_time": "2025-05-10T20:00:00-03:00",
         "address": "Av. Puccio 1850", "location": {"es": "Centro Municipal de Distrito Norte"},
         "latitude": -32.8907, "longitude": -60.6932, "type_of_meeting": "in_person", "category": "1",
         "registrations_enabled": True, "updated_at": "2025-04-01T10:00:00-03:00"},
        {"id": "202", "component": "101", "title": {"es": "Asamblea barrial Distrito Oeste"},
         "start_time": "2025-05-17T18:00:00-03:00", "end_time": "2025-05-17T20:00:00-03:00",
         "address": "Av. Presidente Perón 4802", "location": {"es": "Centro Municipal de Distrito Oeste"},
         "latitude": -32.9586, "longitude": -60.7023, "type_of_meeting": "in_person", "category": "2",
         "closed": True, "updated_at": "2025-05-18T10:00:00-03:00"},
        {"id": "203", "component": "101", "title": {"es": "Consulta abierta en línea"},
         "start_time": "2025-05-20T19:00:00-03:00", "end_time": "2025-05-20T20:30:00-03:00",
         "type_of_meeting": "online", "online_meeting_url": "https://meet.example.org/pp-2025",
         "updated_at": "2025-04-01T10:00:00-03:00"},
        {"id": "204", "component": "101", "title": {"es": "Asamblea en la vecinal Sarmiento"},
         "start_time": "2025-05-24T17:00:00-03:00", "end_time": "2025-05-24T19:00:00-03:00",
         "address": "Sarmiento 1234", "type_of_meeting": "in_person",  # geocoding failed: no coordinates
         "updated_at": "2025-04-01T10:00:00-03:00"},
        {"id": "205", "component": "101", "title": {"es": "Cierre y votación"},
         "start_time": "2025-06-07T10:00:00-03:00", "end_time": "2025-06-07T13:00:00-03:00",
         "address": "Córdoba 1150", "location": {"es": "Centro"}, "latitude": -32.9473, "longitude": -60.6407,
         "type_of_meeting": "hybrid", "online_meeting_url": "https://meet.example.org/cierre",
         "updated_at": "2025-04-01T10:00:00-03:00"},
        {"id": "206", "component": "101", "title": {"es": "Recorrida por la costanera"},
         "start_time": "2025-06-14T10:00:00-03:00", "end_time": "2025-06-14T12:00:00-03:00",
         "address": "Río Paraná", "latitude": -32.93, "longitude": -60.60,  # in the river: no barrio
         "type_of_meeting": "in_person", "updated_at": "2025-04-01T10:00:00-03:00"},
        {"id": "211", "component": "111", "title": {"es": "Presentación del plan"},
         "start_time": "2025-04-15T18:00:00-03:00", "end_time": "2025-04-15T19:30:00-03:00",
         "type_of_meeting": "online", "online_meeting_url": "https://meet.example.org/movilidad",
         "category": "3", "updated_at": "2025-04-01T10:00:00-03:00"},
        {"id": "221", "component": "121", "title": {"es": "Sesión de apertura"},
         "start_time": "2025-04-05T10:00:00-03:00", "end_time": "2025-04-05T12:00:00-03:00",
         "address": "Av. Puccio 1850", "location": {"es": "CMD Norte"}, "latitude": -32.89071,
         "longitude": -60.69318, "type_of_meeting": "in_person", "category": "4",
         "updated_at": "2025-04-01T10:00:00-03:00"},
        {"id": "222", "component": "121", "title": {"es": "Sesión de propuestas"},
         "start_time": "2025-04-19T10:00:00-03:00", "end_time": "2025-04-19T12:00:00-03:00",
         "address": "Av. Puccio 1850", "location": {"es": "CMD Norte"}, "latitude": -32.8907,
         "longitude": -60.6932, "type_of_meeting": "in_person", "category": "5",
         "updated_at": "2025-04-01T10:00:00-03:00"},
        {"id": "231", "component": "131", "title": {"es": "Última reunión del consejo"},
         "start_time": "2019-11-20T17:00:00-03:00", "end_time": "2019-11-20T19:00:00-03:00",
         "address": "Urquiza 2600", "latitude": -32.9586, "longitude": -60.7023, "type_of_meeting": "in_person",
         "category": "6", "closed": True, "updated_at": "2019-11-21T10:00:00-03:00"},
    ]
    proposals = [
        {"id": "301", "component": "102", "title": {"es": "Iluminación en la plaza Alberdi"}, "state": "accepted",
         "category": "1"},
        {"id": "302", "component": "102", "title": {"es": "Bicisenda en calle Junín"}, "state": "accepted",
         "category": "2"},
        {"id": "303", "component": "102", "title": {"es": "Arbolado en Bv. Rondeau"}, "state": "accepted"},
        {"id": "304", "component": "102", "title": {"es": "Un estadio nuevo"}, "state": "rejected"},
        {"id": "305", "component": "102", "title": {"es": "Juegos para la plaza"}, "state": "evaluating"},
        {"id": "306", "component": "102", "title": {"es": "Propuesta retirada"}, "state": "withdrawn"},
        {"id": "307", "component": "102", "title": {"es": "Veredas accesibles"}, "state": None},
    ]
    results = [
        {"id": "401", "component": "103", "title": {"es": "Nueva iluminación LED en plaza Alberdi"},
         "description": {"es": "<p>Recambio de <strong>40 luminarias</strong>.</p>"},
         "start_date": "2025-07-01", "end_date": "2025-12-31", "progress": 35.0,
         "status": {"id": "2", "name": {"es": "En ejecución"}}, "category": "1", "proposals": ["301"],
         "updated_at": "2025-08-01T10:00:00-03:00"},
        {"id": "402", "component": "103", "title": {"es": "Bicisenda Junín"},
         "start_date": "2025-07-01", "end_date": "2026-03-31", "progress": 0.0,
         "status": {"id": "1", "name": {"es": "Sin iniciar"}}, "category": "2", "proposals": ["302", "303"],
         "updated_at": "2025-08-01T10:00:00-03:00"},
        {"id": "403", "component": "103", "title": {"ca": "Arbrat al bulevard"},  # only in Catalan
         "start_date": "2025-07-01", "end_date": "2025-09-30", "progress": 100.0,
         "status": {"id": "3", "name": {"es": "Finalizado"}}, "proposals": [],
         "updated_at": "2025-10-01T10:00:00-03:00"},
        {"id": "421", "component": "122", "title": {"es": "Semáforos cerca de las escuelas"},
         "start_date": "2025-05-01", "end_date": "2026-05-01", "progress": 60.0,
         "status": {"id": "2", "name": {"es": "En ejecución"}}, "category": "5", "proposals": [],
         "updated_at": "2025-06-01T10:00:00-03:00"},
    ]
    return {"spaces": spaces, "meetings": meetings, "proposals": proposals, "results": results}


# ---------------------------------------------------------------- the server

class FakeDecidim:
    def __init__(self, data: dict | None = None, version: str | None = "0.27.5", taxonomies: bool | None = None):
        self.data = data or rosario_data()
        self.version = version
        self.schema = schema_for(version, taxonomies)
        self.taxonomies = "Taxonomy" in self.schema.type_map
        self.result_proposals = "proposals" in self.schema.type_map["Result"].fields
        self.throttle = 0  # answer 429 to this many requests first
        self.down = False  # answer 503 to everything
        self.requests = 0
        self.queries: list[str] = []
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._install_resolvers()

    @property
    def api(self) -> str:
        return f"{self.base}/api"

    # ------------------------------------------------------------ resolvers

    def _install_resolvers(self) -> None:
        types = self.schema.type_map
        types["TranslatedField"].fields["translations"].resolve = (
            lambda obj, info, locales=None: [{"locale": k, "text": v} for k, v in obj.items()
                                             if not locales or k in locales])
        types["TranslatedField"].fields["locales"].resolve = lambda obj, info: list(obj)
        types["TranslatedField"].fields["translation"].resolve = lambda obj, info, locale: obj.get(locale)
        query = types["Query"].fields
        query["decidim"].resolve = lambda obj, info: {"version": self.version, "applicationName": "Rosario Participa"}
        query["participatoryProcesses"].resolve = lambda obj, info: [self._space(s) for s in self.data["spaces"]
                                                                     if s["kind"] == "process"]
        query["assemblies"].resolve = lambda obj, info: [self._space(s) for s in self.data["spaces"]
                                                         if s["kind"] == "assembly"]
        query["component"].resolve = lambda obj, info, id: self._component(id)
        for typename, field in (("Meetings", "meetings"), ("Proposals", "proposals"), ("Accountability", "results")):
            types[typename].fields[field].resolve = self._connection

    @staticmethod
    def _connection(component: dict, info, first: int | None = None, after: str | None = None, **_) -> dict:
        items = component["_items"]
        start = int(base64.b64decode(after).decode()) + 1 if after else 0
        size = min(first or 50, 50)
        page = items[start:start + size]
        last = start + len(page) - 1
        return {"nodes": page, "edges": [{"cursor": _cursor(start + i), "node": n} for i, n in enumerate(page)],
                "pageInfo": {"hasNextPage": start + size < len(items), "hasPreviousPage": start > 0,
                             "startCursor": _cursor(start) if page else None,
                             "endCursor": _cursor(last) if page else None}}

    def _classification(self, ids: list[str] | str | None, single: bool = False):
        ids = [ids] if isinstance(ids, str) else list(ids or [])
        items = [{"id": i, "name": CATEGORIES[i], "isRoot": False, "subcategories": []} for i in ids]
        if self.taxonomies:
            return {"taxonomies": items}
        if single:
            return {"category": items[0] if items else None}
        return {"categories": items}

    def _space(self, s: dict) -> dict:
        return {
            "__typename": "ParticipatoryProcess" if s["kind"] == "process" else "Assembly",
            "type": "Decidim::ParticipatoryProcess" if s["kind"] == "process" else "Decidim::Assembly",
            "id": s["id"], "slug": s["slug"], "title": s["title"], "subtitle": s.get("subtitle"),
            "shortDescription": s.get("short_description"), "description": s.get("description"),
            "metaScope": s.get("meta_scope"), "participatoryScope": s.get("participatory_scope"),
            "participatoryStructure": s.get("participatory_structure"), "target": s.get("target"),
            "startDate": s.get("start_date"), "endDate": s.get("end_date"),
            "creationDate": s.get("creation_date"), "closingDate": s.get("closing_date"),
            "publishedAt": s["published_at"], "createdAt": s["created_at"], "updatedAt": s["updated_at"],
            "components": [self._component(c["id"]) for c in s["components"]],
            **self._classification(s["taxonomies"] if self.taxonomies else s["categories"]),
        }

    def space_of(self, component_id: str) -> dict:
        return next(s for s in self.data["spaces"] if any(c["id"] == component_id for c in s["components"]))

    def url(self, space: dict, *rest: str) -> str:
        return "/".join([self.base, "processes" if space["kind"] == "process" else "assemblies", space["slug"],
                         *rest])

    def _component(self, component_id: str) -> dict | None:
        for space in self.data["spaces"]:
            for c in space["components"]:
                if c["id"] == str(component_id):
                    items = {"Meetings": [self._meeting(m) for m in self.data["meetings"] if m["component"] == c["id"]],
                             "Proposals": [self._proposal(p) for p in self.data["proposals"]
                                           if p["component"] == c["id"]],
                             "Accountability": [self._result(r) for r in self.data["results"]
                                                if r["component"] == c["id"]]}.get(c["type"], [])
                    if c["type"] not in ("Meetings", "Proposals", "Accountability"):
                        return None  # a component type outside the schema's subset (Pages…) is not listed
                    return {"__typename": c["type"], "id": c["id"], "name": c["name"], "_items": items}
        return None

    def _meeting(self, m: dict) -> dict:
        space = self.space_of(m["component"])
        return {
            "id": m["id"], "title": m["title"], "description": m.get("description"), "startTime": m["start_time"],
            "endTime": m["end_time"], "address": m.get("address"), "location": m.get("location"),
            "locationHints": None,
            # As Decidim: [latitude, longitude] even when they are nil; the non-null floats then fail and the
            # field comes back null with an error.
            "coordinates": {"latitude": m.get("latitude"), "longitude": m.get("longitude")},
            "typeOfMeeting": m.get("type_of_meeting", "in_person"), "onlineMeetingUrl": m.get("online_meeting_url")
            or "", "closed": bool(m.get("closed")), "registrationsEnabled": bool(m.get("registrations_enabled")),
            "createdAt": m.get("updated_at"), "updatedAt": m.get("updated_at"),
            "url": self.url(space, "f", m["component"], "meetings", m["id"]), "isWithdrawn": bool(m.get("withdrawn")),
            **self._classification(m.get("category"), single=True),
        }

    def _proposal(self, p: dict) -> dict:
        return {"id": p["id"], "title": p["title"], "state": p.get("state"), "publishedAt": "2025-04-01T10:00:00Z",
                **self._classification(p.get("category"), single=True)}

    def _result(self, r: dict) -> dict:
        proposals = [self._proposal(p) for p in self.data["proposals"] if p["id"] in r.get("proposals", [])]
        return {"id": r["id"], "title": r["title"], "description": r.get("description"),
                "startDate": r.get("start_date"), "endDate": r.get("end_date"), "progress": r.get("progress"),
                "status": {"id": r["status"]["id"], "name": r["status"]["name"], "key": None, "progress": None},
                "parent": None, "createdAt": r["updated_at"], "updatedAt": r["updated_at"], "proposals": proposals,
                **self._classification(r.get("category"), single=True)}

    # ------------------------------------------------------------ HTTP

    def app(self) -> Starlette:
        async def api(request: Request) -> Response:
            self.requests += 1
            if self.down:
                return JSONResponse({"error": "maintenance"}, status_code=503)
            if self.throttle > 0:
                self.throttle -= 1
                return JSONResponse({"errors": [{"message": "Too many requests"}]}, status_code=429,
                                    headers={"Retry-After": "0"})
            body = await request.json()
            self.queries.append(body["query"])
            result = graphql_sync(self.schema, body["query"], variable_values=body.get("variables") or {})
            payload: dict = {"data": result.data}
            if result.errors:
                payload["errors"] = [e.formatted for e in result.errors]
            return JSONResponse(payload)

        async def home(request: Request) -> Response:
            return HTMLResponse("<html><body>Rosario Participa</body></html>")

        async def open_data(request: Request) -> Response:
            return Response(self.open_data_zip(), media_type="application/zip")

        return Starlette(routes=[Route("/api", api, methods=["POST"]), Route("/", home),
                                 Route("/open-data/download", open_data)])

    def start(self) -> FakeDecidim:
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        thread = threading.Thread(target=self._server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the fake Decidim did not start")
            time.sleep(0.05)
        self._thread = thread
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    # ------------------------------------------------------------ open data (Decidim 0.28/0.29 serializers)

    def open_data_zip(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, rows in (("participatory_processes", self._process_rows("process")),
                               ("assemblies", self._process_rows("assembly")), ("meetings", self._meeting_rows()),
                               ("proposals", self._proposal_rows()), ("results", self._result_rows())):
                archive.writestr(f"{HOST}-open-data-{name}.csv", _csv(rows))
            archive.writestr("README.md", "# Open data\n\n## meetings\n\n## proposals\n\n## results\n")
        return buffer.getvalue()

    def write_zip(self, path: Path) -> Path:
        path.write_bytes(self.open_data_zip())
        return path

    def _process_rows(self, kind: str) -> list[dict]:
        rows = []
        for s in (s for s in self.data["spaces"] if s["kind"] == kind):
            row = {"id": s["id"], **_tr("title", s["title"]), "slug": s["slug"], "reference": f"R-{s['id']}",
                   "created_at": _ruby_time(s["created_at"]), "updated_at": _ruby_time(s["updated_at"]),
                   "published_at": _ruby_time(s["published_at"]),
                   **_tr("short_description", s.get("short_description")),
                   **_tr("description", s.get("description")), "promoted": "false", "url": self.url(s),
                   **_tr("subtitle", s.get("subtitle")), **_tr("meta_scope", s.get("meta_scope")),
                   **_tr("participatory_scope", s.get("participatory_scope")),
                   **_tr("participatory_structure", s.get("participatory_structure")),
                   **_tr("target", s.get("target"))}
            if kind == "process":
                row.update({"start_date": s.get("start_date") or "", "end_date": s.get("end_date") or ""})
            else:
                row.update({"creation_date": s.get("creation_date") or "", "closing_date": s.get("closing_date") or ""})
            rows.append(row)
        return rows

    def _category_cells(self, category: str | None) -> dict:
        return {"category/id": category or "", **_tr("category/name", CATEGORIES.get(category or "", {}))}

    def _meeting_rows(self) -> list[dict]:
        rows = []
        for m in self.data["meetings"]:
            space = self.space_of(m["component"])
            rows.append({
                "id": m["id"], **self._category_cells(m.get("category")), "participatory_space/id": space["id"],
                "participatory_space/url": self.url(space), "component/id": m["component"],
                **_tr("title", m["title"]), **_tr("description", m.get("description")),
                "start_time": _ruby_time(m["start_time"]), "end_time": _ruby_time(m["end_time"]),
                "address": m.get("address") or "", **_tr("location", m.get("location")),
                "reference": f"M-{m['id']}", "url": self.url(space, "f", m["component"], "meetings", m["id"]),
                "published": "true", "withdrawn": "true" if m.get("withdrawn") else "false",
                "created_at": _ruby_time(m["updated_at"]), "updated_at": _ruby_time(m["updated_at"]),
                "latitude": "" if m.get("latitude") is None else repr(m["latitude"]),
                "longitude": "" if m.get("longitude") is None else repr(m["longitude"]),
                "online_meeting_url": m.get("online_meeting_url") or "",
                "closed_at": _ruby_time(m["end_time"]) if m.get("closed") else "",
                "registrations_enabled": "true" if m.get("registrations_enabled") else "false",
                "type_of_meeting": m.get("type_of_meeting", "in_person")})
        return rows

    def _proposal_rows(self) -> list[dict]:
        rows = []
        for p in self.data["proposals"]:
            space = self.space_of(p["component"])
            rows.append({"id": p["id"], **self._category_cells(p.get("category")),
                         "participatory_space/id": space["id"], "participatory_space/url": self.url(space),
                         "component/id": p["component"], **_tr("title", p["title"]), "state": p.get("state") or "",
                         "url": self.url(space, "f", p["component"], "proposals", p["id"])})
        return rows

    def _result_rows(self) -> list[dict]:
        rows = []
        for r in self.data["results"]:
            space = self.space_of(r["component"])
            rows.append({
                "id": r["id"], **self._category_cells(r.get("category")), "parent/id": "",
                **_tr("title", r["title"]), **_tr("description", r.get("description")),
                "start_date": r.get("start_date") or "", "end_date": r.get("end_date") or "",
                "status/id": r["status"]["id"], "status/key": "", **_tr("status/name", r["status"]["name"]),
                "progress": "" if r.get("progress") is None else repr(r["progress"]),
                "created_at": _ruby_time(r["updated_at"]), "updated_at": _ruby_time(r["updated_at"]),
                "url": self.url(space, "f", r["component"], "results", r["id"]), "component/id": r["component"],
                "proposal_urls": ", ".join(self.url(space, "f", "102", "proposals", p) for p in r.get("proposals", [])),
            })
        return rows


LOCALES = ("es", "en", "ca")


def _tr(prefix: str, value: dict | None) -> dict:
    """A translated field as Decidim's CSV has it: one column per organisation locale, empty when missing."""
    return {f"{prefix}/{locale}": (value or {}).get(locale, "") for locale in LOCALES}


def _ruby_time(iso: str | None) -> str:
    """`2025-05-10T18:00:00-03:00` as Ruby's Time#to_s writes it in a CSV: `2025-05-10 18:00:00 -0300`."""
    if not iso:
        return ""
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M:%S %z")


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()


def _cursor(index: int) -> str:
    return base64.b64encode(str(index).encode()).decode()


def changed(data: dict) -> dict:
    return copy.deepcopy(data)
