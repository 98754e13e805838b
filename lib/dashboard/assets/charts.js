// Line charts of the request history, drawn as SVG by hand (no library, no CDN, nothing inline that
// the page's CSP would refuse). Text goes in with textContent only.
import { el, fmtSeconds, fmtSpan, fmtUnit, replaceChildren } from './dom.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 420;
const H = 150;
const PAD = { left: 56, right: 10, top: 10, bottom: 22 };

function svgEl(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A round upper bound of the y axis at or above `v`. */
export function niceMax(v) {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * Draw `lines` ([{ key, values: [[t, v | null], ...] }]) into `svg` for the time range t0..t1;
 * `fmt` formats the y axis. Sets data-points on the svg: the non-null points drawn.
 */
export function drawChart(svg, { t0, t1, lines, fmt, max }) {
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  let hi = 0;
  for (const l of lines) for (const [, v] of l.values) if (v !== null && v > hi) hi = v;
  const top = max ?? niceMax(hi);
  const x = (t) => PAD.left + ((t - t0) / (t1 - t0 || 1)) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - (Math.min(v, top) / top) * (H - PAD.top - PAD.bottom);
  const parts = [];
  for (const f of [0, 0.5, 1]) {
    parts.push(svgEl('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: y(top * f), y2: y(top * f) }));
    parts.push(svgEl('text', { class: 'axis', x: PAD.left - 4, y: y(top * f) + 4, 'text-anchor': 'end' }, f === 0 ? '0' : fmt(top * f)));
  }
  parts.push(svgEl('text', { class: 'axis', x: PAD.left, y: H - 6, 'text-anchor': 'start' }, `−${fmtSpan(t1 - t0)}`));
  parts.push(svgEl('text', { class: 'axis', x: (PAD.left + W - PAD.right) / 2, y: H - 6, 'text-anchor': 'middle' }, `−${fmtSpan((t1 - t0) / 2)}`));
  parts.push(svgEl('text', { class: 'axis', x: W - PAD.right, y: H - 6, 'text-anchor': 'end' }, 'now'));
  let drawn = 0;
  for (const l of lines) {
    let d = '';
    let run = 0;
    const lone = [];
    l.values.forEach(([t, v], i) => {
      if (v === null || t < t0) {
        if (run === 1) lone.push(l.values[i - 1]);
        run = 0;
        return;
      }
      d += `${run === 0 ? 'M' : 'L'}${x(t).toFixed(1)} ${y(v).toFixed(1)} `;
      run++;
      drawn++;
    });
    if (run === 1) lone.push(l.values[l.values.length - 1]);
    if (d) parts.push(svgEl('path', { class: `line s-${l.key}`, d: d.trim() }));
    for (const [t, v] of lone) parts.push(svgEl('circle', { class: `dot s-${l.key}`, cx: x(t).toFixed(1), cy: y(v).toFixed(1), r: 2 }));
  }
  replaceChildren(svg, parts);
  svg.dataset.points = String(drawn);
}

const pct = (v) => `${(v * 100).toFixed(v < 0.1 && v > 0 ? 1 : 0)} %`;
const CHARTS = [
  { id: 'chart-rate', lines: [{ key: 'rate', name: 'req/s' }], fmt: (v) => fmtUnit(v, ''), legend: (v) => `${fmtUnit(v, '')} req/s` },
  { id: 'chart-errors', lines: [{ key: 'errorRatio', name: '5xx' }], fmt: pct, legend: (v) => `${(v * 100).toFixed(1)} %` },
  { id: 'chart-latency', lines: [{ key: 'p50', name: 'p50' }, { key: 'p95', name: 'p95' }, { key: 'p99', name: 'p99' }], fmt: fmtSeconds, legend: fmtSeconds },
];

function lastValue(points, key) {
  for (let i = points.length - 1; i >= 0; i--) if (points[i][key] !== null) return points[i][key];
  return null;
}

/** Draw the three request charts from a `dashboard/api/charts` response, for the window ending at `nowMs`. */
export function renderCharts(root, data, nowMs) {
  const t0 = nowMs - data.windowMs;
  for (const c of CHARTS) {
    const fig = root.querySelector(`#${c.id}`);
    const lines = c.lines.map((l) => ({ key: l.key, values: data.points.map((p) => [p.t, p[l.key]]) }));
    drawChart(fig.querySelector('svg'), { t0, t1: nowMs, lines, fmt: c.fmt, max: c.id === 'chart-errors' ? 1 : undefined });
    replaceChildren(fig.querySelector('.legend'), c.lines.map((l) => {
      const v = lastValue(data.points, l.key);
      return el('span', { className: `key s-${l.key}`, data: { key: l.key } },
        el('span', { className: 'swatch' }), el('span', { text: `${l.name} ` }), el('span', { className: 'last', text: v === null ? '—' : c.legend(v) }));
    }));
  }
}
