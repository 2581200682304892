// LiteLLM parity where users notice (issue 15): retries that count right,
// fallbacks, wildcards, LiteLLM's command line, the dashboards' families and
// LiteLLM's response headers. The official openai client talks through the
// gateway to tollgate sim; /metrics is compared exactly with /sim/stats.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startTollgate } from './lib/proc.mjs';
import { scrape, sum, find, waitFor } from './lib/metrics.mjs';

const MODEL = 'llama3.2:3b';
const DEAD = 'http://127.0.0.1:9'; // discard port: nothing listens, connect is refused
let sim, dir;

async function simStats() {
  return (await fetch(`${sim.url}/sim/stats`)).json();
}
const simTotal = (st, key) => Object.values(st.models).reduce((a, m) => a + m[key], 0);

// A gateway on its own config, so each test reads its own metrics.
async function gateway(name, cfg, extraArgs = [], { env = {} } = {}) {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, cfg);
  const gw = await startTollgate(['serve', '--config', file, '--port', '0', '--host', '127.0.0.1', '--poll-interval', '0', ...extraArgs], { env });
  gw.client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  return gw;
}

// n requests, every other one streamed with include_usage; each resolves to
// the usage the client saw.
async function traffic(client, model, n, tag = 'req') {
  const jobs = [];
  for (let i = 0; i < n; i++) {
    const args = { model, messages: [{ role: 'user', content: `${tag} ${i} ${'w '.repeat(i % 5)}` }], max_tokens: 2 + (i % 4) };
    jobs.push((async () => {
      if (i % 2 === 0) return (await client.chat.completions.create(args)).usage;
      const s = await client.chat.completions.create({ ...args, stream: true, stream_options: { include_usage: true } });
      let usage = null;
      for await (const ch of s) if (ch.usage) usage = ch.usage;
      return usage;
    })());
  }
  return Promise.all(jobs);
}

before(async () => {
  sim = await startTollgate(['sim', '--port', '0', '--ttft-ms', '0', '--token-ms', '0', '--load-ms', '0', '--quiet']);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-parity-'));
});

