// tollgate top: the live view under tmux (send-keys, capture-pane) against a
// real sim + serve + gpu (the scripted NVML library), after scripted
// traffic; every number on screen is compared with what /metrics has, and
// `q` quits. Also --once on a pipe, and the refusal without a terminal.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { tollgateBin, startTollgate } from './lib/proc.mjs';
import { startSim, startServe, startGpu, have, fakeNvml } from './lib/stack.mjs';
import { scrape, sum, find, waitFor } from './lib/metrics.mjs';
import fs from 'node:fs';

const skip = !have('tmux', ['-V']) ? 'tmux not installed' : !fs.existsSync(fakeNvml) ? 'no libfake_nvml.so' : false;
const MODEL = 'llama3.2:3b';
const sock = `tollgate-top-${process.pid}`;
const tmux = (...a) => spawnSync('tmux', ['-L', sock, ...a], { encoding: 'utf8' });

let sim, serve, gpu;
before(async () => {
  if (skip) return;
  sim = await startSim();
  serve = await startServe(sim.url);
  gpu = await startGpu();
  // Scripted traffic: plain and streamed requests (TTFT is streams only), one failure.
  const post = (body) => fetch(`${serve.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 8, ...body }),
  }).then(async (r) => { await r.text(); return r.status; });
  for (let i = 0; i < 4; i++) assert.equal(await post({}), 200);
  for (let i = 0; i < 3; i++) assert.equal(await post({ stream: true }), 200);
  assert.equal(await post({ messages: [{ role: 'user', content: 'tollgate-fault:500' }] }), 500);
  // The loaded-model gauges come from the gateway's /api/ps poll (1 s).
  await waitFor(async () => find(await scrape(`${serve.url}/metrics`), 'tollgate_ollama_loaded_model_vram_bytes', { model: MODEL }).length,
    { timeoutMs: 10000, what: 'tollgate_ollama_loaded_model_vram_bytes' });
});
after(async () => {
  tmux('kill-server');
  for (const s of [gpu, serve, sim]) if (s) await s.stop();
});

// PromQL's histogram_quantile over a cumulative bucket list.
function quantile(q, buckets) {
  const b = [...buckets].sort((x, y) => x.le - y.le);
  const total = b[b.length - 1].c;
  if (!(total > 0)) return NaN;
  const rank = q * total;
  let prevLe = 0, prevC = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i].c >= rank) {
      if (b[i].le === Infinity) return b[b.length - 2].le;
      return prevLe + (b[i].le - prevLe) * (rank - prevC) / (b[i].c - prevC);
    }
    prevLe = b[i].le; prevC = b[i].c;
  }
  return b[b.length - 2].le;
}
function buckets(samples, name, filter) {
  const by = new Map();
  for (const s of find(samples, name, filter)) {
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    by.set(le, (by.get(le) || 0) + s.value);
  }
  return [...by].map(([le, c]) => ({ le, c }));
}
const fmtQ = (v) => (Number.isNaN(v) ? '-' : `${v.toFixed(3)}*`);

// What the screen must show, from /metrics (no traffic during the test, so
// quantiles are over all observations: marked *).
async function expected() {
  const g = await scrape(`${serve.url}/metrics`);
  const u = await scrape(`${gpu.url}/metrics`);
  const vram = find(g, 'tollgate_ollama_loaded_model_vram_bytes', { model: MODEL })[0].value;
  const size = find(g, 'tollgate_ollama_loaded_model_size_bytes', { model: MODEL })[0].value;
  const gpus = find(u, 'DCGM_FI_DEV_GPU_UTIL').map((s) => {
    const f = (n) => find(u, n, { gpu: s.labels.gpu })[0].value;
    return { id: s.labels.gpu, util: f('DCGM_FI_DEV_GPU_UTIL').toFixed(0),
      mem: `${f('DCGM_FI_DEV_FB_USED').toFixed(0)}/${(f('DCGM_FI_DEV_FB_USED') + f('DCGM_FI_DEV_FB_FREE')).toFixed(0)}`,
      temp: f('DCGM_FI_DEV_GPU_TEMP').toFixed(0), power: f('DCGM_FI_DEV_POWER_USAGE').toFixed(1) };
  });
  return {
    reqs: String(sum(g, 'litellm_proxy_total_requests_metric_total', { requested_model: MODEL })),
    errs: String(sum(g, 'litellm_proxy_failed_requests_metric_total', { requested_model: MODEL })),
    infl: String(sum(g, 'tollgate_requests_in_flight', { model_group: MODEL })),
    ttft50: fmtQ(quantile(0.5, buckets(g, 'litellm_llm_api_time_to_first_token_metric_bucket', { model: MODEL }))),
    ttft99: fmtQ(quantile(0.99, buckets(g, 'litellm_llm_api_time_to_first_token_metric_bucket', { model: MODEL }))),
    lat50: fmtQ(quantile(0.5, buckets(g, 'litellm_request_total_latency_metric_bucket', { requested_model: MODEL }))),
    lat99: fmtQ(quantile(0.99, buckets(g, 'litellm_request_total_latency_metric_bucket', { requested_model: MODEL }))),
    vram: (vram / 2 ** 30).toFixed(2), size: (size / 2 ** 30).toFixed(2), gpus,
  };
}

function checkFrame(screen, e, { rates }) {
  const lines = screen.split('\n');
  const row = lines.find((l) => l.startsWith(`${MODEL} `));
  assert.ok(row, `no row for ${MODEL}:\n${screen}`);
  const [, rq, ti, to, t50, t99, l50, l99, reqs, errs, infl] = row.trim().split(/\s+/);
  assert.deepEqual({ reqs, errs, infl, t50, t99, l50, l99 },
    { reqs: e.reqs, errs: e.errs, infl: e.infl, t50: e.ttft50, t99: e.ttft99, l50: e.lat50, l99: e.lat99 });
  assert.deepEqual([rq, ti, to], rates);
  assert.notEqual(e.ttft50, '-');
  const loaded = lines.find((l) => l.startsWith(`${MODEL} `) && l.includes(sim.url));
  assert.ok(loaded, `no loaded-model row:\n${screen}`);
  const lf = loaded.trim().split(/\s+/);
  assert.deepEqual([lf[2], lf[3]], [e.size, e.vram]);
  assert.match(lf[4], /^\dm\d\ds$/);
  assert.ok(e.gpus.length >= 1);
  for (const gp of e.gpus) {
    const gl = lines.find((l) => l.startsWith(`${gp.id} `) && l.includes(gp.mem));
    assert.ok(gl, `no row for GPU ${gp.id}:\n${screen}`);
    const f = gl.trim().split(/\s+/).slice(-4);
    assert.deepEqual(f, [gp.util, gp.mem, gp.temp, gp.power]);
  }
}

test('top under tmux shows what /metrics has, follows the window size, and q quits', { skip }, async () => {
  const e = await expected();
  const cmd = `${tollgateBin} top --gateway ${serve.url} --gpu ${gpu.url} --interval 0.5`;
  let r = tmux('new-session', '-d', '-s', 'top', '-x', '160', '-y', '50', cmd);
  assert.equal(r.status, 0, r.stderr);
  const capture = () => tmux('capture-pane', '-p', '-t', 'top').stdout;
  // The first frame has no earlier reading: rates "-"; later frames 0.00 (no traffic).
  const first = await waitFor(() => { const s = capture(); return s.includes(MODEL) && s; }, { timeoutMs: 10000, what: 'first frame' });
  // (with a 0.5 s interval the second frame may already be on screen)
  if (first.match(new RegExp(`^${MODEL.replace('.', '\\.')} +- `, 'm'))) checkFrame(first, e, { rates: ['-', '-', '-'] });
  const later = await waitFor(() => { const s = capture(); return / 0\.00 +0\.00 +0\.00 /.test(s) && s; }, { timeoutMs: 10000, what: 'a frame with rates' });
  checkFrame(later, e, { rates: ['0.00', '0.00', '0.00'] });
  // Resize: SIGWINCH redraws within the new width.
  r = tmux('resize-window', '-t', 'top', '-x', '70', '-y', '20');
  assert.equal(r.status, 0, r.stderr);
  const narrow = await waitFor(() => { const s = capture(); const ls = s.split('\n'); return ls.every((l) => l.length <= 70) && ls[0].startsWith('tollgate top') && s; }, { timeoutMs: 5000, what: 'narrow frame' });
  assert.ok(narrow.split('\n').length <= 21);
  tmux('send-keys', '-t', 'top', 'q');
  await waitFor(() => tmux('has-session', '-t', 'top').status !== 0, { timeoutMs: 5000, what: 'top to quit on q' });
});

test('top --once prints one frame on a pipe; without a terminal and --once it refuses', { skip }, async () => {
  const e = await expected();
  const r = spawnSync(tollgateBin, ['top', '--once', '--interval', '0.2', '--gateway', serve.url, '--gpu', gpu.url], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /\x1b/);
  checkFrame(r.stdout, e, { rates: ['0.00', '0.00', '0.00'] });
  const n = spawnSync(tollgateBin, ['top', '--gateway', serve.url], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(n.status, 2);
  assert.match(n.stderr, /needs a terminal; use --once/);
});

test('top says the GPU metrics are off without a GPU, and names an unreachable gateway', { skip }, async () => {
  const nogpu = await startTollgate(['gpu', '--host', '127.0.0.1', '--port', '0', '--nvml-lib', fakeNvml],
    { env: { FAKE_NVML_SCENARIO: 'initfail' } });
  try {
    const r = spawnSync(tollgateBin, ['top', '--once', '--interval', '0.1', '--gateway', serve.url, '--gpu', nogpu.url], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.match(/no NVIDIA GPU\/driver found: GPU metrics are off/g)?.length, 1);
  } finally { await nogpu.stop(); }
  const r = spawnSync(tollgateBin, ['top', '--once', '--interval', '0.1', '--gateway', 'http://127.0.0.1:1', '--gpu', 'http://127.0.0.1:1'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stdout, /gateway http:\/\/127\.0\.0\.1:1: refused/);
  assert.match(r.stdout, /GPU {2}exporter http:\/\/127\.0\.0\.1:1: refused/);
});
