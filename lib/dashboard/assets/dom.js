// DOM helpers of the dashboard. Every value that came from a request is set with textContent
// (never innerHTML); links only ever get "#trace=<hex>" or the server-validated external template.

/** Create an element with a class, text and children. */
export function el(tag, opts = {}, ...children) {
  const e = document.createElement(tag);
  if (opts.className) e.className = opts.className;
  if (opts.text !== undefined && opts.text !== null) e.textContent = String(opts.text);
  if (opts.title !== undefined) e.title = String(opts.title);
  if (opts.data) for (const [k, v] of Object.entries(opts.data)) e.dataset[k] = String(v);
  for (const c of children) if (c) e.appendChild(c);
  return e;
}

/** Replace every child of `parent` with `children`. */
export function replaceChildren(parent, children) {
  const frag = document.createDocumentFragment();
  for (const c of children) frag.appendChild(c);
  parent.textContent = '';
  parent.appendChild(frag);
}

/** Show or hide an element. */
export function show(e, visible) {
  e.classList.toggle('hidden', !visible);
}

const HEX32 = /^[0-9a-f]{32}$/;

/** True when `id` looks like a W3C trace id. */
export function isTraceId(id) {
  return typeof id === 'string' && HEX32.test(id);
}

/** A link that opens a trace in the built-in viewer. */
export function traceLink(traceId, text) {
  const a = el('a', { className: 'trace-link mono', text: text ?? String(traceId).slice(0, 16) });
  if (isTraceId(traceId)) {
    a.href = `#trace=${traceId}`;
    a.dataset.traceId = traceId;
  }
  return a;
}

/** Seconds → "12.3 ms". */
export function fmtSeconds(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return '—';
  return fmtMs(s * 1000);
}

/** Milliseconds → "850 µs", "12.3 ms", "1.24 s". */
export function fmtMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** A value in the unit of a series. */
export function fmtUnit(v, unit) {
  if (!Number.isFinite(v)) return '—';
  if (unit === 'bytes') {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    let x = v;
    while (x >= 1024 && i < units.length - 1) {
      x /= 1024;
      i++;
    }
    return `${x.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
  }
  if (unit === 'seconds') return fmtSeconds(v);
  if (unit === 'percent') return `${v.toFixed(1)} %`;
  if (unit === 'ratio') return `${(v * 100).toFixed(1)} %`;
  return Math.abs(v) >= 100 ? String(Math.round(v)) : String(Math.round(v * 100) / 100);
}

/** Local time of an epoch-ms instant. */
/** A window or step of the charts and tables, exact: `15 min`, `1.5 min`, `2 s`, `1.5 s`, `1 h`. */
export function fmtSpan(ms) {
  const n = (v) => String(Math.round(v * 100) / 100);
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms >= 60_000) return `${n(ms / 60_000)} min`;
  return `${n(ms / 1000)} s`;
}

export function fmtTime(ms) {
  const d = new Date(ms);
  return d.toLocaleTimeString([], { hour12: false });
}

/** An SVG sparkline of `[t, v]` points. */
export function sparkline(points) {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 100 30');
  svg.setAttribute('preserveAspectRatio', 'none');
  const line = document.createElementNS(NS, 'polyline');
  if (points.length > 0) {
    const t0 = points[0][0];
    const t1 = points[points.length - 1][0];
    let lo = Infinity;
    let hi = -Infinity;
    for (const [, v] of points) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const span = hi - lo || 1;
    const dt = t1 - t0 || 1;
    const pts = points.map(([t, v]) => `${(((t - t0) / dt) * 100).toFixed(2)},${(28 - ((v - lo) / span) * 26).toFixed(2)}`);
    line.setAttribute('points', points.length === 1 ? `0,15 100,15` : pts.join(' '));
  }
  svg.appendChild(line);
  return svg;
}

/** Definition list of attributes. */
export function attrList(attrs) {
  const dl = el('dl', { className: 'attrs' });
  for (const [k, v] of Object.entries(attrs ?? {})) {
    dl.appendChild(el('dt', { text: k }));
    dl.appendChild(el('dd', { text: typeof v === 'string' ? v : JSON.stringify(v) }));
  }
  return dl;
}

/** One log line as a list item, with a link to its trace. */
export function logItem(line) {
  const li = el('li', { data: { seq: line.seq } });
  li.appendChild(el('span', { className: 'muted', text: `${fmtTime(line.timeMs)} ` }));
  li.appendChild(el('span', { className: `lvl-${String(line.level).replace(/[^a-z]/gi, '')}`, text: `${line.level} ` }));
  li.appendChild(el('span', { className: 'msg', text: line.message }));
  const extra = Object.entries(line.fields ?? {}).map(([k, v]) => `${k}=${v}`).join(' ');
  if (extra) li.appendChild(el('span', { className: 'muted', text: ` ${extra}` }));
  if (isTraceId(line.traceId)) {
    li.appendChild(document.createTextNode(' '));
    li.appendChild(traceLink(line.traceId, 'trace'));
  }
  return li;
}

/** GET a JSON document relative to the page. */
export async function getJson(path) {
  const r = await fetch(path, { cache: 'no-store', headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (!r.ok && r.status !== 404) throw new Error(`${path}: HTTP ${r.status}`);
  return { status: r.status, body: await r.json() };
}
