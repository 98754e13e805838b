'use strict';
// What V8's young-generation collector does with one OpenTelemetry context per request, without a server
// (docs/performance.md, "Garbage, memory and start-up"). Not part of `npm run bench`:
//   node bench/context-gc.cjs [api|closures|prototype|ours ...]
// Each mode derives 5 million contexts, one at a time, each holding a small object (the "span"), and
// reports the bytes surviving and promoted per scavenge and the young generation's size at the end:
//   api        the API's ROOT_CONTEXT.setValue (its BaseContext: three closures per context)
//   closures   a copy of that class (same closures)
//   prototype  the same class with its methods on the prototype
//   ours       the package's request root context (build/tracing/context.js; `npm run build` first)
// Each mode runs in a fresh process.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const v8 = require('node:v8');

const N = 5_000_000;

function contextFactory(mode) {
  if (mode === 'api') {
    const api = require('@opentelemetry/api');
    const key = api.createContextKey('bench');
    return (v) => api.ROOT_CONTEXT.setValue(key, v);
  }
  if (mode === 'ours') {
    const { REQUEST_ROOT_CONTEXT } = require(path.join(__dirname, '..', 'build', 'tracing', 'context.js'));
    const key = Symbol('bench');
    return (v) => REQUEST_ROOT_CONTEXT.setValue(key, v);
  }
  const key = Symbol('bench');
  if (mode === 'closures') {
    class WithClosures {
      constructor(parent) {
        // eslint-disable-next-line @typescript-eslint/no-this-alias -- a copy of the API's own class, closures over the instance included
        const self = this;
        self._values = parent ? new Map(parent) : new Map();
        self.getValue = (k) => self._values.get(k);
        self.setValue = (k, v) => {
          const c = new WithClosures(self._values);
          c._values.set(k, v);
          return c;
        };
        self.deleteValue = (k) => {
          const c = new WithClosures(self._values);
          c._values.delete(k);
          return c;
        };
      }
    }
    const root = new WithClosures();
    return (v) => root.setValue(key, v);
  }
  if (mode === 'prototype') {
    class OnPrototype {
      constructor(parent) {
        this._values = parent ? new Map(parent) : new Map();
      }
      getValue(k) {
        return this._values.get(k);
      }
      setValue(k, v) {
        const c = new OnPrototype(this._values);
        c._values.set(k, v);
        return c;
      }
      deleteValue(k) {
        const c = new OnPrototype(this._values);
        c._values.delete(k);
        return c;
      }
    }
    const root = new OnPrototype();
    return (v) => root.setValue(key, v);
  }
  throw new Error(`unknown mode ${mode}`);
}

function measure(mode) {
  const derive = contextFactory(mode);
  // The newest context stays reachable, as a request's does while it runs.
  let current;
  const one = (i) => {
    current = derive({ i, name: `span ${i & 1023}` });
    return current;
  };
  for (let i = 0; i < 1_000_000; i++) one(i);
  const profiler = new v8.GCProfiler();
  profiler.start();
  for (let i = 0; i < N; i++) one(i);
  const scavenges = profiler.stop().statistics.filter((s) => s.gcType === 'Scavenge');
  const space = (s, when, name) => s[when].heapSpaceStatistics.find((x) => x.spaceName === name);
  let survived = 0;
  let promoted = 0;
  for (const s of scavenges) {
    survived += space(s, 'afterGC', 'new_space').spaceUsedSize;
    promoted += space(s, 'afterGC', 'old_space').spaceUsedSize - space(s, 'beforeGC', 'old_space').spaceUsedSize;
  }
  const n = scavenges.length || 1;
  const young = scavenges.length ? space(scavenges[scavenges.length - 1], 'afterGC', 'new_space').spaceSize / 1048576 : 0;
  console.log(
    `${mode.padEnd(10)} scavenges ${String(scavenges.length).padStart(4)}  survived ${(survived / n / 1024).toFixed(0).padStart(6)} KB  promoted ${(promoted / n / 1024).toFixed(0).padStart(6)} KB  young generation ${young} MB`,
  );
}

if (process.argv[2] === '--one') {
  measure(process.argv[3]);
} else {
  const modes = process.argv.slice(2).length ? process.argv.slice(2) : ['api', 'closures', 'prototype', 'ours'];
  for (const mode of modes) {
    const r = spawnSync(process.execPath, [module.filename, '--one', mode], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}
