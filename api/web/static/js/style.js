// Turns /styles/monitor.json into the page's style: absolute URLs, no outside hosts, the PMTiles switch,
// and the page's own overlay layers (choropleth, hexagons, gaps, selection) on the same vector source.

export const CHOROPLETH_COLORS = ['#fff7bc', '#c7e9b4', '#7fcdbb', '#2c7fb8', '#253494'];
export const CHOROPLETH_BREAKS = [20, 40, 60, 80]; // pillars and composite are on fixed 0–100 goalposts
export const NO_DATA_COLOR = '#d9d9d9';
export const GAP_COLOR = '#c2185b';
export const HEXAGON_COLORS = { covered: '#74c476', uncovered: '#fd8d3c' };
export const BACKGROUND = '#dfe7ea'; // river and surroundings: the city is drawn from our own barrios

const absolute = (url) => new URL(url, window.location.href).href;
const sameOrigin = (url) => new URL(url, window.location.href).origin === window.location.origin;

export function vectorSourceId(style) {
  return Object.keys(style.sources).find((id) => style.sources[id].type === 'vector');
}

export function layersOf(style, sourceLayer) {
  return style.layers.filter((layer) => layer['source-layer'] === sourceLayer).map((layer) => layer.id);
}

function keepOwnHosts(style) {
  // The page must work offline: anything that would reach another host goes, with the layers needing it.
  for (const key of ['glyphs', 'sprite']) {
    if (style[key] && (typeof style[key] !== 'string' || !sameOrigin(style[key]))) delete style[key];
  }
  if (!style.glyphs) style.layers = style.layers.filter((l) => !(l.type === 'symbol' && l.layout?.['text-field']));
  for (const [id, source] of Object.entries(style.sources)) {
    if (source.tiles) source.tiles = source.tiles.map(absolute);
    if (source.url && !source.url.startsWith('pmtiles://')) source.url = absolute(source.url);
    const urls = [...(source.tiles || []), ...(source.url ? [source.url.replace('pmtiles://', '')] : [])];
    if (urls.some((url) => !sameOrigin(url))) {
      delete style.sources[id];
      style.layers = style.layers.filter((l) => l.source !== id);
    }
  }
}

export function usePmtiles(style, archiveUrl) {
  const id = vectorSourceId(style);
  const { attribution, minzoom, maxzoom } = style.sources[id];
  style.sources[id] = { type: 'vector', url: `pmtiles://${absolute(archiveUrl)}`, attribution, minzoom, maxzoom };
}

export function choroplethColor(field) {
  const value = ['get', field];
  const steps = CHOROPLETH_BREAKS.flatMap((limit, i) => [limit, CHOROPLETH_COLORS[i + 1]]);
  return ['case', ['==', ['typeof', value], 'number'], ['step', value, CHOROPLETH_COLORS[0], ...steps], NO_DATA_COLOR];
}

function overlayLayers(source, config) {
  const layers = [];
  const hidden = { visibility: 'none' };
  for (const [unit, info] of Object.entries(config.index_layers || {})) {
    const field = info.pillars[0]?.field || 'composite';
    layers.push({
      id: `web-choropleth-${unit}`, type: 'fill', source, 'source-layer': info.layer, layout: hidden,
      paint: { 'fill-color': choroplethColor(field), 'fill-opacity': 0.78 },
    });
  }
  if (config.hexagons) {
    layers.push({
      id: 'web-hexagons', type: 'fill', source, 'source-layer': 'hexagons', layout: hidden,
      paint: { 'fill-color': HEXAGON_COLORS.uncovered, 'fill-opacity': 0.55, 'fill-outline-color': '#ffffff' },
    });
  }
  layers.push(
    {
      id: 'web-gaps', type: 'line', source, 'source-layer': 'barrios', layout: { ...hidden, 'line-join': 'round' },
      filter: ['in', ['id'], ['literal', []]],
      paint: { 'line-color': GAP_COLOR, 'line-width': 3.5, 'line-dasharray': [2, 1] },
    },
    {
      id: 'web-barrio-selected', type: 'line', source, 'source-layer': 'barrios',
      filter: ['==', ['id'], -1], paint: { 'line-color': '#111111', 'line-width': 3 },
    },
  );
  return layers;
}

function selectedInstanceLayer(source) {
  return {
    id: 'web-instance-selected', type: 'circle', source, 'source-layer': 'instances', filter: ['==', ['id'], -1],
    paint: { 'circle-radius': 11, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#111111',
      'circle-stroke-width': 3 },
  };
}

export function prepareStyle(style, config, { pmtilesUrl } = {}) {
  keepOwnHosts(style);
  if (pmtilesUrl) usePmtiles(style, pmtilesUrl);
  const source = vectorSourceId(style);
  style.layers = style.layers.filter((l) => l.type !== 'background');
  style.layers.unshift({ id: 'web-background', type: 'background', paint: { 'background-color': BACKGROUND } });
  // Activities share their instances' venues: the agenda view lists them, the map shows the instances.
  for (const layer of style.layers) {
    if (layer['source-layer'] === 'activities') layer.layout = { ...layer.layout, visibility: 'none' };
  }
  const overlays = overlayLayers(source, config);
  const fills = overlays.filter((l) => l.type === 'fill');
  const lines = overlays.filter((l) => l.type !== 'fill');
  const firstLine = style.layers.findIndex((l) => l.type === 'line' || l.type === 'circle' || l.type === 'symbol');
  style.layers.splice(firstLine < 0 ? style.layers.length : firstLine, 0, ...fills);
  const firstPoint = style.layers.findIndex((l) => l.type === 'circle' || l.type === 'symbol');
  style.layers.splice(firstPoint < 0 ? style.layers.length : firstPoint, 0, ...lines);
  style.layers.push(selectedInstanceLayer(source));
  return style;
}
