// Wildcard model groups as LiteLLM documents them (issue 15): "ollama/*",
// "ollama_chat/*" behind a prefix of one's own, "openai/*", and the "*"
// catch-all; an exact model_name wins over a pattern. Labels stay bounded: a
// name the backend lists is its own requested_model, anything else is the
// pattern. The official openai client talks through the gateway to
// tollgate sim; /metrics is compared exactly with /sim/stats. The last test
// does the same on the native Ollama routes with the official ollama client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { startTollgate } from './lib/proc.mjs';
import { scrape, sum, find } from './lib/metrics.mjs';

let sim, dir;

before(async () => {
  sim = await startTollgate(['sim', '--port', '0', '--ttft-ms', '0', '--token-ms', '0', '--load-ms', '0', '--quiet']);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-wildcard-'));
});

after(async () => {
  await sim?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('wildcards route by pattern, label what the backend lists, and /v1/models lists what LiteLLM lists', async () => {
  const file = path.join(dir, 'wild.yaml');
  fs.writeFileSync(file, `
model_list:
  - model_name: "ollama/*"
    litellm_params: {model: "ollama/*", api_base: "${sim.url}"}
  - model_name: "chat/*"
    litellm_params: {model: "ollama_chat/*", api_base: "${sim.url}"}
  - model_name: "openai/*"
    litellm_params: {model: "openai/*", api_base: "${sim.url}/v1", api_key: "none"}
  - model_name: llama
    litellm_params: {model: "ollama_chat/llama3.2:3b", api_base: "${sim.url}"}
  - model_name: "*"
    litellm_params: {model: "ollama_chat/*", api_base: "${sim.url}"}
`);
  const gw = await startTollgate(['serve', '--config', file, '--port', '0', '--host', '127.0.0.1', '--poll-interval', '0']);
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0 });
  try {
    await fetch(`${sim.url}/sim/reset`, { method: 'POST' });
    const tags = (await (await fetch(`${sim.url}/api/tags`)).json()).models.map((m) => m.name);
    assert.ok(tags.includes('llama3.2:3b') && tags.includes('gemma3:1b'));

    // /v1/models: every model_name (patterns included), then what the
    // wildcard groups' backends list.
    const ids = (await client.models.list()).data.map((m) => m.id);
    const expected = new Set(['ollama/*', 'chat/*', 'openai/*', 'llama', '*']);
    for (const t of tags) for (const p of ['ollama/', 'chat/', 'openai/', '']) expected.add(p + t);
    assert.deepEqual([...ids].sort(), [...expected].sort());
    assert.equal(ids.length, new Set(ids).size, 'no name twice');

    const ask = async (model, stream = false) => {
      const args = { model, messages: [{ role: 'user', content: `to ${model}` }], max_tokens: 4 };
      if (!stream) return (await client.chat.completions.create(args)).usage;
      const s = await client.chat.completions.create({ ...args, stream: true, stream_options: { include_usage: true } });
      let u = null;
      for await (const ch of s) if (ch.usage) u = ch.usage;
      return u;
    };
    const plan = [['ollama/llama3.2:3b', 3], ['chat/gemma3:1b', 2], ['openai/gemma3:1b', 2], ['llama', 2], ['gemma3:1b', 3], ['llama3.2:3b', 1]];
    let out = 0;
    for (const [model, n] of plan) for (let i = 0; i < n; i++) out += (await ask(model, i % 2 === 1)).completion_tokens;

    // Names the backend does not list fail there, and are labelled with the pattern.
    for (const bad of ['ollama/nosuch:1b', 'ollama/another', 'chat/x']) {
      await assert.rejects(ask(bad), (e) => e.status === 404);
    }

    const st = await (await fetch(`${sim.url}/sim/stats`)).json();
    const m = await scrape(`${gw.url}/metrics`);
    const total = plan.reduce((a, [, n]) => a + n, 0);
    assert.equal(Object.values(st.models).reduce((a, x) => a + x.completion_tokens, 0), out);
    assert.equal(sum(m, 'litellm_output_tokens_metric_total'), out);
    assert.equal(sum(m, 'litellm_proxy_total_requests_metric_total', { status_code: '200' }), total);
    for (const [model, n] of plan)
      assert.equal(sum(m, 'litellm_proxy_total_requests_metric_total', { requested_model: model, status_code: '200' }), n, model);
    assert.equal(sum(m, 'litellm_proxy_failed_requests_metric_total', { requested_model: 'ollama/*' }), 2);
    assert.equal(sum(m, 'litellm_proxy_failed_requests_metric_total', { requested_model: 'chat/*' }), 1);
    assert.equal(sum(m, 'litellm_proxy_failed_requests_metric_total'), 3);
    // No client string that the backend does not list became a label value.
    for (const bad of ['ollama/nosuch:1b', 'ollama/another', 'chat/x'])
      assert.equal(find(m, 'litellm_proxy_total_requests_metric_total', { requested_model: bad }).length, 0);
    // The backend saw the name without the group's prefix.
    assert.equal(st.models['gemma3:1b'].requests, 2 + 2 + 3);
    assert.equal(st.models['llama3.2:3b'].requests, 3 + 2 + 1);
  } finally {
    assert.equal(await gw.stop(), 0);
  }
});

