// One form for every editable collection, drawn from the fields the server reads off the registry's model
// (GET /gestion/api/formularios/{collection}). It checks nothing itself: it sends the record to the feature API
// (POST, or PATCH with If-Match) and shows the API's refusal in Spanish beside the field it names. A 412 (someone
// saved the record meanwhile) ends in "Alguien cambió este registro" with both versions side by side.

import { fmtDate, getJSON, h } from '/map/static/js/dom.js';
import { call, feature, get } from './api.js';
import { problemsOf, translate } from './mensajes.js';
import { placePicker } from './lugar.js';
import { previewCard } from './vista-previa.js';

const ID_SOURCES = new Set(['barrios', 'organizations', 'instance', 'activities', 'experiences']);
const CONFIG_SOURCES = { kinds: 'kinds', themes: 'themes', barrios: 'barrios', districts: 'districts', criteria: 'criteria' };
const MODERATION = { pending: 'Pendiente de revisión', approved: 'Aprobada y publicada', rejected: 'Rechazada' };
const ALIASES = { geometry: 'venue', lon: 'venue', lat: 'venue', scope_district: 'scope_district_code' };
const EMPTY = '—';

// ---------------------------------------------------------------- choices

async function loadOptions(spec, instanceId) {
  const sources = new Set(spec.fields.flatMap((f) => [f.source, ...(f.parts || []).map((p) => p.source)]).filter(Boolean));
  const options = {};
  if ([...sources].some((s) => CONFIG_SOURCES[s]) || spec.collection === 'instances') {
    const config = await getJSON('/map/config.json');
    options.kinds = config.kinds.map((k) => ({ value: k.code, label: k.label }));
    options.themes = config.themes.map((t) => ({ value: t.code, label: t.label }));
    options.barrios = config.barrios.map((b) => ({ value: b.id, label: b.name }));
    options.barrioBoxes = config.barrios;
    options.districts = config.districts.map((d) => ({ value: d.code, label: d.name }));
    options.criteria = config.criteria.map((c) => ({ value: c.code, label: `${c.ordinal}. ${c.label}` }));
  }
  if (sources.has('organizations')) {
    const orgs = await get('/collections/organizations/items?limit=2000&properties=name');
    options.organizations = orgs.features.map((f) => ({ value: f.id, label: f.properties.name }))
      .sort((a, b) => a.label.localeCompare(b.label, 'es'));
  }
  if (sources.has('instance')) {
    const { instances } = await get('/gestion/api/instancias?limit=500');
    options.instance = instances.map((i) => ({ value: i.id, label: `${i.name} (n.º ${i.id}${i.moderation === 'approved' ? '' : `, ${MODERATION[i.moderation].toLowerCase()}`})` }));
    if (instanceId && !options.instance.some((o) => o.value === instanceId)) {
      options.instance.unshift({ value: instanceId, label: `Instancia n.º ${instanceId}` });
    }
  }
  await loadUnder(options, sources, instanceId);
  return options;
}

async function loadUnder(options, sources, instanceId) {
  // The activities and experience records of the chosen instance (an experience or commitment names one of them).
  if (!sources.has('activities') && !sources.has('experiences')) return;
  const under = instanceId ? await get(`/gestion/api/instancias/${instanceId}/registros`).catch(() => null) : null;
  options.activities = (under?.activities || []).map((a) => ({ value: a.id, label: `${fmtDate(a.starts_at.slice(0, 10))} · ${a.title}` }));
  options.experiences = (under?.experiences || []).map((e) => ({ value: e.id, label: `${fmtDate(e.held_on)}${e.activity_title ? ` · ${e.activity_title}` : ''}` }));
}

const optionsOf = (ctx, field) => field.options || ctx.options[field.source] || [];
const labelOf = (ctx, field, value) => optionsOf(ctx, field).find((o) => String(o.value) === String(value))?.label ?? String(value);

// ---------------------------------------------------------------- controls

function describedBy(field) {
  return [field.hint ? `h-${field.name}` : null, `e-${field.name}`].filter(Boolean).join(' ');
}

