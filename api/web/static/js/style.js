// Turns /styles/monitor.json into the page's style: absolute URLs, no outside hosts, the PMTiles switch,
// and the page's own overlay layers (choropleth, gaps, selection) on the same vector source. The hexagons keep
// the style's own paint: the page only switches them on and off.

export const CHOROPLETH_COLORS = ['#fff7bc', '#c7e9b4', '#7fcdbb', '#2c7fb8', '#253494'];
// Five classes of equal width between the lowest and highest value the API gives: the method's fixed goalposts
// (0–1, 0–100) would paint every barrio alike when the values are close together.
export const choroplethBreaks = ([min, max]) => [1, 2, 3, 4].map((k) => min + (k * (max - min)) / 5);
export const NO_DATA_COLOR = '#d9d9d9';
export const GAP_COLOR = '#c2185b';
export const BACKGROUND = '#dfe7ea'; // river and surroundings: the city is drawn from our own barrios

const absolute = (url) => new URL(url, window.location.href).href;
const sameOrigin = (url) => new URL(url, window.location.href).origin === window.location.origin;

export function vectorSourceId(style) {
  return Object.keys(style.sources).find((id) => style.sources[id].type === 'vector');
}

export function hexagonColors(style) {
  // From the style's own hexagon paint: ['case', covered?, ramp of covered cells, colour of uncovered cells].
  const paint = style.layers.find((l) => l['source-layer'] === 'hexagons' && l.type === 'fill')?.paint?.['fill-color'];
  if (!Array.isArray(paint) || paint[0] !== 'case') return null;
  const ramp = Array.isArray(paint[2]) ? paint[2].slice(3).filter((_, i) => i % 2 === 1) : [paint[2]];
  return { covered: ramp, uncovered: paint[3] };
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
  // Zooms and bounds come from the archive's header; an undefined key here would override them (and hang).
  const id = vectorSourceId(style);
  const { attribution } = style.sources[id];
  style.sources[id] = { type: 'vector', url: `pmtiles://${absolute(archiveUrl)}`, ...(attribution ? { attribution } : {}) };
}

export function choroplethColor(field, range) {
  const value = ['get', field];
  const steps = choroplethBreaks(range).flatMap((limit, i) => [limit, CHOROPLETH_COLORS[i + 1]]);
  return ['case', ['==', ['typeof', value], 'number'], ['step', value, CHOROPLETH_COLORS[0], ...steps], NO_DATA_COLOR];
}

function overlayLayers(source, config) {
  const layers = [];
  const hidden = { visibility: 'none' };
  for (const [unit, info] of Object.entries(config.index_layers || {})) {
    const pillar = info.pillars[0] || { field: 'composite', max: 100 };
    layers.push({
      id: `web-choropleth-${unit}`, type: 'fill', source, 'source-layer': info.layer, layout: hidden,
      paint: { 'fill-color': choroplethColor(pillar.field, [0, pillar.max]), 'fill-opacity': 0.8 },
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
  // The index layers' own fills give way to the page's choropleth, which can show any pillar.
  for (const layer of style.layers) {
    if (['activities', 'barrio_index', 'district_index'].includes(layer['source-layer'])) {
      layer.layout = { ...layer.layout, visibility: 'none' };
    }
  }
  const overlays = overlayLayers(source, config);
  const fills = overlays.filter((l) => l.type === 'fill');
  const lines = overlays.filter((l) => l.type !== 'fill');
  // The choropleth lies right over the barrios' own fill: hexagons, when switched on, are drawn above it.
  const barrioFill = style.layers.findIndex((l) => l['source-layer'] === 'barrios' && l.type === 'fill');
  style.layers.splice(barrioFill + 1, 0, ...fills);
  const firstPoint = style.layers.findIndex((l) => l.type === 'circle' || l.type === 'symbol');
  style.layers.splice(firstPoint < 0 ? style.layers.length : firstPoint, 0, ...lines);
  style.layers.push(selectedInstanceLayer(source));
  return style;
}
