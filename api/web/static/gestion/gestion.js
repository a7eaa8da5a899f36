// The back-office (/gestion): the server renders the layout with the view to show and the signed-in person's role
// (<body data-view data-role …>); this module draws that view. Every write goes to the monitor's API with the
// session cookie and the page's CSRF token (api.js), under the same rules as any other client.

import { h } from '/map/static/js/dom.js';
import { formView } from './formulario.js';
import { accesos, encuestas, evaluaciones, inicio, instancia, moderacion, organizaciones } from './vistas.js';

const VIEWS = { formulario: formView, inicio, instancia, moderacion, evaluaciones, encuestas, organizaciones, accesos };

async function boot() {
  const data = document.body.dataset;
  const root = document.getElementById('vista');
  const view = VIEWS[data.view];
  if (!root || !view) return;
  try {
    await view(root, data);
    data.ready = 'true';
  } catch (error) {
    const status = error.answer?.status;
    const text = status === 401
      ? 'Tu sesión terminó. Volvé a entrar para seguir.'
      : 'No pudimos cargar esta sección. Recargá la página; si sigue sin funcionar, avisale al equipo del monitor.';
    root.replaceChildren(h('p', { class: 'notice error-notice', role: 'alert' }, text,
      status === 401 ? [' ', h('a', { href: `/gestion/entrar?siguiente=${encodeURIComponent(window.location.pathname)}` }, 'Entrar')] : null));
    data.ready = 'error';
    data.error = String(error.message || error);
  }
}

boot();
