// The deployment files: Prometheus configs and rules (promtool), the compose
// file (Debian's docker-compose, no engine needed), the Grafana dashboards
// (every panel's PromQL run against a real Prometheus), the systemd units,
// and host mode (scripts/run-stack.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { repoRoot, tollgateBin } from './lib/proc.mjs';
import { startPrometheus, havePrometheus, freePort } from './lib/prometheus.mjs';
import { listPanelExprs, loadDashboards, panelsOf } from './lib/dashboards.mjs';
import { fakeGateway, fakeGpuExporter } from './lib/fakes.mjs';
import { implemented } from './lib/components.mjs';

const R = (...p) => path.join(repoRoot, ...p);
const have = (cmd, args = ['--version']) => !spawnSync(cmd, args, { stdio: 'ignore' }).error;
const havePromtool = have('promtool');
const haveCompose = have('docker-compose', ['version']);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return { code: r.status, out: (r.stdout || '') + (r.stderr || '') };
}

test('promtool accepts both Prometheus configs and the rules', { skip: !havePromtool && 'promtool not installed' }, () => {
  for (const cfg of ['docker-compose/prometheus.yaml', 'deploy/host/prometheus.yaml']) {
    const r = run('promtool', ['check', 'config', R(cfg)]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /2 rule files found/);
  }
  const rules = fs.readdirSync(R('docker-compose/rules')).map((f) => R('docker-compose/rules', f));
  const r = run('promtool', ['check', 'rules', ...rules]);
  assert.equal(r.code, 0, r.out);
});

test('promtool rule unit tests pass, and cover every rule', { skip: !havePromtool && 'promtool not installed' }, () => {
  const tests = fs.readdirSync(R('tests/rules')).filter((f) => f.endsWith('.yaml')).map((f) => R('tests/rules', f));
  const r = run('promtool', ['test', 'rules', ...tests]);
  assert.equal(r.code, 0, r.out);
  const testText = tests.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  const rulesText = fs.readdirSync(R('docker-compose/rules')).map((f) => fs.readFileSync(R('docker-compose/rules', f), 'utf8')).join('\n');
  const alerts = [...rulesText.matchAll(/^\s*- alert: (\S+)/gm)].map((m) => m[1]);
  const records = [...rulesText.matchAll(/^\s*- record: (\S+)/gm)].map((m) => m[1]);
  assert.ok(alerts.length >= 8 && records.length >= 6);
  for (const a of alerts) assert.match(testText, new RegExp(`alertname: ${a}\\b`), `no test for alert ${a}`);
  for (const rec of records) assert.match(testText, new RegExp(`- expr: ${rec}\\n`), `no test for recording rule ${rec}`);
  // The guide's names are all provided.
  for (const n of ['litellm_input_tokens_total', 'litellm_output_tokens_total', 'litellm_request_total_latency_seconds_sum',
    'litellm_request_total_latency_seconds_count', 'litellm_request_total_latency_seconds_bucket',
    'litellm_time_to_first_token_seconds_bucket', 'litellm_deployment_failure_responses']) assert.ok(records.includes(n), n);
});

