"""The open-data profile of the catalogue: licence and attribution, themes and update frequency of each layer, the
data dictionary, and the two catalogues portals harvest, written from the layer definitions.

- `data_json`: the `data.json` of Argentina's national metadata profile (Perfil de Aplicación Nacional de
  Metadatos para Datos Abiertos v1.2, the format datos.gob.ar and Andino portals harvest and `pydatajson`
  validates): catalogue, datasets, distributions with their fields, themes, licence, publisher, update frequency
  (`accrualPeriodicity`, ISO 8601 repeating intervals), temporal and spatial coverage.
- `dcat_jsonld`: the same catalogue in DCAT-AP (JSON-LD with its context inline, EU vocabularies for themes,
  frequencies, file types and languages).

Pure functions: the HTTP module (api/opendata.py) passes the service's base URL and the facts it read from the
database (extent, temporal coverage, last change of each layer). Every layer of the catalogue is a dataset; a new
layer gets the monitor's licence and a theme by what it is (index, registry) unless it is listed below.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from layers.layer import Layer

TITLE = "Monitor de Participación Ciudadana de Rosario"
DESCRIPTION = ("Datos abiertos del Monitor de Participación Ciudadana de Rosario (compromiso de Gobierno Abierto "
               "ARCRR0004): las instancias de participación de la ciudad, estatales y de la sociedad civil, sus "
               "actividades, organizaciones, estándares mínimos, evaluaciones, experiencias y compromisos, la "
               "satisfacción agregada de quienes participan y el Índice de Participación Ciudadana por barrio, "
               "distrito y hexágono H3.")
PUBLISHER = {"name": "Municipalidad de Rosario — Monitor de Participación Ciudadana", "mbox": ""}
IDENTIFIER = "rosario-participacion-ciudadana"
LANGUAGE = "spa"  # ISO 639-2, as the profile asks
SUPER_THEME_TAXONOMY = "http://datos.gob.ar/superThemeTaxonomy.json"
KEYWORDS = ("participación ciudadana", "gobierno abierto", "Rosario")


@dataclass(frozen=True)
class Licence:
    title: str
    url: str | None  # None: the source stated no licence
    spdx: str | None = None


MONITOR_LICENCE = Licence("Creative Commons Atribución 4.0 Internacional (CC BY 4.0)",
                          "https://creativecommons.org/licenses/by/4.0/deed.es", "CC-BY-4.0")
# Layers that are the municipality's data as the monitor received it: their copies stated no licence (README.md,
# "Data: sources and limits"), so none is claimed; they are credited and their terms are the source's.
SOURCE_TERMS = Licence("Términos de la Municipalidad de Rosario (la copia usada no declara una licencia)", None)
SOURCE_LAYERS = {"barrios", "districts", "basemap_routes", "basemap_labels"}


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    description: str


THEMES = (
    Theme("participacion", "Participación ciudadana",
          "Instancias de participación, sus actividades y las organizaciones que las promueven."),
    Theme("evaluacion", "Evaluación y compromisos",
          "Estándares mínimos de buenas prácticas, evaluaciones, experiencias, compromisos del gobierno y "
          "satisfacción de quienes participan."),
    Theme("indice", "Índice de Participación Ciudadana",
          "El índice por barrio y distrito, la accesibilidad por hexágono H3 y sus parámetros."),
    Theme("territorio", "Territorio", "Barrios, distritos y el mapa base de la ciudad."),
)
EVALUATION_LAYERS = {"criteria", "assessments", "experiences", "commitments", "satisfaction"}
# National super-themes (superThemeTaxonomy.json) and their DCAT-AP data themes.
SUPER_THEMES = {"participacion": "GOVE", "evaluacion": "GOVE", "indice": "GOVE", "territorio": "REGI"}
EU_THEMES = {"GOVE": "GOVE", "REGI": "REGI", "SOCI": "SOCI"}
CONTINUOUS, EVENTUAL = "R/PT1S", "eventual"
EU_FREQUENCY = {CONTINUOUS: "CONT", EVENTUAL: "IRREG"}
# Table Schema names, as the profile's field types follow them.
FIELD_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean", "date": "date",
               "datetime": "datetime", "array": "array", "object": "object"}


def licence_of(layer: Layer) -> Licence:
    return SOURCE_TERMS if layer.id in SOURCE_LAYERS else MONITOR_LICENCE


def attribution_of(layer: Layer) -> str:
    return layer.attribution or TITLE


def theme_of(layer: Layer) -> Theme:
    if layer.id in SOURCE_LAYERS:
        theme = "territorio"
    elif layer.is_analytics:
        theme = "indice"
    elif layer.id in EVALUATION_LAYERS:
        theme = "evaluacion"
    else:
        theme = "participacion"
    return next(t for t in THEMES if t.id == theme)


def periodicity_of(layer: Layer) -> str:
    """The registry changes with every approved edit and the index is recomputed seconds after; the geography
    changes when the municipality publishes a new layer."""
    return EVENTUAL if layer.id in SOURCE_LAYERS else CONTINUOUS


# ---------------------------------------------------------------- the data dictionary
DICTIONARY_COLUMNS = ["coleccion", "campo", "tipo", "titulo", "descripcion", "valores"]


def fields(layer: Layer, with_wkt: bool = False) -> list[dict]:
    """Every column of a layer's downloads, with its type and its title from the catalogue."""
    rows = [{"name": "id", "type": "string" if layer.id_type == "string" else "integer",
             "title": "Identificador", "description": f"Identificador del registro ({layer.id_column})",
             "values": ""}]
    for prop in layer.properties:
        rows.append({"name": prop.name, "type": FIELD_TYPES[prop.type], "title": prop.title,
                     "description": prop.description or prop.title,
                     "values": ";".join(prop.enum) if prop.enum else ""})
    if layer.has_geometry:
        rows.append({"name": "wkt" if with_wkt else "geometry", "type": "string" if with_wkt else "geojson",
                     "title": "Geometría",
                     "description": f"{layer.geometry_type}, EPSG:4326 (longitud, latitud)"
                                    + (" en WKT" if with_wkt else ""), "values": ""})
    return rows