// The native Ollama routes route the same names the same way (the official
// ollama client through the gateway), with the same bounded labels.
test('wildcards on the native Ollama routes: chat, generate, embed and show; labels bounded; exact tally', async () => {
  const file = path.join(dir, 'wild-native.yaml');
  fs.writeFileSync(file, `
model_list:
  - model_name: "ollama/*"
    litellm_params: {model: "ollama/*", api_base: "${sim.url}"}
  - model_name: "chat/*"
    litellm_params: {model: "ollama_chat/*", api_base: "${sim.url}"}
  - model_name: "openai/*"
    litellm_params: {model: "openai/*", api_base: "${sim.url}/v1", api_key: "none"}
  - model_name: llama
    litellm_params: {model: "ollama_chat/llama3.2:3b", api_base: "${sim.url}"}
  - model_name: "*"
    litellm_params: {model: "ollama_chat/*", api_base: "${sim.url}"}
`);
  const gw = await startTollgate(['serve', '--config', file, '--port', '0', '--host', '127.0.0.1', '--poll-interval', '0']);
  const o = new Ollama({ host: gw.url });
  try {
    await fetch(`${sim.url}/sim/reset`, { method: 'POST' });
    let out = 0, inp = 0;
    const chat = async (model, stream) => {
      const args = { model, messages: [{ role: 'user', content: `to ${model}` }], options: { num_predict: 3 } };
      if (!stream) {
        const r = await o.chat(args);
        assert.equal(r.model, model, 'model echoes the name as sent');
        return r;
      }
      let last;
      for await (const part of await o.chat({ ...args, stream: true })) last = part;
      assert.equal(last.model, model);
      return last;
    };
    const count = (r) => { out += r.eval_count ?? 0; inp += r.prompt_eval_count ?? 0; };
    count(await chat('ollama/llama3.2:3b', false));
    count(await chat('ollama/llama3.2:3b', true));
    count(await chat('gemma3:1b', false)); // "*"
    count(await chat('llama', true));      // the exact model_name wins over "*"
    for (let i = 0; i < 2; i++)
      count(await o.generate({ model: 'chat/gemma3:1b', prompt: 'why', options: { num_predict: 2 }, stream: false }));
    const e = await o.embed({ model: 'nomic-embed-text:latest', input: ['a', 'b c'] });
    assert.equal(e.model, 'nomic-embed-text:latest');
    inp += e.prompt_eval_count;
    // show through a wildcard group: the backend's answer for the captured name
    const shown = await o.show({ model: 'ollama/gemma3:1b' });
    assert.deepEqual(shown.details, (await new Ollama({ host: sim.url }).show({ model: 'gemma3:1b' })).details);
    // A name no backend lists: the backend's 404, labelled with the pattern.
    await assert.rejects(o.chat({ model: 'ollama/nosuch:1b', messages: [{ role: 'user', content: 'x' }] }),
      (err) => err.status_code === 404);
    // An OpenAI-only wildcard group is not served on the native routes.
    await assert.rejects(o.chat({ model: 'openai/gemma3:1b', messages: [{ role: 'user', content: 'x' }] }),
      (err) => err.status_code === 400);

    const st = await (await fetch(`${sim.url}/sim/stats`)).json();
    const m = await scrape(`${gw.url}/metrics`);
    assert.equal(st.prompt_tokens, inp);
    assert.equal(st.completion_tokens, out);
    assert.equal(sum(m, 'litellm_input_tokens_metric_total'), st.prompt_tokens);
    assert.equal(sum(m, 'litellm_output_tokens_metric_total'), st.completion_tokens);
    const ok = (model, route) => sum(m, 'litellm_proxy_total_requests_metric_total', { requested_model: model, route, status_code: '200' });
    assert.equal(ok('ollama/llama3.2:3b', '/api/chat'), 2);
    assert.equal(ok('gemma3:1b', '/api/chat'), 1);
    assert.equal(ok('llama', '/api/chat'), 1);
    assert.equal(ok('chat/gemma3:1b', '/api/generate'), 2);
    assert.equal(ok('nomic-embed-text:latest', '/api/embed'), 1);
    assert.equal(sum(m, 'litellm_proxy_total_requests_metric_total', { status_code: '200' }), 7);
    assert.equal(sum(m, 'litellm_proxy_total_requests_metric_total', { route: '/api/chat' }), st.endpoints['/api/chat'] + 1,
      'every native chat reached the backend, except the one the gateway refused');
    assert.equal(sum(m, 'litellm_proxy_failed_requests_metric_total', { requested_model: 'ollama/*' }), 1);
    // (a name that group's backend lists: its own label, as on /v1)
    assert.equal(sum(m, 'litellm_proxy_failed_requests_metric_total', { requested_model: 'openai/gemma3:1b' }), 1);
    assert.equal(sum(m, 'litellm_proxy_failed_requests_metric_total'), 2);
    assert.equal(find(m, 'litellm_proxy_total_requests_metric_total', { requested_model: 'ollama/nosuch:1b' }).length, 0);
    // The backend saw the names without the groups' prefixes.
    assert.equal(st.models['llama3.2:3b'].requests, 3);
    assert.equal(st.models['gemma3:1b'].requests, 3);
    assert.equal(st.models['nomic-embed-text:latest'].requests, 1);
  } finally {
    assert.equal(await gw.stop(), 0);
  }
});