test('docker-compose.yaml has the guide\'s services, names, ports and profiles', { skip: !haveCompose && 'docker-compose not installed (scripts/deps.sh test)' }, () => {
  const dir = R('docker-compose');
  const q = run('docker-compose', ['config', '-q'], { cwd: dir });
  assert.equal(q.code, 0, q.out);
  const yml = run('docker-compose', ['--profile', 'full', '--profile', 'ollama', 'config'], { cwd: dir }).out;
  const conv = spawnSync('python3', ['-c', 'import sys,json,yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: yml, encoding: 'utf8' });
  assert.equal(conv.status, 0, conv.stderr);
  const c = JSON.parse(conv.stdout);
  const s = c.services;
  // docker-compose v1 prints short-syntax volumes, v2 long syntax.
  for (const n of Object.keys(s)) {
    s[n].volumes = (s[n].volumes || []).map((v) => (typeof v === 'string' ? { source: v.split(':')[0], target: v.split(':')[1] } : v));
  }
  assert.deepEqual(Object.keys(s).sort(), ['dcgm-exporter', 'grafana', 'jaeger', 'litellm', 'prometheus', 'victoriametrics']);
  const inProfile = (p) => Object.keys(s).filter((n) => s[n].profiles?.includes(p)).sort();
  assert.deepEqual(inProfile('ollama'), ['dcgm-exporter', 'litellm']);
  assert.deepEqual(inProfile('full'), ['grafana', 'prometheus', 'victoriametrics']);
  assert.deepEqual(inProfile('otel'), ['jaeger']); // docs/otel.md
  assert.equal(s.litellm.container_name, 'litellm-proxy');
  assert.deepEqual(s.litellm.command, ['serve', '--config', '/app/config.yaml', '--port', '4000']);
  assert.ok(s.litellm.volumes.some((v) => v.target === '/app/config.yaml' && v.source.endsWith('docker-compose/litellm_config.yaml')));
  assert.deepEqual(s.litellm.extra_hosts, ['host.docker.internal:host-gateway']);
  assert.equal(s['dcgm-exporter'].container_name, 'dcgm-exporter');
  assert.deepEqual(s['dcgm-exporter'].command.slice(0, 1), ['gpu']);
  assert.deepEqual(s['dcgm-exporter'].deploy.resources.reservations.devices, [{ driver: 'nvidia', count: 'all', capabilities: ['gpu'] }]);
  assert.equal(s.litellm.image, s['dcgm-exporter'].image);
  assert.equal(s.litellm.build.dockerfile, 'Dockerfile');
  const ports = (n) => s[n].ports.map((p) => `${p.published}:${p.target}`);
  assert.deepEqual(ports('litellm'), ['4000:4000']);
  assert.deepEqual(ports('dcgm-exporter'), ['9400:9400']);
  assert.deepEqual(ports('prometheus'), ['9090:9090']);
  assert.ok(s.prometheus.volumes.some((v) => v.target === '/etc/prometheus/prometheus.yml' && v.source.endsWith('docker-compose/prometheus.yaml')));
  assert.ok(s.prometheus.volumes.some((v) => v.target === '/etc/prometheus/rules'));
  for (const n of Object.keys(s)) assert.deepEqual(Object.keys(s[n].networks), ['observability'], n);
  // prometheus.yaml scrapes the containers by the names compose gives them.
  const prom = fs.readFileSync(R('docker-compose/prometheus.yaml'), 'utf8');
  assert.match(prom, /job_name: "litellm"\n\s+static_configs:\n\s+- targets:\n\s+- "litellm-proxy:4000"/);
  assert.match(prom, /job_name: "dcgm"\n\s+static_configs:\n\s+- targets:\n\s+- "dcgm-exporter:9400"/);
  assert.match(prom, /remote_write:\n\s+- url: http:\/\/victoriametrics:8428\/api\/v1\/write/);
});

test('the Dockerfile builds from files that exist and are not ignored', () => {
  const df = fs.readFileSync(R('Dockerfile'), 'utf8');
  assert.match(df, /^FROM debian:12-slim AS build$/m);
  assert.match(df, /^ENTRYPOINT \["tollgate"\]$/m);
  const ignored = fs.readFileSync(R('.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  for (const m of df.matchAll(/^COPY (?!--from)(\S+)/gm)) {
    assert.ok(fs.existsSync(R(m[1])), `COPY ${m[1]}: missing`);
    assert.ok(!ignored.some((i) => m[1] === i || m[1].startsWith(`${i}/`)), `COPY ${m[1]}: excluded by .dockerignore`);
  }
});

test('every dashboard panel has PromQL that a real Prometheus runs', { skip: !havePrometheus() && 'prometheus not installed' }, async () => {
  const dashboards = loadDashboards();
  assert.deepEqual(dashboards.map((d) => d.json.uid).sort(), ['tollgate-gpu', 'tollgate-llm']);
  for (const { json } of dashboards) {
    for (const p of panelsOf(json)) {
      if (p.type === 'row') continue;
      assert.ok(p.targets?.length && p.targets.every((t) => t.expr), `${json.uid} panel ${p.id} "${p.title}" has no query`);
    }
  }
  const gw = await fakeGateway();
  const gpu = await fakeGpuExporter({ gpus: 2 });
  const prom = await startPrometheus({ litellm: gw.host, dcgm: gpu.host });
  try {
    await prom.waitTargets((ts) => ts.length === 2 && ts.every((t) => t.health === 'up'));
    const exprs = listPanelExprs();
    assert.ok(exprs.length >= 30, `${exprs.length} exprs`);
    for (const e of exprs) {
      const r = await prom.query(e.expr);
      assert.equal(r.status, 'success', `${e.dashboard} "${e.panel}" ${e.refId}: ${e.expr}: ${r.error}`);
    }
    // Panels over series the stand-ins serve return data.
    for (const want of ['DCGM_FI_DEV_GPU_UTIL{gpu=~".*"}', 'DCGM_FI_DEV_GPU_TEMP{gpu=~".*"}']) {
      const e = exprs.find((x) => x.expr === want);
      assert.ok(e, want);
      assert.equal((await prom.query(e.expr)).data.result.length, 2, want);
    }
  } finally {
    await prom.stop(); await gpu.stop(); await gw.stop();
  }
});

test('systemd units verify, and harden', { skip: !have('systemd-analyze') && 'systemd-analyze not installed' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-units-'));
  try {
    const units = fs.readdirSync(R('deploy/systemd')).filter((f) => f.endsWith('.service'));
    assert.deepEqual(units.sort(), ['tollgate-gpu.service', 'tollgate-serve.service', 'tollgate-sim.service']);
    for (const u of units) {
      const text = fs.readFileSync(R('deploy/systemd', u), 'utf8');
      for (const k of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'DynamicUser=yes', 'CapabilityBoundingSet=', 'SystemCallFilter=@system-service']) {
        assert.ok(text.includes(`\n${k}\n`), `${u}: ${k}`);
      }
      fs.writeFileSync(path.join(dir, u), text.replaceAll('/usr/local/bin/tollgate', tollgateBin));
    }
    const r = run('systemd-analyze', ['verify', ...units.map((u) => path.join(dir, u))], { env: { ...process.env, SYSTEMD_LOG_LEVEL: 'warning' } });
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out.trim(), '');
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

// Host mode. Each run gets its own ports and run dir, never the defaults.
async function stackEnv() {
  return {
    ...process.env,
    TOLLGATE_BIN: tollgateBin,
    TOLLGATE_GATEWAY_PORT: String(await freePort()),
    TOLLGATE_GPU_PORT: String(await freePort()),
    TOLLGATE_PROMETHEUS_PORT: String(await freePort()),
    OLLAMA_HOST: `http://127.0.0.1:${await freePort()}`,
    TOLLGATE_RUN_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-run-')),
  };
}
function runStack(env) {
  return new Promise((resolve) => {
    const p = spawn(R('scripts/run-stack.sh'), [], { env });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('close', (code) => resolve({ code, out }));
  });
}

test('make run: clear errors for a bad port, a busy port and a missing prometheus', async () => {
  let env = await stackEnv();
  let r = await runStack({ ...env, TOLLGATE_GPU_PORT: 'x' });
  assert.equal(r.code, 1);
  assert.match(r.out, /TOLLGATE_GPU_PORT='x' is not a port number/);

  r = await runStack({ ...env, PROMETHEUS: '/nonexistent/prometheus' });
  assert.equal(r.code, 1);
  assert.match(r.out, /prometheus not found: install it with 'scripts\/deps.sh run'/);

  const busy = await fakeGpuExporter();
  try {
    r = await runStack({ ...env, TOLLGATE_GATEWAY_PORT: String(busy.port), PROMETHEUS: 'true' });
    assert.equal(r.code, 1);
    assert.match(r.out, new RegExp(`port ${busy.port} for the gateway is in use.*TOLLGATE_GATEWAY_PORT=N`));
  } finally { await busy.stop(); }
  fs.rmSync(env.TOLLGATE_RUN_DIR, { recursive: true, force: true });
});

const stackReady = ['sim', 'serve', 'gpu'].every(implemented) && havePrometheus();
test('make run starts the stack, passes tollgate check, and Ctrl-C stops it', { skip: !stackReady && 'needs tollgate sim, serve and gpu in this build, and prometheus' }, async () => {
  const env = await stackEnv();
  const p = spawn(R('scripts/run-stack.sh'), [], { env, detached: false });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  const closed = new Promise((resolve) => p.on('close', (code, sig) => resolve({ code, sig })));
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`not ready:\n${out}`)), 60000);
    const on = () => { if (out.includes('Press Ctrl-C to stop.')) { clearTimeout(t); resolve(); } };
    p.stdout.on('data', on);
    p.on('close', () => { clearTimeout(t); reject(new Error(`exited:\n${out}`)); });
  });
  assert.match(out, /no Ollama at .*; starting the simulator/);
  const check = await new Promise((resolve) => {
    const c = spawn(tollgateBin, ['check', '--json', '--deadline', '60',
      '--ollama', env.OLLAMA_HOST, '--gateway', `http://127.0.0.1:${env.TOLLGATE_GATEWAY_PORT}`,
      '--gpu', `http://127.0.0.1:${env.TOLLGATE_GPU_PORT}`, '--prometheus', `http://127.0.0.1:${env.TOLLGATE_PROMETHEUS_PORT}`]);
    let o = '';
    c.stdout.on('data', (d) => { o += d; });
    c.on('close', (code) => resolve({ code, json: JSON.parse(o) }));
  });
  assert.equal(check.code, 0, JSON.stringify(check.json.checks.filter((x) => x.status === 'fail'), null, 1));
  p.kill('SIGINT');
  const end = await closed;
  assert.ok(end.code === 130 || end.sig === 'SIGINT', JSON.stringify(end));
  assert.match(out, /stopped tollgate sim tollgate serve tollgate gpu prometheus/);
  fs.rmSync(env.TOLLGATE_RUN_DIR, { recursive: true, force: true });
});

