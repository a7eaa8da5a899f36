// The public map page: boots the map from the monitor's own style and tiles, wires filters, layers, search,
// the instance card, the barrio profile and the agenda. `window.monitorMap` is the MapLibre map (for tests).

import * as maplibregl from '/map/vendor/maplibre-gl/maplibre-gl.mjs';

import { agendaElements, buildAgendaForm, renderAgenda } from './agenda.js';
import { showClusterCounts } from './clusters.js';
import { loadCard, renderCard } from './card.js';
import { $, fmtDecimal, getJSON, h } from './dom.js';
import { barrioProfile, closeDetail, showDetail, showError, showLoading } from './detail.js';
import { buildFilterForm, filterExpression, readFilters } from './filters.js';
import { renderLegend } from './legend.js';
import { setupSearch } from './search.js';
import { basemapLayerIds, needsPmtiles, prepareStyle, styleLayersOfRole } from './style.js';

const ROSARIO = { center: [-60.67, -32.955], zoom: 11.3, bounds: [[-61.05, -33.2], [-60.35, -32.7]] };
const SPANISH = {
  'NavigationControl.ZoomIn': 'Acercar', 'NavigationControl.ZoomOut': 'Alejar',
  'NavigationControl.ResetBearing': 'Restablecer orientación', 'ScaleControl.Meters': 'm',
  'ScaleControl.Kilometers': 'km', 'AttributionControl.ToggleAttribution': 'Mostrar atribución',
  'Map.Title': 'Mapa de la participación ciudadana en Rosario', 'Popup.Close': 'Cerrar',
};

const state = {
  config: null, map: null, kindColors: {}, instanceLayers: [], baseFilters: {}, clusterOpacity: {}, filters: null, archive: null,
  indexValues: {},
};

function kindColorsFrom(style, config) {
  // The legend and the filters use the very colours of the style's instance layer (one definition).
  const colors = { default: '#999999' };
  const points = new Set(styleLayersOfRole(config, 'registry_points'));
  for (const layer of style.layers.filter((l) => points.has(l.id))) {
    const paint = layer.paint?.['circle-color'];
    if (Array.isArray(paint) && paint[0] === 'match') {
      for (let i = 2; i < paint.length - 1; i += 2) colors[paint[i]] = paint[i + 1];
      colors.default = paint[paint.length - 1];
    }
  }
  return colors;
}

async function findArchive(config) {
  // The archive `monitor export pmtiles` wrote (monitor.pmtiles when there are several).
  if (!config.apis.archives) return null;
  const { archives } = await getJSON(config.apis.archives);
  return (archives.find((a) => a.name === 'monitor.pmtiles') || archives[0])?.href || null;
}

function pmtilesArchive(archive) {
  if (!archive || new URLSearchParams(window.location.search).get('fuente') !== 'pmtiles') return null;
  return archive;
}

let pmtilesProtocol = null;
function registerPmtiles() {
  // The `pmtiles://` protocol: for the monitor's archive (?fuente=pmtiles) and for a basemap archive.
  if (pmtilesProtocol) return;
  pmtilesProtocol = new window.pmtiles.Protocol();
  maplibregl.addProtocol('pmtiles', pmtilesProtocol.tile);
}

async function createMap(config) {
  const style = await getJSON(config.apis.style);
  state.kindColors = kindColorsFrom(style, config);
  state.archive = await findArchive(config);
  const pmtilesUrl = pmtilesArchive(state.archive);
  prepareStyle(style, config, { pmtilesUrl });
  if (needsPmtiles(style)) registerPmtiles();
  const map = new maplibregl.Map({
    container: 'map', style, center: ROSARIO.center, zoom: ROSARIO.zoom, maxBounds: ROSARIO.bounds,
    minZoom: 10, maxZoom: 18, locale: SPANISH, attributionControl: { compact: true }, dragRotate: false,
    cooperativeGestures: false, hash: false,
  });
  map.touchZoomRotate.disableRotation();
  // The attribution starts folded: on a phone the full text would cover the map.
  map.once('load', () => map.getContainer().querySelector('.maplibregl-ctrl-attrib')
    ?.classList.remove('maplibregl-compact-show'));
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  const boxes = config.barrios.map((b) => b.bbox);
  map.fitBounds([[Math.min(...boxes.map((b) => b[0])), Math.min(...boxes.map((b) => b[1]))],
    [Math.max(...boxes.map((b) => b[2])), Math.max(...boxes.map((b) => b[3]))]], { padding: 20, animate: false });
  window.monitorMap = map;
  window.monitorSource = pmtilesUrl ? 'pmtiles' : 'tiles';
  return new Promise((resolve) => map.once('load', () => resolve(map)));
}

