'use strict';
// Which functions allocate per request: `node bench/alloc.cjs metrics|traced|full [--shaped] [TOP]`.
// Runs bench/inprocess.cjs (our middleware on stub or shaped requests, no sockets) under V8's sampling
// heap profiler with the objects later collected kept in the profile, so it counts allocations, not what
// survives. Prints each function's share of the bytes allocated (self: the objects its own code made,
// strings flattened by a builtin it called included). Not a test and asserts nothing; the ad-hoc
// complement of inprocess.cjs's bytes-per-request figure. As there, the full stack logs to /dev/null (a
// stream, not the file's synchronous append) and ships to a closed port (its backlog overflows and is counted).
const inspector = require('node:inspector');

const top = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 30);
const session = new inspector.Session();
session.connect();
session.post('HeapProfiler.enable');
session.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });

process.on('exit', () => {
  // The in-process session answers synchronously.
  session.post('HeapProfiler.stopSampling', (err, result) => {
    if (err) throw err;
    const self = new Map();
    let total = 0;
    const walk = (node) => {
      const f = node.callFrame;
      const name = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\//, '')}:${f.lineNumber + 1}`;
      total += node.selfSize;
      self.set(name, (self.get(name) ?? 0) + node.selfSize);
      for (const c of node.children) walk(c);
    };
    walk(result.profile.head);
    console.log(`\nbytes allocated, by function (self), share of the ${Math.round(total / 1048576)} MB the run allocated:`);
    for (const [name, bytes] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * bytes) / total).toFixed(1).padStart(5)} %  ${name}`);
  });
});
require('./inprocess.cjs');
