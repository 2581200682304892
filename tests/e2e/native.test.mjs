// Ollama's native API through tollgate serve: the official `ollama` client
// points at the gateway, in discovery mode (no config) and with a config of
// aliases; after each scenario /metrics must equal the simulator's tally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ollama } from 'ollama';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { startTollgate, tollgateBin } from './lib/proc.mjs';
import { freePort } from './lib/prometheus.mjs';
import { scrape, sum, waitFor } from './lib/metrics.mjs';

const SIM = ['sim', '--port', '0', '--ttft-ms', '0', '--token-ms', '0', '--load-ms', '0', '--quiet'];
const MODEL = 'llama3.2:3b';

async function simStats(sim) {
  return (await fetch(`${sim.url}/sim/stats`)).json();
}

// /metrics against the simulator: requests per native route, tokens, TTFT.
async function assertTally(gw, sims, { failures = 0, streams }) {
  const m = await scrape(`${gw.url}/metrics`);
  const st = await Promise.all(sims.map(simStats));
  const add = (f) => st.reduce((a, s) => a + f(s), 0);
  for (const r of ['/api/chat', '/api/generate', '/api/embed', '/api/embeddings']) {
    assert.equal(sum(m, 'litellm_proxy_total_requests_metric_total', { route: r }), add((s) => s.endpoints[r]), `requests ${r}`);
  }
  if (process.env.DEBUG_NATIVE) console.log(m.filter((x) => /input_tokens/.test(x.name)), JSON.stringify(st.map((s) => s.models)));
  assert.equal(sum(m, 'litellm_input_tokens_metric_total'), add((s) => s.prompt_tokens), 'prompt tokens');
  assert.equal(sum(m, 'litellm_output_tokens_metric_total'), add((s) => s.completion_tokens), 'completion tokens');
  assert.equal(sum(m, 'litellm_proxy_failed_requests_metric_total'), failures, 'failures');
  assert.equal(sum(m, 'litellm_llm_api_time_to_first_token_metric_count'), streams, 'TTFT samples (streams only)');
  return m;
}

