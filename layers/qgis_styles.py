"""The catalogue's MapLibre styles for QGIS and other desktop GIS: QML and SLD per layer, and a QGIS project.

One translation, three outputs. Each layer's MapLibre style entries (its definition's `style`, the very entries of
/styles/monitor.json) become `Rule`s: one per colour case (a `match` on the kinds, a `step` class of an index
ramp, a `case` of the hexagons), each with its legend label, its filter and its symbol, and `LabelRule`s from the
symbol layers. Rules are written as QGIS rule-based renderers and labelling (QML, the project's layers, the
vector-tile renderer) and as SLD 1.1 rules.

The XML is written here rather than with PyQGIS, which only Debian's system Python has (the service's virtualenv
and its Docker image do not): the server answers /qgis/monitor.qgz and /styles/{layer}.qml without QGIS installed.
The elements are those QGIS 3.22 writes itself, and tests/qgis opens every output with QGIS 3.22.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from layers.layer import Layer
from layers.ramps import HEXAGONS, INDEX_RAMPS
from layers.style import cluster_style, layer_styles

QGIS_VERSION = "3.22.16-Białowieża"
SCALE_AT_ZOOM_0 = 295828763.7957  # MapLibre zoom 0 (512 px tiles) at 96 dpi, as a scale denominator
TYPICAL_ZOOM = 14  # zoom-dependent sizes are taken at this zoom (a barrio filling the window)
FONT_FAMILY = "DejaVu Sans"
# Switched off when a project opens, as on the web map: the agenda lists the activities, the map shows their
# instances (an activity's point sits on its instance's).
HIDDEN_ROLES = ("agenda_points",)
ZOOM_EXPRESSION = f"floor(log(2, {SCALE_AT_ZOOM_0} / @map_scale))"  # the MapLibre zoom of a QGIS map scale


def scale_of_zoom(zoom: float) -> float:
    return SCALE_AT_ZOOM_0 / 2 ** zoom


# ---------------------------------------------------------------- the model


@dataclass
class SymbolPart:
    """One QGIS symbol layer: a circle marker, a line or a fill (colours as `r,g,b,a`)."""

    kind: str  # marker | line | fill
    colour: str = "0,0,0,0"
    size: float = 0.0  # marker diameter or line width, pixels
    stroke_colour: str = "0,0,0,0"
    stroke_width: float = 0.0  # pixels; 0 with no stroke
    colour_expression: str | None = None  # data-defined colour (a QGIS expression)
    size_expression: str | None = None  # data-defined size, pixels (a QGIS expression)
    brush: bool = True  # fills: False for an outline only


@dataclass
class Rule:
    label: str
    filter: list | None  # a MapLibre filter expression (None: every feature)
    geometry: str  # point | line | polygon
    parts: list[SymbolPart]
    min_zoom: float | None = None
    max_zoom: float | None = None
    enabled: bool = True
    stops: tuple = ()  # an interpolated colour: (field, ((value, colour), …)) for SLD's discrete rules


@dataclass
class LabelRule:
    description: str
    filter: list | None
    field: str
    size: float
    colour: str
    halo_colour: str
    halo_width: float
    bold: bool = False
    uppercase: bool = False
    on_line: bool = False
    min_zoom: float | None = None
    max_zoom: float | None = None


@dataclass
class QgisStyle:
    """One named style of a layer (index layers have one per field: the QGIS style manager switches them)."""

    name: str
    title: str
    rules: list[Rule]
    labels: list[LabelRule] = field(default_factory=list)
    visible: bool = True  # drawn when the project opens (the MapLibre style's visibility)


# ---------------------------------------------------------------- colours and MapLibre values


def rgba(colour: str, opacity: float = 1.0) -> str:
    """`#rgb`, `#rrggbb`, `rgb()`/`rgba()` as QGIS's `r,g,b,a` (alpha 0-255, times `opacity`)."""
    colour = colour.strip()
    if colour.startswith("#"):
        digits = colour[1:]
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        r, g, b = (int(digits[i:i + 2], 16) for i in (0, 2, 4))
        alpha = 1.0
    else:
        values = [float(v) for v in re.findall(r"[\d.]+", colour)]
        r, g, b = (int(v) for v in values[:3])
        alpha = values[3] if len(values) > 3 else 1.0
    return f"{r},{g},{b},{round(255 * alpha * opacity)}"


def hex_of(colour: str) -> tuple[str, float]:
    """`r,g,b,a` as (`#rrggbb`, opacity 0-1), for SLD."""
    r, g, b, a = (int(v) for v in colour.split(","))
    return f"#{r:02x}{g:02x}{b:02x}", round(a / 255, 3)


