/* The OTEL_* environment, read the way OpenTelemetry SDKs read it
 * (opentelemetry-specification: sdk-environment-variables.md and
 * protocol/exporter.md), plus LiteLLM's callbacks: ["otel"] with its
 * OTEL_EXPORTER / OTEL_ENDPOINT / OTEL_HEADERS. Malformed optional values
 * fall back to their defaults with a warning, as the specification asks;
 * only settings that would silently export nowhere are fatal. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "otel/otel_int.h"

#define DEFAULT_ENDPOINT "http://localhost:4318"
/* Upper bound on OTEL_BSP_MAX_QUEUE_SIZE: a span slot is ~1.5 KiB and the
 * queue plus the rings hold about two queues' worth. */
#define MAX_QUEUE_CAP 16384

typedef struct {
    const otel_settings *s;
} envctx;

static const char *env(const envctx *e, const char *name)
{
    const char *v = e->s->getenv ? e->s->getenv(e->s->getenv_ud, name) : getenv(name);
    return (v && *v) ? v : NULL;
}

static void warnf(buf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(buf *w, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    buf_puts(w, line);
    buf_putc(w, '\n');
}

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

static bool is_tchar(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Copies [s, e) trimmed of OWS into dst, percent-decoding when asked.
 * Returns -1 when it does not fit or decodes to a NUL. */
static int take(char *dst, size_t size, const char *s, const char *e, bool decode)
{
    while (s < e && is_ows(*s))
        s++;
    while (e > s && is_ows(e[-1]))
        e--;
    size_t n = 0;
    for (const char *p = s; p < e; p++) {
        char c = *p;
        if (decode && c == '%' && e - p >= 3 && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            c = (char)(hexval(p[1]) * 16 + hexval(p[2]));
            p += 2;
            if (c == '\0')
                return -1;
        }
        if (n + 1 >= size)
            return -1;
        dst[n++] = c;
    }
    dst[n] = '\0';
    return 0;
}

static bool has_ctl(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return true;
    }
    return false;
}

void otel_kv_parse(const char *s, bool header, otel_kv *out, int *n, int max, buf *warn)
{
    const char *what = header ? "header" : "resource attribute";
    while (s && *s) {
        const char *end = strchr(s, ',');
        if (!end)
            end = s + strlen(s);
        const char *eq = memchr(s, '=', (size_t)(end - s));
        otel_kv kv;
        bool blank = true;
        for (const char *p = s; p < end; p++)
            blank = blank && is_ows(*p);
        if (blank) {
            s = *end ? end + 1 : end;
            continue;
        }
        if (!eq || take(kv.key, sizeof kv.key, s, eq, false) < 0 || !kv.key[0] ||
            take(kv.value, sizeof kv.value, eq + 1, end, true) < 0 || has_ctl(kv.key) || has_ctl(kv.value)) {
            warnf(warn, "otel: ignoring malformed %s entry #%d", what, *n + 1);
            goto next;
        }
        if (header) {
            for (const char *k = kv.key; *k; k++) {
                if (!is_tchar((unsigned char)*k)) {
                    warnf(warn, "otel: ignoring %s with an invalid name", what);
                    goto next;
                }
            }
        }
        /* A later entry for the same key replaces the earlier one, so
         * per-signal headers override OTEL_EXPORTER_OTLP_HEADERS. */
        for (int i = 0; i < *n; i++) {
            if (header ? strcasecmp(out[i].key, kv.key) == 0 : strcmp(out[i].key, kv.key) == 0) {
                out[i] = kv;
                goto next;
            }
        }
        if (*n >= max) {
            warnf(warn, "otel: more than %d %ss, ignoring \"%s\"", max, what, kv.key);
            goto next;
        }
        out[(*n)++] = kv;
    next:
        s = *end ? end + 1 : end;
    }
}

int otel_url_check(const char *url)
{
    size_t skip;
    if (strncasecmp(url, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        skip = 8;
    else
        return -1;
    if (strlen(url) + sizeof "/v1/metrics" >= OTEL_URL_MAX)
        return -1;
    const char *host = url + skip;
    if (!*host || *host == '/' || *host == '?' || *host == '#' || *host == ':')
        return -1;
    for (const char *p = url; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c == 0x7f)
            return -1;
    }
    return 0;
}

/* base + "/v1/<signal>" the way the specification joins them: exactly one
 * slash between the base path and "v1/...". */
static void join(char *dst, const char *base, const char *rel)
{
    size_t n = strlen(base);
    snprintf(dst, OTEL_URL_MAX, "%.*s/%s", (int)(n && base[n - 1] == '/' ? n - 1 : n), base, rel);
}

static int get_int(const envctx *e, const char *name, int def, int lo, int hi, buf *warn)
{
    const char *v = env(e, name);
    if (!v)
        return def;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    while (is_ows(*end))
        end++;
    if (errno || end == v || *end || x < lo) {
        warnf(warn, "otel: %s=\"%.32s\" is not a valid number, using %d", name, v, def);
        return def;
    }
    if (x > hi) {
        warnf(warn, "otel: %s=%ld is above the limit, using %d", name, x, hi);
        return hi;
    }
    return (int)x;
}

static bool env_true(const envctx *e, const char *name)
{
    const char *v = env(e, name);
    return v && strcasecmp(v, "true") == 0;
}

/* OTEL_{TRACES,METRICS}_EXPORTER: "otlp" (default) or "none". */
static bool signal_wanted(const envctx *e, const char *name, buf *warn)
{
    const char *v = env(e, name);
    if (!v || strcasecmp(v, "otlp") == 0)
        return true;
    if (strcasecmp(v, "none") == 0)
        return false;
    warnf(warn, "otel: %s=\"%.32s\" is not supported (only otlp and none), using otlp", name, v);
    return true;
}

static int protocol(const envctx *e, const char *name, enum otel_protocol def, enum otel_protocol *out, char *err,
                    size_t err_len)
{
    const char *v = env(e, name);
    *out = def;
    if (!v)
        return 0;
    if (strcmp(v, "http/protobuf") == 0)
        *out = OTEL_PROTO_PROTOBUF;
    else if (strcmp(v, "http/json") == 0)
        *out = OTEL_PROTO_JSON;
    else if (strcmp(v, "grpc") == 0) {
        snprintf(err, err_len,
                 "otel: %s=grpc is not supported; use http/protobuf (port 4318) or http/json", name);
        return -1;
    } else {
        snprintf(err, err_len, "otel: %s=\"%.32s\" is not one of http/protobuf, http/json", name, v);
        return -1;
    }
    return 0;
}

static void sampler(const envctx *e, otel_config *c, buf *warn)
{
    static const struct {
        const char *name;
        enum otel_sampler s;
    } names[] = {
        {"always_on", OTEL_SAMPLER_ALWAYS_ON},
        {"always_off", OTEL_SAMPLER_ALWAYS_OFF},
        {"traceidratio", OTEL_SAMPLER_RATIO},
        {"parentbased_always_on", OTEL_SAMPLER_PARENT_ON},
        {"parentbased_always_off", OTEL_SAMPLER_PARENT_OFF},
        {"parentbased_traceidratio", OTEL_SAMPLER_PARENT_RATIO},
    };
    c->sampler = OTEL_SAMPLER_PARENT_ON;
    c->ratio = 1.0;
    const char *v = env(e, "OTEL_TRACES_SAMPLER");
    if (v) {
        size_t i;
        for (i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (strcmp(v, names[i].name) == 0) {
                c->sampler = names[i].s;
                break;
            }
        }
        if (i == sizeof names / sizeof names[0])
            warnf(warn, "otel: OTEL_TRACES_SAMPLER=\"%.32s\" is not supported, using parentbased_always_on", v);
    }
    if (c->sampler != OTEL_SAMPLER_RATIO && c->sampler != OTEL_SAMPLER_PARENT_RATIO)
        return;
    const char *a = env(e, "OTEL_TRACES_SAMPLER_ARG");
    if (!a)
        return;
    char *end;
    double r = strtod(a, &end);
    if (end == a || *end || !(r >= 0.0 && r <= 1.0)) {
        warnf(warn, "otel: OTEL_TRACES_SAMPLER_ARG=\"%.32s\" is not a ratio in [0, 1], using 1.0", a);
        return;
    }
    c->ratio = r;
}

/* The endpoint of one signal: its own variable as-is, else the base with
 * v1/<signal> appended. Returns -1 with err on an invalid URL. */
static int signal_url(const envctx *e, const char *var, const char *base, const char *rel, char *dst, char *err,
                      size_t err_len)
{
    const char *v = env(e, var);
    dst[0] = '\0';
    if (v) {
        if (otel_url_check(v) < 0)
            goto bad;
        snprintf(dst, OTEL_URL_MAX, "%s", v);
        return 0;
    }
    if (base)
        join(dst, base, rel);
    return 0;
bad:
    snprintf(err, err_len, "otel: %s is not an http:// or https:// URL without spaces or control characters", var);
    return -1;
}

static int load(const envctx *e, otel_config *c, char *err, size_t err_len, buf *warn)
{
    memset(c, 0, sizeof *c);
    if (env_true(e, "OTEL_SDK_DISABLED"))
        return 0;

    const char *base = env(e, "OTEL_EXPORTER_OTLP_ENDPOINT");
    const char *base_var = "OTEL_EXPORTER_OTLP_ENDPOINT";
    char litellm_base[OTEL_URL_MAX];
    bool litellm = e->s->litellm_callback;
    if (litellm) {
        /* LiteLLM: OTEL_EXPORTER picks the exporter; only otlp_http is an
         * OTLP/HTTP one. OTEL_ENDPOINT is a base URL ("https://api.traceloop.com")
         * or, as older LiteLLM setups write it, the full .../v1/traces URL. */
        const char *x = env(e, "OTEL_EXPORTER");
        if (x && strcmp(x, "otlp_http") != 0) {
            snprintf(err, err_len, "otel: OTEL_EXPORTER=\"%.32s\" is not supported; tollgate exports otlp_http only%s",
                     x, strstr(x, "grpc") ? " (gRPC is not supported, use the collector's HTTP port 4318)" : "");
            return -1;
        }
        const char *le = env(e, "OTEL_ENDPOINT");
        if (!base) {
            snprintf(litellm_base, sizeof litellm_base, "%s", le ? le : DEFAULT_ENDPOINT);
            size_t n = strlen(litellm_base);
            if (n >= 10 && strcmp(litellm_base + n - 10, "/v1/traces") == 0)
                litellm_base[n - 10] = '\0';
            base = litellm_base;
            base_var = le ? "OTEL_ENDPOINT" : "the default endpoint";
        }
    }
    if (base && otel_url_check(base) < 0) {
        snprintf(err, err_len, "otel: %s is not an http:// or https:// URL without spaces or control characters",
                 base_var);
        return -1;
    }
    if (signal_url(e, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", base, "v1/traces", c->traces_url, err, err_len) < 0 ||
        signal_url(e, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", base, "v1/metrics", c->metrics_url, err, err_len) < 0)
        return -1;
    c->traces_on = c->traces_url[0] && signal_wanted(e, "OTEL_TRACES_EXPORTER", warn);
    c->metrics_on = c->metrics_url[0] && signal_wanted(e, "OTEL_METRICS_EXPORTER", warn);
    if (!c->traces_on && !c->metrics_on)
        return 0;

    enum otel_protocol p;
    if (protocol(e, "OTEL_EXPORTER_OTLP_PROTOCOL", OTEL_PROTO_PROTOBUF, &p, err, err_len) < 0 ||
        protocol(e, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", p, &c->traces_protocol, err, err_len) < 0 ||
        protocol(e, "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", p, &c->metrics_protocol, err, err_len) < 0)
        return -1;

    if (litellm)
        otel_kv_parse(env(e, "OTEL_HEADERS"), true, c->traces_headers, &c->n_traces_headers, OTEL_MAX_HEADERS, warn);
    otel_kv_parse(env(e, "OTEL_EXPORTER_OTLP_HEADERS"), true, c->traces_headers, &c->n_traces_headers,
                  OTEL_MAX_HEADERS, warn);
    memcpy(c->metrics_headers, c->traces_headers, sizeof c->traces_headers);
    c->n_metrics_headers = c->n_traces_headers;
    otel_kv_parse(env(e, "OTEL_EXPORTER_OTLP_TRACES_HEADERS"), true, c->traces_headers, &c->n_traces_headers,
                  OTEL_MAX_HEADERS, warn);
    otel_kv_parse(env(e, "OTEL_EXPORTER_OTLP_METRICS_HEADERS"), true, c->metrics_headers, &c->n_metrics_headers,
                  OTEL_MAX_HEADERS, warn);

    /* service.name: OTEL_SERVICE_NAME wins over OTEL_RESOURCE_ATTRIBUTES,
     * which wins over the default. */
    snprintf(c->resource[0].key, sizeof c->resource[0].key, "service.name");
    snprintf(c->resource[0].value, sizeof c->resource[0].value, "tollgate");
    snprintf(c->resource[1].key, sizeof c->resource[1].key, "service.version");
    snprintf(c->resource[1].value, sizeof c->resource[1].value, "%s", TOLLGATE_VERSION);
    c->n_resource = 2;
    otel_kv_parse(env(e, "OTEL_RESOURCE_ATTRIBUTES"), false, c->resource, &c->n_resource, OTEL_MAX_RESOURCE, warn);
    const char *svc = env(e, "OTEL_SERVICE_NAME");
    if (svc) {
        if (has_ctl(svc) || strlen(svc) >= sizeof c->resource[0].value)
            warnf(warn, "otel: ignoring OTEL_SERVICE_NAME with control characters or over 2047 bytes");
        else
            snprintf(c->resource[0].value, sizeof c->resource[0].value, "%s", svc);
    }

    sampler(e, c, warn);
    c->schedule_delay_ms = get_int(e, "OTEL_BSP_SCHEDULE_DELAY", 5000, 1, 3600 * 1000, warn);
    c->max_queue = get_int(e, "OTEL_BSP_MAX_QUEUE_SIZE", 2048, 1, MAX_QUEUE_CAP, warn);
    c->batch_max = get_int(e, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512, 1, MAX_QUEUE_CAP, warn);
    if (c->batch_max > c->max_queue)
        c->batch_max = c->max_queue; /* the specification: must be <= the queue */
    c->export_interval_ms = get_int(e, "OTEL_METRIC_EXPORT_INTERVAL", 60000, 1, 24 * 3600 * 1000, warn);
    c->timeout_ms = get_int(e, "OTEL_EXPORTER_OTLP_TIMEOUT", 10000, 1, 600 * 1000, warn);
    return 1;
}

int otel_config_load(otel_config *c, const otel_settings *s, char *err, size_t err_len, char *warn, size_t warn_len)
{
    envctx e = {s};
    buf w;
    buf_init(&w);
    if (err_len)
        err[0] = '\0';
    int rc = load(&e, c, err, err_len, &w);
    if (warn && warn_len)
        snprintf(warn, warn_len, "%s", w.len ? buf_cstr(&w) : "");
    buf_free(&w);
    if (rc <= 0)
        c->traces_on = c->metrics_on = false;
    return rc;
}