def dictionary_csv(layers: tuple[Layer, ...]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DICTIONARY_COLUMNS)
    for layer in layers:
        for field in fields(layer, with_wkt=False):
            writer.writerow([layer.id, field["name"], field["type"], field["title"], field["description"],
                             field["values"]])
    return out.getvalue().encode()


def licence_text(layers: tuple[Layer, ...]) -> str:
    lines = [f"# Licencia de los datos — {TITLE}", "",
             f"Salvo lo indicado abajo, los datos se publican bajo {MONITOR_LICENCE.title}: "
             f"{MONITOR_LICENCE.url}. Al reutilizarlos, citá la fuente como se indica para cada capa.", "",
             "| capa | licencia | atribución |", "| --- | --- | --- |"]
    for layer in layers:
        licence = licence_of(layer)
        lines.append(f"| {layer.id} | {licence.title} | {attribution_of(layer)} |")
    lines += ["", "Los registros con `is_demo = true` son datos de demostración inventados, no instancias reales.",
              "El código del monitor es software libre (MIT)."]
    return "\n".join(lines) + "\n"


def readme_text(layers: tuple[Layer, ...]) -> str:
    lines = [f"# {TITLE}: datos abiertos", "", DESCRIPTION, "",
             "- `monitor.gpkg`: todas las capas en un GeoPackage (EPSG:4326), una tabla por capa.",
             "- `csv/{capa}.csv`: cada capa en CSV (UTF-8; geometría en WKT; listas separadas por `;`).",
             "- `diccionario.csv`: cada campo de cada capa, su tipo y su descripción.",
             "- `LICENCIA.md`: licencia y atribución de cada capa.", "", "## Capas", ""]
    lines += [f"- `{layer.id}`: {layer.title}. {layer.description}" for layer in layers]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- facts the catalogues need
@dataclass(frozen=True)
class Facts:
    """What the database says about one layer when a catalogue is written."""

    bbox: tuple[float, float, float, float] | None  # lon/lat
    start: datetime | None  # temporal coverage, layers with a time span
    end: datetime | None
    modified: datetime | None


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _temporal(facts: Facts) -> str | None:
    if facts.start is None or facts.end is None:
        return None
    return f"{facts.start.date().isoformat()}/{facts.end.date().isoformat()}"


def _bbox(facts: Facts) -> list[float] | None:
    return [round(v, 6) for v in facts.bbox] if facts.bbox else None


