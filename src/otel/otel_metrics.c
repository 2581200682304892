/* GenAI metrics computed by the exporter thread from the spans it drains:
 * cumulative explicit-bucket histograms keyed by the conventions'
 * attributes (semantic-conventions-genai, gen-ai-metrics.md). The gateway
 * is the server its clients talk to, so durations are the server set
 * (request duration, TTFT, TPOT); token counts use gen_ai.client.token.usage,
 * the only token metric the conventions define (docs/otel.md says why). */
#include <stdlib.h>
#include <string.h>

#include "otel/otel_int.h"

static const double dur_bounds[] = {0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96,
                                    81.92};
static const double ttft_bounds[] = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
                                     7.5, 10.0};
static const double tpot_bounds[] = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5};
static const double token_bounds[] = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
                                      16777216, 67108864};

#define NB(a) ((int)(sizeof(a) / sizeof((a)[0])))
static const otel_instr_info instruments[OTEL_M_COUNT] = {
    [OTEL_M_DURATION] = {"gen_ai.server.request.duration", "s", "Generative AI server request duration",
                         dur_bounds, NB(dur_bounds)},
    [OTEL_M_TTFT] = {"gen_ai.server.time_to_first_token", "s", "Time to generate first token for successful responses",
                     ttft_bounds, NB(ttft_bounds)},
    [OTEL_M_TPOT] = {"gen_ai.server.time_per_output_token", "s",
                     "Time per output token generated after the first token for successful responses", tpot_bounds,
                     NB(tpot_bounds)},
    [OTEL_M_TOKENS] = {"gen_ai.client.token.usage", "{token}", "Number of input and output tokens used",
                       token_bounds, NB(token_bounds)},
};

const otel_instr_info *otel_instr(enum otel_instr m) { return &instruments[m]; }

typedef struct {
    uint64_t hash;
    bool overflow; /* the otel.metric.overflow=true series */
    enum otel_op op;
    char provider[32];
    char request_model[OTEL_MODEL_MAX];
    char response_model[OTEL_MODEL_MAX];
    char server_address[256];
    uint16_t server_port;
    char error_type[64];
    otel_hist dur, ttft, tpot, tok_in, tok_out;
} series;

struct otel_metrics {
    uint64_t start_ns;
    int max, n;
    series *s; /* [max + 1]: the last one is the overflow series */
};

otel_metrics *otel_metrics_new(int max_series, uint64_t start_ns)
{
    otel_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->s = calloc((size_t)max_series + 1, sizeof *m->s);
    if (!m->s) {
        free(m);
        return NULL;
    }
    m->max = max_series;
    m->start_ns = start_ns;
    m->s[max_series].overflow = true;
    return m;
}

void otel_metrics_free(otel_metrics *m)
{
    if (!m)
        return;
    free(m->s);
    free(m);
}

uint64_t otel_metrics_start_ns(const otel_metrics *m) { return m->start_ns; }

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t key_hash(const otel_span *sp)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    uint8_t op = (uint8_t)sp->op;
    h = fnv(h, &op, 1);
    h = fnv(h, sp->provider, strlen(sp->provider) + 1);
    h = fnv(h, sp->request_model, strlen(sp->request_model) + 1);
    h = fnv(h, sp->response_model, strlen(sp->response_model) + 1);
    h = fnv(h, sp->server_address, strlen(sp->server_address) + 1);
    h = fnv(h, &sp->server_port, sizeof sp->server_port);
    return fnv(h, sp->error_type, strlen(sp->error_type) + 1);
}

static bool same_key(const series *s, const otel_span *sp)
{
    return s->op == sp->op && s->server_port == sp->server_port && !strcmp(s->provider, sp->provider) &&
           !strcmp(s->request_model, sp->request_model) && !strcmp(s->response_model, sp->response_model) &&
           !strcmp(s->server_address, sp->server_address) && !strcmp(s->error_type, sp->error_type);
}

static series *find(otel_metrics *m, const otel_span *sp)
{
    uint64_t h = key_hash(sp);
    for (int i = 0; i < m->n; i++)
        if (m->s[i].hash == h && same_key(&m->s[i], sp))
            return &m->s[i];
    if (m->n == m->max) /* cardinality limit: the SDK's overflow series */
        return &m->s[m->max];
    series *s = &m->s[m->n++];
    s->hash = h;
    s->op = sp->op;
    s->server_port = sp->server_port;
    memcpy(s->provider, sp->provider, sizeof s->provider);
    memcpy(s->request_model, sp->request_model, sizeof s->request_model);
    memcpy(s->response_model, sp->response_model, sizeof s->response_model);
    memcpy(s->server_address, sp->server_address, sizeof s->server_address);
    memcpy(s->error_type, sp->error_type, sizeof s->error_type);
    return s;
}

