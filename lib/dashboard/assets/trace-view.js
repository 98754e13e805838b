// The trace viewer: waterfall of one trace's spans (timing bars, nesting, status, attributes,
// events, exceptions) and the log lines written during it.
import { attrList, el, fmtMs, getJson, logItem, replaceChildren, show } from './dom.js';

const $ = (id) => document.getElementById(id);

function spanDetail(s) {
  const box = el('div', { className: 'span-detail', data: { spanId: s.spanId } });
  box.appendChild(el('h3', { text: `${s.name} · ${s.kind} · ${s.status}${s.statusMessage ? `: ${s.statusMessage}` : ''}` }));
  box.appendChild(el('div', { className: 'muted small mono', text: `span ${s.spanId}${s.parentSpanId ? ` · parent ${s.parentSpanId}` : ''} · ${fmtMs(s.durationMs)}` }));
  box.appendChild(el('h3', { text: 'Attributes' }));
  box.appendChild(attrList(s.attributes));
  if (s.events.length > 0) box.appendChild(el('h3', { text: 'Events' }));
  for (const e of s.events) {
    const offset = fmtMs(e.timeMs - s.startMs);
    if (e.name === 'exception') {
      const ex = el('div', { className: 'exception' },
        el('strong', { text: `${e.attributes['exception.type'] ?? 'exception'}: ${e.attributes['exception.message'] ?? ''}` }),
        el('span', { className: 'muted', text: ` at +${offset}` }));
      if (e.attributes['exception.stacktrace']) ex.appendChild(el('pre', { className: 'stack', text: e.attributes['exception.stacktrace'] }));
      box.appendChild(ex);
    } else {
      box.appendChild(el('div', { className: 'event' }, el('span', { text: e.name }), el('span', { className: 'muted', text: ` at +${offset}` })));
      if (Object.keys(e.attributes).length > 0) box.appendChild(attrList(e.attributes));
    }
  }
  return box;
}

/** Load trace `traceId` and render it. */
export async function openTrace(traceId) {
  delete $('trace-view').dataset.loaded;
  $('trace-id').textContent = traceId;
  replaceChildren($('waterfall'), []);
  replaceChildren($('trace-logs'), []);
  show($('span-detail'), false);
  const r = await getJson(`dashboard/api/traces/${traceId}`);
  const d = r.body;
  show($('trace-missing'), r.status !== 200 || d.spans.length === 0);
  const ext = $('trace-external');
  if (d.externalUrl && /^https?:\/\//i.test(d.externalUrl)) {
    ext.href = d.externalUrl;
    show(ext, true);
  } else show(ext, false);
  if (r.status !== 200) {
    $('trace-view').dataset.loaded = traceId;
    return;
  }
  const t0 = Math.min(...d.spans.map((s) => s.startMs));
  const t1 = Math.max(...d.spans.map((s) => s.startMs + s.durationMs));
  const total = Math.max(t1 - t0, 0.001);
  const rows = d.spans.map((s) => {
    const name = el('div', { className: 'span-name', title: s.name }, el('span', { text: s.name }), el('span', { className: 'span-kind', text: s.kind }));
    name.style.paddingLeft = `${s.depth * 16}px`;
    const bar = el('div', { className: 'bar' });
    bar.style.left = `${(((s.startMs - t0) / total) * 100).toFixed(3)}%`;
    bar.style.width = `${((s.durationMs / total) * 100).toFixed(3)}%`;
    const row = el('div', {
      className: `span-row${s.status === 'ERROR' ? ' error' : ''}`,
      data: { spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', depth: s.depth, kind: s.kind, status: s.status, durationMs: s.durationMs, startMs: s.startMs },
    }, name, el('div', { className: 'track' }, bar), el('div', { className: 'span-duration', text: fmtMs(s.durationMs) }));
    row.addEventListener('click', () => {
      for (const other of $('waterfall').children) other.classList.toggle('selected', other === row);
      replaceChildren($('span-detail'), [spanDetail(s)]);
      show($('span-detail'), true);
    });
    return row;
  });
  replaceChildren($('waterfall'), rows);
  replaceChildren($('trace-logs'), d.logs.map(logItem));
  if (d.logs.length === 0) $('trace-logs').appendChild(el('li', { className: 'muted', text: 'No log lines recorded for this trace.' }));
  const firstError = d.spans.find((s) => s.status === 'ERROR') ?? d.spans[0];
  if (firstError) {
    replaceChildren($('span-detail'), [spanDetail(firstError)]);
    show($('span-detail'), true);
  }
  $('trace-view').dataset.loaded = traceId;
}
