// Hand-drawn SVG charts: horizontal bars and stacked bars, each with a title and description.
import { formatNumber, h, scrollBox, uid } from './ui.js';

const NS = 'http://www.w3.org/2000/svg';
const WIDTH = 440;
const LABEL_W = 164;
const VALUE_W = 64;
const ROW_H = 30;
const BAR_H = 20;

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) if (value != null) el.setAttribute(key, String(value));
  for (const child of children.flat()) if (child != null) el.append(child instanceof Node ? child : String(child));
  return el;
}

// 16 characters fit the label column at 16 px even in a wide font (DejaVu Sans: "Emergency
// respo…" is 156 px of 156); the full label is in the chart's description and its table.
function shorten(text, max = 16) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function frame(title, description, height) {
  const titleId = uid('chart-title');
  const descId = uid('chart-desc');
  return s('svg', {
    class: 'chart', viewBox: `0 0 ${WIDTH} ${height}`, role: 'img',
    'aria-labelledby': `${titleId} ${descId}`, preserveAspectRatio: 'xMinYMin meet',
  }, s('title', { id: titleId }, title), s('desc', { id: descId }, description));
}

/** One bar a row: rows are {label, value}; `empty` is said when there is no row. */
export function barChart({ title, description, rows, empty = 'No activities match.' }) {
  const height = Math.max(1, rows.length) * ROW_H + 8;
  const svg = frame(title, description, height);
  const max = Math.max(1, ...rows.map((r) => r.value || 0));
  const span = WIDTH - LABEL_W - VALUE_W;
  rows.forEach((row, i) => {
    const y = 4 + i * ROW_H;
    const w = Math.max(row.value ? 2 : 0, ((row.value || 0) / max) * span);
    svg.append(
      s('text', { x: LABEL_W - 8, y: y + BAR_H / 2 + 5, 'text-anchor': 'end' }, shorten(row.label)),
      s('rect', { x: LABEL_W, y, width: w.toFixed(1), height: BAR_H, class: 'c0', rx: 2 }),
      s('text', { x: LABEL_W + w + 6, y: y + BAR_H / 2 + 5 }, formatNumber(row.value ?? 0)),
    );
  });
  if (!rows.length) svg.append(s('text', { x: 8, y: 24 }, empty));
  return svg;
}

/** Stacked bars: groups are {label, values: {key: n}}, keys are [{key, label}]. */
export function stackedChart({ title, description, groups, keys }) {
  const height = Math.max(1, groups.length) * ROW_H + 8;
  const svg = frame(title, description, height);
  const totals = groups.map((g) => keys.reduce((sum, k) => sum + (g.values[k.key] || 0), 0));
  const max = Math.max(1, ...totals);
  const span = WIDTH - LABEL_W - VALUE_W;
  groups.forEach((group, i) => {
    const y = 4 + i * ROW_H;
    let x = LABEL_W;
    svg.append(s('text', { x: LABEL_W - 8, y: y + BAR_H / 2 + 5, 'text-anchor': 'end' }, shorten(group.label)));
    keys.forEach((k, j) => {
      const value = group.values[k.key] || 0;
      if (!value) return;
      const w = (value / max) * span;
      svg.append(s('rect', { x: x.toFixed(1), y, width: w.toFixed(1), height: BAR_H, class: `c${j % 6}` }));
      x += w;
    });
    svg.append(s('text', { x: x + 6, y: y + BAR_H / 2 + 5 }, formatNumber(totals[i])));
  });
  if (!groups.length) svg.append(s('text', { x: 8, y: 24 }, 'No activities match.'));
  return svg;
}

export function legend(keys) {
  return h('ul', { class: 'legend', 'aria-hidden': 'true' },
    keys.map((k, j) => h('li', {}, h('span', { class: `swatch c${j % 6}` }), k.label)));
}

/** A figure: caption, chart, optional legend, and the same numbers as a table. */
export function figure({ title, chart, extra, table, wide = false }) {
  return h('figure', { class: wide ? 'panel wide' : 'panel' }, h('figcaption', {}, title), chart, extra, scrollBox(`${title}: table`, table));
}

export function table(caption, headers, rows) {
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headers.map((head, i) => h('th', { scope: 'col', class: i ? 'num' : null }, head)))),
    h('tbody', {}, rows.map((cells) =>
      h('tr', {}, cells.map((cell, i) => (i ? h('td', { class: 'num' }, cell) : h('th', { scope: 'row' }, cell)))))));
}
