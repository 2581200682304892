// tollgate serve under attack, on loopback only, bounded in count and time:
// slow heads (slowloris), big unauthenticated bodies, too many connections,
// the descriptor limit, a second instance on the port, oversized chunks and
// a client half-close. Each test reproduces the attack and asserts the fix
// (docs/reliability.md lists the limits).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { startTollgate, startServer, tollgateBin } from './lib/proc.mjs';
import { scrape, sum, waitFor } from './lib/metrics.mjs';

const KEY = 'sk-harden-test';
const MODEL = 'llama3.2:3b';
let sim, gw, dir, cfgPath;

before(async () => {
  sim = await startTollgate(['sim', '--port', '0', '--ttft-ms', '0', '--token-ms', '0', '--load-ms', '0', '--quiet']);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-harden-'));
  cfgPath = path.join(dir, 'config.yaml');
  fs.writeFileSync(cfgPath, `
model_list:
  - model_name: llama
    litellm_params:
      model: ollama_chat/${MODEL}
      api_base: ${sim.url}
general_settings:
  master_key: ${KEY}
litellm_settings:
  callbacks: ["prometheus"]
`);
  gw = await startGateway(['--header-timeout', '2']);
});

after(async () => {
  await gw?.stop();
  await sim?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function startGateway(extra, opts) {
  return startTollgate(['serve', '--config', cfgPath, '--port', '0', '--host', '127.0.0.1', '--poll-interval', '0',
    '--threads', '1', ...extra], opts);
}

// A raw connection that records what comes back and when it ended.
function dial(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    const st = { s, data: '', ended: false, error: null, t0: Date.now(), firstAt: 0, endAt: 0 };
    s.setEncoding('latin1');
    s.on('data', (d) => { if (!st.data) st.firstAt = Date.now(); st.data += d; });
    s.on('end', () => { st.ended = true; st.endAt = Date.now(); });
    s.on('error', (e) => { st.error = e; });
    s.on('close', () => { st.ended = true; st.endAt ||= Date.now(); });
    s.once('connect', () => resolve(st));
    s.once('error', reject);
  });
}

const write = (st, data) => new Promise((resolve) => {
  if (st.s.destroyed || st.s.writableEnded) return resolve(false);
  st.s.write(data, (err) => resolve(!err));
});

function procStatus(pid, field) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+)`, 'm'));
  return Number(m[1]);
}

// utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat).
function cpuTicks(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

const chatBody = JSON.stringify({ model: 'llama', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });

test('H1 slowloris: 200 connections trickling a header byte a second all get 408 within the head deadline', async () => {
  const N = 200, deadlineMs = 2000, slackMs = 1500;
  const conns = [];
  for (let i = 0; i < N; i++) {
    const st = await dial(gw.port);
    await write(st, 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    conns.push(st);
  }
  // One more header byte a second on every connection still open: under
  // the old per-byte idle timer these were never closed.
  const drip = setInterval(() => { for (const st of conns) if (!st.ended && !st.data) write(st, 'a'); }, 1000);
  try {
    // The gateway keeps serving others meanwhile.
    const live = await fetch(`${gw.url}/health/liveliness`);
    assert.equal(live.status, 200);
    await waitFor(() => conns.every((st) => st.ended), { timeoutMs: deadlineMs + slackMs + 2000, what: 'all slow connections closed' });
  } finally {
    clearInterval(drip);
    for (const st of conns) st.s.destroy();
  }
  for (const st of conns) {
    assert.match(st.data, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.match(st.data, /Connection: close\r\n/);
    assert.ok(st.firstAt - st.t0 <= deadlineMs + slackMs, `408 after ${st.firstAt - st.t0} ms`);
    assert.ok(st.firstAt - st.t0 >= deadlineMs - 100, `408 too early: ${st.firstAt - st.t0} ms`);
  }
});

test('H1 auth on the head: a body without a key gets 401 at once, before any body byte, and no 100 Continue', async () => {
  const head = (key, extra = '') => `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
    `${key ? `Authorization: Bearer ${key}\r\n` : ''}Content-Length: 1000000\r\n${extra}\r\n`;
  // No key: the answer comes with no body sent at all, and the gateway closes.
  let st = await dial(gw.port);
  await write(st, head(null, 'Expect: 100-continue\r\n'));
  await waitFor(() => st.ended, { what: '401 and close' });
  assert.match(st.data, /^HTTP\/1\.1 401 /, 'the first answer is the 401, not 100 Continue');
  assert.doesNotMatch(st.data, /100 Continue/);
  assert.match(st.data, /Connection: close\r\n/);
  st.s.destroy();
  // A wrong key alike.
  st = await dial(gw.port);
  await write(st, head('sk-wrong'));
  await waitFor(() => st.ended, { what: '401 and close' });
  assert.match(st.data, /^HTTP\/1\.1 401 /);
  st.s.destroy();
  // The right key: 100 Continue, and the request goes on.
  st = await dial(gw.port);
  await write(st, head(KEY, 'Expect: 100-continue\r\n'));
  await waitFor(() => st.data.includes('\r\n\r\n'), { what: '100 Continue' });
  assert.match(st.data, /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
  st.s.destroy();
});

