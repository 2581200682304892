// tollgate serve without a config: it serves every model Ollama lists, and
// follows Ollama when that list changes (a new generation on the same port).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startTollgate } from './lib/proc.mjs';
import { waitFor } from './lib/metrics.mjs';

const simArgs = (port, models) => ['sim', '--port', String(port), '--ttft-ms', '0', '--token-ms', '0', '--load-ms', '0', '--quiet', '--models', models];

test('no config: Ollama models served by name, and a changed list is picked up', async () => {
  let sim = await startTollgate(simArgs(0, 'alpha:1b,beta:2b'));
  const simPort = sim.port;
  const gw = await startTollgate(['serve', '--port', '0', '--host', '127.0.0.1', '--poll-interval', '1'], {
    env: { OLLAMA_HOST: `127.0.0.1:${simPort}` },
  });
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 2, timeout: 5000 });
    const ids = async () => (await client.models.list()).data.map((m) => m.id).sort();
    // maxRetries: a keep-alive request racing the old generation's close is
    // retried, as clients do; the reload itself loses nothing in flight.
    assert.deepEqual(await ids(), ['alpha:1b', 'beta:2b']);
    const r = await client.chat.completions.create({ model: 'beta:2b', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
    assert.equal(r.model, 'beta:2b');

    // Ollama now has another set of models (same address).
    await sim.stop();
    sim = await startTollgate(simArgs(simPort, 'gamma:3b'));
    await waitFor(async () => JSON.stringify(await ids()) === JSON.stringify(['gamma:3b']), {
      timeoutMs: 10000, what: 'the gateway to serve the new model list',
    });
    const r2 = await client.chat.completions.create({ model: 'gamma:3b', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
    assert.equal(r2.usage.completion_tokens, 3);
    await assert.rejects(client.chat.completions.create({ model: 'alpha:1b', messages: [{ role: 'user', content: 'x' }] }), (e) => e.status === 400);
    assert.match(gw.output(), /Ollama's model list changed: now serving 1 models/);
  } finally {
    assert.equal(await gw.stop(), 0);
    await sim.stop();
  }
});
