"""Fixtures that build real PostGIS databases: never the user's data, always thrown away.

- `template_db`: one per test session, migrated and loaded with Rosario's geography, the real sites and
  the demo registry. Read-only tests use it directly.
- `fresh_db`: a private copy of the template (CREATE DATABASE … TEMPLATE) for a test that writes.
- `live_server`: the application served over real HTTP on a free loopback port, for real clients.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from http_helpers import free_port
from psycopg import sql as pgsql

from gis.cluster import PrivateCluster
from gis.config import get_settings
from gis.db import migrate

DEMO_SEED = 20211
# The suite asks one server for thousands of tiles and pages from one address, faster than any person: its servers
# get budgets no test reaches (the rate limits themselves are tested with their own, in tests/hardening).
os.environ.setdefault("MONITOR_RATE_LIMIT_READS", "1000000/minute")
os.environ.setdefault("MONITOR_RATE_LIMIT_WRITES", "1000000/minute")


def _with_dbname(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def admin_url() -> str:
    """A URL on the server tests may create databases on: DATABASE_URL's server, or the private cluster."""
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    cluster = PrivateCluster(settings)
    cluster.start()
    return cluster.admin_url()


def create_database(admin: str, template: str | None = None) -> str:
    name = f"monitor_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        query = pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name))
        if template:
            query = pgsql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                pgsql.Identifier(name), pgsql.Identifier(template))
        conn.execute(query)
    return name


def drop_database(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name)))


@pytest.fixture(scope="session")
def empty_db(admin_url) -> Iterator[str]:
    """A migrated database with no data at all."""
    name = create_database(admin_url)
    url = _with_dbname(admin_url, name)
    migrate(url)
    yield url
    drop_database(admin_url, name)


@pytest.fixture(scope="session")
def _loaded_databases(admin_url) -> Iterator[tuple[str, str]]:
    """(shared, pristine): two identical loaded databases. Nobody connects to the pristine one, so it can
    serve as the template of `fresh_db` while tests and servers hold connections to the shared one."""
    from data.districts.loader import load_geography
    from data.districts.sites import load_sites
    from gis.demo import load_demo
    from gis.index.compute import run as index_run

    shared = create_database(admin_url)
    url = _with_dbname(admin_url, shared)
    migrate(url)
    data_dir = get_settings().data_dir
    load_geography(url, data_dir)
    load_sites(url, data_dir)
    load_demo(url, DEMO_SEED, 300)
    index_run(url, trigger="tests")  # servers then start with a run instead of computing one each
    pristine = create_database(admin_url, template=shared)
    yield shared, pristine
    drop_database(admin_url, shared)
    drop_database(admin_url, pristine)


@pytest.fixture(scope="session")
def template_db(admin_url, _loaded_databases) -> str:
    """The loaded database shared by read-only tests (do not write to it)."""
    return _with_dbname(admin_url, _loaded_databases[0])


@pytest.fixture
def fresh_db(admin_url, _loaded_databases) -> Iterator[str]:
    """A copy of the loaded database that this test alone may change."""
    name = create_database(admin_url, template=_loaded_databases[1])
    yield _with_dbname(admin_url, name)
    drop_database(admin_url, name)


@pytest.fixture
def db(template_db) -> Iterator[psycopg.Connection]:
    """A connection to the template whose transaction is always rolled back."""
    with psycopg.connect(template_db) as conn:
        conn.execute("BEGIN")
        yield conn
        conn.rollback()


@dataclass
class LiveServer:
    url: str
    database_url: str
    app: object = None  # the application object served (its state, for tests that look inside)


def serve_in_thread(database_url: str) -> tuple[LiveServer, callable]:
    import uvicorn

    from api.app import create_app

    port = free_port()
    app = create_app(url=database_url)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return LiveServer(url=f"http://127.0.0.1:{port}", database_url=database_url, app=app), stop


@pytest.fixture(scope="session")
def live_server(template_db) -> Iterator[LiveServer]:
    """The application over real HTTP on the read-mostly template database."""
    server, stop = serve_in_thread(template_db)
    yield server
    stop()


@pytest.fixture
def fresh_server(fresh_db) -> Iterator[LiveServer]:
    """The application over real HTTP on a private copy a test may write to."""
    server, stop = serve_in_thread(fresh_db)
    yield server
    stop()


CHROMIUM = "/usr/bin/chromium"  # Debian's (scripts/install-system-packages.sh), never a downloaded one
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for one test module. Module-scoped: sync Playwright runs an event loop in this thread,
    which must be gone before tests that start their own (asyncio.run) come."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts_dir():
    path = os.path.join(os.path.dirname(__file__), "artifacts")
    os.makedirs(path, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def http(live_server):
    """An HTTP client on the live server."""
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def sql(template_db):
    """Rows from the template database, to compare the API's answers with the same selection made in SQL."""
    with psycopg.connect(template_db, autocommit=True) as conn:
        def run(query: str, params=None) -> list[tuple]:
            return conn.execute(query, params).fetchall()
        yield run
