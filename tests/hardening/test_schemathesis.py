"""Schema-driven fuzzing (issue 13, item 8): schemathesis generates requests for every operation of `/api`,
writes included (with an editor's token), and no answer is a server error.

It can only reach what the document describes: the write bodies (a GeoJSON Feature per editable layer, from its
input model), the headers (If-Match, Content-Crs) and the statuses are in it (api/features/openapi.py), so the
generated requests get past the media-type and body checks into the edit engine. The server runs in a process
of its own (a crash fails this test, not the run) on its own copy of the loaded database: the fuzzer creates,
edits and deletes records. Examples per operation are bounded so the whole run takes about a minute;
SCHEMATHESIS_EXAMPLES raises them for a deeper run.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import schemathesis
from hardening_helpers import ServerProcess
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from psycopg import sql
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, not_a_server_error, status_code_conformance

from gis.auth import create_token
from gis.db import connect

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))
# Every operation: no server error. The feature API, moderation, tokens, survey links and tiles also answer only
# the statuses and media types /api documents for them.
CHECKS = [not_a_server_error]
CONFORMING = ("/collections", "/moderation", "/admin/tokens", "/surveys/links", "/tiles")
CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def fuzzed(admin_url, _loaded_databases):
    """`monitor serve` on a copy of the loaded database, and an editor's token."""
    name = f"monitor_test_fuzz_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(_loaded_databases[1])))
    url = urlunsplit(urlsplit(admin_url)._replace(path="/" + name))
    with connect(url, actor="test") as conn:
        token = create_token(conn, "editor", "schemathesis")[1]
    server = ServerProcess(url)
    try:
        server.wait_ready()
        yield {"server": server, "token": token}
    finally:
        log = server.stop()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        assert "Segmentation fault" not in log


def test_no_request_gets_a_server_error(fuzzed):
    """Every operation, in turn, positive and negative data (schemathesis's pytest plugin does not run on this
    pytest: its lazy loader reads a private attribute pytest 9 removed, so operations are driven here)."""
    schema = schemathesis.openapi.from_url(f"{fuzzed['server'].url}/api")
    headers = {"Authorization": f"Bearer {fuzzed['token']}"}
    failures: list[str] = []
    answered: Counter = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 100
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            def exercise(case):
                response = case.call(headers=headers, timeout=60)
                answered[(case.method, response.status_code)] += 1
                assert fuzzed["server"].process.poll() is None, "the server died"
                case.validate_response(response, checks=CONFORMANCE if case.path.startswith(CONFORMING) else CHECKS)

            try:
                exercise()
            except Unsatisfiable:  # nothing of this operation can be made invalid (no parameters, free strings)
                continue
            except BaseException as exc:  # a FailureGroup too: every operation runs, failures are reported together
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:1500]}")
    print("answers (method, status):", sorted(answered.items()))
    # The writes reached the edit engine: some were stored, others refused by its rules (not only by the headers).
    assert answered[("POST", 201)] and answered[("POST", 400)] and answered[("PATCH", 412)], answered
    if failures:
        log = fuzzed["server"].stop()
        pytest.fail("\n\n".join(failures) + "\n\nserver log (end):\n" + log[-6000:], pytrace=False)
