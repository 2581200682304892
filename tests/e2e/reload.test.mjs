// SIGHUP reloads litellm_config.yaml under load (issue 15): no request
// fails, none is dropped, the new configuration serves at once, a bad file
// keeps the running one and the log says why. The official openai client
// (no retries) talks through the gateway to tollgate sim; /metrics is
// compared exactly with /sim/stats.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startTollgate } from './lib/proc.mjs';
import { scrape, sum, waitFor } from './lib/metrics.mjs';

const MODEL = 'llama3.2:3b';
let sim, dir;

before(async () => {
  // Slow enough that requests are in flight when the signal lands.
  sim = await startTollgate(['sim', '--port', '0', '--ttft-ms', '20', '--token-ms', '4', '--load-ms', '0', '--quiet']);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-reload-'));
});

after(async () => {
  await sim?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const simStats = async () => (await fetch(`${sim.url}/sim/stats`)).json();
const config = (groups) => `
model_list:
${groups.map((g) => `  - model_name: ${g}
    litellm_params: {model: ollama_chat/${MODEL}, api_base: "${sim.url}"}`).join('\n')}
`;

async function one(client, model, i) {
  const args = { model, messages: [{ role: 'user', content: `reload ${i}` }], max_tokens: 3 + (i % 3) };
  if (i % 2) return (await client.chat.completions.create(args)).usage.completion_tokens;
  const s = await client.chat.completions.create({ ...args, stream: true, stream_options: { include_usage: true } });
  let n = 0;
  for await (const ch of s) if (ch.usage) n = ch.usage.completion_tokens;
  return n;
}

test('SIGHUP under load: no failed request, the new config serves, a bad file keeps the old one', async () => {
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, config(['llama']));
  const gw = await startTollgate(['serve', '--config', file, '--port', '0', '--host', '127.0.0.1', '--poll-interval', '0', '--threads', '2']);
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const reloads = () => (gw.output().match(/reloaded .*config\.yaml/g) || []).length;
  try {
    await fetch(`${sim.url}/sim/reset`, { method: 'POST' });
    // 8 clients send back to back (keep-alive connections) while the file
    // changes and SIGHUP lands three times.
    let stop = false, ok = 0, i = 0;
    const failures = [];
    const worker = async () => {
      while (!stop) {
        try { await one(client, 'llama', i++); ok++; } catch (e) { failures.push(String(e)); }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await waitFor(() => ok >= 20, { timeoutMs: 10000, what: 'load running' });
    for (let k = 1; k <= 3; k++) {
      fs.writeFileSync(file, config(['llama', `extra${k}`]));
      const before = ok;
      gw.proc.kill('SIGHUP');
      await waitFor(() => reloads() === k, { timeoutMs: 5000, what: `reload ${k}` });
      await waitFor(() => ok >= before + 20, { timeoutMs: 10000, what: 'load after the reload' });
    }
    stop = true;
    await Promise.all(workers);
    assert.deepEqual(failures, []);
    const st = await simStats();
    assert.equal(st.requests, ok, 'every request reached the backend once');
    assert.ok(ok >= 80);

    // The new configuration: its group is served and listed.
    const models = (await client.models.list()).data.map((m) => m.id).sort();
    assert.deepEqual(models, ['extra3', 'llama']);
    assert.ok(await one(client, 'extra3', 1) > 0);

    // A bad file: the running configuration stays, the log says why, and
    // its metrics keep counting exactly what the backend saw.
    const m0 = await scrape(`${gw.url}/metrics`);
    const st0 = await simStats();
    fs.writeFileSync(file, 'model_list:\n  - model_name: broken\n    litellm_params: {model: [not, a, string]}\n');
    gw.proc.kill('SIGHUP');
    await waitFor(() => /could not reload, the running configuration stays: .*config\.yaml:3/.test(gw.output()), { what: 'bad reload logged' });
    assert.equal(reloads(), 3);
    const N = 10;
    const toks = await Promise.all(Array.from({ length: N }, (_, k) => one(client, k % 2 ? 'llama' : 'extra3', k)));
    const m1 = await scrape(`${gw.url}/metrics`);
    const st1 = await simStats();
    const delta = (name, f = {}) => sum(m1, name, f) - sum(m0, name, f);
    assert.equal(st1.requests - st0.requests, N);
    assert.equal(delta('litellm_proxy_total_requests_metric_total', { status_code: '200' }), N);
    assert.equal(sum(m1, 'litellm_proxy_failed_requests_metric_total'), 0);
    assert.equal(delta('litellm_output_tokens_metric_total'), toks.reduce((a, b) => a + b, 0));
    const simOut = (s) => Object.values(s.models).reduce((a, m) => a + m.completion_tokens, 0);
    assert.equal(delta('litellm_output_tokens_metric_total'), simOut(st1) - simOut(st0));
    assert.equal(delta('litellm_request_total_latency_metric_count', { requested_model: 'extra3' }), N / 2);
  } finally {
    assert.equal(await gw.stop(), 0);
  }
});