static void observe(otel_hist *h, enum otel_instr m, double v)
{
    const otel_instr_info *in = &instruments[m];
    int b = 0;
    while (b < in->n_bounds && v > in->bounds[b]) /* upper bound inclusive */
        b++;
    h->buckets[b]++;
    if (h->count == 0 || v < h->min)
        h->min = v;
    if (h->count == 0 || v > h->max)
        h->max = v;
    h->count++;
    h->sum += v;
}

void otel_metrics_record(otel_metrics *m, const otel_span *sp)
{
    series *s = find(m, sp);
    double dur = sp->end_ns > sp->start_ns ? (double)(sp->end_ns - sp->start_ns) / 1e9 : 0.0;
    observe(&s->dur, OTEL_M_DURATION, dur);
    if (sp->error_type[0])
        return; /* TTFT, TPOT: "successful responses only"; tokens likewise */
    if (sp->ttft_s >= 0) {
        observe(&s->ttft, OTEL_M_TTFT, sp->ttft_s);
        if (sp->output_tokens > 1 && dur >= sp->ttft_s)
            observe(&s->tpot, OTEL_M_TPOT, (dur - sp->ttft_s) / (double)(sp->output_tokens - 1));
    }
    if (sp->input_tokens >= 0)
        observe(&s->tok_in, OTEL_M_TOKENS, (double)sp->input_tokens);
    if (sp->output_tokens >= 0)
        observe(&s->tok_out, OTEL_M_TOKENS, (double)sp->output_tokens);
}

bool otel_metrics_empty(const otel_metrics *m) { return m->n == 0 && m->s[m->max].dur.count == 0; }

static void base_attrs(const series *s, otel_point *p)
{
    otel_attr *a = p->attrs;
    int n = 0;
    if (s->overflow) {
        a[n++] = (otel_attr){.key = "otel.metric.overflow", .type = OTEL_A_BOOL, .i = 1};
        p->n_attrs = n;
        return;
    }
    a[n++] = (otel_attr){.key = "gen_ai.operation.name", .type = OTEL_A_STR, .s = otel_op_name(s->op)};
    if (s->provider[0])
        a[n++] = (otel_attr){.key = "gen_ai.provider.name", .type = OTEL_A_STR, .s = s->provider};
    if (s->request_model[0])
        a[n++] = (otel_attr){.key = "gen_ai.request.model", .type = OTEL_A_STR, .s = s->request_model};
    if (s->response_model[0])
        a[n++] = (otel_attr){.key = "gen_ai.response.model", .type = OTEL_A_STR, .s = s->response_model};
    if (s->server_address[0]) {
        a[n++] = (otel_attr){.key = "server.address", .type = OTEL_A_STR, .s = s->server_address};
        if (s->server_port)
            a[n++] = (otel_attr){.key = "server.port", .type = OTEL_A_INT, .i = s->server_port};
    }
    p->n_attrs = n;
}

static void emit(const series *s, enum otel_instr instr, const otel_hist *h, const char *token_type,
                 void (*fn)(void *, const otel_point *), void *ud)
{
    if (!h->count)
        return;
    otel_point p = {.m = instr, .h = h};
    base_attrs(s, &p);
    if (instr == OTEL_M_DURATION && s->error_type[0] && !s->overflow)
        p.attrs[p.n_attrs++] = (otel_attr){.key = "error.type", .type = OTEL_A_STR, .s = s->error_type};
    if (token_type)
        p.attrs[p.n_attrs++] = (otel_attr){.key = "gen_ai.token.type", .type = OTEL_A_STR, .s = token_type};
    fn(ud, &p);
}

void otel_metrics_each(const otel_metrics *m, enum otel_instr instr, void (*fn)(void *ud, const otel_point *p),
                       void *ud)
{
    for (int i = 0; i <= m->max; i++) {
        const series *s = &m->s[i];
        if (i >= m->n && i != m->max)
            continue;
        switch (instr) {
        case OTEL_M_DURATION:
            emit(s, instr, &s->dur, NULL, fn, ud);
            break;
        case OTEL_M_TTFT:
            emit(s, instr, &s->ttft, NULL, fn, ud);
            break;
        case OTEL_M_TPOT:
            emit(s, instr, &s->tpot, NULL, fn, ud);
            break;
        case OTEL_M_TOKENS:
            emit(s, instr, &s->tok_in, "input", fn, ud);
            emit(s, instr, &s->tok_out, "output", fn, ud);
            break;
        case OTEL_M_COUNT:
            break;
        }
    }
}
