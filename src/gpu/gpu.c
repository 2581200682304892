/* `tollgate gpu`: flags, the scrape cache and the HTTP endpoints. */
#include "gpu/gpu.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gpu/collector.h"
#include "gpu/counters.h"
#include "gpu/expo.h"
#include "metrics/process.h"
#include "net/server.h"
#include "util/buf.h"
#include "util/log.h"

typedef struct {
    gpu_collector *col; /* NULL: running without NVML */
    char down_reason[600];
    gpu_counters cs;
    const char *hostname; /* NULL with --no-hostname */
    int interval_ms;
    /* Scrape cache with single flight: one collection at a time; scrapes
     * that arrive while it runs wait for it and share its result. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool busy, have;
    unsigned long long gen; /* collections finished */
    double taken_ms;
    double last_seconds;
    buf text;
    gpu_snapshot snap;
} exporter;

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Renders one collection into out (called without the lock held: only the
 * single-flight owner collects). */
static void collect_render(exporter *e, buf *out)
{
    if (!e->col)
        return;
    if (gpu_collector_collect(e->col, &e->snap) < 0) {
        log_error("gpu: out of memory while collecting");
        return;
    }
    gpu_expo_write(out, &e->cs, &e->snap, e->hostname);
}

static void scrape(exporter *e, buf *out)
{
    pthread_mutex_lock(&e->mu);
    unsigned long long seen = e->gen;
    for (;;) {
        if (e->have && (e->gen != seen || mono_ms() - e->taken_ms < e->interval_ms))
            break;
        if (e->busy) {
            pthread_cond_wait(&e->cv, &e->mu);
            continue;
        }
        e->busy = true;
        pthread_mutex_unlock(&e->mu);
        double t0 = mono_ms();
        buf fresh;
        buf_init(&fresh);
        collect_render(e, &fresh);
        double t1 = mono_ms();
        pthread_mutex_lock(&e->mu);
        buf_free(&e->text);
        e->text = fresh;
        e->have = true;
        e->taken_ms = t0;
        e->last_seconds = (t1 - t0) / 1e3;
        e->gen++;
        e->busy = false;
        pthread_cond_broadcast(&e->cv);
        break;
    }
    buf_append(out, e->text.data ? e->text.data : "", e->text.len);
    unsigned long long gen = e->gen;
    double secs = e->last_seconds;
    pthread_mutex_unlock(&e->mu);

    buf_puts(out, "# HELP tollgate_gpu_nvml_up 1 when NVML is loaded and initialised, 0 when the exporter runs "
                  "without it (the reason is in the log).\n# TYPE tollgate_gpu_nvml_up gauge\n");
    buf_printf(out, "tollgate_gpu_nvml_up %d\n", e->col ? 1 : 0);
    if (e->col) {
        buf_puts(out, "# HELP tollgate_gpu_devices GPUs NVML reported at start.\n"
                      "# TYPE tollgate_gpu_devices gauge\n");
        buf_printf(out, "tollgate_gpu_devices %zu\n", gpu_collector_ngpus(e->col));
        buf_puts(out, "# HELP tollgate_gpu_lost_devices GPUs answering NVML_ERROR_GPU_IS_LOST at the last "
                      "collection.\n# TYPE tollgate_gpu_lost_devices gauge\n");
        buf_printf(out, "tollgate_gpu_lost_devices %zu\n", gpu_collector_nlost(e->col));
    }
    if (!e->col) {
        process_metrics_write(out);
        return;
    }
    buf_puts(out, "# HELP tollgate_gpu_collections_total NVML collections run (scrapes within the collect "
                  "interval share one).\n# TYPE tollgate_gpu_collections_total counter\n");
    buf_printf(out, "tollgate_gpu_collections_total %llu\n", gen);
    buf_puts(out, "# HELP tollgate_gpu_collect_duration_seconds Time the last NVML collection took.\n"
                  "# TYPE tollgate_gpu_collect_duration_seconds gauge\n"
                  "tollgate_gpu_collect_duration_seconds ");
    buf_prom_double(out, secs);
    buf_putc(out, '\n');
    process_metrics_write(out);
}

