"""Run by Debian's /usr/bin/python3 (python3-qgis), never imported by pytest: reads collections through the
QGIS OAPIF provider and prints, per collection, whether the layer is valid and every feature it read."""

import json
import sys

from qgis.core import QgsApplication, QgsDataSourceUri, QgsVectorLayer


def read(url: str, name: str, key: str) -> dict:
    uri = QgsDataSourceUri()
    uri.setParam("url", url)
    uri.setParam("typename", name)
    layer = QgsVectorLayer(uri.uri(False), name, "OAPIF")
    if not layer.isValid():
        return {"valid": False, "error": layer.error().summary()}
    keys = [feature.attribute(key) for feature in layer.getFeatures()]
    return {"valid": True, "feature_count": layer.featureCount(), "keys": [str(k) for k in keys],
            "crs": layer.crs().authid(), "fields": layer.fields().names()}


def main() -> None:
    url, pairs = sys.argv[1], sys.argv[2:]
    app = QgsApplication([], False)
    app.initQgis()
    result = {}
    for pair in pairs:
        name, key = pair.split(":")
        result[name] = read(url, name, key)
    print(json.dumps(result))
    app.exitQgis()


if __name__ == "__main__":
    main()
