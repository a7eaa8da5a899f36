"""`monitor export pmtiles`: an archive that the `pmtiles` reader opens and that holds the live tiles; served by the
API with HTTP Range (206, Accept-Ranges, If-Range) so that it can be read remotely, range by range."""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from pmtiles.reader import MemorySource, Reader, all_tiles
from pmtiles.tile import Compression, TileType
from tile_helpers import canonical, data_versions, decode, settled_versions, tiles_over

from gis.config import ROOT
from layers.catalogue import MAP_LAYERS as LAYERS

MONITOR = str(Path(sys.executable).with_name("monitor"))


@pytest.fixture(scope="module")
def archive(template_db, live_server):
    """The archive written by the real command, where the server looks for archives, from data that the
    server's background jobs have finished writing (else archive and live tiles would differ for good reason)."""
    path = ROOT / "archives" / f"test-{uuid.uuid4().hex[:8]}.pmtiles"
    for _ in range(3):
        versions = settled_versions(template_db)
        done = subprocess.run([MONITOR, "export", "pmtiles", str(path)], capture_output=True, text=True,
                              timeout=600, env={**os.environ, "DATABASE_URL": template_db})
        assert done.returncode == 0, done.stderr
        if data_versions(template_db) == versions:
            break
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    yield path, summary, versions
    path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def reader(archive):
    return Reader(MemorySource(archive[0].read_bytes()))


def test_the_header_and_metadata_describe_the_archive(archive, reader, rosario_bounds):
    _, summary, _ = archive
    header = reader.header()
    assert header["tile_type"] == TileType.MVT
    assert header["tile_compression"] == Compression.GZIP
    assert header["internal_compression"] == Compression.GZIP
    assert header["min_zoom"] == 0 and header["max_zoom"] >= 15 and summary["maxzoom"] == 16
    assert header["clustered"]
    west, south = header["min_lon_e7"] / 1e7, header["min_lat_e7"] / 1e7
    east, north = header["max_lon_e7"] / 1e7, header["max_lat_e7"] / 1e7
    assert west <= rosario_bounds[0] and south <= rosario_bounds[1]
    assert east >= rosario_bounds[2] and north >= rosario_bounds[3]
    assert west < header["center_lon_e7"] / 1e7 < east and south < header["center_lat_e7"] / 1e7 < north
    assert 0 <= header["center_zoom"] <= header["max_zoom"]
    assert header["root_length"] <= 16257
    metadata = reader.metadata()
    assert [v["id"] for v in metadata["vector_layers"]] == [layer.id for layer in LAYERS]
    assert header["addressed_tiles_count"] == summary["tiles"]


def test_archive_tiles_equal_the_live_tiles(archive, reader, http, rosario_bounds, template_db):
    stored = {zxy: data for zxy, data in all_tiles(reader.get_bytes)}
    assert {z for z, _, _ in stored} == set(range(0, 17))
    rng = random.Random(4)
    addresses = [(z, x, y) for z in range(0, 17) for x, y in tiles_over(rosario_bounds, z)]
    sample = [a for a in addresses if a[0] <= 11] + rng.sample([a for a in addresses if a[0] > 11], 60)
    for z, x, y in sample:
        live = http.get(f"/tiles/{z}/{x}/{y}.mvt")
        if (z, x, y) not in stored:
            assert live.status_code == 204, (z, x, y)  # left out of the archive because it is empty
            continue
        raw = gzip.decompress(stored[(z, x, y)])
        assert reader.get(z, x, y) == stored[(z, x, y)]
        assert canonical(decode(raw)) == canonical(decode(live.content)), (z, x, y)
    assert sum(1 for z, x, y in sample if (z, x, y) in stored) > 30
    assert data_versions(template_db) == archive[2], "the data changed while comparing"


def test_no_tile_is_larger_than_500_kb(archive):
    assert archive[1]["largest_tile_bytes"] < 500 * 1024


@pytest.fixture(scope="module")
def served(archive, live_server):
    path = archive[0]
    return f"{live_server.url}/archives/{path.name}", path.read_bytes()


def test_the_archive_is_listed_and_served_whole(served, http):
    url, data = served
    assert url in [a["href"] for a in http.get("/archives").json()["archives"]]
    whole = httpx.get(url)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "application/vnd.pmtiles"
    assert whole.headers["access-control-allow-origin"] == "*"
    head = httpx.head(url)
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(data) and head.content == b""
    assert httpx.get(url, headers={"If-None-Match": whole.headers["etag"]}).status_code == 304


def test_range_requests_return_exactly_the_bytes_asked_for(served):
    url, data = served
    size = len(data)
    rng = random.Random(7)
    ranges = [(0, 126), (127, 127), (size - 1, size - 1)] + [
        (start, min(size - 1, start + rng.randint(0, 40_000))) for start in rng.sample(range(size), 12)]
    for start, end in ranges:
        part = httpx.get(url, headers={"Range": f"bytes={start}-{end}"})
        assert part.status_code == 206
        assert part.content == data[start:end + 1]
        assert part.headers["content-range"] == f"bytes {start}-{end}/{size}"
        assert int(part.headers["content-length"]) == end - start + 1
    suffix = httpx.get(url, headers={"Range": "bytes=-100"})
    assert suffix.status_code == 206 and suffix.content == data[-100:]
    rest = httpx.get(url, headers={"Range": f"bytes={size - 1000}-"})
    assert rest.status_code == 206 and rest.content == data[-1000:]
    beyond = httpx.get(url, headers={"Range": f"bytes={size}-{size + 10}"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{size}"


def test_if_range_gives_the_range_only_while_the_file_is_unchanged(served):
    url, data = served
    etag = httpx.head(url).headers["etag"]
    same = httpx.get(url, headers={"Range": "bytes=10-19", "If-Range": etag})
    assert same.status_code == 206 and same.content == data[10:20]
    changed = httpx.get(url, headers={"Range": "bytes=10-19", "If-Range": '"an-older-version"'})
    assert changed.status_code == 200 and changed.content == data


def test_a_remote_reader_over_http_ranges_gets_the_live_tiles(served, http, rosario_bounds):
    """What MapLibre's pmtiles protocol does: header, directories and tiles, each one Range request."""
    url, _ = served
    with httpx.Client() as client:
        def get_bytes(offset: int, length: int) -> bytes:
            response = client.get(url, headers={"Range": f"bytes={offset}-{offset + length - 1}"})
            assert response.status_code == 206
            return response.content

        remote = Reader(get_bytes)
        assert remote.header()["max_zoom"] == 16
        checked = 0
        for z in (10, 13, 15):
            for x, y in tiles_over(rosario_bounds, z)[::5]:
                data = remote.get(z, x, y)
                live = http.get(f"/tiles/{z}/{x}/{y}.mvt")
                if data is None:
                    assert live.status_code == 204
                    continue
                assert canonical(decode(gzip.decompress(data))) == canonical(decode(live.content))
                checked += 1
        assert checked >= 10


@pytest.mark.parametrize("name", ["nothing.pmtiles", "..%2Fpyproject.toml", "pyproject.toml"])
def test_only_archives_in_the_archive_folder_are_served(http, name):
    response = http.get(f"/archives/{name}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
