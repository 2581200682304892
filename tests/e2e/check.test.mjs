// `tollgate check` end to end: the real binary against a real Prometheus (with
// Tollgate's rules) scraping stand-ins for the gateway and GPU exporter, and
// against `tollgate sim` for Ollama when the simulator is in this build.
// Stopping a component must turn the right lines red with the right hint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { tollgateBin, startTollgate } from './lib/proc.mjs';
import { startPrometheus, havePrometheus } from './lib/prometheus.mjs';
import { fakeOllama, fakeGateway, fakeGpuExporter } from './lib/fakes.mjs';
import { implemented } from './lib/components.mjs';

// Async: the stand-ins live in this process and must keep answering.
function runCheck(args) {
  return new Promise((resolve) => {
    const p = spawn(tollgateBin, ['check', '--timeout', '3', '--deadline', '40', ...args]);
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => resolve({ code, out, err }));
  });
}
async function runJson(args) {
  const r = await runCheck(['--json', ...args]);
  let json;
  try { json = JSON.parse(r.out); } catch { assert.fail(`not JSON (exit ${r.code}):\n${r.out}\n${r.err}`); }
  const byId = Object.fromEntries(json.checks.map((c) => [c.id, c]));
  return { ...r, json, byId };
}

const haveProm = havePrometheus();
let ollama, gw, gpu, prom, urls;

before(async () => {
  if (!haveProm) return;
  ollama = implemented('sim') ? await startTollgate(['sim', '--port', '0']) : await fakeOllama();
  gw = await fakeGateway();
  gpu = await fakeGpuExporter({ gpus: 1 });
  prom = await startPrometheus({ litellm: gw.host, dcgm: gpu.host });
  await prom.waitTargets((ts) => ts.length === 2 && ts.every((t) => t.health === 'up'));
  urls = ['--ollama', ollama.url, '--gateway', gw.url, '--gpu', gpu.url, '--prometheus', prom.url];
});

after(async () => {
  for (const s of [prom, gpu, gw, ollama]) if (s) await s.stop();
});

