"""The printable QR code: an SVG that Chromium draws and a barcode reader decodes to the form's address."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
import zxingcpp
from survey_helpers import make_link

from api.surveys import qr_svg

SVG = "{http://www.w3.org/2000/svg}"

DRAW = """async (src) => {
    const image = new Image();
    image.src = src;
    await image.decode();
    const size = 480;
    const canvas = Object.assign(document.createElement('canvas'), { width: size, height: size });
    const context = canvas.getContext('2d');
    context.fillStyle = '#fff';
    context.fillRect(0, 0, size, size);
    context.drawImage(image, 0, 0, size, size);
    const rgba = context.getImageData(0, 0, size, size).data;
    const gray = [];
    for (let i = 0; i < rgba.length; i += 4) gray.push(Math.round((rgba[i] + rgba[i + 1] + rgba[i + 2]) / 3));
    return { size, gray, natural: [image.naturalWidth, image.naturalHeight] };
}"""


@pytest.mark.browser
def test_qr_svg_decodes_to_the_form_url(survey_world, browser):
    w = survey_world
    code = make_link(w.url, w.instance)
    form = f"{w.server.url}/encuesta/{code}"
    response = w.http.get(f"/encuesta/{code}/qr.svg")
    assert response.status_code == 200 and response.headers["content-type"] == "image/svg+xml"

    root = ET.fromstring(response.content)  # well-formed XML
    assert root.tag == f"{SVG}svg" and root.get("width").endswith("mm") and root.get("viewBox")
    assert root.find(f"{SVG}title").text == f"Código QR de la encuesta: {form}"
    name = w.sql("SELECT name FROM monitor.instances WHERE id = %s", (w.instance,))[0][0]
    assert response.content == qr_svg(form, name)  # the same URL always makes the same code

    context = browser.new_context(bypass_csp=True)  # the test's canvas decoding is an evaluated script
    page = context.new_page()
    page.goto(form)
    drawn = page.evaluate(DRAW, f"/encuesta/{code}/qr.svg")
    context.close()
    assert drawn["natural"][0] > 0
    pixels = np.array(drawn["gray"], dtype=np.uint8).reshape(drawn["size"], drawn["size"])
    decoded = zxingcpp.read_barcodes(pixels)
    assert [(r.format, r.text) for r in decoded] == [(zxingcpp.BarcodeFormat.QRCode, form)]
