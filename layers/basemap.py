"""What lies under the map: the basemap of /styles/monitor.json, chosen by MONITOR_BASEMAP (gis/config.py).

- `local` (default): streets and names drawn from what the monitor holds, so the map works with no internet:
  the catalogue's basemap layers (layers/definitions/basemap_*.py: the bus routes as the street skeleton, the
  barrios' and districts' names) on the monitor's own vector source, labels with glyphs the service serves itself
  (/fonts/{fontstack}/{range}.pbf, SDF glyphs made from DejaVu Sans by fontnik).
- `none`: no basemap (the monitor's layers alone, no labels).
- a MapLibre style URL (or a style file): its sources and layers, prefixed `basemap-`, under the monitor's layers;
  its labels (symbol layers) above them. Its glyphs and sprite are used.
- a PMTiles archive of the Protomaps basemap schema (an http(s) URL or a path ending in `.pmtiles`; a path is
  served at /basemap/{name}.pmtiles): drawn with `protomaps_layers`, labels in the monitor's own fonts.

Every layer a basemap adds carries `metadata["monitor:basemap"]`, so a client can switch the basemap off
without knowing layer ids; the style's own metadata says which basemap it has.
"""

from __future__ import annotations

import contextlib
import copy
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from gis.config import ROOT

LOCAL, NONE, STYLE, PMTILES = "local", "none", "style", "pmtiles"
SOURCE_PREFIX = "basemap"
OSM_ATTRIBUTION = ('<a href="https://www.openstreetmap.org/copyright">© OpenStreetMap</a> · '
                   '<a href="https://protomaps.com">Protomaps</a>')

# Fonts the service makes glyphs of (Debian's fonts-dejavu-core), by the fontstack name styles ask for.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"DejaVu Sans Book": "DejaVuSans.ttf", "DejaVu Sans Bold": "DejaVuSans-Bold.ttf"}
REGULAR, BOLD = "DejaVu Sans Book", "DejaVu Sans Bold"
GLYPHS_DIR = ROOT / "node_modules" / ".cache" / "monitor-glyphs"
FONTNIK = ROOT / "node_modules" / "fontnik" / "bin" / "build-glyphs"


@dataclass(frozen=True)
class Basemap:
    kind: str  # local | none | style | pmtiles
    location: str | None = None  # the style's URL or path, the archive's URL or path

    @property
    def is_path(self) -> bool:
        return self.location is not None and not self.location.startswith(("http://", "https://"))


def parse_basemap(value: str | None) -> Basemap:
    """MONITOR_BASEMAP as a Basemap; ValueError for a value that is none of the four kinds."""
    text = (value or "").strip()
    if text.lower() in ("", LOCAL, "default"):
        return Basemap(LOCAL)
    if text.lower() in (NONE, "off", "false", "0"):
        return Basemap(NONE)
    text = text.removeprefix("pmtiles://")
    if text.split("?")[0].endswith(".pmtiles"):
        return Basemap(PMTILES, text)
    if text.startswith(("http://", "https://")) or text.endswith(".json"):
        return Basemap(STYLE, text)
    raise ValueError(f"MONITOR_BASEMAP={value!r}: use local, none, a style URL or a .pmtiles archive")


@dataclass
class BasemapStyle:
    """What a basemap adds to the monitor's style: sources, layers under the monitor's and labels over them."""

    kind: str
    sources: dict = field(default_factory=dict)
    under: list = field(default_factory=list)
    over: list = field(default_factory=list)
    glyphs: str | None = None  # None: the monitor's own glyphs
    sprite: str | list | None = None
    note: str | None = None  # why a configured basemap was replaced by the local one


def _tagged(layer: dict, kind: str) -> dict:
    layer.setdefault("metadata", {})["monitor:basemap"] = kind
    return layer


def external_style(doc: dict, kind: str = STYLE) -> BasemapStyle:
    """A third-party MapLibre style as a basemap: sources and layer ids prefixed, labels lifted above the data."""
    renamed = {source_id: f"{SOURCE_PREFIX}-{source_id}" for source_id in doc.get("sources", {})}
    basemap = BasemapStyle(kind, sources={renamed[k]: copy.deepcopy(v) for k, v in doc.get("sources", {}).items()},
                           glyphs=doc.get("glyphs"), sprite=doc.get("sprite"))
    for entry in doc.get("layers", []):
        layer = _tagged(copy.deepcopy(entry), kind)
        layer["id"] = f"{SOURCE_PREFIX}-{layer['id']}"
        if "source" in layer:
            layer["source"] = renamed.get(layer["source"], layer["source"])
        (basemap.over if layer["type"] == "symbol" else basemap.under).append(layer)
    return basemap


def font_for(fontstack: str) -> str:
    """The font served for a fontstack (`A,B,…`): the first one the service has, else bold or regular DejaVu."""
    names = [name.strip() for name in fontstack.split(",")]
    for name in names:
        if name in FONTS:
            return name
    return BOLD if any("bold" in name.lower() or "black" in name.lower() for name in names) else REGULAR


