'use strict';
// Preloaded into a benchmark server by bench/gc.mjs (`node -r`): SIGUSR1 starts V8's GC profiler,
// SIGUSR2 stops it and prints one "GC {json}" line on stderr: scavenges, their main-thread time,
// bytes that survived / were promoted per scavenge, the young generation's size at the end,
// full GCs, and RSS.
const v8 = require('node:v8');

const profiler = new v8.GCProfiler();
let started = false;
process.on('SIGUSR1', () => {
  profiler.start();
  started = true;
});
process.on('SIGUSR2', () => {
  if (!started) return;
  started = false;
  const { statistics } = profiler.stop();
  const space = (s, when, name) => s[when].heapSpaceStatistics.find((x) => x.spaceName === name);
  const scavenges = statistics.filter((s) => s.gcType === 'Scavenge');
  let survived = 0;
  let promoted = 0;
  let scavengeMs = 0;
  for (const s of scavenges) {
    survived += space(s, 'afterGC', 'new_space').spaceUsedSize;
    promoted += space(s, 'afterGC', 'old_space').spaceUsedSize - space(s, 'beforeGC', 'old_space').spaceUsedSize;
    scavengeMs += s.cost / 1000;
  }
  const full = statistics.filter((s) => s.gcType === 'MarkSweepCompact');
  const last = scavenges[scavenges.length - 1];
  // When the young generation grew: [scavenge index, MB] at the start and at each change.
  const growth = [];
  for (let i = 0; i < scavenges.length; i++) {
    const mb = space(scavenges[i], 'afterGC', 'new_space').spaceSize / 1048576;
    if (!growth.length || growth[growth.length - 1][1] !== mb) growth.push([i, mb]);
  }
  const result = {
    growth,
    scavenges: scavenges.length,
    scavengeMs,
    survivedKbPerScavenge: scavenges.length ? survived / scavenges.length / 1024 : 0,
    promotedKbPerScavenge: scavenges.length ? promoted / scavenges.length / 1024 : 0,
    newSpaceMb: last ? space(last, 'afterGC', 'new_space').spaceSize / 1048576 : 0,
    fullGcs: full.length,
    fullGcMs: full.reduce((a, s) => a + s.cost, 0) / 1000,
    rssMb: process.memoryUsage().rss / 1048576,
    // Where the RSS is: each heap space's committed size, and memory outside the heap.
    spacesMb: Object.fromEntries(
      v8.getHeapSpaceStatistics().map((x) => [x.space_name.replace(/_space$/, ''), +(x.physical_space_size / 1048576).toFixed(1)]),
    ),
    externalMb: +(process.memoryUsage().external / 1048576).toFixed(1),
    arrayBuffersMb: +(process.memoryUsage().arrayBuffers / 1048576).toFixed(1),
  };
  process.stderr.write(`GC ${JSON.stringify(result)}\n`);
});
