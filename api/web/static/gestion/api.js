// The back-office talks to the monitor's own API with the session cookie (sent by the browser, SameSite=Strict)
// and, on every write, the session's CSRF token from the page (<meta name="csrf-token">).

const SAFE = new Set(['GET', 'HEAD']);

export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content || '';
}

// One request: { ok, status, data (JSON or null), headers }. Never throws for an HTTP refusal: the caller shows it.
export async function call(method, url, { json, body, headers = {}, contentType } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
  if (!SAFE.has(method)) init.headers['X-CSRF-Token'] = csrfToken();
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers['Content-Type'] = contentType || 'application/json';
  } else if (body !== undefined) {
    init.body = body;
    if (contentType) init.headers['Content-Type'] = contentType;
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    return { ok: false, status: 0, data: { title: 'Network error', detail: 'network error' }, headers: new Headers() };
  }
  const type = response.headers.get('content-type') || '';
  const data = type.includes('json') ? await response.json().catch(() => null) : null;
  return { ok: response.ok, status: response.status, data, headers: response.headers };
}

export async function get(url) {
  const answer = await call('GET', url);
  if (!answer.ok) {
    const error = new Error(`${url}: HTTP ${answer.status}`);
    error.answer = answer;
    throw error;
  }
  return answer.data;
}

export const feature = (properties, geometry = null) => ({ type: 'Feature', geometry, properties });
