/* tollgate top: the frame. Numbers are formatted here only, so that
 * docs/top.md and tests/e2e/top.test.mjs have one place to agree with. */
#include "top/render.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

/* A rate over the interval, or "-" without an earlier reading (or after a
 * counter reset). */
static void rate(char *out, size_t n, double cur, double prev, double dt, int have_prev)
{
    if (!have_prev || dt <= 0 || cur < prev)
        snprintf(out, n, "-");
    else
        snprintf(out, n, "%.2f", (cur - prev) / dt);
}

/* p-quantile in seconds over the interval; "*" marks one over all
 * observations since the gateway started (no request ended in the
 * interval); "-" when there are none at all. */
static void quant(char *out, size_t n, double q, const top_hist *cur, const top_hist *prev)
{
    int since_start = !prev || top_hist_count(cur, prev) <= 0;
    double v = top_hist_quantile(q, cur, since_start ? NULL : prev);
    if (isnan(v))
        snprintf(out, n, "-");
    else
        snprintf(out, n, "%.3f%s", v, since_start ? "*" : "");
}

/* v with `decimals` decimals, or "-" when not reported. */
static void num(char *out, size_t n, double v, int decimals)
{
    if (isnan(v))
        snprintf(out, n, "-");
    else
        snprintf(out, n, "%.*f", decimals, v);
}

static void models(buf *o, const top_snap *cur, const top_snap *prev)
{
    double dt = prev ? cur->t - prev->t : 0;
    buf_printf(o, "%-24s %8s %9s %9s %9s %9s %9s %9s %8s %6s %5s\n", "MODEL", "REQ/S", "TOK/S IN", "TOK/S OUT",
               "TTFT p50", "TTFT p99", "LAT p50", "LAT p99", "REQS", "ERRS", "INFL");
    if (cur->nmodels == 0)
        buf_puts(o, "(no models yet: the gateway has served no request and has no deployment)\n");
    for (int i = 0; i < cur->nmodels; i++) {
        const top_model *m = &cur->models[i];
        const top_model *p = top_snap_model(prev, m->name);
        char rq[24], ti[24], to[24], t50[24], t99[24], l50[24], l99[24];
        rate(rq, sizeof rq, m->requests, p ? p->requests : 0, dt, prev != NULL);
        rate(ti, sizeof ti, m->tokens_in, p ? p->tokens_in : 0, dt, prev != NULL);
        rate(to, sizeof to, m->tokens_out, p ? p->tokens_out : 0, dt, prev != NULL);
        quant(t50, sizeof t50, 0.5, &m->ttft, p ? &p->ttft : NULL);
        quant(t99, sizeof t99, 0.99, &m->ttft, p ? &p->ttft : NULL);
        quant(l50, sizeof l50, 0.5, &m->latency, p ? &p->latency : NULL);
        quant(l99, sizeof l99, 0.99, &m->latency, p ? &p->latency : NULL);
        buf_printf(o, "%-24.24s %8s %9s %9s %9s %9s %9s %9s %8.0f %6.0f %5.0f\n", m->name, rq, ti, to, t50, t99, l50,
                   l99, m->requests, m->failures, m->in_flight);
    }
    buf_puts(o, "seconds; p50/p99 over the last interval, * = since the gateway started (no request ended in it)\n");
}

static void loaded(buf *o, const top_snap *cur)
{
    buf_puts(o, "\n");
    if (isnan(cur->ollama_up)) {
        buf_puts(o, "OLLAMA  (no tollgate_ollama_* metrics: the gateway has no Ollama deployment)\n");
        return;
    }
    buf_printf(o, "OLLAMA  %s, %d model%s loaded\n", cur->ollama_up > 0 ? "up" : "DOWN (its /api/ps does not answer)",
               cur->nloaded, cur->nloaded == 1 ? "" : "s");
    if (cur->nloaded == 0)
        return;
    buf_printf(o, "%-24s %-28s %9s %9s %10s\n", "LOADED MODEL", "API BASE", "SIZE GiB", "VRAM GiB", "EXPIRES IN");
    time_t now = time(NULL);
    for (int i = 0; i < cur->nloaded; i++) {
        const top_loaded *l = &cur->loaded[i];
        char exp[32];
        double left = l->expires_at - (double)now;
        if (l->expires_at <= 0)
            snprintf(exp, sizeof exp, "-");
        else if (left > 86400 * 365)
            snprintf(exp, sizeof exp, "never");
        else if (left < 0)
            snprintf(exp, sizeof exp, "now");
        else
            snprintf(exp, sizeof exp, "%dm%02ds", (int)left / 60, (int)left % 60);
        buf_printf(o, "%-24.24s %-28.28s %9.2f %9.2f %10s\n", l->model, l->api_base, l->size / 1073741824.0,
                   l->vram / 1073741824.0, exp);
    }
}

static void gpus(buf *o, const top_snap *cur, const top_view *v)
{
    buf_puts(o, "\n");
    if (!cur->gpu_ok) {
        buf_printf(o, "GPU  exporter %s: %s\n", v->gpu_url, cur->gpu_err);
        return;
    }
    if (cur->nvml_up == 0 || cur->ngpus == 0) {
        buf_puts(o, "GPU  no NVIDIA GPU/driver found: GPU metrics are off (docs/gpu.md, \"No GPU\")\n");
        return;
    }
    buf_printf(o, "%-4s %-28s %6s %18s %7s %9s\n", "GPU", "NAME", "UTIL%", "MEM USED/TOTAL MiB", "TEMP C", "POWER W");
    for (int i = 0; i < cur->ngpus; i++) {
        const top_gpu *g = &cur->gpus[i];
        char u[16], m[40], t[16], p[16];
        num(u, sizeof u, g->util, 0);
        if (isnan(g->fb_used) || isnan(g->fb_free))
            snprintf(m, sizeof m, "-");
        else
            snprintf(m, sizeof m, "%.0f/%.0f", g->fb_used, g->fb_used + g->fb_free);
        num(t, sizeof t, g->temp, 0);
        num(p, sizeof p, g->power, 1);
        buf_printf(o, "%-4.4s %-28.28s %6s %18s %7s %9s\n", g->id, g->name, u, m, t, p);
    }
}

void top_render(buf *o, const top_view *v, const top_snap *cur, const top_snap *prev)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    buf_printf(o, "tollgate top  %02d:%02d:%02d  every %gs  gateway %s  gpu %s%s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
               v->interval, v->gateway_url, v->gpu_url, v->interactive ? "  (q: quit)" : "");
    buf_puts(o, "\n");
    if (!cur->gateway_ok) {
        buf_printf(o, "gateway %s: %s\n", v->gateway_url, cur->gateway_err);
    } else {
        models(o, cur, prev);
        loaded(o, cur);
    }
    gpus(o, cur, v);
}
