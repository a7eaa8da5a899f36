// The back-office's views besides the record form: the start page, an instance and what hangs off it, the
// moderation queue, derived standards, survey links and their QR codes, organisations, tokens and invitations.
// Each reads and writes through the monitor's API (the feature API, /moderation, /surveys/links, /admin/…).

import { fmtDate, fmtDateTime, getJSON, h } from '/map/static/js/dom.js';
import { call, get } from './api.js';
import { showRefusal } from './formulario.js';

const MODERATION = { pending: 'Pendiente de revisión', approved: 'Aprobada y publicada', rejected: 'Rechazada' };
const ROLES = { admin: 'Administración', editor: 'Edición', organization: 'Organización' };
const ACTIVITY_STATUS = { scheduled: 'Programada', cancelled: 'Cancelada', held: 'Realizada' };
const COMMITMENT_STATUS = { not_started: 'Sin iniciar', limited: 'Limitado', substantial: 'Sustancial', complete: 'Cumplido' };
const RESULT = { met: 'Cumple', not_met: 'No cumple', not_applicable: 'No corresponde' };
const LINK_STATUS = { open: 'Abierta', expired: 'Vencida', revoked: 'Dada de baja', unpublished: 'Sin publicar' };
const INVITATION_STATUS = { open: 'Sin usar', used: 'Usada', expired: 'Vencida', revoked: 'Dada de baja' };
const BOOKKEEPING = new Set(['version', 'created_at', 'updated_at', 'created_by', 'updated_by', 'deleted_at']);

const params = () => new URLSearchParams(window.location.search);
const role = () => document.body.dataset.role;
const isEditor = () => ['admin', 'editor'].includes(role());
const badge = (state) => h('span', { class: `state state-${state}` }, MODERATION[state] || state);
const linkButton = (href, text, extra = {}) => h('a', { class: 'button', href, ...extra }, text);
const notice = (text, kind = 'ok') => h('p', { class: `notice ${kind}`, role: 'status' }, text);
const empty = (text) => h('p', { class: 'muted' }, text);

// A small form with the same refusal display as the record form: fields as [name, label, control, hint].
function smallForm(fields, submitText, onSubmit, { id, prefix = '' } = {}) {
  const byName = {};
  const boxes = fields.map(([name, label, control, hint]) => {
    byName[name] = { name, label };
    control.id ||= `${prefix}f-${name}`;
    control.name ||= name;
    control.setAttribute('aria-describedby', [hint ? `${prefix}h-${name}` : null, `${prefix}e-${name}`].filter(Boolean).join(' '));
    return h('div', { class: 'field', dataset: { field: name } }, h('label', { for: control.id }, label),
      hint ? h('p', { class: 'hint', id: `${prefix}h-${name}` }, hint) : null,
      h('p', { class: 'error-message', id: `${prefix}e-${name}`, hidden: true }), control);
  });
  const summary = h('div', { class: 'errors', role: 'alert', tabindex: '-1', hidden: true });
  const submit = h('button', { type: 'submit' }, submitText);
  const form = h('form', { class: 'small-form', novalidate: true, ...(id ? { id } : {}) }, boxes, h('div', { class: 'actions' }, submit));
  const ctx = { form, summary, byName };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const answer = await onSubmit(form);
      if (answer && !answer.ok) showRefusal(ctx, answer, { summaryTitle: 'No se pudo hacer. Revisá:' });
      else if (answer) {
        summary.hidden = true;
        for (const message of form.querySelectorAll('.error-message')) message.hidden = true;
        for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
      }
    } finally {
      submit.disabled = false;
    }
  });
  return h('div', {}, summary, form);
}

const select = (options, { value = '', emptyLabel = null } = {}) => {
  const element = h('select', {}, emptyLabel !== null ? h('option', { value: '' }, emptyLabel) : null,
    options.map(([v, label]) => h('option', { value: v }, label)));
  element.value = String(value);
  return element;
};
const input = (attrs = {}) => h('input', { type: 'text', autocomplete: 'off', ...attrs });

async function organizations() {
  const data = await get('/collections/organizations/items?limit=2000&properties=name');
  return data.features.map((f) => [f.id, f.properties.name]).sort((a, b) => a[1].localeCompare(b[1], 'es'));
}

// ---------------------------------------------------------------- start

