// Concurrent-stream load for tollgate sim: opens N streaming /api/chat
// requests at once over raw sockets (127.0.0.1 only), reads each to its
// final chunk, and reports how many completed with every token.
// Usage: node bench/sim_streams.mjs PORT N TOKENS [TIMEOUT_S]
import net from 'node:net';

const [port, n, tokens, timeoutS = 60] = process.argv.slice(2).map(Number);
const body = JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'stream please' }], stream: true, options: { num_predict: tokens } });
const req = `POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;

let done = 0, complete = 0, failed = 0, maxOpen = 0, open = 0;
const t0 = process.hrtime.bigint();
const timer = setTimeout(() => finish('timeout'), timeoutS * 1000);

function finish(why) {
  clearTimeout(timer);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ why, streams: n, tokens, complete, failed, max_open: maxOpen, seconds: +s.toFixed(3) }));
  process.exit(complete === n ? 0 : 1);
}

for (let i = 0; i < n; i++) {
  const sock = net.connect({ port, host: '127.0.0.1' });
  let buf = '';
  open++;
  maxOpen = Math.max(maxOpen, open);
  sock.setEncoding('utf8');
  sock.on('connect', () => sock.write(req));
  sock.on('data', (d) => { buf += d; });
  sock.on('error', () => {});
  sock.on('close', () => {
    open--;
    const lines = buf.split('\n').filter((l) => l.startsWith('{'));
    const ok = lines.length === tokens + 1 && lines.at(-1).includes('"done":true');
    if (ok) complete++; else failed++;
    if (++done === n) finish('done');
  });
}
