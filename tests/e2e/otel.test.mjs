// OpenTelemetry from tollgate serve end to end: the official openai client
// talks through the gateway to tollgate sim while the gateway exports to an
// OTLP/HTTP receiver that decodes with OpenTelemetry's own generated code
// (lib/otlp.mjs). Checks one span per request with the simulator's exact
// usage, trace continuation from the client's traceparent and into the
// upstream request, error spans, the GenAI metrics, that no prompt or
// response byte is ever exported, drops counted with the receiver gone, and
// LiteLLM's way of turning it on (callbacks: ["otel"] + OTEL_ENDPOINT).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { startTollgate } from './lib/proc.mjs';
import { startOtlpReceiver } from './lib/otlp.mjs';
import { scrape, sum, waitFor } from './lib/metrics.mjs';

const MODEL = 'llama3.2:3b';
const EMBED_MODEL = 'nomic-embed-text';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
// Markers that must never reach the collector.
const PROMPT_MARK = 'prompt-secret-7c1e9a';
const UPSTREAM_KEY = 'sk-upstream-secret-42';
const HEADER_SECRET = 'hdr-secret-99';
// Short export periods so the test waits milliseconds, not the defaults.
const FAST = { OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_METRIC_EXPORT_INTERVAL: '100' };

let sim, rx, gw, dir, client;
const answers = []; // response texts, to search the exported bytes for
let requestsMade = 0;

// The gateway sees only the OTEL_* variables a test sets.
function otelEnv(vars) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('OTEL_')) delete env[k];
  return { ...env, ...vars };
}

async function simStats() {
  return (await fetch(`${sim.url}/sim/stats`)).json();
}

function config(extra = '') {
  return `
model_list:
  - model_name: llama
    litellm_params:
      model: ollama_chat/${MODEL}
      api_base: ${sim.url}
  - model_name: oai
    litellm_params:
      model: openai/${MODEL}
      api_base: ${sim.url}/v1
      api_key: ${UPSTREAM_KEY}
  - model_name: embedder
    litellm_params:
      model: ollama/${EMBED_MODEL}
      api_base: ${sim.url}
router_settings:
  num_retries: 0
${extra}`;
}

async function startGateway(name, cfgText, env) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, cfgText);
  return startTollgate(['serve', '--config', file, '--port', '0', '--host', '127.0.0.1', '--poll-interval', '0',
    '--threads', '2'], { env: otelEnv(env) });
}

const spansOf = (traceId) => rx.spans.filter((s) => s.traceId === traceId);
const waitSpans = (pred, what, timeoutMs = 10000) => waitFor(() => {
  const got = rx.spans.filter(pred);
  return got.length ? got : null;
}, { timeoutMs, what });

