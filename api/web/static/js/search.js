// Search box as an ARIA combobox: instances and barrios by name from /map/search, arrows + Enter to choose.

import { demoBadge, getJSON, h } from './dom.js';

export function setupSearch(input, listbox, onChoose) {
  let results = [];
  let active = -1;
  let timer = null;
  let latest = 0;

  const close = () => {
    listbox.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  };
  const highlight = (index) => {
    active = index;
    [...listbox.children].forEach((li, i) => li.setAttribute('aria-selected', String(i === index)));
    if (index >= 0) input.setAttribute('aria-activedescendant', listbox.children[index].id);
  };
  const choose = (index) => {
    const result = results[index];
    if (!result) return;
    input.value = result.name;
    close();
    onChoose(result);
  };
  const render = () => {
    listbox.replaceChildren(...results.map((r, i) => h('li', {
      id: `search-option-${i}`, role: 'option', 'aria-selected': 'false', class: `search-option ${r.type}`,
      onmousedown: (event) => { event.preventDefault(); choose(i); },
    }, h('span', { class: 'search-type' }, r.type === 'barrio' ? 'Barrio' : 'Instancia'),
    h('span', { class: 'search-name' }, r.name, ' ', demoBadge(r.is_demo)),
    h('span', { class: 'search-detail' }, r.detail || ''))));
    if (!results.length) listbox.replaceChildren(h('li', { class: 'search-empty', role: 'option', 'aria-disabled': 'true' }, 'Sin resultados'));
    listbox.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    active = -1;
  };
  const query = async () => {
    const q = input.value.trim();
    if (q.length < 2) { close(); return; }
    const ticket = ++latest;
    const data = await getJSON(`/map/search?q=${encodeURIComponent(q)}`);
    if (ticket !== latest) return; // an older answer arriving late must not replace a newer one
    results = data.results;
    render();
  };

  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(query, 180); });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' && results.length) { event.preventDefault(); highlight((active + 1) % results.length); }
    else if (event.key === 'ArrowUp' && results.length) {
      event.preventDefault(); highlight((active - 1 + results.length) % results.length);
    } else if (event.key === 'Enter') { event.preventDefault(); choose(active >= 0 ? active : 0); }
    else if (event.key === 'Escape') close();
  });
  input.addEventListener('blur', () => setTimeout(close, 150));
}
