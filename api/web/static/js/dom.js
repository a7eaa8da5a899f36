// Tiny DOM helpers: every text from the API goes through textContent, never innerHTML.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

export async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

const numberFormat = new Intl.NumberFormat('es-AR', { maximumFractionDigits: 1 });
const integerFormat = new Intl.NumberFormat('es-AR', { maximumFractionDigits: 0 });
export const fmtNumber = (n) => (n === null || n === undefined ? '—' : numberFormat.format(n));
export const fmtDecimal = (n, digits) => (n === null || n === undefined ? '—'
  : new Intl.NumberFormat('es-AR', { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n));
export const fmtInteger = (n) => (n === null || n === undefined ? '—' : integerFormat.format(n));

const dateTimeFormat = new Intl.DateTimeFormat('es-AR', {
  weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  timeZone: 'America/Argentina/Cordoba',
});
const dayFormat = new Intl.DateTimeFormat('es-AR', {
  weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'America/Argentina/Cordoba',
});
const timeFormat = new Intl.DateTimeFormat('es-AR', {
  hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'America/Argentina/Cordoba',
});
export const fmtDateTime = (iso) => dateTimeFormat.format(new Date(iso));
const capitalise = (text) => text.charAt(0).toUpperCase() + text.slice(1);
export const fmtDay = (iso) => capitalise(dayFormat.format(new Date(iso)));
export const fmtTime = (iso) => timeFormat.format(new Date(iso));
const plainDate = new Intl.DateTimeFormat('es-AR', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
export const fmtDate = (iso) => (iso ? plainDate.format(new Date(`${iso}T00:00:00Z`)) : '—');

export function demoBadge(isDemo) {
  return isDemo ? h('span', { class: 'badge demo', title: 'Registro generado para demostración, no es real' }, 'DEMO') : null;
}

// webcal:// makes calendar apps offer to subscribe instead of downloading the file once.
export const webcal = (url) => url.replace(/^https?:/, 'webcal:');
