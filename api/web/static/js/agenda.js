// The agenda view: upcoming activities from /agenda, grouped by day, filterable, with iCalendar subscriptions.

import { $, demoBadge, fmtDay, fmtTime, getJSON, h, webcal } from './dom.js';

const FILTERS = ['barrio', 'district', 'kind'];

export function buildAgendaForm(form, config, onChange) {
  const select = (name, label, all, options) => h('label', { class: 'field' }, h('span', {}, label),
    h('select', { name, 'aria-label': `Agenda: ${label.toLowerCase()}` }, h('option', { value: '' }, all),
      options.map(([value, text]) => h('option', { value }, text))));
  form.replaceChildren(
    select('barrio', 'Barrio', 'Todos los barrios',
      config.barrios.map((b) => [b.id, `${b.name} (${b.district.toLowerCase()})`])),
    select('district', 'Distrito', 'Todos los distritos', config.districts.map((d) => [d.code, d.name])),
    select('kind', 'Tipo', 'Todos los tipos', config.kinds.map((k) => [k.code, k.label])),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'demo', checked: true }),
      ' Incluir datos de demostración'));
  form.addEventListener('change', () => onChange());
  form.addEventListener('submit', (event) => event.preventDefault());
}

export function agendaQuery(form) {
  const data = new FormData(form);
  const params = new URLSearchParams();
  for (const key of FILTERS) if (data.get(key)) params.set(key, data.get(key));
  if (data.get('demo') !== 'on') params.set('demo', 'false');
  return params;
}

function subscribeLinks(params) {
  const query = params.toString();
  const feed = new URL(`/agenda.ics${query ? `?${query}` : ''}`, window.location.href).href;
  const links = [h('a', { href: webcal(feed), class: 'button' }, 'Suscribirse a esta agenda'),
    h('a', { href: feed, download: 'agenda.ics' }, 'Descargar .ics')];
  if (params.get('barrio')) {
    const barrioFeed = new URL(`/barrios/${params.get('barrio')}/agenda.ics`, window.location.href).href;
    links.push(h('a', { href: webcal(barrioFeed) }, 'Agenda de este barrio (iCalendar)'));
  }
  return links;
}

function activityItem(a, openInstance) {
  return h('li', { class: `agenda-item${a.status === 'cancelled' ? ' cancelled' : ''}`, dataset: { activityId: a.id } },
    h('time', { datetime: a.starts_at, class: 'agenda-time' }, fmtTime(a.starts_at)),
    h('div', { class: 'agenda-body' },
      h('p', { class: 'agenda-title' }, a.title, ' ', a.status === 'cancelled' ? h('span', { class: 'badge' }, 'Cancelada') : null,
        demoBadge(a.is_demo)),
      h('p', {}, h('button', { type: 'button', class: 'link', onclick: () => openInstance(a.instance_id) },
        a.instance_name), h('span', { class: 'muted' }, ` · ${a.kind_label}`)),
      h('p', { class: 'muted' }, [a.venue_address || (a.online_url ? 'En línea' : null), a.barrio]
        .filter(Boolean).join(' · '))));
}

export async function renderAgenda(form, list, summary, subscribe, openInstance) {
  const params = agendaQuery(form);
  params.set('limit', '60');
  list.setAttribute('aria-busy', 'true');
  const data = await getJSON(`/agenda?${params}`);
  params.delete('limit');
  subscribe.replaceChildren(...subscribeLinks(params));
  const days = new Map();
  for (const a of data.activities) {
    const day = fmtDay(a.starts_at);
    if (!days.has(day)) days.set(day, []);
    days.get(day).push(a);
  }
  list.replaceChildren(...[...days].map(([day, items]) => h('li', { class: 'agenda-day' },
    h('h3', {}, day), h('ul', {}, items.map((a) => activityItem(a, openInstance))))));
  summary.textContent = data.count
    ? `${data.count === 60 ? 'Las próximas 60' : data.count} actividades${data.count === 60 ? '' : ' próximas'}.`
    : 'No hay actividades próximas con estos filtros.';
  list.setAttribute('aria-busy', 'false');
  return data;
}

export const agendaElements = () => ({
  form: $('#agenda-filters'), list: $('#agenda-list'), summary: $('#agenda-summary'), subscribe: $('#agenda-subscribe'),
});
