// The legend: what every colour on the map means, for the layers that are switched on.

import { h } from './dom.js';
import { CHOROPLETH_BREAKS, GAP_COLOR, HEXAGON_COLORS, NO_DATA_COLOR } from './style.js';

const item = (swatchClass, style, text) => h('li', {},
  h('span', { class: `swatch ${swatchClass}`, style, 'aria-hidden': 'true' }), h('span', {}, text));

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
    const labels = ['0 a 20', '20 a 40', '40 a 60', '60 a 80', '80 a 100'];
    blocks.push(h('h3', {}, `${choropleth.label} por ${choropleth.unit === 'barrio' ? 'barrio' : 'distrito'}`),
      h('ul', { class: 'legend-list ramp', 'aria-label': `Escala de ${choropleth.label}, de 0 a 100` },
        choropleth.colors.map((color, i) => item('fill', `background:${color}`, labels[i])),
        item('fill', `background:${NO_DATA_COLOR}`, 'Sin dato')),
      h('p', { class: 'muted' }, `Cortes en ${CHOROPLETH_BREAKS.join(', ')} (0 = peor, 100 = mejor).`));
  }
  if (hexagons) {
    blocks.push(h('h3', {}, 'Hexágonos H3 (accesibilidad)'), h('ul', { class: 'legend-list' },
      item('fill', `background:${HEXAGON_COLORS.covered}`, 'Con una instancia a 800 m o menos a pie'),
      item('fill', `background:${HEXAGON_COLORS.uncovered}`, 'Sin instancia a distancia caminable')));
  }
  if (gaps) {
    blocks.push(h('h3', {}, 'Brechas'), h('ul', { class: 'legend-list' },
      item('line gap', `border-color:${GAP_COLOR}`, 'Barrios con más personas sin una instancia cercana')));
  }
  container.replaceChildren(...blocks);
}
