'use strict';
// CPU per span of OTLP trace serialisation, on 512 SERVER spans carrying our HTTP attribute set. Not part of
// `npm run bench`:
//   npm run build && taskset -c 1 node bench/otlp-serialize.cjs
// json / proto: the exporters' batch serialisers (exporter-trace-otlp-http's JSON, otlp-transformer's
// protobuf, what exporter-trace-otlp-proto sends); encoded: the package's http/protobuf path, each span
// encoded alone as it ends (lib/otlp/span-encoder.ts, from build/), copied into a shared buffer, then the
// batch framed around the copies: the same bytes as proto (checked here too).
const { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } = require('@opentelemetry/sdk-trace-base');
const { JsonTraceSerializer, ProtobufTraceSerializer } = require('@opentelemetry/otlp-transformer');
const { encodeSpan, encodeTraceRequest, ProtoWriter } = require('../build/otlp/span-encoder.js');

const exp = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exp)] });
const tracer = provider.getTracer('bench');
for (let i = 0; i < 512; i++) {
  const s = tracer.startSpan('GET /users/:id', {
    kind: 1,
    attributes: {
      'http.request.method': 'GET',
      'url.path': `/users/${i}`,
      'url.scheme': 'http',
      'http.route': '/users/:id',
      'server.address': '127.0.0.1',
      'server.port': 3000,
      'client.address': '127.0.0.1',
      'user_agent.original': 'autocannon/8.0.0',
      'network.protocol.version': '1.1',
    },
  });
  s.setAttribute('http.response.status_code', 200);
  s.end();
}
const spans = exp.getFinishedSpans();

const writer = new ProtoWriter(4096);
const chunk = Buffer.allocUnsafe(1 << 20);
const encoded = {
  serializeRequest(batch) {
    let pos = 0;
    const parts = [];
    for (const s of batch) {
      writer.pos = 0;
      encodeSpan(writer, s);
      writer.buf.copy(chunk, pos, 0, writer.pos);
      parts.push(chunk.subarray(pos, pos + writer.pos));
      pos += writer.pos;
    }
    return encodeTraceRequest({ resource: batch[0].resource, scopes: [{ scope: batch[0].instrumentationScope, spans: parts }], count: batch.length });
  },
};
if (!Buffer.from(encoded.serializeRequest(spans)).equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)))) {
  throw new Error('the per-span encoding differs from the protobuf serialiser');
}
const runs = [];
for (let r = 0; r < 3; r++) runs.push(['json', JsonTraceSerializer], ['proto', ProtobufTraceSerializer], ['encoded', encoded]);
for (const [name, ser] of runs) {
  let bytes = 0;
  const t = process.hrtime.bigint();
  const N = 200;
  for (let r = 0; r < N; r++) bytes = ser.serializeRequest(spans).length;
  console.log(name.padEnd(8), (Number(process.hrtime.bigint() - t) / 1e3 / N / spans.length).toFixed(2), 'µs/span', bytes, 'bytes/512');
}
