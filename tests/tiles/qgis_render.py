"""Run by /usr/bin/python3 (PyQGIS) from test_qgis.py: load the monitor's XYZ vector tiles in QGIS, draw the
instances red and the barrios blue over a Web Mercator extent, and report what was drawn where, as JSON."""

import json
import sys

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsFillSymbol,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsMarkerSymbol,
    QgsRectangle,
    QgsVectorTileBasicRenderer,
    QgsVectorTileBasicRendererStyle,
    QgsVectorTileLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

base_url, extent, size, out = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
app = QgsApplication([], False)
app.initQgis()
layer = QgsVectorTileLayer(f"type=xyz&url={base_url}/tiles/{{z}}/{{x}}/{{y}}.mvt&zmin=0&zmax=16", "monitor")
points = QgsVectorTileBasicRendererStyle("instances", "instances", QgsWkbTypes.PointGeometry)
points.setSymbol(QgsMarkerSymbol.createSimple({"name": "circle", "color": "255,0,0", "size": "2.5",
                                               "outline_style": "no"}))
areas = QgsVectorTileBasicRendererStyle("barrios", "barrios", QgsWkbTypes.PolygonGeometry)
areas.setSymbol(QgsFillSymbol.createSimple({"color": "0,0,255", "outline_style": "no"}))
renderer = QgsVectorTileBasicRenderer()
renderer.setStyles([areas, points])
layer.setRenderer(renderer)

settings = QgsMapSettings()
settings.setLayers([layer])
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
red, blue = [], 0
for py in range(image.height()):
    for px in range(image.width()):
        colour = QColor(image.pixel(px, py))
        if colour.red() > 200 and colour.green() < 80 and colour.blue() < 80:
            red.append((px, py))
        elif colour.blue() > 200 and colour.red() < 80 and colour.green() < 80:
            blue += 1
print(json.dumps({"valid": layer.isValid(), "provider": layer.sourceType(), "zmax": layer.sourceMaxZoom(),
                  "red": red, "blue": blue, "errors": [str(e) for e in job.errors()]}))