// ---------------------------------------------------------------- filters on the rendered map

function applyFilters(filters) {
  state.filters = filters;
  const map = state.map;
  const mine = filterExpression(filters);
  // Grid clusters at low zoom carry only a count, no kind or theme: they stay, faded, while a filter is on.
  const isCluster = ['>', ['coalesce', ['get', 'point_count'], 1], 1];
  for (const id of state.instanceLayers) {
    const base = state.baseFilters[id];
    const combined = mine ? ['any', isCluster, mine] : null;
    const parts = [base, combined].filter(Boolean);
    map.setFilter(id, parts.length === 0 ? null : parts.length === 1 ? parts[0] : ['all', ...parts]);
    if (state.clusterOpacity[id] !== undefined) {
      map.setPaintProperty(id, 'circle-opacity', mine ? 0.3 : state.clusterOpacity[id]);
    }
  }
  $('#cluster-note').hidden = !(mine && map.getZoom() < state.config.cluster_below_zoom);
  document.body.dataset.filtering = mine ? 'true' : 'false';
}

// ---------------------------------------------------------------- thematic layers

function selectedUnit() {
  return $('input[name=choropleth-unit]:checked')?.value || 'barrio';
}

function selectedPillar() {
  // The field chosen, with the server's ramp (layers/ramps.py) that the style paints it with.
  const field = $('#choropleth-field').value;
  const info = state.config.index_layers[selectedUnit()];
  const pillar = (info?.pillars || []).find((p) => p.field === field);
  return pillar ? { ...pillar, ramp: state.config.ramps[field] } : null;
}

async function indexValues(unit) {
  // The values behind the colours, read once per unit from the index API (for the hover text).
  if (!state.indexValues[unit]) {
    const { url, key } = state.config.index_layers[unit].values;
    state.indexValues[unit] = (await getJSON(url))[key];
  }
  return state.indexValues[unit];
}

async function setChoropleth() {
  // The choropleth is the published style's own fill for the unit and field: switch it on, the others off.
  const map = state.map;
  const field = $('#choropleth-field').value;
  const unit = selectedUnit();
  const pillar = selectedPillar();
  if (pillar) await indexValues(unit);
  for (const [u, info] of Object.entries(state.config.index_layers)) {
    for (const p of info.pillars) {
      const visible = pillar !== null && u === unit && p.field === field;
      if (map.getLayer(p.style_layer)) map.setLayoutProperty(p.style_layer, 'visibility', visible ? 'visible' : 'none');
    }
  }
  updateLegend();
  document.body.dataset.choropleth = pillar ? `${unit}:${field}` : '';
}

async function setGaps(on) {
  const map = state.map;
  const list = $('#gaps-list');
  if (!on) {
    map.setLayoutProperty('web-gaps', 'visibility', 'none');
    list.hidden = true;
    updateLegend();
    return;
  }
  const data = await getJSON(`${state.config.apis.gaps}?limit=10`);
  const gaps = (data.gaps || data.barrios || data.features || data).slice(0, 10).map((g) => g.properties || g);
  const ids = gaps.map((g) => Number(g.barrio_id ?? g.id ?? g.mslink));
  map.setFilter('web-gaps', ['in', ['id'], ['literal', ids]]);
  map.setLayoutProperty('web-gaps', 'visibility', 'visible');
  list.replaceChildren(h('h3', {}, 'Barrios con más personas sin una instancia cerca'),
    h('ol', {}, gaps.map((g, i) => h('li', {}, h('button', { type: 'button', class: 'link',
      onclick: () => openBarrio(ids[i], { fit: true }) }, g.name || g.barrio),
    h('span', { class: 'muted' }, ` · ${new Intl.NumberFormat('es-AR').format(Math.round(g.uncovered_population))} personas`)))));
  list.hidden = false;
  updateLegend();
}

