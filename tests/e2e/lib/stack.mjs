// The whole Tollgate stack for end-to-end tests, from real parts only:
// `tollgate sim` as Ollama, one or more `tollgate serve` replicas, `tollgate
// gpu` loading the scripted NVML library (build/libfake_nvml.so, see
// tests/unit/fake_nvml.c), and a real Prometheus running the *shipped* host
// config (deploy/host/prometheus.yaml) with its rules, only the ports, the
// intervals (1 s) and optionally remote_write rewritten. Also
// VictoriaMetrics and haproxy (Debian packages) for the scale-out test.
// Every port is kernel-chosen (port 0) or probed free just before use.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { startTollgate, startServer, repoRoot, tollgateBin } from './proc.mjs';
import { freePort, rulesDir } from './prometheus.mjs';
import { waitFor } from './metrics.mjs';

export const fakeNvml = process.env.TOLLGATE_FAKE_NVML || path.join(path.dirname(tollgateBin), 'libfake_nvml.so');
export const hostPromConfig = path.join(repoRoot, 'deploy/host/prometheus.yaml');

export const have = (cmd, args = ['--version']) => !spawnSync(cmd, args, { stdio: 'ignore' }).error;

// The sim's timings: fast but not zero, so every duration histogram gets
// real observations (load, prompt eval, eval, queue wait).
export const SIM_ARGS = ['--ttft-ms', '5', '--token-ms', '2', '--load-ms', '20', '--quiet'];

export function startSim(port = 0, extra = []) {
  return startTollgate(['sim', '--host', '127.0.0.1', '--port', String(port), ...SIM_ARGS, ...extra]);
}

// No config: the gateway serves every model the simulator lists. /api/ps
// polled every second so the tollgate_ollama_* gauges follow quickly.
export function startServe(ollamaUrl, port = 0) {
  return startTollgate(['serve', '--host', '127.0.0.1', '--port', String(port), '--poll-interval', '1'],
    { env: { OLLAMA_HOST: ollamaUrl } });
}

// xidFile: where a test writes "<gpu> <xid>" to deliver an XID event.
export function startGpu(port = 0, { xidFile } = {}) {
  const env = { FAKE_NVML_SCENARIO: 'basic' };
  if (xidFile) env.FAKE_NVML_XID_FILE = xidFile;
  return startTollgate(['gpu', '--host', '127.0.0.1', '--port', String(port), '--nvml-lib', fakeNvml,
    '--collect-interval', '200'], { env });
}

// deploy/host/prometheus.yaml with this run's targets. Each rewrite must
// hit, so a change to the shipped file that the test cannot follow fails
// here instead of silently testing something else.
export function hostPrometheusConfig({ litellm, dcgm, self, remoteWrite = null, interval = '1s' }) {
  let s = fs.readFileSync(hostPromConfig, 'utf8');
  const sub = (re, to, what) => {
    if (!re.test(s)) throw new Error(`deploy/host/prometheus.yaml: cannot rewrite ${what} (${re})`);
    s = s.replace(re, to);
  };
  const list = (targets, indent) => targets.map((t) => `${indent}- "${t}"`).join('\n');
  sub(/scrape_interval: 15s/, `scrape_interval: ${interval}`, 'scrape_interval');
  sub(/evaluation_interval: 15s/, `evaluation_interval: ${interval}`, 'evaluation_interval');
  sub(/- \.\.\/\.\.\/docker-compose\/rules\/\*\.yaml/, `- ${rulesDir}/*.yaml`, 'rule_files');
  sub(/^( +)- "127\.0\.0\.1:4000"$/m, (_, ind) => list(litellm, ind), 'litellm target');
  sub(/^( +)- "127\.0\.0\.1:9400"$/m, (_, ind) => list(dcgm, ind), 'dcgm target');
  sub(/^( +)- "127\.0\.0\.1:9090"$/m, (_, ind) => list([self], ind), 'prometheus target');
  if (remoteWrite) {
    // The shipped (commented) block, switched on; samples leave within 1 s
    // instead of the default 5 s batch deadline.
    sub(/^# remote_write:\n#   - url: http:\/\/127\.0\.0\.1:8428\/api\/v1\/write$/m,
      `remote_write:\n  - url: ${remoteWrite}\n    queue_config:\n      batch_send_deadline: 1s`, 'remote_write');
  }
  return s;
}

async function apiGet(url) {
  const r = await fetch(url);
  const j = await r.json();
  if (j.status !== 'success') throw new Error(`${url}: ${JSON.stringify(j)}`);
  return j.data;
}

