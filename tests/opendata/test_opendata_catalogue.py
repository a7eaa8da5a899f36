"""The catalogues portals harvest: /data.json in Argentina's national metadata profile (validated with the profile's
JSON schema, as pydatajson validates it) and /datos/catalog.jsonld in DCAT-AP (parsed as RDF, its mandatory classes
and properties checked). A portal harvesting /data.json finds every distribution downloadable, and GDAL opens each
with the number of features the API counts."""

from __future__ import annotations

import copy

import pytest
import rdflib
from datajson_validation import errors
from opendata_helpers import api_count, gdal_counts, save

from api.downloads import FORMATS
from layers.catalogue import DOWNLOAD_LAYERS


@pytest.fixture(scope="module")
def data_json(http):
    response = http.get("/data.json")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    return response.json()


def test_data_json_is_valid_in_the_national_profile(data_json):
    assert errors(data_json) == []
    assert [d["identifier"] for d in data_json["dataset"]] == [layer.id for layer in DOWNLOAD_LAYERS]
    instances = next(d for d in data_json["dataset"] if d["identifier"] == "instances")
    assert instances["superTheme"] == ["GOVE"] and instances["theme"] == ["participacion"]
    assert instances["accrualPeriodicity"] == "R/PT1S" and "CC BY 4.0" in instances["license"]
    west, south, east, north = instances["spatial"]
    assert -61 < west < east < -60.5 and -33.1 < south < north < -32.8  # Rosario
    activities = next(d for d in data_json["dataset"] if d["identifier"] == "activities")
    start, end = activities["temporal"].split("/")
    assert start <= end
    barrios = next(d for d in data_json["dataset"] if d["identifier"] == "barrios")
    assert barrios["accrualPeriodicity"] == "eventual" and "Municipalidad de Rosario" in barrios["license"]
    csv = next(x for x in instances["distribution"] if x["format"] == "CSV")
    fields = {f["title"]: f for f in csv["field"]}
    assert fields["kind"]["type"] == "string" and fields["kind"]["description"].startswith("Tipo (")
    assert fields["wkt"]["type"] == "string" and fields["themes"]["type"] == "array"


def test_the_validator_catches_what_the_profile_forbids(data_json):
    """The schema is really applied: each of these breaks the profile."""
    def broken(change) -> list[str]:
        catalog = copy.deepcopy(data_json)
        change(catalog)
        return errors(catalog)

    assert broken(lambda c: c.pop("superThemeTaxonomy"))
    assert broken(lambda c: c["dataset"][0].pop("accrualPeriodicity"))
    assert broken(lambda c: c["dataset"][0].update(superTheme=["PARTICIPACION"]))
    assert broken(lambda c: c["dataset"][0].update(title="x" * 101))
    assert broken(lambda c: c["dataset"][0]["distribution"][0].update(downloadURL="not a uri"))
    assert broken(lambda c: c["dataset"][0]["distribution"][0].update(issued="yesterday"))
    assert broken(lambda c: c["dataset"][0].update(theme=["no-such-theme"]))
    assert broken(lambda c: c["dataset"][0]["distribution"][0].update(format="CSV", fileName="x.gpkg"))
    assert broken(lambda c: c["themeTaxonomy"].append(dict(c["themeTaxonomy"][0])))


@pytest.mark.client
@pytest.mark.parametrize("layer", [layer.id for layer in DOWNLOAD_LAYERS])
def test_every_distribution_downloads_and_opens_in_gdal_with_the_api_count(http, sql, data_json, tmp_path, layer):
    (dataset,) = [d for d in data_json["dataset"] if d["identifier"] == layer]
    assert {x["fileName"].rsplit(".", 1)[1] for x in dataset["distribution"]} == set(FORMATS)
    expected = api_count(http, sql, layer)
    for distribution in dataset["distribution"]:
        path = tmp_path / distribution["fileName"]
        response = save(http, distribution["downloadURL"], path)
        assert response.status_code == 200, distribution["downloadURL"]
        assert response.headers["content-type"].split(";")[0] == distribution["mediaType"].split(";")[0]
        assert gdal_counts(path, distribution["fileName"].rsplit(".", 1)[1]) == [expected], distribution["identifier"]
        assert http.get(distribution["accessURL"]).status_code == 200