function instanceItem(i) {
  return h('li', { class: 'record', dataset: { id: i.id, moderation: i.moderation } },
    h('h3', {}, h('a', { href: `/gestion/instancias/${i.id}` }, i.name)), ' ', badge(i.moderation),
    i.moderation === 'rejected' && i.moderation_reason ? h('p', { class: 'reason' }, h('strong', {}, 'Motivo: '), i.moderation_reason) : null,
    h('p', { class: 'muted' }, [i.kind_label, i.barrio, `${i.activities} actividades`, `${i.experiences} experiencias`,
      `${i.commitments} compromisos`].filter(Boolean).join(' · ')));
}

export async function inicio(root) {
  const parts = [];
  if (isEditor()) {
    const { submissions } = await get('/moderation/pending');
    parts.push(h('section', { class: 'panel' }, h('h2', {}, 'Para revisar'),
      h('p', {}, submissions.length ? `${submissions.length} propuestas de organizaciones esperan revisión.` : 'No hay propuestas esperando revisión.'),
      linkButton('/gestion/moderacion', 'Ir a la moderación')));
    const results = h('ul', { class: 'records', id: 'resultados' });
    const search = async (q) => {
      const { instances } = await get(`/gestion/api/instancias?limit=30${q ? `&q=${encodeURIComponent(q)}` : ''}`);
      results.replaceChildren(...(instances.length ? instances.map(instanceItem) : [h('li', {}, 'No encontramos instancias con ese nombre.')]));
    };
    const q = input({ type: 'search', id: 'buscar' });
    parts.push(h('section', { class: 'panel' }, h('h2', {}, 'Buscar una instancia para editarla'),
      smallForm([['q', 'Nombre o número', q, 'También las pendientes y las rechazadas.']], 'Buscar', async () => { await search(q.value.trim()); return null; }),
      results));
    const collection = select([['instances', 'Instancia'], ['activities', 'Actividad'], ['experiences', 'Registro de experiencia'],
      ['commitments', 'Compromiso'], ['organizations', 'Organización'], ['assessments', 'Evaluación'], ['criteria', 'Estándar (código)']]);
    const number = input({ inputmode: 'text' });
    parts.push(h('section', { class: 'panel' }, h('h2', {}, 'Abrir un registro por su número'),
      smallForm([['coleccion', 'Tipo de registro', collection], ['numero', 'Número (o código)', number]], 'Abrir', async () => {
        window.location.assign(`/gestion/editar/${collection.value}/${encodeURIComponent(number.value.trim())}`);
        return null;
      })));
    await search('');
  } else {
    const [{ instances }, { submissions, changes = [] }, spec] = await Promise.all([get('/gestion/api/instancias'),
      get('/moderation/pending'), get('/gestion/api/formularios/instances')]);
    const labels = Object.fromEntries(spec.fields.map((f) => [f.name, f.label]));
    const organization = document.body.dataset.organization;
    parts.push(h('p', { class: 'actions' }, linkButton('/gestion/nuevo/instances', 'Proponer una instancia'),
      organization ? linkButton(`/gestion/editar/organizations/${organization}`, 'Datos de tu organización', { class: 'button secondary' }) : null));
    parts.push(h('section', { class: 'panel', id: 'envios' }, h('h2', {}, 'Tus propuestas en revisión'),
      submissions.length ? h('ul', { class: 'records' }, submissions.map((s) => h('li', { class: 'record', dataset: { id: s.id, moderation: s.moderation } },
        h('h3', {}, h('a', { href: `/gestion/instancias/${s.id}` }, s.name)), ' ', badge(s.moderation),
        s.moderation_reason ? h('p', { class: 'reason' }, h('strong', {}, 'Motivo del equipo del monitor: '), s.moderation_reason) : null,
        h('p', { class: 'muted' }, `Enviada el ${fmtDateTime(s.created_at)}`))))
        : empty('No tenés propuestas pendientes ni rechazadas.'),
      changes.length ? [h('h3', {}, 'Cambios a instancias publicadas'), h('ul', { class: 'records' }, changes.map((c) => h('li', { class: 'record', dataset: { id: c.id, change: c.state } },
        h('a', { href: `/gestion/instancias/${c.id}` }, c.name), ' ', badge(c.state),
        h('p', { class: 'muted' }, `Cambia: ${Object.keys(c.changes || {}).map((k) => labels[k] || k).join(', ')} · propuesto el ${fmtDateTime(c.proposed_at)}`),
        c.reason ? h('p', { class: 'reason' }, h('strong', {}, 'Motivo del equipo del monitor: '), c.reason) : null)))] : null));
    parts.push(h('section', { class: 'panel' }, h('h2', {}, 'Tus instancias'),
      instances.length ? h('ul', { class: 'records' }, instances.map(instanceItem)) : empty('Todavía no cargaste ninguna instancia.')));
  }
  root.replaceChildren(...parts);
}

