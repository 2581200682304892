// Scale-out, tested (docs/scaling.md): two `tollgate serve` replicas behind
// haproxy, both scraped by one Prometheus (the shipped host config, one
// target per replica in the same job), which remote-writes to Debian's
// VictoriaMetrics. Totals across replicas, queried from VictoriaMetrics,
// equal what the backend (`tollgate sim`) served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { implemented } from './lib/components.mjs';
import { havePrometheus } from './lib/prometheus.mjs';
import { scrape, sum, waitFor } from './lib/metrics.mjs';
import { have, startSim, startServe, startGpu, startHostPrometheus, startVictoria, startHaproxy, simStats } from './lib/stack.mjs';

const missing = [
  ...['sim', 'serve', 'gpu'].filter((c) => !implemented(c)).map((c) => `tollgate ${c}`),
  ...(havePrometheus() ? [] : ['prometheus']),
  ...(have('victoria-metrics', ['-version']) ? [] : ['victoria-metrics (scripts/deps.sh test)']),
  ...(have('haproxy', ['-v']) ? [] : ['haproxy (scripts/deps.sh test)']),
];
const skip = missing.length ? `needs ${missing.join(', ')}` : false;

let sim, gws = [], gpu, vm, prom, lb;
before(async () => {
  if (skip) return;
  sim = await startSim();
  gws = [await startServe(sim.url), await startServe(sim.url)];
  gpu = await startGpu();
  vm = await startVictoria();
  prom = await startHostPrometheus({
    litellm: gws.map((g) => `127.0.0.1:${g.port}`), dcgm: [`127.0.0.1:${gpu.port}`], remoteWrite: vm.writeUrl,
  });
  lb = await startHaproxy(gws.map((g) => `127.0.0.1:${g.port}`));
});
after(async () => {
  for (const s of [lb, prom && { stop: () => prom.cleanup() }, vm, gpu, ...gws, sim]) if (s) await s.stop();
});

test('two replicas behind haproxy: totals in VictoriaMetrics equal what the backend served', { skip }, async () => {
  // Both replicas are targets of the one litellm job.
  await prom.waitScrapedAfter(Date.now());
  const ts = await prom.targets();
  assert.equal(ts.filter((t) => t.labels.job === 'litellm').length, 2);
  const oa = new OpenAI({ baseURL: `${lb.url}/v1`, apiKey: 'sk-none', maxRetries: 0 });
  const model = (await oa.models.list()).data.map((m) => m.id).find((m) => m.startsWith('llama3.2'));
  assert.ok(model);
  const N = 12;
  await Promise.all(Array.from({ length: N }, async (_, i) => {
    if (i % 3 === 0) {
      const s = await oa.chat.completions.create({ model, stream: true, stream_options: { include_usage: true },
        messages: [{ role: 'user', content: `stream number ${i}` }], max_tokens: 3 + i });
      for await (const c of s) void c;
    } else {
      const r = await oa.chat.completions.create({ model, messages: [{ role: 'user', content: `request ${i}` }], max_tokens: 3 + i });
      assert.equal(r.usage.completion_tokens, 3 + i);
    }
  }));
  const st = await simStats(sim.url);
  assert.equal(st.requests, N);
  // haproxy spread the load: each replica served some, together all.
  const per = [];
  for (const g of gws) per.push(sum(await scrape(`${g.url}/metrics`), 'litellm_proxy_total_requests_metric_total'));
  assert.ok(per.every((n) => n > 0), `per replica: ${per}`);
  assert.equal(per[0] + per[1], N);

  // Prometheus scrapes both, remote-writes to VictoriaMetrics; wait until
  // VictoriaMetrics has the final totals (bounded, polling the query API).
  const want = {
    'sum(litellm_input_tokens_metric_total{job="litellm"})': st.prompt_tokens,
    'sum(litellm_output_tokens_metric_total{job="litellm"})': st.completion_tokens,
    'sum(litellm_proxy_total_requests_metric_total{job="litellm"})': N,
    // The recorded guide names are written to VictoriaMetrics too.
    'sum(litellm_input_tokens_total)': st.prompt_tokens,
  };
  for (const [q, v] of Object.entries(want)) {
    await waitFor(async () => (await vm.scalar(q)) === v, { timeoutMs: 20000, intervalMs: 250, what: `VictoriaMetrics: ${q} == ${v}` })
      .catch(async (e) => { throw new Error(`${e.message}; have ${await vm.scalar(q)}`); });
  }
  // Per replica too: two instances, each with its own share.
  const byInst = (await vm.query('sum by (instance) (litellm_proxy_total_requests_metric_total)')).result;
  assert.deepEqual(byInst.map((r) => r.metric.instance).sort(), gws.map((g) => `127.0.0.1:${g.port}`).sort());
  assert.deepEqual(byInst.map((r) => Number(r.value[1])).sort(), [...per].sort());
  // And the GPU job arrives as well.
  assert.equal(await vm.scalar('DCGM_FI_DEV_GPU_UTIL{gpu="0"}'), 45);
});