// `make run` with each shipped config answers the guide's request verbatim
// (the simulator serves the config's Ollama models), and says so in the banner.
async function startStack(env) {
  const p = spawn(R('scripts/run-stack.sh'), [], { env, detached: false });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  const closed = new Promise((resolve) => p.on('close', (code, sig) => resolve({ code, sig })));
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`not ready:\n${out}`)), 60000);
    const on = () => { if (out.includes('Press Ctrl-C to stop.')) { clearTimeout(t); resolve(); } };
    p.stdout.on('data', on);
    p.on('close', () => { clearTimeout(t); reject(new Error(`exited:\n${out}`)); });
  });
  return { out: () => out, stop: async () => { p.kill('SIGINT'); return closed; } };
}
const guideRequest = { model: 'gemma3-27b', messages: [{ role: 'user', content: 'Say hello in one sentence.' }], max_tokens: 20 };
for (const cfg of ['deploy/host/litellm_config.yaml', 'docker-compose/litellm_config.yaml']) {
  test(`make run with ${cfg} answers the guide's request`, { skip: !stackReady && 'needs sim, serve, gpu and prometheus' }, async () => {
    const env = { ...(await stackEnv()), TOLLGATE_CONFIG: R(cfg) };
    const s = await startStack(env);
    try {
      const out = s.out();
      assert.match(out, /SIMULATOR \(tollgate sim/);
      assert.match(out, /Models \(API\) +gemma3-27b\n/);
      assert.match(out, /Tollgate is running/);
      assert.doesNotMatch(out, /do not answer/);
      assert.match(out, /tollgate-llm\.json/);
      assert.equal(out.match(/no NVIDIA GPU\/driver found: GPU metrics are off/g)?.length, 1);
      if (cfg.startsWith('docker-compose')) assert.match(out, /Docker config \(api_base host\.docker\.internal\); using a copy with api_base http:\/\/127\.0\.0\.1:\d+/);
      const r = await fetch(`http://127.0.0.1:${env.TOLLGATE_GATEWAY_PORT}/v1/chat/completions`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(guideRequest) });
      assert.equal(r.status, 200);
      const j = await r.json();
      assert.equal(j.model, 'gemma3-27b');
      assert.ok(j.choices[0].message.content.length > 0);
    } finally { await s.stop(); }
    fs.rmSync(env.TOLLGATE_RUN_DIR, { recursive: true, force: true });
  });
}

test('make run says which configured backend does not answer', { skip: !stackReady && 'needs sim, serve, gpu and prometheus' }, async () => {
  const env = await stackEnv();
  const dead = await freePort();
  const cfgFile = path.join(env.TOLLGATE_RUN_DIR, 'down.yaml');
  fs.writeFileSync(cfgFile, `model_list:\n  - model_name: m\n    litellm_params:\n      model: ollama/llama3.2:3b\n      api_base: http://127.0.0.1:${dead}\n`);
  const s = await startStack({ ...env, TOLLGATE_CONFIG: cfgFile });
  try {
    const out = s.out();
    assert.match(out, /these configured backends do not answer/);
    assert.match(out, new RegExp(`ollama/llama3\\.2:3b at http://127\\.0\\.0\\.1:${dead}: .*refused`, 'i'));
    assert.doesNotMatch(out, /Tollgate is running/);
  } finally { await s.stop(); }
  fs.rmSync(env.TOLLGATE_RUN_DIR, { recursive: true, force: true });
});
