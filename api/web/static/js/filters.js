// The filter form → one MapLibre filter expression, applied to every layer drawn from the instances tiles.

import { h } from './dom.js';

const SELECTS = [
  { name: 'theme', label: 'Tema', all: 'Todos' },
  { name: 'modality', label: 'Modalidad', all: 'Todas' },
  { name: 'promoter', label: 'Promotor', all: 'Todos' },
  { name: 'status', label: 'Estado', all: 'Todos' },
];

export function buildFilterForm(form, config, kindColors, onChange) {
  const kinds = config.kinds.map((kind) => h('label', { class: 'kind-option' },
    h('input', { type: 'checkbox', name: 'kind', value: kind.code, checked: true }),
    h('span', { class: 'swatch point', style: `background:${kindColors[kind.code] || kindColors.default}`,
      'aria-hidden': 'true' }),
    h('span', {}, kind.label)));
  const options = {
    theme: config.themes.map((t) => [t.code, t.label]),
    modality: Object.entries(config.labels.modality),
    promoter: Object.entries(config.labels.promoter),
    status: Object.entries(config.labels.status),
  };
  const selects = SELECTS.map(({ name, label, all }) => h('label', { class: 'field' }, h('span', {}, label),
    h('select', { name, 'aria-label': `Filtrar por ${label.toLowerCase()}` },
      h('option', { value: '' }, all), options[name].map(([code, text]) => h('option', { value: code }, text)))));
  form.replaceChildren(
    h('fieldset', { class: 'kinds' }, h('legend', {}, 'Tipo de instancia'),
      h('div', { class: 'kind-actions' },
        h('button', { type: 'button', class: 'link', onclick: () => setAllKinds(form, true) }, 'Todos'),
        h('button', { type: 'button', class: 'link', onclick: () => setAllKinds(form, false) }, 'Ninguno')),
      kinds),
    h('div', { class: 'selects' }, selects),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'demo', checked: true }),
      ' Incluir datos de demostración'),
    h('p', { class: 'filter-count', id: 'filter-count', 'aria-live': 'polite' }),
  );
  form.addEventListener('change', () => onChange(readFilters(form)));
  form.addEventListener('submit', (event) => event.preventDefault());
}

function setAllKinds(form, checked) {
  for (const box of form.querySelectorAll('input[name=kind]')) box.checked = checked;
  form.dispatchEvent(new Event('change'));
}

export function readFilters(form) {
  const data = new FormData(form);
  return {
    kinds: data.getAll('kind'),
    allKinds: data.getAll('kind').length === form.querySelectorAll('input[name=kind]').length,
    theme: data.get('theme') || null,
    modality: data.get('modality') || null,
    promoter: data.get('promoter') || null,
    status: data.get('status') || null,
    demo: data.get('demo') === 'on',
  };
}

export function filterExpression(filters) {
  const conditions = [];
  if (!filters.allKinds) conditions.push(['in', ['get', 'kind'], ['literal', filters.kinds]]);
  // Themes travel in tiles as a list of codes joined into one string: a code is never part of another code.
  if (filters.theme) conditions.push(['in', filters.theme, ['to-string', ['get', 'themes']]]);
  for (const key of ['modality', 'promoter', 'status']) {
    if (filters[key]) conditions.push(['==', ['get', key], filters[key]]);
  }
  if (!filters.demo) conditions.push(['!=', ['get', 'is_demo'], true]);
  return conditions.length ? ['all', ...conditions] : null;
}
