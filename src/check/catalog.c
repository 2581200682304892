#include "check/catalog.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define UNREACH_GW "the gateway is unreachable"
#define NO_TRAFFIC "no traffic reached the gateway"
#define NO_STREAM "no stream reached the gateway"
#define NO_PROM "Prometheus is unreachable"
#define NOT_SCRAPED_GW "Prometheus does not scrape the gateway"
#define NOT_SCRAPED_GPU "Prometheus does not scrape the GPU exporter"

#define PLAIN(id, comp, title, n1, r1, n2, r2) {id, comp, title, {{n1, r1}, {n2, r2}}, NULL, false, false, false, 0}
#define QUERY(q, n1, r1, n2, r2, rec, traffic, gpu, want)                                                          \
    {"prometheus.query." q, COMP_PROMETHEUS, "PromQL " q, {{n1, r1}, {n2, r2}}, q, rec, traffic, gpu, want}

/* The dependency graph. Edges point backwards only: every needed check comes
 * earlier in the table, which is the run order. */
static const check_def defs[] = {
    PLAIN("ollama.running", COMP_OLLAMA, "Ollama answers GET /", NULL, NULL, NULL, NULL),
    PLAIN("ollama.models", COMP_OLLAMA, "Ollama lists models (/api/tags)", "ollama.running", "Ollama is unreachable",
          NULL, NULL),
    PLAIN("gateway.liveliness", COMP_GATEWAY, "gateway is alive (/health/liveliness)", NULL, NULL, NULL, NULL),
    PLAIN("gateway.models", COMP_GATEWAY, "gateway lists models (/v1/models)", "gateway.liveliness", UNREACH_GW, NULL,
          NULL),
    PLAIN("gateway.metrics", COMP_GATEWAY, "gateway serves /metrics", "gateway.liveliness", UNREACH_GW, NULL, NULL),
    PLAIN("gateway.chat", COMP_GATEWAY, "chat completion through the gateway (max_tokens 20)", "gateway.models",
          "no model to ask", NULL, NULL),
    PLAIN("gateway.stream", COMP_GATEWAY, "streaming chat completion through the gateway", "gateway.models",
          "no model to ask", NULL, NULL),
    PLAIN("gateway.counters", COMP_GATEWAY, "token counters moved in /metrics", "gateway.chat", NO_TRAFFIC,
          "gateway.metrics", "no /metrics page to compare with"),
    PLAIN("gateway.ttft", COMP_GATEWAY, "time to first token observed for the stream", "gateway.stream", NO_STREAM,
          "gateway.metrics", "no /metrics page to compare with"),
    PLAIN("gpu.metrics", COMP_GPU, "GPU exporter serves DCGM_FI_DEV_GPU_UTIL (/metrics)", NULL, NULL, NULL, NULL),
    PLAIN("prometheus.ready", COMP_PROMETHEUS, "Prometheus is ready (/-/ready)", NULL, NULL, NULL, NULL),
    PLAIN("prometheus.target.litellm", COMP_PROMETHEUS, "target job=\"litellm\" is UP with a recent scrape",
          "prometheus.ready", NO_PROM, NULL, NULL),
    PLAIN("prometheus.target.dcgm", COMP_PROMETHEUS, "target job=\"dcgm\" is UP with a recent scrape",
          "prometheus.ready", NO_PROM, NULL, NULL),
    QUERY("up{job=\"litellm\"}", "prometheus.target.litellm", NOT_SCRAPED_GW, NULL, NULL, false, false, false, 1),
    QUERY("up{job=\"dcgm\"}", "prometheus.target.dcgm", NOT_SCRAPED_GPU, NULL, NULL, false, false, true, 1),
    QUERY("litellm_input_tokens_total", "gateway.chat", NO_TRAFFIC, "prometheus.target.litellm", NOT_SCRAPED_GW, true,
          true, false, NAN),
    QUERY("litellm_output_tokens_total", "gateway.chat", NO_TRAFFIC, "prometheus.target.litellm", NOT_SCRAPED_GW,
          true, true, false, NAN),
    QUERY("litellm_request_total_latency_seconds_count", "gateway.chat", NO_TRAFFIC, "prometheus.target.litellm",
          NOT_SCRAPED_GW, true, true, false, NAN),
    QUERY("litellm_time_to_first_token_seconds_bucket", "gateway.stream", NO_STREAM, "prometheus.target.litellm",
          NOT_SCRAPED_GW, true, true, false, NAN),
    QUERY("DCGM_FI_DEV_GPU_UTIL", "prometheus.target.dcgm", NOT_SCRAPED_GPU, NULL, NULL, false, false, true, NAN),
    QUERY("DCGM_FI_DEV_FB_USED", "prometheus.target.dcgm", NOT_SCRAPED_GPU, NULL, NULL, false, false, true, NAN),
    QUERY("DCGM_FI_DEV_GPU_TEMP", "prometheus.target.dcgm", NOT_SCRAPED_GPU, NULL, NULL, false, false, true, NAN),
};

const check_def *catalog_all(size_t *n)
{
    *n = sizeof defs / sizeof defs[0];
    return defs;
}

const check_def *catalog_find(const char *id)
{
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
        if (!strcmp(defs[i].id, id))
            return &defs[i];
    return NULL;
}

/* The latest result for id in r (a check is reported once, but be safe). */
static const check_item *result(const check_report *r, const char *id)
{
    for (size_t i = r->n; i-- > 0;)
        if (!strcmp(r->items[i].id, id))
            return &r->items[i];
    return NULL;
}

bool catalog_blocked(const check_report *r, const char *id, char *why, size_t n)
{
    const check_def *d = catalog_find(id);
    if (!d)
        return false;
    for (size_t k = 0; k < sizeof d->needs / sizeof d->needs[0]; k++) {
        const check_need *nd = &d->needs[k];
        const check_item *it = nd->id ? result(r, nd->id) : NULL;
        if (!it)
            continue;
        if (it->status == CHECK_FAIL) {
            snprintf(why, n, "%s (see: %s)", nd->reason, nd->id);
            return true;
        }
        if (it->status == CHECK_SKIP) {
            snprintf(why, n, "%s", it->detail);
            return true;
        }
    }
    return false;
}
