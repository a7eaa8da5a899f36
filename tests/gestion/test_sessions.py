"""Signing in to the back-office over real HTTP: the session cookie and its flags, sessions stored hashed, CSRF
on every session write and form, sign-out, expiry, one-time invitations, and who may open which record."""

from __future__ import annotations

import hashlib
import re

import httpx
from gestion_helpers import GEOJSON, form_csrf, new_instance, page_csrf, set_cookies, sign_in

from api.gestion import forms
from gis.auth import Principal
from layers.catalogue import get_layer


def barrio_point(sql, offset: int = 0) -> tuple[float, float]:
    return sql("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM published.barrios "
               "ORDER BY id OFFSET %s LIMIT 1) s", (offset,))[0]


def test_sign_in_sets_a_hashed_session_cookie_and_sign_out_ends_it(gestion):
    server = gestion.server
    with httpx.Client(base_url=server.url, timeout=60) as http:
        first = http.get("/gestion", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/gestion/entrar?siguiente=/gestion"

        form = http.get("/gestion/entrar")
        assert form.status_code == 200 and "Clave de acceso" in form.text and 'lang="es"' in form.text
        assert form.headers["cache-control"] == "no-store"
        assert "script-src 'self'" in form.headers["content-security-policy"]
        pre = set_cookies(form)["gestion_previo"].lower()
        assert "httponly" in pre and "samesite=strict" in pre and "path=/gestion" in pre

        wrong = http.post("/gestion/entrar", data={"csrf": form_csrf(form.text), "clave": "mpc_no-existe"},
                          follow_redirects=False)
        assert wrong.status_code == 401
        assert "Esa clave no existe" in wrong.text and 'aria-invalid="true"' in wrong.text
        assert "gestion_sesion" not in set_cookies(wrong)

        answer = http.post("/gestion/entrar", data={"csrf": form_csrf(wrong.text), "clave": gestion.tokens["org_a"],
                                                    "siguiente": "/gestion/moderacion"}, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/gestion/moderacion"
        cookie = set_cookies(answer)["gestion_sesion"]
        flags = [part.strip().lower() for part in cookie.split(";")]
        assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
        assert "secure" not in flags  # plain HTTP here: see the next test for HTTPS
        max_age = int(next(f for f in flags if f.startswith("max-age=")).split("=")[1])
        assert 7 * 3600 < max_age <= 8 * 3600
        secret = http.cookies["gestion_sesion"]
        assert len(secret) >= 40

        # Stored only as a hash, tied to the token it was opened with.
        rows = gestion.sql("SELECT s.session_hash, t.name FROM monitor.sessions s "
                           "JOIN monitor.api_tokens t ON t.id = s.token_id")
        assert rows == [(hashlib.sha256(secret.encode()).hexdigest(), "Vecinal A")]
        assert gestion.sql("SELECT count(*) FROM monitor.sessions WHERE session_hash = %s", (secret,)) == [(0,)]

        home = http.get("/gestion")
        assert home.status_code == 200 and 'data-role="organization"' in home.text and "Vecinal A" in home.text
        csrf = page_csrf(home.text)
        assert csrf and csrf != secret
        # The session also authenticates the API (reads need no CSRF token).
        pending = http.get("/moderation/pending")
        assert pending.status_code == 200 and "submissions" in pending.json()

        # Sign-out needs the CSRF token too; then the cookie is cleared and the session is over in the database.
        refused = http.post("/gestion/salir", data={}, follow_redirects=False)
        assert refused.status_code == 403 and "No se hizo ningún cambio" in refused.text
        assert http.get("/gestion", follow_redirects=False).status_code == 200
        out = http.post("/gestion/salir", data={"csrf": csrf}, follow_redirects=False)
        assert out.status_code == 303 and out.headers["location"] == "/gestion/entrar?salio=1"
        cleared = set_cookies(out)["gestion_sesion"].lower()
        assert 'gestion_sesion=""' in cleared or "max-age=0" in cleared
        assert gestion.sql("SELECT ended_at IS NOT NULL FROM monitor.sessions") == [(True,)]

    # The old cookie opens nothing any more: no page, no write.
    with httpx.Client(base_url=server.url, timeout=60, cookies={"gestion_sesion": secret}) as stale:
        assert stale.get("/gestion", follow_redirects=False).status_code == 303
        write = stale.post("/collections/instances/items", json=new_instance("Después de salir", -60.65, -32.95),
                           headers={"Content-Type": GEOJSON, "X-CSRF-Token": csrf})
        assert write.status_code == 401 and "session" in write.json()["detail"]


def test_cookies_are_secure_behind_https(gestion):
    # A proxy on this host says the client came over HTTPS (uvicorn trusts X-Forwarded-Proto from 127.0.0.1).
    https = {"X-Forwarded-Proto": "https"}
    form = httpx.get(f"{gestion.server.url}/gestion/entrar", headers=https, timeout=60)
    assert "secure" in [p.strip().lower() for p in set_cookies(form)["gestion_previo"].split(";")]
    csrf = form_csrf(form.text)
    answer = httpx.post(f"{gestion.server.url}/gestion/entrar", data={"csrf": csrf, "clave": gestion.tokens["editor"]},
                        headers={**https, "Cookie": f"gestion_previo={csrf}"}, timeout=60)
    assert answer.status_code == 303
    flags = [p.strip().lower() for p in set_cookies(answer)["gestion_sesion"].split(";")]
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= set(flags)


def test_session_writes_need_the_csrf_token_and_bearer_tokens_do_not(gestion):
    lon, lat = barrio_point(gestion.sql)
    with httpx.Client(base_url=gestion.server.url, timeout=60) as http:
        # A sign-in form posted without its CSRF token (or from another site) is refused.
        refused = http.post("/gestion/entrar", data={"clave": gestion.tokens["editor"]}, follow_redirects=False)
        assert refused.status_code == 403 and "gestion_sesion" not in set_cookies(refused)
        csrf = sign_in(http, gestion.tokens["org_a"])
        body = new_instance("Huerta comunitaria de prueba", lon, lat)
        for headers in ({}, {"X-CSRF-Token": "otro"}, {"X-CSRF-Token": ""}):
            answer = http.post("/collections/instances/items", json=body, headers={"Content-Type": GEOJSON, **headers})
            assert answer.status_code == 403, answer.text
            problem = answer.json()
            assert problem["field"] == "csrf" and "X-CSRF-Token" in problem["detail"]
        assert gestion.sql("SELECT count(*) FROM monitor.instances WHERE name = %s", (body["properties"]["name"],)) \
            == [(0,)]
        made = http.post("/collections/instances/items", json=body, headers={"Content-Type": GEOJSON,
                                                                              "X-CSRF-Token": csrf})
        assert made.status_code == 201 and made.json()["moderation"] == "pending"
        row = gestion.sql("SELECT organization_id, moderation, created_by FROM monitor.instances WHERE id = %s",
                          (made.json()["id"],))[0]
        assert row[0] == gestion.org_a and row[1] == "pending" and row[2].startswith("token:")
        # The same rules as a bearer token of that organisation: moderation fields are refused.
        forged = new_instance("Otra huerta", lon, lat)
        forged["properties"]["moderation"] = "approved"
        answer = http.post("/collections/instances/items", json=forged,
                           headers={"Content-Type": GEOJSON, "X-CSRF-Token": csrf})
        assert answer.status_code == 403 and "moderation" in answer.json()["detail"]
    # Bearer tokens keep working as before, without any CSRF token.
    bearer = gestion.http.post("/collections/instances/items", json=new_instance("Huerta por API", lon, lat),
                               headers={"Authorization": f"Bearer {gestion.tokens['org_a']}", "Content-Type": GEOJSON})
    assert bearer.status_code == 201


def test_sessions_expire_and_end_with_their_token(gestion):
    with httpx.Client(base_url=gestion.server.url, timeout=60) as http:
        sign_in(http, gestion.tokens["editor"])
        assert http.get("/moderation/pending").status_code == 200
        gestion.sql("UPDATE monitor.sessions SET expires_at = now() - interval '1 second', "
                    "created_at = now() - interval '9 hours'")
        assert http.get("/gestion", follow_redirects=False).headers["location"].startswith("/gestion/entrar")
        assert http.get("/moderation/pending").status_code == 401
    with httpx.Client(base_url=gestion.server.url, timeout=60) as http:
        sign_in(http, gestion.tokens["org_b"])
        token_id = gestion.sql("SELECT id FROM monitor.api_tokens WHERE name = 'Vecinal B'")[0][0]
        revoked = gestion.http.delete(f"/admin/tokens/{token_id}",
                                      headers={"Authorization": f"Bearer {gestion.tokens['admin']}"})
        assert revoked.status_code == 204
        assert http.get("/gestion", follow_redirects=False).status_code == 303
        assert http.get("/gestion/api/instancias").status_code == 401


def test_an_invitation_mints_one_token_once(gestion):
    with httpx.Client(base_url=gestion.server.url, timeout=60) as admin:
        csrf = sign_in(admin, gestion.tokens["admin"])
        no_csrf = admin.post("/admin/invitations", json={"organization": str(gestion.org_b), "name": "Comisión"})
        assert no_csrf.status_code == 403
        made = admin.post("/admin/invitations", json={"organization": str(gestion.org_b), "name": "Comisión directiva",
                                                      "days": 3}, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201, made.text
        url = made.json()["url"]
        code = url.rsplit("/", 1)[1]
        assert url.startswith(f"{gestion.server.url}/gestion/invitacion/")
        stored = gestion.sql("SELECT code_hash FROM monitor.invitations")
        assert stored == [(hashlib.sha256(code.encode()).hexdigest(),)]
        bad = admin.post("/admin/invitations", json={"organization": "no existe", "name": "x"},
                         headers={"X-CSRF-Token": csrf})
        assert bad.status_code == 400 and bad.json()["field"] == "organization"
        listed = admin.get("/admin/invitations").json()["invitations"]
        assert [(i["name"], i["status"]) for i in listed] == [("Comisión directiva", "open")]
        # Editors and organisations cannot make invitations.
        with httpx.Client(base_url=gestion.server.url, timeout=60) as editor:
            editor_csrf = sign_in(editor, gestion.tokens["editor"])
            assert editor.post("/admin/invitations", json={"organization": "1", "name": "x"},
                               headers={"X-CSRF-Token": editor_csrf}).status_code == 403
    tokens_before = gestion.sql("SELECT count(*) FROM monitor.api_tokens")[0][0]

    with httpx.Client(base_url=gestion.server.url, timeout=60) as guest:
        page = guest.get(f"/gestion/invitacion/{code}")
        organization = gestion.sql("SELECT name FROM monitor.organizations WHERE id = %s", (gestion.org_b,))[0][0]
        assert page.status_code == 200 and "Aceptar la invitación" in page.text
        assert organization.replace("&", "&amp;") in page.text or organization in page.text
        assert guest.post(f"/gestion/invitacion/{code}", data={}).status_code == 403  # no CSRF token: nothing used
        accepted = guest.post(f"/gestion/invitacion/{code}", data={"csrf": form_csrf(page.text)})
        assert accepted.status_code == 200
        token = re.search(r'value="(mpc_[^"]+)"', accepted.text).group(1)
        assert "gestion_sesion" in guest.cookies
        home = guest.get("/gestion")
        assert 'data-role="organization"' in home.text and f'data-organization="{gestion.org_b}"' in home.text
    # The minted token is an ordinary organisation token of that organisation.
    mine = gestion.http.get("/moderation/pending", headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 200
    assert gestion.sql("SELECT count(*) FROM monitor.api_tokens")[0][0] == tokens_before + 1
    assert gestion.sql("SELECT t.role, t.organization_id, t.name FROM monitor.invitations i "
                       "JOIN monitor.api_tokens t ON t.id = i.token_id") == [("organization", gestion.org_b,
                                                                             "Comisión directiva")]

    # Used once: a second visit mints nothing.
    with httpx.Client(base_url=gestion.server.url, timeout=60) as late:
        again = late.get(f"/gestion/invitacion/{code}")
        assert again.status_code == 410 and "ya se usó" in again.text
        late.cookies.set("gestion_previo", "x")
        assert late.post(f"/gestion/invitacion/{code}", data={"csrf": "x"}).status_code == 410
        assert late.get("/gestion/invitacion/no-existe").status_code == 404
    assert gestion.sql("SELECT count(*) FROM monitor.api_tokens")[0][0] == tokens_before + 1
    with httpx.Client(base_url=gestion.server.url, timeout=60) as admin:
        csrf = sign_in(admin, gestion.tokens["admin"])
        assert [i["status"] for i in admin.get("/admin/invitations").json()["invitations"]] == ["used"]
        # A revoked invitation cannot be used either.
        other = admin.post("/admin/invitations", json={"organization": str(gestion.org_a), "name": "Secretaría"},
                           headers={"X-CSRF-Token": csrf}).json()
        assert admin.delete(f"/admin/invitations/{other['id']}", headers={"X-CSRF-Token": csrf}).status_code == 204
        assert admin.get(other["url"]).status_code == 410


def test_an_organisation_opens_only_its_own_records(gestion):
    with httpx.Client(base_url=gestion.server.url, timeout=60) as http:
        sign_in(http, gestion.tokens["org_a"])
        own = http.get(f"/gestion/editar/instances/{gestion.instance_a}")
        assert own.status_code == 200 and 'data-view="formulario"' in own.text
        record = http.get(f"/gestion/api/registros/instances/{gestion.instance_a}")
        assert record.status_code == 200
        assert record.headers["etag"] == f'"instances-{gestion.instance_a}-v{record.json()["version"]}"'
        for path in (f"/gestion/editar/instances/{gestion.instance_b}", f"/gestion/instancias/{gestion.instance_b}"):
            other = http.get(path)
            assert other.status_code == 403 and "otra organización" in other.text
        assert http.get(f"/gestion/api/registros/instances/{gestion.instance_b}").status_code == 403
        assert http.get(f"/gestion/api/instancias/{gestion.instance_b}/registros").status_code == 403
        assert http.get("/gestion/editar/instances/999999").status_code == 404
        assert http.get("/gestion/moderacion").status_code == 403
        assert http.get("/gestion/nuevo/criteria").status_code == 403
        mine = {i["id"] for i in http.get("/gestion/api/instancias").json()["instances"]}
        assert gestion.instance_a in mine and gestion.instance_b not in mine
    with httpx.Client(base_url=gestion.server.url, timeout=60) as http:
        sign_in(http, gestion.tokens["editor"])
        assert http.get(f"/gestion/editar/instances/{gestion.instance_b}").status_code == 200
        assert http.get("/gestion/moderacion").status_code == 200
        assert http.get("/gestion/accesos").status_code == 403  # admins only


def test_forms_offer_every_field_of_the_registry_models():
    editor = Principal(1, "e", "editor", None)
    organization = Principal(2, "o", "organization", 5)
    for collection in forms.COLLECTIONS:
        model = get_layer(collection).edit.model
        assert [f["name"] for f in forms.form_spec(collection, editor)["fields"]] == list(model.model_fields)
        offered = {f["name"] for f in forms.form_spec(collection, organization)["fields"]}
        assert offered == set(model.model_fields) - forms.EDITOR_FIELDS
    widgets = {f["name"]: f for f in forms.form_spec("instances", organization)["fields"]}
    assert widgets["venue"]["widget"] == "place" and widgets["themes"]["source"] == "themes"
    assert widgets["online_url"]["widget"] == "url" and widgets["description"]["widget"] == "textarea"
    assert widgets["name"]["widget"] == "text" and widgets["name"]["required"]
    assert {o["value"] for o in widgets["accessibility"]["options"]} >= {"wheelchair", "sign_language"}
    assert widgets["modality"]["options"][0] == {"value": "in_person", "label": "Presencial"}