// ---------------------------------------------------------------- one instance

export async function instancia(root, data) {
  const id = data.id;
  const found = await get(`/gestion/api/instancias/${id}/registros`);
  const i = found.instance;
  const saved = params().get('guardado');
  const parts = [];
  if (saved === 'instances' && i.moderation === 'pending') {
    parts.push(notice('¡Listo! Enviaste la propuesta. El equipo del monitor la va a revisar antes de publicarla en el mapa: vas a ver su estado acá y en el inicio.'));
  } else if (saved) {
    parts.push(notice('Guardado.'));
  }
  parts.push(h('p', { class: 'status-line' }, 'Estado: ', badge(i.moderation),
    i.moderation === 'approved' ? [' · ', h('a', { href: `/map#instancia=${i.id}` }, 'Ver en el mapa')] : null));
  if (i.moderation === 'rejected' && i.moderation_reason) parts.push(h('p', { class: 'reason' }, h('strong', {}, 'Motivo: '), i.moderation_reason));
  parts.push(h('p', { class: 'muted' }, [i.kind_label, i.organization, i.barrio].filter(Boolean).join(' · ')));
  parts.push(h('p', { class: 'actions' },
    linkButton(`/gestion/editar/instances/${id}`, 'Editar la instancia'),
    linkButton(`/gestion/nuevo/activities?instance_id=${id}`, 'Agregar una actividad', { class: 'button secondary' }),
    linkButton(`/gestion/nuevo/experiences?instance_id=${id}`, 'Registrar lo que produjo una actividad', { class: 'button secondary' }),
    linkButton(`/gestion/nuevo/commitments?instance_id=${id}`, 'Registrar un compromiso', { class: 'button secondary' }),
    isEditor() ? linkButton(`/gestion/nuevo/assessments?instance_id=${id}`, 'Evaluar un estándar', { class: 'button secondary' }) : null));
  const list = (title, rows, item, none) => h('section', { class: 'panel' }, h('h2', {}, title),
    rows.length ? h('ul', { class: 'records' }, rows.map(item)) : empty(none));
  parts.push(list('Actividades', found.activities, (a) => h('li', { class: 'record' },
    h('a', { href: `/gestion/editar/activities/${a.id}` }, a.title), h('span', { class: 'muted' }, ` · ${fmtDateTime(a.starts_at)} · ${ACTIVITY_STATUS[a.status]}`)),
  'Sin actividades cargadas.'));
  parts.push(list('Lo que produjeron las actividades', found.experiences, (e) => h('li', { class: 'record' },
    h('a', { href: `/gestion/editar/experiences/${e.id}` }, `Registro del ${fmtDate(e.held_on)}`),
    h('span', { class: 'muted' }, [e.activity_title, e.attendance !== null ? `${e.attendance} personas` : null].filter(Boolean).map((t) => ` · ${t}`).join(''))),
  'Sin registros de experiencias.'));
  parts.push(list('Compromisos', found.commitments, (c) => h('li', { class: 'record' },
    h('a', { href: `/gestion/editar/commitments/${c.id}` }, c.description),
    h('span', { class: 'muted' }, ` · ${COMMITMENT_STATUS[c.status]}${c.due_date ? ` · plazo ${fmtDate(c.due_date)}` : ''}`)),
  'Sin compromisos registrados.'));
  root.replaceChildren(...parts);
}

// ---------------------------------------------------------------- moderation

// How the queue shows a stored value: the Spanish label of a code (the form's choices, the catalogues), Sí/No.
let valueLabels = {};

function setValueLabels(spec, config) {
  const catalogues = {
    kinds: config.kinds.map((k) => [k.code, k.label]), themes: config.themes.map((t) => [t.code, t.label]),
    barrios: config.barrios.map((b) => [b.id, b.name]), districts: config.districts.map((d) => [d.code, d.name]),
  };
  valueLabels = Object.fromEntries(spec.fields.map((f) => [f.name, new Map((f.options?.map((o) => [o.value, o.label])
    || catalogues[f.source] || []).map(([k, v]) => [String(k), v]))]));
  valueLabels.barrio_id = new Map(catalogues.barrios.map(([k, v]) => [String(k), v]));
  valueLabels.district_code = new Map(catalogues.districts.map(([k, v]) => [String(k), v]));
}