def at_zoom(value, zoom: float = TYPICAL_ZOOM):
    """A number or colour MapLibre would use at `zoom` for a zoom-only expression; other values unchanged."""
    if isinstance(value, list) and value and value[0] == "interpolate" and value[2] == ["zoom"]:
        stops = list(zip(value[3::2], value[4::2], strict=True))
        if zoom <= stops[0][0]:
            return stops[0][1]
        for (z0, v0), (z1, v1) in zip(stops, stops[1:], strict=False):
            if zoom <= z1:
                return v0 + (v1 - v0) * (zoom - z0) / (z1 - z0)
        return stops[-1][1]
    return value


def _field(expression) -> str | None:
    if isinstance(expression, list) and len(expression) == 2 and expression[0] == "get":
        return expression[1]
    return None


# ---------------------------------------------------------------- MapLibre filters as QGIS expressions and OGC


def _quote(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _operand(expression) -> str:
    name = _field(expression)
    if name is not None:
        return f'"{name}"'
    if isinstance(expression, list) and expression[0] == "coalesce":
        return f"coalesce({', '.join(_operand(e) for e in expression[1:])})"
    if isinstance(expression, list) and expression[0] == "literal":
        return _quote(expression[1])
    return _quote(expression)


COMPARISONS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def qgis_expression(expression: list | None) -> str:
    """A MapLibre filter expression (the forms the catalogue uses) as a QGIS expression ('' for None)."""
    if expression is None:
        return ""
    op, *args = expression
    if op in COMPARISONS:
        return f"{_operand(args[0])} {COMPARISONS[op]} {_operand(args[1])}"
    if op == "has":
        return f'"{args[0]}" IS NOT NULL'
    if op == "!":
        return f"NOT ({qgis_expression(args[0])})"
    if op in ("all", "any"):
        joined = f" {'AND' if op == 'all' else 'OR'} ".join(f"({qgis_expression(a)})" for a in args)
        return joined or ("TRUE" if op == "all" else "FALSE")
    if op == "in":
        values = args[1][1] if isinstance(args[1], list) and args[1][0] == "literal" else args[1:]
        return f"{_operand(args[0])} IN ({', '.join(_quote(v) for v in values)})"
    raise ValueError(f"filter operator {op!r} has no QGIS translation")


OGC_COMPARISONS = {"==": "PropertyIsEqualTo", "!=": "PropertyIsNotEqualTo", "<": "PropertyIsLessThan",
                   "<=": "PropertyIsLessThanOrEqualTo", ">": "PropertyIsGreaterThan",
                   ">=": "PropertyIsGreaterThanOrEqualTo"}


def ogc_filter(expression: list) -> str:
    """A MapLibre filter expression as an OGC Filter Encoding 1.1 element (for SLD)."""
    op, *args = expression
    if op in OGC_COMPARISONS:
        name = _field(args[0])
        return (f"<ogc:{OGC_COMPARISONS[op]}><ogc:PropertyName>{escape(name)}</ogc:PropertyName>"
                f"<ogc:Literal>{escape(str(args[1]))}</ogc:Literal></ogc:{OGC_COMPARISONS[op]}>")
    if op == "has":
        return f"<ogc:Not><ogc:PropertyIsNull><ogc:PropertyName>{escape(args[0])}</ogc:PropertyName>" \
               "</ogc:PropertyIsNull></ogc:Not>"
    if op == "!":
        return f"<ogc:Not>{ogc_filter(args[0])}</ogc:Not>"
    if op in ("all", "any"):
        inner, tag = "".join(ogc_filter(a) for a in args), "And" if op == "all" else "Or"
        return inner if len(args) == 1 else f"<ogc:{tag}>{inner}</ogc:{tag}>"
    if op == "in":
        values = args[1][1] if isinstance(args[1], list) and args[1][0] == "literal" else args[1:]
        return ogc_filter(["any", *[["==", args[0], v] for v in values]])
    raise ValueError(f"filter operator {op!r} has no OGC translation")


def _and(*filters: list | None) -> list | None:
    present = [f for f in filters if f is not None]
    return None if not present else present[0] if len(present) == 1 else ["all", *present]


# ---------------------------------------------------------------- MapLibre entries as rules


def _interpolation(expression) -> tuple | None:
    """`["interpolate", ["linear"], ["get", f], v0, c0, …]` as (f, ((v0, c0), …)), else None."""
    if isinstance(expression, list) and expression and expression[0] == "interpolate" and _field(expression[2]):
        return _field(expression[2]), tuple(zip(expression[3::2], expression[4::2], strict=True))
    return None


def _size(value, factor: float = 1.0) -> tuple[float, str | None]:
    """A size (times `factor`) at the typical zoom and, when it depends on a field, a QGIS expression for it."""
    interpolation = _interpolation(value)
    if interpolation is None:
        return factor * float(at_zoom(value)), None
    name, stops = interpolation
    parts = [f'WHEN "{name}" <= {stops[0][0]} THEN {factor * stops[0][1]}']
    for (v0, s0), (v1, s1) in zip(stops, stops[1:], strict=False):
        parts.append(f'WHEN "{name}" <= {v1} THEN {factor * s0} + ("{name}" - {v0}) * {factor * (s1 - s0) / (v1 - v0)}')
    return factor * stops[0][1], f"CASE {' '.join(parts)} ELSE {factor * stops[-1][1]} END"


def _mix_expression(field_name: str, stops: Sequence[tuple[float, str]], opacity: float) -> str:
    """A QGIS expression interpolating colours linearly between stops, as MapLibre's `interpolate`."""
    def colour(c: str) -> str:
        return f"'{rgba(c, opacity)}'"

    parts = [f'WHEN "{field_name}" <= {stops[0][0]} THEN {colour(stops[0][1])}']
    for (v0, c0), (v1, c1) in zip(stops, stops[1:], strict=False):
        parts.append(f'WHEN "{field_name}" <= {v1} THEN color_mix_rgb({colour(c1)}, {colour(c0)}, '
                     f'("{field_name}" - {v0}) / {v1 - v0})')
    return f"CASE {' '.join(parts)} ELSE {colour(stops[-1][1])} END"


def colour_cases(colour, opacity: float, labels: dict[str, dict[str, str]]) -> list[tuple[str, list | None, dict]]:
    """The colour cases of a paint value: (legend label, filter, {colour | colour_expression, stops})."""
    if isinstance(colour, str):
        return [("", None, {"colour": rgba(colour, opacity)})]
    op = colour[0]
    if op == "match":
        name = _field(colour[1])
        values, outputs = colour[2:-1:2], colour[3:-1:2]
        names = labels.get(name, {})
        cases = [(names.get(v, str(v)), ["==", ["get", name], v], {"colour": rgba(c, opacity)})
                 for v, c in zip(values, outputs, strict=True)]
        other = ["any", ["!", ["has", name]], ["!", ["in", ["get", name], ["literal", list(values)]]]]
        return [*cases, ("Otro", other, {"colour": rgba(colour[-1], opacity)})]
    if op == "step":
        name = _field(colour[1])
        limits, outputs = list(colour[3::2]), [colour[2], *colour[4::2]]
        ramp = INDEX_RAMPS.get(name)
        bounds = [None, *limits, None]
        cases = []
        for i, out in enumerate(outputs):
            low, high = bounds[i], bounds[i + 1]
            condition = _and([">=", ["get", name], low] if low is not None else None,
                             ["<", ["get", name], high] if high is not None else None)
            label = ramp.labels[i] if ramp and len(ramp.labels) == len(outputs) else \
                f"{'' if low is None else low} – {'' if high is None else high}"
            cases.append((label, condition, {"colour": rgba(out, opacity)}))
        return cases
    if op == "case":
        conditions, outputs, fallback = colour[1:-1:2], colour[2:-1:2], colour[-1]
        hexagons = colour == HEXAGONS.expression()
        cases, previous = [], []
        for i, (condition, out) in enumerate(zip(conditions, outputs, strict=True)):
            label = HEXAGONS.covered_label if hexagons and i == 0 else f"Caso {i + 1}"
            for sub_label, sub_filter, value in colour_cases(out, opacity, labels):
                cases.append((sub_label or label, _and(*[["!", p] for p in previous], condition, sub_filter), value))
            previous.append(condition)
        rest = _and(*[["!", p] for p in previous])
        for sub_label, sub_filter, value in colour_cases(fallback, opacity, labels):
            cases.append((sub_label or (HEXAGONS.uncovered_label if hexagons else "Otros"), _and(rest, sub_filter),
                          value))
        return cases
    interpolation = _interpolation(colour)
    if interpolation:
        name, stops = interpolation
        return [("", None, {"colour": rgba(stops[-1][1], opacity),
                            "colour_expression": _mix_expression(name, stops, opacity), "stops": interpolation})]
    raise ValueError(f"colour expression {op!r} has no QGIS translation")


def _visible(entry: dict) -> bool:
    return entry.get("layout", {}).get("visibility", "visible") != "none"


def _zooms(entry: dict, layer: Layer) -> tuple[float | None, float | None]:
    low = entry.get("minzoom", layer.minzoom)
    high = entry.get("maxzoom")
    return (low if low and low > 0 else None), high


def _label_rule(entry: dict, layer: Layer) -> LabelRule | None:
    layout, paint = entry.get("layout", {}), entry.get("paint", {})
    name = _field(layout.get("text-field"))
    if name is None:
        return None
    low, high = _zooms(entry, layer)
    return LabelRule(
        description=entry["id"], filter=entry.get("filter"), field=name,
        size=float(at_zoom(layout.get("text-size", 12))), colour=rgba(paint.get("text-color", "#000000")),
        halo_colour=rgba(paint.get("text-halo-color", "#ffffff")), halo_width=float(paint.get("text-halo-width", 0)),
        bold=any("bold" in font.lower() for font in layout.get("text-font", [])),
        uppercase=layout.get("text-transform") == "uppercase",
        on_line=layout.get("symbol-placement") == "line", min_zoom=low, max_zoom=high)


def rules_of(entries: Sequence[dict], layer: Layer, labels: dict[str, dict[str, str]]) -> list[Rule]:
    """Rules for the drawing entries given (circles, lines, fills of one layer), in drawing order. A polygon
    layer's plain lines become the outline of its fills; on their own, fills without a brush."""
    rules: list[Rule] = []
    fills = [e for e in entries if e["type"] == "fill"]
    lines = [e for e in entries if e["type"] == "line"]
    outline = next((e for e in lines if "filter" not in e and isinstance(e["paint"].get("line-color"), str)), None)
    if layer.geometry_type in ("MultiPolygon", "Polygon"):
        stroke = (rgba(outline["paint"]["line-color"], outline["paint"].get("line-opacity", 1)),
                  float(at_zoom(outline["paint"].get("line-width", 1)))) if outline else ("0,0,0,0", 0.0)
        for entry in fills or ([outline] if outline else []):
            paint = entry["paint"]
            if entry["type"] == "line":
                cases = [("", entry.get("filter"), {"colour": "0,0,0,0"})]
            else:
                cases = colour_cases(paint["fill-color"], float(paint.get("fill-opacity", 1)), labels)
            low, high = _zooms(entry, layer)
            for label, condition, value in cases:
                part = SymbolPart("fill", colour=value["colour"], stroke_colour=stroke[0], stroke_width=stroke[1],
                                  colour_expression=value.get("colour_expression"), brush=entry["type"] == "fill")
                rules.append(Rule(label or layer.title, _and(entry.get("filter"), condition), "polygon", [part],
                                  low, high, _visible(entry), value.get("stops", ())))
        return rules
    if lines and layer.geometry_type not in ("Point",):
        parts = [SymbolPart("line", colour=rgba(e["paint"]["line-color"], e["paint"].get("line-opacity", 1)),
                            size=float(at_zoom(e["paint"].get("line-width", 1)))) for e in lines]
        low, high = _zooms(lines[0], layer)
        return [Rule(layer.title, lines[0].get("filter"), "line", parts, low, high, _visible(lines[0]))]
    for entry in entries:
        if entry["type"] != "circle":
            continue
        paint = entry["paint"]
        opacity = float(paint.get("circle-opacity", 1))
        low, high = _zooms(entry, layer)
        for label, condition, value in colour_cases(paint["circle-color"], opacity, labels):
            size, size_expression = _size(paint.get("circle-radius", 5), 2)
            part = SymbolPart("marker", colour=value["colour"], size=size, size_expression=size_expression,
                              stroke_colour=rgba(paint.get("circle-stroke-color", "#000000")),
                              stroke_width=float(at_zoom(paint.get("circle-stroke-width", 0))),
                              colour_expression=value.get("colour_expression"))
            is_cluster = entry.get("metadata", {}).get("monitor:role") == "clusters"
            rules.append(Rule(label or ("Grupos de puntos" if is_cluster else layer.title),
                              _and(entry.get("filter"), condition), "point", [part], low, high, _visible(entry)))
    return rules


def qgis_styles(layer: Layer, labels: dict[str, dict[str, str]] | None = None,
                vector_tiles: bool = False) -> list[QgisStyle]:
    """The QGIS styles of a map layer, the default first. `vector_tiles`: as drawn from the tiles (clusters and
    single points apart, as /styles/monitor.json does), else as drawn from its features."""
    labels = labels or {}
    entries = [e for e in layer_styles(layer)] if vector_tiles else list(layer.style)
    if vector_tiles and layer.geometry_type == "Point" and not any(e["id"].endswith("-clusters") for e in entries):
        entries.append(cluster_style(layer))
    label_rules = [rule for e in entries if e["type"] == "symbol" and (rule := _label_rule(e, layer))]
    drawing = [e for e in entries if e["type"] != "symbol"]
    by_field = [e for e in drawing if e.get("metadata", {}).get("monitor:field")]
    if by_field:  # an index layer: one style per field, its outline shared
        shared = [e for e in drawing if e not in by_field]
        styles = []
        for entry in by_field:
            name = entry["metadata"]["monitor:field"]
            ramp = INDEX_RAMPS.get(name)
            styles.append(QgisStyle(name, ramp.title if ramp else name, rules_of([entry, *shared], layer, labels),
                                    label_rules, visible=_visible(entry)))
        return styles
    rules = rules_of(drawing, layer, labels)
    visible = (any(rule.enabled for rule in rules) or bool(label_rules)) and layer.role not in HIDDEN_ROLES
    if not entries:  # a layer the MapLibre style does not draw: plain symbols, switched off
        rules = rules_of([{"id": f"{layer.id}-default", "type": "circle", "paint": {"circle-color": "#4a4a68",
                                                                                   "circle-radius": 4}},
                          {"id": f"{layer.id}-default-fill", "type": "fill",
                           "paint": {"fill-color": "#4a4a68", "fill-opacity": 0.4}},
                          {"id": f"{layer.id}-default-line", "type": "line", "paint": {"line-color": "#4a4a68"}}],
                         layer, labels)
    for rule in rules:
        rule.enabled = True  # the layer's check box says whether it is drawn; its rules are all on
    return [QgisStyle("default", layer.title, rules, label_rules, visible)]


def zoom_filter_expression(layer: Layer) -> str | None:
    """A layer's tile zoom filter (SQL with `{z}`) for QGIS, where the zoom comes from the map scale."""
    if not layer.zoom_filter:
        return None
    text = re.sub(r"\bLEAST\b", "min", layer.zoom_filter, flags=re.IGNORECASE)
    text = re.sub(r"\bGREATEST\b", "max", text, flags=re.IGNORECASE)
    return text.replace("{z}", f"({ZOOM_EXPRESSION})")


# ---------------------------------------------------------------- QGIS XML


def _options(values: dict) -> str:
    items = "".join(f'<Option name={quoteattr(k)} value={quoteattr(str(v))} type="QString"/>'
                    for k, v in values.items())
    return f'<Option type="Map">{items}</Option>'


def _data_defined(properties: dict[str, str]) -> str:
    if not properties:
        return ('<data_defined_properties><Option type="Map"><Option name="name" value="" type="QString"/>'
                '<Option name="properties"/><Option name="type" value="collection" type="QString"/></Option>'
                '</data_defined_properties>')
    items = "".join(
        f'<Option name={quoteattr(name)} type="Map"><Option name="active" value="true" type="bool"/>'
        f'<Option name="expression" value={quoteattr(expression)} type="QString"/>'
        f'<Option name="type" value="3" type="int"/></Option>' for name, expression in properties.items())
    return ('<data_defined_properties><Option type="Map"><Option name="name" value="" type="QString"/>'
            f'<Option name="properties" type="Map">{items}</Option>'
            '<Option name="type" value="collection" type="QString"/></Option></data_defined_properties>')


def _symbol_layer(part: SymbolPart) -> str:
    if part.kind == "marker":
        props = {"name": "circle", "color": part.colour, "size": f"{part.size:g}", "size_unit": "Pixel",
                 "outline_color": part.stroke_colour, "outline_style": "solid" if part.stroke_width else "no",
                 "outline_width": f"{part.stroke_width:g}", "outline_width_unit": "Pixel", "scale_method": "diameter"}
        cls, defined = "SimpleMarker", {"fillColor": part.colour_expression} if part.colour_expression else {}
        if part.size_expression:
            defined["size"] = part.size_expression
    elif part.kind == "line":
        props = {"line_color": part.colour, "line_width": f"{part.size:g}", "line_width_unit": "Pixel",
                 "capstyle": "round", "joinstyle": "round", "line_style": "solid"}
        cls, defined = "SimpleLine", {"outlineColor": part.colour_expression} if part.colour_expression else {}
    else:
        props = {"color": part.colour, "style": "solid" if part.brush else "no",
                 "outline_color": part.stroke_colour, "outline_style": "solid" if part.stroke_width else "no",
                 "outline_width": f"{part.stroke_width:g}", "outline_width_unit": "Pixel", "joinstyle": "round"}
        cls, defined = "SimpleFill", {"fillColor": part.colour_expression} if part.colour_expression else {}
    return f'<layer class="{cls}" enabled="1" locked="0" pass="0">{_options(props)}{_data_defined(defined)}</layer>'


def symbol_xml(rule: Rule, name: str) -> str:
    kind = {"point": "marker", "line": "line", "polygon": "fill"}[rule.geometry]
    return (f'<symbol type="{kind}" name={quoteattr(name)} alpha="1" clip_to_extent="1" force_rhr="0">'
            f'{_data_defined({})}{"".join(_symbol_layer(p) for p in rule.parts)}</symbol>')


def _key() -> str:
    return "{" + str(uuid.uuid4()) + "}"


def _scales(min_zoom: float | None, max_zoom: float | None) -> str:
    """Rule attributes: QGIS's scalemaxdenom is the zoomed-out limit (the min zoom), scalemindenom the other."""
    attrs = ""
    if min_zoom is not None:
        attrs += f' scalemaxdenom="{scale_of_zoom(min_zoom):.0f}"'
    if max_zoom is not None:
        attrs += f' scalemindenom="{scale_of_zoom(max_zoom):.0f}"'
    return attrs


def renderer_xml(rules: Sequence[Rule], extra_filter: str | None = None) -> str:
    if not rules:
        return '<renderer-v2 type="nullSymbol"/>'
    items, symbols = [], []
    for i, rule in enumerate(rules):
        expression = qgis_expression(rule.filter)
        if extra_filter:
            expression = f"({expression}) AND ({extra_filter})" if expression else extra_filter
        checked = "" if rule.enabled else ' checkstate="0"'
        items.append(f'<rule key="{_key()}" symbol="{i}" label={quoteattr(rule.label)} '
                     f'filter={quoteattr(expression or "TRUE")}{_scales(rule.min_zoom, rule.max_zoom)}{checked}/>')
        symbols.append(symbol_xml(rule, str(i)))
    return (f'<renderer-v2 type="RuleRenderer" symbollevels="0" forceraster="0" enableorderby="0" '
            f'referencescale="-1"><rules key="{_key()}">{"".join(items)}</rules>'
            f'<symbols>{"".join(symbols)}</symbols></renderer-v2>')


def label_settings_xml(rule: LabelRule) -> str:
    weight = ' namedStyle="Bold" fontWeight="75"' if rule.bold else ' namedStyle="Book" fontWeight="50"'
    scale = ""
    if rule.min_zoom is not None or rule.max_zoom is not None:
        # QGIS labelling: scaleMin is the zoomed-in limit, scaleMax the zoomed-out one (0: none).
        zoomed_in = scale_of_zoom(rule.max_zoom) if rule.max_zoom is not None else 0
        zoomed_out = scale_of_zoom(rule.min_zoom) if rule.min_zoom is not None else 0
        scale = f' scaleVisibility="1" scaleMin="{zoomed_in:.0f}" scaleMax="{zoomed_out:.0f}"'
    placement = '<placement placement="2" placementFlags="10" dist="0" repeatDistance="0"/>' if rule.on_line \
        else '<placement placement="1" placementFlags="10" dist="0" quadOffset="4"/>'
    return (
        '<settings calloutType="simple">'
        f'<text-style fieldName={quoteattr(rule.field)} isExpression="0" fontFamily="{FONT_FAMILY}"{weight} '
        f'fontSize="{rule.size:g}" fontSizeUnit="Pixel" textColor="{rule.colour}" textOpacity="1" '
        f'capitalization="{1 if rule.uppercase else 0}" allowHtml="0" multilineHeight="1">'
        f'<families/><text-buffer bufferDraw="{1 if rule.halo_width else 0}" bufferSize="{rule.halo_width:g}" '
        f'bufferSizeUnits="Pixel" bufferColor="{rule.halo_colour}" bufferOpacity="1" bufferNoFill="1" '
        'bufferJoinStyle="128"/></text-style>'
        '<text-format wrapChar="" autoWrapLength="12" useMaxLineLengthForAutoWrap="1" multilineAlign="3"/>'
        f'{placement}<rendering drawLabels="1" obstacle="1" upsidedownLabels="0" displayAll="0"{scale}/>'
        '</settings>')


def labeling_xml(rules: Sequence[LabelRule]) -> str:
    if not rules:
        return ""
    items = "".join(f'<rule key="{_key()}" description={quoteattr(r.description)} '
                    f'filter={quoteattr(qgis_expression(r.filter) or "TRUE")}>{label_settings_xml(r)}</rule>'
                    for r in rules)
    return f'<labeling type="rule-based"><rules key="{_key()}">{items}</rules></labeling>'


def layer_scale_attrs(layer: Layer) -> str:
    if layer.minzoom > 0:
        return f'hasScaleBasedVisibilityFlag="1" minScale="{scale_of_zoom(layer.minzoom):.0f}" maxScale="0"'
    return 'hasScaleBasedVisibilityFlag="0" minScale="100000000" maxScale="0"'


def style_body(layer: Layer, style: QgisStyle) -> str:
    """The renderer and labelling of one style, as inside <qgis> (QML) or <maplayer> (project)."""
    return renderer_xml(style.rules, zoom_filter_expression(layer)) + labeling_xml(style.labels)


def qml(layer: Layer, style: QgisStyle) -> str:
    """A QML document: Layer ▸ Properties ▸ Style ▸ Load Style, on the layer from the API, PostGIS or a file."""
    return (f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology|Labeling|Rendering" '
            f'labelsEnabled="{1 if style.labels else 0}" {layer_scale_attrs(layer)}>'
            f'{style_body(layer, style)}</qgis>\n')


# ---------------------------------------------------------------- SLD 1.1


def _sld_rule(name: str, title: str, filter_: list | None, symbolizer: str, min_zoom=None, max_zoom=None) -> str:
    scales = ""
    if max_zoom is not None:
        scales += f"<se:MinScaleDenominator>{scale_of_zoom(max_zoom):.0f}</se:MinScaleDenominator>"
    if min_zoom is not None:
        scales += f"<se:MaxScaleDenominator>{scale_of_zoom(min_zoom):.0f}</se:MaxScaleDenominator>"
    condition = f'<ogc:Filter xmlns:ogc="http://www.opengis.net/ogc">{ogc_filter(filter_)}</ogc:Filter>' \
        if filter_ is not None else ""
    return (f"<se:Rule><se:Name>{escape(name)}</se:Name><se:Description><se:Title>{escape(title)}</se:Title>"
            f"</se:Description>{condition}{scales}{symbolizer}</se:Rule>")


def _svg(name: str, value) -> str:
    return f'<se:SvgParameter name="{name}">{escape(str(value))}</se:SvgParameter>'


def _sld_fill(colour: str) -> str:
    code, opacity = hex_of(colour)
    return f"<se:Fill>{_svg('fill', code)}{_svg('fill-opacity', opacity)}</se:Fill>"


def _sld_stroke(colour: str, width: float) -> str:
    code, opacity = hex_of(colour)
    return (f"<se:Stroke>{_svg('stroke', code)}{_svg('stroke-opacity', opacity)}{_svg('stroke-width', f'{width:g}')}"
            f"{_svg('stroke-linejoin', 'round')}{_svg('stroke-linecap', 'round')}</se:Stroke>")


def _sld_symbolizers(rule: Rule, colour: str | None = None) -> str:
    out = []
    for part in rule.parts:
        fill = colour or part.colour
        if part.kind == "marker":
            stroke = _sld_stroke(part.stroke_colour, part.stroke_width) if part.stroke_width else ""
            out.append(f'<se:PointSymbolizer uom="http://www.opengeospatial.org/se/units/pixel"><se:Graphic><se:Mark>'
                       f"<se:WellKnownName>circle</se:WellKnownName>{_sld_fill(fill)}{stroke}</se:Mark>"
                       f"<se:Size>{part.size:g}</se:Size></se:Graphic></se:PointSymbolizer>")
        elif part.kind == "line":
            out.append('<se:LineSymbolizer uom="http://www.opengeospatial.org/se/units/pixel">'
                       f"{_sld_stroke(fill, part.size)}</se:LineSymbolizer>")
        else:
            brush = _sld_fill(fill) if part.brush else ""
            stroke = _sld_stroke(part.stroke_colour, part.stroke_width) if part.stroke_width else ""
            out.append(f'<se:PolygonSymbolizer uom="http://www.opengeospatial.org/se/units/pixel">{brush}{stroke}'
                       "</se:PolygonSymbolizer>")
    return "".join(out)


def _mix(c0: str, c1: str, t: float) -> str:
    a, b = ([int(v) for v in c.split(",")] for c in (c0, c1))
    return ",".join(str(round(x + (y - x) * t)) for x, y in zip(a, b, strict=True))


def _sld_rules(rule: Rule) -> Iterable[str]:
    if not rule.stops:
        yield _sld_rule(rule.label, rule.label, rule.filter, _sld_symbolizers(rule), rule.min_zoom, rule.max_zoom)
        return
    # An interpolated colour: SLD 1.1 readers rarely evaluate se:Interpolate, so classes between the stops.
    name, stops = rule.stops
    alpha = rule.parts[0].colour.split(",")[3]
    colours = [",".join(rgba(c).split(",")[:3] + [alpha]) for _, c in stops]
    bounds = [v for v, _ in stops]
    for i in range(len(stops) + 1):
        low = bounds[i - 1] if i > 0 else None
        high = bounds[i] if i < len(bounds) else None
        if low is None:
            colour = colours[0]
        elif high is None:
            colour = colours[-1]
        else:
            colour = _mix(colours[i - 1], colours[i], 0.5)
        condition = _and(rule.filter, [">=", ["get", name], low] if low is not None else None,
                         ["<", ["get", name], high] if high is not None else None)
        span = f"{'' if low is None else low} – {'' if high is None else high}"
        yield _sld_rule(f"{rule.label} ({name} {span})", f"{rule.label} ({span})", condition,
                        _sld_symbolizers(rule, colour), rule.min_zoom, rule.max_zoom)


def _sld_text(rule: LabelRule) -> str:
    code, _ = hex_of(rule.colour)
    halo_code, _ = hex_of(rule.halo_colour)
    placement = "<se:LinePlacement><se:GeneralizeLine>true</se:GeneralizeLine></se:LinePlacement>" if rule.on_line \
        else ("<se:PointPlacement><se:AnchorPoint><se:AnchorPointX>0.5</se:AnchorPointX>"
              "<se:AnchorPointY>0.5</se:AnchorPointY></se:AnchorPoint></se:PointPlacement>")
    halo = (f"<se:Halo><se:Radius>{rule.halo_width:g}</se:Radius><se:Fill>{_svg('fill', halo_code)}</se:Fill>"
            "</se:Halo>") if rule.halo_width else ""
    return (f'<se:TextSymbolizer uom="http://www.opengeospatial.org/se/units/pixel"><se:Label>'
            f"<ogc:PropertyName>{escape(rule.field)}</ogc:PropertyName></se:Label><se:Font>"
            f"{_svg('font-family', FONT_FAMILY)}{_svg('font-size', f'{rule.size:g}')}"
            f"{_svg('font-weight', 'bold' if rule.bold else 'normal')}</se:Font>"
            f"<se:LabelPlacement>{placement}</se:LabelPlacement>{halo}<se:Fill>{_svg('fill', code)}</se:Fill>"
            "</se:TextSymbolizer>")


def sld(layer: Layer, style: QgisStyle) -> str:
    """An SLD 1.1 document (Symbology Encoding) of one style: QGIS, GeoServer, MapServer and others read it."""
    rules = [text for rule in style.rules for text in _sld_rules(rule)]
    if not rules and style.labels:  # labels alone: readers (QGIS) want a symbolizer to build a renderer from
        anchor = Rule("Punto de la etiqueta", None, "point", [SymbolPart("marker", colour="0,0,0,0", size=1)])
        rules = list(_sld_rules(anchor))
    rules += [_sld_rule(r.description, r.description, r.filter, _sld_text(r), r.min_zoom, r.max_zoom)
              for r in style.labels]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<StyledLayerDescriptor xmlns="http://www.opengis.net/sld" version="1.1.0" '
            'xmlns:ogc="http://www.opengis.net/ogc" xmlns:se="http://www.opengis.net/se" '
            'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.opengis.net/sld '
            'http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd">'
            f"<NamedLayer><se:Name>{escape(layer.id)}</se:Name><UserStyle><se:Name>{escape(style.name)}</se:Name>"
            f"<se:Description><se:Title>{escape(style.title)}</se:Title></se:Description>"
            f"<se:FeatureTypeStyle>{''.join(rules)}</se:FeatureTypeStyle></UserStyle></NamedLayer>"
            "</StyledLayerDescriptor>\n")


