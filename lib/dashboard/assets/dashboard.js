// The dashboard page: polls dashboard/api/summary, renders every panel with textContent only,
// reconnects on its own when the server goes away, and switches to the trace viewer on #trace=<id>.
/* global URLSearchParams */
import { el, fmtMs, fmtSeconds, fmtSpan, fmtTime, fmtUnit, getJson, isTraceId, logItem, replaceChildren, show, sparkline, traceLink } from './dom.js';
import { openTrace } from './trace-view.js';
import { renderCharts } from './charts.js';

const $ = (id) => document.getElementById(id);
const state = { summary: null, sortKey: 'rate', sortDir: -1, detail: null, failures: 0, timer: null, rows: new Map(), chartRoute: '', chartOptions: '', alertTraces: undefined, paused: false };

function setConn(ok, text) {
  $('conn-dot').className = `dot ${ok ? 'live' : 'down'}`;
  $('conn-text').textContent = text;
}

function worst(entries) {
  const order = { pass: 0, warn: 1, fail: 2 };
  let w = 'pass';
  for (const e of entries) if ((order[e.status] ?? 2) > order[w]) w = order[e.status] === undefined ? 'fail' : e.status;
  return w;
}

function renderHealth(s) {
  show($('health-off'), !s.sources.health);
  const h = s.health;
  const badge = $('health-overall');
  const status = h ? String(h.status) : 'unknown';
  badge.textContent = status;
  badge.className = `badge status-${status.replace(/[^a-z]/g, '')}`;
  badge.dataset.status = status;
  const items = [];
  for (const [name, entries] of Object.entries((h && h.checks) || {})) {
    const list = Array.isArray(entries) ? entries : [entries];
    const st = worst(list);
    const li = el('li', { className: 'health-check', data: { name, status: st } },
      el('span', { className: `badge status-${st}`, text: st }),
      el('span', { className: 'name', text: name }));
    for (const e of list) {
      const bits = [];
      if (e.observedValue !== undefined) bits.push(`${e.observedValue}${e.observedUnit ? ` ${e.observedUnit}` : ''}`);
      if (e.output) bits.push(String(e.output));
      if (bits.length) li.appendChild(el('span', { className: 'muted', text: bits.join(' · ') }));
    }
    items.push(li);
  }
  if (h && h.output) items.push(el('li', { className: 'muted', text: String(h.output) }));
  replaceChildren($('health-checks'), items);
}

function alertItem(a) {
  const li = el('li', { className: 'alert', data: { name: a.name, state: a.state } },
    el('span', { className: `badge status-${a.state === 'firing' ? 'fail' : a.state === 'pending' ? 'warn' : 'pass'}`, text: a.state }),
    el('span', { className: 'name', text: a.name }));
  if (a.severity) li.appendChild(el('span', { className: 'muted', text: a.severity }));
  if (a.summary) li.appendChild(el('span', { text: a.summary }));
  if (a.activeSinceMs) li.appendChild(el('span', { className: 'muted', text: `since ${fmtTime(a.activeSinceMs)}` }));
  const btn = el('a', { className: 'alert-traces', text: 'traces' });
  btn.href = '#';
  btn.addEventListener('click', (ev) => {
    ev.preventDefault();
    showAlertTraces(a.name);
  });
  li.appendChild(btn);
  return li;
}

async function showAlertTraces(name) {
  state.alertTraces = name;
  const r = await getJson(`dashboard/api/alerts/traces?name=${encodeURIComponent(name)}`);
  if (r.status !== 200 || state.alertTraces !== name) return;
  $('trace-route').value = r.body.alert.labels.route || '';
  $('trace-status').value = '';
  $('traces-window').textContent = `the traces behind alert ${name}, over its active period (change a filter to list all)`;
  renderTraceRows(r.body.traces);
  $('traces-card').scrollIntoView();
}

function renderAlerts(s) {
  show($('alerts-off'), !s.sources.alerts);
  const none = (text) => [el('li', { className: 'muted', text })];
  replaceChildren($('alerts-active'), s.alerts.active.length ? s.alerts.active.map(alertItem) : none('No active alerts.'));
  replaceChildren($('alerts-recent'), s.alerts.recent.length ? s.alerts.recent.slice(0, 20).map(alertItem) : none('Nothing resolved recently.'));
}

function renderSystem(s) {
  replaceChildren($('system'), s.system.map((series) => {
    const last = series.points[series.points.length - 1];
    return el('div', { className: 'spark', data: { id: series.id } },
      el('div', { className: 'label', text: series.label }),
      el('div', { className: 'value', text: fmtUnit(last ? last[1] : NaN, series.unit) }),
      sparkline(series.points));
  }));
}

const COLS = ['method', 'route', 'rate', 'errorRatio', 'p50', 'p95', 'p99', 'count'];
function cellText(r, c) {
  if (c === 'rate') return r.rate.toFixed(2);
  if (c === 'errorRatio') return `${(r.errorRatio * 100).toFixed(1)} %`;
  if (c === 'p50' || c === 'p95' || c === 'p99') return fmtSeconds(r[c]);
  return String(r[c]);
}