function requiredMark(field) {
  return field.required ? h('span', { class: 'required' }, ' (obligatorio)') : null;
}

function selectControl(ctx, field, id = `f-${field.name}`, name = field.name) {
  const select = h('select', { id, name, 'aria-describedby': describedBy(field) });
  fillSelect(ctx, field, select);
  return select;
}

function fillSelect(ctx, field, select) {
  const keep = select.value;
  const empty = field.required ? 'Elegí una opción' : 'Sin indicar';
  const withEmpty = field.nullable || field.required || field.default === undefined;
  select.replaceChildren(...(withEmpty ? [h('option', { value: '' }, empty)] : []),
    ...optionsOf(ctx, field).map((o) => h('option', { value: o.value }, o.label)));
  if (keep) select.value = keep;
}

function checkboxes(ctx, field) {
  return h('div', { class: 'choices' }, optionsOf(ctx, field).map((o) => h('label', { class: 'option' },
    h('input', { type: 'checkbox', name: field.name, value: o.value, 'aria-describedby': `e-${field.name}` }), h('span', {}, o.label))));
}

function placeControl(ctx, field) {
  const lon = h('input', { id: 'f-lon', name: 'lon', type: 'text', inputmode: 'decimal', autocomplete: 'off', 'aria-describedby': describedBy(field) });
  const lat = h('input', { id: 'f-lat', name: 'lat', type: 'text', inputmode: 'decimal', autocomplete: 'off', 'aria-describedby': describedBy(field) });
  const map = h('div', { id: 'lugar-mapa', class: 'place-map' });
  const clear = h('button', { type: 'button', class: 'secondary', onclick: () => { lon.value = ''; lat.value = ''; lon.dispatchEvent(new Event('input', { bubbles: true })); } }, 'Quitar el lugar');
  const barrio = h('select', { id: 'f-ir-a-barrio', 'aria-describedby': 'h-ir-a-barrio' }, h('option', { value: '' }, 'Elegí un barrio'),
    (ctx.options.barrioBoxes || []).map((b) => h('option', { value: b.id }, b.name)));
  barrio.addEventListener('change', () => {
    const box = (ctx.options.barrioBoxes || []).find((b) => String(b.id) === barrio.value);
    if (box && ctx.picker) ctx.picker.map.fitBounds([[box.bbox[0], box.bbox[1]], [box.bbox[2], box.bbox[3]]], { padding: 10 });
  });
  ctx.place = { lon, lat, map };
  return h('div', { class: 'place' },
    h('div', { class: 'go-to' }, h('label', { for: 'f-ir-a-barrio' }, 'Ir a un barrio'),
      h('p', { class: 'hint', id: 'h-ir-a-barrio' }, 'Acerca el mapa al barrio; después tocá el lugar exacto.'), barrio),
    map,
    h('div', { class: 'coordinates' },
      h('div', {}, h('label', { for: 'f-lon' }, 'Longitud'), lon),
      h('div', {}, h('label', { for: 'f-lat' }, 'Latitud'), lat)),
    h('p', { class: 'hint' }, 'Ejemplo en el centro de Rosario: longitud −60.6393, latitud −32.9468.'), clear);
}

function profileControl(ctx, field) {
  const parts = field.parts.map((part) => {
    if (part.options) {
      return h('fieldset', { class: 'counts' }, h('legend', {}, part.label), part.options.map((o) => {
        const id = `f-${field.name}-${part.name}-${o.value}`;
        return h('div', { class: 'count' }, h('label', { for: id }, o.label),
          h('input', { id, type: 'text', inputmode: 'numeric', dataset: { part: part.name, key: o.value } }));
      }));
    }
    const rows = h('div', { class: 'barrio-rows' });
    const add = () => {
      const n = rows.children.length + 1;
      const barrio = { ...field, name: `${field.name}-barrio-${n}`, required: false, nullable: true, source: 'barrios' };
      rows.append(h('div', { class: 'count barrio-row' },
        h('label', { for: `f-${barrio.name}` }, `Barrio ${n}`), selectControl(ctx, barrio, `f-${barrio.name}`, ''),
        h('label', { for: `f-${barrio.name}-n` }, 'Personas'),
        h('input', { id: `f-${barrio.name}-n`, type: 'text', inputmode: 'numeric', dataset: { part: part.name } })));
      return rows.lastChild;
    };
    ctx.addBarrioRow = add;
    return h('fieldset', { class: 'counts' }, h('legend', {}, part.label), rows,
      h('button', { type: 'button', class: 'secondary', onclick: () => add().querySelector('select').focus() }, 'Agregar un barrio'));
  });
  return h('div', { class: 'profile' }, parts);
}

