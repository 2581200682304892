/* W3C trace context, span ids, sampling, and the span -> attributes map
 * (the single place that knows which attribute names a span carries). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "otel/otel_int.h"

/* ---- traceparent ------------------------------------------------------ */

static int hex_nibble(char c)
{
    /* W3C: lowercase only; uppercase makes the header invalid. */
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int hex_bytes(const char *s, uint8_t *out, size_t n)
{
    uint8_t any = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_nibble(s[2 * i]), lo = hex_nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
        any |= out[i];
    }
    return any ? 0 : 1; /* 1: all zero */
}

int otel_traceparent_parse(const char *s, size_t len, otel_traceparent *out)
{
    if (!s)
        return -1;
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len < OTEL_TRACEPARENT_LEN)
        return -1;
    uint8_t version;
    if (hex_bytes(s, &version, 1) < 0 || version == 0xff)
        return -1;
    /* Version 00 has exactly four fields. A later version may append
     * fields after a '-'; we read the four we know (W3C §3.3 "versioning"). */
    if (version == 0 && len != OTEL_TRACEPARENT_LEN)
        return -1;
    if (len > OTEL_TRACEPARENT_LEN && s[OTEL_TRACEPARENT_LEN] != '-')
        return -1;
    if (s[2] != '-' || s[35] != '-' || s[52] != '-')
        return -1;
    otel_traceparent tp;
    if (hex_bytes(s + 3, tp.trace_id, OTEL_TRACE_ID_LEN) != 0 || hex_bytes(s + 36, tp.span_id, OTEL_SPAN_ID_LEN) != 0 ||
        hex_bytes(s + 53, &tp.flags, 1) < 0)
        return -1;
    *out = tp;
    return 0;
}

static void put_hex(char *dst, const uint8_t *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        dst[2 * i] = digits[b[i] >> 4];
        dst[2 * i + 1] = digits[b[i] & 15];
    }
}

int otel_traceparent_format(const uint8_t trace_id[OTEL_TRACE_ID_LEN], const uint8_t span_id[OTEL_SPAN_ID_LEN],
                            uint8_t flags, char out[OTEL_TRACEPARENT_LEN + 1])
{
    uint8_t f = flags & 1;
    memcpy(out, "00-", 3);
    put_hex(out + 3, trace_id, OTEL_TRACE_ID_LEN);
    out[35] = '-';
    put_hex(out + 36, span_id, OTEL_SPAN_ID_LEN);
    out[52] = '-';
    put_hex(out + 53, &f, 1);
    out[OTEL_TRACEPARENT_LEN] = '\0';
    return OTEL_TRACEPARENT_LEN;
}

/* ---- ids: xoshiro256** per thread ------------------------------------- */

static _Thread_local uint64_t rng[4];
static _Thread_local bool rng_seeded;

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next64(void)
{
    if (!rng_seeded) {
        if (getrandom(rng, sizeof rng, 0) != (ssize_t)sizeof rng || !(rng[0] | rng[1] | rng[2] | rng[3])) {
            /* No entropy (very old kernel, seccomp): time and stack address
             * still give distinct per-thread streams. */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)(uintptr_t)&ts;
            for (int i = 0; i < 4; i++)
                rng[i] = splitmix(&x);
        }
        rng_seeded = true;
    }
    uint64_t r = rotl(rng[1] * 5, 7) * 9, t = rng[1] << 17;
    rng[2] ^= rng[0];
    rng[3] ^= rng[1];
    rng[1] ^= rng[2];
    rng[0] ^= rng[3];
    rng[2] ^= t;
    rng[3] = rotl(rng[3], 45);
    return r;
}

static void fill_random(uint8_t *id, size_t n)
{
    uint8_t any;
    do { /* W3C: an all-zero id is invalid */
        any = 0;
        for (size_t i = 0; i < n; i += 8) {
            uint64_t r = next64();
            memcpy(id + i, &r, n - i < 8 ? n - i : 8);
        }
        for (size_t i = 0; i < n; i++)
            any |= id[i];
    } while (!any);
}

void otel_new_trace_id(uint8_t id[OTEL_TRACE_ID_LEN]) { fill_random(id, OTEL_TRACE_ID_LEN); }
void otel_new_span_id(uint8_t id[OTEL_SPAN_ID_LEN]) { fill_random(id, OTEL_SPAN_ID_LEN); }

/* ---- sampling --------------------------------------------------------- */

/* TraceIdRatioBased as the OpenTelemetry SDKs implement it: the low 8
 * bytes of the trace id, big-endian, shifted to 63 bits, compared with
 * ratio * 2^63. Deterministic, so every service agrees on a trace. */
static bool ratio_sample(double ratio, const uint8_t id[OTEL_TRACE_ID_LEN])
{
    if (ratio >= 1.0)
        return true;
    uint64_t x = 0;
    for (int i = 8; i < 16; i++)
        x = x << 8 | id[i];
    return (x >> 1) < (uint64_t)(ratio * 9223372036854775808.0);
}

bool otel_sample(const otel_config *c, const otel_traceparent *parent, const uint8_t trace_id[OTEL_TRACE_ID_LEN])
{
    switch (c->sampler) {
    case OTEL_SAMPLER_ALWAYS_ON:
        return true;
    case OTEL_SAMPLER_ALWAYS_OFF:
        return false;
    case OTEL_SAMPLER_RATIO:
        return ratio_sample(c->ratio, trace_id);
    case OTEL_SAMPLER_PARENT_ON:
        return parent ? (parent->flags & 1) : true;
    case OTEL_SAMPLER_PARENT_OFF:
        return parent ? (parent->flags & 1) : false;
    case OTEL_SAMPLER_PARENT_RATIO:
        return parent ? (parent->flags & 1) : ratio_sample(c->ratio, trace_id);
    }
    return false;
}

