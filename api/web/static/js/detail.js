// The side panel that shows an instance card or a barrio profile: focus moves in, Escape closes it.

import { $, demoBadge, fmtDateTime, fmtDecimal, fmtInteger, fmtNumber, getJSON, h, webcal } from './dom.js';

let returnFocus = null;

export function showDetail(content, onClose) {
  const panel = $('#detail');
  const body = $('#detail-body');
  if (panel.hidden) returnFocus = document.activeElement;
  body.replaceChildren(content);
  panel.hidden = false;
  panel.scrollTop = 0;
  body.scrollTop = 0;
  $('#detail-close').onclick = () => closeDetail(onClose);
  panel.onkeydown = (event) => { if (event.key === 'Escape') closeDetail(onClose); };
  const title = $('#detail-title', body);
  if (title) title.focus({ preventScroll: true });
}

export function closeDetail(onClose) {
  const panel = $('#detail');
  if (panel.hidden) return;
  panel.hidden = true;
  $('#detail-body').replaceChildren();
  if (onClose) onClose();
  if (returnFocus && document.contains(returnFocus)) returnFocus.focus({ preventScroll: true });
}

export function showLoading(text) {
  showDetail(h('p', { class: 'loading', role: 'status' }, text));
}

export function showError(text) {
  showDetail(h('div', {}, h('h2', { id: 'detail-title', tabindex: '-1' }, 'No disponible'), h('p', {}, text)));
}

// ---------------------------------------------------------------- barrio profile

const PILLARS = [
  ['accessibility', 'Accesibilidad'], ['quality', 'Calidad'], ['diversity', 'Diversidad'], ['satisfaction', 'Satisfacción'],
];
const SATISFACTION_SOURCE = {
  residents: 'respuestas de residentes', offer: 'respuestas sobre su oferta', district: 'imputada del distrito',
  city: 'imputada de la ciudad', missing: 'sin dato',
};

// Values exactly as the API gives them (pillars 0–1, composite 0–100); the number itself rides in data-value.
const valueSpan = (cls, value, text) => h('span', { class: cls, dataset: { value: value ?? '' } }, text);

function pillarRow(field, label, value, max) {
  const width = typeof value === 'number' ? Math.max(0, Math.min(100, (value / max) * 100)) : 0;
  return h('div', { class: `pillar${field === 'composite' ? ' composite' : ''}`, dataset: { field } },
    h('span', { class: 'pillar-label' }, label),
    h('span', { class: 'pillar-bar', 'aria-hidden': 'true' }, h('span', { style: `width:${width}%` })),
    valueSpan('pillar-value', value, fmtDecimal(value, max === 1 ? 2 : 1)));
}

function indexSection(index) {
  const r = index.rank_interval;
  const s = index.satisfaction;
  return h('section', { class: 'card-section index' }, h('h3', {}, 'Índice de participación'),
    h('div', { class: 'pillars' }, pillarRow('composite', 'Índice (0–100)', index.composite, 100),
      PILLARS.map(([field, label]) => pillarRow(field, `${label} (0–1)`, index.pillars[field], 1))),
    h('p', { class: 'rank', dataset: { rank: index.rank, of: index.of, median: r.median, p05: r.p05, p95: r.p95 } },
      'Posición ', h('strong', {}, `${index.rank}ª de ${index.of}`), ` (mediana ${fmtNumber(r.median)}; `,
      `intervalo 5–95 %: ${fmtNumber(r.p05)} a ${fmtNumber(r.p95)})`),
    h('p', { class: 'muted' }, `Satisfacción: ${SATISFACTION_SOURCE[s.source] || s.source}`,
      s.responses ? ` (${s.responses} respuestas)` : '', s.imputed ? '. Valor imputado.' : '.'));
}

function offerSection(index, openInstance) {
  const offer = index.offer;
  const shown = offer.slice(0, 30);
  return h('section', { class: 'card-section' }, h('h3', {}, `Oferta de participación (${offer.length})`),
    offer.length ? h('ul', { class: 'offer' }, shown.map((o) => h('li', { dataset: { instanceId: o.instance_id } },
      h('button', { type: 'button', class: 'link', onclick: () => openInstance(o.instance_id) }, o.name),
      h('span', { class: 'muted' }, ` · ${o.kind_label}`,
        o.by_proximity && o.distance_m !== null ? ` · a ${fmtInteger(o.distance_m)} m` : ' · por alcance'),
      demoBadge(o.is_demo))))
      : h('p', { class: 'muted' }, 'Ninguna instancia alcanza a este barrio.'),
    offer.length > shown.length ? h('p', { class: 'muted' }, `y ${offer.length - shown.length} más.`) : null);
}