function historyValue(value, key = null) {
  if (value === null || value === undefined || value === '') return '—';
  const labels = key ? valueLabels[key] : null;
  if (typeof value === 'boolean') return value ? 'Sí' : 'No';
  if (Array.isArray(value)) return value.map((v) => labels?.get(String(v)) || v).join(', ') || '—';
  if (labels?.has(String(value))) return labels.get(String(value));
  if (typeof value === 'object' && value.coordinates) return value.coordinates.map((c) => Number(c).toFixed(6)).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

async function changesOf(id, labels) {
  const { changes } = await get(`/collections/instances/items/${id}/history`);
  const actions = { insert: 'Envío', update: 'Cambio', delete: 'Borrado' };
  return h('div', { class: 'changes' }, changes.slice().reverse().map((change, n) => {
    const before = change.old_values || {};
    const after = change.new_values || {};
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .filter((k) => !BOOKKEEPING.has(k) && JSON.stringify(before[k] ?? null) !== JSON.stringify(after[k] ?? null));
    const insert = change.action === 'insert';
    return h('details', { class: 'change', open: n === 0 || null },
      h('summary', {}, `${actions[change.action] || change.action} · ${fmtDateTime(change.changed_at)}`),
      keys.length ? h('div', { class: 'table-scroll' }, h('table', { class: 'diff' },
        h('caption', { class: 'visually-hidden' }, insert ? 'Datos enviados' : 'Datos antes y después del cambio'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Dato'), insert ? null : h('th', { scope: 'col' }, 'Antes'),
          h('th', { scope: 'col' }, insert ? 'Enviado' : 'Después'))),
        h('tbody', {}, keys.filter((k) => !insert || after[k] !== null).map((k) => h('tr', { dataset: { key: k } },
          h('th', { scope: 'row' }, labels[k] || k), insert ? null : h('td', { class: 'before' }, historyValue(before[k], k)),
          h('td', { class: 'after' }, historyValue(after[k], k))))))) : empty('Sin cambios de datos.'));
  }));
}

function submission(s, labels, onDone) {
  const article = h('article', { class: 'submission panel', dataset: { id: s.id }, 'aria-labelledby': `envio-${s.id}` });
  const changes = h('div', { class: 'changes-box', hidden: true });
  const toggle = h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-controls': `cambios-${s.id}`, onclick: async () => {
    const open = toggle.getAttribute('aria-expanded') === 'true';
    toggle.setAttribute('aria-expanded', String(!open));
    changes.hidden = open;
    if (!open && !changes.childElementCount) changes.append(await changesOf(s.id, labels));
  } }, 'Ver los datos enviados');
  changes.id = `cambios-${s.id}`;
  const decide = async (decision, reason) => {
    const answer = await call('POST', `/moderation/${s.id}`, { json: reason === undefined ? { decision } : { decision, reason } });
    if (answer.ok) onDone(article, decision === 'approve'
      ? `«${s.name}» quedó aprobada y ya se ve en el mapa.` : `«${s.name}» quedó rechazada; la organización ve el motivo.`);
    return answer;
  };
  const reason = h('textarea', { rows: 3 });
  const rejectForm = smallForm([['reason', 'Motivo del rechazo', reason, 'Lo lee la organización: decile qué tiene que corregir.']],
    'Confirmar el rechazo', () => decide('reject', reason.value.trim()), { prefix: `envio-${s.id}-` });
  rejectForm.hidden = true;
  rejectForm.classList.add('reject');
  const approve = h('button', { type: 'button', class: 'approve', onclick: async (event) => {
    event.target.disabled = true;
    const answer = await decide('approve');
    if (!answer.ok) {
      event.target.disabled = false;
      article.append(h('p', { class: 'error-message', role: 'alert' }, 'No se pudo aprobar. Recargá la página e intentá de nuevo.'));
    }
  } }, 'Aprobar');
  const reject = h('button', { type: 'button', class: 'secondary reject-open', onclick: () => { rejectForm.hidden = false; reason.focus(); } }, 'Rechazar…');
  article.append(
    h('h2', { id: `envio-${s.id}` }, s.name), badge(s.moderation),
    h('p', { class: 'muted' }, [s.organization ? `De ${s.organization}` : 'Sin organización', `enviada el ${fmtDateTime(s.created_at)}`].join(' · ')),
    h('p', { class: 'actions' }, toggle, linkButton(`/gestion/editar/instances/${s.id}`, 'Editar', { class: 'button secondary' })),
    changes, h('p', { class: 'actions' }, approve, reject), rejectForm);
  return article;
}