before(async () => {
  sim = await startTollgate(['sim', '--port', '0', '--ttft-ms', '5', '--token-ms', '1', '--load-ms', '0', '--quiet']);
  rx = await startOtlpReceiver();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-otel-'));
  gw = await startGateway('config.yaml', config(), {
    ...FAST,
    OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
    OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer%20${HEADER_SECRET}`,
    OTEL_SERVICE_NAME: 'tg-e2e',
  });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

after(async () => {
  await gw?.stop();
  await sim?.stop();
  await rx?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('start-up banner names the endpoints, never the headers', async () => {
  // The banner follows the listen line the start waited for.
  const out = await waitFor(() => gw.output().includes('OpenTelemetry:') && gw.output(), { what: 'the banner' });
  assert.match(out, new RegExp(`OpenTelemetry: traces to ${rx.url}/v1/traces \\(http/protobuf\\), metrics to ${rx.url}/v1/metrics`));
  assert.ok(!out.includes(HEADER_SECRET));
});

test('a client traceparent is continued: SERVER span, CLIENT child, upstream traceparent, exact usage', async () => {
  const before = (await simStats()).models[MODEL];
  const r = await client.chat.completions.create({
    model: 'llama',
    messages: [{ role: 'user', content: `${PROMPT_MARK} say something` }],
    max_tokens: 12, temperature: 0.25, top_p: 0.5,
  }, { headers: { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'app=1,other=x' } });
  requestsMade++;
  answers.push(r.choices[0].message.content);
  const stats = await simStats();
  const after = stats.models[MODEL];
  const prompt = after.prompt_tokens - before.prompt_tokens, completion = after.completion_tokens - before.completion_tokens;
  assert.equal(r.usage.prompt_tokens, prompt);

  const spans = await waitFor(() => spansOf(TRACE).length >= 2 && spansOf(TRACE), { what: 'two spans in the trace' });
  assert.equal(spans.length, 2, 'one SERVER and one CLIENT span for the request');
  const server = spans.find((s) => s.kind === 2), clientSpan = spans.find((s) => s.kind === 3);
  assert.equal(server.parentSpanId, PARENT);
  assert.equal(server.traceState, 'app=1,other=x');
  assert.equal(server.name, 'chat llama');
  assert.equal(server.status, 0);
  assert.equal(server.resource['service.name'], 'tg-e2e');
  assert.equal(clientSpan.parentSpanId, server.spanId);
  assert.ok(clientSpan.start >= server.start && clientSpan.end <= server.end);
  const a = server.attrs;
  assert.equal(a['gen_ai.operation.name'], 'chat');
  assert.equal(a['gen_ai.provider.name'], 'ollama');
  assert.equal(a['gen_ai.request.model'], 'llama');
  assert.equal(a['gen_ai.response.model'], MODEL);
  assert.equal(a['server.address'], '127.0.0.1');
  assert.equal(a['server.port'], sim.port);
  assert.equal(a['http.route'], '/v1/chat/completions');
  assert.equal(a['http.response.status_code'], 200);
  assert.equal(a['gen_ai.request.max_tokens'], 12);
  assert.equal(a['gen_ai.request.temperature'], 0.25);
  assert.equal(a['gen_ai.request.top_p'], 0.5);
  assert.equal(a['gen_ai.usage.input_tokens'], prompt, 'input tokens = the simulator\'s tally');
  assert.equal(a['gen_ai.usage.output_tokens'], completion, 'output tokens = the simulator\'s tally');
  assert.deepEqual(a['gen_ai.response.finish_reasons'], [r.choices[0].finish_reason]);
  assert.equal(a['tollgate.stream'], false);
  assert.equal(a['error.type'], undefined);
  assert.ok(a['tollgate.ollama.load_duration_s'] > 0);
  // The simulator received a traceparent in the same trace, naming the CLIENT span.
  assert.ok(stats.traceparents.includes(`00-${TRACE}-${clientSpan.spanId}-01`),
    `sim saw ${JSON.stringify(stats.traceparents)}`);
  // The exporter authenticated with the configured header.
  assert.ok(rx.requests.some((q) => q.headers.authorization === `Bearer ${HEADER_SECRET}`));
});

test('streaming without a traceparent: a new trace, TTFT, exact usage; openai/ provider', async () => {
  for (const model of ['llama', 'oai']) {
    const before = (await simStats()).models[MODEL];
    const stream = await client.chat.completions.create({
      model, messages: [{ role: 'user', content: `${PROMPT_MARK} stream` }], max_tokens: 6, stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    for await (const ch of stream) text += ch.choices?.[0]?.delta?.content ?? '';
    requestsMade++;
    answers.push(text);
    const stats = await simStats();
    const after = stats.models[MODEL];
    const tp = stats.traceparents.at(-1);
    assert.match(tp, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const traceId = tp.slice(3, 35);
    const [server] = await waitSpans((s) => s.traceId === traceId && s.kind === 2, `${model} stream span`);
    assert.equal(server.parentSpanId, '', 'a root span');
    const a = server.attrs;
    assert.equal(a['gen_ai.provider.name'], model === 'oai' ? 'openai' : 'ollama');
    assert.equal(a['server.port'], sim.port);
    assert.equal(a['tollgate.stream'], true);
    assert.ok(a['tollgate.time_to_first_token_s'] > 0);
    assert.equal(a['gen_ai.usage.input_tokens'], after.prompt_tokens - before.prompt_tokens);
    assert.equal(a['gen_ai.usage.output_tokens'], after.completion_tokens - before.completion_tokens);
    assert.equal(a['gen_ai.request.temperature'], undefined, 'not given, not exported');
  }
});

test('a failed request gives an error span', async () => {
  const traceId = 'aaaabbbbccccddddeeeeffff00001111';
  await assert.rejects(client.chat.completions.create({
    model: 'llama', messages: [{ role: 'user', content: 'tollgate-fault:500' }],
  }, { headers: { traceparent: `00-${traceId}-${PARENT}-01` } }), (e) => e.status === 500);
  requestsMade++;
  const [server] = await waitSpans((s) => s.traceId === traceId && s.kind === 2, 'error span');
  assert.equal(server.status, 2, 'status ERROR');
  assert.equal(server.attrs['http.response.status_code'], 500);
  assert.match(server.attrs['error.type'], /^Ollama\.InternalServerError$/);
  assert.equal(server.attrs['gen_ai.usage.input_tokens'], undefined);
});

test('an unsampled parent: no span, but the metrics still count the request', async () => {
  const traceId = '1234123412341234abcdabcdabcdabcd';
  await client.chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: 'x' }], max_tokens: 2 },
    { headers: { traceparent: `00-${traceId}-${PARENT}-00` } });
  requestsMade++;
  const stats = await simStats();
  assert.ok(stats.traceparents.some((t) => t.startsWith(`00-${traceId}-`) && t.endsWith('-00')), 'flag passed on');
  // Metrics below count it; no span may appear (checked after the metrics wait).
  await waitFor(() => {
    const d = rx.metrics().get('gen_ai.server.request.duration');
    return d && d.points.reduce((n, p) => n + p.count, 0) === requestsMade;
  }, { what: 'request duration count', timeoutMs: 10000 });
  assert.equal(spansOf(traceId).length, 0);
});

test('GenAI metrics: durations, TTFT and token usage with the right attributes', async () => {
  const m = await waitFor(() => {
    const all = rx.metrics();
    const d = all.get('gen_ai.server.request.duration');
    return d && d.points.reduce((n, p) => n + p.count, 0) === requestsMade && all;
  }, { what: 'metrics for every request', timeoutMs: 10000 });
  const dur = m.get('gen_ai.server.request.duration');
  assert.equal(dur.unit, 's');
  const failed = dur.points.filter((p) => p.attrs['error.type']);
  assert.equal(failed.length, 1);
  assert.equal(failed[0].count, 1);
  assert.equal(failed[0].attrs['error.type'], 'Ollama.InternalServerError');
  const llamaOk = dur.points.find((p) => p.attrs['gen_ai.request.model'] === 'llama' && !p.attrs['error.type']);
  assert.deepEqual(Object.keys(llamaOk.attrs).sort(), ['gen_ai.operation.name', 'gen_ai.provider.name',
    'gen_ai.request.model', 'gen_ai.response.model', 'server.address', 'server.port']);
  assert.equal(llamaOk.attrs['server.port'], sim.port);
  assert.equal(llamaOk.count, 3);
  const ttft = m.get('gen_ai.server.time_to_first_token');
  assert.ok(ttft.points.reduce((n, p) => n + p.count, 0) >= 2);
  // Token usage: every request (the unsampled one too) with the simulator's
  // own totals; only this gateway has talked to the simulator so far.
  const stats = await simStats();
  const usage = m.get('gen_ai.client.token.usage');
  assert.equal(usage.unit, '{token}');
  const total = (type) => usage.points.filter((p) => p.attrs['gen_ai.token.type'] === type).reduce((n, p) => n + p.sum, 0);
  assert.equal(total('input'), stats.prompt_tokens);
  assert.equal(total('output'), stats.completion_tokens);
});

// The native Ollama routes through the official ollama client: the same
// spans, with Ollama's own counts (after the metrics test, which counts the
// OpenAI requests only; the export check below covers these too).
test('native Ollama routes: chat, generate and embed spans with exact usage, traceparent upstream, error span', async () => {
  const trace = '0af7651916cd43dd8448eb211c80319c';
  const o = new Ollama({ host: gw.url, headers: { traceparent: `00-${trace}-${PARENT}-01` } });
  const delta = async (model, fn) => {
    const b = (await simStats()).models[model] ?? { prompt_tokens: 0, completion_tokens: 0 };
    const r = await fn();
    const stats = await simStats();
    const a = stats.models[model];
    return { r, stats, prompt: a.prompt_tokens - b.prompt_tokens, completion: a.completion_tokens - b.completion_tokens };
  };

  // chat, not streamed, with the client's trace context
  const chat = await delta(MODEL, () => o.chat({
    model: 'llama', messages: [{ role: 'user', content: `${PROMPT_MARK} native chat` }],
    options: { num_predict: 9, temperature: 0.25, top_p: 0.5 },
  }));
  answers.push(chat.r.message.content);
  assert.equal(chat.r.prompt_eval_count, chat.prompt);
  const spans = await waitFor(() => spansOf(trace).length >= 2 && spansOf(trace), { what: 'native chat spans' });
  assert.equal(spans.length, 2, 'one SERVER and one CLIENT span');
  const server = spans.find((s) => s.kind === 2), clientSpan = spans.find((s) => s.kind === 3);
  assert.equal(server.parentSpanId, PARENT);
  assert.equal(server.name, 'chat llama');
  assert.equal(clientSpan.parentSpanId, server.spanId);
  let a = server.attrs;
  assert.equal(a['gen_ai.operation.name'], 'chat');
  assert.equal(a['gen_ai.provider.name'], 'ollama');
  assert.equal(a['gen_ai.request.model'], 'llama');
  assert.equal(a['gen_ai.response.model'], MODEL);
  assert.equal(a['http.route'], '/api/chat');
  assert.equal(a['http.response.status_code'], 200);
  assert.equal(a['server.port'], sim.port);
  assert.equal(a['gen_ai.request.max_tokens'], 9);
  assert.equal(a['gen_ai.request.temperature'], 0.25);
  assert.equal(a['gen_ai.request.top_p'], 0.5);
  assert.equal(a['gen_ai.usage.input_tokens'], chat.prompt, 'input tokens = the simulator\'s tally');
  assert.equal(a['gen_ai.usage.output_tokens'], chat.completion, 'output tokens = the simulator\'s tally');
  assert.deepEqual(a['gen_ai.response.finish_reasons'], [chat.r.done_reason]);
  assert.equal(a['tollgate.stream'], false);
  assert.equal(a['error.type'], undefined);
  assert.ok(chat.stats.traceparents.includes(`00-${trace}-${clientSpan.spanId}-01`),
    `sim saw ${JSON.stringify(chat.stats.traceparents)}`);

  // generate, streamed, no trace context: a new trace, text_completion, TTFT
  const plain = new Ollama({ host: gw.url });
  const gen = await delta(MODEL, async () => {
    let text = '';
    for await (const part of await plain.generate({ model: 'llama', prompt: `${PROMPT_MARK} native generate`, stream: true }))
      text += part.response;
    return text;
  });
  answers.push(gen.r);
  const gtp = gen.stats.traceparents.at(-1);
  const [gs] = await waitSpans((s) => s.traceId === gtp.slice(3, 35) && s.kind === 2, 'generate span');
  a = gs.attrs;
  assert.equal(gs.parentSpanId, '');
  assert.equal(gs.name, 'text_completion llama');
  assert.equal(a['gen_ai.operation.name'], 'text_completion');
  assert.equal(a['http.route'], '/api/generate');
  assert.equal(a['tollgate.stream'], true);
  assert.ok(a['tollgate.time_to_first_token_s'] > 0);
  assert.equal(a['gen_ai.usage.input_tokens'], gen.prompt);
  assert.equal(a['gen_ai.usage.output_tokens'], gen.completion);

  // embed: embeddings, input tokens exact
  const emb = await delta(`${EMBED_MODEL}:latest`, () => plain.embed({ model: 'embedder', input: [`${PROMPT_MARK} a`, 'b c'] }));
  const etp = emb.stats.traceparents.at(-1);
  const [es] = await waitSpans((s) => s.traceId === etp.slice(3, 35) && s.kind === 2, 'embed span');
  assert.equal(es.attrs['gen_ai.operation.name'], 'embeddings');
  assert.equal(es.attrs['http.route'], '/api/embed');
  assert.equal(es.attrs['gen_ai.response.model'], EMBED_MODEL);
  assert.equal(es.attrs['gen_ai.usage.input_tokens'], emb.prompt);
  assert.ok(emb.prompt > 0);

  // an upstream 500: an error span
  const bad = 'bbbbccccddddeeeeffff000011112222';
  const ob = new Ollama({ host: gw.url, headers: { traceparent: `00-${bad}-${PARENT}-01` } });
  await assert.rejects(ob.chat({ model: 'llama', messages: [{ role: 'user', content: 'tollgate-fault:500' }] }));
  const [xs] = await waitSpans((s) => s.traceId === bad && s.kind === 2, 'native error span');
  assert.equal(xs.status, 2, 'status ERROR');
  assert.equal(xs.attrs['http.route'], '/api/chat');
  assert.equal(xs.attrs['http.response.status_code'], 500);
  assert.match(xs.attrs['error.type'], /InternalServerError/);
  assert.equal(xs.attrs['gen_ai.usage.input_tokens'], undefined);
});

test('no prompt, response or key bytes anywhere in what was exported', () => {
  assert.ok(rx.requests.length > 0);
  const needles = [PROMPT_MARK, UPSTREAM_KEY, 'say something', ...answers.filter((t) => t.length >= 8)];
  assert.ok(needles.length >= 4);
  for (const q of rx.requests) {
    const raw = q.body.toString('latin1');
    for (const n of needles) assert.ok(!raw.includes(n), `exported ${q.path} contains "${n}"`);
  }
  assert.deepEqual(rx.errors(), []);
});

test('receiver gone: requests still succeed, drops are counted in tollgate_otel_dropped_spans_total', async () => {
  const dead = await startOtlpReceiver();
  const url = dead.url;
  await dead.close(); // nothing listens there any more
  const g = await startGateway('dead.yaml', config(), {
    ...FAST, OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_BSP_MAX_QUEUE_SIZE: '2', OTEL_EXPORTER_OTLP_TIMEOUT: '200',
  });
  try {
    const c = new OpenAI({ baseURL: `${g.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const N = 40;
    const t0 = Date.now();
    for (let i = 0; i < N; i++) {
      const r = await c.chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
      assert.equal(r.choices.length, 1);
    }
    const perRequest = (Date.now() - t0) / N;
    assert.ok(perRequest < 250, `requests slowed down by the dead collector: ${perRequest} ms each`);
    const dropped = await waitFor(async () => {
      const v = sum(await scrape(`${g.url}/metrics`), 'tollgate_otel_dropped_spans_total');
      return v >= N - 4 && v;
    }, { what: 'drops counted', timeoutMs: 10000 });
    assert.ok(dropped <= N, `dropped ${dropped} of ${N}`);
  } finally {
    await g.stop();
  }
  assert.equal(sum(await scrape(`${gw.url}/metrics`), 'tollgate_otel_dropped_spans_total'), 0);
});

test('LiteLLM\'s way: litellm_settings.callbacks ["otel"] with OTEL_ENDPOINT', async () => {
  const rx2 = await startOtlpReceiver();
  const g = await startGateway('litellm.yaml', config('litellm_settings:\n  callbacks: ["otel"]\n'),
    { ...FAST, OTEL_ENDPOINT: rx2.url });
  try {
    assert.doesNotMatch(g.output(), /callback 'otel' is not supported/);
    const c = new OpenAI({ baseURL: `${g.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await c.chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
    const [s] = await waitFor(() => rx2.spans.filter((x) => x.kind === 2).length && rx2.spans.filter((x) => x.kind === 2),
      { what: 'span via OTEL_ENDPOINT', timeoutMs: 10000 });
    assert.equal(s.attrs['gen_ai.request.model'], 'llama');
  } finally {
    await g.stop();
    await rx2.close();
  }
});
