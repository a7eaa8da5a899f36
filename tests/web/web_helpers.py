"""Helpers of the browser tests: open the map in Chromium with a log of what the page says and asks for."""

from __future__ import annotations

from urllib.parse import urlsplit


class PageLog:
    """What the page said and asked for: console errors, uncaught exceptions, failed and outside requests."""

    def __init__(self, origin: str):
        self.origin = origin
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.outside: list[str] = []

    def on_console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def on_request(self, request) -> None:
        self.requests.append(request.url)
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.outside.append(request.url)

    def on_failed(self, request) -> None:
        if request.failure == "net::ERR_ABORTED":  # MapLibre cancels tiles it no longer needs when the view moves
            return
        self.errors.append(f"request failed: {request.url} ({request.failure})")

    def on_response(self, response) -> None:
        if response.status >= 400:
            self.errors.append(f"HTTP {response.status}: {response.url}")


def open_page(browser, live_server, path="/map", viewport=None):
    # bypass_csp: Playwright evaluates wait_for_function predicates with eval, which the pages' policy forbids;
    # tests/hardening/test_headers_csv_hosts.py runs the pages under the real policy.
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 860}, locale="es-AR",
                                  timezone_id="America/Argentina/Cordoba", bypass_csp=True)
    page = context.new_page()
    log = PageLog(live_server.url)
    page.on("console", log.on_console)
    page.on("pageerror", lambda error: log.errors.append(f"page error: {error}"))
    page.on("request", log.on_request)
    page.on("requestfailed", log.on_failed)
    page.on("response", log.on_response)
    page.goto(live_server.url + path)
    page.wait_for_function("document.body.dataset.ready", timeout=60000)
    assert page.evaluate("document.body.dataset.ready") == "true", page.text_content("#map-status")
    return page, log


def wait_idle(page) -> None:
    """Until MapLibre has loaded the tiles it needs and drawn them."""
    page.evaluate("""() => new Promise((resolve) => {
        const map = window.monitorMap;
        map.once('idle', resolve);
        map.triggerRepaint();
    })""")


def serve_app(app) -> tuple[str, callable]:
    """Serve an application built with non-default settings on a free loopback port (the shared `live_server`
    fixture always uses the default settings). Returns its URL and a function that stops it."""
    import socket
    import threading

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the test server did not start")
        thread.join(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://127.0.0.1:{port}", stop


# A pixel inside the barrio, 4 px or more from its edge, with no instance drawn within 10 px, so a click there can
# only mean the barrio.
FREE_PIXEL_IN_BARRIO = """(barrioId) => {
    const map = window.monitorMap;
    const style = map.getStyle().layers;
    const barrios = style.filter((l) => l['source-layer'] === 'barrios' && l.type === 'fill').map((l) => l.id);
    const points = style.filter((l) => l['source-layer'] === 'instances' && !l.id.startsWith('web-')).map((l) => l.id);
    const { width, height } = map.getCanvas().getBoundingClientRect();
    for (let y = 40; y < height - 40; y += 12) {
        for (let x = 40; x < width - 40; x += 12) {
            const hit = map.queryRenderedFeatures([x, y], { layers: barrios })[0];
            if (!hit || hit.id !== barrioId) continue;
            // Away from the barrio's edge: a click lands on sub-pixel coordinates, not on (x, y) exactly.
            const around = map.queryRenderedFeatures([[x - 4, y - 4], [x + 4, y + 4]], { layers: barrios });
            if (around.some((f) => f.id !== barrioId)) continue;
            if (map.queryRenderedFeatures([[x - 10, y - 10], [x + 10, y + 10]], { layers: points }).length) continue;
            const box = map.getCanvas().getBoundingClientRect();
            return [box.left + x, box.top + y];
        }
    }
    return null;
}"""


def evaluate(expression, properties: dict):
    """A MapLibre expression evaluated for one feature's properties, in Python: the operators the monitor's
    style uses, written from the style specification (not from layers/ramps.py), so a test can check the colour
    the page draws against what the published style says."""
    if not isinstance(expression, list):
        return expression
    op, *args = expression
    if op == "literal":
        return args[0]
    if op == "get":
        return properties.get(args[0])
    if op == "has":
        return properties.get(args[0]) is not None
    if op == "coalesce":
        return next((v for a in args if (v := evaluate(a, properties)) is not None), None)
    if op in ("==", "!="):
        equal = evaluate(args[0], properties) == evaluate(args[1], properties)
        return equal if op == "==" else not equal
    if op == "case":
        for condition, output in zip(args[:-1:2], args[1:-1:2], strict=True):
            if evaluate(condition, properties):
                return evaluate(output, properties)
        return evaluate(args[-1], properties)
    if op == "step":  # the output of the last stop at or below the input (stops in increasing order)
        value, output = evaluate(args[0], properties), evaluate(args[1], properties)
        assert isinstance(value, int | float), f"step input {value!r} is not a number"
        for limit, stop_output in zip(args[2::2], args[3::2], strict=True):
            if value < limit:
                break
            output = evaluate(stop_output, properties)
        return output
    raise AssertionError(f"operator {op!r} is not evaluated here")


# The colour MapLibre evaluated for each rendered feature of a style layer (queryRenderedFeatures evaluates the
# layer's paint per feature), as #rrggbb, with the feature's properties.
RENDERED_FILL_COLOURS = """(id) => window.monitorMap.queryRenderedFeatures({ layers: [id] }).map((f) => {
    const c = f.layer.paint['fill-color'];
    const hex = (v) => Math.round(v * 255).toString(16).padStart(2, '0');
    const a = c.a || 1;  // MapLibre colours are premultiplied by their alpha
    const fill = typeof c === 'string' ? c : `#${hex(c.r / a)}${hex(c.g / a)}${hex(c.b / a)}`;
    return { id: f.id, ...f.properties, fill };
})"""
