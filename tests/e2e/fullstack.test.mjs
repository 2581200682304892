// The whole stack, end to end, with real parts only: `tollgate sim` as
// Ollama, `tollgate serve`, `tollgate gpu` on the scripted NVML library, and a
// real Prometheus running the shipped host config and rules (1 s intervals).
// Traffic goes through the official openai client; then every PromQL query
// of docs/guide.md, every rule and every dashboard panel runs through
// Prometheus's HTTP API and must give the value the backend and the fake
// GPUs account for. Last, `tollgate check` passes, and fails with the right
// hint when each component is stopped in turn.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { tollgateBin, repoRoot } from './lib/proc.mjs';
import { havePrometheus, rulesDir } from './lib/prometheus.mjs';
import { implemented } from './lib/components.mjs';
import { listPanelExprs } from './lib/dashboards.mjs';
import { scrape, sum, waitFor } from './lib/metrics.mjs';
import { startSim, startServe, startGpu, startHostPrometheus, simStats, fakeNvml } from './lib/stack.mjs';

const missing = [
  ...['sim', 'serve', 'gpu'].filter((c) => !implemented(c)).map((c) => `tollgate ${c}`),
  ...(havePrometheus() ? [] : ['prometheus']),
  ...(fs.existsSync(fakeNvml) ? [] : [`${fakeNvml} (make build)`]),
];
const skip = missing.length ? `needs ${missing.join(', ')}` : false;

let tmp, xidFile, sim, serve, gpu, prom, oa, model;
const sent = { ok: 0, streams: 0, failed: 0, disconnected: 0 };

