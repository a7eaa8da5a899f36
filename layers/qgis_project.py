"""A QGIS project (.qgz) of every public layer, grouped and styled as the MapLibre style (layers/qgis_styles.py),
in one of three flavours:

- `oapif`: each layer from this server's OGC API – Features (any QGIS, anywhere the server is reachable);
- `postgis`: each layer from the `published` views with the read-only role `monitor_readonly`. No password is
  written: with `authcfg` the connection names a QGIS authentication configuration the user creates once
  (Settings ▸ Options ▸ Authentication, with that id), otherwise QGIS asks for the password when it connects;
- `tiles`: one vector tile layer of the all-layers tiles, drawn with the same rules, and the server's MapLibre
  style URL in its source (QGIS ▸ Layer Properties ▸ Symbology ▸ Style ▸ Load default style reads it).

Written as XML from the catalogue (see layers/qgis_styles.py for why not with PyQGIS); tests/qgis opens it with
QGIS 3.22, checks that every layer is valid and has features, and renders it.
"""

from __future__ import annotations

import io
import math
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape, quoteattr

from layers.catalogue import BASEMAP_LAYERS, LAYERS, MAP_LAYERS
from layers.layer import Layer
from layers.qgis_styles import (
    QGIS_VERSION,
    layer_scale_attrs,
    qgis_styles,
    style_body,
    vector_tile_renderer_xml,
)

FLAVOURS = ("oapif", "postgis", "tiles")
READONLY_ROLE = "monitor_readonly"
TITLE = "Monitor de Participación Ciudadana de Rosario"
ROSARIO = (-60.80, -33.05, -60.60, -32.86)  # lon/lat bounds the project opens on
# The layer tree, top (drawn last) to bottom: groups by what a layer is for.
GROUPS = (
    ("Participación", ("registry_points", "agenda_points")),
    ("Otras capas", ("other",)),
    ("Mapa base", ("basemap",)),
    ("Índice de Participación Ciudadana", ("index_barrio", "index_district", "hexagon_grid")),
    ("Límites", ("district_boundaries", "barrio_boundaries")),
    ("Tablas", ("table",)),
)
SRS = {
    "EPSG:4326": (3452, 4326, "+proj=longlat +datum=WGS84 +no_defs", "WGS 84", "true"),
    "EPSG:3857": (3857, 3857, "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m "
                              "+nadgrids=@null +wktext +no_defs", "WGS 84 / Pseudo-Mercator", "false"),
}


@dataclass(frozen=True)
class PostgisConnection:
    """Where the `published` views are: the database's host, port and name (never a password)."""

    host: str
    port: int
    dbname: str
    authcfg: str | None = None  # a QGIS authentication configuration id (7 characters), or None: QGIS asks

    @classmethod
    def from_url(cls, url: str, authcfg: str | None = None) -> PostgisConnection:
        parts = urlsplit(url)
        return cls(parts.hostname or "localhost", parts.port or 5432, unquote(parts.path.lstrip("/")), authcfg)


def srs_xml(authid: str) -> str:
    srsid, srid, proj4, description, geographic = SRS[authid]
    return (f"<spatialrefsys><proj4>{escape(proj4)}</proj4><srsid>{srsid}</srsid><srid>{srid}</srid>"
            f"<authid>{authid}</authid><description>{escape(description)}</description>"
            f"<geographicflag>{geographic}</geographicflag></spatialrefsys>")


def mercator(lon: float, lat: float) -> tuple[float, float]:
    radius = 6378137.0
    return math.radians(lon) * radius, math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * radius


def group_of(layer: Layer) -> str:
    role = "basemap" if layer in BASEMAP_LAYERS else ("table" if not layer.has_geometry else layer.role)
    return next((name for name, roles in GROUPS if role in roles), "Otras capas")  # a layer with no known role


def oapif_source(layer: Layer, base_url: str) -> str:
    return f"typename='{layer.id}' url='{base_url}'"


POSTGIS_TYPES = {"Point": "Point", "MultiPolygon": "MultiPolygon", "Polygon": "Polygon",
                 "MultiLineString": "MultiLineString"}


