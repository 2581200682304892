// A real Prometheus for end-to-end tests: temp config and data dir, loopback
// on a kernel-chosen free port, Tollgate's rules loaded. Ready when it logs
// "Server is ready to receive web requests."
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { startServer, repoRoot } from './proc.mjs';

export const rulesDir = path.join(repoRoot, 'docker-compose/rules');

export function havePrometheus() {
  try { execFileSync('prometheus', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

// A port the kernel just handed out; Prometheus has no "port 0" that it
// reports back, so this small window is the best available.
export async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

// jobs: { litellm: 'host:port', dcgm: 'host:port' }
export async function startPrometheus(jobs, { interval = '1s', rules = true } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-prom-'));
  const cfg = [
    'global:', `  scrape_interval: ${interval}`, `  evaluation_interval: ${interval}`,
    rules ? `rule_files:\n  - ${rulesDir}/*.yaml` : '',
    'scrape_configs:',
    ...Object.entries(jobs).map(([job, target]) =>
      `  - job_name: "${job}"\n    static_configs:\n      - targets: ["${target}"]`),
  ].join('\n') + '\n';
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), cfg);
  const port = await freePort();
  const srv = await startServer('prometheus', [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], { readyRe: /(Server is ready to receive web requests)/, timeoutMs: 30000 });
  const url = `http://127.0.0.1:${port}`;
  return {
    url, port, dir, output: srv.output,
    async stop() { await srv.stop(); fs.rmSync(dir, { recursive: true, force: true }); },
    async query(q) {
      const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
      return r.json();
    },
    async targets() {
      const r = await fetch(`${url}/api/v1/targets?state=active`);
      return (await r.json()).data.activeTargets;
    },
    // Waits (polling the API: the only way to see a scrape) until pred(targets) holds.
    async waitTargets(pred, timeoutMs = 20000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const t = await this.targets();
        if (pred(t)) return t;
        if (Date.now() > end) throw new Error(`targets never matched: ${JSON.stringify(t)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}
