// Lists every PromQL expression in the provisioned Grafana dashboards
// (docker-compose/grafana/dashboards/*.json) so tests can run them against a
// real Prometheus. Grafana's variables are expanded to values Prometheus
// accepts: $__rate_interval/$__interval/$__range to durations, template
// variables ($model, ${gpu}) to ".*" unless given.
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './proc.mjs';

export const dashboardsDir = path.join(repoRoot, 'docker-compose/grafana/dashboards');

export function loadDashboards(dir = dashboardsDir) {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => ({ file: f, json: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) }));
}

// Panels, including those nested in collapsed rows.
export function panelsOf(dash) {
  const out = [];
  const walk = (ps) => { for (const p of ps || []) { out.push(p); walk(p.panels); } };
  walk(dash.panels);
  return out;
}

export function expandExpr(expr, { rateInterval = '1m', interval = '15s', range = '1h', vars = {} } = {}) {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__interval', interval)
    .replaceAll('$__range', range)
    .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (_, a, b) => vars[a || b] ?? '.*');
}

// [{file, dashboard, panelId, panel, refId, expr, raw, instant}]
export function listPanelExprs(opts = {}, dir = dashboardsDir) {
  const out = [];
  for (const { file, json } of loadDashboards(dir)) {
    for (const p of panelsOf(json)) {
      for (const t of p.targets || []) {
        if (!t.expr) continue;
        out.push({ file, dashboard: json.uid, panelId: p.id, panel: p.title, refId: t.refId,
          raw: t.expr, expr: expandExpr(t.expr, opts), instant: !!t.instant });
      }
    }
  }
  return out;
}
