// The side panel that shows an instance card or a barrio profile: focus moves in, Escape closes it.

import { $, demoBadge, fmtDateTime, fmtInteger, fmtNumber, getJSON, h, webcal } from './dom.js';

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

const PILLAR_ORDER = ['composite', 'accessibility', 'coverage', 'quality', 'diversity', 'satisfaction'];

export function pillarRows(profile, pillars) {
  // The API's own values, shown with one decimal; the exact number rides along in data-value.
  return pillars.filter((p) => p.field in profile).sort((a, b) => PILLAR_ORDER.indexOf(a.field) - PILLAR_ORDER.indexOf(b.field))
    .map((p) => {
      const value = profile[p.field];
      const width = typeof value === 'number' ? Math.max(0, Math.min(100, value)) : 0;
      return h('div', { class: `pillar${p.field === 'composite' ? ' composite' : ''}`, dataset: { field: p.field } },
        h('span', { class: 'pillar-label' }, p.label),
        h('span', { class: 'pillar-bar', 'aria-hidden': 'true' }, h('span', { style: `width:${width}%` })),
        h('span', { class: 'pillar-value', dataset: { value: value ?? '' } }, fmtNumber(value)));
    });
}

function offerList(profile, openInstance) {
  const offer = profile.offer || profile.instances;
  if (!Array.isArray(offer)) return null;
  return h('section', { class: 'card-section' }, h('h3', {}, `Oferta de participación (${offer.length})`),
    offer.length ? h('ul', { class: 'offer' }, offer.slice(0, 25).map((o) => h('li', {},
      h('button', { type: 'button', class: 'link', onclick: () => openInstance(o.id) }, o.name),
      o.kind_label ? h('span', { class: 'muted' }, ` · ${o.kind_label}`) : null, demoBadge(o.is_demo))))
      : h('p', { class: 'muted' }, 'Ninguna instancia alcanza este barrio.'),
    offer.length > 25 ? h('p', { class: 'muted' }, `y ${offer.length - 25} más.`) : null);
}

export async function barrioProfile(id, barrio, config, openInstance) {
  const indexUrl = config.apis.index_barrio ? `/index/barrios/${encodeURIComponent(id)}` : null;
  const [index, agenda] = await Promise.all([
    indexUrl ? getJSON(indexUrl) : Promise.resolve(null),
    getJSON(`/agenda?barrio=${encodeURIComponent(id)}&limit=5`),
  ]);
  const profile = index ? (index.properties || index) : {};
  const name = profile.name || barrio.name;
  const pillars = config.index_layers.barrio?.pillars || [];
  const ics = new URL(`/barrios/${id}/agenda.ics`, window.location.href).href;
  return h('article', { class: 'profile', dataset: { barrioId: id } },
    h('p', { class: 'eyebrow' }, 'Barrio · ', barrio.district_name || profile.district_name || barrio.district || ''),
    h('h2', { id: 'detail-title', tabindex: '-1' }, name),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Población estimada'), h('dd', {}, fmtInteger(profile.population ?? barrio.population)),
      h('dt', {}, 'Sin instancia a distancia caminable'),
      h('dd', { class: 'uncovered', dataset: { value: profile.uncovered_population ?? '' } },
        index ? `${fmtInteger(profile.uncovered_population)} personas` : '—'),
      index ? [h('dt', {}, 'Posición en el índice'), h('dd', { class: 'rank', dataset: {
        median: profile.rank_median, p05: profile.rank_p05, p95: profile.rank_p95 } },
      `${fmtNumber(profile.rank_median)}º (intervalo 5–95 %: ${fmtNumber(profile.rank_p05)}º a ${fmtNumber(profile.rank_p95)}º)`)]
        : null),
    index ? h('section', { class: 'card-section' }, h('h3', {}, 'Índice de participación (0 a 100)'),
      h('div', { class: 'pillars' }, pillarRows(profile, pillars)),
      profile.satisfaction_imputed ? h('p', { class: 'muted' }, 'Satisfacción imputada con la media del distrito.') : null)
      : h('p', { class: 'muted' }, 'El índice todavía no está calculado.'),
    offerList(profile, openInstance),
    h('section', { class: 'card-section' }, h('h3', {}, 'Próximas actividades en el barrio'),
      agenda.activities.length ? h('ul', { class: 'activity-list' }, agenda.activities.map((a) => h('li', {},
        h('time', { datetime: a.starts_at }, fmtDateTime(a.starts_at)), ' — ',
        h('button', { type: 'button', class: 'link', onclick: () => openInstance(a.instance_id) }, a.title),
        h('span', { class: 'muted' }, ` · ${a.instance_name}`), demoBadge(a.is_demo))))
        : h('p', { class: 'muted' }, 'No hay actividades programadas.'),
      h('p', { class: 'subscribe' }, h('a', { href: webcal(ics) }, 'Suscribirse a la agenda del barrio'), ' · ',
        h('a', { href: ics, download: '' }, 'descargar .ics'))));
}
