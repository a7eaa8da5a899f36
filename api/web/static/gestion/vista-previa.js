// The live preview of an instance's card: the public map's own card (card.js), drawn from the form's values as the
// map would show them once the instance is approved. Only the parts a proposal fills are kept (what it is, what is
// decided, how to take part, contact); agenda, standards and commitments come later.

import { renderCard } from '/map/static/js/card.js';
import { h } from '/map/static/js/dom.js';
import { kindColors } from './lugar.js';

const KEEP = new Set(['Qué es', 'Qué se decide', 'Cómo participar', 'Contacto']);

function label(options, value) {
  return (options || []).find((o) => String(o.value) === String(value))?.label || null;
}

export function previewCard(values, fieldsByName, options) {
  const choices = (name) => fieldsByName[name]?.options || options[fieldsByName[name]?.source] || [];
  const themes = (values.themes || []).map((code) => label(choices('themes'), code)).filter(Boolean);
  const scopeBarrio = label(options.barrios, values.scope_barrio_id);
  const instance = {
    id: 0, name: values.name || 'Nombre de la instancia', description: values.description || '',
    kind_label: label(choices('kind'), values.kind) || 'Tipo sin elegir',
    promoter_label: label(choices('promoter'), values.promoter) || '—',
    status_label: label(choices('status'), values.status) || '—',
    theme_labels: themes, decides: values.decides, how_it_works: values.how_it_works,
    how_to_participate: values.how_to_participate, modality_label: label(choices('modality'), values.modality),
    scope_label: label(choices('scope'), values.scope), scope_note: [scopeBarrio, values.scope_note].filter(Boolean).join(' · '),
    schedule: values.schedule, frequency_label: label(choices('frequency'), values.frequency),
    venue_address: values.venue_address, barrio: null, online_url: values.online_url, contact: values.public_contact ?? values.contact,
    organization: label(options.organizations, values.organization_id) || document.body.dataset.organizationName || null,
    source: values.source || '—', source_url: values.source_url, is_demo: Boolean(values.is_demo),
  };
  const card = {
    instance, organizations: [], next_activities: [], standards: [], standards_met: 0, standards_total: 0,
    commitments: [], follow_through: null, satisfaction: null,
    links: { agenda_ics: '#', feature: '#', map: '#', commitments: '#' },
  };
  const element = renderCard(card, kindColors[values.kind] || kindColors.default);
  element.removeAttribute('aria-labelledby');
  element.querySelector('#detail-title')?.setAttribute('id', 'vista-previa-nombre');
  for (const section of element.querySelectorAll('.card-section')) {
    if (!KEEP.has(section.querySelector('h3')?.textContent)) section.remove();
  }
  for (const link of element.querySelectorAll('a[href="#"]')) link.closest('p')?.remove();
  const access = (values.accessibility || []).map((code) => label(choices('accessibility'), code)).filter(Boolean);
  if (access.length) {
    element.append(h('section', { class: 'card-section' }, h('h3', {}, 'Accesibilidad'),
      h('ul', { class: 'tags' }, access.map((text) => h('li', {}, text)))));
  }
  return element;
}
