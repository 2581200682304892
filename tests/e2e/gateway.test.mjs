// tollgate serve end to end: the official openai client talks through the
// gateway to tollgate sim; every route, streaming and not, the simulator's
// faults; then /metrics is checked against what the simulator served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startTollgate } from './lib/proc.mjs';
import { scrape, sum, find, waitFor } from './lib/metrics.mjs';

let sim, gw, dir, client;
// Tokens the simulator counts as delivered on streams the gateway rightly
// fails (a malformed chunk followed by a normal end): excluded from the
// exact comparison below.
const failedButServed = { prompt: 0, completion: 0 };
const MODEL = 'llama3.2:3b';

async function simStats() {
  const r = await fetch(`${sim.url}/sim/stats`);
  return r.json();
}
function simModel(st, name = MODEL) {
  return st.models[name] || st.models[`${name}`];
}

before(async () => {
  sim = await startTollgate(['sim', '--port', '0', '--ttft-ms', '0', '--token-ms', '0', '--load-ms', '0', '--quiet']);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-gw-'));
  const cfg = `
model_list:
  - model_name: llama
    litellm_params:
      model: ollama_chat/${MODEL}
      api_base: ${sim.url}
  - model_name: llama-gen
    litellm_params:
      model: ollama/${MODEL}
      api_base: ${sim.url}
  - model_name: embed
    litellm_params:
      model: ollama/nomic-embed-text
      api_base: ${sim.url}
  - model_name: oai
    litellm_params:
      model: openai/${MODEL}
      api_base: ${sim.url}/v1
      api_key: sk-upstream
  - model_name: llama-short
    litellm_params:
      model: ollama_chat/${MODEL}
      api_base: ${sim.url}
      timeout: 0.5
      stream_timeout: 0.5
  - model_name: dead
    litellm_params:
      model: ollama_chat/${MODEL}
      api_base: http://127.0.0.1:9
litellm_settings:
  callbacks: ["prometheus"]
router_settings:
  num_retries: 0
`;
  fs.writeFileSync(path.join(dir, 'config.yaml'), cfg);
  gw = await startTollgate(['serve', '--config', path.join(dir, 'config.yaml'), '--port', '0', '--host', '127.0.0.1', '--poll-interval', '1']);
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

after(async () => {
  await gw?.stop();
  await sim?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('non-streaming chat: OpenAI shape, usage from the backend', async () => {
  const before = simModel(await simStats());
  const r = await client.chat.completions.create({
    model: 'llama',
    messages: [{ role: 'user', content: 'Say hello in one sentence.' }],
    max_tokens: 20,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, 'llama');
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.ok(r.choices[0].message.content.length > 0);
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
  const after = simModel(await simStats());
  assert.equal(r.usage.prompt_tokens, after.prompt_tokens - (before?.prompt_tokens ?? 0));
  assert.equal(r.usage.completion_tokens, after.completion_tokens - (before?.completion_tokens ?? 0));
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
});

test('streaming chat with include_usage: content chunks, one usage chunk, [DONE]', async () => {
  const stream = await client.chat.completions.create({
    model: 'llama',
    messages: [{ role: 'user', content: 'Count to five.' }],
    max_tokens: 8,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '', usage = null, chunks = 0, finish = null;
  for await (const ch of stream) {
    chunks++;
    assert.equal(ch.object, 'chat.completion.chunk');
    assert.equal(ch.model, 'llama');
    if (ch.usage) usage = ch.usage;
    if (ch.choices?.[0]?.delta?.content) text += ch.choices[0].delta.content;
    if (ch.choices?.[0]?.finish_reason) finish = ch.choices[0].finish_reason;
  }
  assert.ok(chunks >= 3);
  assert.ok(text.length > 0);
  assert.equal(finish, 'length');
  assert.ok(usage, 'usage chunk present');
  assert.ok(usage.completion_tokens >= 8);
});

test('streaming chat without include_usage: no usage chunk', async () => {
  for (const model of ['llama', 'oai']) {
    const stream = await client.chat.completions.create({
      model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, stream: true,
    });
    let usage = null, text = '';
    for await (const ch of stream) {
      if (ch.usage) usage = ch.usage;
      text += ch.choices?.[0]?.delta?.content ?? '';
    }
    assert.equal(usage, null, `${model}: no usage chunk expected`);
    assert.ok(text.length > 0, `${model}: content expected`);
  }
});

test('OpenAI-compatible passthrough (openai/ provider), non-streaming', async () => {
  const r = await client.chat.completions.create({ model: 'oai', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 });
  assert.equal(r.object, 'chat.completion');
  assert.ok(r.usage.completion_tokens > 0);
});

test('completions (ollama/ -> /api/generate) and embeddings (-> /api/embed)', async () => {
  const c = await client.completions.create({ model: 'llama-gen', prompt: 'Once upon a time', max_tokens: 6 });
  assert.equal(c.object, 'text_completion');
  assert.ok(c.choices[0].text.length > 0);
  assert.ok(c.usage.prompt_tokens > 0);
  const e = await client.embeddings.create({ model: 'embed', input: ['hello', 'world'] });
  assert.equal(e.object, 'list');
  assert.equal(e.data.length, 2);
  assert.ok(e.data[0].embedding.length > 0);
  assert.ok(e.usage.prompt_tokens > 0);
});

test('models: list and retrieve, 404 for an unknown id', async () => {
  const list = await client.models.list();
  const ids = list.data.map((m) => m.id).sort();
  assert.deepEqual(ids, ['dead', 'embed', 'llama', 'llama-gen', 'llama-short', 'oai']);
  const one = await client.models.retrieve('llama');
  assert.equal(one.id, 'llama');
  await assert.rejects(client.models.retrieve('nope'), (e) => e.status === 404);
});

test('bad input gets OpenAI-shaped errors with the right status', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e.status === 400 && /llama/.test(e.message) && /no-such-model/.test(e.message),
  );
  const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: '{"model": "llama", "messages": [', headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 400);
  const body = await r.json();
  assert.equal(typeof body.error.message, 'string');
  assert.ok('type' in body.error && 'param' in body.error && 'code' in body.error);
  const g = await fetch(`${gw.url}/v1/chat/completions`);
  assert.equal(g.status, 405);
  const nf = await fetch(`${gw.url}/nope`);
  assert.equal(nf.status, 404);
});

test('unreachable backend: 502 naming the URL and what to try', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'dead', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e.status === 502 && /127\.0\.0\.1:9/.test(e.message) && /ollama serve/.test(e.message),
  );
});

test('backend errors pass through with their status', async () => {
  for (const [fault, status] of [['500', 500], ['429', 429], ['503', 503]]) {
    await assert.rejects(
      client.chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: `tollgate-fault:${fault}` }] }),
      (e) => e.status === status,
      `fault ${fault}`,
    );
  }
});

