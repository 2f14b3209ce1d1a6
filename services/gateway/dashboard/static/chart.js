// Line charts with uPlot. Each chart is a figure with a caption, an
// aria-label and its numbers in a table beneath, so the figures reach
// screen readers and the keyboard too.

import uPlot from './vendor/uplot@1.6.32/uPlot.esm.js';
import { h, table } from './view.js';

const COLOURS = ['#0b4f8a', '#b3261e', '#1e6b34', '#7a4b00'];
const HEIGHT = 220;
// A lone period is drawn a day either side, not across years.
const PAD_SECS = 86400;

// `x`: unix seconds; `series`: [{label, values}]. Returns the figure and
// a `destroy()` to call when the page is left.
export function lineChart({ title, x, series, unit = '' }) {
  const plot = h('div', { class: 'plot', role: 'img', 'aria-label': `${title}: chart of ${series.map((s) => s.label).join(', ')}` });
  const figure = h('figure', { class: 'chart' },
    h('figcaption', {}, title),
    plot,
    h('details', {}, h('summary', {}, `${title}: the numbers`),
      table([
        { label: 'Period', value: (i) => new Date(x[i] * 1000).toISOString().slice(0, 10) },
        ...series.map((s) => ({ label: s.label, value: (i) => format(s.values[i], unit), num: true })),
      ], x.map((_, i) => i))));
  let chart = null;
  const draw = () => {
    const width = Math.max(200, Math.floor(plot.clientWidth));
    if (chart) {
      chart.setSize({ width, height: HEIGHT });
      return;
    }
    chart = new uPlot({
      width,
      height: HEIGHT,
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2, points: { show: true } }))],
      axes: [{}, { size: 60 }],
      scales: { x: { time: true, range: (u, min, max) => (min === max ? [min - PAD_SECS, max + PAD_SECS] : [min, max]) } },
      legend: { live: false },
    }, [x, ...series.map((s) => s.values)], plot);
  };
  const observer = new ResizeObserver(() => requestAnimationFrame(draw));
  queueMicrotask(() => {
    if (plot.isConnected) draw();
    observer.observe(plot);
  });
  return {
    figure,
    destroy() {
      observer.disconnect();
      chart?.destroy();
    },
  };
}

function format(value, unit) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return `${Math.round(value * 100) / 100}${unit}`;
}
