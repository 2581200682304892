// docs/guide.md's runnable commands, run. Every line of every ```bash block
// is a command (a trailing backslash continues it); each is either run
// against a live stack (sim as Ollama with the guide's model, serve with
// deploy/host/litellm_config.yaml, gpu on the scripted NVML library, a real
// Prometheus on the shipped host config) or skipped with the reason: Docker,
// the Ollama CLI, nvidia-smi, and `make run` (foreground; stack.test.mjs
// runs it). A command of any other kind fails the test until it is
// classified here. The guide's default ports are swapped for the stack's
// free ones; `tollgate` is the build's binary through PATH.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot, tollgateBin, startTollgate } from './lib/proc.mjs';
import { havePrometheus } from './lib/prometheus.mjs';
import { implemented } from './lib/components.mjs';
import { startSim, startGpu, startHostPrometheus, fakeNvml } from './lib/stack.mjs';

const missing = [
  ...['sim', 'serve', 'gpu'].filter((c) => !implemented(c)).map((c) => `tollgate ${c}`),
  ...(havePrometheus() ? [] : ['prometheus']),
  ...(fs.existsSync(fakeNvml) ? [] : [`${fakeNvml} (make build)`]),
];
const skip = missing.length ? `needs ${missing.join(', ')}` : false;

// Commands extracted from the guide: [{ line, cmd }] (comments stripped).
export function guideCommands(md) {
  const out = [];
  const lines = md.split('\n');
  let inBash = false;
  let cur = null;
  for (const [i, raw] of lines.entries()) {
    if (!inBash) { if (raw.trim() === '```bash') inBash = true; continue; }
    if (raw.trim() === '```') { inBash = false; continue; }
    const text = raw.replace(/(^|\s)#.*$/, '').trimEnd();
    if (cur) cur.cmd += ` ${text.replace(/\\$/, '').trim()}`;
    else if (text.trim()) cur = { line: i + 1, cmd: text.replace(/\\$/, '').trim() };
    if (cur && !text.endsWith('\\')) { out.push(cur); cur = null; }
  }
  return out;
}

// Why a command is not run here, or null to run it.
function skipReason(cmd) {
  if (/^docker\b/.test(cmd)) return 'needs Docker (the compose files are validated by stack.test.mjs)';
  if (/^cd docker-compose$/.test(cmd)) return 'only for the docker compose commands that follow';
  if (/^(TOLLGATE_CONFIG=\S+ )?make run$/.test(cmd)) return 'starts the stack in the foreground; stack.test.mjs runs it and `tollgate check` on it';
  if (/^(ollama|nvidia-smi)\b/.test(cmd)) return `needs the ${cmd.split(' ')[0]} CLI`;
  if (/^curl\b/.test(cmd) && !/\/\/localhost:(11434|4000|9400|9090)\b/.test(cmd)) return 'reaches outside this machine';
  if (/^(curl|tollgate)\b/.test(cmd)) return null;
  return 'UNCLASSIFIED';
}

let tmp, sim, serve, gpu, prom, ports;
before(async () => {
  if (skip) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-guide-'));
  // The guide's model, served by the sim under the name Ollama would use.
  sim = await startSim(0, ['--models', 'gemma3:27b,llama3.2:3b']);
  // The host config has no api_base: its ollama/ model goes to $OLLAMA_HOST.
  const cfg = fs.readFileSync(path.join(repoRoot, 'deploy/host/litellm_config.yaml'), 'utf8');
  assert.doesNotMatch(cfg, /^[^#]*api_base:/m);
  serve = await startTollgate(['serve', '--host', '127.0.0.1', '--port', '0', '--poll-interval', '1',
    '--config', path.join(repoRoot, 'deploy/host/litellm_config.yaml')], { env: { OLLAMA_HOST: sim.url } });
  gpu = await startGpu();
  prom = await startHostPrometheus({ litellm: [`127.0.0.1:${serve.port}`], dcgm: [`127.0.0.1:${gpu.port}`] });
  await prom.waitScrapedAfter(0, { jobs: ['litellm', 'dcgm', 'prometheus'] });
  ports = { 11434: sim.port, 4000: serve.port, 9400: gpu.port, 9090: prom.port };
});
after(async () => {
  for (const s of [prom && { stop: () => prom.cleanup() }, gpu, serve, sim]) if (s) await s.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// The guide's ports to the stack's; curl fails on HTTP errors (-f) so that
// "runs" means "got a 2xx"; `tollgate check` is pointed at the stack.
function localise(cmd) {
  let c = cmd.replace(/localhost:(11434|4000|9400|9090)\b/g, (_, p) => `127.0.0.1:${ports[p]}`);
  c = c.replace(/^curl /, 'curl -fsS --max-time 20 ');
  if (/^tollgate check$/.test(c)) {
    c += ` --ollama ${sim.url} --gateway ${serve.url} --gpu ${gpu.url} --prometheus ${prom.url}`;
  }
  return c;
}

// What each run command must print, beyond succeeding.
const expectOut = [
  [/\/health\/liveliness$/, /I'm alive!/],
  [/\/health$/, /"status":"healthy"/],
  [/grep DCGM_FI_DEV_GPU_UTIL$/, /^DCGM_FI_DEV_GPU_UTIL\{gpu="0".*\} 45$/m],
  [/grep DCGM_FI_DEV$/, /^DCGM_FI_DEV_FB_USED\{gpu="1".*\} 1001$/m],
  [/grep litellm_$/, /^litellm_input_tokens_metric_total\{.*requested_model="gemma3-27b".*\} \d+/m],
  [/\/v1\/chat\/completions/, /"completion_tokens":\s*20\b/],
  [/^tollgate check$/, /^OK: \d+ passed, 0 failed/m],
  [/^curl http:\/\/localhost:11434$/, /^Ollama is running$/],
  [/localhost:4000\/metrics$/, /^# TYPE litellm_/m],
  [/localhost:9400\/metrics$/, /^# TYPE DCGM_FI_DEV_GPU_UTIL gauge$/m],
];

test('every runnable command of docs/guide.md succeeds against a live stack', { skip }, async (t) => {
  const cmds = guideCommands(fs.readFileSync(path.join(repoRoot, 'docs/guide.md'), 'utf8'));
  assert.ok(cmds.length >= 15, JSON.stringify(cmds));
  const unclassified = cmds.filter((c) => skipReason(c.cmd) === 'UNCLASSIFIED');
  assert.deepEqual(unclassified, [], 'classify these in guide.test.mjs skipReason()');
  let ran = 0;
  // The request comes before the metrics greps in the guide; run in order.
  for (const { line, cmd } of cmds) {
    const reason = skipReason(cmd);
    await t.test(`guide.md:${line}: ${cmd}`, { skip: reason || false }, () => {
      const c = localise(cmd);
      const r = spawnSync('bash', ['-o', 'pipefail', '-c', c], {
        encoding: 'utf8', timeout: 60000,
        env: { ...process.env, PATH: `${path.dirname(tollgateBin)}:${process.env.PATH}` },
      });
      assert.equal(r.status, 0, `${c}\n${r.stdout}\n${r.stderr}`);
      const want = expectOut.find(([re]) => re.test(cmd));
      assert.ok(want, `no expected output for: ${cmd}`);
      assert.match(r.stdout, want[1], c);
    });
    if (!reason) ran++;
  }
  assert.ok(ran >= 10, `${ran} commands run`);
});