function setHexagons(on) {
  for (const id of styleLayersOfRole(state.config, 'hexagon_grid', state.map.getStyle())) {
    state.map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
  }
  updateLegend();
}

function updateLegend() {
  renderLegend($('#legend'), {
    config: state.config, kindColors: state.kindColors,
    choropleth: selectedPillar() ? {
      ...selectedPillar(), unit: state.config.index_layers[selectedUnit()].label,
    } : null,
    hexagons: $('#toggle-hexagons')?.checked ? state.config.hexagons?.ramp : null, gaps: $('#toggle-gaps')?.checked,
  });
}

// ---------------------------------------------------------------- card and profile

function selectInstance(id) {
  state.map.setFilter('web-instance-selected', ['==', ['id'], id === null ? -1 : Number(id)]);
}

function selectBarrio(id) {
  state.map.setFilter('web-barrio-selected', ['==', ['id'], id === null ? -1 : Number(id)]);
}

function clearSelection() {
  selectInstance(null);
  selectBarrio(null);
  if (window.location.hash) history.replaceState(null, '', window.location.pathname + window.location.search);
}

export async function openInstance(id, { fly = false } = {}) {
  showView('map');
  showLoading('Cargando la instancia…');
  let card;
  try {
    card = await loadCard(id);
  } catch (error) {
    showError('No se encontró la instancia.');
    return;
  }
  const i = card.instance;
  showDetail(renderCard(card, state.kindColors[i.kind] || state.kindColors.default), clearSelection);
  selectBarrio(null);
  selectInstance(i.id);
  history.replaceState(null, '', `#instancia=${i.id}`);
  if (fly && i.lon !== null) {
    state.map.flyTo({ center: [i.lon, i.lat], zoom: Math.max(state.map.getZoom(), 13.5), padding: detailPadding() });
  }
}

export async function openBarrio(id, { fit = false, bbox = null } = {}) {
  showView('map');
  showLoading('Cargando el barrio…');
  const barrio = state.config.barrios.find((b) => b.id === Number(id));
  if (!barrio) { showError('No se encontró el barrio.'); return; }
  try {
    showDetail(await barrioProfile(id, barrio, state.config, (instanceId) => openInstance(instanceId, { fly: true })),
      clearSelection);
  } catch (error) {
    showError('No se pudo cargar el perfil del barrio.');
    return;
  }
  selectInstance(null);
  selectBarrio(id);
  history.replaceState(null, '', `#barrio=${id}`);
  const box = bbox || barrio.bbox;
  if (fit && box) {
    const padding = { top: 40, bottom: 40, left: 40, right: 40, ...detailPadding() };
    state.map.fitBounds([[box[0], box[1]], [box[2], box[3]]], { padding, maxZoom: 15 });
  }
}

function detailPadding() {
  // Keep what was chosen in view beside the detail panel (desktop) or above the bottom sheet (phone).
  const panel = $('#detail').getBoundingClientRect();
  const phone = window.matchMedia('(max-width: 760px)').matches;
  return phone ? { bottom: Math.round(window.innerHeight * 0.6) } : { right: Math.round(panel.width || 400) + 24 };
}

function onMapClick(event) {
  const map = state.map;
  const { x, y } = event.point;
  const near = [[x - 6, y - 6], [x + 6, y + 6]];
  const points = map.queryRenderedFeatures(near, { layers: state.instanceLayers });
  const point = points[0];
  if (point) {
    if ((point.properties.point_count || 1) > 1) {
      map.easeTo({ center: event.lngLat, zoom: Math.min(map.getZoom() + 2, state.config.cluster_below_zoom) });
    } else {
      openInstance(point.id ?? point.properties.id);
    }
    return;
  }
  const barrioLayers = ['barrio_boundaries', 'index_barrio']
    .flatMap((role) => styleLayersOfRole(state.config, role, map.getStyle()))
    .filter((id) => map.getLayer(id)?.type === 'fill');
  const barrio = map.queryRenderedFeatures(event.point, { layers: barrioLayers })[0];
  if (barrio) openBarrio(barrio.properties.barrio_id ?? barrio.id);
}

