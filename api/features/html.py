"""The HTML encoding (Part 1 `html` class): any feature-API document as a plain, linked page.

One generic renderer for every resource, so the HTML never drifts from the JSON it is made from.
"""

from __future__ import annotations

import json
from html import escape


def _links(links: list[dict]) -> str:
    items = "".join(
        f'<li><a href="{escape(link["href"])}">{escape(link.get("title") or link["rel"])}</a>'
        f' <small>({escape(link["rel"])}, {escape(link.get("type", ""))})</small></li>'
        for link in links)
    return f"<ul>{items}</ul>" if items else ""


def _value(value) -> str:
    if isinstance(value, dict | list):
        return f"<code>{escape(json.dumps(value, ensure_ascii=False)[:300])}</code>"
    return escape("" if value is None else str(value))


def _features_table(features: list[dict]) -> str:
    if not features:
        return "<p>No features.</p>"
    columns = list(features[0].get("properties") or {})
    head = "".join(f"<th>{escape(c)}</th>" for c in ["id", *columns, "geometry"])
    rows = []
    for feature in features:
        props = feature.get("properties") or {}
        geometry = feature.get("geometry")
        cells = [_value(feature.get("id"))] + [_value(props.get(c)) for c in columns]
        cells.append(_value(geometry.get("coordinates") if geometry else None))
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render(document: dict, title: str) -> bytes:
    parts = [f"<h1>{escape(title)}</h1>"]
    if document.get("description"):
        parts.append(f"<p>{escape(document['description'])}</p>")
    parts.append(_links(document.get("links", [])))
    if document.get("type") == "FeatureCollection":
        matched = document.get("numberMatched")
        parts.append(f"<p>{document.get('numberReturned', 0)} returned of {matched} matched.</p>")
        parts.append(_features_table(document.get("features", [])))
    elif document.get("type") == "Feature":
        parts.append(_features_table([document]))
    for collection in document.get("collections", []):
        parts.append(f"<h2>{escape(collection.get('title', collection['id']))}</h2>"
                     f"<p>{escape(collection.get('description', ''))}</p>{_links(collection.get('links', []))}")
    if "conformsTo" in document:
        parts.append("<ul>" + "".join(f"<li>{escape(c)}</li>" for c in document["conformsTo"]) + "</ul>")
    if "properties" in document and document.get("type") == "object":
        parts.append("<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{_value(v)}</dd>"
                                      for k, v in document["properties"].items()) + "</dl>")
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 6px}")
    page = (f'<!doctype html><html lang="es"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")
    return page.encode()
