"""The colour ramps of the index, defined once: the published MapLibre style (layers/style.py, through the index
and hexagon layer definitions) paints with them and `/map/config.json` hands them to the web map, so a value has
one colour wherever it is drawn.

- The composite index (0–100) and each pillar (0–1) have fixed classes: five classes of equal width over the
  method's goalposts, each class holding its lower limit (MapLibre `step`). Fixed classes keep a colour's meaning
  from run to run and from client to client; they are not stretched over the values of the latest run.
- Features without a value are not painted (the style layer filters on `has`): the barrio shows through.
- The H3 hexagons: covered cells on a green ramp of E2SFCA supply, uncovered cells in one colour.
"""

from __future__ import annotations

from dataclasses import dataclass


def es_number(value: float, digits: int) -> str:
    """Spanish number as in the legend: decimal comma, no trailing zeros (0, 0,2, 1; 20, 100)."""
    text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


@dataclass(frozen=True)
class ClassedRamp:
    """A field painted in fixed classes: colours[0] below breaks[0], colours[i] from breaks[i-1] on."""

    field: str
    title: str  # Spanish, as the map's selector and legend say it
    domain: tuple[float, float]  # the method's goalposts: worst, best
    breaks: tuple[float, ...]  # lower limits of the classes after the first, increasing
    colours: tuple[str, ...]  # one per class, worst to best
    digits: int  # decimals of the legend's limits

    def __post_init__(self) -> None:
        assert len(self.colours) == len(self.breaks) + 1, self.field
        limits = (self.domain[0], *self.breaks, self.domain[1])
        assert all(a < b for a, b in zip(limits, limits[1:], strict=False)), self.field

    @property
    def limits(self) -> tuple[float, ...]:
        return (self.domain[0], *self.breaks, self.domain[1])

    @property
    def labels(self) -> list[str]:
        limits = self.limits
        return [f"{es_number(a, self.digits)} a {es_number(b, self.digits)}" for a, b in zip(limits, limits[1:],
                                                                                             strict=False)]

    @property
    def note(self) -> str:
        low, high = (es_number(v, self.digits) for v in self.domain)
        return (f"Escala de {low} (peor) a {high} (mejor) en {len(self.colours)} clases fijas; cada clase incluye "
                "su límite inferior. Sin color: sin dato.")

    def colour_of(self, value: float | None) -> str | None:
        """The colour of a value (None: not painted), as MapLibre's `step` evaluates expression()."""
        if value is None:
            return None
        return self.colours[sum(1 for limit in self.breaks if value >= limit)]

    def expression(self) -> list:
        stops = [item for limit, colour in zip(self.breaks, self.colours[1:], strict=True) for item in (limit, colour)]
        return ["step", ["get", self.field], self.colours[0], *stops]

    def style_layer(self, layer_id: str, opacity: float = 0.8, visible: bool = False) -> dict:
        """A fill of `layer_id` coloured by this ramp (hidden by default: one field is shown at a time)."""
        return {
            "id": f"{layer_id}-{self.field}-fill",
            "type": "fill",
            "filter": ["has", self.field],
            "layout": {"visibility": "visible" if visible else "none"},
            "paint": {"fill-color": self.expression(), "fill-opacity": opacity},
            "metadata": {"monitor:field": self.field, "monitor:ramp": self.field},
        }

    def as_json(self) -> dict:
        low, high = (es_number(v, self.digits) for v in self.domain)
        return {
            "field": self.field, "title": self.title, "kind": "classes", "domain": list(self.domain),
            "breaks": list(self.breaks), "colours": list(self.colours), "labels": self.labels,
            "range_label": f"de {low} a {high}", "note": self.note, "expression": self.expression(),
            "legend": [{"colour": c, "label": label} for c, label in zip(self.colours, self.labels, strict=True)],
        }


# ColorBrewer 5-class schemes: diverging red–green for the composite, one sequential hue per pillar.
COMPOSITE = ClassedRamp("composite", "Índice compuesto", (0, 100), (20, 40, 60, 80),
                        ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"), digits=0)
PILLAR_BREAKS = (0.2, 0.4, 0.6, 0.8)
PILLARS = (
    ClassedRamp("accessibility", "Accesibilidad (cobertura)", (0, 1), PILLAR_BREAKS,
                ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"), digits=1),  # YlGnBu
    ClassedRamp("quality", "Calidad", (0, 1), PILLAR_BREAKS,
                ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"), digits=1),  # Purples
    ClassedRamp("diversity", "Diversidad", (0, 1), PILLAR_BREAKS,
                ("#ffffd4", "#fed98e", "#fe9929", "#d95f0e", "#993404"), digits=1),  # YlOrBr
    ClassedRamp("satisfaction", "Satisfacción", (0, 1), PILLAR_BREAKS,
                ("#feebe2", "#fbb4b9", "#f768a1", "#c51b8a", "#7a0177"), digits=1),  # RdPu
)
# What the choropleth offers, in this order: the composite first.
INDEX_RAMPS: dict[str, ClassedRamp] = {ramp.field: ramp for ramp in (COMPOSITE, *PILLARS)}


def index_fills(layer_id: str, opacity: float = 0.8) -> tuple[dict, ...]:
    """The style layers of an index layer: one hidden fill per field of INDEX_RAMPS."""
    return tuple(ramp.style_layer(layer_id, opacity) for ramp in INDEX_RAMPS.values())


@dataclass(frozen=True)
class CoverageRamp:
    """H3 cells: covered (`coverage` = 1) on a continuous ramp of E2SFCA, uncovered in one colour."""

    title: str
    covered_field: str
    value_field: str
    stops: tuple[tuple[float, str], ...]
    uncovered: str
    covered_label: str
    uncovered_label: str

    def expression(self) -> list:
        ramp = ["interpolate", ["linear"], ["get", self.value_field], *[v for stop in self.stops for v in stop]]
        return ["case", ["==", ["get", self.covered_field], 1], ramp, self.uncovered]

    def as_json(self) -> dict:
        return {
            "field": self.value_field, "title": self.title, "kind": "coverage", "expression": self.expression(),
            "legend": [{"colours": [c for _, c in self.stops], "label": self.covered_label},
                       {"colour": self.uncovered, "label": self.uncovered_label}],
        }


HEXAGONS = CoverageRamp(
    title="Hexágonos H3 (accesibilidad)", covered_field="coverage", value_field="e2sfca",
    stops=((0, "#c7e9c0"), (5, "#41ab5d"), (20, "#00441b")), uncovered="#fc9272",
    covered_label="Con instancia presencial cerca (más oscuro: más oferta por habitante)",
    uncovered_label="Sin instancia presencial a distancia caminable",
)
