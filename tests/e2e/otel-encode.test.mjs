// The src/otel exporter end to end, before it is wired into the gateway:
// build/tests/unit/otel_emit submits fixed spans through the real exporter
// thread to an OTLP/HTTP receiver that decodes with OpenTelemetry's own
// generated protobuf code (lib/otlp.mjs). Both protocols, the metrics, the
// 503-then-200 backoff, and a dead collector (drops counted, submit never
// blocks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { tollgateBin } from './lib/proc.mjs';
import { startOtlpReceiver } from './lib/otlp.mjs';

const emitBin = process.env.OTEL_EMIT_BIN || path.join(path.dirname(tollgateBin), 'tests/unit/otel_emit');
const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

// Only the OTEL_* variables the test sets: none leak in from the caller.
async function emit(env, args = []) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const { stdout } = await promisify(execFile)(emitBin, args, { env: { ...clean, ...env }, timeout: 60000 });
  return JSON.parse(stdout.trim());
}

function checkSpans(rx) {
  assert.deepEqual(rx.errors(), []);
  const server = rx.spans.filter((s) => s.kind === 2);
  const client = rx.spans.filter((s) => s.kind === 3);
  assert.equal(server.length, 3);
  assert.equal(client.length, 1);
  for (const s of rx.spans) {
    assert.equal(s.traceId, '4bf92f3577b34da6a3ce929d0e0e4736', 'trace continued from the client traceparent');
    assert.equal(s.traceState, 'vendor=abc');
    assert.equal(s.resource['service.name'], 'gw-test');
    assert.equal(s.resource['deployment.environment'], 'ci, eu');
    assert.equal(s.scope, 'tollgate');
    assert.match(s.spanId, /^[0-9a-f]{16}$/);
    assert.notEqual(s.spanId, '0000000000000000');
    assert.equal(s.flags & 0xff, 1);
  }
  // Spans come in ring order (two workers), so pick them by content.
  const ok = server.find((s) => s.attrs['gen_ai.operation.name'] === 'chat' && !s.attrs['error.type']);
  const err = server.find((s) => s.attrs['error.type']);
  const emb = server.find((s) => s.attrs['gen_ai.operation.name'] === 'embeddings');
  assert.equal(ok.name, 'chat llama3');
  assert.equal(ok.parentSpanId, '00f067aa0ba902b7');
  assert.equal(ok.flags, 0x301);
  assert.equal(ok.end - ok.start, 1500000000n);
  assert.equal(ok.status, 0);
  assert.deepEqual(ok.attrs, {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'ollama',
    'gen_ai.request.model': 'llama3',
    'gen_ai.response.model': 'llama3:8b',
    'server.address': '127.0.0.1',
    'server.port': 11434,
    'gen_ai.request.max_tokens': 64,
    'gen_ai.request.temperature': 0.5,
    'gen_ai.request.top_p': 0.9,
    'gen_ai.usage.input_tokens': 12,
    'gen_ai.usage.output_tokens': 30,
    'gen_ai.response.finish_reasons': ['stop'],
    'http.route': '/v1/chat/completions',
    'http.response.status_code': 200,
    'tollgate.stream': true,
    'tollgate.time_to_first_token_s': 0.05,
    'tollgate.queue_wait_s': 0.001,
    'tollgate.ollama.load_duration_s': 0.25,
  });
  const [c] = client;
  assert.equal(c.parentSpanId, ok.spanId, 'the CLIENT span is the server span\'s child');
  assert.equal(c.name, 'chat llama3');
  assert.equal(c.flags, 0x101);
  assert.equal(c.attrs['server.address'], '127.0.0.1');
  assert.equal(c.attrs['gen_ai.usage.input_tokens'], undefined);
  assert.equal(err.status, 2, 'error span has status ERROR');
  assert.equal(err.attrs['error.type'], 'upstream_timeout');
  assert.equal(err.attrs['http.response.status_code'], 504);
  assert.equal(err.attrs['gen_ai.usage.input_tokens'], undefined);
  assert.equal(emb.name, 'embeddings nomic-embed-text');
  assert.equal(emb.attrs['gen_ai.operation.name'], 'embeddings');
  assert.equal(emb.attrs['gen_ai.usage.input_tokens'], 7);
}

