"""The back-office in Debian's Chromium, under the real Content-Security-Policy: an organisation proposes an instance
on a phone (the form, the map, a refusal in Spanish beside its field, then the proposal pending), an editor approves
it and it is published; a rejection needs a reason and the organisation reads it; two people editing the same record
end in "Alguien cambió este registro" with both versions; an organisation records what an activity produced, with
its minutes as a file."""

from __future__ import annotations

import pytest
from browser_helpers import CONTRAST
from gestion_helpers import DESKTOP, GEOJSON, PHONE, field, new_instance, open_browser, wait_ready

pytestmark = pytest.mark.browser


def test_an_organisation_proposes_an_instance_on_a_phone_and_an_editor_approves_it(gestion, browser, artifacts_dir):
    server, name = gestion.server, "Huerta comunitaria Los Girasoles"
    page, errors = open_browser(browser, server, gestion.tokens["org_a"], PHONE)
    assert page.locator("h1").text_content() == "Inicio"
    page.get_by_role("link", name="Proponer una instancia").first.click()
    page.wait_for_url("**/gestion/nuevo/instances")
    wait_ready(page)
    assert page.locator("#lugar-mapa").get_attribute("data-ready") == "true"

    # Every control has its label; choices come from the catalogues (kinds, themes) and the model (accessibility).
    field(page, "Nombre").fill(name)
    field(page, "Descripción").fill("Una huerta abierta al barrio, con talleres los sábados.")
    field(page, "Tipo de instancia").select_option("cso_initiative")
    field(page, "Quién la promueve").select_option("cso")
    field(page, "Ambiente").check()
    field(page, "Accesible en silla de ruedas").check()
    field(page, "Modalidad").select_option(label="Híbrida")
    field(page, "Alcance").select_option("barrio")
    field(page, "Días y horarios").fill("Sábados de 10 a 13 h")
    field(page, "Enlace para participar en línea").fill("reunión por zoom")  # not a URL
    # The place: a tap in the middle of the map fills the coordinates.
    page.locator("#lugar-mapa canvas").click()
    lon, lat = float(field(page, "Longitud").input_value()), float(field(page, "Latitud").input_value())
    assert -60.75 < lon < -60.6 and -33.0 < lat < -32.9
    # The live preview is the public map's card.
    preview = page.locator(".preview-card .card")
    assert name in preview.locator("h2").text_content()
    assert "Ambiente" in preview.locator(".tags").first.text_content()
    assert "Sábados de 10 a 13 h" in preview.text_content()

    page.get_by_role("button", name="Enviar la propuesta").click()
    error = page.locator("#e-online_url")
    error.wait_for(state="visible")
    assert "dirección web" in error.text_content()  # the API's refusal, in Spanish, beside its field
    assert page.locator("#f-online_url").get_attribute("aria-invalid") == "true"
    assert "#e-online_url" not in (page.locator("#f-online_url").get_attribute("aria-describedby") or "x")
    assert "e-online_url" in page.locator("#f-online_url").get_attribute("aria-describedby")
    assert page.locator("#errores").is_visible()
    assert gestion.sql("SELECT count(*) FROM monitor.instances WHERE name = %s", (name,)) == [(0,)]
    page.screenshot(path=f"{artifacts_dir}/gestion-phone-refusal.png", full_page=True)

    field(page, "Enlace para participar en línea").fill("https://example.org/huerta")
    submit = page.get_by_role("button", name="Enviar la propuesta")
    submit.focus()
    page.keyboard.press("Enter")  # the keyboard sends the form as well
    page.wait_for_url("**/gestion/instancias/*?guardado=instances")
    wait_ready(page)
    assert "Pendiente de revisión" in page.locator(".status-line").text_content()
    assert "Enviaste la propuesta" in page.locator("#vista").text_content()
    instance_id = int(page.url.split("/gestion/instancias/")[1].split("?")[0])
    row = gestion.sql("SELECT moderation, organization_id, themes, accessibility, online_url, schedule, "
                      "ST_X(venue), ST_Y(venue), barrio_id IS NOT NULL FROM monitor.instances WHERE id = %s",
                      (instance_id,))[0]
    assert row[:6] == ("pending", gestion.org_a, ["ambiente"], ["wheelchair"], "https://example.org/huerta",
                       "Sábados de 10 a 13 h")
    assert abs(row[6] - lon) < 1e-6 and abs(row[7] - lat) < 1e-6 and row[8]
    assert gestion.http.get(f"/collections/instances/items/{instance_id}").status_code == 404  # not yet public

    # Back home, the organisation sees its submission's state.
    page.get_by_role("link", name="Inicio").click()
    wait_ready(page)
    submitted = page.locator(f'#envios li[data-id="{instance_id}"]')
    assert "Pendiente de revisión" in submitted.text_content()
    ratios = dict(page.evaluate(CONTRAST, ["h1", ".state-pending", ".button", ".muted", "#envios h3 a", ".topbar a",
                                           ".sign-out button"]))
    assert all(r is not None for r in ratios.values()), ratios
    assert {s: r for s, r in ratios.items() if r < 4.5} == {}
    assert errors == []
    page.context.close()

    # The editor approves it from the queue, after looking at what was sent.
    page, errors = open_browser(browser, server, gestion.tokens["editor"], PHONE)
    page.get_by_role("link", name="Moderación", exact=True).click()
    wait_ready(page)
    article = page.locator(f'article.submission[data-id="{instance_id}"]')
    article.get_by_role("button", name="Ver los datos enviados").click()
    sent = article.locator('table.diff tr[data-key="name"] td.after')
    sent.wait_for()
    assert sent.text_content() == name
    article.get_by_role("button", name="Aprobar").click()
    page.locator("#moderacion-estado .notice").wait_for()
    assert "quedó aprobada" in page.locator("#moderacion-estado").text_content()
    assert article.count() == 0
    published = gestion.http.get("/collections/instances/items", params={"filter": f"name = '{name}'"}).json()
    assert [f["id"] for f in published["features"]] == [instance_id]
    assert errors == []
    page.context.close()