function choroplethValueText(barrioId, districtCode) {
  // With the map coloured, the hover text also gives the value behind the colour (the index API's number).
  const pillar = selectedPillar();
  const unit = selectedUnit();
  const rows = pillar && state.indexValues[unit];
  if (!rows) return '';
  const key = state.config.index_layers[unit].values.id;
  const row = rows.find((r) => r[key] === (unit === 'barrio' ? barrioId : districtCode));
  if (!row) return '';
  const where = unit === 'barrio' ? '' : ` (distrito ${row.name})`;
  return ` · ${pillar.label}${where}: ${fmtDecimal(row[pillar.field], pillar.max === 1 ? 2 : 1)}`;
}

function hoverTooltip() {
  const map = state.map;
  const tip = new maplibregl.Popup({ closeButton: false, closeOnClick: false, className: 'hover-tip', offset: 10 });
  const barrios = styleLayersOfRole(state.config, 'barrio_boundaries', map.getStyle());
  const hoverable = () => [...state.instanceLayers, ...barrios].filter((id) => map.getLayer(id));
  map.on('mousemove', (event) => {
    const feature = map.queryRenderedFeatures(event.point, { layers: hoverable() })[0];
    map.getCanvas().style.cursor = feature ? 'pointer' : '';
    if (!feature) { tip.remove(); return; }
    const p = feature.properties;
    const text = p.point_count > 1 ? `${p.point_count} instancias: acercá para verlas`
      : p.kind_label ? `${p.name} · ${p.kind_label}${p.is_demo ? ' (demo)' : ''}`
        : `Barrio ${p.name}${choroplethValueText(feature.id, p.district)}`;
    tip.setLngLat(event.lngLat).setText(text).addTo(map);
  });
  map.getCanvas().addEventListener('mouseleave', () => tip.remove());
}

// ---------------------------------------------------------------- views, agenda, routing

function showView(view) {
  const agenda = view === 'agenda';
  $('#agenda-view').hidden = !agenda;
  $('#map-view').hidden = agenda;
  for (const button of document.querySelectorAll('[data-view]')) {
    button.setAttribute('aria-pressed', String(button.dataset.view === view));
  }
  if (agenda) {
    refreshAgenda();
    if (window.location.hash !== '#agenda') history.replaceState(null, '', '#agenda');
  } else if (state.map) {
    state.map.resize();
    if (window.location.hash === '#agenda') history.replaceState(null, '', window.location.pathname + window.location.search);
  }
}

let agendaLoaded = null;
function refreshAgenda() {
  const { form, list, summary, subscribe } = agendaElements();
  agendaLoaded = renderAgenda(form, list, summary, subscribe, (id) => openInstance(id, { fly: true }));
  return agendaLoaded;
}

function route() {
  const hash = window.location.hash.slice(1);
  const [key, value] = hash.split('=');
  if (key === 'instancia' && value) openInstance(value, { fly: true });
  else if (key === 'barrio' && value) openBarrio(value, { fit: true });
  else if (key === 'agenda') showView('agenda');
}

function setupPanelToggle() {
  const toggle = $('#panel-toggle');
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(open));
    document.body.classList.toggle('panel-open', open);
  });
}

function setupLayerControls(config) {
  const pillars = config.index_layers.barrio?.pillars || config.index_layers.district?.pillars || [];
  const field = $('#choropleth-field');
  field.replaceChildren(h('option', { value: '' }, 'Sin coloreado'),
    ...pillars.map((p) => h('option', { value: p.field }, p.label)));
  $('#layer-controls-index').hidden = pillars.length === 0;
  $('#index-missing').hidden = pillars.length > 0;
  field.addEventListener('change', setChoropleth);
  for (const radio of document.querySelectorAll('input[name=choropleth-unit]')) {
    radio.disabled = !config.index_layers[radio.value];
    radio.addEventListener('change', setChoropleth);
  }
  $('#hexagons-control').hidden = !config.hexagons;
  $('#toggle-hexagons').addEventListener('change', (e) => setHexagons(e.target.checked));
  $('#gaps-control').hidden = !config.apis.gaps;
  $('#toggle-gaps').addEventListener('change', (e) => setGaps(e.target.checked));
  const basemap = basemapLayerIds(state.map.getStyle());
  $('#basemap-control').hidden = basemap.length === 0;
  $('#toggle-basemap').addEventListener('change', (e) => setBasemap(basemap, e.target.checked));
}