# ---------------------------------------------------------------- data.json (national profile)
def data_json(base: str, layers: tuple[Layer, ...], facts: dict[str, Facts], issued: datetime,
              formats: dict[str, tuple[str, str, str]], landing: dict[str, str]) -> dict:
    """The catalogue in the national profile. `formats`: extension → (profile format name, media type, label);
    `landing`: layer id → its page."""
    modified = max((f.modified for f in facts.values() if f.modified), default=issued)
    city = [f.bbox for f in facts.values() if f.bbox]
    spatial = ([round(min(b[0] for b in city), 6), round(min(b[1] for b in city), 6),
                round(max(b[2] for b in city), 6), round(max(b[3] for b in city), 6)] if city else None)
    datasets = []
    for layer in layers:
        fact, licence = facts[layer.id], licence_of(layer)
        theme = theme_of(layer)
        distributions = []
        for ext, (name, media_type, label) in formats.items():
            distributions.append({
                "identifier": f"{layer.id}-{ext}",
                "title": f"{layer.title} ({label})"[:100],
                "description": f"{layer.title}, todos los registros publicados, en {label}.",
                "accessURL": landing[layer.id],
                "downloadURL": f"{base}/datos/{layer.id}.{ext}",
                "fileName": f"{layer.id}.{ext}",
                "format": name,
                "mediaType": media_type,
                "license": licence.title,
                "rights": f"Atribución: {attribution_of(layer)}",
                "issued": _iso(issued),
                "modified": _iso(fact.modified or issued),
                "field": [{"title": f["name"], "type": f["type"], "description": f["title"]
                           + (f" ({f['values']})" if f["values"] else "")}
                          for f in fields(layer, with_wkt=ext == "csv")],
            })
        dataset = {
            "identifier": layer.id,
            "title": layer.title[:100],
            "description": layer.description,
            "publisher": PUBLISHER,
            "contactPoint": {"fn": PUBLISHER["name"]},
            "superTheme": [SUPER_THEMES[theme.id]],
            "theme": [theme.id],
            "keyword": [*KEYWORDS, theme.label],
            "accrualPeriodicity": periodicity_of(layer),
            "issued": _iso(issued),
            "modified": _iso(fact.modified or issued),
            "language": [LANGUAGE],
            "landingPage": landing[layer.id],
            "license": licence.title,
            "source": attribution_of(layer),
            "distribution": distributions,
        }
        if (bbox := _bbox(fact)) is not None:
            dataset["spatial"] = bbox
        if (temporal := _temporal(fact)) is not None:
            dataset["temporal"] = temporal
        datasets.append(dataset)
    catalogue = {
        "identifier": IDENTIFIER,
        "title": TITLE,
        "description": DESCRIPTION,
        "publisher": PUBLISHER,
        "issued": _iso(issued),
        "modified": _iso(modified),
        "language": [LANGUAGE],
        "superThemeTaxonomy": SUPER_THEME_TAXONOMY,
        "themeTaxonomy": [{"id": t.id, "label": t.label, "description": t.description} for t in THEMES],
        "license": MONITOR_LICENCE.title,
        "homepage": f"{base}/map",
        "rights": "Ver la licencia y la atribución de cada conjunto de datos.",
        "dataset": datasets,
    }
    if spatial:
        catalogue["spatial"] = spatial
    return catalogue


# ---------------------------------------------------------------- DCAT-AP (JSON-LD)
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "locn": "http://www.w3.org/ns/locn#",
    "gsp": "http://www.opengis.net/ont/geosparql#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
}
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
# EU file types of the formats (FlatGeobuf has none: its media type and a label say what it is).
EU_FILE_TYPES = {"geojson": "GEOJSON", "csv": "CSV", "gpkg": "GPKG"}


def _text(value: str) -> dict:
    return {"@value": value, "@language": "es"}


def _when(value: date | datetime) -> dict:
    kind = "xsd:dateTime" if isinstance(value, datetime) else "xsd:date"
    return {"@value": value.isoformat(), "@type": kind}


def _ref(uri: str) -> dict:
    return {"@id": uri}


def _polygon(bbox: tuple[float, float, float, float]) -> str:
    w, s, e, n = (round(v, 6) for v in bbox)
    return f"POLYGON(({w} {s},{e} {s},{e} {n},{w} {n},{w} {s}))"