def glyphs_dir(font: str) -> Path:
    """The folder of a font's 256 glyph ranges (0-255.pbf … 65280-65535.pbf), made once with fontnik.

    fontnik (npm, Mapbox's SDF glyph maker, shipped with a prebuilt binary) is what Mapbox and MapLibre glyph
    servers use: glyphs are 24 px signed distance fields with a 3 px buffer, the format MapLibre expects."""
    target = GLYPHS_DIR / font
    if (target / "0-255.pbf").is_file():
        return target
    ttf = FONT_DIR / FONTS[font]
    if not ttf.is_file():
        raise FileNotFoundError(f"{ttf} is missing: install Debian's fonts-dejavu-core")
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None or not FONTNIK.is_file():
        raise FileNotFoundError("fontnik is not installed: run `make setup` (npm ci) in the checkout")
    GLYPHS_DIR.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=GLYPHS_DIR))
    try:
        subprocess.run([node, str(FONTNIK), str(ttf), str(tmp)], check=True, capture_output=True, timeout=300)
        with contextlib.suppress(OSError):  # atomic: when two build at once, the first complete folder stays
            tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _zoom_width(*stops: float) -> list:
    return ["interpolate", ["exponential", 1.6], ["zoom"], *stops]


def protomaps_layers(source: str) -> BasemapStyle:
    """A light style for an archive of the Protomaps basemap schema (v4: earth, water, landuse, landcover, roads,
    boundaries, buildings, places): land, parks, water, streets by class and names in Spanish, in the monitor's
    colours and fonts. Written here rather than taken from @protomaps/basemaps (a JavaScript package) so that
    /styles/monitor.json is built by the server for every client and uses the glyphs it serves."""
    name = ["coalesce", ["get", "name:es"], ["get", "name"]]
    roads = "roads"

    def road(kind: str, colour: str, width: list, minzoom: int = 0) -> dict:
        return {"id": f"{SOURCE_PREFIX}-roads-{kind}", "type": "line", "source": source, "source-layer": roads,
                "minzoom": minzoom, "filter": ["==", ["get", "kind"], kind],
                "layout": {"line-join": "round", "line-cap": "round"},
                "paint": {"line-color": colour, "line-width": width}}

    under = [
        {"id": f"{SOURCE_PREFIX}-earth", "type": "fill", "source": source, "source-layer": "earth",
         "paint": {"fill-color": "#f3f0e8"}},
        {"id": f"{SOURCE_PREFIX}-landcover", "type": "fill", "source": source, "source-layer": "landcover",
         "filter": ["in", ["get", "kind"], ["literal", ["forest", "grassland", "scrub", "farmland"]]],
         "paint": {"fill-color": "#e3ebd6", "fill-opacity": 0.6}},
        {"id": f"{SOURCE_PREFIX}-parks", "type": "fill", "source": source, "source-layer": "landuse",
         "filter": ["in", ["get", "kind"], ["literal", ["park", "nature_reserve", "garden", "grass", "wood",
                                                           "forest", "cemetery", "golf_course", "playground"]]],
         "paint": {"fill-color": "#d8e8c8"}},
        {"id": f"{SOURCE_PREFIX}-water", "type": "fill", "source": source, "source-layer": "water",
         "filter": ["==", ["geometry-type"], "Polygon"], "paint": {"fill-color": "#b7d3e6"}},
        {"id": f"{SOURCE_PREFIX}-waterways", "type": "line", "source": source, "source-layer": "water",
         "filter": ["==", ["geometry-type"], "LineString"],
         "paint": {"line-color": "#b7d3e6", "line-width": _zoom_width(9, 0.5, 16, 4)}},
        {"id": f"{SOURCE_PREFIX}-buildings", "type": "fill", "source": source, "source-layer": "buildings",
         "minzoom": 14, "paint": {"fill-color": "#e4ded2", "fill-opacity": 0.7}},
        road("path", "#e8e2d6", _zoom_width(14, 0.5, 18, 3), minzoom=14),
        road("other", "#ffffff", _zoom_width(13, 0.5, 18, 6), minzoom=13),
        road("minor_road", "#ffffff", _zoom_width(11, 0.4, 18, 12), minzoom=11),
        road("major_road", "#fdf6e3", _zoom_width(8, 0.6, 18, 18)),
        road("highway", "#f9e4b7", _zoom_width(6, 0.8, 18, 22)),
        {"id": f"{SOURCE_PREFIX}-boundaries", "type": "line", "source": source, "source-layer": "boundaries",
         "paint": {"line-color": "#a99db5", "line-width": 1, "line-dasharray": [3, 2]}},
    ]
    text = {"text-color": "#4f4636", "text-halo-color": "#ffffff", "text-halo-width": 1.4}
    over = [
        {"id": f"{SOURCE_PREFIX}-water-labels", "type": "symbol", "source": source, "source-layer": "water",
         "filter": ["==", ["geometry-type"], "Point"],
         "layout": {"text-field": name, "text-font": [REGULAR], "text-size": 12, "text-max-width": 8},
         "paint": {"text-color": "#4a7398", "text-halo-color": "#ffffff", "text-halo-width": 1}},
        {"id": f"{SOURCE_PREFIX}-roads-labels", "type": "symbol", "source": source, "source-layer": roads,
         "minzoom": 14, "filter": ["in", ["get", "kind"], ["literal", ["highway", "major_road", "minor_road"]]],
         "layout": {"symbol-placement": "line", "text-field": name, "text-font": [REGULAR], "text-size": 11},
         "paint": text},
        {"id": f"{SOURCE_PREFIX}-places", "type": "symbol", "source": source, "source-layer": "places",
         "layout": {"text-field": name, "text-font": [BOLD],
                    "text-size": ["match", ["get", "kind"], "locality", 14, "neighbourhood", 11, 12],
                    "text-max-width": 8},
         "paint": text},
    ]
    return BasemapStyle(PMTILES, under=[_tagged(layer, PMTILES) for layer in under],
                        over=[_tagged(layer, PMTILES) for layer in over])