function renderRoutes(s) {
  const filter = $('route-filter').value.trim().toLowerCase();
  const key = state.sortKey;
  const dir = state.sortDir;
  const rows = s.routes.filter((r) => !filter || `${r.method} ${r.route}`.toLowerCase().includes(filter));
  rows.sort((a, b) => {
    const x = a[key] ?? -1;
    const y = b[key] ?? -1;
    return (typeof x === 'string' ? x.localeCompare(y) : x - y) * dir || a.route.localeCompare(b.route);
  });
  const frag = document.createDocumentFragment();
  const seen = new Set();
  for (const r of rows) {
    const id = `${r.method} ${r.route}`;
    seen.add(id);
    let tr = state.rows.get(id);
    if (!tr) {
      tr = el('tr', { data: { method: r.method, route: r.route } });
      for (const c of COLS) tr.appendChild(el('td', { className: c === 'route' ? 'route' : c === 'method' ? 'method' : `num ${c}` }));
      tr.addEventListener('click', () => {
        openRoute(r.method, r.route);
        selectChartRoute(id);
      });
      state.rows.set(id, tr);
    }
    COLS.forEach((c, i) => {
      const t = cellText(r, c);
      if (tr.children[i].textContent !== t) tr.children[i].textContent = t;
    });
    tr.classList.toggle('err', r.errorRatio > 0);
    frag.appendChild(tr);
  }
  for (const id of [...state.rows.keys()]) if (!seen.has(id)) state.rows.delete(id);
  const tbody = $('routes').tBodies[0];
  tbody.textContent = '';
  tbody.appendChild(frag);
  $('routes-count').textContent = `${rows.length} of ${s.routes.length} routes`;
  for (const th of $('routes').tHead.rows[0].cells) {
    th.classList.toggle('sorted-asc', th.dataset.sort === key && dir === 1);
    th.classList.toggle('sorted-desc', th.dataset.sort === key && dir === -1);
  }
}

async function openRoute(method, route) {
  state.detail = { method, route };
  const r = await getJson(`dashboard/api/routes/detail?method=${encodeURIComponent(method)}&route=${encodeURIComponent(route)}`);
  if (r.status !== 200) return;
  const d = r.body;
  $('route-detail-name').textContent = `${method} ${route}`;
  const max = Math.max(1, ...d.totalCounts);
  const rows = d.le.map((le, i) => {
    const w = el('span', { className: 'hbar' });
    w.style.width = `${Math.round((d.windowCounts[i] / max) * 200)}px`;
    const t = el('span', { className: 'hbar total' });
    t.style.width = `${Math.round(((d.totalCounts[i] - d.windowCounts[i]) / max) * 200)}px`;
    const links = el('td', { className: 'exemplars' });
    for (const e of d.exemplars[i] || []) {
      const a = traceLink(e.traceId, `${fmtMs(e.durationMs)} ${e.status}`);
      a.classList.add('exemplar');
      if (!e.inBuffer) a.title = 'no longer in the trace buffer';
      links.appendChild(a);
    }
    return el('tr', { data: { le: String(le) } },
      el('td', { className: 'num', text: le === '+Inf' ? '+Inf' : fmtSeconds(Number(le)) }),
      el('td', {}, w, t), el('td', { className: 'num', text: `${d.windowCounts[i]} / ${d.totalCounts[i]}` }), links);
  });
  replaceChildren($('buckets').tBodies[0], rows);
  show($('route-detail'), true);
  $('route-detail').scrollIntoView({ block: 'nearest' });
}

// The route picker of the charts: "all routes" plus every "METHOD route" of the route table.
function renderChartRoutes(s) {
  const keys = s.routes.map((r) => `${r.method} ${r.route}`).sort((a, b) => a.slice(a.indexOf(' ') + 1).localeCompare(b.slice(b.indexOf(' ') + 1)) || a.localeCompare(b));
  if (state.chartRoute && !keys.includes(state.chartRoute)) keys.push(state.chartRoute);
  const sig = keys.join('\n');
  if (sig === state.chartOptions) return;
  state.chartOptions = sig;
  const select = $('chart-route');
  replaceChildren(select, [el('option', { text: 'all routes' }), ...keys.map((k) => el('option', { text: k }))].map((o, i) => {
    o.value = i === 0 ? '' : keys[i - 1];
    return o;
  }));
  select.value = state.chartRoute;
}

async function refreshCharts() {
  const key = state.chartRoute;
  const sp = key.indexOf(' ');
  const q = key ? `?method=${encodeURIComponent(key.slice(0, sp))}&route=${encodeURIComponent(key.slice(sp + 1))}` : '';
  const r = await getJson(`dashboard/api/charts${q}`);
  if (r.status !== 200 || key !== state.chartRoute) return;
  $('charts-window').textContent = `${key || 'all routes'}, last ${fmtSpan(r.body.windowMs)}, one point per ${fmtSpan(r.body.resolutionMs)}`;
  renderCharts($('charts-card'), r.body, state.summary ? state.summary.nowMs : Date.now());
}

