"""The HTTP surface of the monitor: thin routers over gis/ and the layer catalogue in layers/."""