def postgis_source(layer: Layer, db: PostgisConnection) -> str:
    schema, _, table = layer.source.rpartition(".")
    # With an authentication configuration, user and password both come from it; without, QGIS asks for the
    # password of the read-only role (or connects where the server trusts it).
    login = f"authcfg={db.authcfg}" if db.authcfg else f"user='{READONLY_ROLE}'"
    text = (f"dbname='{db.dbname}' host={db.host} port={db.port} {login} sslmode=disable "
            f"key='{layer.id_column}' checkPrimaryKeyUnicity='0'")
    if layer.has_geometry:
        text += f" srid=4326 type={POSTGIS_TYPES[layer.geometry_type]}"
    text += f' table="{schema or "published"}"."{table}"'
    return text + (f" ({layer.geom_column})" if layer.has_geometry else "")


def _layer_id(layer_id: str) -> str:
    return f"{layer_id}_{uuid.uuid4().hex[:12]}"


def vector_maplayer(layer: Layer, qgis_id: str, source: str, provider: str, labels: dict) -> str:
    styles = qgis_styles(layer, labels) if layer.has_geometry else []
    default = styles[0] if styles else None
    manager = "".join(
        f'<map-layer-style name={quoteattr(style.name)}><qgis labelsEnabled="{int(bool(style.labels))}">'
        f"{style_body(layer, style)}</qgis></map-layer-style>" for style in styles[1:])
    current = default.name if default else "default"
    body = style_body(layer, default) if default else ""
    geometry = 'geometry="No geometry" wkbType="NoGeometry"' if not layer.has_geometry else ""
    labelled = int(bool(default and default.labels))
    return (f'<maplayer type="vector" {layer_scale_attrs(layer)} labelsEnabled="{labelled}" readOnly="1" {geometry}>'
            f"<id>{qgis_id}</id><datasource>{escape(source)}</datasource>"
            f"<keywordList><value>{escape(layer.id)}</value></keywordList>"
            f"<layername>{escape(layer.title)}</layername>"
            f"<srs>{srs_xml('EPSG:4326')}</srs>"
            f"<resourceMetadata><identifier>{escape(layer.id)}</identifier><title>{escape(layer.title)}</title>"
            f"<abstract>{escape(layer.description)}</abstract>"
            f"<rights>{escape(layer.attribution)}</rights></resourceMetadata>"
            f'<provider encoding="UTF-8">{provider}</provider>'
            f'<map-layer-style-manager current={quoteattr(current)}>'
            f'<map-layer-style name={quoteattr(current)}/>{manager}</map-layer-style-manager>'
            f"{body}</maplayer>")


def vector_tile_maplayer(layers: Sequence[Layer], qgis_id: str, base_url: str, labels: dict) -> str:
    renderer, labeling = vector_tile_renderer_xml(layers, labels)
    source = (f"type=xyz&url={base_url}/tiles/{{z}}/{{x}}/{{y}}.mvt&zmin=0&zmax="
              f"{max(layer.maxzoom for layer in layers)}&styleUrl={base_url}/styles/monitor.json")
    return (f'<maplayer type="vector-tile" hasScaleBasedVisibilityFlag="0" minScale="100000000" maxScale="0">'
            f"<id>{qgis_id}</id><datasource>{escape(source)}</datasource>"
            f"<layername>{escape(TITLE)} (teselas vectoriales)</layername>"
            f"<srs>{srs_xml('EPSG:3857')}</srs><provider>vectortile</provider>"
            '<map-layer-style-manager current="default"><map-layer-style name="default"/></map-layer-style-manager>'
            f"{renderer}{labeling}</maplayer>")


def _tree_layer(qgis_id: str, name: str, provider: str, source: str, checked: bool) -> str:
    state = "Qt::Checked" if checked else "Qt::Unchecked"
    return (f'<layer-tree-layer id="{qgis_id}" name={quoteattr(name)} checked="{state}" expanded="0" '
            f'providerKey="{provider}" source={quoteattr(source)}/>')


