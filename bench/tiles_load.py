"""A bounded loopback load generator for tile URLs: N keep-alive connections, each request timed.

Hand-written on asyncio streams (with uvloop) rather than httpx: an HTTP client library costs more CPU per request
than a cached tile costs the server, and on a 2-core machine the client shares the cores with the server and
PostgreSQL. It asks every path of a list exactly `passes` times (cold: once, so no server cache can answer), with
a fixed number of connections, and reports throughput and latency percentiles. Only 127.0.0.1 is ever a target.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field

import uvloop


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    body_bytes: int = 0
    largest_body: int = 0
    seconds: float = 0.0

    def summary(self) -> dict:
        ordered = sorted(self.latencies_ms)

        def pct(p: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2) if ordered else 0.0

        return {"requests": len(ordered), "tiles_per_s": round(len(ordered) / self.seconds, 1) if self.seconds else 0,
                "p50_ms": pct(50), "p99_ms": pct(99), "mean_ms": round(statistics.fmean(ordered), 2) if ordered else 0,
                "statuses": dict(sorted(self.statuses.items())), "largest_body": self.largest_body}


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if status in (204, 304) or "content-length" in headers:
        length = 0 if status in (204, 304) else int(headers["content-length"])
        if length:
            await reader.readexactly(length)
        return status, length
    if headers.get("transfer-encoding") == "chunked":
        total = 0
        while True:
            size = int((await reader.readline()).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            total += size
            if size == 0:
                return status, total
    raise RuntimeError(f"cannot tell where the response ends: {headers}")


async def _worker(port: int, queue: list[str], result: Result, timeout: float) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while queue:
            path = queue.pop()
            request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept-Encoding: gzip\r\n"
                       f"User-Agent: monitor-bench\r\n\r\n").encode()
            started = time.perf_counter()
            writer.write(request)
            status, size = await asyncio.wait_for(_read_response(reader), timeout)
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            result.body_bytes += size
            result.largest_body = max(result.largest_body, size)
    finally:
        writer.close()


async def _run(port: int, paths: list[str], passes: int, connections: int, timeout: float) -> Result:
    queue = [path for _ in range(passes) for path in paths][::-1]  # pop() from the end keeps the given order
    result = Result()
    started = time.perf_counter()
    await asyncio.gather(*(_worker(port, queue, result, timeout) for _ in range(min(connections, len(queue)))))
    result.seconds = time.perf_counter() - started
    return result


def load(port: int, paths: list[str], passes: int = 1, connections: int = 8, timeout: float = 60) -> dict:
    """Request every path `passes` times over `connections` keep-alive connections to 127.0.0.1:`port`."""
    return uvloop.run(_run(port, paths, passes, connections, timeout)).summary()