function control(ctx, field) {
  const common = { id: `f-${field.name}`, name: field.name, 'aria-describedby': describedBy(field) };
  switch (field.widget) {
    case 'textarea': return h('textarea', { ...common, rows: 3 });
    case 'url': return h('input', { ...common, type: 'url', inputmode: 'url', autocomplete: 'url', spellcheck: 'false' });
    case 'number': return h('input', { ...common, type: 'text', inputmode: 'numeric', autocomplete: 'off' });
    case 'date': return h('input', { ...common, type: 'date' });
    case 'datetime': return h('input', { ...common, type: 'datetime-local' });
    case 'select': return selectControl(ctx, field);
    case 'checkbox': return h('input', { ...common, type: 'checkbox' });
    case 'checkboxes': return checkboxes(ctx, field);
    case 'place': return placeControl(ctx, field);
    case 'profile': return profileControl(ctx, field);
    default: return h('input', { ...common, type: 'text', autocomplete: 'off' });
  }
}

function fieldBox(ctx, field) {
  const hint = field.hint ? h('p', { class: 'hint', id: `h-${field.name}` }, field.hint) : null;
  const error = h('p', { class: 'error-message', id: `e-${field.name}`, hidden: true });
  const grouped = ['checkboxes', 'place', 'profile'].includes(field.widget);
  if (grouped) {
    return h('fieldset', { class: `field group widget-${field.widget}`, dataset: { field: field.name } },
      h('legend', {}, field.label, requiredMark(field)), hint, error, control(ctx, field));
  }
  if (field.widget === 'checkbox') {
    return h('div', { class: 'field check', dataset: { field: field.name } }, control(ctx, field),
      h('label', { for: `f-${field.name}` }, field.label), hint, error);
  }
  return h('div', { class: `field widget-${field.widget}`, dataset: { field: field.name } },
    h('label', { for: `f-${field.name}` }, field.label, requiredMark(field)), hint, error, control(ctx, field));
}

// ---------------------------------------------------------------- values

const numberOrText = (text) => {
  const value = String(text ?? '').trim();
  if (value === '') return null;
  return /^-?\d+(\.\d+)?$/.test(value.replace(',', '.')) ? Number(value.replace(',', '.')) : value;
};

function readField(ctx, field) {
  const form = ctx.form;
  const element = form.querySelector(`#f-${CSS.escape(field.name)}`);
  switch (field.widget) {
    case 'checkboxes':
      return [...form.querySelectorAll(`input[name="${field.name}"]:checked`)].map((i) => i.value);
    case 'checkbox': return element.checked;
    case 'place': {
      const lon = numberOrText(ctx.place.lon.value);
      const lat = numberOrText(ctx.place.lat.value);
      return lon === null && lat === null ? null : { type: 'Point', coordinates: [lon, lat] };
    }
    case 'profile': {
      const profile = {};
      for (const input of form.querySelectorAll(`[data-field="${field.name}"] input[data-part]`)) {
        const count = numberOrText(input.value);
        if (count === null) continue;
        const key = input.dataset.key ?? input.closest('.barrio-row')?.querySelector('select')?.value;
        if (!key) continue;
        profile[input.dataset.part] = { ...(profile[input.dataset.part] || {}), [key]: count };
      }
      return profile;
    }
    case 'number': return numberOrText(element.value);
    case 'select': {
      if (element.value === '') return null;
      return ID_SOURCES.has(field.source) ? Number(element.value) : element.value;
    }
    default: {
      const text = element.value.trim();
      if (text === '') return field.nullable || ['date', 'datetime'].includes(field.widget) ? null : '';
      return text;
    }
  }
}