def vector_tile_renderer_xml(layers: Sequence[Layer], labels: dict[str, dict[str, str]]) -> tuple[str, str]:
    """The basic renderer and labelling of a vector tile layer holding `layers` (one style per rule)."""
    geometry = {"point": 0, "line": 1, "polygon": 2}
    styles, label_styles = [], []
    for layer in layers:
        layer_styles_ = qgis_styles(layer, labels, vector_tiles=True)
        for style in layer_styles_:
            for rule in style.rules:
                enabled = rule.enabled and style.visible
                low = -1 if rule.min_zoom is None else math.floor(rule.min_zoom)
                high = -1 if rule.max_zoom is None else math.ceil(rule.max_zoom)
                styles.append(
                    f'<style layer="{layer.id}" name={quoteattr(f"{layer.title}: {rule.label}")} '
                    f'min-zoom="{low}" max-zoom="{high}" enabled="{int(enabled)}" '
                    f'expression={quoteattr(qgis_expression(rule.filter))} geometry="{geometry[rule.geometry]}">'
                    f'<symbols>{symbol_xml(rule, "0")}</symbols></style>')  # QGIS reads the symbol named 0
            if style is layer_styles_[0]:
                for rule in style.labels:
                    low = -1 if rule.min_zoom is None else math.floor(rule.min_zoom)
                    high = -1 if rule.max_zoom is None else math.ceil(rule.max_zoom)
                    label_styles.append(
                        f'<style layer="{layer.id}" name={quoteattr(rule.description)} min-zoom="{low}" '
                        f'max-zoom="{high}" enabled="1" expression={quoteattr(qgis_expression(rule.filter))} '
                        f'geometry="{1 if rule.on_line else 0}">{label_settings_xml(rule)}</style>')
    # Fills first, then lines, then points: as the MapLibre style draws them.
    order = {'geometry="2"': 0, 'geometry="1"': 1, 'geometry="0"': 2}
    styles.sort(key=lambda s: next(v for k, v in order.items() if k in s.split(">", 1)[0]))
    renderer = f'<renderer type="basic"><styles>{"".join(styles)}</styles></renderer>'
    labeling = f'<labeling type="basic"><styles>{"".join(label_styles)}</styles></labeling>' if label_styles else ""
    return renderer, labeling
