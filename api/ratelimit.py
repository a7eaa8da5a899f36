"""Rate limits per client: generous for reads, strict for writes and sign-in; a `429` problem with `Retry-After`.

Every request counts toward its client address's budget (`MONITOR_RATE_LIMIT_READS`). Writes — POST, PUT, PATCH
and DELETE, which include the back-office's sign-in — also count toward a strict one (`MONITOR_RATE_LIMIT_WRITES`)
keyed by the bearer token, or by the address when there is none (a session cookie, a sign-in form). Counting every
write toward its address as well bounds a client that sends a new made-up token with each request. The survey
form's answers (`POST /encuesta/…`) keep their own limit (api/surveys.py) and count as reads here.

A client is its address as the server sees it (uvicorn takes it from `X-Forwarded-For` when the proxy is trusted:
`FORWARDED_ALLOW_IPS`); an IPv6 address counts as its /64, which one subscriber usually holds whole. Keys are kept
only as keyed BLAKE2b hashes (a random key per process), never as addresses or tokens, and nothing here logs them.

Counted in memory, per server process, by the `limits` library: fixed windows that start at a client's first
request (so `Retry-After` is exactly when its window ends; a sliding-window estimate would tell a client to come
back while it is still over), expired on their own: a counter per client and limit, nothing per request. With
`monitor serve --workers N` a client gets up to N times the budget, and a restart forgets the counts. That is
enough against one client flooding the service; a shared store (limits' Redis storage) would count across
processes and machines. slowapi, built on the same library, attaches limits to routes with decorators; the rule
here is per method for every route, which one ASGI middleware states once.
"""

from __future__ import annotations

import ipaddress
import math
import secrets
import time
from hashlib import blake2b

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from api.errors import problem_response

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OWN_LIMIT = ("/encuesta/",)  # paths whose writes are limited by their own router


def parse_limits(text: str | None) -> list[RateLimitItem]:
    """`"1200/minute"`, several separated by `;`; empty or `none`: no limit."""
    if not text or text.strip().lower() in ("", "none", "off", "0"):
        return []
    return parse_many(text)


def describe(item: RateLimitItem, kind: str) -> str:
    """`1200 requests per minute`, `600 writes per 10 hours`."""
    per = item.GRANULARITY.name if item.multiples == 1 else f"{item.multiples} {item.GRANULARITY.name}s"
    return f"{item.amount} {kind} per {per}"


# Scope key: this request is already counted (the tiles' shortcut counted it, then left it to the full stack).
COUNTED = "monitor.budget_counted"


class ClientBudgets:
    """What each client has left; shared by the middleware and the tiles' shortcut (api/tiles/shortcut.py),
    which answers before the middleware stack but must count its requests all the same."""

    def __init__(self, reads: str | None, writes: str | None):
        self.reads, self.writes = parse_limits(reads), parse_limits(writes)
        self._key = secrets.token_bytes(32)
        self._limiter = FixedWindowRateLimiter(MemoryStorage()) if self.reads or self.writes else None

    @property
    def active(self) -> bool:
        return self._limiter is not None

    def _hash(self, kind: str, value: str) -> str:
        return blake2b(f"{kind}\0{value}".encode(), key=self._key, digest_size=16).hexdigest()

    @staticmethod
    def _address(scope) -> str:
        host = (scope.get("client") or ("unknown", 0))[0]
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return host
        if address.version == 4:
            return str(address)
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))

    @staticmethod
    def _bearer(scope) -> str | None:
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token.strip():
                    return token.strip()
        return None

    def _wait(self, budgets: list[tuple[str, list[RateLimitItem], str]]) -> tuple[float, str] | None:
        """Seconds to wait and which limit, when one budget is spent; else count the request in every one."""
        for kind, items, key in budgets:
            for item in items:
                if not self._limiter.test(item, kind, key):
                    reset = self._limiter.get_window_stats(item, kind, key).reset_time
                    return max(1.0, reset - time.time()), describe(item, kind)
        for kind, items, key in budgets:
            for item in items:
                self._limiter.hit(item, kind, key)
        return None

    def over(self, scope) -> tuple[float, str] | None:
        """None when the request is within its client's budgets (and is then counted in each); otherwise the
        seconds to wait and which limit was spent (nothing counted)."""
        if self._limiter is None:
            return None
        address = self._hash("address", self._address(scope))
        budgets = [("requests", self.reads, address)]
        if scope["method"] in WRITE_METHODS and not scope["path"].startswith(OWN_LIMIT):
            token = self._bearer(scope)
            budgets.append(("writes", self.writes, self._hash("token", token) if token else address))
        return self._wait(budgets)


class RateLimit:
    """Pure ASGI middleware (bodies and streams pass through untouched)."""

    def __init__(self, app, reads: str | None = None, writes: str | None = None,
                 budgets: ClientBudgets | None = None):
        self.app = app
        self.budgets = budgets or ClientBudgets(reads, writes)
        self.reads, self.writes = self.budgets.reads, self.budgets.writes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.budgets.active or scope.get(COUNTED):
            return await self.app(scope, receive, send)
        over = self.budgets.over(scope)
        if over is None:
            return await self.app(scope, receive, send)
        seconds, limit = over
        retry = str(math.ceil(seconds))
        response = problem_response(429, "Too many requests",
                                    f"this client made more than {limit}; retry in {retry} s", {"Retry-After": retry})
        await response(scope, receive, send)
