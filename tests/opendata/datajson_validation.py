"""Validation of a data.json against Argentina's national metadata profile, as `pydatajson` does it: its JSON schema
(datajson_schema/, copied from pydatajson 0.4.67) and the checks it makes outside the schema.

The schema files refer to shared types as `mixed-types.json#nonEmptyString`, a JSON pointer without its leading
slash that jsonschema 2.6 (pydatajson's) resolved as a path; today's `referencing` reads a bare fragment as an
anchor, so the pointers get their slash back when the files are loaded. Nothing else is changed.
"""

from __future__ import annotations

import json
import mimetypes
import os
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SCHEMA_DIR = Path(__file__).parent / "datajson_schema"
SCHEMAS = ("catalog.json", "dataset.json", "distribution.json", "field.json", "mixed-types.json", "theme.json")
EXTENSION_EXCEPTIONS = {"zip", "php", "asp", "aspx"}  # pydatajson's: extensions that mask the real format


def _pointers(node):
    if isinstance(node, dict):
        out = {k: _pointers(v) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and "#" in ref:
            target, fragment = ref.split("#", 1)
            if fragment and not fragment.startswith("/"):
                out["$ref"] = f"{target}#/{fragment}"
        return out
    if isinstance(node, list):
        return [_pointers(v) for v in node]
    return node


def validator() -> jsonschema.Draft4Validator:
    schemas = {name: _pointers(json.loads((SCHEMA_DIR / name).read_text())) for name in SCHEMAS}
    registry = Registry().with_resources(
        (name, Resource.from_contents(schema, default_specification=DRAFT4)) for name, schema in schemas.items())
    return jsonschema.Draft4Validator(schemas["catalog.json"], registry=registry,
                                      format_checker=jsonschema.FormatChecker())


def super_themes() -> set[str]:
    return {t["id"] for t in json.loads((SCHEMA_DIR / "superThemeTaxonomy.json").read_text())}


def periodicities() -> set[str]:
    return {p["id"] for p in json.loads((SCHEMA_DIR / "accrualPeriodicity.json").read_text())}


def _format_matches_extension(distribution: dict, attribute: str) -> bool:
    """pydatajson's ConsistentDistributionFieldsValidator, stricter: the extension of `downloadURL` / `fileName`
    must be one the format (a name or a media type) can have (pydatajson lets any extension pass once the format
    names some)."""
    if attribute not in distribution or "format" not in distribution:
        return True
    fmt = distribution["format"]
    possible = mimetypes.guess_all_extensions(fmt) if "/" in fmt else ["." + fmt.lower()]
    extension = os.path.splitext(urlparse(distribution[attribute]).path)[-1].lower()
    if not extension or extension.lstrip(".") in EXTENSION_EXCEPTIONS:
        return True
    return extension in possible


def errors(catalog: dict) -> list[str]:
    """Every way `catalog` departs from the profile; empty when it is valid."""
    found = [f"{'/'.join(map(str, e.absolute_path)) or '(catalog)'}: {e.message}"
             for e in validator().iter_errors(catalog)]
    themes = [t["id"] for t in catalog.get("themeTaxonomy", [])]
    found += [f"theme id {t!r} repeated in themeTaxonomy" for t, n in Counter(themes).items() if n > 1]
    datasets = catalog.get("dataset", [])
    identifiers = [d.get("identifier") for d in datasets]
    found += [f"dataset identifier {i!r} repeated" for i, n in Counter(identifiers).items() if n > 1]
    distributions = [x.get("identifier") for d in datasets for x in d.get("distribution", [])]
    found += [f"distribution identifier {i!r} repeated" for i, n in Counter(distributions).items() if n > 1]
    for dataset in datasets:
        name = dataset.get("identifier")
        found += [f"{name}: theme {t!r} is not in themeTaxonomy" for t in dataset.get("theme") or []
                  if t not in themes]
        found += [f"{name}: superTheme {t!r} is not a national super-theme" for t in dataset.get("superTheme", [])
                  if t.upper() not in super_themes()]
        if dataset.get("accrualPeriodicity") not in periodicities():
            found.append(f"{name}: accrualPeriodicity {dataset.get('accrualPeriodicity')!r} is not in the profile")
        for distribution in dataset.get("distribution", []):
            for attribute in ("downloadURL", "fileName"):
                if not _format_matches_extension(distribution, attribute):
                    found.append(f"{name}: {attribute} of {distribution.get('identifier')} does not match its "
                                 f"format {distribution.get('format')!r}")
    return found