def dcat_jsonld(base: str, layers: tuple[Layer, ...], facts: dict[str, Facts], issued: datetime,
                formats: dict[str, tuple[str, str, str]], landing: dict[str, str]) -> dict:
    publisher = {"@id": f"{base}/datos/catalog.jsonld#publisher", "@type": "foaf:Agent",
                 "foaf:name": PUBLISHER["name"]}
    modified = max((f.modified for f in facts.values() if f.modified), default=issued)
    datasets = []
    for layer in layers:
        fact, licence, theme = facts[layer.id], licence_of(layer), theme_of(layer)
        distributions = []
        for ext, (_, media_type, label) in formats.items():
            distribution = {
                "@id": f"{base}/datos/{layer.id}.{ext}",
                "@type": "dcat:Distribution",
                "dct:title": _text(f"{layer.title} ({label})"),
                "dcat:accessURL": _ref(landing[layer.id]),
                "dcat:downloadURL": _ref(f"{base}/datos/{layer.id}.{ext}"),
                "dcat:mediaType": _ref(IANA + media_type.split(";")[0]),
                "dct:format": (_ref(EU + "file-type/" + EU_FILE_TYPES[ext]) if ext in EU_FILE_TYPES else
                               {"@type": "dct:MediaTypeOrExtent", "rdfs:label": label}),
                "dct:issued": _when(issued),
                "dct:rights": {"@type": "dct:RightsStatement",
                               "rdfs:label": _text(f"Atribución: {attribution_of(layer)}")},
            }
            if licence.url:
                distribution["dct:license"] = {"@id": licence.url, "@type": "dct:LicenseDocument",
                                               "rdfs:label": licence.title}
            if fact.modified:
                distribution["dct:modified"] = _when(fact.modified)
            distributions.append(distribution)
        dataset = {
            "@id": f"{base}/datos/catalog.jsonld#{layer.id}",
            "@type": "dcat:Dataset",
            "dct:identifier": layer.id,
            "dct:title": _text(layer.title),
            "dct:description": _text(layer.description),
            "dct:publisher": _ref(publisher["@id"]),
            "dcat:contactPoint": {"@type": "vcard:Organization", "vcard:fn": PUBLISHER["name"]},
            "dcat:theme": _ref(EU + "data-theme/" + EU_THEMES[SUPER_THEMES[theme.id]]),
            "dcat:keyword": [_text(k) for k in (*KEYWORDS, theme.label)],
            "dct:accrualPeriodicity": _ref(EU + "frequency/" + EU_FREQUENCY[periodicity_of(layer)]),
            "dct:language": _ref(EU + "language/SPA"),
            "dcat:landingPage": _ref(landing[layer.id]),
            "dct:issued": _when(issued),
            "dct:source": attribution_of(layer),
            "dcat:distribution": distributions,
        }
        if fact.modified:
            dataset["dct:modified"] = _when(fact.modified)
        if fact.bbox:
            dataset["dct:spatial"] = {"@type": "dct:Location",
                                      "dcat:bbox": {"@value": _polygon(fact.bbox), "@type": "gsp:wktLiteral"}}
        if fact.start and fact.end:
            dataset["dct:temporal"] = {"@type": "dct:PeriodOfTime", "dcat:startDate": _when(fact.start),
                                       "dcat:endDate": _when(fact.end)}
        datasets.append(dataset)
    return {
        "@context": CONTEXT,
        "@id": f"{base}/datos/catalog.jsonld",
        "@type": "dcat:Catalog",
        "dct:identifier": IDENTIFIER,
        "dct:title": _text(TITLE),
        "dct:description": _text(DESCRIPTION),
        "dct:publisher": publisher,
        "foaf:homepage": _ref(f"{base}/map"),
        "dct:language": _ref(EU + "language/SPA"),
        "dct:license": {"@id": MONITOR_LICENCE.url, "@type": "dct:LicenseDocument",
                        "rdfs:label": MONITOR_LICENCE.title},
        "dct:issued": _when(issued),
        "dct:modified": _when(modified),
        "dcat:themeTaxonomy": _ref(EU + "data-theme"),
        "dcat:dataset": datasets,
    }