export function readValues(ctx) {
  return Object.fromEntries(ctx.spec.fields.map((f) => [f.name, readField(ctx, f)]));
}

function setField(ctx, field, value) {
  const form = ctx.form;
  const element = form.querySelector(`#f-${CSS.escape(field.name)}`);
  switch (field.widget) {
    case 'checkboxes': {
      const chosen = new Set((value || []).map(String));
      const boxes = [...form.querySelectorAll(`input[name="${field.name}"]`)];
      for (const code of chosen) {  // a stored code no longer offered stays, so saving does not drop it
        if (!boxes.some((b) => b.value === code)) {
          form.querySelector(`[data-field="${field.name}"] .choices`).append(h('label', { class: 'option' },
            h('input', { type: 'checkbox', name: field.name, value: code }), h('span', {}, code)));
        }
      }
      for (const box of form.querySelectorAll(`input[name="${field.name}"]`)) box.checked = chosen.has(box.value);
      break;
    }
    case 'select': {
      if (value !== null && value !== undefined && value !== '' && ![...element.options].some((o) => o.value === String(value))) {
        element.append(h('option', { value }, String(value)));
      }
      element.value = value ?? '';
      break;
    }
    case 'checkbox': element.checked = Boolean(value); break;
    case 'place': {
      const [lon, lat] = value?.coordinates || ['', ''];
      ctx.place.lon.value = lon === '' || lon === null ? '' : String(lon);
      ctx.place.lat.value = lat === '' || lat === null ? '' : String(lat);
      ctx.picker?.show();
      break;
    }
    case 'profile': {
      for (const input of form.querySelectorAll(`[data-field="${field.name}"] input[data-key]`)) {
        input.value = value?.[input.dataset.part]?.[input.dataset.key] ?? '';
      }
      for (const row of form.querySelectorAll(`[data-field="${field.name}"] .barrio-row`)) row.remove();
      for (const [barrio, count] of Object.entries(value?.barrio || {})) {
        const row = ctx.addBarrioRow();
        row.querySelector('select').value = barrio;
        row.querySelector('input').value = count;
      }
      break;
    }
    default: element.value = value ?? '';
  }
}

function fill(ctx, values) {
  for (const field of ctx.spec.fields) {
    if (field.name in values) setField(ctx, field, values[field.name]);
  }
  updatePreview(ctx);
}

// A canonical text of a value, to compare what the form holds with what is stored.
function canonical(field, value) {
  if (value === null || value === undefined || value === '') return '';
  if (field.widget === 'place') {
    return (value.coordinates || []).map((c) => (typeof c === 'number' ? c.toFixed(7) : String(c))).join(',');
  }
  if (field.widget === 'checkboxes') return [...value].map(String).sort().join('|');
  if (field.widget === 'profile') {
    const parts = Object.entries(value).filter(([, counts]) => counts && Object.keys(counts).length)
      .map(([part, counts]) => [part, Object.entries(counts).map(([k, n]) => `${k}=${n}`).sort().join(',')]).sort();
    return JSON.stringify(parts);
  }
  return String(value);
}

function shown(ctx, field, value) {
  if (value === null || value === undefined || value === '') return EMPTY;
  switch (field.widget) {
    case 'checkboxes': return value.length ? value.map((v) => labelOf(ctx, field, v)).join(', ') : EMPTY;
    case 'checkbox': return value ? 'Sí' : 'No';
    case 'select': return labelOf(ctx, field, value);
    case 'place': return value.coordinates ? value.coordinates.map((c) => (typeof c === 'number' ? c.toFixed(6) : c)).join(', ') : EMPTY;
    case 'profile': return canonical(field, value) === '' ? EMPTY : Object.entries(value)
      .filter(([, counts]) => Object.keys(counts || {}).length)
      .map(([part, counts]) => Object.entries(counts).map(([k, n]) => `${labelOf(ctx, { options: field.parts.find((p) => p.name === part)?.options, source: 'barrios' }, k)}: ${n}`).join(', '))
      .join(' · ');
    default: return String(value);
  }
}

