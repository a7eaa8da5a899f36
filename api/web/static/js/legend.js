// The legend: what every colour on the map means, for the layers that are switched on.

import { h } from './dom.js';
import { fmtDecimal } from './dom.js';
import { choroplethBreaks, GAP_COLOR, NO_DATA_COLOR } from './style.js';

const item = (swatchClass, style, text) => h('li', {},
  h('span', { class: `swatch ${swatchClass}`, style, 'aria-hidden': 'true' }), h('span', {}, text));

export function renderLegend(container, { config, kindColors, choropleth, hexagons, hexagonColors, gaps }) {
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
    const digits = choropleth.max === 1 ? 2 : 1;
    const limits = [choropleth.range[0], ...choroplethBreaks(choropleth.range), choropleth.range[1]]
      .map((v) => fmtDecimal(v, digits));
    const labels = choropleth.colors.map((_, i) => `${limits[i]} a ${limits[i + 1]}`);
    blocks.push(h('h3', {}, `${choropleth.label} por ${choropleth.unit === 'barrio' ? 'barrio' : 'distrito'}`),
      h('ul', { class: 'legend-list ramp', 'aria-label': `Escala de ${choropleth.label}, de ${limits[0]} a ${limits[5]}` },
        choropleth.colors.map((color, i) => item('fill', `background:${color}`, labels[i])).reverse(),
        item('fill', `background:${NO_DATA_COLOR}`, 'Sin dato')),
      h('p', { class: 'muted' }, `Escala de 0 (peor) a ${fmtDecimal(choropleth.max, 0)} (mejor); `,
        'cinco clases iguales entre el valor más bajo y el más alto.'));
  }
  if (hexagons && hexagonColors) {
    const ramp = `background:linear-gradient(90deg, ${hexagonColors.covered.join(', ')})`;
    blocks.push(h('h3', {}, 'Hexágonos H3 (accesibilidad)'), h('ul', { class: 'legend-list' },
      item('fill wide', ramp, 'Con instancia presencial cerca (más oscuro: más oferta por habitante)'),
      item('fill', `background:${hexagonColors.uncovered}`, 'Sin instancia presencial a distancia caminable')));
  }
  if (gaps) {
    blocks.push(h('h3', {}, 'Brechas'), h('ul', { class: 'legend-list' },
      item('line gap', `border-color:${GAP_COLOR}`, 'Barrios con más personas sin una instancia cercana')));
  }
  container.replaceChildren(...blocks);
}
