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
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 860}, locale="es-AR",
                                  timezone_id="America/Argentina/Cordoba")
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
