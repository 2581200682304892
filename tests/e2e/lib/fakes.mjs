// Small stand-ins that speak the HTTP surface 'tollgate check' probes, for
// testing check's own logic independently of the real gateway, exporter and
// simulator (which have their own tests). Each listens on a kernel-chosen
// port on loopback and can be stopped to simulate an outage.
import http from 'node:http';

async function listen(handler) {
  const srv = http.createServer(handler);
  const sockets = new Set();
  srv.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  return {
    port, host: `127.0.0.1:${port}`, url: `http://127.0.0.1:${port}`,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => srv.close(r));
    },
  };
}

function readBody(req) {
  return new Promise((resolve) => {
    let b = '';
    req.on('data', (d) => { b += d; });
    req.on('end', () => resolve(b));
  });
}

// Ollama's GET / and GET /api/tags.
export function fakeOllama({ models = ['tinyllama:latest'] } = {}) {
  return listen((req, res) => {
    if (req.url === '/' || req.url === '') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      return res.end('Ollama is running');
    }
    if (req.url === '/api/tags') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ models: models.map((name) => ({ name, model: name, size: 1 })) }));
    }
    res.writeHead(404).end('404 page not found');
  });
}

// A gateway with LiteLLM's routes and counters that move with traffic.
// native: it also serves Ollama's /api/chat as Tollgate does (counted with
// route="/api/chat"); false answers it with LiteLLM's 404.
export function fakeGateway({ models = ['tinyllama'], masterKey = null, native = true } = {}) {
  const c = { input: 0, output: 0, requests: 0, latCount: 0, latSum: 0, ttftCount: 0, ttftSum: 0, native: 0 };
  const labels = (m) => `end_user="None",hashed_api_key="None",api_key_alias="None",model="${m}",requested_model="${m}",team="None",team_alias="None",user="None",user_email="None"`;
  let lastModel = models[0];
  const metrics = () => {
    const m = lastModel;
    return [
      '# TYPE litellm_proxy_total_requests_metric_total counter',
      `litellm_proxy_total_requests_metric_total{requested_model="${m}",status_code="200"} ${c.requests}.0`,
      `litellm_proxy_total_requests_metric_total{requested_model="${m}",status_code="200",route="/api/chat"} ${c.native}.0`,
      '# TYPE litellm_input_tokens_metric_total counter',
      `litellm_input_tokens_metric_total{${labels(m)}} ${c.input}.0`,
      '# TYPE litellm_output_tokens_metric_total counter',
      `litellm_output_tokens_metric_total{${labels(m)}} ${c.output}.0`,
      '# TYPE litellm_request_total_latency_metric histogram',
      `litellm_request_total_latency_metric_bucket{model="${m}",requested_model="${m}",le="1.0"} ${c.latCount}.0`,
      `litellm_request_total_latency_metric_bucket{model="${m}",requested_model="${m}",le="+Inf"} ${c.latCount}.0`,
      `litellm_request_total_latency_metric_sum{model="${m}",requested_model="${m}"} ${c.latSum}`,
      `litellm_request_total_latency_metric_count{model="${m}",requested_model="${m}"} ${c.latCount}.0`,
      '# TYPE litellm_llm_api_time_to_first_token_metric histogram',
      `litellm_llm_api_time_to_first_token_metric_bucket{model="${m}",le="0.5"} ${c.ttftCount}.0`,
      `litellm_llm_api_time_to_first_token_metric_bucket{model="${m}",le="+Inf"} ${c.ttftCount}.0`,
      `litellm_llm_api_time_to_first_token_metric_sum{model="${m}"} ${c.ttftSum}`,
      `litellm_llm_api_time_to_first_token_metric_count{model="${m}"} ${c.ttftCount}.0`,
      'tollgate_ollama_up{api_base="http://127.0.0.1:11434"} 1',
      '',
    ].join('\n');
  };
  return listen(async (req, res) => {
    const body = await readBody(req);
    const path = req.url.replace(/\/$/, '') || '/';
    if (path === '/health/liveliness') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('"I\'m alive!"');
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      return res.end(metrics());
    }
    if (masterKey && req.headers.authorization !== `Bearer ${masterKey}`) {
      res.writeHead(401, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: { message: 'Authentication Error, No api key passed in.', type: 'auth_error', param: 'None', code: '401' } }));
    }
    if (path === '/v1/models' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ object: 'list', data: models.map((id) => ({ id, object: 'model', created: 1677610602, owned_by: 'openai' })) }));
    }
    if (path === '/v1/chat/completions' && req.method === 'POST') {
      const r = JSON.parse(body);
      if (!models.includes(r.model)) {
        res.writeHead(400, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: `Invalid model name passed in model=${r.model}`, type: 'None', param: 'None', code: '400' } }));
      }
      lastModel = r.model;
      c.input += 12; c.output += 8; c.requests++; c.latCount++; c.latSum += 0.25;
      if (r.stream) {
        c.ttftCount++; c.ttftSum += 0.05;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const w of ['Hello', '!', ' Hi']) {
          res.write(`data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: w } }] })}\n\n`);
        }
        res.write(`data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
        return res.end('data: [DONE]\n\n');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', model: r.model,
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 } }));
    }
    if (native && path === '/api/chat' && req.method === 'POST') {
      const r = JSON.parse(body);
      c.native++;
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      return res.end(JSON.stringify({ model: r.model, created_at: '2026-01-01T00:00:00Z', message: { role: 'assistant', content: 'Hello!' },
        done: true, done_reason: 'stop', prompt_eval_count: 12, eval_count: 8 }));
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
  });
}

// A GPU exporter: dcgm-exporter lines for `gpus` GPUs, or, with gpus = 0,
// what tollgate gpu serves on a host without NVML.
export function fakeGpuExporter({ gpus = 1 } = {}) {
  return listen((req, res) => {
    if (req.url !== '/metrics') { res.writeHead(404).end(); return; }
    const id = (g) => `gpu="${g}",UUID="GPU-0000000${g}",pci_bus_id="00000000:0${g}:00.0",device="nvidia${g}",modelName="NVIDIA Fake",Hostname="test"`;
    const lines = [];
    if (gpus > 0) {
      lines.push('# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).', '# TYPE DCGM_FI_DEV_GPU_UTIL gauge');
      for (let g = 0; g < gpus; g++) lines.push(`DCGM_FI_DEV_GPU_UTIL{${id(g)}} 45`);
      lines.push('# HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).', '# TYPE DCGM_FI_DEV_FB_USED gauge');
      for (let g = 0; g < gpus; g++) lines.push(`DCGM_FI_DEV_FB_USED{${id(g)}} 8192`);
      lines.push('# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).', '# TYPE DCGM_FI_DEV_GPU_TEMP gauge');
      for (let g = 0; g < gpus; g++) lines.push(`DCGM_FI_DEV_GPU_TEMP{${id(g)}} 62`);
    }
    lines.push('# TYPE tollgate_gpu_nvml_up gauge', `tollgate_gpu_nvml_up ${gpus > 0 ? 1 : 0}`, '');
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(lines.join('\n'));
  });
}