function setBasemap(ids, on) {
  // Streets and names under the map (the published style's basemap layers), on by default.
  for (const id of ids) state.map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
  document.body.dataset.basemap = on ? 'on' : 'off';
}

function renderSources(config) {
  const c = config.counts;
  $('#demo-count').textContent = `${c.demo_instances} de ${c.instances}`;
  const links = [
    ['API de entidades (OGC API – Features)', config.apis.features],
    // Whole layers, not a page of them (api/downloads.py): every collection in four formats, and all in one ZIP.
    ['Descargas: cada capa en GeoJSON, CSV, GeoPackage y FlatGeobuf', '/datos'],
    ['Instancias en GeoJSON (todas)', '/datos/instances.geojson'],
    ['Todos los datos en un ZIP (con diccionario y licencia)', '/datos/monitor.zip'],
    ['Catálogo para portales de datos (data.json)', '/data.json'],
    ['Teselas vectoriales (TileJSON)', config.apis.tilejson],
    ['Estilo del mapa (MapLibre)', config.apis.style],
    ['Archivo PMTiles (para alojamiento estático)', state.archive],
    ['Agenda completa (iCalendar)', '/agenda.ics'],
    ['Documentación de la API', '/api.html'],
  ].filter(([, href]) => href);
  $('#open-data-links').replaceChildren(...links.map(([text, href]) => h('li', {}, h('a', { href }, text))));
  $('#sources-list').replaceChildren(...config.datasets.map((d) => h('li', {}, h('strong', {}, d.name),
    d.note ? `: ${d.note}` : '', h('span', { class: 'muted' }, ` (${d.features} registros)`))));
  const switcher = $('#source-switch');
  if (state.archive) {
    const usingPm = window.monitorSource === 'pmtiles';
    switcher.replaceChildren(h('a', { href: usingPm ? window.location.pathname : '?fuente=pmtiles' },
      usingPm ? 'Usar las teselas del servidor' : 'Usar el archivo PMTiles'));
  }
}

async function boot() {
  const config = await getJSON('/map/config.json');
  state.config = config;
  if (!config.apis.style) throw new Error('el estilo del mapa (/styles/monitor.json) no está disponible');
  state.map = await createMap(config);
  const map = state.map;
  state.instanceLayers = styleLayersOfRole(config, 'registry_points', map.getStyle());
  for (const id of state.instanceLayers) {
    state.baseFilters[id] = map.getFilter(id) || null;
    const layer = map.getStyle().layers.find((l) => l.id === id);
    if (layer.metadata?.['monitor:role'] === 'clusters') state.clusterOpacity[id] = layer.paint?.['circle-opacity'] ?? 1;
  }
  buildFilterForm($('#filters'), config, state.kindColors, applyFilters);
  state.filters = readFilters($('#filters'));
  setupLayerControls(config);
  setupSearch($('#search'), $('#search-results'), (result) => (result.type === 'barrio'
    ? openBarrio(result.id, { fit: true, bbox: result.bbox }) : openInstance(result.id, { fly: true })));
  map.on('click', onMapClick);
  map.on('zoomend', () => applyFilters(state.filters));
  hoverTooltip();
  showClusterCounts(map, maplibregl, Object.keys(state.clusterOpacity));
  buildAgendaForm($('#agenda-filters'), config, refreshAgenda);
  for (const button of document.querySelectorAll('[data-view]')) {
    button.addEventListener('click', () => showView(button.dataset.view));
  }
  renderSources(config);
  updateLegend();
  window.addEventListener('hashchange', route);
  route();
  await new Promise((resolve) => (map.loaded() ? resolve() : map.once('idle', resolve)));
  document.body.dataset.ready = 'true';
}

setupPanelToggle();
window.monitorReady = boot().catch((error) => {
  $('#map-status').hidden = false;
  $('#map-status').textContent = `No se pudo cargar el mapa: ${error.message}`;
  document.body.dataset.ready = 'error';
});
window.monitorApp = { openInstance, openBarrio, closeDetail, agenda: () => agendaLoaded };
