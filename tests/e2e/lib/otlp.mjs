// An OTLP/HTTP receiver for end-to-end tests: listens on a kernel-chosen
// loopback port, decodes /v1/traces and /v1/metrics bodies (protobuf or
// JSON) with OpenTelemetry's own generated protobuf code (the static
// protobufjs root shipped in @opentelemetry/otlp-transformer), and keeps
// flattened spans and metric points for assertions. A JSON body must also
// survive a round trip through that code with no key lost, so a misspelt
// camelCase key fails the test instead of being ignored.
import http from 'node:http';
import { once } from 'node:events';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const P = root.opentelemetry.proto;
export const TraceRequest = P.collector.trace.v1.ExportTraceServiceRequest;
export const MetricsRequest = P.collector.metrics.v1.ExportMetricsServiceRequest;

const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);
const TO_OBJECT = { longs: String, enums: Number, bytes: String, defaults: false, arrays: true };

// OTLP JSON carries ids as hex; protobufjs' fromObject wants base64.
function idsTo(obj, from, to) {
  if (Array.isArray(obj)) return obj.map((v) => idsTo(v, from, to));
  if (obj && typeof obj === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(obj)) {
      out[k] = ID_KEYS.has(k) && typeof v === 'string' ? Buffer.from(v, from).toString(to) : idsTo(v, from, to);
    }
    return out;
  }
  return obj;
}

// Every key path of a must exist in b (b: what the generated code kept).
function missingKeys(a, b, path = '') {
  if (Array.isArray(a)) return a.flatMap((v, i) => missingKeys(v, b?.[i], `${path}[${i}]`));
  if (!a || typeof a !== 'object') return [];
  return Object.entries(a).flatMap(([k, v]) => {
    if (!b || !(k in b)) return [`${path}.${k}`];
    return missingKeys(v, b[k], `${path}.${k}`);
  });
}

// Decodes one request body into the OTLP JSON shape (ids in hex, 64-bit
// integers as strings). Throws on anything the generated code rejects.
export function decode(type, contentType, body) {
  if (contentType.startsWith('application/x-protobuf')) {
    const msg = type.decode(body);
    return idsTo(type.toObject(msg, TO_OBJECT), 'base64', 'hex');
  }
  if (contentType.startsWith('application/json')) {
    const json = JSON.parse(body.toString('utf8'));
    const err = type.verify(idsTo(json, 'hex', 'base64'));
    const msg = type.fromObject(idsTo(json, 'hex', 'base64'));
    const back = idsTo(type.toObject(msg, TO_OBJECT), 'base64', 'hex');
    // verify() rejects int64 strings the mapping allows, so only report
    // what fromObject itself dropped.
    void err;
    const lost = missingKeys(json, back);
    if (lost.length) throw new Error(`JSON keys the OTLP schema does not know: ${lost.join(', ')}`);
    return back;
  }
  throw new Error(`unexpected content-type ${contentType}`);
}

export function anyValue(v) {
  if (!v) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('boolValue' in v) return v.boolValue;
  if ('arrayValue' in v) return (v.arrayValue.values || []).map(anyValue);
  return undefined;
}

export function attrs(list = []) {
  return Object.fromEntries(list.map((kv) => [kv.key, anyValue(kv.value)]));
}

function flattenSpans(req) {
  const out = [];
  for (const rs of req.resourceSpans || []) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans || []) {
      for (const s of ss.spans || []) {
        out.push({
          resource, scope: ss.scope?.name, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || '',
          traceState: s.traceState || '', name: s.name, kind: s.kind, flags: s.flags || 0,
          start: BigInt(s.startTimeUnixNano), end: BigInt(s.endTimeUnixNano),
          status: s.status?.code || 0, attrs: attrs(s.attributes),
        });
      }
    }
  }
  return out;
}

function flattenMetrics(req) {
  const out = [];
  for (const rm of req.resourceMetrics || []) {
    const resource = attrs(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics || []) {
      for (const m of sm.metrics || []) {
        const h = m.histogram || {};
        out.push({
          resource, name: m.name, unit: m.unit, temporality: h.aggregationTemporality,
          points: (h.dataPoints || []).map((p) => ({
            attrs: attrs(p.attributes), count: Number(p.count), sum: p.sum, min: p.min, max: p.max,
            bucketCounts: (p.bucketCounts || []).map(Number), explicitBounds: p.explicitBounds || [],
            start: BigInt(p.startTimeUnixNano), time: BigInt(p.timeUnixNano),
          })),
        });
      }
    }
  }
  return out;
}

// startOtlpReceiver() -> { url, requests, spans, metrics(), respondWith(), close() }
// respondWith(path, [{ status, retryAfter }...]): answers for the next POSTs
// to that path, in order; afterwards 200.
export async function startOtlpReceiver() {
  const requests = [];
  const spans = [];
  const metricBatches = [];
  const plans = new Map();
  const waiters = [];
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const plan = plans.get(req.url) || [];
    const answer = plan.shift() || { status: 200 };
    const entry = { method: req.method, path: req.url, headers: req.headers, body, status: answer.status };
    requests.push(entry);
    try {
      const ct = req.headers['content-type'] || '';
      if (answer.status === 200 && req.url === '/v1/traces') spans.push(...flattenSpans(decode(TraceRequest, ct, body)));
      else if (answer.status === 200 && req.url === '/v1/metrics') metricBatches.push(flattenMetrics(decode(MetricsRequest, ct, body)));
      else if (answer.status === 200) answer.status = 404;
    } catch (e) {
      entry.error = e;
      answer.status = 400;
    }
    const headers = { 'content-type': req.headers['content-type'] || 'application/x-protobuf' };
    if (answer.retryAfter !== undefined) headers['retry-after'] = String(answer.retryAfter);
    res.writeHead(answer.status, headers);
    res.end();
    for (const w of waiters.splice(0)) w();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    spans,
    // The latest (cumulative) value of each metric.
    metrics() {
      const last = new Map();
      for (const batch of metricBatches) for (const m of batch) last.set(m.name, m);
      return last;
    },
    errors: () => requests.filter((r) => r.error).map((r) => r.error),
    respondWith(path, answers) { plans.set(path, [...answers]); },
    // Resolves on the next request (for callers that poll a condition).
    nextRequest: () => new Promise((resolve) => waiters.push(resolve)),
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}