test('discovery mode: the ollama client works through the gateway unchanged', async () => {
  const sim = await startTollgate(SIM);
  const gw = await startTollgate(['serve', '--port', '0', '--host', '127.0.0.1', '--poll-interval', '0'], {
    env: { OLLAMA_HOST: `127.0.0.1:${sim.port}` },
  });
  try {
    const o = new Ollama({ host: gw.url });
    const direct = new Ollama({ host: sim.url });
    assert.deepEqual(await o.list(), await direct.list());
    assert.deepEqual(await o.ps(), await direct.ps());
    assert.equal((await o.version()).version, '0.33.0-rc2');
    const shown = await o.show({ model: MODEL });
    assert.equal(shown.details.family, 'llama');

    // chat and generate, stream and not; names follow Ollama's rules.
    const r = await o.chat({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], options: { num_predict: 3 } });
    assert.equal(r.model, MODEL);
    assert.equal(r.eval_count, 3);
    let chunks = 0, last;
    for await (const part of await o.chat({ model: 'LLAMA3.2:3B', messages: [{ role: 'user', content: 'hello there' }], stream: true })) {
      chunks++;
      last = part;
    }
    assert.ok(chunks > 2);
    assert.equal(last.done, true);
    assert.equal(last.model, 'LLAMA3.2:3B', 'model echoes the name as sent');
    const g = await o.generate({ model: MODEL, prompt: 'why', options: { num_predict: 5 } });
    assert.equal(g.eval_count, 5);
    for await (const part of await o.generate({ model: MODEL, prompt: 'why not', stream: true })) last = part;
    assert.equal(last.done_reason, 'stop');
    const e = await o.embed({ model: 'nomic-embed-text', input: ['a', 'b c'] });
    assert.equal(e.embeddings.length, 2);
    const e1 = await o.embeddings({ model: 'nomic-embed-text', prompt: 'x' });
    assert.equal(e1.embedding.length, 768);
    await assertTally(gw, [sim], { streams: 2 });

    // Byte for byte: a deterministic native answer fetched directly and
    // through the gateway (the legacy embeddings have no times).
    const body = JSON.stringify({ model: 'nomic-embed-text', prompt: 'same bytes' });
    const a = await fetch(`${sim.url}/api/embeddings`, { method: 'POST', body });
    const b = await fetch(`${gw.url}/api/embeddings`, { method: 'POST', body });
    assert.equal(b.status, a.status);
    assert.equal(b.headers.get('content-type'), a.headers.get('content-type'));
    assert.deepEqual(Buffer.from(await b.arrayBuffer()), Buffer.from(await a.arrayBuffer()));
    for (const p of ['/api/tags', '/', '/api/version']) {
      const x = await (await fetch(`${sim.url}${p}`)).text();
      assert.equal(await (await fetch(`${gw.url}${p}`)).text(), x, p);
    }
    // A chat answer differs only in its times.
    const cb = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'same' }], stream: false });
    const mask = (s) => s.replace(/"created_at":"[^"]*"/, '').replace(/_duration":\d+/g, '_duration":0');
    const ca = await (await fetch(`${sim.url}/api/chat`, { method: 'POST', body: cb })).text();
    const cg = await (await fetch(`${gw.url}/api/chat`, { method: 'POST', body: cb })).text();
    assert.equal(mask(cg), mask(ca));

    // Management: pull streams its progress; copy and delete pass through.
    const statuses = [];
    for await (const p of await o.pull({ model: MODEL, stream: true })) statuses.push(p.status);
    assert.equal(statuses[0], 'pulling manifest');
    assert.equal(statuses.at(-1), 'success');
    assert.ok(statuses.some((s) => s.startsWith('pulling ')));
    assert.equal((await o.pull({ model: MODEL })).status, 'success');
    assert.equal((await o.copy({ source: MODEL, destination: 'mine' })).status, 'success');
    assert.equal((await o.delete({ model: MODEL })).status, 'success');
    await assert.rejects(o.delete({ model: 'ghost' }), (err) => err.status_code === 404 && /ghost:latest/.test(err.error));
    // Ollama's own 404 and 405, never the gateway's.
    const nf = await fetch(`${gw.url}/api/nothing`);
    assert.equal(nf.status, 404);
    assert.equal(await nf.text(), '404 page not found');
    const na = await fetch(`${gw.url}/api/chat`);
    assert.equal(na.status, 405);
    assert.equal(await na.text(), '405 method not allowed');

    // Management requests are counted per route (fixed route labels).
    const mm = await scrape(`${gw.url}/metrics`);
    const api = (route, status_code) => sum(mm, 'tollgate_ollama_api_requests_total', status_code ? { route, status_code } : { route });
    assert.equal(api('/api/tags'), 2);
    assert.equal(api('/api/ps'), 1);
    assert.equal(api('/api/version'), 2);
    assert.equal(api('/'), 1);
    assert.equal(api('/api/show'), 1);
    assert.equal(api('/api/pull'), 2);
    assert.equal(api('/api/copy'), 1);
    assert.equal(api('/api/delete', '200'), 1);
    assert.equal(api('/api/delete', '404'), 1);
    assert.equal(api('other', '404'), 1);
    assert.equal(api('other', '405'), 1);
    assert.equal(sum(mm, 'tollgate_ollama_api_request_duration_seconds_count', { route: '/api/pull' }), 2);

    // Unknown model: Ollama's 404 shape, counted under requested_model="other".
    await assert.rejects(o.chat({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
      (err) => err.status_code === 404 && err.error === 'model "nope" not found, try pulling it first');
    const m = await scrape(`${gw.url}/metrics`);
    assert.equal(sum(m, 'litellm_proxy_failed_requests_metric_total', { requested_model: 'other', route: '/api/chat' }), 1);
  } finally {
    assert.equal(await gw.stop(), 0);
    await sim.stop();
  }
});