after(async () => {
  await sim?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('retried successes count as successes: failures 0, tokens and latency equal the simulator', async () => {
  // least-busy picks the first idle deployment: the dead one, so retries
  // happen on the first requests for sure (until it cools down).
  const gw = await gateway('retries', `
model_list:
  - model_name: mixed
    litellm_params: {model: ollama_chat/${MODEL}, api_base: "${DEAD}"}
    model_info: {id: dead-one}
  - model_name: mixed
    litellm_params: {model: ollama_chat/${MODEL}, api_base: "${sim.url}"}
    model_info: {id: live-one}
router_settings:
  num_retries: 2
  routing_strategy: least-busy
`);
  try {
    await fetch(`${sim.url}/sim/reset`, { method: 'POST' });
    const N = 15;
    // One at a time, so least-busy always sees both idle and tries the dead one first.
    for (let i = 0; i < N; i++) await traffic(gw.client, 'mixed', 1, `retry ${i}`);
    const st = await simStats();
    const m = await scrape(`${gw.url}/metrics`);
    const f = { requested_model: 'mixed' };
    assert.equal(st.requests, N);
    assert.equal(sum(m, 'litellm_proxy_failed_requests_metric_total'), 0);
    assert.equal(sum(m, 'litellm_proxy_total_requests_metric_total', { ...f, status_code: '200' }), N);
    assert.equal(sum(m, 'litellm_proxy_total_requests_metric_total'), N);
    assert.equal(sum(m, 'litellm_input_tokens_metric_total', f), simTotal(st, 'prompt_tokens'));
    assert.equal(sum(m, 'litellm_output_tokens_metric_total', f), simTotal(st, 'completion_tokens'));
    assert.equal(sum(m, 'litellm_request_total_latency_metric_count', f), N);
    assert.equal(sum(m, 'litellm_llm_api_latency_metric_count', f), N);
    // The dead deployment's attempts: failures of that deployment only.
    const deadFails = sum(m, 'litellm_deployment_failure_responses_total', { model_id: 'dead-one' });
    assert.ok(deadFails >= 1, 'the dead deployment was tried');
    assert.equal(sum(m, 'litellm_deployment_total_requests_total', { model_id: 'dead-one' }), deadFails);
    assert.equal(sum(m, 'litellm_deployment_success_responses_total', { model_id: 'dead-one' }), 0);
    assert.equal(sum(m, 'litellm_deployment_failure_responses_total', { model_id: 'live-one' }), 0);
    assert.equal(sum(m, 'litellm_deployment_success_responses_total', { model_id: 'live-one' }), N);
    assert.equal(find(m, 'litellm_deployment_failure_responses_total', { model_id: 'dead-one', exception_class: 'Ollama_chat.APIConnectionError' }).length, 1);
    // The deprecated families LiteLLM still emits: successes, and deployment failures.
    assert.equal(sum(m, 'litellm_requests_metric_total'), N);
    assert.equal(sum(m, 'litellm_llm_api_failed_requests_metric_total', { model: MODEL }), deadFails);
    assert.doesNotMatch(gw.output(), /status=502/);
  } finally {
    await gw.stop();
  }
});

test("LiteLLM's command line: `--config F --port N` with no subcommand runs the gateway", async () => {
  const file = path.join(dir, 'cli.yaml');
  fs.writeFileSync(file, `
model_list:
  - model_name: llama
    litellm_params: {model: ollama_chat/${MODEL}, api_base: "${sim.url}"}
`);
  // The guide's compose `command: --config /app/config.yaml --port 4000`, with
  // the kernel's free port instead of 4000.
  const a = await startTollgate(['--config', file, '--port', '0']);
  try {
    const client = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const r = await client.chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
    assert.equal(r.usage.completion_tokens, 3);
    assert.match(a.output(), /listening on http:\/\/0\.0\.0\.0:/);
  } finally {
    assert.equal(await a.stop(), 0);
  }
  // The other LiteLLM flags: --host, --num_workers, --detailed_debug; flags
  // that make no sense here are accepted with a warning naming them.
  const b = await startTollgate(['--config', file, '--port', '0', '--host', '127.0.0.1', '--num_workers', '2', '--detailed_debug',
    '--run_gunicorn', '--max_requests_before_restart', '100', '--telemetry=False']);
  try {
    const out = b.output();
    assert.match(out, /listening on http:\/\/127\.0\.0\.1:\d+ .*2 threads/);
    assert.match(out, /--run_gunicorn is a flag of the litellm CLI that Tollgate ignores/);
    assert.match(out, /--max_requests_before_restart is a flag of the litellm CLI that Tollgate ignores/);
    assert.match(out, /--telemetry is a flag of the litellm CLI that Tollgate ignores/);
    const client = new OpenAI({ baseURL: `${b.url}/v1`, apiKey: 'x', maxRetries: 0 });
    await client.chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
    assert.match(b.output(), /debug +router: simple-shuffle/, '--detailed_debug turns on debug logging');
  } finally {
    assert.equal(await b.stop(), 0);
  }
});

test("LiteLLM's dashboard families: in-flight, queue time, overhead with guardrails, remaining per-key limits", async () => {
  const gw = await gateway('families', `
model_list:
  - model_name: llama
    litellm_params: {model: ollama_chat/${MODEL}, api_base: "${sim.url}"}
`);
  try {
    await fetch(`${sim.url}/sim/reset`, { method: 'POST' });
    // Idle: the scrape itself is the one request in flight, as in LiteLLM.
    assert.equal(sum(await scrape(`${gw.url}/metrics`), 'litellm_in_flight_requests'), 1);
    // A slow stream in flight counts once more.
    const s = await gw.client.chat.completions.create({
      model: 'llama', messages: [{ role: 'user', content: 'tollgate-fault:slow:50' }], max_tokens: 6, stream: true,
    });
    const it = s[Symbol.asyncIterator]();
    await it.next();
    assert.equal(sum(await scrape(`${gw.url}/metrics`), 'litellm_in_flight_requests'), 2);
    while (!(await it.next()).done);
    const N = 6;
    await traffic(gw.client, 'llama', N, 'families');
    const st = await simStats();
    const m = await scrape(`${gw.url}/metrics`);
    assert.equal(st.requests, N + 1);
    assert.equal(sum(m, 'litellm_in_flight_requests'), 1);
    assert.equal(sum(m, 'litellm_requests_metric_total', { model: MODEL }), N + 1);
    assert.equal(sum(m, 'litellm_request_queue_time_seconds_count', { requested_model: 'llama', model: MODEL }), N + 1);
    assert.equal(sum(m, 'litellm_request_queue_time_seconds_sum'), 0);
    const ovh = sum(m, 'litellm_overhead_latency_metric_count');
    assert.ok(ovh > 0);
    assert.equal(sum(m, 'litellm_overhead_with_guardrails_latency_metric_count', { model_group: 'llama' }), ovh);
    assert.equal(sum(m, 'litellm_overhead_with_guardrails_latency_metric_sum'), sum(m, 'litellm_overhead_latency_metric_sum'));
    for (const fam of ['litellm_remaining_api_key_requests_for_model', 'litellm_remaining_api_key_tokens_for_model']) {
      const rows = find(m, fam);
      assert.equal(rows.length, 1, fam);
      assert.deepEqual(rows[0].labels, { api_key_alias: 'None', hashed_api_key: 'None', model: 'llama' });
      assert.equal(rows[0].value, 9223372036854775807); // sys.maxsize: no per-key limit
    }
    assert.equal(sum(m, 'litellm_llm_api_failed_requests_metric_total'), 0);
    assert.equal(sum(m, 'litellm_input_tokens_metric_total'), simTotal(st, 'prompt_tokens'));
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(text, /^litellm_remaining_api_key_requests_for_model\{[^}]*\} 9\.223372036854776e\+18$/m);
    assert.match(text, /^# TYPE litellm_in_flight_requests gauge$/m);
    assert.match(text, /^# TYPE litellm_deployment_successful_fallbacks_total counter$/m);
  } finally {
    await gw.stop();
  }
});

test("LiteLLM's response headers on whole and streamed answers", async () => {
  const gw = await gateway('headers', `
model_list:
  - model_name: pair
    litellm_params: {model: ollama_chat/${MODEL}, api_base: "${DEAD}"}
    model_info: {id: dead-one}
  - model_name: pair
    litellm_params: {model: ollama_chat/${MODEL}, api_base: "${sim.url}", input_cost_per_token: 0.5, output_cost_per_token: 2}
    model_info: {id: live-one}
router_settings:
  num_retries: 1
  routing_strategy: least-busy
`);
  try {
    await fetch(`${sim.url}/sim/reset`, { method: 'POST' });
    const { data, response } = await gw.client.chat.completions
      .create({ model: 'pair', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 })
      .withResponse();
    const h = response.headers;
    assert.match(h.get('x-litellm-call-id'), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(h.get('x-litellm-model-id'), 'live-one');
    assert.equal(h.get('x-litellm-model-api-base'), sim.url);
    assert.equal(h.get('x-litellm-attempted-retries'), '1'); // the dead one first (least-busy, both idle)
    assert.equal(h.get('x-litellm-attempted-fallbacks'), '0');
    assert.equal(Number(h.get('x-litellm-response-cost')), data.usage.prompt_tokens * 0.5 + data.usage.completion_tokens * 2);
    const dur = Number(h.get('x-litellm-response-duration-ms'));
    const ovh = Number(h.get('x-litellm-overhead-duration-ms'));
    assert.ok(dur > 0 && ovh >= 0 && ovh <= dur, `duration ${dur} overhead ${ovh}`);
    assert.match(h.get('x-litellm-version'), /^\d+\.\d+\.\d+/);

    const { data: stream, response: sr } = await gw.client.chat.completions
      .create({ model: 'pair', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, stream: true })
      .withResponse();
    for await (const _ of stream);
    const sh = sr.headers;
    assert.equal(sh.get('content-type'), 'text/event-stream');
    assert.match(sh.get('x-litellm-call-id'), /^[0-9a-f-]{36}$/);
    assert.notEqual(sh.get('x-litellm-call-id'), h.get('x-litellm-call-id'));
    assert.equal(sh.get('x-litellm-model-id'), 'live-one');
    assert.equal(sh.get('x-litellm-model-api-base'), sim.url);
    assert.ok(Number(sh.get('x-litellm-response-duration-ms')) > 0);
    assert.ok(['0', '1'].includes(sh.get('x-litellm-attempted-retries'))); // the dead one may be cooling down
    assert.equal(sh.get('x-litellm-response-cost'), null); // not known when a stream starts
    assert.ok(sh.get('x-litellm-version'));
    // The prices act on litellm_spend_metric too: tokens served x price.
    const st = await simStats();
    const m = await scrape(`${gw.url}/metrics`);
    assert.equal(sum(m, 'litellm_spend_metric_total'), simTotal(st, 'prompt_tokens') * 0.5 + simTotal(st, 'completion_tokens') * 2);
  } finally {
    await gw.stop();
  }
});

test('fallbacks: after the retries, the listed groups in order; counted with LiteLLM labels', async () => {
  const gw = await gateway('fallbacks', `
model_list:
  - model_name: dead
    litellm_params: {model: ollama_chat/${MODEL}, api_base: "${DEAD}"}
  - model_name: dead2
    litellm_params: {model: ollama_chat/${MODEL}, api_base: "${DEAD}"}
  - model_name: dead3
    litellm_params: {model: ollama_chat/${MODEL}, api_base: "${DEAD}"}
  - model_name: llama
    litellm_params: {model: ollama_chat/${MODEL}, api_base: "${sim.url}"}
  - model_name: small
    litellm_params: {model: ollama_chat/gemma3:1b, api_base: "${sim.url}"}
  - model_name: ctx-small
    litellm_params: {model: openai/${MODEL}, api_base: "${sim.url}/v1"}
  - model_name: ctx-big
    litellm_params: {model: ollama_chat/qwen2.5:0.5b, api_base: "${sim.url}"}
litellm_settings:
  num_retries: 1
  fallbacks: [{"dead": ["dead2", "llama"]}]
  default_fallbacks: ["small"]
router_settings:
  fallbacks: [{"ctx-small": ["llama"]}]
  context_window_fallbacks: [{"ctx-small": ["ctx-big"]}]
`);
  try {
    await fetch(`${sim.url}/sim/reset`, { method: 'POST' });
    const N = 4;
    // fallbacks: dead -> dead2 (fails too) -> llama (answers).
    for (let i = 0; i < N; i++) {
      const { data, response } = await gw.client.chat.completions
        .create({ model: 'dead', messages: [{ role: 'user', content: `fb ${i}` }], max_tokens: 2 })
        .withResponse();
      assert.equal(data.usage.completion_tokens, 2);
      assert.equal(response.headers.get('x-litellm-attempted-fallbacks'), '2');
    }
    // default_fallbacks: dead3 has no entry of its own -> small.
    const s = await gw.client.chat.completions.create({ model: 'dead3', messages: [{ role: 'user', content: 'def' }], max_tokens: 2, stream: true });
    for await (const _ of s);
    // context_window_fallbacks: ctx-small's context-window error goes to ctx-big, not to llama.
    const cw = await gw.client.chat.completions.create({ model: 'ctx-small', messages: [{ role: 'user', content: 'long' }], max_tokens: 2, tollgate_fault: 'context' });
    assert.equal(cw.usage.completion_tokens, 2);
    // Any other 400 is the request's fault: no fallback.
    await assert.rejects(
      gw.client.chat.completions.create({ model: 'ctx-small', messages: [{ role: 'user', content: 'x' }], max_tokens: 2, tollgate_fault: 'bogus' }),
      (e) => e.status === 400,
    );
    const st = await simStats();
    const m = await scrape(`${gw.url}/metrics`);
    assert.equal(st.models[MODEL].requests, N + 2); // llama (N) + ctx-small's context failure and its rejected request
    assert.equal(st.models['gemma3:1b'].requests, 1);
    assert.equal(st.models['qwen2.5:0.5b'].requests, 1);
    const ok = 'litellm_deployment_successful_fallbacks_total', bad = 'litellm_deployment_failed_fallbacks_total';
    const conn = { exception_class: 'Ollama_chat.APIConnectionError', exception_status: '502' };
    assert.equal(sum(m, ok, { requested_model: 'dead', fallback_model: 'llama', ...conn }), N);
    assert.equal(sum(m, bad, { requested_model: 'dead', fallback_model: 'dead2', ...conn }), N);
    assert.equal(sum(m, ok, { requested_model: 'dead3', fallback_model: 'small', ...conn }), 1);
    assert.equal(sum(m, ok, { requested_model: 'ctx-small', fallback_model: 'ctx-big', exception_class: 'Openai.ContextWindowExceededError', exception_status: '400' }), 1);
    assert.equal(sum(m, ok), N + 2);
    assert.equal(sum(m, bad), N);
    // Proxy-level: the client's group, one success each; only the bogus request failed.
    assert.equal(sum(m, 'litellm_proxy_total_requests_metric_total', { requested_model: 'dead', status_code: '200' }), N);
    assert.equal(sum(m, 'litellm_proxy_failed_requests_metric_total'), 1);
    assert.equal(sum(m, 'litellm_proxy_failed_requests_metric_total', { requested_model: 'ctx-small', exception_status: '400' }), 1);
    assert.equal(sum(m, 'litellm_input_tokens_metric_total'), simTotal(st, 'prompt_tokens'));
    assert.equal(sum(m, 'litellm_output_tokens_metric_total'), simTotal(st, 'completion_tokens'));
    assert.equal(sum(m, 'litellm_request_total_latency_metric_count'), N + 2);
    // Every dead attempt: 2 per group (num_retries 1), dead and dead2 per request, dead3 once.
    assert.equal(sum(m, 'litellm_deployment_failure_responses_total', { exception_class: 'Ollama_chat.APIConnectionError' }), 4 * N + 2);
  } finally {
    await gw.stop();
  }
});