test('a stream cut mid-way is a failure for the client, not a success', async () => {
  const stream = await client.chat.completions.create({
    model: 'llama', messages: [{ role: 'user', content: 'tollgate-fault:cut:2' }], max_tokens: 10, stream: true,
  });
  let sawDone = false;
  await assert.rejects(async () => {
    for await (const ch of stream) if (ch.choices?.[0]?.finish_reason) sawDone = true;
  });
  assert.equal(sawDone, false);
});

test('a backend that never answers: 504 after the deployment timeout, and the upstream is cancelled', async () => {
  const before = (await simStats()).cancelled ?? 0;
  await assert.rejects(
    client.chat.completions.create({ model: 'llama-short', messages: [{ role: 'user', content: 'tollgate-fault:hang' }] }),
    (e) => e.status === 504 && /did not answer in time/.test(e.message),
  );
  await waitFor(async () => ((await simStats()).cancelled ?? 0) > before, { what: 'simulator to see the timed-out request go' });
});

test("Ollama's mid-stream error and a malformed chunk end the stream as failures", async () => {
  for (const fault of ['error:2', 'malformed:2']) {
    const s0 = await simStats();
    const stream = await client.chat.completions.create({
      model: 'llama', messages: [{ role: 'user', content: `tollgate-fault:${fault}` }], max_tokens: 10, stream: true,
    });
    let finished = false;
    await assert.rejects(async () => {
      for await (const ch of stream) if (ch.choices?.[0]?.finish_reason) finished = true;
    }, undefined, fault);
    assert.equal(finished, false, fault);
    const s1 = await simStats();
    failedButServed.prompt += s1.prompt_tokens - s0.prompt_tokens;
    failedButServed.completion += s1.completion_tokens - s0.completion_tokens;
  }
  // Non-streaming: the same faults give an error status, not a truncated success.
  await assert.rejects(
    client.chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: 'tollgate-fault:error:1' }], max_tokens: 5 }),
    (e) => e.status >= 500,
  );
});

test('client disconnect mid-stream cancels the upstream request', async () => {
  const before = (await simStats()).cancelled ?? 0;
  const ac = new AbortController();
  const stream = await client.chat.completions.create(
    { model: 'llama', messages: [{ role: 'user', content: 'tollgate-fault:slow:100' }], max_tokens: 50, stream: true },
    { signal: ac.signal },
  );
  let got = 0;
  try {
    for await (const ch of stream) {
      if (ch.choices?.[0]?.delta?.content) { got++; ac.abort(); }
    }
  } catch (e) {
    assert.match(String(e?.name ?? e), /Abort/);
  }
  assert.equal(got, 1, 'aborted after the first token');
  await waitFor(async () => ((await simStats()).cancelled ?? 0) > before, { what: 'simulator to see the cancel' });
});