function checkMetrics(rx) {
  const m = rx.metrics();
  assert.deepEqual([...m.keys()].sort(), ['gen_ai.client.token.usage', 'gen_ai.server.request.duration',
    'gen_ai.server.time_per_output_token', 'gen_ai.server.time_to_first_token']);
  for (const metric of m.values()) assert.equal(metric.temporality, 2, `${metric.name} cumulative`);
  const dur = m.get('gen_ai.server.request.duration');
  assert.equal(dur.unit, 's');
  assert.deepEqual(dur.points[0].explicitBounds,
    [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]);
  assert.equal(dur.points.length, 3); // chat ok, chat error, embeddings
  const bucket = Array(15).fill(0);
  bucket[8] = 1; // 1.5 s is in (1.28, 2.56]
  for (const p of dur.points) {
    assert.deepEqual(p.bucketCounts, bucket);
    assert.equal(p.count, 1);
    assert.equal(p.sum, 1.5);
    assert.equal(p.attrs['gen_ai.provider.name'], 'ollama');
    assert.equal(p.attrs['server.address'], '127.0.0.1');
    assert.equal(p.attrs['server.port'], 11434);
  }
  const errPoint = dur.points.find((p) => p.attrs['error.type']);
  assert.equal(errPoint.attrs['error.type'], 'upstream_timeout');
  assert.deepEqual(Object.keys(dur.points.find((p) => p.attrs['gen_ai.operation.name'] === 'embeddings').attrs).sort(),
    ['gen_ai.operation.name', 'gen_ai.provider.name', 'gen_ai.request.model', 'gen_ai.response.model',
      'server.address', 'server.port']);
  const ttft = m.get('gen_ai.server.time_to_first_token');
  assert.equal(ttft.points.length, 1);
  assert.equal(ttft.points[0].sum, 0.05);
  assert.equal(ttft.points[0].bucketCounts[5], 1); // 0.05 is in (0.04, 0.06]
  const tpot = m.get('gen_ai.server.time_per_output_token');
  assert.ok(Math.abs(tpot.points[0].sum - (1.5 - 0.05) / 29) < 1e-12);
  const tok = m.get('gen_ai.client.token.usage');
  assert.equal(tok.unit, '{token}');
  const byType = (model, type) => tok.points.find((p) => p.attrs['gen_ai.request.model'] === model
    && p.attrs['gen_ai.token.type'] === type);
  assert.equal(byType('llama3', 'input').sum, 12);
  assert.equal(byType('llama3', 'output').sum, 30);
  assert.equal(byType('nomic-embed-text', 'input').sum, 7);
  assert.equal(byType('nomic-embed-text', 'output'), undefined);
  assert.equal(tok.points.length, 3);
}

const baseEnv = (rx) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
  OTEL_SERVICE_NAME: 'gw-test',
  OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=ci%2C%20eu',
  OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=s%20k',
  EMIT_TRACEPARENT: TP,
});

for (const protocol of ['http/protobuf', 'http/json']) {
  test(`spans and GenAI metrics decode with OpenTelemetry's generated code (${protocol})`, async () => {
    const rx = await startOtlpReceiver();
    try {
      const st = await emit({ ...baseEnv(rx), OTEL_EXPORTER_OTLP_PROTOCOL: protocol });
      assert.equal(st.exported, 3);
      assert.equal(st.dropped, 0);
      assert.equal(st.metric_exports, 1);
      const ct = protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
      for (const r of rx.requests) {
        assert.equal(r.method, 'POST');
        assert.equal(r.headers['content-type'], ct);
        assert.equal(r.headers['x-api-key'], 's k');
      }
      assert.deepEqual(rx.requests.map((r) => r.path).sort(), ['/v1/metrics', '/v1/traces']);
      checkSpans(rx);
      checkMetrics(rx);
    } finally {
      await rx.close();
    }
  });
}

test('a collector answering 503 (Retry-After) then 200 gets the same batch again', async () => {
  const rx = await startOtlpReceiver();
  try {
    rx.respondWith('/v1/traces', [{ status: 503, retryAfter: 1 }]);
    rx.respondWith('/v1/metrics', [{ status: 429 }]);
    const st = await emit({ ...baseEnv(rx), OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_METRIC_EXPORT_INTERVAL: '200',
      EMIT_WAIT_EXPORTED: '1' });
    assert.equal(st.exported, 3);
    assert.equal(st.dropped, 0);
    assert.ok(st.retries >= 2, `retries ${st.retries}`);
    const traces = rx.requests.filter((r) => r.path === '/v1/traces');
    assert.deepEqual(traces.map((r) => r.status), [503, 200]);
    assert.deepEqual(traces[0].body, traces[1].body);
    assert.equal(rx.requests.filter((r) => r.path === '/v1/metrics')[0].status, 429);
    checkSpans(rx);
    checkMetrics(rx);
  } finally {
    await rx.close();
  }
});

test('LiteLLM style: callbacks ["otel"] with OTEL_ENDPOINT and OTEL_HEADERS', async () => {
  const rx = await startOtlpReceiver();
  try {
    const st = await emit({ EMIT_LITELLM: '1', OTEL_EXPORTER: 'otlp_http', OTEL_ENDPOINT: rx.url,
      OTEL_HEADERS: 'Authorization=Bearer%20t0k' });
    assert.equal(st.exported, 3);
    assert.ok(rx.requests.length >= 2);
    for (const r of rx.requests) assert.equal(r.headers.authorization, 'Bearer t0k');
    assert.equal(rx.spans.filter((s) => s.kind === 2).length, 3);
    assert.equal(rx.spans[0].resource['service.name'], 'tollgate');
  } finally {
    await rx.close();
  }
});

test('no collector: submit never blocks, every span is counted as dropped', async () => {
  // A port that was free a moment ago: connections are refused.
  const srv = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  const n = 20000;
  const st = await emit({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_BSP_MAX_QUEUE_SIZE: '64',
    OTEL_BSP_SCHEDULE_DELAY: '50' }, [String(n)]);
  assert.equal(st.submitted, n);
  assert.equal(st.exported, 0);
  assert.equal(st.dropped, n);
  // A blocked submit would wait for a connection attempt; the ring copy
  // takes microseconds. Generous bound: 20 ms for the slowest of 20000.
  assert.ok(st.max_submit_ns < 20e6, `slowest submit ${st.max_submit_ns} ns`);
});
