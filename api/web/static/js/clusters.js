// Counts on the cluster circles. The style has no glyphs (nothing may come from another host and the monitor
// serves no font files), so the numbers are small HTML labels placed on the clusters MapLibre has drawn.

export function showClusterCounts(map, maplibregl, clusterLayers) {
  const labels = new Map();
  const update = () => {
    const zoom = Math.floor(map.getZoom());
    const seen = new Set();
    for (const feature of map.queryRenderedFeatures({ layers: clusterLayers })) {
      const count = feature.properties.point_count;
      // Keyed by place: the same cluster comes back in every tile that draws it, with one position.
      const [lng, lat] = feature.geometry.coordinates;
      const key = `${zoom}/${lng.toFixed(6)},${lat.toFixed(6)}`;
      if (!(count > 1) || seen.has(key)) continue;
      seen.add(key);
      if (!labels.has(key)) {
        const element = document.createElement('span');
        element.className = 'cluster-count';
        element.setAttribute('aria-hidden', 'true'); // the hover text and the search say the same to everyone
        element.textContent = count;
        labels.set(key, new maplibregl.Marker({ element }).setLngLat(feature.geometry.coordinates).addTo(map));
      }
    }
    for (const [key, marker] of labels) {
      if (!seen.has(key)) {
        marker.remove();
        labels.delete(key);
      }
    }
  };
  map.on('idle', update);
  update();
}