static void handler(conn *c, const http_request *req, const char *body, size_t len, void *ud)
{
    (void)body;
    (void)len;
    exporter *e = ud;
    static const char nosniff[] = "X-Content-Type-Options: nosniff\r\n";
    if (http_path_is(req, "/metrics")) {
        buf out;
        buf_init(&out);
        scrape(e, &out);
        if (out.oom) {
            buf_free(&out);
            conn_respond(c, 500, "text/plain; charset=utf-8", nosniff, "out of memory\n", 14);
            return;
        }
        conn_respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", nosniff, out.data, out.len);
        buf_free(&out);
    } else if (http_path_is(req, "/health")) {
        /* Always 200 like dcgm-exporter 4.x, so a liveness probe does not
         * restart an exporter on a node without a GPU; the body says why. */
        char msg[700];
        int n;
        size_t lost = e->col ? gpu_collector_nlost(e->col) : 0;
        if (!e->col)
            n = snprintf(msg, sizeof msg, "OK - no GPU metrics: %s", e->down_reason);
        else if (lost)
            n = snprintf(msg, sizeof msg, "OK - %zu of %zu GPUs lost", lost, gpu_collector_ngpus(e->col));
        else
            n = snprintf(msg, sizeof msg, "OK");
        conn_respond(c, 200, "text/plain; charset=utf-8", nosniff, msg, (size_t)n);
    } else if (http_path_is(req, "/")) {
        static const char page[] = "<html>\n<head><title>tollgate gpu</title></head>\n<body>\n<h1>tollgate gpu "
                                   "(dcgm-exporter compatible)</h1>\n<p><a href=\"./metrics\">Metrics</a></p>\n"
                                   "<p><a href=\"./health\">Health</a></p>\n</body>\n</html>\n";
        conn_respond(c, 200, "text/html; charset=utf-8", nosniff, page, sizeof page - 1);
    } else {
        conn_respond(c, 404, "text/plain; charset=utf-8", nosniff, "404 page not found\n", 19);
    }
}

static void collector_log(void *ud, const char *msg)
{
    (void)ud;
    log_warn("gpu: %s", msg);
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: tollgate gpu [options]\n\n"
            "GPU exporter with dcgm-exporter's metric names and labels, read from NVML.\n\n"
            "  -p, --port PORT              listen port (default 9400; 0 picks a free one)\n"
            "  -a, --address [HOST]:PORT    listen address, dcgm-exporter style (default \":9400\");\n"
            "                               a bare HOST sets only the host\n"
            "  -f, --collectors FILE        counters CSV (dcgm-exporter format; default: its default set)\n"
            "  -c, --collect-interval MS    reuse a collection for this long (default 30000)\n"
            "  -n, --no-hostname            leave out the Hostname label\n"
            "      --nvml-lib PATH          NVML library to load (default libnvidia-ml.so.1)\n"
            "      --log-level LEVEL        debug, info, warn, error (default info)\n"
            "  -h, --help                   this text\n\n"
            "Environment: DCGM_EXPORTER_COLLECTORS, DCGM_EXPORTER_LISTEN, DCGM_EXPORTER_INTERVAL as in\n"
            "dcgm-exporter; NODE_NAME overrides the Hostname label.\n");
}

