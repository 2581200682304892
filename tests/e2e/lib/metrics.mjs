// Reading Prometheus text exposition in tests: parse once, then sum
// samples by name and label filter.
export function parseExposition(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    const labels = {};
    if (m[3]) {
      for (const lm of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2];
    }
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return samples;
}

export function sum(samples, name, filter = {}) {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(filter).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}

export function find(samples, name, filter = {}) {
  return samples.filter((s) => s.name === name && Object.entries(filter).every(([k, v]) => s.labels[k] === v));
}

export async function scrape(url) {
  const r = await fetch(url);
  if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status}`);
  return parseExposition(await r.text());
}

// Polls fn() until it returns a truthy value or the deadline passes: a
// bounded wait for a condition, never a fixed sleep.
export async function waitFor(fn, { timeoutMs = 5000, intervalMs = 20, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
