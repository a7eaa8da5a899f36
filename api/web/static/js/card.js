// The instance card: what it is, what is decided, how to take part, next activities, contact, standards met,
// commitments with their status and follow-through, and satisfaction (the API sends it only with at least 5 answers).

import { demoBadge, fmtDate, fmtDateTime, fmtNumber, getJSON, h, webcal } from './dom.js';

const section = (title, ...content) => h('section', { class: 'card-section' }, h('h3', {}, title), ...content);
const para = (text) => (text ? h('p', {}, text) : null);
const link = (href, text) => h('a', { href, target: '_blank', rel: 'noopener' }, text);

export async function loadCard(id) {
  return getJSON(`/instances/${encodeURIComponent(id)}/card`);
}

function participation(i) {
  const rows = [
    ['Modalidad', i.modality_label],
    ['Alcance', [i.scope_label, i.scope_note].filter(Boolean).join(' · ')],
    ['Horario', i.schedule],
    ['Frecuencia', i.frequency_label],
    ['Dirección', i.venue_address],
    ['Barrio', i.barrio],
  ].filter(([, value]) => value);
  return section('Cómo participar', para(i.how_to_participate), para(i.how_it_works),
    h('dl', { class: 'facts' }, rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    i.online_url ? h('p', {}, link(i.online_url, 'Participar en línea')) : null);
}

function activities(card) {
  const items = card.next_activities.map((a) => h('li', { class: a.status === 'cancelled' ? 'cancelled' : null },
    h('time', { datetime: a.starts_at }, fmtDateTime(a.starts_at)), ' — ', a.title,
    a.status === 'cancelled' ? h('span', { class: 'badge' }, 'Cancelada') : null, demoBadge(a.is_demo)));
  return section('Próximas actividades',
    items.length ? h('ul', { class: 'activity-list' }, items) : h('p', { class: 'muted' }, 'No hay actividades programadas.'),
    h('p', { class: 'subscribe' }, h('a', { href: webcal(card.links.agenda_ics) }, 'Suscribirse a su agenda'), ' · ',
      h('a', { href: card.links.agenda_ics, download: '' }, 'descargar .ics')));
}

function standards(card) {
  return section(`Estándares mínimos: ${card.standards_met} de ${card.standards_total}`,
    h('ul', { class: 'standards' }, card.standards.map((s) => h('li', { class: s.met ? 'met' : 'unmet' },
      h('span', { class: 'mark', 'aria-hidden': 'true' }, s.met ? '✓' : '✗'),
      h('span', { class: 'visually-hidden' }, s.met ? 'Cumple: ' : 'No cumple: '), s.label))));
}

const percent = (share) => `${Math.round(share * 100)}\u00a0%`;

// Follow-through as the index defines it: of the commitments whose due date has come, the share that are
// substantial or complete (the API computes it: card.follow_through).
function followThrough(card) {
  const f = card.follow_through;
  if (!f || !f.due) {
    return h('p', { class: 'follow-through muted', dataset: { due: 0 } }, 'Ningún compromiso tiene todavía el plazo cumplido.');
  }
  return h('p', { class: 'follow-through', dataset: { due: f.due, fulfilled: f.fulfilled, share: f.share } },
    'Cumplimiento: ', h('strong', {}, percent(f.share)),
    ` (${f.fulfilled} de ${f.due} compromisos con el plazo cumplido tienen un avance sustancial o están cumplidos)`);
}

function commitments(card) {
  if (!card.commitments.length) return section('Compromisos', h('p', { class: 'muted' }, 'Sin compromisos registrados.'));
  return section('Compromisos', followThrough(card),
    h('ul', { class: 'promise-list' }, card.commitments.map((c) => h('li', { dataset: { status: c.status } },
      h('span', { class: `status status-${c.status}` }, c.status_label), ' ', c.description,
      c.due_date ? h('span', { class: 'muted' }, ` (plazo: ${fmtDate(c.due_date)})`) : null,
      c.overdue ? [' ', h('span', { class: 'badge overdue' }, 'Vencido')] : null, demoBadge(c.is_demo)))),
    h('p', {}, h('a', { href: card.links.commitments, class: 'promise-link' }, 'Ver el seguimiento de estos compromisos')));
}

function satisfaction(card) {
  const s = card.satisfaction;
  return section('Satisfacción', s
    ? h('p', {}, h('strong', {}, `${fmtNumber(s.mean_score)} / 5`), ` según ${s.responses} respuestas`)
    : h('p', { class: 'muted' }, 'Se publica con al menos 5 respuestas (privacidad).'));
}

function contact(card) {
  const i = card.instance;
  const organizations = card.organizations.map((o) => o.name);
  return section('Contacto',
    para(i.contact),
    i.organization || organizations.length ? para(`Organiza: ${[i.organization, ...organizations]
      .filter((v, k, all) => v && all.indexOf(v) === k).join(', ')}`) : null,
    h('p', { class: 'muted' }, `Fuente: ${i.source}`, i.source_url ? [' · ', link(i.source_url, 'ver fuente')] : null),
    h('p', { class: 'muted' }, link(card.links.feature, 'Este registro en datos abiertos (GeoJSON)')));
}

export function renderCard(card, kindColor) {
  const i = card.instance;
  return h('article', { class: 'card', 'aria-labelledby': 'detail-title', dataset: { instanceId: i.id } },
    h('p', { class: 'eyebrow' }, h('span', { class: 'swatch point', style: `background:${kindColor}`, 'aria-hidden': 'true' }),
      i.kind_label, ' · ', i.promoter_label, ' · ', i.status_label),
    h('h2', { id: 'detail-title', tabindex: '-1' }, i.name, ' ', demoBadge(i.is_demo)),
    i.is_demo ? h('p', { class: 'demo-note' }, 'Registro de demostración: no describe una instancia real.') : null,
    i.theme_labels.length ? h('ul', { class: 'tags', 'aria-label': 'Temas' }, i.theme_labels.map((t) => h('li', {}, t))) : null,
    section('Qué es', para(i.description) || h('p', { class: 'muted' }, 'Sin descripción.')),
    section('Qué se decide', para(i.decides) || h('p', { class: 'muted' }, 'No informado.')),
    participation(i), activities(card), standards(card), commitments(card), satisfaction(card), contact(card));
}
