'use strict';
// Makes the demo's error ratio climb: `node demo-app/error-traffic.js [baseUrl] [seconds] [errorShare]`
// (defaults http://127.0.0.1:3000, 120 s, 0.5). Watch GET /alerts go pending, then firing.
const base = process.argv[2] || 'http://127.0.0.1:3000';
const seconds = Number(process.argv[3] || 120);
const errorShare = Number(process.argv[4] || 0.5);

async function main() {
  const end = Date.now() + seconds * 1000;
  let sent = 0;
  let failed = 0;
  while (Date.now() < end) {
    const path = Math.random() < errorShare ? '/error' : `/users/${sent % 100}`;
    const res = await fetch(base + path);
    await res.arrayBuffer();
    sent++;
    if (res.status >= 500) failed++;
    if (sent % 100 === 0) console.log(`${sent} requests, ${failed} failed — see ${base}/alerts`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
main().catch((err) => {
  console.error('error-traffic:', err.message);
  process.exitCode = 1;
});