test('config of aliases: names, faults, and several hosts with one dead', async () => {
  const sim = await startTollgate(SIM);
  const sim2 = await startTollgate(SIM);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-native-'));
  const cfg = `
model_list:
  - model_name: llama
    litellm_params: { model: ollama_chat/${MODEL}, api_base: ${sim.url} }
  - model_name: embed
    litellm_params: { model: ollama/nomic-embed-text, api_base: ${sim.url} }
  - model_name: short
    litellm_params: { model: ollama_chat/${MODEL}, api_base: ${sim.url}, timeout: 0.5, stream_timeout: 0.5 }
  - model_name: pair
    litellm_params: { model: ollama_chat/gemma3:1b, api_base: http://127.0.0.1:9 }
  - model_name: pair
    litellm_params: { model: ollama_chat/gemma3:1b, api_base: ${sim2.url} }
  - model_name: oai
    litellm_params: { model: openai/${MODEL}, api_base: ${sim.url}/v1, api_key: x }
router_settings:
  num_retries: 2
`;
  fs.writeFileSync(path.join(dir, 'config.yaml'), cfg);
  const gw = await startTollgate(['serve', '--config', path.join(dir, 'config.yaml'), '--port', '0', '--host', '127.0.0.1', '--poll-interval', '0']);
  try {
    const o = new Ollama({ host: gw.url });
    const names = (await o.list()).models.map((x) => x.name);
    assert.deepEqual(names, ['llama', 'embed', 'short', 'pair']);
    const tags = (await o.list()).models;
    assert.equal(tags[0].model, 'llama');
    assert.match(tags[0].digest, /^[0-9a-f]{64}$/);
    assert.equal((await o.show({ model: 'llama' })).details.family, 'llama');
    await assert.rejects(o.show({ model: 'zzz' }), (err) => err.status_code === 404);

    const r = await o.chat({ model: 'llama', messages: [{ role: 'user', content: 'hi' }], options: { num_predict: 4 } });
    assert.equal(r.model, 'llama', 'the alias is echoed');
    let last;
    for await (const p of await o.generate({ model: 'llama', prompt: 'p', stream: true })) last = p;
    assert.equal(last.model, 'llama');
    assert.equal((await o.embed({ model: 'embed', input: 'x' })).model, 'embed');
    // Loaded models are listed under their aliases.
    assert.ok((await o.ps()).models.some((x) => x.name === 'llama'));

    // Several hosts, one dead: retried before the first byte.
    for (let i = 0; i < 4; i++) {
      const p = await o.chat({ model: 'pair', messages: [{ role: 'user', content: `q${i}` }], options: { num_predict: 2 } });
      assert.equal(p.model, 'pair');
    }
    await assertTally(gw, [sim, sim2], { streams: 1 });

    // Writes go to the primary host (the first Ollama api_base) only.
    const other = async () => (await Promise.all([sim, sim2].map(simStats))).map((x) => x.endpoints.other);
    const o0 = await other();
    let progress = 0;
    for await (const p of await o.pull({ model: 'gemma3:1b', stream: true })) progress += /^pulling [0-9a-f]{12}$/.test(p.status) ? 1 : 0;
    assert.equal(progress, 2);
    const digest = (await o.list()).models[0].digest;
    assert.equal((await fetch(`${gw.url}/api/blobs/sha256:${digest}`, { method: 'HEAD' })).status, 200);
    assert.equal((await fetch(`${gw.url}/api/blobs/sha256:${'0'.repeat(64)}`, { method: 'HEAD' })).status, 404);
    assert.deepEqual(await other(), [o0[0] + 3, o0[1]]);

    // An OpenAI-only group on a native route.
    await assert.rejects(o.chat({ model: 'oai', messages: [{ role: 'user', content: 'x' }] }),
      (err) => err.status_code === 400 && /not served by an Ollama backend/.test(err.error));
    let failures = 1;

    // Faults: 500 and 429 (retried, then Ollama's own answer), in-band
    // error, cut mid-stream, malformed line, hang with the client aborting.
    await assert.rejects(o.chat({ model: 'llama', messages: [{ role: 'user', content: 'tollgate-fault:500' }] }),
      (err) => err.status_code === 500 && /model runner has unexpectedly stopped/.test(err.error));
    failures++;
    await assert.rejects(o.chat({ model: 'llama', messages: [{ role: 'user', content: 'tollgate-fault:429' }] }),
      (err) => err.status_code === 429);
    failures++;
    await assert.rejects(async () => {
      for await (const p of await o.chat({ model: 'llama', messages: [{ role: 'user', content: 'tollgate-fault:error:2' }], stream: true })) void p;
    }, /tollgate-fault error/);
    failures++;
    await assert.rejects(async () => {
      for await (const p of await o.generate({ model: 'llama', prompt: 'tollgate-fault:cut:2', stream: true })) void p;
    });
    failures++;
    const warn = console.warn;
    console.warn = () => {};
    try {
      for await (const p of await o.chat({ model: 'llama', messages: [{ role: 'user', content: 'tollgate-fault:malformed:1' }], stream: true })) last = p;
    } finally {
      console.warn = warn;
    }
    assert.equal(last.done, true, 'a malformed line passes through; the client skips it');
    const before = (await simStats(sim)).cancelled;
    // A client that gives up on a hang: nothing has been written to it, so
    // the gateway learns it is gone from the reset (its end of input alone
    // means "no more requests", docs/reliability.md). A raw socket, so the
    // test controls that it is a reset.
    const hangBody = JSON.stringify({ model: 'llama', messages: [{ role: 'user', content: 'tollgate-fault:hang' }] });
    const sock = net.connect(gw.port, '127.0.0.1');
    await new Promise((resolve) => sock.on('connect', resolve));
    sock.write(`POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(hangBody)}\r\n\r\n${hangBody}`);
    // The hang is in flight once the simulator counts it.
    await waitFor(async () => (await simStats(sim)).in_flight > 0, { what: 'the hang to reach the simulator' });
    sock.resetAndDestroy();
    await waitFor(async () => (await simStats(sim)).cancelled > before, { what: 'the simulator to see the cancel' });
    failures++;
    // A timeout (hang, no client abort) fails after stream_timeout.
    await assert.rejects(o.chat({ model: 'short', messages: [{ role: 'user', content: 'tollgate-fault:hang' }] }),
      (err) => err.status_code === 504);
    failures++;

    const m = await scrape(`${gw.url}/metrics`);
    assert.equal(sum(m, 'litellm_proxy_failed_requests_metric_total'), failures);
    assert.equal(sum(m, 'litellm_proxy_failed_requests_metric_total', { route: '/api/chat', exception_class: 'Ollama.InternalServerError' }), 1);
    assert.equal(sum(m, 'tollgate_client_disconnects_total', { route: '/api/chat' }), 1, 'the reset hang');
    // 500 and 429 were retried (num_retries 2): three attempts each.
    assert.equal(sum(m, 'litellm_deployment_failure_responses_total', { requested_model: 'llama', exception_class: 'Ollama.InternalServerError' }), 3);
    // Tokens: the successful requests, as the simulator served them (the
    // failed ones add nothing on either side).
    const st = await Promise.all([sim, sim2].map(simStats));
    assert.equal(sum(m, 'litellm_output_tokens_metric_total'), st[0].completion_tokens + st[1].completion_tokens);
    assert.equal(sum(m, 'litellm_input_tokens_metric_total'), st[0].prompt_tokens + st[1].prompt_tokens);
  } finally {
    assert.equal(await gw.stop(), 0);
    await sim.stop();
    await sim2.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a gateway whose Ollama is itself refuses to start (forwarding loop)', async () => {
  const port = await freePort();
  const r = spawnSync(tollgateBin, ['serve', '--port', String(port), '--host', '127.0.0.1', '--discover-wait', '0', '--poll-interval', '0'], {
    env: { ...process.env, OLLAMA_HOST: `127.0.0.1:${port}` }, encoding: 'utf8', timeout: 20000,
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /forwarding loop: the Ollama address http:\/\/127\.0\.0\.1:\d+ is this gateway itself/);
  assert.match(r.stderr, /OLLAMA_HOST=127\.0\.0\.1:11435 ollama serve/);
});

// A TCP relay that hands the simulator's bytes on in pieces of 1..7 bytes,
// one write per event-loop turn: the gateway's NDJSON tap must find line
// boundaries (and the alias splice its "model") across any split.
function splittingRelay(targetPort) {
  const srv = net.createServer((down) => {
    const up = net.connect(targetPort, '127.0.0.1');
    up.setNoDelay(true);
    down.setNoDelay(true);
    down.pipe(up);
    let queue = Promise.resolve();
    let n = 0;
    up.on('data', (data) => {
      queue = queue.then(async () => {
        for (let i = 0; i < data.length;) {
          const k = 1 + (n++ % 7);
          if (!down.destroyed) down.write(data.subarray(i, i + k));
          i += k;
          await new Promise((r) => setImmediate(r));
        }
      });
    });
    up.on('end', () => queue.then(() => down.end()));
    up.on('error', () => down.destroy());
    down.on('error', () => up.destroy());
    down.on('close', () => up.destroy());
  });
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv)));
}