test('--help exits 0 and bad usage exits 2 with a message', () => {
  const h = spawnSync(tollgateBin, ['check', '--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout.toString(), /--prometheus URL/);
  const bad = spawnSync(tollgateBin, ['check', '--frobnicate']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr.toString(), /unknown or incomplete option '--frobnicate'/);
  const secs = spawnSync(tollgateBin, ['check', '--timeout', 'soon']);
  assert.equal(secs.status, 2);
  assert.match(secs.stderr.toString(), /not a number of seconds/);
});

test('every check passes when the whole pipeline works', { skip: !haveProm && 'prometheus not installed' }, async () => {
  const r = await runJson(urls);
  const bad = r.json.checks.filter((c) => c.status !== 'pass');
  assert.deepEqual(bad, [], r.out);
  assert.equal(r.code, 0);
  assert.equal(r.json.ok, true);
  assert.match(r.byId['ollama.running'].detail, /Ollama is running/);
  assert.match(r.byId['ollama.models'].detail, /^\d+ models?: /);
  assert.match(r.byId['gateway.chat'].detail, /12 prompt \+ 8 completion tokens/);
  assert.match(r.byId['gateway.stream'].detail, /data: \[DONE\]/);
  assert.match(r.byId['gateway.counters'].detail, /input_tokens_metric_total \+24, .*output_tokens_metric_total \+16/);
  assert.match(r.byId['gateway.native'].detail, /12 prompt \+ 8 eval tokens; requests\{route="\/api\/chat"\} \+1$/);
  assert.match(r.byId['gpu.metrics'].detail, /^1 GPU, utilisation avg 45%/);
  assert.match(r.byId['prometheus.target.litellm'].detail, /^up \(1\/1\), last scrape [\d.]+ s ago, interval 1s/);
  assert.match(r.byId['prometheus.target.dcgm'].detail, /^up \(1\/1\)/);
  // The guide's names, provided by the recording rules.
  for (const q of ['litellm_input_tokens_total', 'litellm_request_total_latency_seconds_count',
    'litellm_time_to_first_token_seconds_bucket', 'up{job="litellm"}', 'DCGM_FI_DEV_GPU_UTIL']) {
    assert.equal(r.byId[`prometheus.query.${q}`].status, 'pass', q);
  }
  for (const c of r.json.checks) assert.equal(c.cause, null);

  const text = await runCheck(urls);
  assert.equal(text.code, 0);
  assert.match(text.out, /^  ✓ Ollama answers GET \/: "Ollama is running" \(\d+\.\d ms\)$/m);
  assert.match(text.out, /^OK: \d+ passed, 0 failed, 0 warnings, 0 skipped$/m);
});

test('a GPU exporter without a GPU is a warning, not a failure', { skip: !haveProm && 'prometheus not installed' }, async () => {
  const nogpu = await fakeGpuExporter({ gpus: 0 });
  try {
    const r = await runJson([...urls.slice(0, 4), '--gpu', nogpu.url, '--prometheus', prom.url]);
    assert.equal(r.byId['gpu.metrics'].status, 'warn');
    assert.match(r.byId['gpu.metrics'].cause, /no NVIDIA GPU/);
    assert.equal(r.json.failed, 0, r.out);
    assert.equal(r.code, 0);
  } finally { await nogpu.stop(); }
});

test('--skip-gpu skips the exporter and the dcgm queries', { skip: !haveProm && 'prometheus not installed' }, async () => {
  const r = await runJson([...urls.slice(0, 4), '--gpu', 'http://127.0.0.1:1', '--prometheus', prom.url, '--skip-gpu']);
  assert.equal(r.byId['gpu.metrics'].status, 'skip');
  assert.equal(r.byId['prometheus.target.dcgm'].status, 'skip');
  assert.equal(r.byId['prometheus.query.DCGM_FI_DEV_GPU_UTIL'].status, 'skip');
  assert.equal(r.code, 0, r.out);
});

test('a gateway that wants a key: 401 points at --api-key', { skip: !haveProm && 'prometheus not installed' }, async () => {
  const locked = await fakeGateway({ masterKey: 'sk-right' });
  try {
    const args = ['--ollama', ollama.url, '--gateway', locked.url, '--skip-gpu', '--prometheus', 'http://127.0.0.1:1'];
    const wrong = await runJson([...args, '--api-key', 'sk-wrong']);
    assert.equal(wrong.byId['gateway.models'].status, 'fail');
    assert.match(wrong.byId['gateway.models'].detail, /^HTTP 401/);
    assert.match(wrong.byId['gateway.models'].fix, /--api-key/);
    assert.equal(wrong.code, 1);
    const right = await runJson([...args, '--api-key', 'sk-right']);
    assert.equal(right.byId['gateway.models'].status, 'pass');
    assert.equal(right.byId['gateway.chat'].status, 'pass');
  } finally { await locked.stop(); }
});

test('a gateway without the native Ollama API (LiteLLM) is a warning that names tollgate serve', { skip: !haveProm && 'prometheus not installed' }, async () => {
  const litellm = await fakeGateway({ native: false });
  try {
    const r = await runJson(['--ollama', ollama.url, '--gateway', litellm.url, '--skip-gpu', '--prometheus', prom.url]);
    assert.equal(r.byId['gateway.native'].status, 'warn');
    assert.match(r.byId['gateway.native'].detail, /^HTTP 404: \{"detail":"Not Found"\}/);
    assert.match(r.byId['gateway.native'].fix, /tollgate serve --sidecar/);
    assert.equal(r.byId['gateway.chat'].status, 'pass');
  } finally { await litellm.stop(); }
});

test('--model that the gateway does not serve fails the models check', { skip: !haveProm && 'prometheus not installed' }, async () => {
  const r = await runJson([...urls, '--model', 'no-such-model']);
  assert.equal(r.byId['gateway.models'].status, 'fail');
  assert.match(r.byId['gateway.models'].cause, /not in the gateway's model_list/);
  assert.equal(r.byId['gateway.chat'].status, 'skip');
  assert.equal(r.code, 1);
});

test('Prometheus down: connection refused with how to start it', { skip: !haveProm && 'prometheus not installed' }, async () => {
  const r = await runJson([...urls.slice(0, 6), '--prometheus', 'http://127.0.0.1:1']);
  assert.equal(r.byId['prometheus.ready'].status, 'fail');
  assert.match(r.byId['prometheus.ready'].cause, /connection refused/);
  assert.match(r.byId['prometheus.ready'].fix, /prometheus/);
  assert.equal(r.code, 1);
});

test('stopping the gateway fails its checks and its Prometheus target, with hints', { skip: !haveProm && 'prometheus not installed' }, async () => {
  await gw.stop();
  await prom.waitTargets((ts) => ts.some((t) => t.labels.job === 'litellm' && t.health === 'down'));
  const r = await runJson(urls);
  assert.equal(r.code, 1);
  assert.equal(r.byId['gateway.liveliness'].status, 'fail');
  assert.match(r.byId['gateway.liveliness'].cause, /connection refused/);
  assert.match(r.byId['gateway.liveliness'].fix, /docker logs litellm-proxy/);
  assert.equal(r.byId['gateway.chat'].status, 'skip');
  const t = r.byId['prometheus.target.litellm'];
  assert.equal(t.status, 'fail');
  assert.match(t.detail, /^down \(0\/1 up\), http:\/\/127\.0\.0\.1:\d+\/metrics: .*connection refused/);
  assert.match(t.cause, /connection refused/);
  assert.match(t.fix, /litellm-proxy:4000/);
  assert.equal(r.byId['prometheus.query.up{job="litellm"}'].status, 'fail');
  // The rest still passes.
  assert.equal(r.byId['ollama.running'].status, 'pass');
  assert.equal(r.byId['prometheus.target.dcgm'].status, 'pass');
  gw = null;
});

test('stopping Ollama fails its checks with "ollama serve"', { skip: !haveProm && 'prometheus not installed' }, async () => {
  await ollama.stop();
  const r = await runJson(urls);
  assert.equal(r.code, 1);
  assert.equal(r.byId['ollama.running'].status, 'fail');
  assert.match(r.byId['ollama.running'].cause, /connection refused/);
  assert.match(r.byId['ollama.running'].fix, /ollama serve/);
  assert.equal(r.byId['ollama.models'].status, 'skip');
  ollama = null;
});
