// Starting and stopping the real tollgate binary (and other servers) for
// end-to-end tests. Readiness comes from the process itself: every tollgate
// server logs "listening on http://HOST:PORT" once its sockets are bound, so
// tests wait for that line, never for a fixed time.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
export const tollgateBin = process.env.TOLLGATE_BIN || path.join(repoRoot, 'build/tollgate');

const LISTEN_RE = /listening on http:\/\/(\[[^\]]+\]|[^\s:/]+):(\d+)/;

// Spawns `tollgate <args...>` and resolves once it logs its listen line.
// Returns { proc, port, url, output(), stop() }. Pass --port 0 to get a free
// port from the kernel; the real one is read back from the log line.
export async function startTollgate(args, { env = {}, timeoutMs = 15000 } = {}) {
  return startServer(tollgateBin, args, { env, timeoutMs });
}

export async function startServer(bin, args, { env = {}, timeoutMs = 15000, readyRe = LISTEN_RE } = {}) {
  const proc = spawn(bin, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const onData = (d) => { out += d.toString(); };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const exited = once(proc, 'exit');
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${bin} ${args.join(' ')}: not ready after ${timeoutMs} ms\n${out}`)), timeoutMs);
    const check = () => {
      const m = out.match(readyRe);
      if (m) { clearTimeout(timer); resolve(m); }
    };
    proc.stdout.on('data', check);
    proc.stderr.on('data', check);
    exited.then(([code]) => { clearTimeout(timer); reject(new Error(`${bin} exited with ${code} before ready:\n${out}`)); });
  });
  const m = await ready;
  const host = m[1] === '0.0.0.0' ? '127.0.0.1' : m[1];
  const port = Number(m[2]);
  return {
    proc,
    port,
    url: `http://${host}:${port}`,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const [code] = await exited;
      return code;
    },
  };
}
