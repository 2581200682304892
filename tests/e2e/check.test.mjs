// `tollgate check` end to end: the real binary against a real Prometheus (with
// Tollgate's rules) scraping stand-ins for the gateway and GPU exporter, and
// against `tollgate sim` for Ollama when the simulator is in this build.
// Stopping a component must turn the right lines red with the right hint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tollgateBin, startTollgate } from './lib/proc.mjs';
import { startPrometheus, havePrometheus } from './lib/prometheus.mjs';
import { fakeOllama, fakeGateway, fakeGpuExporter } from './lib/fakes.mjs';
import { implemented } from './lib/components.mjs';

// Async: the stand-ins live in this process and must keep answering. The
// hints are pinned to Docker mode unless a test passes its own --mode (auto
// depends on what else runs on the machine).
function runCheck(args, { env = {}, cwd } = {}) {
  return new Promise((resolve) => {
    const mode = args.some((a) => a.startsWith('--mode')) ? [] : ['--mode', 'docker'];
    const p = spawn(tollgateBin, ['check', '--timeout', '3', '--deadline', '40', ...mode, ...args],
      { cwd, env: { ...process.env, ...env } });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => resolve({ code, out, err }));
  });
}
async function runJson(args, opts) {
  const r = await runCheck(['--json', ...args], opts);
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
  const mode = spawnSync(tollgateBin, ['check', '--mode', 'kubernetes']);
  assert.equal(mode.status, 2);
  assert.match(mode.stderr.toString(), /--mode must be auto, host or docker/);
  const color = spawnSync(tollgateBin, ['check', '--color=sometimes']);
  assert.equal(color.status, 2);
  assert.match(color.stderr.toString(), /--color must be auto, always or never/);
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

test('--model that the gateway does not serve fails the models check', { skip: !haveProm && 'prometheus not installed' }, async () => {
  const r = await runJson([...urls, '--model', 'no-such-model']);
  assert.equal(r.byId['gateway.models'].status, 'fail');
  assert.match(r.byId['gateway.models'].cause, /not in the gateway's model_list/);
  assert.equal(r.byId['gateway.chat'].status, 'skip');
  assert.equal(r.code, 1);
});

const noProm = !haveProm && 'prometheus not installed';
const strip = (t) => t.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');

test('progress: one line per phase on a piped stderr, the results stream on stdout', { skip: noProm }, async () => {
  const r = await runCheck(urls);
  assert.equal(r.code, 0, r.out + r.err);
  const lines = r.err.split('\n').filter(Boolean);
  // Every stderr line is a phase; none is a result, none is rewritten in place.
  for (const l of lines) assert.match(l, /^tollgate check: .+\.\.\.$/, r.err);
  assert.doesNotMatch(r.err, /\r|\x1b|✓/);
  const expect = [
    /^tollgate check: checking Ollama at http:\/\/127\.0\.0\.1:\d+ \(up to 3 s\)\.\.\.$/,
    /^tollgate check: checking the gateway at http:\/\/127\.0\.0\.1:\d+ \(up to 3 s\)\.\.\.$/,
    /^tollgate check: waiting for a chat completion from tinyllama through the gateway; a cold model load is slow \(up to \d+ s\)\.\.\.$/,
    /^tollgate check: waiting for a streaming chat completion from tinyllama through the gateway \(up to \d+ s\)\.\.\.$/,
    /^tollgate check: checking the GPU exporter at /,
    /^tollgate check: checking Prometheus at /,
  ];
  let at = -1;
  for (const re of expect) {
    const i = lines.findIndex((l, k) => k > at && re.test(l));
    assert.ok(i > at, `${re} after line ${at}:\n${r.err}`);
    at = i;
  }
  // The chat's wait is capped by --deadline 40, not the 60 s default.
  const chat = lines.find((l) => /chat completion from/.test(l));
  assert.ok(Number(chat.match(/up to (\d+) s/)[1]) <= 40, chat);
  assert.doesNotMatch(r.out, /^tollgate check: (checking|waiting)/m);
  assert.match(r.out, /^Ollama\n  ✓ Ollama answers/m);
  // --json on a pipe: stdout is the JSON, stderr stays empty.
  const j = await runJson(urls);
  assert.equal(j.err, '');
});

test('a failed chat skips the PromQL checks that need its traffic, and its cause is said once', { skip: (noProm || !implemented('serve')) && 'needs prometheus and tollgate serve' }, async () => {
  // A real gateway whose only model's backend is down: /v1/models lists it,
  // every completion is a 502.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-check-'));
  const cfg = path.join(dir, 'litellm_config.yaml');
  fs.writeFileSync(cfg, 'model_list:\n  - model_name: dead\n    litellm_params:\n      model: ollama/dead\n      api_base: http://127.0.0.1:1\n');
  const serve = await startTollgate(['serve', '--port', '0', '--host', '127.0.0.1', '--config', cfg]);
  try {
    const args = ['--ollama', ollama.url, '--gateway', serve.url, '--gpu', gpu.url, '--prometheus', prom.url];
    const r = await runJson(args);
    assert.equal(r.code, 1);
    assert.equal(r.byId['gateway.models'].status, 'pass', r.out);
    assert.equal(r.byId['gateway.chat'].status, 'fail');
    assert.match(r.byId['gateway.chat'].detail, /^HTTP 502/);
    assert.match(r.byId['gateway.chat'].cause, /could not get an answer from Ollama/);
    assert.equal(r.byId['gateway.stream'].status, 'fail');
    for (const id of ['gateway.counters', 'prometheus.query.litellm_input_tokens_total',
      'prometheus.query.litellm_output_tokens_total', 'prometheus.query.litellm_request_total_latency_seconds_count']) {
      assert.deepEqual([r.byId[id].status, r.byId[id].detail, r.byId[id].cause],
        ['skip', 'no traffic reached the gateway (see: gateway.chat)', null], id);
    }
    assert.equal(r.byId['prometheus.query.litellm_time_to_first_token_seconds_bucket'].detail,
      'no stream reached the gateway (see: gateway.stream)');
    assert.equal(r.byId['gateway.ttft'].status, 'skip');
    // Nothing blames the recording rules; Prometheus itself is fine.
    assert.ok(r.json.checks.every((c) => !/recording rules/.test(c.cause ?? '')), r.out);
    assert.equal(r.byId['prometheus.query.up{job="litellm"}'].status, 'pass');
    assert.equal(r.json.failed, 2, r.out);

    const t = await runCheck(args);
    assert.equal(t.code, 1);
    assert.equal(t.out.split('could not get an answer from Ollama').length - 1, 1, t.out);
    assert.match(t.out, /^  ✗ streaming chat completion through the gateway: HTTP 502.*\n      cause: as for gateway\.chat above\n/m);
    assert.match(t.out, /^  - PromQL litellm_input_tokens_total: skipped: no traffic reached the gateway \(see: gateway\.chat\)$/m);
    assert.match(t.out, /^FAILED: \d+ passed, 2 failed, \d+ warnings, 6 skipped$/m);
  } finally { await serve.stop(); }
});

test('hints follow how the stack runs: --mode host, --mode docker, and auto', { skip: noProm }, async () => {
  const args = ['--ollama', ollama.url, '--gateway', 'http://127.0.0.1:1', '--skip-gpu', '--prometheus', 'http://127.0.0.1:1'];
  const host = await runJson([...args, '--mode', 'host']);
  const lf = host.byId['gateway.liveliness'].fix;
  assert.match(lf, /`make run` \(log: \.run\/serve\.log\)/);
  assert.match(lf, /`systemctl status tollgate-serve`/);
  assert.doesNotMatch(lf, /docker/i);
  assert.match(host.byId['prometheus.ready'].fix, /make run/);
  assert.doesNotMatch(host.out, /docker (logs|compose|ps|exec)/);
  const dock = await runJson([...args, '--mode', 'docker']);
  assert.match(dock.byId['gateway.liveliness'].fix, /docker compose --profile ollama up -d litellm/);
  assert.match(dock.byId['gateway.liveliness'].fix, /docker logs litellm-proxy/);
  assert.match(dock.byId['prometheus.ready'].fix, /docker compose --profile full up -d prometheus/);
  assert.doesNotMatch(dock.out, /systemctl|\.run\//);
  // The JSON is the same apart from the fixes.
  assert.deepEqual(host.json.checks.map((c) => [c.id, c.status]), dock.json.checks.map((c) => [c.id, c.status]));

  // auto: a loopback gateway and ./.run (make run's logs) mean host mode; a
  // gateway that is not on this machine means Docker.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-check-'));
  fs.mkdirSync(path.join(dir, '.run'));
  const auto = await runCheck([...args, '--mode', 'auto'], { cwd: dir });
  assert.match(auto.out, /^hints for host \(make run, systemd\) mode \(.+; --mode docker to change\)$/m);
  assert.match(auto.out, /systemctl status tollgate-serve/);
  const far = await runCheck(['--ollama', ollama.url, '--gateway', 'http://0.0.0.0:1', '--skip-gpu',
    '--prometheus', 'http://127.0.0.1:1', '--mode', 'auto'], { cwd: dir });
  assert.match(far.out, /^hints for Docker \(docker compose\) mode \(the gateway URL is not on this machine; --mode host to change\)$/m);
  assert.match(far.out, /docker logs litellm-proxy/);
});

test('no GPU: one cause, with the NVIDIA Container Toolkit only in Docker mode', { skip: noProm }, async () => {
  const nogpu = await fakeGpuExporter({ gpus: 0 });
  try {
    const args = [...urls.slice(0, 4), '--gpu', nogpu.url, '--prometheus', prom.url];
    const host = await runCheck([...args, '--mode', 'host']);
    assert.equal(host.code, 0, host.out);
    assert.equal(host.out.split('no NVIDIA GPU/driver found: GPU metrics are off').length - 1, 1, host.out);
    assert.doesNotMatch(host.out, /Container Toolkit/);
    const dock = await runCheck([...args, '--mode', 'docker']);
    assert.equal(dock.out.split('NVIDIA Container Toolkit').length - 1, 1, dock.out);
  } finally { await nogpu.stop(); }
});

test('colour only when asked for or on a terminal; NO_COLOR and TERM=dumb respected', { skip: noProm }, async () => {
  const args = [...urls.slice(0, 4), '--skip-gpu', '--prometheus', prom.url];
  const piped = await runCheck(args);
  assert.doesNotMatch(piped.out + piped.err, /\x1b/);
  const always = await runCheck([...args, '--color=always']);
  assert.match(always.out, /^  \x1b\[32m✓\x1b\[0m Ollama answers GET \//m);
  assert.match(always.out, /^\x1b\[1mPrometheus\x1b\[0m$/m);
  assert.match(always.out, /^\x1b\[1m\x1b\[32mOK\x1b\[0m: \d+ passed/m);
  assert.equal(strip(always.out).split('\n').length, piped.out.split('\n').length);
  // Progress on a piped stderr stays plain, even with --color=always.
  assert.doesNotMatch(always.err, /\x1b/);
  const never = await runCheck([...args, '--color', 'never']);
  assert.doesNotMatch(never.out, /\x1b/);
});

test('on a terminal: colour and a progress line rewritten in place, unless NO_COLOR / TERM=dumb', { skip: (noProm || spawnSync('script', ['--version']).status !== 0) && 'needs prometheus and script(1)' }, async () => {
  const cmd = [tollgateBin, 'check', '--mode', 'docker', '--timeout', '3', '--deadline', '40', ...urls.slice(0, 4), '--skip-gpu', '--prometheus', prom.url].join(' ');
  const tty = (env) => new Promise((resolve) => {
    const p = spawn('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, ...env } });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('close', (code) => resolve({ code, out }));
  });
  const t = await tty({ TERM: 'xterm', NO_COLOR: '' });
  assert.equal(t.code, 0, t.out);
  assert.match(t.out, /\x1b\[32m✓\x1b\[0m Ollama answers/);
  assert.match(t.out, /\r\x1b\[K\x1b\[2m {2}\.\.\. checking Ollama at /);
  assert.doesNotMatch(t.out, /^tollgate check: checking/m);
  const nc = await tty({ TERM: 'xterm', NO_COLOR: '1' });
  assert.doesNotMatch(nc.out, /\x1b\[3\dm/);
  assert.match(nc.out, /\r\x1b\[K {2}\.\.\. checking Ollama/);
  const dumb = await tty({ TERM: 'dumb', NO_COLOR: '' });
  assert.doesNotMatch(dumb.out, /\x1b/);
  assert.match(dumb.out, /^tollgate check: checking Ollama at .*\.\.\.\r?$/m);
});

test('--json keeps its shape: the same keys, statuses pass/warn/fail/skip', { skip: noProm }, async () => {
  const r = await runJson([...urls.slice(0, 4), '--gpu', 'http://127.0.0.1:1', '--prometheus', prom.url]);
  assert.deepEqual(Object.keys(r.json), ['ok', 'passed', 'warnings', 'failed', 'skipped', 'checks']);
  for (const c of r.json.checks) {
    assert.deepEqual(Object.keys(c), ['id', 'component', 'status', 'title', 'detail', 'ms', 'cause', 'fix']);
    assert.ok(['pass', 'warn', 'fail', 'skip'].includes(c.status), c.status);
    assert.equal(c.cause === null, !['warn', 'fail'].includes(c.status), JSON.stringify(c));
  }
  assert.equal(r.json.skipped, r.json.checks.filter((c) => c.status === 'skip').length);
  assert.equal(r.byId['gpu.metrics'].status, 'fail');
  assert.doesNotMatch(r.out, /\x1b|\.\.\./);
  assert.ok(r.out.endsWith('}\n') && r.out.split('\n').length === 2, 'one line of JSON');
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
  // Checks that depend on the failed ones are skipped, pointing at the root.
  assert.equal(r.byId['prometheus.query.up{job="litellm"}'].status, 'skip');
  assert.equal(r.byId['prometheus.query.up{job="litellm"}'].detail,
    'Prometheus does not scrape the gateway (see: prometheus.target.litellm)');
  assert.equal(r.byId['prometheus.query.litellm_input_tokens_total'].detail,
    'the gateway is unreachable (see: gateway.liveliness)');
  assert.equal(r.json.failed, 2, r.out);
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
