// Turns /styles/monitor.json into the page's style: absolute URLs, no outside hosts, the PMTiles switch,
// and the page's own overlay layers (gaps, selection) on the same vector source. No layer is named here: each is
// found by its role in /map/config.json (`config.roles`, `config.layers[].style_layers`). The choropleth and the
// hexagons are the style's own layers, painted with the server's ramps (layers/ramps.py): the page only switches
// them on and off, so a value has the same colour on this map and in the published style.

export const GAP_COLOR = '#c2185b';
export const BACKGROUND = '#dfe7ea'; // river and surroundings: the city is drawn from our own barrios

const absolute = (url) => new URL(url, window.location.href).href;
const sameOrigin = (url) => new URL(url, window.location.href).origin === window.location.origin;

export function vectorSourceId(style) {
  return Object.keys(style.sources).find((id) => style.sources[id].type === 'vector');
}

export function layerOfRole(config, role) {
  // The catalogue layer with this role (its id is the tiles' source layer), or null when not published.
  const id = config.roles?.[role];
  return (id && config.layers.find((layer) => layer.id === id)) || null;
}

export function styleLayersOfRole(config, role, style = null) {
  // The ids of the published style's layers drawing the layer of this role (those present in `style`, if given).
  const ids = layerOfRole(config, role)?.style_layers || [];
  return style ? ids.filter((id) => style.layers.some((l) => l.id === id)) : ids;
}

function keepOwnHosts(style) {
  // The page must work offline: anything that would reach another host goes, with the layers needing it. The one
  // exception is a basemap the operator chose (MONITOR_BASEMAP: a style or archive elsewhere), which the style
  // names in its metadata; the default basemap is the monitor's own (its tiles and its glyphs).
  const basemapSources = new Set(style.metadata?.['monitor:basemap-sources'] || []);
  const chosen = basemapSources.size > 0;
  for (const key of ['glyphs', 'sprite']) {
    if (chosen && style[key]) continue;
    if (style[key] && (typeof style[key] !== 'string' || !sameOrigin(style[key]))) delete style[key];
  }
  if (!style.glyphs) style.layers = style.layers.filter((l) => !(l.type === 'symbol' && l.layout?.['text-field']));
  for (const [id, source] of Object.entries(style.sources)) {
    if (source.tiles) source.tiles = source.tiles.map(absolute);
    if (source.url && !source.url.startsWith('pmtiles://')) source.url = absolute(source.url);
    const urls = [...(source.tiles || []), ...(source.url ? [source.url.replace('pmtiles://', '')] : [])];
    if (!basemapSources.has(id) && urls.some((url) => !sameOrigin(url))) {
      delete style.sources[id];
      style.layers = style.layers.filter((l) => l.source !== id);
    }
  }
}

export function basemapLayerIds(style) {
  // The layers of the basemap under the map (local or chosen by the operator), marked by the published style.
  return style.layers.filter((l) => l.metadata?.['monitor:basemap']).map((l) => l.id);
}

export function needsPmtiles(style) {
  return Object.values(style.sources).some((source) => source.url?.startsWith('pmtiles://'));
}

export function usePmtiles(style, archiveUrl) {
  // Zooms and bounds come from the archive's header; an undefined key here would override them (and hang).
  const id = vectorSourceId(style);
  const { attribution } = style.sources[id];
  style.sources[id] = { type: 'vector', url: `pmtiles://${absolute(archiveUrl)}`, ...(attribution ? { attribution } : {}) };
}

function overlayLayers(source, config) {
  const barrios = config.roles.barrio_boundaries;
  if (!barrios) return [];
  const hidden = { visibility: 'none' };
  return [
    {
      id: 'web-gaps', type: 'line', source, 'source-layer': barrios, layout: { ...hidden, 'line-join': 'round' },
      filter: ['in', ['id'], ['literal', []]],
      paint: { 'line-color': GAP_COLOR, 'line-width': 3.5, 'line-dasharray': [2, 1] },
    },
    {
      id: 'web-barrio-selected', type: 'line', source, 'source-layer': barrios,
      filter: ['==', ['id'], -1], paint: { 'line-color': '#111111', 'line-width': 3 },
    },
  ];
}

function selectedInstanceLayer(source, config) {
  const points = config.roles.registry_points;
  return points ? [{
    id: 'web-instance-selected', type: 'circle', source, 'source-layer': points, filter: ['==', ['id'], -1],
    paint: { 'circle-radius': 11, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#111111',
      'circle-stroke-width': 3 },
  }] : [];
}

export function prepareStyle(style, config, { pmtilesUrl } = {}) {
  keepOwnHosts(style);
  if (pmtilesUrl) usePmtiles(style, pmtilesUrl);
  const source = vectorSourceId(style);
  style.layers = style.layers.filter((l) => l.type !== 'background');
  style.layers.unshift({ id: 'web-background', type: 'background', paint: { 'background-color': BACKGROUND } });
  // Activities share their instances' venues: the agenda view lists them, the map shows the instances.
  // The index layers start hidden: the choropleth control shows one of their fills at a time.
  const hidden = new Set(['agenda_points', 'index_barrio', 'index_district']
    .flatMap((role) => styleLayersOfRole(config, role)));
  for (const layer of style.layers) {
    if (hidden.has(layer.id)) layer.layout = { ...layer.layout, visibility: 'none' };
  }
  // The choropleth lies right over the barrios' own fill: hexagons, when switched on, are drawn above it.
  const choropleth = new Set(Object.values(config.index_layers || {})
    .flatMap((info) => info.pillars.map((p) => p.style_layer)));
  const fills = style.layers.filter((l) => choropleth.has(l.id));
  style.layers = style.layers.filter((l) => !choropleth.has(l.id));
  const barrioFills = new Set(styleLayersOfRole(config, 'barrio_boundaries'));
  const barrioFill = style.layers.findIndex((l) => barrioFills.has(l.id) && l.type === 'fill');
  style.layers.splice(barrioFill < 0 ? 1 : barrioFill + 1, 0, ...fills);
  const lines = overlayLayers(source, config);
  const firstPoint = style.layers.findIndex((l) => l.type === 'circle' || l.type === 'symbol');
  style.layers.splice(firstPoint < 0 ? style.layers.length : firstPoint, 0, ...lines);
  style.layers.push(...selectedInstanceLayer(source, config));
  return style;
}