// ---------------------------------------------------------------- refusals

function clearErrors(ctx) {
  ctx.summary.hidden = true;
  ctx.summary.replaceChildren();
  for (const box of ctx.form.querySelectorAll('.field.invalid')) box.classList.remove('invalid');
  for (const message of ctx.form.querySelectorAll('.error-message')) { message.hidden = true; message.textContent = ''; }
  for (const input of ctx.form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

function fieldName(ctx, name) {
  const base = ALIASES[name] && ctx.byName[ALIASES[name]] ? ALIASES[name] : name;
  return ctx.byName[base] ? base : null;
}

export function showRefusal(ctx, answer, { summaryTitle = 'No se guardó nada. Revisá estos datos:' } = {}) {
  clearErrors(ctx);
  const problem = answer.data || { detail: `HTTP ${answer.status}` };
  if (answer.status === 401) {
    ctx.summary.append(h('h2', {}, 'Tu sesión terminó'),
      h('p', {}, 'Por seguridad, la sesión dura unas horas. No se guardó nada: ',
        h('a', { href: `/gestion/entrar?siguiente=${encodeURIComponent(window.location.pathname + window.location.search)}` }, 'volvé a entrar'),
        ' y cargá los datos de nuevo.'));
    ctx.summary.hidden = false;
    ctx.summary.focus();
    return;
  }
  const known = new Set([...Object.keys(ctx.byName), ...Object.keys(ALIASES)]);
  const items = [];
  for (const part of problemsOf(problem, known)) {
    const name = part.field && fieldName(ctx, part.field);
    if (name) {
      const box = ctx.form.querySelector(`[data-field="${name}"]`);
      const message = box.querySelector('.error-message');
      message.textContent = message.textContent ? `${message.textContent} ${part.spanish}` : part.spanish;
      message.hidden = false;
      message.dataset.english = part.english;
      box.classList.add('invalid');
      for (const input of box.querySelectorAll('input, select, textarea')) input.setAttribute('aria-invalid', 'true');
      items.push(h('li', {}, h('a', { href: `#${box.querySelector('input, select, textarea')?.id || ''}` }, ctx.byName[name].label), `: ${part.spanish}`));
    } else {
      items.push(h('li', {}, part.spanish));
    }
  }
  ctx.summary.append(h('h2', {}, summaryTitle), h('ul', {}, items));
  ctx.summary.hidden = false;
  ctx.summary.focus();
}

// ---------------------------------------------------------------- saving

function status(ctx, text, kind = 'ok') {
  ctx.status.className = `notice ${kind}`;
  ctx.status.textContent = text;
  ctx.status.hidden = !text;
}

function changedNames(ctx, values) {
  return ctx.spec.fields.filter((f) => canonical(f, values[f.name]) !== canonical(f, ctx.initial[f.name])).map((f) => f.name);
}

async function save(ctx) {
  clearErrors(ctx);
  status(ctx, '');
  ctx.conflict.hidden = true;
  const values = readValues(ctx);
  const geometryField = ctx.spec.geometry_field;
  const collection = ctx.spec.collection;
  let answer;
  ctx.submit.disabled = true;
  try {
    if (ctx.mode === 'nuevo') {
      const properties = Object.fromEntries(Object.entries(values)
        .filter(([name, value]) => name !== geometryField && value !== null));
      const geometry = geometryField ? values[geometryField] : null;
      answer = await call('POST', `/collections/${collection}/items`, { json: feature(properties, geometry), contentType: 'application/geo+json' });
    } else {
      const changed = changedNames(ctx, values);
      if (!changed.length) {
        status(ctx, 'No hay cambios para guardar.', 'info');
        return;
      }
      const properties = Object.fromEntries(changed.filter((n) => n !== geometryField).map((n) => [n, values[n]]));
      const body = { type: 'Feature', properties };
      if (geometryField && changed.includes(geometryField)) body.geometry = values[geometryField];
      answer = await call('PATCH', `/collections/${collection}/items/${ctx.id}`, {
        json: body, contentType: 'application/geo+json', headers: { 'If-Match': ctx.etag } });
    }
  } finally {
    ctx.submit.disabled = false;
  }
  if (answer.ok) return saved(ctx, answer, values);
  if (answer.status === 412) return conflict(ctx, values);
  showRefusal(ctx, answer);
}

function saved(ctx, answer, values) {
  const collection = ctx.spec.collection;
  if (ctx.mode === 'nuevo') {
    const id = answer.data.id;
    const instance = collection === 'instances' ? id : values.instance_id;
    const target = instance ? `/gestion/instancias/${instance}?guardado=${collection}` : `/gestion/editar/${collection}/${id}?guardado=${collection}`;
    window.location.assign(collection === 'organizations' ? `/gestion/organizaciones?guardado=${id}` : target);
    return;
  }
  ctx.etag = answer.headers.get('ETag') || ctx.etag;
  ctx.initial = values;
  document.body.dataset.version = answer.data?.version ?? '';
  if (answer.status === 202) {
    // An organisation's change to an approved instance waits for an editor; the map keeps the approved version.
    status(ctx, 'Tu cambio quedó pendiente de revisión: el mapa sigue mostrando la versión aprobada hasta que el '
      + 'equipo del monitor lo acepte. Vas a ver su estado en el inicio.', 'info');
  } else {
    status(ctx, 'Cambios guardados.', 'ok');
  }
  ctx.status.focus();
}

async function conflict(ctx, mine) {
  const current = await get(`/gestion/api/registros/${ctx.spec.collection}/${ctx.id}`);
  const differing = ctx.spec.fields.filter((f) => canonical(f, mine[f.name]) !== canonical(f, current.values[f.name]));
  const keepMine = h('button', { type: 'button', onclick: async () => {
    ctx.etag = current.etag;
    ctx.initial = current.values;
    await save(ctx);
  } }, 'Guardar mi versión');
  const takeTheirs = h('button', { type: 'button', class: 'secondary', onclick: () => {
    ctx.etag = current.etag;
    fill(ctx, current.values);
    ctx.initial = readValues(ctx);
    ctx.conflict.hidden = true;
    status(ctx, 'Cargamos la versión guardada. Tus cambios se descartaron.', 'info');
  } }, 'Descartar mis cambios y usar la guardada');
  ctx.conflict.replaceChildren(
    h('h2', { id: 'conflicto-titulo' }, 'Alguien cambió este registro'),
    h('p', {}, 'Mientras lo editabas, otra persona guardó cambios en este registro. Todavía no se guardó nada tuyo: ',
      'compará las dos versiones y elegí cuál queda.'),
    h('div', { class: 'table-scroll' }, h('table', { class: 'diff' },
      h('caption', {}, 'Las dos versiones del registro'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Dato'), h('th', { scope: 'col' }, 'Tu versión'),
        h('th', { scope: 'col' }, 'La versión guardada ahora'))),
      h('tbody', {}, differing.map((f) => h('tr', { dataset: { field: f.name } }, h('th', { scope: 'row' }, f.label),
        h('td', { class: 'mine' }, shown(ctx, f, mine[f.name])), h('td', { class: 'theirs' }, shown(ctx, f, current.values[f.name]))))))),
    h('div', { class: 'actions' }, keepMine, takeTheirs));
  ctx.conflict.hidden = false;
  ctx.conflict.focus();
}

// ---------------------------------------------------------------- preview

function updatePreview(ctx) {
  if (!ctx.preview) return;
  ctx.preview.replaceChildren(previewCard(readValues(ctx), ctx.byName, ctx.options));
}

// ---------------------------------------------------------------- an attached document (an experience's minutes)

const DOCUMENT_TYPES = '.pdf,.png,.jpg,.jpeg,.txt,.odt,.docx,application/pdf,image/png,image/jpeg,text/plain,'
  + 'application/vnd.oasis.opendocument.text,application/vnd.openxmlformats-officedocument.wordprocessingml.document';

function documentBox(ctx, record) {
  const current = h('p', { id: 'documento-actual' }, record.document?.name
    ? ['Archivo publicado: ', h('a', { href: `/collections/${ctx.spec.collection}/items/${ctx.id}/document` }, record.document.name)]
    : 'Todavía no hay un archivo.');
  const file = h('input', { type: 'file', id: 'f-documento', accept: DOCUMENT_TYPES, 'aria-describedby': 'h-documento e-documento' });
  const error = h('p', { class: 'error-message', id: 'e-documento', role: 'alert', hidden: true });
  const result = h('p', { role: 'status' });
  const upload = h('button', { type: 'button', class: 'secondary', onclick: async () => {
    error.hidden = true;
    result.textContent = '';
    const chosen = file.files[0];
    if (!chosen) {
      error.textContent = 'Elegí un archivo.';
      error.hidden = false;
      return;
    }
    upload.disabled = true;
    const answer = await call('PUT', `/collections/${ctx.spec.collection}/items/${ctx.id}/document?name=${encodeURIComponent(chosen.name)}`,
      { body: chosen, contentType: chosen.type || 'application/octet-stream', headers: { 'If-Match': ctx.etag } });
    upload.disabled = false;
    if (answer.ok) {
      ctx.etag = answer.headers.get('ETag') || ctx.etag;
      current.replaceChildren('Archivo publicado: ', h('a', { href: `/collections/${ctx.spec.collection}/items/${ctx.id}/document` }, answer.data.document_name));
      result.textContent = 'Archivo subido.';
      return;
    }
    if (answer.status === 412) {
      conflict(ctx, readValues(ctx));
      return;
    }
    error.textContent = translate(answer.data?.detail || answer.data?.title || `HTTP ${answer.status}`);
    error.hidden = false;
  } }, 'Subir el archivo');
  return h('fieldset', { class: 'field group document', dataset: { field: 'documento' } },
    h('legend', {}, 'Acta o resultados (archivo)'),
    h('p', { class: 'hint', id: 'h-documento' }, 'PDF, imagen, texto, ODT o DOCX, hasta 20 MB. Se publica con su huella SHA-256.'),
    current, error, h('label', { for: 'f-documento' }, 'Archivo'), file, h('p', { class: 'actions' }, upload), result);
}

// ---------------------------------------------------------------- the view

export async function formView(root, { collection, mode, id }) {
  const params = new URLSearchParams(window.location.search);
  const spec = await get(`/gestion/api/formularios/${collection}`);
  const record = mode === 'editar' ? await get(`/gestion/api/registros/${collection}/${id}`) : null;
  const instanceId = record?.values.instance_id ?? (Number(params.get('instance_id')) || null);
  const ctx = {
    spec, mode, id: record?.id, etag: record?.etag, options: await loadOptions(spec, instanceId),
    byName: Object.fromEntries(spec.fields.map((f) => [f.name, f])), initial: {},
  };
  ctx.summary = h('div', { class: 'errors', role: 'alert', tabindex: '-1', id: 'errores', hidden: true });
  ctx.status = h('p', { class: 'notice', role: 'status', tabindex: '-1', id: 'estado', hidden: true });
  ctx.conflict = h('section', { class: 'conflict', role: 'alert', tabindex: '-1', id: 'conflicto', 'aria-labelledby': 'conflicto-titulo', hidden: true });
  const main = spec.fields.filter((f) => !f.advanced).map((f) => fieldBox(ctx, f));
  const advanced = spec.fields.filter((f) => f.advanced);
  ctx.submit = h('button', { type: 'submit' }, mode === 'nuevo' ? (collection === 'instances' ? 'Enviar la propuesta' : 'Guardar') : 'Guardar los cambios');
  ctx.form = h('form', { class: 'record-form', novalidate: true, dataset: { collection } },
    main, advanced.length ? h('details', { class: 'advanced' }, h('summary', {}, 'Más datos (fuente, identificadores)'),
      advanced.map((f) => fieldBox(ctx, f))) : null,
    h('div', { class: 'actions' }, ctx.submit));
  ctx.form.addEventListener('submit', (event) => {
    event.preventDefault();
    save(ctx);
  });

  const intro = [];
  if (record?.moderation) {
    const state = record.moderation.state;
    intro.push(h('p', { class: `notice moderation-${state}` }, h('strong', {}, `Estado: ${MODERATION[state]}`),
      record.moderation.reason ? `. Motivo: ${record.moderation.reason}` : ''));
  }
  if (record?.moderation?.state === 'approved' && document.body.dataset.role === 'organization') {
    // A change to an approved instance waits for an editor: say which, so a reload does not look like a loss.
    const { changes = [] } = await get('/moderation/pending');
    const mine = changes.find((c) => c.id === record.id);
    if (mine) {
      intro.push(h('div', { class: `notice ${mine.state === 'rejected' ? 'moderation-rejected' : 'info'}`, id: 'cambio-pendiente' },
        h('p', {}, h('strong', {}, mine.state === 'rejected' ? 'El equipo del monitor rechazó tu último cambio' : 'Tenés un cambio pendiente de revisión'),
          mine.reason ? `. Motivo: ${mine.reason}` : '. El formulario muestra la versión aprobada, la que se ve en el mapa.'),
        h('ul', {}, Object.entries(mine.changes || {}).map(([k, v]) => h('li', {}, `${ctx.byName[k]?.label || k}: `,
          ctx.byName[k] ? shown(ctx, ctx.byName[k], v) : String(v))))));
    }
  }
  if (mode === 'nuevo' && collection === 'instances' && document.body.dataset.role === 'organization') {
    intro.push(h('p', { class: 'lead' }, 'Contanos cómo funciona el espacio de participación. El equipo del monitor ',
      'revisa cada propuesta antes de publicarla en el mapa; vas a ver acá su estado.'));
  }
  ctx.preview = collection === 'instances' ? h('div', { class: 'preview-card' }) : null;
  const layout = ctx.preview
    ? h('div', { class: 'form-with-preview' }, h('div', {}, ctx.form),
      h('aside', { class: 'preview', 'aria-labelledby': 'vista-previa-titulo' },
        h('h2', { id: 'vista-previa-titulo' }, 'Así se verá en el mapa'), ctx.preview))
    : ctx.form;
  root.replaceChildren(...intro, ctx.summary, ctx.conflict, ctx.status, layout);
  if (record && spec.has_document) root.append(documentBox(ctx, record));

  // Values: the stored record, or the defaults and what the address names (instance_id=…).
  const start = record ? record.values : Object.fromEntries(spec.fields.filter((f) => f.default !== undefined).map((f) => [f.name, f.default]));
  if (!record && instanceId && ctx.byName.instance_id) start.instance_id = instanceId;
  fill(ctx, start);
  ctx.initial = record ? record.values : {};
  if (record && params.get('verificar') && collection === 'assessments') {
    setField(ctx, ctx.byName.method, 'verified');
    if (!readField(ctx, ctx.byName.assessed_by)) setField(ctx, ctx.byName.assessed_by, document.body.dataset.name);
    setField(ctx, ctx.byName.assessed_on, new Date().toLocaleDateString('en-CA', { timeZone: 'America/Argentina/Cordoba' }));
  }
  if (params.get('guardado')) status(ctx, 'Guardado.', 'ok');

  ctx.form.addEventListener('input', () => updatePreview(ctx));
  ctx.form.addEventListener('change', async (event) => {
    updatePreview(ctx);
    if (event.target.name === 'instance_id' && (ctx.byName.activity_id || ctx.byName.experience_id)) {
      await loadUnder(ctx.options, new Set(['activities', 'experiences']), readField(ctx, ctx.byName.instance_id));
      for (const name of ['activity_id', 'experience_id']) {
        const select = ctx.form.querySelector(`#f-${name}`);
        if (select) fillSelect(ctx, ctx.byName[name], select);
      }
    }
  });
  if (ctx.place) {
    ctx.picker = await placePicker(ctx.place.map, { lon: ctx.place.lon, lat: ctx.place.lat, onChange: () => updatePreview(ctx) });
    updatePreview(ctx);
  }
  document.body.dataset.version = record?.version ?? '';
  return ctx;
}

export { translate };