def test_a_rejection_needs_a_reason_which_the_organisation_reads(gestion, browser):
    lon, lat = gestion.sql("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM published.barrios "
                           "ORDER BY id LIMIT 1) s")[0]
    headers = {"Authorization": f"Bearer {gestion.tokens['org_a']}", "Content-Type": GEOJSON}
    proposal = gestion.http.post("/collections/instances/items", json=new_instance("Ronda de mate", lon, lat),
                                 headers=headers)
    instance_id = proposal.json()["id"]
    page, errors = open_browser(browser, gestion.server, gestion.tokens["editor"], DESKTOP)
    page.goto(f"{gestion.server.url}/gestion/moderacion")
    wait_ready(page)
    article = page.locator(f'article.submission[data-id="{instance_id}"]')
    article.get_by_role("button", name="Rechazar…").click()
    article.get_by_role("button", name="Confirmar el rechazo").click()
    message = article.locator(".error-message:not([hidden])")
    message.wait_for()
    assert "escribí el motivo" in message.text_content()
    assert gestion.sql("SELECT moderation FROM monitor.instances WHERE id = %s", (instance_id,)) == [("pending",)]
    field(article, "Motivo del rechazo").fill("Falta la dirección exacta y el horario.")
    article.get_by_role("button", name="Confirmar el rechazo").click()
    page.locator("#moderacion-estado .notice").wait_for()
    assert gestion.sql("SELECT moderation, moderation_reason FROM monitor.instances WHERE id = %s", (instance_id,)) \
        == [("rejected", "Falta la dirección exacta y el horario.")]
    assert errors == []
    page.context.close()

    page, errors = open_browser(browser, gestion.server, gestion.tokens["org_a"], PHONE)
    rejected = page.locator(f'#envios li[data-id="{instance_id}"]')
    assert "Rechazada" in rejected.text_content()
    assert "Falta la dirección exacta y el horario." in rejected.text_content()
    assert gestion.http.get(f"/collections/instances/items/{instance_id}").status_code == 404  # never published
    assert errors == []
    page.context.close()


def test_concurrent_edits_end_with_both_versions(gestion, browser):
    page, errors = open_browser(browser, gestion.server, gestion.tokens["editor"], DESKTOP)
    page.goto(f"{gestion.server.url}/gestion/editar/instances/{gestion.instance_a}")
    wait_ready(page)
    original = field(page, "Nombre").input_value()

    # Meanwhile, someone else saves the same record through the API.
    path = f"/collections/instances/items/{gestion.instance_a}"
    etag = gestion.http.get(path).headers["ETag"]
    theirs = gestion.http.patch(path, json={"type": "Feature", "properties": {"name": "Nombre de la otra persona"}},
                                headers={"Authorization": f"Bearer {gestion.tokens['admin']}", "If-Match": etag,
                                         "Content-Type": GEOJSON})
    assert theirs.status_code == 200, theirs.text

    field(page, "Nombre").fill("Nombre que escribí yo")
    page.get_by_role("button", name="Guardar los cambios").click()
    conflict = page.locator("#conflicto")
    conflict.wait_for(state="visible")
    assert conflict.locator("h2").text_content() == "Alguien cambió este registro"
    row = conflict.locator('tr[data-field="name"]')
    assert row.locator("td.mine").text_content() == "Nombre que escribí yo"
    assert row.locator("td.theirs").text_content() == "Nombre de la otra persona"
    assert original != "Nombre de la otra persona"
    assert gestion.sql("SELECT name FROM monitor.instances WHERE id = %s", (gestion.instance_a,)) \
        == [("Nombre de la otra persona",)]

    conflict.get_by_role("button", name="Guardar mi versión").click()
    page.locator("#estado.ok").wait_for(state="visible")
    assert page.locator("#estado").text_content() == "Cambios guardados."
    assert gestion.sql("SELECT name FROM monitor.instances WHERE id = %s", (gestion.instance_a,)) \
        == [("Nombre que escribí yo",)]
    assert errors == []
    page.context.close()


