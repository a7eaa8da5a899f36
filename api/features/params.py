"""Items query parameters (Part 1, 2 and 3) → an `ItemsQuery`; anything unknown or malformed → 400."""

from __future__ import annotations

import asyncio
import json
import re

import cql2
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from api.errors import Problem
from api.http import json_nesting
from layers.features_sql import (
    MAX_FILTER_DEPTH,
    ItemsQuery,
    QueryError,
    check_filter_tree,
    crs_by_uri,
    parse_datetime_interval,
)
from layers.layer import Layer

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100
MAX_OFFSET = 1_000_000_000
STANDARD = {"limit", "offset", "bbox", "bbox-crs", "datetime", "filter", "filter-lang", "filter-crs", "sortby",
            "properties", "crs", "f", "download"}  # download=true: the whole selection (api/downloads.py)
FILTER_LANGS = ("cql2-text", "cql2-json")
# Limits checked before the `cql2` parser sees a filter: its recursive-descent parser overflows the stack (the
# process dies) past ~1,500 nested parentheses, and its validation takes seconds for a few dozen nested NOTs.
# Depth is also limited on the parsed tree (layers/features_sql.check_filter_tree, with the number of nodes).
MAX_FILTER_CHARS = 16_000
FILTER_PARSE_SECONDS = 2.0  # parsing runs in a worker thread; past this the request is refused
# Tokens that open a level: brackets, and a NOT (which nests without parentheses: NOT NOT NOT a = 1). String
# literals and quoted names are matched whole so their content never counts.
_TEXT_TOKENS = re.compile(r"'(?:[^']|'')*'?|\"(?:[^\"]|\"\")*\"?|[()\[\]]|\b(?:not|and|or)\b", re.IGNORECASE)


def _bad(title: str, detail: str) -> Problem:
    return Problem(400, title, detail)


def _integer(text: str | None, name: str, default: int, low: int, high: int) -> int:
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise _bad(f"Invalid {name}", f"{name} must be an integer") from None
    if not low <= value <= high:
        raise _bad(f"Invalid {name}", f"{name} must be between {low} and {high}")
    return value


def _numbers(text: str, name: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise _bad(f"Invalid {name}", f"{name} is a comma-separated list of numbers") from None


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def filter_nesting(text: str, lang: str) -> int:
    """How deeply a filter nests, read without parsing it (one pass, no recursion): for CQL2 text, open
    parentheses and brackets plus the NOTs applying at each level; for CQL2-JSON, open objects."""
    if lang == "cql2-json":
        return json_nesting(text, "{")
    deepest = 0
    nots = [0]  # per open level: the NOTs in front of what comes next (NOT NOT x nests twice)
    previous = ""
    for token in _TEXT_TOKENS.finditer(text):
        word = token.group().lower()
        if word in ("(", "["):
            if previous == "not":  # NOT (...) is one level, not two
                nots[-1] -= 1
            nots.append(0)
        elif word in (")", "]"):
            if len(nots) > 1:
                nots.pop()
        elif word == "not":
            nots[-1] += 1
        elif word in ("and", "or"):
            nots[-1] = 0
        deepest = max(deepest, len(nots) - 1 + sum(nots))
        previous = word
    return deepest


def check_filter_text(text: str, lang: str) -> None:
    """The limits a filter must meet before it is parsed; a 400 naming the limit otherwise."""
    if len(text) > MAX_FILTER_CHARS:
        raise _bad("Filter too long", f"a filter is at most {MAX_FILTER_CHARS} characters (limit: length); "
                                      f"this one has {len(text)}")
    depth = filter_nesting(text, lang)
    if depth > MAX_FILTER_DEPTH:
        raise _bad("Filter too deep", f"a filter nests at most {MAX_FILTER_DEPTH} levels (limit: depth); "
                                      f"this one nests {depth}")


def parse_filter(text: str, lang: str | None) -> dict | bool:
    """CQL2 text or JSON → CQL2-JSON, parsed and validated by the `cql2` library, within the limits above."""
    lang = lang or "cql2-text"
    if lang not in FILTER_LANGS:
        raise _bad("Invalid filter-lang", f"filter-lang is one of {', '.join(FILTER_LANGS)}")
    check_filter_text(text, lang)
    try:
        expression = cql2.parse_text(text) if lang == "cql2-text" else cql2.parse_json(text)
        tree = expression.to_json()
        check_filter_tree(tree)  # depth and number of nodes, before the (slow) schema validation
        expression.validate()
    except QueryError as exc:
        raise _bad(exc.title, exc.detail) from None
    except (cql2.ParseError, cql2.ValidationError, ValueError, json.JSONDecodeError) as exc:
        raise _bad("Invalid filter", f"{lang}: {str(exc)[:400]}") from None
    return tree


def parse_items_query(request: Request, layer: Layer) -> ItemsQuery:
    params = request.query_params
    unknown = [k for k in params if k not in STANDARD and layer.get_property(k) is None]
    if unknown:
        raise _bad("Unknown parameter", f"unknown query parameter(s): {', '.join(unknown)}")
    query = ItemsQuery(
        limit=_integer(params.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=_integer(params.get("offset"), "offset", 0, 0, MAX_OFFSET),
        crs=crs_by_uri(params.get("crs")),
        bbox_crs=crs_by_uri(params.get("bbox-crs"), "bbox-crs"),
        filter_crs=crs_by_uri(params.get("filter-crs"), "filter-crs"),
        equals={k: v for k, v in params.items() if k not in STANDARD},
    )
    if "bbox" in params:
        query.bbox = _numbers(params["bbox"], "bbox")
    if "datetime" in params:
        query.interval = parse_datetime_interval(params["datetime"])
    if "filter" in params:
        query.cql = parse_filter(params["filter"], params.get("filter-lang"))
    elif "filter-lang" in params:
        raise _bad("Invalid filter-lang", "filter-lang without filter")
    if "sortby" in params:
        query.sortby = [(n.lstrip("+-"), n.startswith("-")) for n in _names(params["sortby"])]
    if "properties" in params:
        query.properties = _names(params["properties"])
    return query


async def read_items_query(request: Request, layer: Layer) -> ItemsQuery:
    """`parse_items_query`; with a filter, in a worker thread with a time limit: parsing a filter never holds the
    event loop. Without one, parsing is a few checks: done here (a thread hop costs more than the page itself)."""
    if "filter" not in request.query_params:
        return parse_items_query(request, layer)
    try:
        return await asyncio.wait_for(run_in_threadpool(parse_items_query, request, layer), FILTER_PARSE_SECONDS)
    except TimeoutError:
        raise _bad("Filter too complex", f"parsing the filter took longer than {FILTER_PARSE_SECONDS:g} s "
                                         "(limit: parse time); simplify it") from None
