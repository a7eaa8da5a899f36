// The place of a record: a MapLibre map of the monitor's own style (the public map's), where a tap or a click sets
// the point, and two coordinate fields that do the same by keyboard. The map only fills the fields: the API says
// whether the point is in Rosario (inside a barrio), as it does for every client.

import { getJSON } from '/map/static/js/dom.js';
import { needsPmtiles, prepareStyle } from '/map/static/js/style.js';

const ROSARIO = { center: [-60.66, -32.95], zoom: 12, bounds: [[-61.05, -33.2], [-60.35, -32.7]] };
const SPANISH = {
  'NavigationControl.ZoomIn': 'Acercar', 'NavigationControl.ZoomOut': 'Alejar', 'Map.Title': 'Mapa: tocá o hacé clic donde se reúne para marcar el lugar',
  'AttributionControl.ToggleAttribution': 'Mostrar atribución', 'ScaleControl.Meters': 'm', 'ScaleControl.Kilometers': 'km',
};

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });
}

export const kindColors = { default: '#17365d' };

function readKindColors(style, config) {
  const points = new Set(config.layers.find((l) => l.id === config.roles?.registry_points)?.style_layers || []);
  for (const layer of style.layers.filter((l) => points.has(l.id))) {
    const paint = layer.paint?.['circle-color'];
    if (Array.isArray(paint) && paint[0] === 'match') {
      for (let i = 2; i < paint.length - 1; i += 2) kindColors[paint[i]] = paint[i + 1];
    }
  }
}

const number = (text) => {
  const value = Number(String(text).trim().replace(',', '.'));
  return String(text).trim() !== '' && Number.isFinite(value) ? value : null;
};

// `container`: the map's element; `lon`, `lat`: the two inputs; `onChange`: called when the point changes.
export async function placePicker(container, { lon, lat, onChange }) {
  const maplibregl = await import('/map/vendor/maplibre-gl/maplibre-gl.mjs');
  const [config, style] = await Promise.all([getJSON('/map/config.json'), getJSON('/styles/monitor.json')]);
  prepareStyle(style, config, {});
  readKindColors(style, config);
  if (needsPmtiles(style)) {
    if (!window.pmtiles) await loadScript('/map/vendor/pmtiles/pmtiles.js');
    maplibregl.addProtocol('pmtiles', new window.pmtiles.Protocol().tile);
  }
  const map = new maplibregl.Map({
    container, style, center: ROSARIO.center, zoom: ROSARIO.zoom, maxBounds: ROSARIO.bounds, minZoom: 10, maxZoom: 19,
    locale: SPANISH, attributionControl: { compact: true }, dragRotate: false, cooperativeGestures: false,
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  const marker = new maplibregl.Marker({ color: '#a4262c' });
  let shown = false;

  function show() {
    const x = number(lon.value);
    const y = number(lat.value);
    if (x === null || y === null) {
      marker.remove();
      shown = false;
      return;
    }
    marker.setLngLat([x, y]);
    if (!shown) marker.addTo(map);
    shown = true;
    if (!map.getBounds().contains([x, y])) map.easeTo({ center: [x, y] });
  }

  map.on('click', (event) => {
    lon.value = event.lngLat.lng.toFixed(7);
    lat.value = event.lngLat.lat.toFixed(7);
    show();
    onChange?.();
  });
  for (const input of [lon, lat]) input.addEventListener('input', show);
  window.gestionMap = map; // for tests
  await new Promise((resolve) => map.once('load', resolve));
  // The attribution starts folded, as on the public map: on a phone the full text would cover the small map.
  container.querySelector('.maplibregl-ctrl-attrib')?.classList.remove('maplibregl-compact-show');
  show();
  container.dataset.ready = 'true';
  return { map, show };
}
