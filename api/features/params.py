"""Items query parameters (Part 1, 2 and 3) → an `ItemsQuery`; anything unknown or malformed → 400."""

from __future__ import annotations

import json

import cql2
from fastapi import Request

from api.errors import Problem
from layers.features_sql import ItemsQuery, crs_by_uri, parse_datetime_interval
from layers.layer import Layer

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100
MAX_OFFSET = 1_000_000_000
STANDARD = {"limit", "offset", "bbox", "bbox-crs", "datetime", "filter", "filter-lang", "filter-crs", "sortby",
            "properties", "crs", "f"}
FILTER_LANGS = ("cql2-text", "cql2-json")


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


def parse_filter(text: str, lang: str | None) -> dict | bool:
    """CQL2 text or JSON → CQL2-JSON, parsed and validated by the `cql2` library."""
    lang = lang or "cql2-text"
    if lang not in FILTER_LANGS:
        raise _bad("Invalid filter-lang", f"filter-lang is one of {', '.join(FILTER_LANGS)}")
    try:
        expression = cql2.parse_text(text) if lang == "cql2-text" else cql2.parse_json(text)
        expression.validate()
        tree = expression.to_json()
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