test('health routes', async () => {
  const live = await fetch(`${gw.url}/health/liveliness`);
  assert.equal(await live.json(), "I'm alive!");
  const ready = await (await fetch(`${gw.url}/health/readiness`)).json();
  assert.equal(ready.status, 'healthy');
  const h = await (await fetch(`${gw.url}/health`)).json();
  assert.equal(h.healthy_count, 5);
  assert.equal(h.unhealthy_count, 1);
  assert.match(h.unhealthy_endpoints[0].error, /127\.0\.0\.1:9/);
});

test('metrics: names, labels and counts match what the simulator served', async () => {
  // Quiesce: nothing in flight at the simulator.
  await waitFor(async () => (await simStats()).in_flight === 0, { what: 'simulator idle' });
  const st = await simStats();
  const m = await scrape(`${gw.url}/metrics`);
  const r2 = await fetch(`${gw.url}/metrics/`);
  assert.equal(r2.status, 200);
  // Every token the simulator reports serving on successful requests was counted.
  const served = simModel(st);
  const inTok = sum(m, 'litellm_input_tokens_metric_total');
  const outTok = sum(m, 'litellm_output_tokens_metric_total');
  assert.ok(inTok > 0 && outTok > 0);
  assert.equal(sum(m, 'litellm_total_tokens_metric_total'), inTok + outTok);
  // Exactly what the simulator delivered in complete responses: failed, cut
  // and cancelled requests delivered no counts and add none.
  const all = Object.values(st.models);
  assert.equal(inTok, all.reduce((a, x) => a + x.prompt_tokens, 0) - failedButServed.prompt);
  assert.equal(outTok, all.reduce((a, x) => a + x.completion_tokens, 0) - failedButServed.completion);
  assert.ok(served.cancelled >= 1);
  // Unknown models are counted under "other", never the client's string.
  assert.ok(sum(m, 'litellm_proxy_failed_requests_metric_total', { requested_model: 'other' }) >= 1);
  assert.equal(find(m, 'litellm_proxy_failed_requests_metric_total', { requested_model: 'no-such-model' }).length, 0);
  // Connection failures are labelled as LiteLLM does.
  assert.ok(sum(m, 'litellm_deployment_failure_responses_total', { requested_model: 'dead', exception_class: 'Ollama_chat.APIConnectionError' }) >= 1);
  // Backend statuses are kept.
  assert.ok(sum(m, 'litellm_deployment_failure_responses_total', { requested_model: 'llama', exception_status: '429' }) >= 1);
  // TTFT only for streams, so its count is the number of successful streams.
  const ttftCount = sum(m, 'litellm_llm_api_time_to_first_token_metric_count');
  assert.ok(ttftCount >= 3);
  const latCount = sum(m, 'litellm_request_total_latency_metric_count');
  assert.ok(latCount > ttftCount);
  // Histogram buckets are cumulative and end at +Inf == count.
  const inf = sum(m, 'litellm_request_total_latency_metric_bucket', { le: '+Inf' });
  assert.equal(inf, latCount);
  // Ollama state from /api/ps.
  await waitFor(async () => sum(await scrape(`${gw.url}/metrics`), 'tollgate_ollama_up') >= 1, { what: 'ollama poller' });
  assert.ok(sum(m, 'process_resident_memory_bytes') > 0);
});

test('exact accounting: every successful request, counted once', async () => {
  // Fresh counters on the simulator; the gateway's are deltas.
  await fetch(`${sim.url}/sim/reset`, { method: 'POST' });
  const m0 = await scrape(`${gw.url}/metrics`);
  const N = 12;
  const jobs = [];
  for (let i = 0; i < N; i++) {
    const stream = i % 2 === 0;
    jobs.push((async () => {
      const args = { model: 'llama', messages: [{ role: 'user', content: `request ${i} ${'x '.repeat(i)}` }], max_tokens: 3 + i };
      if (!stream) return client.chat.completions.create(args);
      const s = await client.chat.completions.create({ ...args, stream: true, stream_options: { include_usage: true } });
      for await (const _ of s);
    })());
  }
  await Promise.all(jobs);
  const st = simModel(await simStats());
  const m1 = await scrape(`${gw.url}/metrics`);
  const d = (name, f) => sum(m1, name, f) - sum(m0, name, f);
  const f = { requested_model: 'llama' };
  assert.equal(st.requests, N);
  assert.equal(d('litellm_proxy_total_requests_metric_total', { ...f, status_code: '200' }), N);
  assert.equal(d('litellm_input_tokens_metric_total', f), st.prompt_tokens);
  assert.equal(d('litellm_output_tokens_metric_total', f), st.completion_tokens);
  assert.equal(d('litellm_deployment_success_responses_total', f), N);
  assert.equal(d('litellm_llm_api_time_to_first_token_metric_count', {}), N / 2);
});