function agendaSection(id, agenda, openInstance) {
  const ics = new URL(`/barrios/${id}/agenda.ics`, window.location.href).href;
  return h('section', { class: 'card-section' }, h('h3', {}, 'Próximas actividades en el barrio'),
    agenda.activities.length ? h('ul', { class: 'activity-list' }, agenda.activities.map((a) => h('li', {},
      h('time', { datetime: a.starts_at }, fmtDateTime(a.starts_at)), ' — ',
      h('button', { type: 'button', class: 'link', onclick: () => openInstance(a.instance_id) }, a.title),
      h('span', { class: 'muted' }, ` · ${a.instance_name}`), demoBadge(a.is_demo))))
      : h('p', { class: 'muted' }, 'No hay actividades programadas.'),
    h('p', { class: 'subscribe' }, h('a', { href: webcal(ics) }, 'Suscribirse a la agenda del barrio'), ' · ',
      h('a', { href: ics, download: '' }, 'descargar .ics')));
}

// Follow-through of the barrio's offer, as the index computes it (offer_summary.follow_through: the mean, over the
// instances that reach the barrio and have commitments whose due date has come, of the share substantial or
// complete), and the tracker's page for the commitments made in the barrio.
function commitmentsSection(id, index) {
  const value = index ? index.offer_summary.follow_through : null;
  return h('section', { class: 'card-section commitments-summary' }, h('h3', {}, 'Compromisos del gobierno'),
    index ? h('p', { class: 'follow-through', dataset: { value: value ?? '' } },
      value === null || value === undefined
        ? 'Ninguna instancia de su oferta tiene compromisos con el plazo cumplido.'
        : ['Cumplimiento de compromisos en su oferta: ', h('strong', {}, `${Math.round(value * 100)}\u00a0%`),
          ' (promedio, entre las instancias que alcanzan al barrio, de la parte de sus compromisos con el plazo',
          ' cumplido que tienen un avance sustancial o están cumplidos).'])
      : null,
    h('p', {}, h('a', { href: `/compromisos?barrio=${encodeURIComponent(id)}`, class: 'promise-link' },
      'Ver los compromisos del barrio')));
}

async function fetchIndex(id, config) {
  // The index may not be computed yet (404 with Retry-After): the profile then shows what it has.
  if (!config.apis.index_barrio) return null;
  const response = await fetch(`/index/barrios/${encodeURIComponent(id)}`, { headers: { Accept: 'application/json' } });
  return response.ok ? response.json() : null;
}

export async function barrioProfile(id, barrio, config, openInstance) {
  const [index, agenda] = await Promise.all([
    fetchIndex(id, config), getJSON(`/agenda?barrio=${encodeURIComponent(id)}&limit=5`),
  ]);
  const population = index ? index.population : barrio.population;
  return h('article', { class: 'profile', dataset: { barrioId: id } },
    h('p', { class: 'eyebrow' }, `Barrio · ${barrio.district_name}`),
    h('h2', { id: 'detail-title', tabindex: '-1' }, index ? index.name : barrio.name),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Población estimada'), h('dd', {}, valueSpan('population', population, fmtInteger(population))),
      index ? [
        h('dt', {}, 'Sin instancia presencial cerca'),
        h('dd', {}, valueSpan('uncovered', index.uncovered_population,
          `${fmtInteger(index.uncovered_population)} personas`)),
        h('dt', {}, 'Distancia media a la más cercana'),
        h('dd', {}, valueSpan('nearest', index.mean_nearest_m,
          index.mean_nearest_m === null ? '—' : `${fmtInteger(index.mean_nearest_m)} m`)),
      ] : null),
    index ? indexSection(index) : h('p', { class: 'muted' }, 'El índice todavía no está calculado.'),
    index ? offerSection(index, openInstance) : null,
    commitmentsSection(id, index),
    agendaSection(id, agenda, openInstance));
}
