// The legend: what every colour on the map means, for the layers that are switched on. The choropleth and the
// hexagons are described by the server's ramps (`config.ramps`, `config.hexagons.ramp`: colours, class limits and
// labels), the very ones the published style paints with.

import { h } from './dom.js';
import { GAP_COLOR } from './style.js';

const item = (swatchClass, style, text) => h('li', {},
  h('span', { class: `swatch ${swatchClass}`, style, 'aria-hidden': 'true' }), h('span', {}, text));

const swatch = (entry) => (entry.colours
  ? item('fill wide', `background:linear-gradient(90deg, ${entry.colours.join(', ')})`, entry.label)
  : item('fill', `background:${entry.colour}`, entry.label));

export function renderLegend(container, { config, kindColors, choropleth, hexagons, gaps }) {
  const blocks = [
    h('h3', {}, 'Instancias'),
    h('ul', { class: 'legend-list' },
      item('point', `background:${kindColors.default}`, 'Color según el tipo (ver filtros)'),
      item('cluster', '', `Grupo de instancias (se separan con zoom ${config.cluster_below_zoom} o más)`),
      item('point demo-ring', 'background:#ffffff', 'Los datos de demostración dicen DEMO en su ficha')),
    h('h3', {}, 'Territorio'),
    h('ul', { class: 'legend-list' },
      item('line district', '', 'Distrito municipal (límite aproximado)'),
      item('line barrio', '', 'Barrio')),
  ];
  if (choropleth) {
    const { ramp } = choropleth;
    blocks.push(h('h3', {}, `${choropleth.label} por ${choropleth.unit}`),
      h('ul', { class: 'legend-list ramp', 'aria-label': `Escala de ${choropleth.label}, ${ramp.range_label}`,
        dataset: { field: ramp.field } }, ramp.legend.map(swatch).reverse()),
      h('p', { class: 'muted' }, ramp.note));
  }
  if (hexagons) {
    blocks.push(h('h3', {}, hexagons.title), h('ul', { class: 'legend-list' }, hexagons.legend.map(swatch)));
  }
  if (gaps) {
    blocks.push(h('h3', {}, 'Brechas'), h('ul', { class: 'legend-list' },
      item('line gap', `border-color:${GAP_COLOR}`, 'Barrios con más personas sin una instancia cercana')));
  }
  container.replaceChildren(...blocks);
}
