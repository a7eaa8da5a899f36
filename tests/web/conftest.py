"""Fixtures for the web map tests: an HTTP client, SQL on the template, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row
from web_helpers import open_page, serve_app


@pytest.fixture(scope="module")
def http(live_server):
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def sql(template_db):
    """Rows (as dicts) from the template database, to check the API against the same question asked in SQL."""
    with psycopg.connect(template_db, autocommit=True, row_factory=dict_row) as conn:
        def run(query: str, params=None) -> list[dict]:
            return conn.execute(query, params).fetchall()

        yield run



@pytest.fixture
def map_page(browser, live_server):
    page, log = open_page(browser, live_server)
    yield page, log
    page.context.close()


@pytest.fixture(scope="module")
def index_ready(http):
    """The live server computes the index in the background after start-up: wait for its first run."""
    deadline = time.monotonic() + 300
    while (response := http.get("/index")).status_code != 200:
        assert time.monotonic() < deadline, f"no index run after 300 s: {response.text}"
        time.sleep(1)
    return response.json()


@pytest.fixture(scope="module")
def pmtiles_server(template_db, tmp_path_factory):
    """The application serving a PMTiles archive exported from the template (as for static hosting)."""
    from api.app import create_app
    from gis.config import Settings
    from layers.pmtiles_export import export_pmtiles

    class ArchiveSettings(Settings):
        archives_dir: Path

    # Resolved here: pytest imports every test folder's conftest as `conftest`, so the module's globals are not ours.
    ArchiveSettings.model_rebuild(_types_namespace={"Path": Path})

    folder = tmp_path_factory.mktemp("archives")
    export_pmtiles(template_db, folder / "monitor.pmtiles", 0, 14)
    url, stop = serve_app(create_app(ArchiveSettings(archives_dir=folder), url=template_db))
    yield SimpleNamespace(url=url, database_url=template_db)
    stop()