def test_dcat_ap_catalogue_has_every_mandatory_class_and_property(http):
    response = http.get("/datos/catalog.jsonld")
    assert response.status_code == 200 and response.headers["content-type"] == "application/ld+json"
    from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF  # here: pytest's collection trips on closed namespaces

    graph = rdflib.Graph().parse(data=response.text, format="json-ld")
    (catalog,) = graph.subjects(RDF.type, DCAT.Catalog)
    # DCAT-AP 3.0 mandatory: Catalogue title, description, publisher (an Agent with a name); Dataset title and
    # description; Distribution accessURL. Recommended and used here: licence documents, download URLs, formats,
    # media types, themes, update frequency, spatial and temporal coverage.
    for prop in (DCTERMS.title, DCTERMS.description, DCTERMS.publisher, FOAF.homepage, DCTERMS.license):
        assert graph.value(catalog, prop) is not None, prop
    publisher = graph.value(catalog, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in graph and graph.value(publisher, FOAF.name)
    datasets = set(graph.objects(catalog, DCAT.dataset))
    assert len(datasets) == len(DOWNLOAD_LAYERS) == len(set(graph.subjects(RDF.type, DCAT.Dataset)))
    eu = "http://publications.europa.eu/resource/authority/"
    for dataset in datasets:
        assert (dataset, RDF.type, DCAT.Dataset) in graph
        for prop in (DCTERMS.title, DCTERMS.description, DCTERMS.identifier, DCTERMS.publisher):
            assert graph.value(dataset, prop) is not None, (dataset, prop)
        assert str(graph.value(dataset, DCAT.theme)).startswith(eu + "data-theme/")
        assert str(graph.value(dataset, DCTERMS.accrualPeriodicity)).startswith(eu + "frequency/")
        distributions = set(graph.objects(dataset, DCAT.distribution))
        assert len(distributions) == len(FORMATS)
        for distribution in distributions:
            assert (distribution, RDF.type, DCAT.Distribution) in graph
            assert isinstance(graph.value(distribution, DCAT.accessURL), rdflib.URIRef)
            assert isinstance(graph.value(distribution, DCAT.downloadURL), rdflib.URIRef)
            assert str(graph.value(distribution, DCAT.mediaType)).startswith("https://www.iana.org/assignments/")
            assert graph.value(distribution, DCTERMS.format) is not None
            licence = graph.value(distribution, DCTERMS.license)
            if licence is not None:
                assert (licence, RDF.type, DCTERMS.LicenseDocument) in graph
            assert graph.value(distribution, DCTERMS.rights) is not None
    instances = next(d for d in datasets if str(graph.value(d, DCTERMS.identifier)) == "instances")
    spatial = graph.value(instances, DCTERMS.spatial)
    assert str(graph.value(spatial, DCAT.bbox)).startswith("POLYGON((")
    activities = next(d for d in datasets if str(graph.value(d, DCTERMS.identifier)) == "activities")
    period = graph.value(activities, DCTERMS.temporal)
    assert graph.value(period, DCAT.startDate).toPython() <= graph.value(period, DCAT.endDate).toPython()


def test_the_datos_page_lists_every_download(http):
    document = http.get("/datos").json()
    assert [x["id"] for x in document["layers"]] == [layer.id for layer in DOWNLOAD_LAYERS]
    page = http.get("/datos", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for layer in DOWNLOAD_LAYERS:
        assert f'id="{layer.id}"' in page.text and f"/datos/{layer.id}.fgb" in page.text
    licence = http.get("/datos/licencia")
    assert licence.status_code == 200 and "CC BY 4.0" in licence.text
    dictionary = http.get("/datos/diccionario.csv")
    assert dictionary.status_code == 200 and dictionary.text.startswith("coleccion,campo,tipo,titulo")


def test_the_openapi_document_describes_the_open_data_paths(http):
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation import OpenAPIV30SpecValidator

    document = http.get("/api").json()
    validate(document, cls=OpenAPIV30SpecValidator)
    for path in ("/data.json", "/datos", "/datos/catalog.jsonld", "/datos/monitor.zip", "/datos/{collection}.{ext}",
                 "/index/editions", "/index/editions/{name}", "/index/editions/{a}/diff/{b}",
                 "/index/barrios/{barrio_id}/history", "/feeds/instancias.atom", "/feeds/actividades.atom",
                 "/feeds/compromisos.atom", "/informes/ciudad", "/informes/distritos/{code}",
                 "/informes/barrios/{barrio_id}", "/informes/instancias/{instance_id}"):
        assert "get" in document["paths"][path], path
    items = document["paths"]["/collections/instances/items"]["get"]
    assert "download" in {p["name"] for p in items["parameters"]}