/* ":9400", "0.0.0.0:9400", "[::]:9400" or "HOST". */
static int parse_address(const char *a, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(a, ':');
    if (a[0] == '[') {
        const char *rb = strchr(a, ']');
        if (!rb || (rb[1] != ':' && rb[1] != '\0'))
            return -1;
        snprintf(host, hostlen, "%.*s", (int)(rb - a - 1), a + 1);
        colon = rb[1] == ':' ? rb + 1 : NULL;
    } else if (colon && strchr(a, ':') != colon) {
        snprintf(host, hostlen, "%s", a); /* bare IPv6 literal, no port */
        return 0;
    } else {
        snprintf(host, hostlen, "%.*s", colon ? (int)(colon - a) : (int)strlen(a), a);
    }
    if (!host[0])
        snprintf(host, hostlen, "0.0.0.0");
    if (colon) {
        char *end;
        errno = 0;
        long p = strtol(colon + 1, &end, 10);
        if (errno || *end || end == colon + 1 || p < 0 || p > 65535)
            return -1;
        *port = (int)p;
    }
    return 0;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int gpu_main(int argc, char **argv)
{
    char host[256] = "0.0.0.0";
    int port = 9400;
    const char *csv = getenv("DCGM_EXPORTER_COLLECTORS");
    const char *nvml_lib = NULL;
    long interval = 30000;
    bool no_hostname = false;
    const char *env = getenv("DCGM_EXPORTER_LISTEN");
    if (env && parse_address(env, host, sizeof host, &port) < 0) {
        fprintf(stderr, "tollgate gpu: DCGM_EXPORTER_LISTEN: bad address '%s'\n", env);
        return 2;
    }
    env = getenv("DCGM_EXPORTER_INTERVAL");
    if (env && parse_int(env, 0, INT_MAX, &interval) < 0) {
        fprintf(stderr, "tollgate gpu: DCGM_EXPORTER_INTERVAL: expected milliseconds, got '%s'\n", env);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(s, l) (!strcmp(a, s) || !strcmp(a, l))
        if (OPT("-h", "--help")) {
            usage(stdout);
            return 0;
        } else if (OPT("-n", "--no-hostname")) {
            no_hostname = true;
            continue;
        }
        if (!(OPT("-p", "--port") || OPT("-a", "--address") || OPT("-f", "--collectors") ||
              OPT("-c", "--collect-interval") || !strcmp(a, "--nvml-lib") || !strcmp(a, "--log-level") ||
              !strcmp(a, "--host"))) {
            fprintf(stderr, "tollgate gpu: unknown option '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
        if (!v) {
            fprintf(stderr, "tollgate gpu: %s needs a value\n", a);
            return 2;
        }
        i++;
        long n;
        if (OPT("-p", "--port")) {
            if (parse_int(v, 0, 65535, &n) < 0) {
                fprintf(stderr, "tollgate gpu: --port: expected 0..65535, got '%s'\n", v);
                return 2;
            }
            port = (int)n;
        } else if (OPT("-a", "--address") || !strcmp(a, "--host")) {
            if (parse_address(v, host, sizeof host, &port) < 0) {
                fprintf(stderr, "tollgate gpu: %s: expected [HOST]:PORT or HOST, got '%s'\n", a, v);
                return 2;
            }
        } else if (OPT("-f", "--collectors")) {
            csv = v;
        } else if (OPT("-c", "--collect-interval")) {
            if (parse_int(v, 0, INT_MAX, &interval) < 0) {
                fprintf(stderr, "tollgate gpu: --collect-interval: expected milliseconds, got '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--nvml-lib")) {
            nvml_lib = v;
        } else {
            int lvl = log_level_parse(v);
            if (lvl < 0) {
                fprintf(stderr, "tollgate gpu: --log-level: unknown level '%s'\n", v);
                return 2;
            }
            log_set_level((enum log_level)lvl);
        }
#undef OPT
    }

    static exporter e; /* static: large, and one exporter per process */
    memset(&e, 0, sizeof e);
    char err[700];
    if (csv ? gpu_counters_load(csv, &e.cs, err, sizeof err)
            : gpu_counters_parse(gpu_counters_default_csv, strlen(gpu_counters_default_csv), &e.cs, err,
                                 sizeof err)) {
        fprintf(stderr, "tollgate gpu: %s\n", err);
        return 2;
    }
    if (e.cs.warnings) {
        char *save = NULL;
        for (char *l = strtok_r(e.cs.warnings, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            log_warn("gpu: %s: %s", csv, l);
    }
    static char hostbuf[256];
    const char *node = getenv("NODE_NAME");
    if (node && *node)
        snprintf(hostbuf, sizeof hostbuf, "%s", node);
    else if (gethostname(hostbuf, sizeof hostbuf - 1))
        hostbuf[0] = '\0';
    e.hostname = no_hostname || !hostbuf[0] ? NULL : hostbuf;
    e.interval_ms = (int)interval;
    pthread_mutex_init(&e.mu, NULL);
    pthread_cond_init(&e.cv, NULL);
    buf_init(&e.text);

    gpu_collector_config cc = {.nvml_lib = nvml_lib, .counters = &e.cs, .log = collector_log, .ud = &e};
    e.col = gpu_collector_new(&cc, e.down_reason, sizeof e.down_reason);
    if (!e.col)
        log_warn("gpu: %s; serving an empty exporter: no GPU metrics", e.down_reason);

    server_config sc = {.host = host, .port = port, .threads = 2, .handler = handler, .ud = &e};
    server *s = server_new(&sc, err, sizeof err);
    if (!s) {
        fprintf(stderr, "tollgate gpu: %s\n", err);
        gpu_collector_free(e.col);
        gpu_counters_free(&e.cs);
        return 1;
    }
    buf names;
    buf_init(&names);
    size_t n = e.col ? gpu_collector_ngpus(e.col) : 0;
    for (size_t i = 0; i < n; i++)
        buf_printf(&names, "%s%s", i ? ", " : "", gpu_collector_dev(e.col, i)->name);
    char hostshown[300];
    snprintf(hostshown, sizeof hostshown, strchr(host, ':') ? "[%s]" : "%s", host);
    log_info("tollgate gpu %s listening on http://%s:%d (%zu GPU%s: %s)", TOLLGATE_VERSION, hostshown,
             server_port(s), n, n == 1 ? "" : "s", e.col ? (n ? buf_cstr(&names) : "none found") : "NVML unavailable");
    buf_free(&names);
    server_stop_on_signals(s, 2000);
    int rc = server_run(s) ? 1 : 0;
    server_free(s);
    gpu_collector_free(e.col);
    gpu_snapshot_free(&e.snap);
    gpu_counters_free(&e.cs);
    buf_free(&e.text);
    pthread_mutex_destroy(&e.mu);
    pthread_cond_destroy(&e.cv);
    return rc;
}