// A Prometheus-API client (Prometheus itself, or VictoriaMetrics).
export function promApi(url) {
  return {
    url,
    query: (q) => apiGet(`${url}/api/v1/query?query=${encodeURIComponent(q)}`),
    // The vector's single value, or null when it has no series.
    async scalar(q) {
      const d = await this.query(q);
      if (d.resultType === 'scalar') return Number(d.result[1]);
      if (d.result.length === 0) return null;
      if (d.result.length > 1) throw new Error(`${q}: ${d.result.length} series, want 1`);
      return Number(d.result[0].value[1]);
    },
  };
}

// Starts Prometheus on the shipped host config; restartable on the same
// port and data dir (the check test stops it and brings it back).
export async function startHostPrometheus(opts) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-prom-'));
  const port = opts.port || await freePort();
  const self = `127.0.0.1:${port}`;
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), hostPrometheusConfig({ ...opts, self }));
  const start = () => startServer('prometheus', [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=${self}`,
  ], { readyRe: /(Server is ready to receive web requests)/, timeoutMs: 30000 });
  let srv = await start();
  const url = `http://${self}`;
  const api = promApi(url);
  return {
    ...api, url, port, dir,
    output: () => srv.output(),
    async stop() { await srv.stop(); },
    async restart() { srv = await start(); },
    async cleanup() { await srv.stop(); fs.rmSync(dir, { recursive: true, force: true }); },
    async targets() {
      return (await apiGet(`${url}/api/v1/targets?state=active`)).activeTargets;
    },
    // Waits until every active target has been scraped UP after `since`
    // (ms epoch): the data of anything that happened before is then stored.
    async waitScrapedAfter(since, { timeoutMs = 20000, jobs = ['litellm', 'dcgm'] } = {}) {
      return waitFor(async () => {
        const ts = (await this.targets()).filter((t) => jobs.includes(t.labels.job));
        return ts.length > 0 && jobs.every((j) => ts.some((t) => t.labels.job === j)) &&
          ts.every((t) => t.health === 'up' && Date.parse(t.lastScrape) > since);
      }, { timeoutMs, intervalMs: 100, what: `a scrape of ${jobs.join(', ')} after ${new Date(since).toISOString()}` });
    },
    // Waits for a later rule evaluation too (recording rules lag a scrape).
    async waitRulesAfter(since, timeoutMs = 20000) {
      return waitFor(async () => {
        const groups = (await apiGet(`${url}/api/v1/rules`)).groups;
        return groups.length > 0 && groups.every((g) => Date.parse(g.lastEvaluation) > since);
      }, { timeoutMs, intervalMs: 100, what: 'a rule evaluation' });
    },
  };
}

// Debian's victoria-metrics on a free loopback port and a temp dir. No
// query latency offset: by default VM hides the last 30 s from queries.
export async function startVictoria() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-vm-'));
  const port = await freePort();
  const proc = await startServer('victoria-metrics', [
    `-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${dir}`, '-search.latencyOffset=0s', '-search.disableCache',
  ], { readyRe: /(starting http server at)/, timeoutMs: 30000 });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/health`).catch(() => null))?.status === 200,
    { timeoutMs: 20000, what: 'victoria-metrics /health' });
  return {
    ...promApi(url), url, port, dir, writeUrl: `${url}/api/v1/write`, output: () => proc.output(),
    async stop() { await proc.stop(); fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

// Debian's haproxy in the foreground in front of `backends` (host:port):
// round robin so both replicas certainly get traffic; no buffering of
// streamed responses is haproxy's default for HTTP.
export async function startHaproxy(backends) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-haproxy-'));
  const port = await freePort();
  const cfg = [
    'global', '  maxconn 256',
    'defaults', '  mode http', '  timeout connect 5s', '  timeout client 60s', '  timeout server 60s',
    'frontend llm', `  bind 127.0.0.1:${port}`, '  default_backend tollgate',
    'backend tollgate', '  balance roundrobin',
    ...backends.map((b, i) => `  server gw${i + 1} ${b}`), '',
  ].join('\n');
  const file = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(file, cfg);
  const check = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy -c: ${check.stdout}${check.stderr}`);
  // haproxy logs nothing once bound: ready = the port accepts connections.
  const proc = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const exited = once(proc, 'exit');
  await waitFor(() => {
    if (proc.exitCode !== null) throw new Error(`haproxy exited with ${proc.exitCode}: ${out}`);
    return new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
  }, { timeoutMs: 10000, what: 'haproxy to accept connections' });
  const srv = {
    output: () => out,
    async stop() { if (proc.exitCode === null && proc.signalCode === null) { proc.kill('SIGTERM'); await exited; } },
  };
  return {
    port, url: `http://127.0.0.1:${port}`, cfg, output: () => srv.output(),
    async stop() { await srv.stop(); fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

export async function simStats(simUrl) {
  const r = await fetch(`${simUrl}/sim/stats`);
  if (r.status !== 200) throw new Error(`/sim/stats: HTTP ${r.status}`);
  return r.json();
}