/* ---- strings ---------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

void otel_utf8_clean(char *s)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq((const unsigned char *)s + i, len - i);
        if (n == 0) {
            s[i++] = '?';
            continue;
        }
        i += n;
    }
}

void otel_span_str(char *dst, size_t dst_size, const char *src, size_t len)
{
    if (!dst_size)
        return;
    if (!src)
        len = 0;
    if (len > dst_size - 1) {
        len = dst_size - 1;
        while (len && ((unsigned char)src[len] & 0xc0) == 0x80)
            len--; /* do not cut a multi-byte character in two */
    }
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
}

void otel_span_init(otel_span *sp)
{
    memset(sp, 0, sizeof *sp);
    sp->op = OTEL_OP_CHAT;
    sp->max_tokens = sp->input_tokens = sp->output_tokens = -1;
    sp->temperature = sp->top_p = NAN;
    sp->ttft_s = sp->queue_wait_s = sp->load_s = sp->prompt_eval_s = sp->eval_s = -1.0;
}

/* ---- span attributes -------------------------------------------------- */

const char *otel_op_name(enum otel_op op)
{
    switch (op) {
    case OTEL_OP_CHAT:
        return "chat";
    case OTEL_OP_TEXT_COMPLETION:
        return "text_completion";
    case OTEL_OP_EMBEDDINGS:
        return "embeddings";
    }
    return "chat";
}

void otel_span_name(const otel_span *sp, char out[OTEL_SPAN_NAME_MAX])
{
    if (sp->request_model[0])
        snprintf(out, OTEL_SPAN_NAME_MAX, "%s %s", otel_op_name(sp->op), sp->request_model);
    else
        snprintf(out, OTEL_SPAN_NAME_MAX, "%s", otel_op_name(sp->op));
}

uint32_t otel_span_flags(const otel_span *sp, bool client)
{
    /* bit 8: "has is-remote", bit 9: the parent is remote (from the
     * client's traceparent). The CLIENT span's parent is our server span. */
    uint32_t f = (sp->flags & 0xffu) | 0x100u;
    if (!client && sp->has_parent)
        f |= 0x200u;
    return f;
}

#define A_STR(k, v)                                                                                                    \
    do {                                                                                                               \
        if ((v)[0])                                                                                                    \
            out[n++] = (otel_attr){.key = (k), .type = OTEL_A_STR, .s = (v)};                                          \
    } while (0)
#define A_INT(k, v) (out[n++] = (otel_attr){.key = (k), .type = OTEL_A_INT, .i = (v)})
#define A_DBL(k, v) (out[n++] = (otel_attr){.key = (k), .type = OTEL_A_DOUBLE, .d = (v)})

int otel_span_attrs(const otel_span *sp, bool client, otel_attr *out)
{
    /* The finish reasons as a string array pointing into the span. */
    static _Thread_local const char *fr[OTEL_FINISH_MAX];
    int n = 0;
    out[n++] = (otel_attr){.key = "gen_ai.operation.name", .type = OTEL_A_STR, .s = otel_op_name(sp->op)};
    A_STR("gen_ai.provider.name", sp->provider);
    A_STR("gen_ai.request.model", sp->request_model);
    A_STR("gen_ai.response.model", sp->response_model);
    A_STR("server.address", sp->server_address);
    if (sp->server_port)
        A_INT("server.port", sp->server_port);
    A_STR("error.type", sp->error_type);
    if (client)
        return n;
    if (sp->max_tokens >= 0)
        A_INT("gen_ai.request.max_tokens", sp->max_tokens);
    if (!isnan(sp->temperature))
        A_DBL("gen_ai.request.temperature", sp->temperature);
    if (!isnan(sp->top_p))
        A_DBL("gen_ai.request.top_p", sp->top_p);
    if (sp->input_tokens >= 0)
        A_INT("gen_ai.usage.input_tokens", sp->input_tokens);
    if (sp->output_tokens >= 0)
        A_INT("gen_ai.usage.output_tokens", sp->output_tokens);
    if (sp->n_finish_reasons) {
        int k = sp->n_finish_reasons > OTEL_FINISH_MAX ? OTEL_FINISH_MAX : sp->n_finish_reasons;
        for (int i = 0; i < k; i++)
            fr[i] = sp->finish_reasons[i];
        out[n++] = (otel_attr){.key = "gen_ai.response.finish_reasons", .type = OTEL_A_STRS, .strs = fr, .n_strs = k};
    }
    A_STR("http.route", sp->http_route);
    if (sp->http_status)
        A_INT("http.response.status_code", sp->http_status);
    out[n++] = (otel_attr){.key = "tollgate.stream", .type = OTEL_A_BOOL, .i = sp->stream};
    if (sp->ttft_s >= 0)
        A_DBL("tollgate.time_to_first_token_s", sp->ttft_s);
    if (sp->queue_wait_s >= 0)
        A_DBL("tollgate.queue_wait_s", sp->queue_wait_s);
    if (sp->load_s >= 0)
        A_DBL("tollgate.ollama.load_duration_s", sp->load_s);
    if (sp->prompt_eval_s >= 0)
        A_DBL("tollgate.ollama.prompt_eval_duration_s", sp->prompt_eval_s);
    if (sp->eval_s >= 0)
        A_DBL("tollgate.ollama.eval_duration_s", sp->eval_s);
    return n;
}