test('H1 memory: 40 unauthenticated 4 MiB bodies do not raise RSS (answered 401 on the head, input discarded)', async () => {
  const pid = gw.proc.pid;
  const base = procStatus(pid, 'VmRSS');
  let peak = base;
  const sampler = setInterval(() => { peak = Math.max(peak, procStatus(pid, 'VmRSS')); }, 10);
  const body = Buffer.alloc(4 << 20, 'x');
  const conns = [];
  try {
    for (let i = 0; i < 40; i++) {
      const st = await dial(gw.port);
      st.s.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length + 1}\r\n\r\n`);
      st.s.write(body); // the gateway may close before it has all of it
      conns.push(st);
    }
    await waitFor(() => conns.every((st) => st.ended), { timeoutMs: 15000, what: 'all refused connections closed' });
  } finally {
    clearInterval(sampler);
    for (const st of conns) st.s.destroy();
  }
  peak = Math.max(peak, procStatus(pid, 'VmRSS'));
  for (const st of conns) assert.match(st.data, /^HTTP\/1\.1 401 /);
  // 40 x 4 MiB = 160 MiB if bodies were buffered before the key check.
  assert.ok(peak - base < 24 * 1024, `RSS grew ${peak - base} kB (from ${base} kB)`);
});

test('H1 connection cap: one over --max-conns gets 503 and is closed; a freed slot serves again', async () => {
  const g = await startGateway(['--max-conns', '20']);
  const conns = [];
  try {
    for (let i = 0; i < 20; i++) {
      const st = await dial(g.port);
      // A full exchange proves the gateway has accepted (and counted) it.
      await write(st, 'GET /health/liveliness HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => st.data.includes('alive'), { what: `connection ${i} served` });
      conns.push(st);
    }
    const over = await dial(g.port);
    await waitFor(() => over.ended, { what: '503 and close' });
    assert.match(over.data, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.match(over.data, /too many connections/);
    over.s.destroy();
    conns.pop().s.destroy();
    await waitFor(async () => (await fetch(`${g.url}/health/liveliness`).catch(() => ({ status: 0 }))).status === 200,
      { what: 'a freed slot to serve again' });
  } finally {
    for (const st of conns) st.s.destroy();
    await g.stop();
  }
});

test('H2 at the descriptor limit the accept loop does not spin, warns once, and recovers', async () => {
  const g = await startServer('prlimit', ['--nofile=64', tollgateBin, 'serve', '--config', cfgPath, '--port', '0',
    '--host', '127.0.0.1', '--poll-interval', '0', '--threads', '1', '--max-conns', '1000']);
  const pid = g.proc.pid; // prlimit execs tollgate: same process
  const conns = [];
  try {
    assert.match(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /tollgate/);
    for (let i = 0; i < 100; i++) conns.push(await dial(g.port)); // more than 64: the rest wait in the backlog
    await waitFor(() => g.output().includes('cannot accept connections'), { what: 'the descriptor-limit warning' });
    // A bounded measuring window: the old loop burned a whole core here.
    const t0 = cpuTicks(pid), w0 = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    const ticks = cpuTicks(pid) - t0, hz = 100, wall = (Date.now() - w0) / 1000;
    assert.ok(ticks < 0.2 * hz * wall, `CPU ${ticks} ticks in ${wall} s at the descriptor limit`);
    for (const st of conns) st.s.destroy();
    await waitFor(async () => (await fetch(`${g.url}/health/liveliness`).catch(() => ({ status: 0 }))).status === 200,
      { timeoutMs: 10000, what: 'a new client served after the descriptors are freed' });
    assert.equal(g.output().split('cannot accept connections').length - 1, 1, 'warned once');
  } finally {
    for (const st of conns) st.s.destroy();
    await g.stop();
  }
});

test('M5 a second instance on the same port fails to start with "Address already in use"', async () => {
  const p = spawn(tollgateBin, ['serve', '--config', cfgPath, '--port', String(gw.port), '--host', '127.0.0.1',
    '--poll-interval', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  const timer = setTimeout(() => p.kill('SIGKILL'), 10000);
  const code = await new Promise((r) => p.on('exit', (c) => r(c)));
  clearTimeout(timer);
  assert.equal(code, 1, out);
  assert.match(out, /cannot listen on 127\.0\.0\.1:\d+: Address already in use/);
  assert.doesNotMatch(out, /listening on/);
  // The first instance still answers every request.
  const r = await fetch(`${gw.url}/v1/models`);
  assert.equal(r.status, 401);
});

test('413 for an oversized chunk is sent at once and reaches the client (lingering close, no reset)', async () => {
  const st = await dial(gw.port);
  await write(st, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n` +
    'Transfer-Encoding: chunked\r\n\r\nfffffffffffff\r\n');
  // The client goes on sending as if nothing happened; it must still read the 413.
  const junk = Buffer.alloc(256 << 10, 'y');
  for (let i = 0; i < 8 && !st.ended; i++) await write(st, junk);
  await waitFor(() => st.ended, { what: 'close after 413' });
  assert.match(st.data, /^HTTP\/1\.1 413 Content Too Large\r\n/);
  assert.equal(st.error?.code === 'ECONNRESET' && !st.data, false);
  st.s.destroy();
  // Content-Length over the limit likewise, with body bytes already sent.
  const st2 = await dial(gw.port);
  await write(st2, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n` +
    `Content-Length: ${64 << 20}\r\n\r\n`);
  for (let i = 0; i < 8 && !st2.ended; i++) await write(st2, junk);
  await waitFor(() => st2.ended, { what: 'close after 413' });
  assert.match(st2.data, /^HTTP\/1\.1 413 /);
  st2.s.destroy();
});

test('a client half-close after a complete request still gets its answer (not a disconnect)', async () => {
  const before = sum(await scrape(`${gw.url}/metrics`), 'tollgate_client_disconnects_total') || 0;
  const st = await dial(gw.port);
  st.s.end(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${chatBody.length}\r\n\r\n${chatBody}`); // then FIN
  await waitFor(() => st.ended, { what: 'the answer and close' });
  assert.match(st.data, /^HTTP\/1\.1 200 OK\r\n/);
  const body = JSON.parse(st.data.slice(st.data.indexOf('\r\n\r\n') + 4));
  assert.equal(body.object, 'chat.completion');
  assert.equal(sum(await scrape(`${gw.url}/metrics`), 'tollgate_client_disconnects_total') || 0, before);
});

test('simulator: a 100,000-input embedding is refused at once, the loop stays free, SIGTERM stops it promptly', async () => {
  const s = await startTollgate(['sim', '--port', '0', '--threads', '1', '--quiet']);
  try {
    const input = Array.from({ length: 100000 }, (_, i) => `t${i}`);
    const t0 = Date.now();
    const r = await fetch(`${s.url}/api/embed`, { method: 'POST', body: JSON.stringify({ model: 'nomic-embed-text', input }) });
    assert.equal(r.status, 400);
    assert.match((await r.json()).error, /too many inputs: 100000/);
    assert.ok(Date.now() - t0 < 5000, `refused after ${Date.now() - t0} ms`);
    // At the limit it still answers, and the same single loop serves others next.
    const ok = await fetch(`${s.url}/api/embed`, { method: 'POST', body: JSON.stringify({ model: 'nomic-embed-text', input: input.slice(0, 4096) }) });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).embeddings.length, 4096);
    assert.equal((await fetch(`${s.url}/api/version`)).status, 200);
  } finally {
    const t1 = Date.now();
    await s.stop('SIGTERM');
    assert.ok(Date.now() - t1 < 3000, `SIGTERM took ${Date.now() - t1} ms`);
  }
});