def project_xml(flavour: str, base_url: str, db: PostgisConnection | None = None,
                labels: dict[str, dict[str, str]] | None = None, layers: Sequence[Layer] = LAYERS) -> str:
    """The .qgs document. `labels`: legend labels by field and value (e.g. the kinds' Spanish names)."""
    if flavour not in FLAVOURS:
        raise ValueError(f"flavour is one of {', '.join(FLAVOURS)}")
    if flavour == "postgis" and db is None:
        raise ValueError("the postgis flavour needs the database's host, port and name")
    labels = labels or {}
    base_url = base_url.rstrip("/")
    maplayers, order, groups = [], [], {name: [] for name, _ in GROUPS}
    if flavour == "tiles":
        qgis_id = _layer_id("monitor_tiles")
        mapped = [layer for layer in layers if layer in MAP_LAYERS]  # the layers the tiles hold
        maplayers.append(vector_tile_maplayer(mapped, qgis_id, base_url, labels))
        source = f"type=xyz&url={base_url}/tiles/{{z}}/{{x}}/{{y}}.mvt"
        tree = _tree_layer(qgis_id, f"{TITLE} (teselas vectoriales)", "vectortile", source, True)
        order.append(qgis_id)
        groups_xml = tree
    else:
        provider = "OAPIF" if flavour == "oapif" else "postgres"
        for layer in layers:
            qgis_id = _layer_id(layer.id)
            source = oapif_source(layer, base_url) if flavour == "oapif" else postgis_source(layer, db)
            maplayers.append(vector_maplayer(layer, qgis_id, source, provider, labels))
            styles = qgis_styles(layer, labels) if layer.has_geometry else []
            checked = bool(styles) and styles[0].visible
            groups[group_of(layer)].append(_tree_layer(qgis_id, layer.title, provider, source, checked))
            order.append(qgis_id)
        groups_xml = "".join(f'<layer-tree-group name={quoteattr(name)} checked="Qt::Checked" expanded="1">'
                             f"{''.join(items)}</layer-tree-group>" for name, items in groups.items() if items)
    (xmin, ymin), (xmax, ymax) = mercator(*ROSARIO[:2]), mercator(*ROSARIO[2:])
    extent = f"<xmin>{xmin}</xmin><ymin>{ymin}</ymin><xmax>{xmax}</xmax><ymax>{ymax}</ymax>"
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis version="{QGIS_VERSION}" projectname={quoteattr(TITLE)}>'
        f'<homePath path=""/><title>{escape(TITLE)}</title>'
        f"<projectCrs>{srs_xml('EPSG:3857')}</projectCrs>"
        f"<layer-tree-group>{groups_xml}</layer-tree-group>"
        f"<projectlayers>{''.join(maplayers)}</projectlayers>"
        f"<layerorder>{''.join(f'<layer id={quoteattr(i)}/>' for i in order)}</layerorder>"
        '<mapcanvas name="theMapCanvas" annotationsVisible="1"><units>meters</units>'
        f"<extent>{extent}</extent><rotation>0</rotation>"
        f"<destinationsrs>{srs_xml('EPSG:3857')}</destinationsrs><rendermaptile>0</rendermaptile></mapcanvas>"
        "<properties><SpatialRefSys><ProjectionsEnabled type=\"int\">1</ProjectionsEnabled>"
        "<ProjectCrs type=\"QString\">EPSG:3857</ProjectCrs></SpatialRefSys>"
        "<Gui><CanvasColorRedPart type=\"int\">251</CanvasColorRedPart>"
        "<CanvasColorGreenPart type=\"int\">250</CanvasColorGreenPart>"
        "<CanvasColorBluePart type=\"int\">247</CanvasColorBluePart></Gui>"
        "<WMSServiceTitle type=\"QString\">" + escape(TITLE) + "</WMSServiceTitle></properties>"
        "</qgis>\n")


def project_qgz(flavour: str, base_url: str, db: PostgisConnection | None = None,
                labels: dict[str, dict[str, str]] | None = None) -> bytes:
    """The project zipped as QGIS saves it (.qgz: the .qgs inside a zip)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("monitor.qgs", project_xml(flavour, base_url, db, labels))
    return buffer.getvalue()
