"""Run by Debian's /usr/bin/python3 (python3-qgis, QGIS 3.22), never imported by pytest. Prints one JSON line.

  qgis_driver.py project PATH.qgz OUT.png EXTENT_3857_JSON SIZE [AUTH_JSON]
      open the project, report every layer (valid, provider, source, feature count, styles, renderer rules,
      labelling), render the checked layers over EXTENT to OUT.png and report the image's colours.
      AUTH_JSON {"id", "username", "password"}: an authentication configuration stored first (the auth database
      is QGIS_AUTH_DB_DIR_PATH's).
  qgis_driver.py styles JOBS.json
      JOBS: [{"uri", "provider", "path": STYLE.qml|STYLE.sld}, …]: load each style file onto its layer and report
      its renderer and labelling.
"""

import json
import sys
from collections import Counter

from qgis.core import (
    QgsApplication,
    QgsAuthMethodConfig,
    QgsCoordinateReferenceSystem,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRectangle,
    QgsRenderContext,
    QgsRuleBasedRenderer,
    QgsVectorLayer,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def symbol_colours(symbol):
    """Fill (or line) colours of the symbol's layers, then their stroke colours where they have one."""
    layers = [symbol.symbolLayer(i) for i in range(symbol.symbolLayerCount())]
    strokes = [layer.strokeColor().name() for layer in layers
               if layer.layerType() in ("SimpleFill", "SimpleMarker") and layer.strokeStyle() != 0]
    return [layer.color().name() for layer in layers] + strokes


def renderer_report(renderer):
    if renderer is None:
        return None
    report = {"type": renderer.type()}
    if not isinstance(renderer, QgsRuleBasedRenderer):  # e.g. one symbol (an SLD with a single rule)
        report["rules"] = [{"label": "", "filter": "", "active": True, "colours": symbol_colours(symbol)}
                           for symbol in renderer.symbols(QgsRenderContext())]
    else:
        report["rules"] = [{"label": rule.label(), "filter": rule.filterExpression(), "active": rule.active(),
                            "colours": symbol_colours(rule.symbol()) if rule.symbol() else [],
                            "min_scale": rule.minimumScale(), "max_scale": rule.maximumScale()}
                           for rule in renderer.rootRule().children()]
    return report


def labeling_report(layer):
    labeling = layer.labeling()
    if labeling is None:
        return None
    report = {"type": labeling.type(), "enabled": layer.labelsEnabled()}
    if labeling.type() == "rule-based":
        report["rules"] = [{"description": rule.description(), "filter": rule.filterExpression(),
                            "field": rule.settings().fieldName if rule.settings() else None,
                            "colour": rule.settings().format().color().name() if rule.settings() else None}
                           for rule in labeling.rootRule().children()]
    return report


def layer_report(layer):
    report = {"id": layer.id(), "name": layer.name(), "valid": layer.isValid(), "provider": layer.providerType(),
              "source": layer.source(), "crs": layer.crs().authid()}
    if isinstance(layer, QgsVectorLayer):
        report["catalogue_id"] = layer.keywordList()
        report["features"] = sum(1 for _ in layer.getFeatures()) if layer.isValid() else 0
        report["styles"] = layer.styleManager().styles()
        report["current_style"] = layer.styleManager().currentStyle()
        report["renderer"] = renderer_report(layer.renderer())
        report["labeling"] = labeling_report(layer)
        report["error"] = layer.error().summary() if not layer.isValid() else ""
        report["min_scale"], report["has_scale_limits"] = layer.minimumScale(), layer.hasScaleBasedVisibility()
        others = {}
        for name in layer.styleManager().styles():
            if name != layer.styleManager().currentStyle():
                layer.styleManager().setCurrentStyle(name)
                others[name] = renderer_report(layer.renderer())
        layer.styleManager().setCurrentStyle(report["current_style"])
        report["other_styles"] = others
    elif isinstance(layer, QgsVectorTileLayer):
        renderer = layer.renderer()
        report["tile_styles"] = [{"layer": s.layerName(), "name": s.styleName(), "enabled": s.isEnabled(),
                                  "filter": s.filterExpression(), "geometry": int(s.geometryType()),
                                  "colours": symbol_colours(s.symbol()) if s.symbol() else []}
                                 for s in renderer.styles()]
        labeling = layer.labeling()
        report["tile_labels"] = [s.layerName() for s in labeling.styles()] if labeling else []
        report["zmax"] = layer.sourceMaxZoom()
    return report


def render(layers, extent, size, out):
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    settings.setExtent(QgsRectangle(*extent))
    settings.setOutputSize(QSize(size, size))
    settings.setOutputDpi(96)
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(out)
    colours = Counter(QColor(image.pixel(x, y)).name() for y in range(image.height()) for x in range(image.width()))
    return {"colours": dict(colours.most_common(400)), "errors": [e.message for e in job.errors()],
            "scale": settings.scale()}


def project(path, out, extent, size, auth=None):
    if auth:
        manager = QgsApplication.authManager()
        manager.setMasterPassword("monitor-tests", True)
        config = QgsAuthMethodConfig("Basic")
        config.setId(auth["id"])
        config.setName("monitor_readonly")
        config.setConfig("username", auth["username"])
        config.setConfig("password", auth["password"])
        assert manager.storeAuthenticationConfig(config), "authentication configuration not stored"
    qgis_project = QgsProject.instance()
    assert qgis_project.read(path), f"QGIS could not read {path}"
    root = qgis_project.layerTreeRoot()
    tree = [{"group": group.name(), "layers": [n.layerId() for n in group.findLayers()]}
            for group in root.children() if hasattr(group, "findLayers") and group.nodeType() == 0]
    layers = [layer_report(layer) for layer in qgis_project.mapLayers().values()]
    checked = root.checkedLayers()
    picture = render(checked, extent, size, out)
    return {"title": qgis_project.title(), "crs": qgis_project.crs().authid(), "tree": tree,
            "order": [layer.id() for layer in root.layerOrder()], "layers": layers,
            "checked": [layer.id() for layer in checked], **picture}


def style(uri, provider, path):
    layer = QgsVectorLayer(uri, "styled", provider)
    assert layer.isValid(), f"layer {uri} is not valid"
    if path.endswith(".sld"):
        message, ok = layer.loadSldStyle(path)
    else:
        message, ok = layer.loadNamedStyle(path)
    return {"ok": ok, "message": message, "renderer": renderer_report(layer.renderer()),
            "labeling": labeling_report(layer), "min_scale": layer.minimumScale(),
            "has_scale_limits": layer.hasScaleBasedVisibility()}


def main():
    app = QgsApplication([], False)
    app.initQgis()
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "project":
        result = project(args[0], args[1], json.loads(args[2]), int(args[3]),
                         json.loads(args[4]) if len(args) > 4 else None)
    else:
        with open(args[0]) as f:
            result = [style(job["uri"], job["provider"], job["path"]) for job in json.load(f)]
    print(json.dumps(result))
    app.exitQgis()


if __name__ == "__main__":
    main()