test('the tap and the model splice work across any chunk split', async () => {
  const sim = await startTollgate(SIM);
  const relay = await splittingRelay(sim.port);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-native-split-'));
  fs.writeFileSync(path.join(dir, 'config.yaml'), `
model_list:
  - model_name: alias-with-a-long-name
    litellm_params: { model: ollama_chat/${MODEL}, api_base: http://127.0.0.1:${relay.address().port} }
`);
  const gw = await startTollgate(['serve', '--config', path.join(dir, 'config.yaml'), '--port', '0', '--host', '127.0.0.1', '--poll-interval', '0']);
  try {
    const o = new Ollama({ host: gw.url });
    let lines = 0, last;
    for await (const p of await o.chat({ model: 'alias-with-a-long-name', messages: [{ role: 'user', content: 'split me' }], stream: true })) {
      lines++;
      assert.equal(p.model, 'alias-with-a-long-name');
      last = p;
    }
    assert.equal(last.done, true);
    assert.ok(lines > 5);
    const g = await o.generate({ model: 'alias-with-a-long-name', prompt: 'whole', options: { num_predict: 7 } });
    assert.equal(g.model, 'alias-with-a-long-name');
    assert.equal(g.eval_count, 7);
    await assertTally(gw, [sim], { streams: 1 });
  } finally {
    assert.equal(await gw.stop(), 0);
    relay.close();
    await sim.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fixed clock: chat and generate, streamed and not, are the same bytes direct and through the gateway', async () => {
  // --fixed-clock: created_at and the durations no longer depend on when the
  // request ran, so any difference is the gateway's.
  const sim = await startTollgate([...SIM, '--fixed-clock']);
  const gw = await startTollgate(['serve', '--port', '0', '--host', '127.0.0.1', '--poll-interval', '0'], {
    env: { OLLAMA_HOST: `127.0.0.1:${sim.port}` },
  });
  try {
    const post = async (base, p, body) => {
      const r = await fetch(`${base}${p}`, { method: 'POST', body: JSON.stringify(body) });
      return { status: r.status, type: r.headers.get('content-type'), bytes: Buffer.from(await r.arrayBuffer()) };
    };
    const cases = [
      ['/api/chat', { model: MODEL, messages: [{ role: 'user', content: 'same bytes' }], stream: false }],
      ['/api/chat', { model: MODEL, messages: [{ role: 'user', content: 'same bytes' }], stream: true, options: { num_predict: 6 } }],
      ['/api/chat', { model: 'Llama3.2:3B', messages: [{ role: 'user', content: 'as sent' }], stream: true }],
      ['/api/generate', { model: MODEL, prompt: 'same bytes', stream: false }],
      ['/api/generate', { model: MODEL, prompt: 'same bytes', stream: true }],
      ['/api/embed', { model: 'nomic-embed-text', input: ['x', 'y z'] }],
    ];
    for (const [p, body] of cases) {
      const a = await post(sim.url, p, body);
      const b = await post(gw.url, p, body);
      assert.equal(a.status, 200);
      assert.equal(b.status, a.status, p);
      assert.equal(b.type, a.type, p);
      assert.equal(b.bytes.toString(), a.bytes.toString(), `${p} ${JSON.stringify(body)}`);
      assert.match(a.bytes.toString(), p === '/api/embed' ? /"total_duration":\d+/ : /"created_at":"2026-01-01T00:00:00Z"/);
    }
    // Twice the same request: the same bytes (the clock really is fixed).
    const again = await post(sim.url, cases[0][0], cases[0][1]);
    assert.equal(again.bytes.toString(), (await post(sim.url, cases[0][0], cases[0][1])).bytes.toString());
    assert.match(again.bytes.toString(), /"prompt_eval_duration":1,/); // --ttft-ms 0: 1 ns
  } finally {
    await gw.stop();
    await sim.stop();
  }
});

test('create and push stream their progress through the gateway to the primary host', async () => {
  const sim = await startTollgate(SIM);
  const gw = await startTollgate(['serve', '--port', '0', '--host', '127.0.0.1', '--poll-interval', '0'], {
    env: { OLLAMA_HOST: `127.0.0.1:${sim.port}` },
  });
  try {
    const o = new Ollama({ host: gw.url });
    const created = [];
    for await (const p of await o.create({ model: 'mine', from: MODEL, system: 'be brief', stream: true })) created.push(p.status);
    assert.match(created[0], /^using existing layer sha256:[0-9a-f]{64}$/);
    assert.deepEqual(created.slice(1), ['writing manifest', 'success']);
    assert.equal((await o.create({ model: 'mine', from: MODEL })).status, 'success');
    await assert.rejects(o.create({ model: 'mine', from: 'ghost' }), (err) => err.status_code === 404 && /ghost:latest/.test(err.error));
    await assert.rejects(o.create({ model: 'mine' }), (err) => err.status_code === 400 && /neither 'from' or 'files'/.test(err.error));
    const pushed = [];
    for await (const p of await o.push({ model: MODEL, stream: true })) pushed.push(p);
    assert.equal(pushed[0].status, 'retrieving manifest');
    assert.ok(pushed.some((p) => p.status.startsWith('pushing ') && p.completed === p.total && p.total > 0));
    assert.deepEqual(pushed.slice(-2).map((p) => p.status), ['pushing manifest', 'success']);
    await assert.rejects(o.push({ model: 'ghost' }), (err) => err.status_code === 404);
    const mm = await scrape(`${gw.url}/metrics`);
    assert.equal(sum(mm, 'tollgate_ollama_api_requests_total', { route: '/api/create' }), 4);
    assert.equal(sum(mm, 'tollgate_ollama_api_requests_total', { route: '/api/create', status_code: '200' }), 2);
    assert.equal(sum(mm, 'tollgate_ollama_api_requests_total', { route: '/api/push' }), 2);
  } finally {
    await gw.stop();
    await sim.stop();
  }
});

// Issue 13: at start (and after a SIGHUP reload) every configured backend is
// asked once; a dead one is named in one warning, without its credentials,
// and the gateway serves the live ones.
test('start-up probe: one warning per dead deployment, credentials redacted, the live one served', async () => {
  const sim = await startTollgate(SIM);
  const deadPort = await freePort(); // nothing listens there
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-probe-'));
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, `
model_list:
  - model_name: llama
    litellm_params: {model: "ollama_chat/${MODEL}", api_base: "${sim.url}"}
  - model_name: oai
    litellm_params: {model: "openai/${MODEL}", api_base: "${sim.url}/v1", api_key: "sk-live"}
  - model_name: gone
    litellm_params: {model: "ollama_chat/${MODEL}", api_base: "http://probe-user:probe-secret@127.0.0.1:${deadPort}/x?token=t0k"}
`);
  const gw = await startTollgate(['serve', '--config', file, '--port', '0', '--host', '127.0.0.1', '--poll-interval', '0']);
  const warnings = () => gw.output().split('\n').filter((l) => l.includes('not answering'));
  try {
    // The probe ends before the listen line that startTollgate waited for.
    assert.deepEqual(warnings().map((l) => l.replace(/^.*?warn\s+/, '')),
      [`deployment 'gone' (ollama_chat/${MODEL} at http://127.0.0.1:${deadPort}): not answering: connection refused`]);
    assert.ok(!/probe-secret|probe-user|t0k/.test(gw.output()), 'no credentials in the output');
    const r = await new Ollama({ host: gw.url }).chat({ model: 'llama', messages: [{ role: 'user', content: 'hi' }],
      options: { num_predict: 2 } });
    assert.equal(r.eval_count, 2);
    assert.equal((await simStats(sim)).endpoints['/api/chat'], 1);
    // A reload probes again.
    gw.proc.kill('SIGHUP');
    await waitFor(() => warnings().length === 2, { what: 'the probe after the reload' });
    assert.match(warnings()[1], /deployment 'gone' .* not answering: connection refused/);
  } finally {
    assert.equal(await gw.stop(), 0);
    await sim.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