before(async () => {
  if (skip) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-full-'));
  xidFile = path.join(tmp, 'xid');
  sim = await startSim();
  serve = await startServe(sim.url);
  gpu = await startGpu(0, { xidFile });
  prom = await startHostPrometheus({ litellm: [`127.0.0.1:${serve.port}`], dcgm: [`127.0.0.1:${gpu.port}`] });
  await prom.waitScrapedAfter(0, { jobs: ['litellm', 'dcgm', 'prometheus'] });
  // The official client, no retries of its own: what we send is what is counted.
  oa = new OpenAI({ baseURL: `${serve.url}/v1`, apiKey: 'sk-none', maxRetries: 0 });
});
after(async () => {
  for (const s of [prom && { stop: () => prom.cleanup() }, gpu, serve, sim]) if (s) await s.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function sendTraffic() {
  // The models the gateway serves are the ones Ollama (the sim) has; the
  // official ollama client reads them from the backend directly.
  const tags = await new Ollama({ host: sim.url }).list();
  const served = (await oa.models.list()).data.map((m) => m.id);
  assert.deepEqual(served.sort(), tags.models.map((m) => m.name).sort());
  model = served.find((m) => m.startsWith('llama3.2'));
  assert.ok(model, served.join());
  const chat = async (q, i) => {
    const r = await oa.chat.completions.create({ model, messages: [{ role: 'user', content: q }], max_tokens: 5 + i });
    assert.equal(r.usage.completion_tokens, 5 + i);
    sent.ok++;
  };
  const fail = async () => {
    // A backend failure (the sim answers 500; the gateway retries, then fails).
    await assert.rejects(oa.chat.completions.create({ model, messages: [{ role: 'user', content: 'fail tollgate-fault:500' }] }),
      (e) => e.status === 500);
    sent.failed++;
  };
  // First a success and a failure, scraped, so that every counter series
  // exists in Prometheus before the rest: rate() then sees the increase.
  await chat('Say hello in one sentence.', 0);
  await fail();
  await prom.waitScrapedAfter(Date.now());
  for (const [i, q] of ['What is a GPU?', 'Count to three, please!'].entries()) await chat(q, i + 1);
  await fail();
  for (const q of ['Stream a haiku about metrics.', 'Stream two words.']) {
    const s = await oa.chat.completions.create({ model, messages: [{ role: 'user', content: q }], stream: true,
      stream_options: { include_usage: true } });
    let text = '';
    for await (const c of s) text += c.choices[0]?.delta?.content || '';
    assert.ok(text.length > 0);
    sent.ok++; sent.streams++;
  }
  // A client that goes away mid-stream.
  const ac = new AbortController();
  const s = await oa.chat.completions.create({ model, stream: true, max_tokens: 30,
    messages: [{ role: 'user', content: 'slowly tollgate-fault:slow:300' }] }, { signal: ac.signal });
  let got = 0;
  // openai-node ends the iteration quietly on its own abort.
  for await (const c of s) { if (c.choices[0]?.delta?.content) { got++; ac.abort(); } }
  assert.equal(got, 1);
  sent.disconnected++;
  // The gateway noticed and cancelled upstream: nothing in flight anywhere.
  await waitFor(async () => (await simStats(sim.url)).in_flight === 0, { what: 'sim idle' });
  await waitFor(async () => sum(await scrape(`${serve.url}/metrics`), 'tollgate_client_disconnects_total') === 1,
    { what: 'the disconnect counted' });
  // An XID from the scripted driver, on GPU 0.
  fs.writeFileSync(xidFile, '0 79\n');
  await waitFor(async () => sum(await scrape(`${gpu.url}/metrics`), 'DCGM_FI_DEV_XID_ERRORS', { gpu: '0' }) === 79,
    { what: 'XID 79 exported' });
}

// Counters reach Prometheus at the next scrape, recorded names one rule
// evaluation later, and rate() wants two samples after the traffic.
async function settle() {
  let t = Date.now();
  await prom.waitScrapedAfter(t);
  t = Date.now();
  await prom.waitScrapedAfter(t);
  await prom.waitRulesAfter(Date.now());
}

const sumQ = async (q) => Number((await prom.scalar(`sum(${q})`)) ?? NaN);

test('traffic through the official client reaches Prometheus with exactly what the backend served', { skip }, async () => {
  await sendTraffic();
  await settle();
  const st = await simStats(sim.url);
  assert.ok(st.prompt_tokens > 0 && st.completion_tokens > 0, JSON.stringify(st));
  // Tokens: the gateway's counters, in Prometheus, equal the sim's accounting.
  assert.equal(await sumQ('litellm_input_tokens_metric_total'), st.prompt_tokens);
  assert.equal(await sumQ('litellm_output_tokens_metric_total'), st.completion_tokens);
  assert.equal(await sumQ('litellm_total_tokens_metric_total'), st.prompt_tokens + st.completion_tokens);
  assert.equal(await sumQ(`litellm_input_tokens_metric_total{requested_model="${model}"}`), st.models[model].prompt_tokens);
  // Requests: every client request once; the failure once per client
  // request, but once per attempt (retries) at the deployment level.
  assert.equal(await sumQ('litellm_proxy_total_requests_metric_total'), sent.ok + sent.failed + sent.disconnected);
  assert.equal(await sumQ('litellm_proxy_total_requests_metric_total{status_code="200"}'), sent.ok);
  assert.equal(await sumQ('litellm_request_total_latency_metric_count'), sent.ok);
  assert.equal(await sumQ('litellm_llm_api_time_to_first_token_metric_count'), sent.streams);
  assert.equal(await sumQ('litellm_deployment_failure_responses_total'), st.faults['500']);
  assert.equal(await sumQ('tollgate_client_disconnects_total'), sent.disconnected);
  assert.equal(st.cancelled, sent.disconnected);
  // Ollama's loaded models, polled by the gateway, as the ollama client sees them.
  const ps = await new Ollama({ host: sim.url }).ps();
  assert.equal(await prom.scalar('sum(tollgate_ollama_loaded_models)'), ps.models.length);
  assert.equal(await prom.scalar('min(tollgate_ollama_up)'), 1);
});

test('the GPU series are the scripted driver\'s values', { skip }, async () => {
  const want = { DCGM_FI_DEV_GPU_UTIL: [45, 46], DCGM_FI_DEV_MEM_COPY_UTIL: [20, 21], DCGM_FI_DEV_FB_USED: [1000, 1001],
    DCGM_FI_DEV_GPU_TEMP: [40, 41], DCGM_FI_DEV_POWER_USAGE: [123.456, 124.456], DCGM_FI_DEV_SM_CLOCK: [1980, 1970] };
  for (const [name, vals] of Object.entries(want)) {
    for (const [g, v] of vals.entries()) assert.equal(await prom.scalar(`${name}{job="dcgm",gpu="${g}"}`), v, `${name} gpu ${g}`);
  }
  const util = (await prom.query('DCGM_FI_DEV_GPU_UTIL{gpu="0"}')).result[0].metric;
  assert.equal(util.modelName, 'NVIDIA H100 80GB HBM3');
  assert.equal(util.UUID, 'GPU-11111111-2222-3333-4444-555555555500');
  assert.equal(await prom.scalar('DCGM_FI_DEV_XID_ERRORS{gpu="0"}'), 79);
  assert.equal(await prom.scalar('tollgate_gpu_nvml_up'), 1);
});

// Every ```promql block of docs/guide.md, one query per line.
function guideQueries() {
  const md = fs.readFileSync(path.join(repoRoot, 'docs/guide.md'), 'utf8');
  const qs = [];
  for (const m of md.matchAll(/```promql\n([\s\S]*?)```/g)) {
    for (const line of m[1].split('\n')) {
      const q = line.replace(/\s+#.*$/, '').trim();
      if (q && !qs.includes(q)) qs.push(q);
    }
  }
  return qs;
}

test('every PromQL query of docs/guide.md returns the expected value', { skip }, async () => {
  const st = await simStats(sim.url);
  // The value of sum(<query>) each query must give; a new query in the
  // guide without an expectation here fails the test.
  const expect = {
    'up{job="litellm"}': 1,
    'up{job="dcgm"}': 1,
    litellm_input_tokens_total: st.prompt_tokens,
    litellm_request_total_latency_seconds_count: sent.ok,
    // Every bucket count summed: at least the +Inf bucket's streams.
    'litellm_time_to_first_token_seconds_bucket{le="+Inf"}': sent.streams,
    litellm_deployment_failure_responses: st.faults['500'],
    DCGM_FI_DEV_GPU_UTIL: 45 + 46,
    DCGM_FI_DEV_FB_USED: 1000 + 1001,
    DCGM_FI_DEV_GPU_TEMP: 40 + 41,
  };
  const qs = guideQueries();
  assert.ok(qs.length >= 8, qs.join('\n'));
  for (const q of qs) {
    const r = await prom.query(q);
    assert.ok(r.result.length > 0, `${q}: no series`);
    const key = q === 'litellm_time_to_first_token_seconds_bucket' ? `${q}{le="+Inf"}` : q;
    assert.ok(key in expect, `docs/guide.md query without an expected value in this test: ${q}`);
    assert.equal(await sumQ(key), expect[key], q);
  }
});

test('every recording rule equals its source, and every alert expression gives the expected result', { skip }, async () => {
  const rules = (await prom.query('up')) && (await (await fetch(`${prom.url}/api/v1/rules`)).json()).data.groups;
  const files = new Set(rules.map((g) => path.basename(g.file)));
  assert.deepEqual([...files].sort(), fs.readdirSync(rulesDir).filter((f) => f.endsWith('.yaml')).sort());
  const all = rules.flatMap((g) => g.rules);
  for (const r of all) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);
  const key = (s) => JSON.stringify(Object.entries(s.metric).filter(([k]) => k !== '__name__').sort());
  let recorded = 0;
  for (const r of all.filter((x) => x.type === 'recording')) {
    const [a, b] = [await prom.query(r.name), await prom.query(r.query)];
    assert.ok(b.result.length > 0, `${r.query}: no series to record`);
    const av = Object.fromEntries(a.result.map((s) => [key(s), s.value[1]]));
    const bv = Object.fromEntries(b.result.map((s) => [key(s), s.value[1]]));
    assert.deepEqual(av, bv, `${r.name} != ${r.query}`);
    recorded++;
  }
  assert.ok(recorded >= 10);
  // Healthy stack with one failed request out of a handful and XID 79: only
  // the error ratio and the XID alerts' expressions select anything.
  const fail = await sumQ('litellm_proxy_failed_requests_metric_total');
  const total = await sumQ('litellm_proxy_total_requests_metric_total');
  const expectAlerts = {
    LLMGatewayDown: null, GPUExporterDown: null, OllamaDown: null, LLMTimeToFirstTokenHigh: null,
    GPUTemperatureHigh: null, GPUMemoryNearlyFull: null, GPUNotVisible: null,
    LLMErrorRatioHigh: 'model',
    GPUXidError: 79,
  };
  const alerts = all.filter((x) => x.type === 'alerting');
  assert.deepEqual(alerts.map((a) => a.name).sort(), Object.keys(expectAlerts).sort());
  for (const a of alerts) {
    const v = await prom.scalar(a.query);
    if (expectAlerts[a.name] === null) assert.equal(v, null, `${a.name}: ${a.query} selected something`);
    else if (expectAlerts[a.name] === 'model') {
      // rate()'s extrapolation makes the ratio approximate: above the
      // threshold, for our model, and no higher than the share that failed.
      const r = (await prom.query(a.query)).result;
      assert.deepEqual(r.map((x) => x.metric.requested_model), [model], a.name);
      assert.ok(v > 0.05 && v <= fail / total + 0.2, `${a.name}: ${v}, failed ${fail}/${total}`);
    } else assert.ok(Math.abs(v - expectAlerts[a.name]) < 1e-9, `${a.name}: ${v}, want ${expectAlerts[a.name]}`);
  }
});

test('every dashboard panel returns data on the live stack', { skip }, async () => {
  const exprs = listPanelExprs();
  assert.ok(exprs.length >= 30);
  const empty = [];
  for (const e of exprs) {
    const r = await prom.query(e.expr);
    if (r.result.length === 0) empty.push(`${e.dashboard} "${e.panel}" ${e.refId}: ${e.expr}`);
  }
  assert.deepEqual(empty, []);
  // The traffic came after the series existed, so the rates are real.
  for (const panel of ['Requests per second by model', 'Tokens per second', 'Failures per second by class']) {
    for (const e of exprs.filter((x) => x.panel === panel)) {
      const v = (await prom.query(e.expr)).result.reduce((a, s) => a + Number(s.value[1]), 0);
      assert.ok(v > 0, `${panel} ${e.refId}: ${v}`);
    }
  }
});

function runCheck() {
  return new Promise((resolve) => {
    const c = spawn(tollgateBin, ['check', '--json', '--timeout', '3', '--deadline', '40',
      '--ollama', sim.url, '--gateway', serve.url, '--gpu', gpu.url, '--prometheus', prom.url]);
    let out = '';
    c.stdout.on('data', (d) => { out += d; });
    c.on('close', (code) => {
      const json = JSON.parse(out);
      resolve({ code, out, byId: Object.fromEntries(json.checks.map((x) => [x.id, x])) });
    });
  });
}

test('tollgate check passes on the stack, with the GPU checks passing (not warnings)', { skip }, async () => {
  const r = await runCheck();
  assert.equal(r.code, 0, r.out);
  const notPass = Object.values(r.byId).filter((c) => c.status !== 'pass');
  assert.deepEqual(notPass, []);
  for (const id of ['gpu.metrics', 'prometheus.target.dcgm', 'prometheus.query.DCGM_FI_DEV_GPU_UTIL']) {
    assert.equal(r.byId[id]?.status, 'pass', id);
  }
});

test('tollgate check fails with the right hint when each component is stopped in turn', { skip }, async () => {
  const cases = [
    { name: 'gpu', get: () => gpu, set: (s) => { gpu = s; }, start: (p) => startGpu(p, { xidFile }),
      id: 'gpu.metrics', fix: /tollgate[ -]gpu|dcgm-exporter/, stillPass: ['ollama.running', 'gateway.chat', 'prometheus.ready'] },
    { name: 'gateway', get: () => serve, set: (s) => { serve = s; }, start: (p) => startServe(sim.url, p),
      id: 'gateway.liveliness', fix: /up -d litellm|make run/, stillPass: ['ollama.running', 'gpu.metrics', 'prometheus.ready'] },
    { name: 'Ollama (sim)', get: () => sim, set: (s) => { sim = s; }, start: (p) => startSim(p),
      id: 'ollama.running', fix: /ollama serve/, stillPass: ['gateway.liveliness', 'gpu.metrics', 'prometheus.ready'] },
    { name: 'Prometheus', get: () => prom, set: () => {}, start: async () => { await prom.restart(); return prom; },
      id: 'prometheus.ready', fix: /prometheus/, stillPass: ['ollama.running', 'gateway.chat', 'gpu.metrics'] },
  ];
  for (const c of cases) {
    const port = c.get().port;
    await c.get().stop();
    const r = await runCheck();
    assert.equal(r.code, 1, `${c.name} stopped: ${r.out}`);
    assert.equal(r.byId[c.id].status, 'fail', `${c.name} stopped: ${JSON.stringify(r.byId[c.id])}`);
    assert.match(r.byId[c.id].cause, /connection refused|not running/, c.name);
    assert.match(r.byId[c.id].fix, c.fix, c.name);
    for (const id of c.stillPass) assert.equal(r.byId[id].status, 'pass', `${c.name} stopped, ${id}: ${JSON.stringify(r.byId[id])}`);
    // Back on the same port; Prometheus sees it again before the next case.
    c.set(await c.start(port));
    await prom.waitScrapedAfter(Date.now(), { timeoutMs: 30000 });
  }
  const r = await runCheck();
  assert.equal(r.code, 0, `all restarted: ${r.out}`);
});