def test_an_organisation_records_what_an_activity_produced(gestion, browser, tmp_path):
    page, errors = open_browser(browser, gestion.server, gestion.tokens["org_a"], PHONE)
    page.goto(f"{gestion.server.url}/gestion/instancias/{gestion.instance_a}")
    wait_ready(page)
    page.get_by_role("link", name="Registrar lo que produjo una actividad").click()
    wait_ready(page)
    assert field(page, "Instancia").input_value() == str(gestion.instance_a)
    field(page, "Fecha en que se realizó").fill("2026-10-03")
    field(page, "Asistencia").fill("12")
    field(page, "Mujeres").fill("20")  # more people than attended
    field(page, "Propuestas").fill("Más luminarias en la plaza.")
    page.get_by_role("button", name="Guardar").click()
    error = page.locator("#e-participant_profile")
    error.wait_for(state="visible")
    assert "Suman 20 personas, más que la asistencia (12)" in error.text_content()
    field(page, "Mujeres").fill("7")
    page.get_by_role("button", name="Guardar").click()
    page.wait_for_url(f"**/gestion/instancias/{gestion.instance_a}?guardado=experiences")
    wait_ready(page)
    experience = gestion.sql("SELECT id, attendance, participant_profile, proposals FROM monitor.experiences "
                             "WHERE instance_id = %s AND held_on = '2026-10-03'", (gestion.instance_a,))
    assert [row[1:] for row in experience] == [(12, {"gender": {"female": 7}, "age_band": {}, "barrio": {}},
                                                "Más luminarias en la plaza.")]

    # The minutes, as a file, on the record's page.
    page.locator(f'a[href="/gestion/editar/experiences/{experience[0][0]}"]').click()
    wait_ready(page)
    minutes = tmp_path / "acta.txt"
    minutes.write_text("Acta de la asamblea del 3 de octubre.", encoding="utf-8")
    page.get_by_label("Archivo", exact=True).set_input_files(str(minutes))
    page.get_by_role("button", name="Subir el archivo").click()
    page.locator("#documento-actual a").wait_for()
    assert gestion.sql("SELECT document_name FROM monitor.experiences WHERE id = %s", (experience[0][0],)) \
        == [("acta.txt",)]
    assert errors == []
    page.context.close()


def test_an_admin_invites_an_organisation_and_makes_a_survey_qr_code(gestion, browser):
    organization = gestion.sql("SELECT name FROM monitor.organizations WHERE id = %s", (gestion.org_b,))[0][0]
    page, errors = open_browser(browser, gestion.server, gestion.tokens["admin"], DESKTOP)
    page.get_by_role("link", name="Claves e invitaciones").click()
    wait_ready(page)
    invitations = page.locator("#invitaciones")
    field(invitations, "Organización").select_option(str(gestion.org_b))
    invitations.get_by_role("button", name="Crear la invitación").click()
    refusal = invitations.locator("#f-name").locator("xpath=..").locator(".error-message")
    refusal.wait_for(state="visible")  # no name: refused beside the field, in Spanish
    assert refusal.text_content() == "Este dato es obligatorio."
    field(invitations, "Para quién es").fill("Comisión directiva")
    invitations.get_by_role("button", name="Crear la invitación").click()
    link = invitations.locator(".secret-value")
    link.wait_for()
    url = link.input_value()
    assert url.startswith(f"{gestion.server.url}/gestion/invitacion/")
    assert "Sin usar" in invitations.locator("li.record").first.text_content()

    # Surveys: a link for a published instance, its QR code, printable; then revoked.
    page.get_by_role("link", name="Encuestas").click()
    wait_ready(page)
    field(page, "Instancia").select_option(str(gestion.instance_a))
    page.get_by_role("button", name="Crear el enlace").click()
    card = page.locator("article.survey[data-status=open]").first
    card.wait_for()
    code = card.get_attribute("data-code")
    qr = card.locator("img.qr")
    qr.wait_for()
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", qr.element_handle())
    assert card.get_by_role("button", name="Imprimir el código QR").is_visible()
    card.get_by_role("button", name="Dar de baja").click()
    page.locator(f'article.survey[data-code="{code}"][data-status=revoked]').wait_for()
    assert gestion.sql("SELECT revoked_at IS NOT NULL FROM monitor.survey_links WHERE code = %s", (code,)) == [(True,)]
    assert errors == []
    page.context.close()

    # The invited organisation opens the link once, keeps its key and is in.
    context = browser.new_context(viewport=PHONE, locale="es-AR")
    guest = context.new_page()
    guest.goto(url)
    assert organization in guest.locator("h1").text_content()
    guest.get_by_role("button", name="Aceptar la invitación").click()
    key = guest.get_by_label("Tu clave de acceso")
    assert key.input_value().startswith("mpc_")
    guest.get_by_role("link", name="Continuar a la gestión").click()
    wait_ready(guest)
    assert "Comisión directiva (organización)" in guest.locator(".who").text_content()
    guest.goto(url)
    assert "ya se usó" in guest.locator(".notice").text_content()
    context.close()