function selectChartRoute(key) {
  state.chartRoute = key;
  if (state.summary) renderChartRoutes(state.summary);
  $('chart-route').value = key;
  refreshCharts().catch((err) => setConn(false, `charts failed: ${err.message}`));
}

function traceRow(t) {
  const tr = el('tr', { className: t.error ? 'err' : '', data: { traceId: t.traceId } },
    el('td', { text: fmtTime(t.startMs) }),
    el('td', {}, traceLink(t.traceId)),
    el('td', { className: 'name', text: t.name }),
    el('td', { className: 'num', text: t.statusCode ?? (t.error ? 'error' : '') }),
    el('td', { className: 'num', text: fmtMs(t.durationMs) }),
    el('td', { className: 'num', text: t.spanCount }));
  tr.addEventListener('click', (ev) => {
    if (ev.target.tagName !== 'A' && isTraceId(t.traceId)) location.hash = `trace=${t.traceId}`;
  });
  return tr;
}

function renderTraceRows(list) {
  replaceChildren($('traces').tBodies[0], list.map(traceRow));
}

async function refreshTraces() {
  // The traces of an alert stay listed (and refreshed) until a filter changes.
  if (state.alertTraces) return showAlertTraces(state.alertTraces);
  const q = new URLSearchParams();
  if ($('trace-route').value.trim()) q.set('route', $('trace-route').value.trim());
  if ($('trace-status').value) q.set('status', $('trace-status').value);
  if ($('trace-min').value) q.set('minMs', $('trace-min').value);
  if ($('trace-sort').value) q.set('sort', $('trace-sort').value);
  q.set('limit', '100');
  const r = await getJson(`dashboard/api/traces?${q}`);
  if (r.status === 200) renderTraceRows(r.body);
}

function render(s) {
  $('service-name').textContent = `${s.service.name} ${s.service.version}`;
  $('routes-window').textContent = `rate, errors and quantiles over the last ${fmtSpan(s.rateWindowMs)}`;
  renderHealth(s);
  renderAlerts(s);
  renderSystem(s);
  renderRoutes(s);
  renderChartRoutes(s);
  show($('traces-off'), !s.sources.traces);
  show($('logs-off'), !s.sources.logs);
  replaceChildren($('error-logs'), s.errorLogs.map(logItem));
}

async function poll() {
  clearTimeout(state.timer);
  let delay = 2000;
  try {
    const r = await getJson('dashboard/api/summary');
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    state.summary = r.body;
    state.failures = 0;
    delay = r.body.refreshMs;
    setConn(true, 'live');
    $('updated').textContent = `updated ${fmtTime(r.body.nowMs)}`;
    render(r.body);
    await refreshCharts();
    if (r.body.sources.traces) await refreshTraces();
  } catch (err) {
    state.failures++;
    delay = Math.min(1000 * state.failures, 5000);
    setConn(false, `disconnected (${err.message}), retrying…`);
  }
  // A page in a hidden tab (a dashboard left open) asks nothing of the server until it is shown again.
  if (document.hidden) {
    state.paused = true;
    $('conn-text').textContent = 'paused while the tab is hidden';
    return;
  }
  state.timer = setTimeout(poll, delay);
}

function route() {
  const m = /^#trace=([0-9a-f]{32})$/.exec(location.hash);
  show($('overview'), !m);
  show($('trace-view'), Boolean(m));
  if (m) openTrace(m[1]).catch((err) => setConn(false, `trace failed: ${err.message}`));
}

function init() {
  for (const th of $('routes').tHead.rows[0].cells) {
    th.addEventListener('click', () => {
      const k = th.dataset.sort;
      if (state.sortKey === k) state.sortDir = -state.sortDir;
      else {
        state.sortKey = k;
        state.sortDir = k === 'route' || k === 'method' ? 1 : -1;
      }
      if (state.summary) renderRoutes(state.summary);
    });
  }
  $('chart-route').addEventListener('change', () => selectChartRoute($('chart-route').value));
  $('route-filter').addEventListener('input', () => state.summary && renderRoutes(state.summary));
  $('route-detail-close').addEventListener('click', () => show($('route-detail'), false));
  for (const id of ['trace-route', 'trace-status', 'trace-min', 'trace-sort']) {
    $(id).addEventListener('change', () => {
      state.alertTraces = undefined;
      $('traces-window').textContent = '';
      refreshTraces();
    });
  }
  $('trace-back').addEventListener('click', (ev) => {
    ev.preventDefault();
    history.pushState(null, '', location.pathname + location.search);
    route();
  });
  window.addEventListener('hashchange', route);
  document.addEventListener('visibilitychange', () => {
    if (document.hidden || !state.paused) return;
    state.paused = false;
    poll();
  });
  route();
  poll();
}

init();
