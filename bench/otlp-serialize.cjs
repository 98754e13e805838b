'use strict';
// CPU per span of the OTLP trace serialisers the exporters use (JSON: exporter-trace-otlp-http; protobuf:
// exporter-trace-otlp-proto), on 512 SERVER spans carrying our HTTP attribute set. Not part of `npm run bench`:
//   taskset -c 1 node bench/otlp-serialize.cjs
const { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } = require('@opentelemetry/sdk-trace-base');
const { JsonTraceSerializer, ProtobufTraceSerializer } = require('@opentelemetry/otlp-transformer');
const exp = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exp)] });
const tracer = provider.getTracer('bench');
for (let i = 0; i < 512; i++) {
  const s = tracer.startSpan('GET /users/:id', { kind: 1, attributes: {
    'http.request.method': 'GET', 'url.path': `/users/${i}`, 'url.scheme': 'http', 'http.route': '/users/:id',
    'server.address': '127.0.0.1', 'server.port': 3000, 'client.address': '127.0.0.1', 'user_agent.original': 'autocannon/8.0.0',
    'network.protocol.version': '1.1' } });
  s.setAttribute('http.response.status_code', 200);
  s.end();
}
const spans = exp.getFinishedSpans();
for (const [name, ser] of [['json', JsonTraceSerializer], ['proto', ProtobufTraceSerializer], ['json', JsonTraceSerializer], ['proto', ProtobufTraceSerializer]]) {
  let bytes = 0;
  const t = process.hrtime.bigint();
  const N = 200;
  for (let r = 0; r < N; r++) bytes = ser.serializeRequest(spans).length;
  console.log(name, (Number(process.hrtime.bigint() - t) / 1e3 / N / spans.length).toFixed(2), 'µs/span', bytes, 'bytes/512');
}