function proposal(c, labels, onDone) {
  // An organisation's change to an approved instance: the approved values beside the proposed ones.
  const article = h('article', { class: 'submission change-proposal panel', dataset: { id: c.id }, 'aria-labelledby': `cambio-${c.id}` });
  const decide = async (decision, reason) => {
    const answer = await call('POST', `/moderation/${c.id}`, { json: reason === undefined ? { decision } : { decision, reason } });
    if (answer.ok) onDone(article, decision === 'approve'
      ? `El cambio a «${c.name}» quedó aplicado y publicado.` : `El cambio a «${c.name}» quedó rechazado; la organización ve el motivo.`);
    return answer;
  };
  const reason = h('textarea', { rows: 3 });
  const rejectForm = smallForm([['reason', 'Motivo del rechazo', reason, 'Lo lee la organización: decile qué tiene que corregir.']],
    'Confirmar el rechazo', () => decide('reject', reason.value.trim()), { prefix: `cambio-${c.id}-` });
  rejectForm.hidden = true;
  const fields = Object.keys(c.changes || {});
  article.append(
    h('h2', { id: `cambio-${c.id}` }, `Cambio a «${c.name}»`), badge('pending'),
    h('p', { class: 'muted' }, [c.organization ? `De ${c.organization}` : null, `propuesto el ${fmtDateTime(c.proposed_at)}`].filter(Boolean).join(' · ')),
    h('div', { class: 'table-scroll' }, h('table', { class: 'diff' },
      h('caption', { class: 'visually-hidden' }, 'La versión aprobada y la propuesta'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Dato'), h('th', { scope: 'col' }, 'Aprobado ahora'), h('th', { scope: 'col' }, 'Propuesto'))),
      h('tbody', {}, fields.map((k) => h('tr', { dataset: { key: k } }, h('th', { scope: 'row' }, labels[k] || k),
        h('td', { class: 'before' }, historyValue(c.current?.[k], k)), h('td', { class: 'after' }, historyValue(c.changes[k], k))))))),
    h('p', { class: 'actions' },
      h('button', { type: 'button', class: 'approve', onclick: async (event) => {
        event.target.disabled = true;
        if (!(await decide('approve')).ok) event.target.disabled = false;
      } }, 'Aplicar el cambio'),
      h('button', { type: 'button', class: 'secondary', onclick: () => { rejectForm.hidden = false; reason.focus(); } }, 'Rechazar…'),
      linkButton(`/gestion/editar/instances/${c.id}`, 'Ver la instancia', { class: 'button secondary' })),
    rejectForm);
  return article;
}

export async function moderacion(root) {
  const [{ submissions, changes = [] }, spec, config] = await Promise.all([get('/moderation/pending'),
    get('/gestion/api/formularios/instances'), getJSON('/map/config.json')]);
  setValueLabels(spec, config);
  const labels = Object.fromEntries(spec.fields.map((f) => [f.name, f.label]));
  Object.assign(labels, { venue: 'Lugar', barrio_id: 'Barrio', district_code: 'Distrito', id: 'Número', organization_id: 'Organización' });
  const status = h('div', { id: 'moderacion-estado', role: 'status' });
  const list = h('div', { class: 'submissions' });
  const count = h('p', { class: 'lead' });
  const recount = () => {
    const left = list.querySelectorAll('article.submission').length;
    count.textContent = left ? `${left} propuestas y cambios esperan revisión, de los más antiguos a los más nuevos.` : 'No queda nada por revisar. ¡Gracias!';
  };
  const done = (article, text) => {
    article.remove();
    status.replaceChildren(notice(text));
    recount();
  };
  list.append(...submissions.map((s) => submission(s, labels, done)), ...changes.map((c) => proposal(c, labels, done)));
  root.replaceChildren(status, count, list);
  recount();
}

// ---------------------------------------------------------------- derived standards

export async function evaluaciones(root) {
  const config = await getJSON('/map/config.json');
  const criterion = select(config.criteria.map((c) => [c.code, `${c.ordinal}. ${c.label}`]), { emptyLabel: 'Todos' });
  const result = select(Object.entries(RESULT), { emptyLabel: 'Todos' });
  const body = h('div', {});
  const show = async (url, append = false) => {
    const data = await get(url);
    const rows = data.features.map((f) => {
      const p = f.properties;
      return h('li', { class: 'record', dataset: { id: f.id } },
        h('h3', {}, p.instance_name), h('p', {}, `${p.criterion_label}: `, h('strong', {}, RESULT[p.status] || p.status),
          h('span', { class: 'muted' }, ` · derivado el ${fmtDate(p.assessed_on)}`)),
        h('p', { class: 'actions' }, linkButton(`/gestion/editar/assessments/${f.id}?verificar=1`, 'Verificar o corregir'),
          h('a', { href: `/gestion/instancias/${p.instance_id}` }, 'Ver la instancia')));
    });
    const next = (data.links || []).find((l) => l.rel === 'next');
    const list = append ? body.querySelector('ul') : h('ul', { class: 'records' });
    list.querySelector('.more')?.remove();
    list.append(...rows);
    if (next) list.append(h('li', { class: 'more' }, h('button', { type: 'button', class: 'secondary', onclick: () => show(next.href, true) }, 'Ver más')));
    if (!append) body.replaceChildren(h('p', {}, `${data.numberMatched ?? data.numberReturned} evaluaciones derivadas por el monitor.`), list);
  };
  const filters = smallForm([['criterion', 'Estándar', criterion], ['status', 'Resultado', result]], 'Filtrar', async () => {
    const query = new URLSearchParams({ method: 'derived', limit: '50' });
    if (criterion.value) query.set('criterion', criterion.value);
    if (result.value) query.set('status', result.value);
    await show(`/collections/assessments/items?${query}`);
    return null;
  });
  root.replaceChildren(h('p', { class: 'lead' }, 'El monitor deriva estos resultados de lo que muestra el registro. ',
    'Verificá los que conozcas: una evaluación verificada nunca se vuelve a derivar.'), filters, body);
  await show('/collections/assessments/items?method=derived&limit=50');
}

// ---------------------------------------------------------------- surveys

function printOnly(element) {
  element.classList.add('print-target');
  document.body.dataset.printing = 'true';
  const done = () => {
    element.classList.remove('print-target');
    delete document.body.dataset.printing;
    window.removeEventListener('afterprint', done);
  };
  window.addEventListener('afterprint', done);
  window.print();
}

function surveyCard(link, onRevoke) {
  const card = h('article', { class: 'survey panel', dataset: { code: link.code, status: link.status } },
    h('h3', {}, link.instance_name), link.activity_title ? h('p', {}, `Actividad: ${link.activity_title}`) : null,
    h('p', {}, h('span', { class: `state state-${link.status}` }, LINK_STATUS[link.status] || link.status),
      h('span', { class: 'muted' }, ` · ${link.responses} respuestas · cierra el ${fmtDate(String(link.expires_at).slice(0, 10))}`)),
    h('p', { class: 'url' }, h('a', { href: link.url }, link.url)),
    link.status === 'open' ? h('img', { class: 'qr', src: link.qr, alt: `Código QR de la encuesta sobre ${link.instance_name}`, width: 160, height: 160 }) : null);
  const actions = h('p', { class: 'actions no-print' });
  if (link.status === 'open') {
    actions.append(h('button', { type: 'button', 'aria-label': `Imprimir el código QR: ${link.instance_name}`, onclick: () => printOnly(card) }, 'Imprimir el código QR'),
      h('button', { type: 'button', class: 'secondary', 'aria-label': `Dar de baja la encuesta: ${link.instance_name}`, onclick: async (event) => {
        const answer = await call('DELETE', `/surveys/links/${link.code}`);
        if (answer.ok) onRevoke();
        else event.target.after(h('span', { class: 'error-message', role: 'alert' }, ' No se pudo dar de baja.'));
      } }, 'Dar de baja'));
  }
  card.append(actions);
  return card;
}

export async function encuestas(root) {
  const { instances } = await get('/gestion/api/instancias?limit=500');
  const published = instances.filter((i) => i.moderation === 'approved').sort((a, b) => a.name.localeCompare(b.name, 'es'));
  const instance = select(published.map((i) => [i.id, `${i.name} (n.º ${i.id})`]), { emptyLabel: 'Elegí una instancia' });
  const activity = select([], { emptyLabel: 'Toda la instancia' });
  const days = input({ inputmode: 'numeric', value: '30' });
  instance.addEventListener('change', async () => {
    const under = instance.value ? await get(`/gestion/api/instancias/${instance.value}/registros`) : { activities: [] };
    activity.replaceChildren(h('option', { value: '' }, 'Toda la instancia'),
      ...under.activities.map((a) => h('option', { value: a.id }, `${fmtDate(a.starts_at.slice(0, 10))} · ${a.title}`)));
  });
  const list = h('div', { class: 'survey-links' });
  const created = h('div', { role: 'status' });
  const load = async () => {
    const { links } = await get('/surveys/links');
    list.replaceChildren(...(links.length ? links.map((l) => surveyCard(l, load)) : [empty('Todavía no hay enlaces de encuesta.')]));
  };
  const form = smallForm([['instance_id', 'Instancia', instance], ['activity_id', 'Actividad (opcional)', activity],
    ['days', 'Días abierta', days, 'Entre 1 y 366.']], 'Crear el enlace', async () => {
    const body = { instance_id: instance.value ? Number(instance.value) : null, days: /^\d+$/.test(days.value.trim()) ? Number(days.value.trim()) : days.value };
    if (activity.value) body.activity_id = Number(activity.value);
    const answer = await call('POST', '/surveys/links', { json: body });
    if (answer.ok) {
      created.replaceChildren(notice(`Enlace creado: ${answer.data.url}`));
      await load();
    }
    return answer;
  });
  root.replaceChildren(h('section', { class: 'panel no-print' }, h('h2', {}, 'Nuevo enlace de encuesta'), form, created),
    h('section', {}, h('h2', { class: 'no-print' }, 'Enlaces'), list));
  await load();
}

// ---------------------------------------------------------------- organisations

export async function organizaciones(root) {
  const data = await get('/collections/organizations/items?limit=2000');
  const rows = data.features.sort((a, b) => a.properties.name.localeCompare(b.properties.name, 'es'));
  const filter = input({ type: 'search', id: 'filtrar-organizaciones' });
  const list = h('ul', { class: 'records' }, rows.map((f) => h('li', { class: 'record', dataset: { name: f.properties.name.toLowerCase() } },
    h('a', { href: `/gestion/editar/organizations/${f.id}` }, f.properties.name),
    f.properties.is_demo ? h('span', { class: 'muted' }, ' (demostración)') : null,
    role() === 'admin' ? [' · ', h('a', { href: `/gestion/accesos?organizacion=${f.id}#invitaciones` }, 'Invitar')] : null)));
  filter.addEventListener('input', () => {
    const q = filter.value.trim().toLowerCase();
    for (const item of list.children) item.hidden = Boolean(q) && !item.dataset.name.includes(q);
  });
  root.replaceChildren(params().get('guardado') ? notice('Organización guardada.') : '',
    h('p', { class: 'actions' }, linkButton('/gestion/nuevo/organizations', 'Agregar una organización')),
    h('div', { class: 'field' }, h('label', { for: filter.id }, 'Filtrar por nombre'), filter), list);
}

// ---------------------------------------------------------------- tokens and invitations (admins)

function secretBox(label, value) {
  const id = `secreto-${Math.random().toString(36).slice(2, 8)}`;
  const field = h('input', { id, class: 'secret-value', type: 'text', readonly: true, value, spellcheck: 'false' });
  return h('div', { class: 'notice ok secret', role: 'status' }, h('label', { for: id }, label), field,
    h('p', { class: 'hint' }, 'Se muestra una sola vez: copiala ahora y entregala por un medio seguro.'),
    h('button', { type: 'button', class: 'secondary', onclick: () => { field.select(); navigator.clipboard?.writeText(value).catch(() => {}); } }, 'Copiar'));
}

function revokeButton(text, url, after, what) {
  let armed = false;
  const button = h('button', { type: 'button', class: 'secondary', 'aria-label': `${text}: ${what}`, onclick: async () => {
    if (!armed) {
      armed = true;
      button.textContent = 'Confirmar la baja';
      button.setAttribute('aria-label', `Confirmar la baja: ${what}`);
      return;
    }
    const answer = await call('DELETE', url);
    if (answer.ok) after();
    else button.after(h('span', { class: 'error-message', role: 'alert' }, ' No se pudo dar de baja.'));
  } }, text);
  return button;
}

export async function accesos(root) {
  const orgs = await organizations();
  const tokensList = h('div', {});
  const invitationsList = h('div', {});
  const loadTokens = async () => {
    const { tokens } = await get('/admin/tokens');
    tokensList.replaceChildren(h('div', { class: 'table-scroll' }, h('table', {},
      h('caption', { class: 'visually-hidden' }, 'Claves de acceso'),
      h('thead', {}, h('tr', {}, ['N.º', 'Nombre', 'Rol', 'Organización', 'Creada', 'Último uso', 'Estado', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, tokens.slice().reverse().map((t) => h('tr', { dataset: { id: t.id } },
        h('td', {}, String(t.id)), h('td', {}, t.name), h('td', {}, ROLES[t.role]), h('td', {}, t.organization || '—'),
        h('td', {}, fmtDate(String(t.created_at).slice(0, 10))), h('td', {}, t.last_used_at ? fmtDate(String(t.last_used_at).slice(0, 10)) : '—'),
        h('td', {}, t.revoked_at ? 'Dada de baja' : 'Activa'),
        h('td', {}, t.revoked_at ? '' : revokeButton('Dar de baja', `/admin/tokens/${t.id}`, loadTokens, `clave ${t.name}`))))))));
  };
  const loadInvitations = async () => {
    const { invitations } = await get('/admin/invitations');
    invitationsList.replaceChildren(invitations.length ? h('ul', { class: 'records' }, invitations.map((i) => h('li', { class: 'record', dataset: { id: i.id, status: i.status } },
      h('strong', {}, i.organization), ` · para ${i.name} · `, h('span', { class: `state state-${i.status}` }, INVITATION_STATUS[i.status]),
      h('span', { class: 'muted' }, ` · creada el ${fmtDate(String(i.created_at).slice(0, 10))}, vence el ${fmtDate(String(i.expires_at).slice(0, 10))}`),
      i.status === 'open' ? [' ', revokeButton('Dar de baja', `/admin/invitations/${i.id}`, loadInvitations, `invitación para ${i.name}`)] : null)))
      : empty('Todavía no hay invitaciones.'));
  };

  const tokenRole = select(Object.entries(ROLES), { value: 'organization' });
  const tokenName = input();
  const tokenOrg = select(orgs, { emptyLabel: 'Elegí una organización' });
  const tokenCreated = h('div', {});
  const tokenForm = smallForm([['role', 'Rol', tokenRole], ['name', 'Nombre (quién la usa)', tokenName],
    ['organization', 'Organización', tokenOrg, 'Solo para las claves de organización.']], 'Crear la clave', async () => {
    const body = { role: tokenRole.value, name: tokenName.value.trim() };
    if (tokenRole.value === 'organization' && tokenOrg.value) body.organization = tokenOrg.value;
    const answer = await call('POST', '/admin/tokens', { json: body });
    if (answer.ok) {
      tokenCreated.replaceChildren(secretBox(`Clave de «${answer.data.name}»`, answer.data.token));
      await loadTokens();
    }
    return answer;
  });

  const invitationOrg = select(orgs, { emptyLabel: 'Elegí una organización', value: params().get('organizacion') || '' });
  const invitationName = input();
  const invitationDays = input({ inputmode: 'numeric', value: '7' });
  const invitationCreated = h('div', {});
  const invitationForm = smallForm([['organization', 'Organización', invitationOrg],
    ['name', 'Para quién es', invitationName, 'Nombra la clave que va a recibir, por ejemplo: Comisión directiva.'],
    ['days', 'Días de validez', invitationDays, 'Entre 1 y 60.']], 'Crear la invitación', async () => {
    const days = invitationDays.value.trim();
    const answer = await call('POST', '/admin/invitations', { json: {
      organization: invitationOrg.value, name: invitationName.value.trim(), days: /^\d+$/.test(days) ? Number(days) : days } });
    if (answer.ok) {
      invitationCreated.replaceChildren(secretBox('Enlace de invitación (sirve una sola vez)', answer.data.url));
      await loadInvitations();
    }
    return answer;
  });

  root.replaceChildren(
    h('section', { class: 'panel', id: 'invitaciones' }, h('h2', {}, 'Invitaciones para organizaciones'),
      h('p', {}, 'Un enlace que se usa una sola vez: quien lo abre recibe la clave de su organización y entra a la gestión.'),
      invitationForm, invitationCreated, invitationsList),
    h('section', { class: 'panel', id: 'claves' }, h('h2', {}, 'Claves de acceso'), tokenForm, tokenCreated, tokensList));
  await Promise.all([loadTokens(), loadInvitations()]);
}
