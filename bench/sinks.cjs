'use strict';
// Local stand-ins the benchmark servers export to, run in their own process (forked by
// bench/run.mjs, on the load generator's core):
//   otlp     OTLP/HTTP receiver that reads and discards every export (200, empty JSON body)
//   es       Elasticsearch stand-in: `_bulk` answers one success item per action line
//   hanging  accepts connections, reads requests, never answers
//   closed   a port that was bound and released, where nothing listens
// Prints one JSON line with the URLs; answers IPC {cmd:'stats'} with request/byte counts.
const http = require('node:http');
const net = require('node:net');

const stats = { otlpRequests: 0, otlpBytes: 0, esRequests: 0, esBytes: 0, esActions: 0, hangingConnections: 0 };

function drain(req, done) {
  let bytes = 0;
  const chunks = [];
  req.on('data', (c) => {
    bytes += c.length;
    chunks.push(c);
  });
  req.on('end', () => done(bytes, chunks));
}

const otlp = http.createServer((req, res) => {
  drain(req, (bytes) => {
    stats.otlpRequests++;
    stats.otlpBytes += bytes;
    // An empty ExportTraceServiceResponse in the request's encoding (zero bytes in protobuf).
    if (String(req.headers['content-type']).startsWith('application/x-protobuf')) {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});

function countLines(chunks) {
  let n = 0;
  for (const c of chunks) for (let i = 0; i < c.length; i++) if (c[i] === 10) n++;
  return n;
}

const es = http.createServer((req, res) => {
  drain(req, (bytes, chunks) => {
    const url = req.url || '/';
    if (req.method === 'POST' && /\/_bulk(\?|$)/.test(url)) {
      const actions = Math.floor(countLines(chunks) / 2);
      stats.esRequests++;
      stats.esBytes += bytes;
      stats.esActions += actions;
      // With filter_path=...items.*.status (what the transport asks for) an item is just its status.
      const item = /[?&]filter_path=[^&]*items\.\*\.status/.test(url)
        ? '{"create":{"status":201}}'
        : '{"create":{"_index":"logs","_id":"x","_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1,"status":201}}';
      const items = new Array(actions).fill(item).join(',');
      res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      res.end(`{"took":1,"errors":false,"items":[${items}]}`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
    res.end('{"name":"bench","cluster_name":"bench","version":{"number":"8.15.0","distribution":"elasticsearch"},"tagline":"You Know, for Search"}');
  });
});

const sockets = new Set();
const hanging = net.createServer((socket) => {
  stats.hangingConnections++;
  sockets.add(socket);
  socket.on('data', () => {});
  socket.on('error', () => sockets.delete(socket));
  socket.on('close', () => sockets.delete(socket));
});

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

async function closedPort() {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((resolve) => s.close(resolve));
  return port;
}

(async () => {
  const [o, e, h, c] = await Promise.all([listen(otlp), listen(es), listen(hanging), closedPort()]);
  const url = (p) => `http://127.0.0.1:${p}`;
  process.stdout.write(`${JSON.stringify({ otlp: url(o), es: url(e), hanging: url(h), closed: url(c) })}\n`);
})();

process.on('message', (msg) => {
  if (msg && msg.cmd === 'stats') process.send({ stats: { ...stats, hangingOpen: sockets.size } });
  if (msg && msg.cmd === 'stop') {
    for (const s of sockets) s.destroy();
    otlp.closeAllConnections();
    es.closeAllConnections();
    Promise.all([otlp, es, hanging].map((s) => new Promise((r) => s.close(r)))).then(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
